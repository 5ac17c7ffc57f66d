//! What the client adds to a request: `get_kms_info` through the client
//! (hooks, retry policy and budget, deadline, body limit, span, typed
//! decode) against a bare `reqwest` GET and `serde_json` decode of the same
//! body, from the same in-process server. Both send the same request (the
//! mock answers only one with every header the client sends), so that the
//! server's work, counted in the CPU time, is the same for both.
//!
//! The raw request is measured twice: bare, and with the one timer the
//! client's deadline costs (a per-request `timeout`, as any bounded call
//! has). A pending timer makes every idle runtime worker park with a
//! timeout, which the kernel arms and disarms: that, not the client's own
//! code, is most of the difference to the bare call.
//!
//! After criterion's measurements, which run one after the other, it prints
//! the ratios measured in alternating rounds (500 requests each way, 30
//! rounds, median), which a machine whose load drifts skews less, in wall
//! time and, on Linux, in the process's CPU time (server included), which
//! other processes' load skews least.
//!
//! `cargo bench --bench request_overhead`

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use httpmock::prelude::*;
use phala_cloud::{types, Client};

const BODY: &str = include_str!("../tests/fixtures/GET_api_v1_kms_{kms_id}__py-action-matrix.json");

/// The raw request's timeout when it has one: the client's default.
const TIMEOUT: Duration = Duration::from_secs(60);

fn request_overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(MockServer::start_async());
    runtime.block_on(server.mock_async(|when, then| {
        when.method(GET)
            .path("/api/v1/kms/kms_bench")
            .header("x-api-key", "phak_bench")
            .header("x-phala-version", phala_cloud::API_VERSION)
            .header("user-agent", phala_cloud::client::DEFAULT_USER_AGENT)
            .header("accept", "application/json")
            .header("accept-encoding", "identity");
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

    let through_client = || async {
        let kms = client
            .get_kms_info()
            .kms_id("kms_bench")
            .send()
            .await
            .unwrap();
        assert_eq!(kms.url, "u");
    };
    let (raw, url) = (&raw, &url);
    let through_reqwest = |timeout: Option<Duration>| async move {
        let mut request = raw.get(url);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let bytes = request
            .header("x-api-key", "phak_bench")
            .header("x-phala-version", phala_cloud::API_VERSION)
            .header("user-agent", phala_cloud::client::DEFAULT_USER_AGENT)
            .header("accept", "application/json")
            .header("accept-encoding", "identity")
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let kms: types::KmsInfo = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(kms.url, "u");
    };

    let mut group = c.benchmark_group("get_kms_info");
    group.bench_function("phala_cloud client", |b| {
        b.to_async(&runtime).iter(through_client)
    });
    group.bench_function("raw reqwest + serde_json", |b| {
        b.to_async(&runtime).iter(|| through_reqwest(None))
    });
    group.bench_function("raw reqwest + serde_json, with a timeout", |b| {
        b.to_async(&runtime).iter(|| through_reqwest(Some(TIMEOUT)))
    });
    group.finish();

    for (baseline, timeout) in [("bare", None), ("with a timeout", Some(TIMEOUT))] {
        let (wall, cpu) = runtime.block_on(async {
            let (mut wall, mut cpu) = (Vec::new(), Vec::new());
            for _ in 0..30 {
                let (started, cpu_start) = (Instant::now(), cpu_time());
                for _ in 0..500 {
                    through_client().await;
                }
                let (client_wall, client_cpu) = (started.elapsed(), cpu_time() - cpu_start);
                let (started, cpu_start) = (Instant::now(), cpu_time());
                for _ in 0..500 {
                    through_reqwest(timeout).await;
                }
                wall.push(client_wall.as_secs_f64() / started.elapsed().as_secs_f64());
                cpu.push(client_cpu / (cpu_time() - cpu_start));
            }
            (wall, cpu)
        });
        for (what, mut ratios) in [("wall", wall), ("CPU", cpu)] {
            ratios.sort_by(f64::total_cmp);
            if ratios[15].is_finite() {
                println!(
                    "alternating rounds, {what} time: client / raw {baseline} = {:.3} (median; quartiles {:.3} .. {:.3})",
                    ratios[15], ratios[7], ratios[22]
                );
            }
        }
    }
}

/// The CPU time of every thread of this process so far, in ns (`NaN` where
/// `/proc` does not tell).
fn cpu_time() -> f64 {
    let Ok(threads) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    threads
        .filter_map(|thread| std::fs::read_to_string(thread.ok()?.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<f64>().ok())
        .sum()
}

criterion_group!(benches, request_overhead);
criterion_main!(benches);
