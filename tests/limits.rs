//! Every read has a size limit, every call a deadline, every retry a
//! budget: against a hostile server on 127.0.0.1, each case ends in a typed
//! error, soon, having read little. Limits are lowered where the default
//! would make the test slow; the server counts what it wrote, so that a
//! client that kept reading shows.

use std::time::{Duration, Instant};

use futures::StreamExt;
use phala_cloud::error::{LimitExceeded, MAX_ERROR_BODY, MAX_RETRY_AFTER};
use phala_cloud::watch::{CvmStateEvent, WatchOptions};
use phala_cloud::{Client, ClientBuilder, Error, RetryPolicy};
use support::hostile::{answer, head, json, streaming_head, Answer, Hostile};

/// What a lowered body limit is in these tests.
const LIMIT: u64 = 64 * 1024;
/// What the server may write past what the client read: the socket
/// buffers on both sides. An unbounded client reads
/// [`support::hostile::MAX_WRITTEN`].
const SLACK: u64 = 32 * 1024 * 1024;

const KMS_PAGE: &str = r#"{"items": [], "total": 0, "page": 1, "page_size": 10, "pages": 0}"#;

fn builder(url: &str) -> ClientBuilder {
    Client::builder()
        .api_key(support::KEY)
        .base_url(url)
        .retry_policy(RetryPolicy::none())
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default().base_delay(Duration::from_millis(1))
}

/// A client of `url` that retries with the default policy, only sooner.
fn retrying_client(url: &str) -> Client {
    builder(url).retry_policy(quick_retries()).build().unwrap()
}

/// What `start_cvm` fails with on `client`.
async fn start_cvm_error(client: &Client) -> Error {
    client
        .start_cvm()
        .cvm_id("cvm_ykL5lbAn")
        .send()
        .await
        .unwrap_err()
}

fn endless(status: u16, content_type: &str, chunk: &[u8]) -> Answer {
    Answer::Endless {
        head: streaming_head(status, content_type),
        chunk: chunk.repeat(4096 / chunk.len().max(1)),
    }
}

/// `head`, then spaces without end.
fn endless_after(head: Vec<u8>) -> Answer {
    Answer::Endless {
        head,
        chunk: vec![b' '; 4096],
    }
}

/// What `list_kms` fails with on a client of `url` with the default limits
/// and no retries.
async fn list_kms_error(url: &str) -> Error {
    builder(url)
        .build()
        .unwrap()
        .list_kms()
        .send()
        .await
        .unwrap_err()
}

/// That the client stopped reading `server`'s answers soon.
fn assert_read_little(server: &Hostile) {
    let written = server.written();
    assert!(written < SLACK, "{written} bytes written");
}

