//! What lossless types cost: decoding a page of 100 CVMs and a list of 100
//! apps (an enum of two shapes per item) from their JSON bytes into the
//! generated types, and encoding them back.
//!
//! `cargo bench --bench decode`

use criterion::{criterion_group, criterion_main, Criterion};
use phala_cloud::mock::sample;
use phala_cloud::types;
use serde_json::{json, Value};

const ITEMS: usize = 100;

/// `items` as JSON, repeated up to [`ITEMS`].
fn hundred<T: serde::Serialize>(items: Vec<T>) -> Vec<Value> {
    let items: Vec<Value> = items
        .iter()
        .map(|i| serde_json::to_value(i).unwrap())
        .collect();
    items.iter().cycle().take(ITEMS).cloned().collect()
}

fn decode(c: &mut Criterion) {
    let cvm_page = json!({"items": hundred(sample::cvms()), "total": ITEMS, "page": 1,
        "page_size": ITEMS, "pages": 1})
    .to_string();
    let app_list = json!({"dstack_apps": hundred(sample::apps()), "page": 1,
        "page_size": ITEMS, "total": ITEMS, "total_pages": 1})
    .to_string();

    let mut group = c.benchmark_group("decode");
    group.bench_function("100 CVMs", |b| {
        b.iter(|| serde_json::from_str::<types::PaginatedCvmInfos>(&cvm_page).unwrap())
    });
    group.bench_function("100 apps", |b| {
        b.iter(|| serde_json::from_str::<types::DstackAppListResponse>(&app_list).unwrap())
    });
    group.finish();

    let page: types::PaginatedCvmInfos = serde_json::from_str(&cvm_page).unwrap();
    let list: types::DstackAppListResponse = serde_json::from_str(&app_list).unwrap();
    let mut group = c.benchmark_group("encode");
    group.bench_function("100 CVMs", |b| {
        b.iter(|| serde_json::to_vec(&page).unwrap())
    });
    group.bench_function("100 apps", |b| {
        b.iter(|| serde_json::to_vec(&list).unwrap())
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
