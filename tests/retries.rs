//! The retry policy on the wire.

use std::time::{Duration, Instant};

use httpmock::prelude::*;
use phala_cloud::{types, Client, RetryPolicy};
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
    let body = types::CreateTappRequest::builder()
        .app_id("e15a7a5d04c35fbbfd6e0cbdbeb2a1c9e4dfd1c0")
        .compose_hash("ab".repeat(32));
    let err = client(&server.base_url())
        .commit_cvm_provision()
        .body(body)
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
    let vm = client(&server.url)
        .start_cvm()
        .cvm_id("cvm_ykL5lbAn")
        .send()
        .await
        .expect("retried");
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

#[tokio::test]
async fn dropping_the_future_stops_the_retries() {
    let server = ScriptedServer::start(vec![
        response(503, &[("retry-after", "1")], ""),
        json(200, KMS_PAGE),
    ])
    .await;
    let client = client(&server.url);
    let attempt = tokio::time::timeout(Duration::from_millis(300), client.list_kms().send()).await;
    assert!(attempt.is_err(), "still waiting to retry when dropped");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(server.requests().len(), 1, "no retry after the drop");
}
