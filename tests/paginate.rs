//! `items()` and `pages()` on the wire, per pagination style, against a
//! server on 127.0.0.1 that answers each request in its own task; and the
//! coverage guard that ties the streams to the spec's paginated operations.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use phala_cloud::builder::{GetAppUsage, ListCvmOperations};
use phala_cloud::paginate::{self, StyleKind};
use phala_cloud::types::{AttestationSummary, CvmLifecycleStatus};
use phala_cloud::{Client, Error, RetryPolicy};
use serde_json::{json, Value};
use support::{fixture_json, json, Log, Recorded, RoutedServer};

const APP_ID: &str = "e15a7a5d04c35fbbfd6e0cbdbeb2a1c9e4dfd1c0";

fn client(url: &str) -> Client {
    support::client(
        url,
        RetryPolicy::default().base_delay(Duration::from_millis(1)),
    )
}

/// Fails instead of hanging if a stream waits for an answer that never comes.
async fn bounded<T>(listing: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), listing)
        .await
        .expect("the listing finished")
}

fn number(request: &Recorded, name: &str) -> u64 {
    request
        .param(name)
        .unwrap_or_else(|| panic!("{name} missing from {}", request.path))
        .parse()
        .unwrap()
}

/// The values of query parameter `name` across the requests the server got.
fn asked(log: &Log, name: &str) -> Vec<Option<String>> {
    log.received().iter().map(|r| r.param(name)).collect()
}

fn numbers(values: &[u64]) -> Vec<Option<String>> {
    values.iter().map(|v| Some(v.to_string())).collect()
}

/// Every request's query without the parameter that places the page: what
/// must be the same on every page.
fn filters(log: &Log, position: &str) -> Vec<Vec<(String, String)>> {
    log.received()
        .iter()
        .map(|r| {
            let mut query = r.query();
            query.retain(|(name, _)| name != position);
            query
        })
        .collect()
}

/// Asserts that every request carried `expected` and the same filters.
fn assert_filters(log: &Log, position: &str, expected: &[(&str, &str)]) {
    let filters = filters(log, position);
    for (name, value) in expected {
        let pair = (name.to_string(), value.to_string());
        assert!(filters[0].contains(&pair), "{pair:?} in {:?}", filters[0]);
    }
    assert!(
        filters.iter().all(|f| *f == filters[0]),
        "the same filters on every page: {filters:?}"
    );
}

/// The trailing number of an item's id (`kms_12` → 12).
fn serial(id: &str) -> u64 {
    id.rsplit('_').next().unwrap().parse().unwrap()
}

fn serials(from: u64, to: u64) -> Vec<u64> {
    (from..to).collect()
}

fn all_ok(results: Vec<Result<u64, Error>>) -> Vec<u64> {
    results.into_iter().map(Result::unwrap).collect()
}

/// The items of a listing that ends with one error, and the error.
fn split_at_error(mut results: Vec<Result<u64, Error>>) -> (Vec<u64>, Error) {
    let last = results.pop().expect("a result").expect_err("an error last");
    (all_ok(results), last)
}

/// For the page at a position: the total the listing has then, or `None`
/// for a 500.
type Script = fn(u64) -> Option<u64>;
/// The answer holding the page at (position, page size) of `total` items.
type Page = fn(u64, u64, u64) -> String;

