//! What reading a CVM state stream costs: 1,000 `state` events and a
//! `complete` in one Server-Sent Events answer, parsed and decoded into
//! typed events by `watch_cvm_state`, from an in-process server.
//!
//! `cargo bench --bench state_stream`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::StreamExt;
use httpmock::prelude::*;
use phala_cloud::watch::{CvmStateEvent, WatchOptions};
use phala_cloud::Client;

const EVENTS: usize = 1_000;

fn state_stream(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut body = String::new();
    for i in 0..EVENTS {
        body.push_str(&format!(
            "id: {i}\nevent: state\ndata: {{\"status\": \"starting\", \"name\": \"bench\",\ndata:  \"boot_progress\": \"{i}\"}}\n\n"
        ));
    }
    body.push_str("event: complete\ndata: {\"status\": \"running\", \"elapsed\": 1}\n\n");
    let server = runtime.block_on(MockServer::start_async());
    runtime.block_on(server.mock_async(|when, then| {
        when.method(GET).path("/api/v1/cvms/cvm_bench/state");
        then.status(200)
            .header("content-type", "text/event-stream")
            .body(body);
    }));
    let client = Client::builder()
        .api_key("phak_bench")
        .base_url(server.base_url())
        .build()
        .unwrap();

    let mut group = c.benchmark_group("watch_cvm_state");
    group.throughput(Throughput::Elements(EVENTS as u64 + 1));
    group.bench_function("1,000 state events", |b| {
        b.to_async(&runtime).iter(|| async {
            let events: Vec<_> = client
                .watch_cvm_state("cvm_bench", WatchOptions::new("running"))
                .collect()
                .await;
            assert_eq!(events.len(), EVENTS + 1);
            assert!(matches!(events[EVENTS], Ok(CvmStateEvent::Complete(_))));
        })
    });
    group.finish();
}

criterion_group!(benches, state_stream);
criterion_main!(benches);
