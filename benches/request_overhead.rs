//! What the client adds to a request: `get_kms_info` through the client
//! (hooks, retry policy, span, typed decode) against a bare `reqwest` GET and
//! `serde_json` decode of the same body, from the same in-process server.
//!
//! `cargo bench --bench request_overhead`

use criterion::{criterion_group, criterion_main, Criterion};
use httpmock::prelude::*;
use phala_cloud::{types, Client};

const BODY: &str = include_str!("../tests/fixtures/GET_api_v1_kms_{kms_id}__py-action-matrix.json");

fn request_overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(MockServer::start_async());
    runtime.block_on(server.mock_async(|when, then| {
        when.method(GET).path("/api/v1/kms/kms_bench");
        then.status(200)
            .header("content-type", "application/json")
            .body(BODY);
    }));
    let client = Client::builder()
        .api_key("phak_bench")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let raw = reqwest::Client::new();
    let url = server.url("/api/v1/kms/kms_bench");

    let mut group = c.benchmark_group("get_kms_info");
    group.bench_function("phala_cloud client", |b| {
        b.to_async(&runtime).iter(|| async {
            let kms = client
                .get_kms_info()
                .kms_id("kms_bench")
                .send()
                .await
                .unwrap();
            assert_eq!(kms.url, "u");
        })
    });
    group.bench_function("raw reqwest + serde_json", |b| {
        b.to_async(&runtime).iter(|| async {
            let bytes = raw
                .get(&url)
                .header("x-api-key", "phak_bench")
                .header("x-phala-version", phala_cloud::API_VERSION)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let kms: types::KmsInfo = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(kms.url, "u");
        })
    });
    group.finish();
}

criterion_group!(benches, request_overhead);
criterion_main!(benches);