/// A server answering each request with the `page` its query parameters
/// `(position, size)` place, as `script` says.
async fn listing(params: (&'static str, &'static str), page: Page, script: Script) -> RoutedServer {
    RoutedServer::start(move |r, _| {
        let (position, size) = (number(&r, params.0), number(&r, params.1));
        let body = match script(position) {
            Some(total) => page(position, size, total),
            None => json(500, r#"{"detail": "Internal Server Error"}"#),
        };
        async move { body }
    })
    .await
}

/// A server listing `total` items whose page at `late` is answered only
/// after the page at `early`; it also counts the most requests it held at
/// once.
async fn out_of_order(
    params: (&'static str, &'static str),
    page: Page,
    total: u64,
    (late, early): (u64, u64),
) -> (RoutedServer, Arc<AtomicUsize>) {
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counted = most.clone();
    let server = RoutedServer::start(move |r, log| {
        let (now, most) = (now.clone(), counted.clone());
        async move {
            most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
            let (position, size) = (number(&r, params.0), number(&r, params.1));
            if position == late {
                let early = early.to_string();
                log.until_answered(|answered| {
                    answered
                        .iter()
                        .any(|a| a.param(params.0).as_ref() == Some(&early))
                })
                .await;
            }
            now.fetch_sub(1, Ordering::SeqCst);
            page(position, size, total)
        }
    })
    .await;
    (server, most)
}

/// Asserts that the page at `early` was answered before the one at `late`.
fn assert_answered_first(log: &Log, param: &str, early: u64, late: u64) {
    let answered: Vec<u64> = log.answered().iter().map(|r| number(r, param)).collect();
    let at = |p| answered.iter().position(|&a| a == p).unwrap();
    assert!(at(early) < at(late), "answered in the order {answered:?}");
}

// ---------------------------------------------------------------------------
// page / page_size

const PAGES: (&str, &str) = ("page", "page_size");

/// Page `page` of a listing of `total` items made by `item`, in the shape
/// `{<items_key>: [...], total, page, page_size, <pages_key>}`.
fn numbered_page(
    (items_key, pages_key): (&str, &str),
    item: fn(u64) -> Value,
    (page, size, total): (u64, u64, u64),
) -> String {
    let start = (page - 1) * size;
    let items: Vec<Value> = (start..total.min(start + size)).map(item).collect();
    let mut body = json!({"total": total, "page": page, "page_size": size});
    body[items_key] = Value::Array(items);
    body[pages_key] = json!(total.div_ceil(size));
    json(200, &body.to_string())
}

fn kms(i: u64) -> Value {
    json!({"id": format!("kms_{i}"), "slug": null, "url": "u", "version": "1"})
}

fn kms_page(page: u64, size: u64, total: u64) -> String {
    numbered_page(("items", "pages"), kms, (page, size, total))
}

async fn kms_server(script: Script) -> RoutedServer {
    listing(PAGES, kms_page, script).await
}

async fn kms_ids(server: &RoutedServer, concurrency: usize) -> Vec<Result<u64, Error>> {
    client(&server.url)
        .list_kms()
        .items()
        .concurrency(concurrency)
        .map_ok(|k| serial(k.id.as_str()))
        .collect()
        .await
}

#[tokio::test]
async fn the_documented_one_liner_lists_every_kms() {
    let server = kms_server(|_| Some(230)).await;
    let client = client(&server.url);
    let all = client
        .list_kms()
        .items()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let ids: Vec<u64> = all.iter().map(|k| serial(k.id.as_str())).collect();
    assert_eq!(ids, serials(0, 230));
    assert_eq!(asked(&server.log, "page"), numbers(&[1, 2, 3]));
    assert_eq!(
        asked(&server.log, "page_size"),
        numbers(&[100, 100, 100]),
        "the operation's maximum by default"
    );
}

#[tokio::test]
async fn page_numbers_with_no_items_make_one_request() {
    let server = kms_server(|_| Some(0)).await;
    assert!(kms_ids(&server, 1).await.is_empty());
    assert_eq!(asked(&server.log, "page"), numbers(&[1]));
}

#[tokio::test]
async fn page_numbers_one_partial_page() {
    let server = kms_server(|_| Some(7)).await;
    let client = client(&server.url);
    let pages: Vec<_> = client.list_kms().pages().try_collect().await.unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(
        (pages[0].total, pages[0].pages, pages[0].items.len()),
        (7, 1, 7)
    );
    assert_eq!(asked(&server.log, "page"), numbers(&[1]));
}

#[tokio::test]
async fn page_numbers_an_exact_multiple_stops_at_the_last_page() {
    let server = kms_server(|_| Some(60)).await;
    let client = client(&server.url);
    let all: Vec<_> = client
        .list_kms()
        .is_onchain(true)
        .page_size(20)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 60);
    assert_eq!(
        asked(&server.log, "page"),
        numbers(&[1, 2, 3]),
        "no request for page 4"
    );
    assert_filters(
        &server.log,
        "page",
        &[("page_size", "20"), ("is_onchain", "true")],
    );
}

#[tokio::test]
async fn page_numbers_follow_a_total_that_grows_between_pages() {
    let server = kms_server(|page| Some(if page == 1 { 250 } else { 350 })).await;
    assert_eq!(all_ok(kms_ids(&server, 1).await), serials(0, 350));
    assert_eq!(asked(&server.log, "page"), numbers(&[1, 2, 3, 4]));
}

#[tokio::test]
async fn page_numbers_follow_a_total_that_shrinks_between_pages() {
    let server = kms_server(|page| Some(if page == 1 { 250 } else { 150 })).await;
    assert_eq!(all_ok(kms_ids(&server, 1).await), serials(0, 150));
    assert_eq!(asked(&server.log, "page"), numbers(&[1, 2]));
}

