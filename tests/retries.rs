//! The retry policy on the wire.

use std::time::{Duration, Instant};

use httpmock::prelude::*;
use phala_cloud::error::MAX_ERROR_BODY;
use phala_cloud::{types, Client, Error, ResponseValue, RetryPolicy};
use support::hostile::{self, Answer, Hostile};
use support::{fixture, json, response, ScriptedServer};

fn client(url: &str) -> Client {
    support::client(
        url,
        RetryPolicy::default().base_delay(Duration::from_millis(10)),
    )
}

const KMS_PAGE: &str = r#"{"items": [], "total": 0, "page": 1, "page_size": 10, "pages": 0}"#;

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
    let server = ScriptedServer::start(vec![
        response(
            429,
            &[("retry-after", "1"), ("content-type", "application/json")],
            r#"{"detail": "slow down"}"#,
        ),
        json(200, KMS_PAGE),
    ])
    .await;
    let started = Instant::now();
    let page = client(&server.url)
        .list_kms()
        .send()
        .await
        .expect("the retry succeeds");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(page.total, 0);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].header("x-api-key"),
        Some("phak_test"),
        "a retry carries the headers"
    );
}

#[tokio::test]
async fn a_get_gives_up_after_the_last_attempt() {
    let busy = || json(503, r#"{"detail": "busy"}"#);
    let server = ScriptedServer::start(vec![busy(), busy(), busy(), json(200, KMS_PAGE)]).await;
    let err = client(&server.url).list_kms().send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.requests().len(), 3, "default: 3 attempts");
}

/// `start_cvm` on a client of `url`.
async fn start_cvm(url: &str) -> Result<ResponseValue<types::Vm>, Error> {
    client(url).start_cvm().cvm_id("cvm_ykL5lbAn").send().await
}

/// What `commit_cvm_provision` sends.
fn create_body() -> types::builder::CreateTappRequest {
    types::CreateTappRequest::builder()
        .app_id("e15a7a5d04c35fbbfd6e0cbdbeb2a1c9e4dfd1c0")
        .compose_hash("ab".repeat(32))
}

#[tokio::test]
async fn creating_a_cvm_is_not_retried_on_503() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/cvms");
            then.status(503)
                .json_body(serde_json::json!({"detail": "busy"}));
        })
        .await;
    let err = client(&server.base_url())
        .commit_cvm_provision()
        .body(create_body())
        .send()
        .await
        .unwrap_err();
    assert!(
        err.is_retryable(),
        "transient, but not repeated for a create"
    );
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_bare_409_is_retried_for_start_cvm() {
    let server = ScriptedServer::start(vec![
        json(409, r#"{"detail": "Another operation in progress"}"#),
        json(
            200,
            &fixture("POST_api_v1_cvms_{cvm_id}_start__v20260121.json"),
        ),
    ])
    .await;
    let vm = start_cvm(&server.url).await.expect("retried");
    assert_eq!(vm.status, phala_cloud::types::CvmLifecycleStatus::Running);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests
        .iter()
        .all(|r| r.method == "POST" && r.path == "/api/v1/cvms/cvm_ykL5lbAn/start"));
}

#[tokio::test]
async fn a_409_with_an_error_code_is_not_retried_and_keeps_its_body() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/cvms/cvm_x/start");
            then.status(409).json_body(serde_json::json!({
                "detail": {"error_code": "ERR-03-007", "message": "App ID already used by another CVM"}
            }));
        })
        .await;
    let err = client(&server.base_url())
        .start_cvm()
        .cvm_id("cvm_x")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_conflict() && !err.is_retryable());
    assert_eq!(err.error_code(), Some("ERR-03-007"));
    assert_eq!(err.message(), "App ID already used by another CVM");
    mock.assert_calls_async(1).await;
}

/// A server that answers a 503 asking for a second's wait, then a KMS page.
async fn busy_for_a_second() -> ScriptedServer {
    ScriptedServer::start(vec![
        response(503, &[("retry-after", "1")], ""),
        json(200, KMS_PAGE),
    ])
    .await
}

#[tokio::test]
async fn dropping_the_future_stops_the_retries() {
    let server = busy_for_a_second().await;
    let client = client(&server.url);
    let attempt = tokio::time::timeout(Duration::from_millis(300), client.list_kms().send()).await;
    assert!(attempt.is_err(), "still waiting to retry when dropped");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(server.requests().len(), 1, "no retry after the drop");
}

// ---------------------------------------------------------------------------
// Each retry decision on its own

/// `start_cvm` answered `first`, then with the started CVM.
async fn start_cvm_after(first: String) -> Vec<support::Recorded> {
    let server = ScriptedServer::start(vec![
        first,
        json(
            200,
            &fixture("POST_api_v1_cvms_{cvm_id}_start__v20260121.json"),
        ),
    ])
    .await;
    start_cvm(&server.url).await.expect("retried");
    server.requests()
}

