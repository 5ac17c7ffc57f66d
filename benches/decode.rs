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

/// `items` repeated up to [`ITEMS`].
fn hundred(items: Vec<Value>) -> Vec<Value> {
    items.iter().cycle().take(ITEMS).cloned().collect()
}

fn decode(c: &mut Criterion) {
    let cvms = hundred(
        serde_json::to_value(sample::cvms())
            .unwrap()
            .as_array()
            .unwrap()
            .clone(),
    );
    let cvm_page = serde_json::to_vec(&json!({
        "items": cvms, "total": ITEMS, "page": 1, "page_size": ITEMS, "pages": 1
    }))
    .unwrap();
    let apps = hundred(
        serde_json::to_value(sample::apps())
            .unwrap()
            .as_array()
            .unwrap()
            .clone(),
    );
    let app_list = serde_json::to_vec(&json!({
        "dstack_apps": apps, "page": 1, "page_size": ITEMS, "total": ITEMS, "total_pages": 1
    }))
    .unwrap();

    let mut group = c.benchmark_group("decode");
    group.bench_function("100 CVMs", |b| {
        b.iter(|| serde_json::from_slice::<types::PaginatedCvmInfos>(&cvm_page).unwrap())
    });
    group.bench_function("100 apps", |b| {
        b.iter(|| serde_json::from_slice::<types::DstackAppListResponse>(&app_list).unwrap())
    });
    group.finish();

    let page: types::PaginatedCvmInfos = serde_json::from_slice(&cvm_page).unwrap();
    let list: types::DstackAppListResponse = serde_json::from_slice(&app_list).unwrap();
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