#[tokio::test]
async fn page_numbers_stop_at_an_empty_page_whatever_the_count_says() {
    let server = listing(
        PAGES,
        |page, size, _| {
            let items = if page == 1 { vec![kms(0)] } else { vec![] };
            let body = json!({"items": items, "total": 1000, "page": page,
                              "page_size": size, "pages": 10});
            json(200, &body.to_string())
        },
        |_| Some(1000),
    )
    .await;
    assert_eq!(all_ok(kms_ids(&server, 1).await), [0]);
    assert_eq!(asked(&server.log, "page"), numbers(&[1, 2]));
}

#[tokio::test]
async fn page_numbers_an_error_on_page_3_comes_once_after_pages_1_and_2() {
    let server = kms_server(|page| (page != 3).then_some(1000)).await;
    let (items, err) = split_at_error(kms_ids(&server, 1).await);
    assert_eq!(items, serials(0, 200));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500), "{err}");
    assert_eq!(
        asked(&server.log, "page"),
        numbers(&[1, 2, 3]),
        "no request for page 4"
    );
}

#[tokio::test]
async fn page_numbers_an_error_ends_the_pages_stream_too() {
    let server = kms_server(|page| (page != 2).then_some(1000)).await;
    let client = client(&server.url);
    let mut pages = client.list_kms().pages();
    assert!(pages.next().await.unwrap().is_ok());
    assert!(pages.next().await.unwrap().is_err());
    assert!(pages.next().await.is_none());
    assert!(pages.next().await.is_none(), "and stays ended");
}

#[tokio::test]
async fn a_page_that_fails_transiently_is_retried_within_the_stream() {
    let failed = Arc::new(AtomicUsize::new(0));
    let server = RoutedServer::start(move |r, _| {
        let page = number(&r, "page");
        let body = if page == 2 && failed.fetch_add(1, Ordering::SeqCst) == 0 {
            json(503, r#"{"detail": "busy"}"#)
        } else {
            kms_page(page, number(&r, "page_size"), 250)
        };
        async move { body }
    })
    .await;
    assert_eq!(all_ok(kms_ids(&server, 1).await), serials(0, 250));
    assert_eq!(asked(&server.log, "page"), numbers(&[1, 2, 2, 3]));
}

#[tokio::test]
async fn prefetch_keeps_page_order_when_page_3_is_answered_before_page_2() {
    let (server, most) = out_of_order(PAGES, kms_page, 700, (2, 3)).await;
    assert_eq!(all_ok(bounded(kms_ids(&server, 3)).await), serials(0, 700));
    assert_answered_first(&server.log, "page", 3, 2);
    let most = most.load(Ordering::SeqCst);
    assert!(most <= 3, "at most 3 pages at once, saw {most}");
    assert_eq!(server.log.received().len(), 7, "each page once");
}

#[tokio::test]
async fn prefetch_drops_pages_past_an_error() {
    let server = kms_server(|page| (page != 3).then_some(1000)).await;
    let (items, _) = split_at_error(bounded(kms_ids(&server, 4)).await);
    assert_eq!(items, serials(0, 200));
}

#[tokio::test]
async fn apps_filters_go_with_every_page() {
    let app_page = |page, size, total| {
        let app = |i| {
            json!({"id": format!("app_{i}"), "name": "n", "app_id": format!("{i:040x}"),
                   "created_at": "2026-01-30T12:00:00Z", "kms_type": "phala", "cvm_count": 1})
        };
        numbered_page(("dstack_apps", "total_pages"), app, (page, size, total))
    };
    let server = listing(PAGES, app_page, |_| Some(250)).await;
    let client = client(&server.url);
    let apps: Vec<_> = client
        .list_apps()
        .search("agent one")
        .status(vec![
            CvmLifecycleStatus::Running,
            CvmLifecycleStatus::Stopped,
        ])
        .listed(true)
        .kms_slug("phala")
        .items()
        .concurrency(2)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<u64> = apps
        .iter()
        .map(|a| u64::from_str_radix(a.app_id().as_str(), 16).unwrap())
        .collect();
    assert_eq!(ids, serials(0, 250));
    assert_eq!(server.log.received().len(), 3);
    assert_filters(
        &server.log,
        "page",
        &[
            ("search", "agent one"),
            ("status", "running"),
            ("status", "stopped"),
            ("listed", "true"),
            ("kms_slug", "phala"),
            ("page_size", "100"),
        ],
    );
}

#[tokio::test]
async fn cvms_and_revisions_list_through_their_own_fields() {
    let server = listing(
        PAGES,
        |page, size, total| {
            let cvm = |i| {
                let mut cvm: Value = fixture_json("GET_api_v1_cvms_{cvm_id}__v20260121.json");
                cvm["id"] = json!(format!("cvm_{i}"));
                cvm
            };
            numbered_page(("items", "pages"), cvm, (page, size, total))
        },
        |_| Some(5),
    )
    .await;
    let client = client(&server.url);
    let cvms: Vec<_> = client
        .list_cvms_paginated()
        .page_size(2)
        .items()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<u64> = cvms.iter().map(|c| serial(c.id.as_str())).collect();
    assert_eq!(ids, serials(0, 5));

    let server = listing(
        PAGES,
        |page, size, total| {
            let revision = |i| {
                json!({"revision_id": format!("rev_{i}"), "app_id": APP_ID,
                       "vm_uuid": "c48d9363-21b2-4f4a-87d9-3496623f020d",
                       "compose_hash": "ab".repeat(32), "created_at": "2026-01-30T12:00:00Z",
                       "trace_id": null, "operation_type": "create"})
            };
            numbered_page(("revisions", "total_pages"), revision, (page, size, total))
        },
        |_| Some(5),
    )
    .await;
    let client = self::client(&server.url);
    let revisions: Vec<_> = client
        .list_app_revisions()
        .app_id(APP_ID)
        .page_size(2)
        .items()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<u64> = revisions.iter().map(|r| serial(&r.revision_id)).collect();
    assert_eq!(ids, serials(0, 5));
    let paths = server.log.received();
    assert_eq!(paths.len(), 3);
    assert!(paths.iter().all(|r| r
        .path
        .starts_with(&format!("/api/v1/apps/{APP_ID}/revisions?"))));
}

#[tokio::test]
async fn a_stream_starts_at_the_page_the_builder_sets_and_requests_nothing_until_polled() {
    let server = kms_server(|_| Some(250)).await;
    let client = client(&server.url);
    let stream = client.list_kms().page(2).items();
    tokio::task::yield_now().await;
    assert!(server.log.received().is_empty(), "nothing before polling");
    let ids: Vec<u64> = stream
        .map_ok(|k| serial(k.id.as_str()))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, serials(100, 250));
    assert_eq!(asked(&server.log, "page"), numbers(&[2, 3]));
}