fn assert_size_limit(err: &Error, what: &str, limit: u64, setting: &str) {
    match err {
        Error::Limit(LimitExceeded::Size {
            what: w,
            limit: l,
            setting: s,
            ..
        }) => assert_eq!((*w, *l, *s), (what, limit, setting), "{err}"),
        other => panic!("not a size limit: {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Body limits

#[tokio::test]
async fn an_endless_success_body_stops_at_the_limit_and_is_not_tried_again() {
    for policy in [RetryPolicy::none(), quick_retries()] {
        let server = Hostile::always(endless(200, "application/json", b"[1,")).await;
        let client = builder(&server.url)
            .max_response_size(LIMIT)
            .retry_policy(policy)
            .build()
            .unwrap();

        let err = client.list_kms().send().await.unwrap_err();

        assert_size_limit(
            &err,
            "the response body",
            LIMIT,
            "ClientBuilder::max_response_size",
        );
        assert_eq!(
            err.to_string(),
            "the response body is larger than the limit of 65536 bytes \
             (raise it with ClientBuilder::max_response_size)"
        );
        assert_eq!(server.connections(), 1);
        assert_read_little(&server);
    }
}

#[tokio::test]
async fn a_body_announced_at_exactly_the_limit_is_read() {
    let server = Hostile::always(json(200, KMS_PAGE)).await;
    let client = builder(&server.url)
        .max_response_size(KMS_PAGE.len() as u64)
        .build()
        .unwrap();
    let page = client.list_kms().send().await.expect("within the limit");
    assert_eq!(page.total, 0);
}

#[tokio::test]
async fn a_body_announced_over_the_default_limit_is_not_read() {
    let server = Hostile::always(endless_after(head(
        200,
        &[
            ("content-type", "application/json"),
            ("content-length", "2147483648"),
        ],
    )))
    .await;
    let err = list_kms_error(&server.url).await;
    assert_size_limit(
        &err,
        "the response body",
        phala_cloud::client::DEFAULT_MAX_RESPONSE_SIZE,
        "ClientBuilder::max_response_size",
    );
    assert_read_little(&server);
}

#[tokio::test]
async fn a_409_with_an_endless_body_is_read_up_to_the_error_limit() {
    let server = Hostile::always(endless(409, "text/plain", b"busy ")).await;
    let client = retrying_client(&server.url);

    let err = start_cvm_error(&client).await;

    assert!(err.is_conflict(), "{err}");
    let body = err.api_error().unwrap().raw_body();
    assert_eq!(body.len(), MAX_ERROR_BODY);
    assert_eq!(server.connections(), 3, "a bare 409 is retried");
    assert!(server.written() < 3 * SLACK);
}

#[tokio::test]
async fn uploads_and_attestations_read_within_their_limits() {
    let server = Hostile::always(endless(200, "application/json", b"{\"a\":")).await;
    let client = builder(&server.url)
        .max_response_size(LIMIT)
        .build()
        .unwrap();
    let upload = client
        .update_docker_compose()
        .cvm_id("cvm_ykL5lbAn")
        .content("services: {}")
        .send()
        .await
        .unwrap_err();
    assert_size_limit(
        &upload,
        "the response body",
        LIMIT,
        "ClientBuilder::max_response_size",
    );
    let verified = client
        .verify_attestation()
        .quote_hex("0xabcd")
        .send()
        .await
        .unwrap_err();
    assert_size_limit(
        &verified,
        "the response body",
        LIMIT,
        "ClientBuilder::max_response_size",
    );

    let quotes = Hostile::always(endless(200, "application/octet-stream", b"\x04\x00")).await;
    let client = builder(&quotes.url).max_quote_size(LIMIT).build().unwrap();
    let checksum = "9aa049fb9049d4f582ca316206f7cf34ee185c2b5b63370a518921432385b81a";
    let err = client.download_raw_attestation(checksum).await.unwrap_err();
    assert_size_limit(
        &err,
        "the raw quote",
        LIMIT,
        "ClientBuilder::max_quote_size",
    );
    assert!(server.written() + quotes.written() < 3 * SLACK);
}

#[tokio::test]
async fn a_compressed_answer_is_refused_and_none_is_asked_for() {
    let server = support::ScriptedServer::start(vec![support::response(
        200,
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ],
        "\u{1f}\u{8b}not really gzip",
    )])
    .await;
    let err = support::client(&server.url, RetryPolicy::none())
        .list_kms()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode(d) if d.message.contains("Content-Encoding: gzip")),
        "{err}"
    );
    assert_eq!(
        server.requests()[0].header("accept-encoding"),
        Some("identity")
    );
}

#[tokio::test]
async fn an_error_answer_keeps_its_status_whatever_its_body_claims() {
    let server = Hostile::always(endless_after(head(
        503,
        &[
            ("content-type", "text/html"),
            ("content-encoding", "gzip"),
            ("content-length", "2147483648"),
        ],
    )))
    .await;
    let err = list_kms_error(&server.url).await;
    assert!(matches!(err, Error::Api(_)) && err.is_server(), "{err}");
    assert_eq!(err.api_error().unwrap().raw_body().len(), MAX_ERROR_BODY);
    assert!(server.written() < SLACK);
}

// ---------------------------------------------------------------------------
// Server-Sent Events