#[tokio::test]
async fn a_lifecycle_operation_retries_a_429() {
    let requests = start_cvm_after(json(429, r#"{"detail": "slow down"}"#)).await;
    assert_eq!(requests.len(), 2);
}

#[tokio::test]
async fn a_lifecycle_operation_retries_a_503() {
    let requests = start_cvm_after(json(503, r#"{"detail": "busy"}"#)).await;
    assert_eq!(requests.len(), 2);
}

#[tokio::test]
async fn a_lifecycle_success_answer_reads_whole_past_the_error_body_limit() {
    let mut started: serde_json::Value =
        serde_json::from_str(&fixture("POST_api_v1_cvms_{cvm_id}_start__v20260121.json")).unwrap();
    let compose = "x".repeat(MAX_ERROR_BODY + 1);
    started["docker_compose_file"] = compose.clone().into();
    let server = ScriptedServer::start(vec![json(200, &started.to_string())]).await;
    let vm = start_cvm(&server.url)
        .await
        .expect("only a 409's body is read to decide");
    assert_eq!(vm.docker_compose_file.as_deref(), Some(compose.as_str()));
}

/// A server whose first connection gets `first`, the others a KMS page.
async fn kms_after(first: Answer) -> Hostile {
    Hostile::start(move |n| {
        if n == 0 {
            first.clone()
        } else {
            hostile::json(200, KMS_PAGE)
        }
    })
    .await
}

#[tokio::test]
async fn a_get_is_tried_again_after_a_timeout() {
    let server = kms_after(Answer::Silence).await;
    let client = Client::builder()
        .api_key(support::KEY)
        .base_url(&server.url)
        .timeout(Duration::from_millis(100))
        .retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(10)))
        .build()
        .unwrap();
    client.list_kms().send().await.expect("retried");
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn a_get_is_tried_again_after_a_dropped_connection() {
    let server = kms_after(Answer::Drop).await;
    client(&server.url)
        .list_kms()
        .send()
        .await
        .expect("retried");
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn a_retry_after_of_exactly_max_delay_is_waited() {
    let server = busy_for_a_second().await;
    let policy = RetryPolicy::default()
        .base_delay(Duration::from_millis(10))
        .max_delay(Duration::from_secs(1));
    support::client(&server.url, policy)
        .list_kms()
        .send()
        .await
        .expect("the longest wait allowed is waited");
    assert_eq!(server.requests().len(), 2);
}

// ---------------------------------------------------------------------------
// A body cut after the headers

#[tokio::test]
async fn a_get_whose_body_is_cut_is_tried_again() {
    let server = kms_after(hostile::cut(200, KMS_PAGE, 10)).await;
    let page = client(&server.url)
        .list_kms()
        .send()
        .await
        .expect("retried");
    assert_eq!(page.total, 0);
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn a_create_whose_body_is_cut_is_not_tried_again() {
    let server = Hostile::always(hostile::cut(200, r#"{"app_id": "e15a7a5d"}"#, 5)).await;
    let err = client(&server.url)
        .commit_cvm_provision()
        .body(create_body())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_transport() && err.is_retryable(), "{err:?}");
    let chain = error_chain(&err);
    assert!(
        chain.contains("end of file before message length reached"),
        "{chain}"
    );
    assert_eq!(server.connections(), 1, "a create is not repeated");
}

#[tokio::test]
async fn a_start_whose_body_is_cut_is_not_tried_again() {
    let server = Hostile::always(hostile::cut(200, r#"{"id": "cvm_ykL5lbAn"}"#, 5)).await;
    let err = start_cvm(&server.url).await.unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    assert_eq!(server.connections(), 1, "the start has reached the server");
}

#[tokio::test]
async fn a_get_whose_body_is_always_cut_gives_up_after_the_last_attempt() {
    let server = Hostile::always(hostile::cut(200, KMS_PAGE, 10)).await;
    let err = client(&server.url).list_kms().send().await.unwrap_err();
    assert!(err.is_transport() && err.is_retryable(), "{err:?}");
    assert_eq!(server.connections(), 3);
}

#[tokio::test]
async fn a_cut_body_draws_on_the_retry_budget() {
    let server = Hostile::always(hostile::cut(200, KMS_PAGE, 10)).await;
    // One retry's worth of tokens.
    let policy = RetryPolicy::default()
        .base_delay(Duration::from_millis(10))
        .retry_budget(5);
    let err = support::client(&server.url, policy)
        .list_kms()
        .send()
        .await
        .unwrap_err();
    let Error::RetryBudgetExhausted(inside) = &err else {
        panic!("{err:?}")
    };
    assert!(inside.is_transport(), "{inside:?}");
    assert_eq!(server.connections(), 2);
}

/// `err` and its sources, one after the other.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