#[tokio::test]
async fn an_invalid_page_size_is_yielded_as_the_builders_own_error() {
    let server = kms_server(|_| Some(10)).await;
    let client = client(&server.url);
    let results: Vec<_> = client.list_kms().page_size(0u64).items().collect().await;
    assert_eq!(results.len(), 1);
    assert!(
        matches!(&results[0], Err(Error::InvalidRequest(m)) if m.contains("page_size")),
        "{results:?}"
    );
    assert!(server.log.received().is_empty(), "nothing sent");
}

#[test]
fn streams_are_send() {
    fn send<T: Send>(_: &T) {}
    let client = client("http://127.0.0.1:9");
    send(&client.list_kms().items());
    send(&client.list_apps().pages());
    send(&client.get_app_usage().app_id(APP_ID).items());
    send(&client.list_cvm_operations().cvm_id("cvm_ykL5lbAn").items());
}

// ---------------------------------------------------------------------------
// limit + offset / skip

const OFFSETS: (&str, &str) = ("offset", "limit");

/// The items at `offset..offset + limit` of `total` made by `item`.
fn slice(item: fn(u64) -> Value, offset: u64, limit: u64, total: u64) -> Value {
    Value::Array((offset..total.min(offset + limit)).map(item).collect())
}

fn deliveries_page(offset: u64, limit: u64, total: u64) -> String {
    let delivery = |i| {
        json!({"snowflake_id": i, "event_id": format!("evt_{i}"), "event_type": "cvm.created",
               "status": "delivered", "attempts": 1, "request_url": "https://hooks.example/in",
               "response_status": 200, "error_message": "", "created_at": "2026-01-30T12:00:00Z"})
    };
    json(200, &slice(delivery, offset, limit, total).to_string())
}

async fn delivery_ids(server: &RoutedServer) -> Vec<Result<u64, Error>> {
    client(&server.url)
        .list_webhook_deliveries()
        .webhook_id("wh_1")
        .items()
        .map_ok(|d| d.snowflake_id as u64)
        .collect()
        .await
}

