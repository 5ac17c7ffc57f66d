//! The retry budget against a fleet: 100 tasks on one client, an
//! in-process server that answers 503 for its first 5 seconds.
//!
//! Timed: 100 calls at once, until the last has given up. Then printed:
//! the requests sent per call for that burst, for 100 tasks calling every
//! 100 ms through the 5 s, and without the budget for comparison; and,
//! with `Retry-After: 1`, when the retries arrive after the first wave
//! (the jitter added on top of `Retry-After` spreads them).
//!
//! `cargo bench --bench retry_budget`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::Criterion;
use phala_cloud::{Client, RetryPolicy};
use support::{json, response, RoutedServer};

const TASKS: usize = 100;
const OUTAGE: Duration = Duration::from_secs(5);
const KMS_PAGE: &str = r#"{"items": [], "total": 0, "page": 1, "page_size": 10, "pages": 0}"#;

/// A server answering 503 (with `retry_after`, if any) for [`OUTAGE`] from
/// [`Outage::begin`], then 200; it notes when each request arrived.
struct Outage {
    server: RoutedServer,
    began: Arc<Mutex<Instant>>,
    arrivals: Arc<Mutex<Vec<Duration>>>,
}

impl Outage {
    async fn start(retry_after: Option<&'static str>) -> Self {
        let began = Arc::new(Mutex::new(Instant::now()));
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let (clock, noted) = (began.clone(), arrivals.clone());
        let server = RoutedServer::start(move |_, _| {
            let at = clock.lock().unwrap().elapsed();
            noted.lock().unwrap().push(at);
            let answer = if at < OUTAGE {
                let headers: Vec<_> = retry_after
                    .map(|s| ("retry-after", s))
                    .into_iter()
                    .collect();
                response(503, &headers, r#"{"detail": "busy"}"#)
            } else {
                json(200, KMS_PAGE)
            };
            async move { answer }
        })
        .await;
        Self {
            server,
            began,
            arrivals,
        }
    }

    /// Starts the outage's clock: the calls come next.
    fn begin(&self) {
        *self.began.lock().unwrap() = Instant::now();
    }

    fn client(&self, policy: RetryPolicy) -> Client {
        Client::builder()
            .api_key("phak_bench")
            .base_url(&self.server.url)
            .retry_policy(policy)
            .build()
            .unwrap()
    }

    fn requests(&self) -> usize {
        self.arrivals.lock().unwrap().len()
    }

    fn arrivals(&self) -> Vec<Duration> {
        self.arrivals.lock().unwrap().clone()
    }
}

/// `TASKS` calls at once; how many failed.
async fn burst(outage: &Outage, client: &Client) -> usize {
    outage.begin();
    // Collected, so that every task is spawned before the first is awaited.
    let calls: Vec<_> = (0..TASKS)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.list_kms().send().await.is_err() })
        })
        .collect();
    let mut failed = 0;
    for call in calls {
        failed += usize::from(call.await.unwrap());
    }
    failed
}

/// `TASKS` tasks, each calling every 100 ms until the outage is over; the
/// calls made.
async fn sustained(outage: &Outage, client: &Client) -> usize {
    outage.begin();
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut calls = 0;
                loop {
                    calls += 1;
                    if client.list_kms().send().await.is_ok() {
                        return calls;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        })
        .collect();
    let mut calls = 0;
    for task in tasks {
        calls += task.await.unwrap();
    }
    calls
}

fn retry_budget(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("retry_budget");
    group.sample_size(10);
    group.bench_function("100 calls at once against 503 until all give up", |b| {
        b.to_async(&runtime).iter_custom(|iters| async move {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let outage = Outage::start(None).await;
                let client = outage.client(RetryPolicy::default());
                let started = Instant::now();
                assert_eq!(
                    burst(&outage, &client).await,
                    TASKS,
                    "all within the outage"
                );
                total += started.elapsed();
            }
            total
        })
    });
    group.finish();

    runtime.block_on(async {
        let outage = Outage::start(None).await;
        burst(&outage, &outage.client(RetryPolicy::default())).await;
        let with_budget = outage.requests();
        let outage = Outage::start(None).await;
        burst(&outage, &outage.client(RetryPolicy::default().retry_budget(u32::MAX))).await;
        let without = outage.requests();
        println!(
            "burst of {TASKS} calls: {with_budget} requests ({:.2} per call); \
             without the budget {without} ({:.2} per call)",
            with_budget as f64 / TASKS as f64,
            without as f64 / TASKS as f64
        );

        let outage = Outage::start(None).await;
        let calls = sustained(&outage, &outage.client(RetryPolicy::default())).await;
        let requests = outage.requests();
        println!(
            "{TASKS} tasks calling every 100 ms through {OUTAGE:?} of 503: {calls} calls, \
             {requests} requests ({:.3} per call)",
            requests as f64 / calls as f64
        );

        for (label, policy) in [
            ("default budget", RetryPolicy::default()),
            ("no budget", RetryPolicy::default().retry_budget(u32::MAX)),
        ] {
            let outage = Outage::start(Some("1")).await;
            burst(&outage, &outage.client(policy)).await;
            // The first retries: a second after the first wave, plus jitter.
            let wave = Duration::from_millis(900)..Duration::from_millis(1900);
            let mut retries: Vec<_> = outage
                .arrivals()
                .into_iter()
                .filter(|at| wave.contains(at))
                .collect();
            retries.sort();
            let (first, last) = (retries[0], retries[retries.len() - 1]);
            println!(
                "Retry-After: 1, {label}: {} requests, {} first retries arriving {first:.3?} .. {last:.3?} \
                 after the first wave (spread {:.3?}, median {:.3?})",
                outage.requests(),
                retries.len(),
                last - first,
                retries[retries.len() / 2]
            );
        }
    });
}

criterion::criterion_group!(benches, retry_budget);
criterion::criterion_main!(benches);
