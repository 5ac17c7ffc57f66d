//! The cost of a client handle: cloning one (what every builder and stream
//! does to own its client), and starting a request builder; beside a bare
//! `Arc` clone, the floor, measured in the same run (the machine is shared).
//!
//! `cargo bench --bench client_clone`

use std::hint::black_box;
use std::sync::Arc;

use criterion::Criterion;
use phala_cloud::{Client, RequestOptions};

fn main() {
    let client = Client::builder()
        .api_key("phak_bench")
        .default_header("x-a".parse().unwrap(), "1".parse().unwrap())
        .build()
        .expect("a client builds");
    let with_options = client.with_options(RequestOptions::new().api_version("2026-06-23"));
    let mut c = Criterion::default().configure_from_args();
    let bare = Arc::new(0u64);
    c.bench_function("Arc::clone (the floor)", |b| {
        b.iter(|| Arc::clone(black_box(&bare)))
    });
    c.bench_function("Client::clone", |b| b.iter(|| black_box(&client).clone()));
    c.bench_function("Client::clone with per-call options", |b| {
        b.iter(|| black_box(&with_options).clone())
    });
    c.bench_function("client.get_cvm() (a builder owning a clone)", |b| {
        b.iter(|| black_box(&client).get_cvm())
    });
    c.final_summary();
}