#[tokio::test]
async fn offsets_with_no_items_make_one_request() {
    let server = listing(OFFSETS, deliveries_page, |_| Some(0)).await;
    assert!(delivery_ids(&server).await.is_empty());
    assert_eq!(asked(&server.log, "offset"), numbers(&[0]));
    assert_eq!(asked(&server.log, "limit"), numbers(&[50]));
}

#[tokio::test]
async fn offsets_one_partial_page() {
    let server = listing(OFFSETS, deliveries_page, |_| Some(7)).await;
    assert_eq!(all_ok(delivery_ids(&server).await), serials(0, 7));
    assert_eq!(asked(&server.log, "offset"), numbers(&[0]));
}

#[tokio::test]
async fn offsets_without_a_total_need_an_empty_page_after_an_exact_multiple() {
    let server = listing(OFFSETS, deliveries_page, |_| Some(100)).await;
    assert_eq!(all_ok(delivery_ids(&server).await), serials(0, 100));
    assert_eq!(asked(&server.log, "offset"), numbers(&[0, 50, 100]));
    assert!(server.log.received().iter().all(|r| r
        .path
        .starts_with("/api/v1/workspace/webhooks/wh_1/deliveries?")));
}

#[tokio::test]
async fn offsets_an_error_on_page_3_comes_once_after_pages_1_and_2() {
    let server = listing(OFFSETS, deliveries_page, |offset| {
        (offset != 100).then_some(1000)
    })
    .await;
    let (items, err) = split_at_error(delivery_ids(&server).await);
    assert_eq!(items, serials(0, 100));
    assert!(err.is_server(), "{err}");
    assert_eq!(
        asked(&server.log, "offset"),
        numbers(&[0, 50, 100]),
        "no request for page 4"
    );
}

fn usage_page(offset: u64, limit: u64, total: u64) -> String {
    let usage = |i| {
        json!({"instance_id": format!("inst_{i}"), "project_id": 1, "team_id": 1,
               "timestamp": "2026-01-30T12:00:00Z", "event_type": "compute", "cost": 0.5,
               "details": "{}", "usage_type": "vm", "billing_start": "2026-01-30T12:00:00Z",
               "billing_end": "2026-01-30T13:00:00Z", "duration_minutes": 60.0,
               "billing_key": "k", "billing_hour": "12", "billing_day": "2026-01-30"})
    };
    let body = json!({"usage": slice(usage, offset, limit, total), "total": total,
                      "total_cost": 0.5 * total as f64});
    json(200, &body.to_string())
}

async fn usage_ids(
    server: &RoutedServer,
    configure: fn(GetAppUsage) -> GetAppUsage,
    concurrency: usize,
) -> Vec<Result<u64, Error>> {
    let client = client(&server.url);
    configure(client.get_app_usage().app_id(APP_ID))
        .items()
        .concurrency(concurrency)
        .map_ok(|u| serial(&u.instance_id))
        .collect()
        .await
}

#[tokio::test]
async fn offsets_with_a_total_stop_at_an_exact_multiple_and_keep_the_time_filters() {
    let server = listing(OFFSETS, usage_page, |_| Some(30)).await;
    let client = client(&server.url);
    let start: chrono::DateTime<chrono::Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    let pages: Vec<_> = client
        .get_app_usage()
        .app_id(APP_ID)
        .start_date(start)
        .end_date(start + chrono::Duration::days(31))
        .limit(10)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|p| p.total == 30 && p.total_cost == 15.0));
    assert_eq!(
        asked(&server.log, "offset"),
        numbers(&[0, 10, 20]),
        "no 4th request"
    );
    assert_filters(
        &server.log,
        "offset",
        &[
            ("start_date", "2026-01-01T00:00:00Z"),
            ("end_date", "2026-02-01T00:00:00Z"),
            ("limit", "10"),
        ],
    );
}

#[tokio::test]
async fn offsets_follow_a_total_that_grows_between_pages() {
    let server = listing(OFFSETS, usage_page, |offset| {
        Some(if offset == 0 { 25 } else { 35 })
    })
    .await;
    let ids = usage_ids(&server, |b| b.limit(10), 1).await;
    assert_eq!(all_ok(ids), serials(0, 35));
    assert_eq!(asked(&server.log, "offset"), numbers(&[0, 10, 20, 30]));
}

#[tokio::test]
async fn offsets_use_the_operations_maximum_and_start_where_the_builder_says() {
    let server = listing(OFFSETS, usage_page, |_| Some(12_000)).await;
    let ids = usage_ids(&server, |b| b.offset(1000), 1).await;
    assert_eq!(all_ok(ids), serials(1000, 12_000));
    assert_eq!(asked(&server.log, "offset"), numbers(&[1000, 6000, 11_000]));
    assert_eq!(asked(&server.log, "limit"), numbers(&[5000, 5000, 5000]));
}

