//! Listing 10,000 KMS in pages of 100 from an in-process server that takes
//! 20 ms to answer each page: one page after the other, then 4 and 8 pages
//! at once; and the peak heap of one listing at each setting.
//!
//! `cargo bench --bench paginate`

#[path = "../tests/common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{json, RoutedServer};
use criterion::Criterion;
use futures::TryStreamExt;
use phala_cloud::Client;
use serde_json::{json, Value};

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

/// Page `page` of the listing, after the server's 20 ms.
async fn answer(page: u64) -> String {
    tokio::time::sleep(LATENCY).await;
    let start = (page - 1) * PAGE_SIZE;
    let items: Vec<Value> = (start..TOTAL.min(start + PAGE_SIZE))
        .map(|i| json!({"id": format!("kms_{i}"), "slug": "phala", "url": "https://kms.example", "version": "0.5.3"}))
        .collect();
    let body = json!({"items": items, "total": TOTAL, "page": page, "page_size": PAGE_SIZE,
                      "pages": TOTAL.div_ceil(PAGE_SIZE)});
    json(200, &body.to_string())
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
    let server = runtime.block_on(RoutedServer::start(|request, _| async move {
        let page = request
            .param("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        answer(page).await
    }));
    let client = Client::builder()
        .api_key("phak_bench")
        .base_url(&server.url)
        .build()
        .unwrap();

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
        let started = Instant::now();
        runtime.block_on(list(&client, concurrency));
        let elapsed = started.elapsed();
        let peak = PEAK.load(Ordering::Relaxed) - baseline;
        println!(
            "  concurrency {concurrency}: {:>7.1} KiB, {:>6.0} ms",
            peak as f64 / 1024.0,
            elapsed.as_secs_f64() * 1000.0
        );
    }
}