fn watch_options() -> WatchOptions {
    WatchOptions::new("running")
        .reconnect_delay(Duration::from_millis(1))
        .max_event_size(4096)
}

async fn watch_events(url: &str, options: WatchOptions) -> Vec<Result<CvmStateEvent, Error>> {
    let client = builder(url).build().unwrap();
    let events = client.watch_cvm_state("cvm_ykL5lbAn", options);
    tokio::time::timeout(Duration::from_secs(30), events.collect())
        .await
        .expect("the stream ends")
}

#[tokio::test]
async fn an_endless_event_stream_line_stops_at_the_limit() {
    let server = Hostile::always(endless(200, "text/event-stream", b"data: xxxxxxx")).await;
    let events = watch_events(&server.url, watch_options()).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let err = events[0].as_ref().unwrap_err();
    assert_size_limit(
        err,
        "a line of the state stream",
        4096,
        "WatchOptions::max_event_size",
    );
    assert!(server.written() < SLACK);
}

#[tokio::test]
async fn data_lines_without_a_blank_line_stop_at_the_limit() {
    let server = Hostile::always(endless(200, "text/event-stream", b"data: x\n")).await;
    let events = watch_events(&server.url, watch_options()).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_size_limit(
        events[0].as_ref().unwrap_err(),
        "an event of the state stream",
        4096,
        "WatchOptions::max_event_size",
    );
    assert!(server.written() < SLACK);
}