#[tokio::test]
async fn offset_prefetch_keeps_order_when_a_later_page_is_answered_first() {
    let (server, most) = out_of_order(OFFSETS, usage_page, 55, (10, 20)).await;
    let ids = bounded(usage_ids(&server, |b| b.limit(10), 3)).await;
    assert_eq!(all_ok(ids), serials(0, 55));
    assert_answered_first(&server.log, "offset", 20, 10);
    assert!(most.load(Ordering::SeqCst) <= 3);
    assert_eq!(server.log.received().len(), 6);
}

fn quotes_page(skip: u64, limit: u64, total: u64) -> String {
    let quote = |i| {
        json!({"checksum": format!("{i:064x}"), "verified": 1,
               "created_at": "2025-08-15T16:01:28+00:00"})
    };
    json(200, &slice(quote, skip, limit, total).to_string())
}

#[tokio::test]
async fn recent_attestations_page_with_skip_and_yield_quote_summaries() {
    let server = listing(("skip", "limit"), quotes_page, |_| Some(130)).await;
    let client = client(&server.url);
    let quotes: Vec<AttestationSummary> = client
        .list_recent_attestations()
        .items()
        .try_collect()
        .await
        .unwrap();
    let sums: Vec<u64> = quotes
        .iter()
        .map(|q| u64::from_str_radix(q.checksum.as_str(), 16).unwrap())
        .collect();
    assert_eq!(sums, serials(0, 130));
    assert_eq!(asked(&server.log, "skip"), numbers(&[0, 100]));
    assert_eq!(asked(&server.log, "limit"), numbers(&[100, 100]));
}

