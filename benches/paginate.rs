//! Listing 10,000 KMS in pages of 100 from an in-process server that takes
//! 20 ms to answer each page: one page after the other, then 4 and 8 pages
//! at once; then the peak heap of one listing at each setting, the time of
//! one listing from a server that answers at once (the machine's own cost per
//! page: client, loopback, server) and the time the server's 100 waits take
//! by themselves (timer granularity and scheduling included).
//!
//! `cargo bench --bench paginate`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::Criterion;
use futures::TryStreamExt;
use phala_cloud::Client;
use serde_json::{json, Value};
use support::{json_keep_alive, RoutedServer};

const TOTAL: u64 = 10_000;
const PAGE_SIZE: u64 = 100;
const LATENCY: Duration = Duration::from_millis(20);

/// The system allocator, keeping count of the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Page `page` of the listing, after `latency`.
async fn answer(page: u64, latency: Duration) -> String {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let start = (page - 1) * PAGE_SIZE;
    let items: Vec<Value> = (start..TOTAL.min(start + PAGE_SIZE))
        .map(|i| json!({"id": format!("kms_{i}"), "slug": "phala", "url": "https://kms.example", "version": "0.5.3"}))
        .collect();
    let body = json!({"items": items, "total": TOTAL, "page": page, "page_size": PAGE_SIZE,
                      "pages": TOTAL.div_ceil(PAGE_SIZE)});
    json_keep_alive(200, &body.to_string())
}

/// A server answering after `latency`, and a client of it.
fn serve(runtime: &tokio::runtime::Runtime, latency: Duration) -> (RoutedServer, Client) {
    let server = runtime.block_on(RoutedServer::start(move |request, _| async move {
        let page = request
            .param("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        answer(page, latency).await
    }));
    let client = Client::builder()
        .api_key("phak_bench")
        .base_url(&server.url)
        .build()
        .unwrap();
    (server, client)
}

/// Lists every KMS without keeping them, so that what is measured is the
/// listing's own memory, not the caller's collection.
async fn list(client: &Client, concurrency: usize) {
    let count = client
        .list_kms()
        .items()
        .concurrency(concurrency)
        .try_fold(0u64, |n, _| async move { Ok(n + 1) })
        .await
        .expect("the listing succeeds");
    assert_eq!(count, TOTAL);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (_server, client) = serve(&runtime, LATENCY);
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(25))
        .configure_from_args();
    let mut group = criterion.benchmark_group("list 10,000 KMS, 100 a page, 20 ms a page");
    for concurrency in [1, 4, 8] {
        group.bench_function(format!("concurrency {concurrency}"), |b| {
            b.to_async(&runtime).iter(|| list(&client, concurrency))
        });
    }
    group.finish();
    criterion.final_summary();

    println!("\npeak heap above the idle baseline during one listing (client and server):");
    for concurrency in [1, 4, 8] {
        let baseline = IN_USE.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        let elapsed = time(&runtime, &client, concurrency);
        let peak = PEAK.load(Ordering::Relaxed) - baseline;
        println!(
            "  concurrency {concurrency}: {:>7.1} KiB, {elapsed:>6.0} ms",
            peak as f64 / 1024.0
        );
    }
    let (_instant, client) = serve(&runtime, Duration::ZERO);
    // The first listing opens the connection.
    time(&runtime, &client, 1);
    println!(
        "one listing, one page after the other, from a server answering at once: {:.0} ms",
        time(&runtime, &client, 1)
    );
    let sleeps = runtime.block_on(async {
        let started = Instant::now();
        for _ in 0..TOTAL / PAGE_SIZE {
            tokio::time::sleep(LATENCY).await;
        }
        started.elapsed()
    });
    println!(
        "the server's 20 ms wait, 100 times in a row on this machine: {:.0} ms",
        sleeps.as_secs_f64() * 1000.0
    );
}

/// Milliseconds one listing takes.
fn time(runtime: &tokio::runtime::Runtime, client: &Client, concurrency: usize) -> f64 {
    let started = Instant::now();
    runtime.block_on(list(client, concurrency));
    started.elapsed().as_secs_f64() * 1000.0
}