#[tokio::test]
async fn retry_zero_and_an_event_per_connection_cannot_reconnect_forever() {
    let mut flood = streaming_head(200, "text/event-stream");
    flood.extend_from_slice(b"retry: 0\nevent: state\ndata: {\"status\": \"starting\"}\n\n");
    let server = Hostile::always(Answer::Bytes(flood)).await;
    let started = Instant::now();

    let events = watch_events(&server.url, watch_options().max_reconnects(2)).await;

    let kinds: Vec<_> = events
        .iter()
        .map(|e| match e {
            Ok(CvmStateEvent::State(_)) => "state",
            Err(_) => "error",
            Ok(_) => "other",
        })
        .collect();
    assert_eq!(kinds, ["state", "state", "state", "error"]);
    assert_eq!(server.connections(), 3, "the first and 2 reconnections");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "`retry: 0` waits at least 1 s: {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------
// Deadlines

#[tokio::test]
async fn a_server_that_never_answers_meets_the_calls_deadline() {
    let server = Hostile::always(Answer::Silence).await;
    let client = builder(&server.url)
        .retry_policy(quick_retries().deadline(Duration::from_millis(300)))
        .build()
        .unwrap();
    let started = Instant::now();

    let err = client.list_kms().send().await.unwrap_err();

    assert!(err.is_timeout() && err.is_retryable(), "{err}");
    assert_eq!(
        err.to_string(),
        "the call's deadline of 300ms passed (change it with RetryPolicy::deadline)"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_body_that_stalls_meets_the_calls_deadline() {
    let stall = head(
        200,
        &[
            ("content-type", "application/json"),
            ("content-length", "100"),
        ],
    );
    let server = Hostile::always(Answer::HeadThenSilence(stall)).await;
    let client = builder(&server.url)
        .retry_policy(RetryPolicy::none().deadline(Duration::from_millis(300)))
        .build()
        .unwrap();
    let err = client.list_kms().send().await.unwrap_err();
    assert!(
        matches!(err.limit(), Some(LimitExceeded::Deadline { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn each_attempt_has_its_timeout_and_a_get_is_tried_again() {
    let server = Hostile::always(Answer::Silence).await;
    let client = builder(&server.url)
        .timeout(Duration::from_millis(100))
        .retry_policy(quick_retries())
        .build()
        .unwrap();
    let err = client.list_kms().send().await.unwrap_err();
    assert!(err.is_timeout() && err.is_transport(), "{err}");
    assert_eq!(server.connections(), 3);
}

#[tokio::test]
async fn a_watch_ends_at_its_deadline() {
    let silent = Hostile::always(Answer::HeadThenSilence(streaming_head(
        200,
        "text/event-stream",
    )))
    .await;
    let options = watch_options().deadline(Duration::from_millis(300));
    let events = watch_events(&silent.url, options).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let err = events[0].as_ref().unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(
        err.to_string(),
        "the watch's deadline of 300ms passed (change it with WatchOptions::deadline)"
    );
}

#[tokio::test]
async fn a_retry_after_of_31_years_is_not_waited_and_reads_as_the_maximum() {
    let server = Hostile::always(answer(
        503,
        &[
            ("content-type", "application/json"),
            ("retry-after", "1000000000"),
        ],
        r#"{"detail": "maintenance"}"#,
    ))
    .await;
    let client = retrying_client(&server.url);
    let started = Instant::now();
    let err = client.list_kms().send().await.unwrap_err();
    assert_eq!(err.retry_after(), Some(MAX_RETRY_AFTER));
    assert_eq!(server.connections(), 1, "longer than max_delay: no retry");
    assert!(started.elapsed() < Duration::from_secs(5));
}

// ---------------------------------------------------------------------------
// Retries

#[tokio::test]
async fn an_empty_retry_budget_fails_fast_with_the_failure_inside() {
    let server = Hostile::start(|n| {
        if n < 4 {
            json(503, r#"{"detail": "busy"}"#)
        } else {
            json(200, KMS_PAGE)
        }
    })
    .await;
    // Two retries' worth of tokens.
    let client = builder(&server.url)
        .retry_policy(quick_retries().retry_budget(10))
        .build()
        .unwrap();

    let first = client.list_kms().send().await.unwrap_err();
    assert!(matches!(first, Error::Api(_)), "{first}");
    assert_eq!(server.connections(), 3);

    let second = client.clone().list_kms().send().await.unwrap_err();
    let Error::RetryBudgetExhausted(inside) = &second else {
        panic!("{second:?}")
    };
    assert!(matches!(**inside, Error::Api(_)));
    assert_eq!(second.status().map(|s| s.as_u16()), Some(503));
    assert!(second.is_server() && second.is_retryable());
    assert_eq!(second.message(), "busy");
    assert_eq!(
        second.to_string(),
        "not retried, the client's retry budget is spent: HTTP 503: busy"
    );
    assert_eq!(server.connections(), 4, "the clone shares the budget");

    client
        .list_kms()
        .send()
        .await
        .expect("first attempts still go out");
}

#[tokio::test]
async fn a_get_whose_connection_drops_is_tried_again_a_start_is_not() {
    let server = Hostile::start(|n| {
        if n == 0 {
            Answer::Drop
        } else {
            json(200, KMS_PAGE)
        }
    })
    .await;
    let client = retrying_client(&server.url);
    client.list_kms().send().await.expect("retried");
    assert_eq!(server.connections(), 2);

    let dropping = Hostile::always(Answer::Drop).await;
    let client = retrying_client(&dropping.url);
    let err = start_cvm_error(&client).await;
    assert!(err.is_transport(), "{err}");
    assert_eq!(
        dropping.connections(),
        1,
        "the start may have reached the server"
    );
}

// ---------------------------------------------------------------------------
// Input edges

#[tokio::test]
async fn a_10_mb_id_is_refused_with_a_short_message_and_nothing_sent() {
    let server = Hostile::always(json(200, "{}")).await;
    let client = builder(&server.url).build().unwrap();
    let huge = format!("cvm_{}", "a".repeat(10 * 1024 * 1024));
    let err = client
        .get_cvm()
        .cvm_id(huge.as_str())
        .send()
        .await
        .unwrap_err();
    let Error::InvalidRequest(message) = &err else {
        panic!("{err:?}")
    };
    assert!(message.len() < 300, "{} bytes", message.len());
    assert!(message.contains("10485764 bytes"), "{message}");
    assert_eq!(server.connections(), 0);
}