#[tokio::test]
async fn recent_attestations_that_are_not_an_array_are_a_decode_error() {
    let server = listing(
        ("skip", "limit"),
        |_, _, _| json(200, r#"{"items": []}"#),
        |_| Some(0),
    )
    .await;
    let client = client(&server.url);
    let results: Vec<_> = client.list_recent_attestations().items().collect().await;
    assert_eq!(results.len(), 1);
    assert!(matches!(&results[0], Err(Error::Decode(_))), "{results:?}");
}

// ---------------------------------------------------------------------------
// cursor

/// One scripted page of operations: its items, next cursor and total.
type OperationsPage = (std::ops::Range<u64>, Option<&'static str>, u64);

/// Operations served from a script: the page for the cursor asked (`None`
/// first); no page answers 500.
async fn operations_server(pages: fn(Option<&str>) -> Option<OperationsPage>) -> RoutedServer {
    RoutedServer::start(move |r, _| {
        let operation = |i| {
            json!({"correlation_id": format!("op_{i}"), "operation_type": "power_on",
                   "target_state": "running", "triggered_by": 1,
                   "started_at": "2026-01-30T12:00:00Z", "status": "completed",
                   "sub_operations": [], "events": [], "instance_name": "vm"})
        };
        let body = match pages(r.param("cursor").as_deref()) {
            Some((items, next, total)) => json(
                200,
                &json!({"items": items.map(operation).collect::<Vec<_>>(),
                        "next_cursor": next, "total": total})
                .to_string(),
            ),
            None => json(500, r#"{"detail": "Internal Server Error"}"#),
        };
        async move { body }
    })
    .await
}

async fn operation_ids(
    server: &RoutedServer,
    configure: fn(ListCvmOperations) -> ListCvmOperations,
) -> Vec<Result<u64, Error>> {
    let client = client(&server.url);
    configure(client.list_cvm_operations().cvm_id("cvm_ykL5lbAn"))
        .items()
        .map_ok(|o| serial(&o.correlation_id))
        .collect()
        .await
}

#[tokio::test]
async fn cursors_with_no_items_make_one_request() {
    let server = operations_server(|_| Some((0..0, None, 0))).await;
    assert!(operation_ids(&server, |b| b).await.is_empty());
    assert_eq!(asked(&server.log, "cursor"), [None]);
    assert_eq!(asked(&server.log, "limit"), numbers(&[500]));
}

#[tokio::test]
async fn cursors_one_partial_page() {
    let server = operations_server(|_| Some((0..3, None, 3))).await;
    assert_eq!(all_ok(operation_ids(&server, |b| b).await), [0, 1, 2]);
    assert_eq!(asked(&server.log, "cursor"), [None]);
}

#[tokio::test]
async fn cursors_an_exact_multiple_ends_without_a_next_cursor() {
    let server = operations_server(|cursor| match cursor {
        None => Some((0..2, Some("c1"), 4)),
        Some("c1") => Some((2..4, None, 4)),
        _ => None,
    })
    .await;
    let ids = operation_ids(&server, |b| b.limit(2)).await;
    assert_eq!(all_ok(ids), serials(0, 4));
    assert_eq!(asked(&server.log, "cursor"), [None, Some("c1".into())]);
    assert_eq!(asked(&server.log, "limit"), numbers(&[2, 2]));
}

#[tokio::test]
async fn cursors_ignore_a_total_that_changes_between_pages() {
    let server = operations_server(|cursor| match cursor {
        None => Some((0..2, Some("c1"), 2)),
        Some("c1") => Some((2..4, Some("c2"), 9)),
        Some("c2") => Some((4..5, None, 5)),
        _ => None,
    })
    .await;
    assert_eq!(all_ok(operation_ids(&server, |b| b).await), serials(0, 5));
}

#[tokio::test]
async fn cursors_an_error_on_page_3_comes_once_after_pages_1_and_2() {
    let server = operations_server(|cursor| match cursor {
        None => Some((0..2, Some("c1"), 10)),
        Some("c1") => Some((2..4, Some("c2"), 10)),
        _ => None,
    })
    .await;
    let (items, err) = split_at_error(operation_ids(&server, |b| b).await);
    assert_eq!(items, serials(0, 4));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(
        asked(&server.log, "cursor").len(),
        3,
        "no request for page 4"
    );
}

#[tokio::test]
async fn cursors_keep_the_time_and_type_filters_on_every_page() {
    let server = operations_server(|cursor| match cursor {
        None => Some((0..2, Some("c1"), 3)),
        Some("c1") => Some((2..3, None, 3)),
        _ => None,
    })
    .await;
    let ids = operation_ids(&server, |b| {
        let start: chrono::DateTime<chrono::Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        b.start_time(start)
            .end_time(start + chrono::Duration::days(30))
            .operation_types(vec!["power_on".to_string(), "compose_update".to_string()])
    })
    .await;
    assert_eq!(all_ok(ids), serials(0, 3));
    assert_eq!(asked(&server.log, "cursor"), [None, Some("c1".into())]);
    assert_filters(
        &server.log,
        "cursor",
        &[
            ("start_time", "2026-01-01T00:00:00Z"),
            ("end_time", "2026-01-31T00:00:00Z"),
            ("operation_types", "power_on"),
            ("operation_types", "compose_update"),
        ],
    );
}

#[tokio::test]
async fn a_cursor_that_repeats_ends_with_an_error() {
    let server = operations_server(|cursor| match cursor {
        None => Some((0..2, Some("c1"), 10)),
        Some("c1") => Some((2..4, Some("c1"), 10)),
        _ => None,
    })
    .await;
    let (items, err) = split_at_error(bounded(operation_ids(&server, |b| b)).await);
    assert_eq!(items, serials(0, 4));
    assert!(
        matches!(&err, Error::Decode(d) if d.path == "next_cursor" && d.excerpt == "c1"),
        "{err}"
    );
    assert_eq!(asked(&server.log, "cursor").len(), 2);
}

#[tokio::test]
async fn a_cursor_cycle_ends_with_an_error() {
    let server = operations_server(|cursor| match cursor {
        None => Some((0..1, Some("a"), 10)),
        Some("a") => Some((1..2, Some("b"), 10)),
        Some("b") => Some((2..3, Some("a"), 10)),
        _ => None,
    })
    .await;
    let (items, err) = split_at_error(bounded(operation_ids(&server, |b| b)).await);
    assert_eq!(items, serials(0, 3));
    assert!(matches!(err, Error::Decode(_)), "{err}");
}

// ---------------------------------------------------------------------------
// coverage

/// Every operation of `openapi.json` whose parameters follow a pagination
/// style has a stream of that style, and every stream still matches the
/// spec: a spec update adding a paginated operation fails here, by name.
#[test]
fn every_paginated_operation_of_the_spec_has_a_stream() {
    use phala_cloud_codegen::inspect::{paginated_operations, PaginationStyle};

    use phala_cloud_codegen::additions::wire_path;

    // The spec with the additions (`openapi.additions.json`) merged in.
    let (mut spec, overlay) = support::spec::files();
    overlay.apply(&mut spec).unwrap();
    let found = paginated_operations(&spec);
    assert!(found.len() >= 8, "{found:?}");
    let mut problems = Vec::new();
    for op in &found {
        let method = op.method.to_uppercase();
        let Some(generated) = phala_cloud::__private::OPERATIONS
            .iter()
            .find(|g| g.method == method && g.path == wire_path(&op.path))
        else {
            problems.push(format!("{method} {} is not generated", op.path));
            continue;
        };
        let Some(stream) = paginate::OPERATIONS
            .iter()
            .find(|s| s.name == generated.name)
        else {
            problems.push(format!(
                "{} ({method} {}) is paginated but has no items()/pages() stream",
                generated.name, op.path
            ));
            continue;
        };
        let (style, position) = match &op.style {
            PaginationStyle::PageNumber => (StyleKind::PageNumber, "page"),
            PaginationStyle::LimitOffset { offset_param } => {
                (StyleKind::LimitOffset, offset_param.as_str())
            }
            PaginationStyle::Cursor => (StyleKind::Cursor, "cursor"),
        };
        if (stream.style, stream.position_param) != (style, position) {
            problems.push(format!(
                "{}: the spec pages it by {style:?} with `{position}`, the stream by {:?} with `{}`",
                stream.name, stream.style, stream.position_param
            ));
        }
        let size = spec["paths"][&op.path][&op.method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == stream.page_size_param)
            .map(|p| &p["schema"]);
        let limit = size.and_then(|s| s["maximum"].as_u64().or(s["default"].as_u64()));
        // Neither: the operation table chooses the size, and says why.
        if limit.is_some_and(|limit| limit != stream.default_page_size) {
            problems.push(format!(
                "{}: the stream asks for {} items a page, the spec's `{}` allows {limit:?}",
                stream.name, stream.default_page_size, stream.page_size_param
            ));
        }
    }
    for stream in paginate::OPERATIONS {
        let known = found.iter().any(|op| {
            phala_cloud::__private::OPERATIONS.iter().any(|g| {
                g.name == stream.name
                    && g.method == op.method.to_uppercase()
                    && g.path == wire_path(&op.path)
            })
        });
        if !known {
            problems.push(format!(
                "{} has a stream but the spec no longer pages it",
                stream.name
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// Safety limits

#[tokio::test]
async fn a_listing_that_never_ends_stops_at_max_pages() {
    // Always a full page, and a page count no listing could reach.
    let server = RoutedServer::start(|r, _| {
        let (page, size) = (number(&r, "page"), number(&r, "page_size"));
        let items: Vec<Value> = ((page - 1) * size..page * size).map(kms).collect();
        let body = json!({"items": items, "total": i64::MAX, "page": page,
                          "page_size": size, "pages": i64::MAX});
        async move { json(200, &body.to_string()) }
    })
    .await;
    let results: Vec<_> = client(&server.url)
        .list_kms()
        .page_size(2)
        .items()
        .max_pages(5)
        .map_ok(|k| serial(k.id.as_str()))
        .collect()
        .await;
    let (items, err) = split_at_error(results);
    assert_eq!(items, serials(0, 10), "the 5 pages allowed come out");
    assert_eq!(
        err.to_string(),
        "more than 5 pages in one listing (raise the limit with max_pages)"
    );
    assert_eq!(server.log.received().len(), 5);
}

#[tokio::test]
async fn a_new_cursor_on_every_page_stops_at_max_items() {
    let server = RoutedServer::start(|r, _| {
        let at: u64 = r
            .param("cursor")
            .map_or(0, |c| c.trim_start_matches('c').parse().unwrap());
        let operation = json!({"correlation_id": format!("op_{at}"), "operation_type": "power_on",
                               "target_state": "running", "triggered_by": 1,
                               "started_at": "2026-01-30T12:00:00Z", "status": "succeeded",
                               "sub_operations": [], "events": [], "instance_name": "vm"});
        let body = json!({"items": [operation], "next_cursor": format!("c{}", at + 1), "total": 1});
        async move { json(200, &body.to_string()) }
    })
    .await;
    let pages: Vec<_> = client(&server.url)
        .list_cvm_operations()
        .cvm_id("cvm_ykL5lbAn")
        .pages()
        .max_items(3)
        .collect()
        .await;
    assert_eq!(pages.len(), 4, "3 pages of one item, then the error");
    let err = pages[3].as_ref().unwrap_err();
    assert!(
        matches!(
            err.limit(),
            Some(phala_cloud::error::LimitExceeded::Count { limit: 3, .. })
        ),
        "{err}"
    );
}
