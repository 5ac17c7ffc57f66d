//! Raw requests on the wire: the headers, retries, errors and limits of a
//! generated call, for a path the spec lacks.

use std::time::Duration;

use phala_cloud::error::LimitExceeded;
use phala_cloud::reqwest::Method;
use phala_cloud::{Client, Error, RequestOptions, RetryPolicy};
use serde::{Deserialize, Serialize};
use serde_json::json;
use support::hostile::{self, Hostile};
use support::{json, response, ScriptedServer, KEY};

#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct Me {
    username: String,
    email: String,
}

const ME: &str = r#"{"username": "ada", "email": "ada@example.com"}"#;

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default().base_delay(Duration::from_millis(5))
}

#[tokio::test]
async fn a_raw_get_carries_the_clients_headers_query_and_its_own() {
    let server = ScriptedServer::start(vec![json(200, ME)]).await;
    let client = Client::builder()
        .api_key(KEY)
        .workspace("team-a")
        .base_url(&server.url)
        .build()
        .unwrap();
    let me = client
        .request(Method::GET, "/auth/me")
        .query(&[("expand", "workspaces"), ("page", "1")])
        .header("x-trace", "t-1")
        .send::<Me>()
        .await
        .unwrap();
    assert_eq!(me.username, "ada");
    assert_eq!(
        serde_json::to_value(me.into_inner()).unwrap(),
        serde_json::from_str::<serde_json::Value>(ME).unwrap(),
        "nothing the server sent is lost"
    );
    let requests = server.requests();
    let sent = &requests[0];
    assert_eq!(sent.method, "GET");
    assert_eq!(sent.path, "/api/v1/auth/me?expand=workspaces&page=1");
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("x-phala-workspace"), Some("team-a"));
    assert_eq!(
        sent.header("x-phala-version"),
        Some(phala_cloud::API_VERSION)
    );
    assert_eq!(sent.header("x-trace"), Some("t-1"));
    assert_eq!(sent.header("accept"), Some("application/json"));
    assert!(sent
        .header("user-agent")
        .is_some_and(|a| a.starts_with("phala-cloud-rust/")));
}

#[tokio::test]
async fn a_raw_post_sends_json_and_reads_status_headers_and_bytes() {
    let server = ScriptedServer::start(vec![response(
        201,
        &[
            ("content-type", "application/json"),
            ("x-request-id", "r-9"),
        ],
        r#"{"id": "wks_1"}"#,
    )])
    .await;
    let client = support::client(&server.url, RetryPolicy::none());
    let answer = client
        .post("/workspaces")
        .json(&json!({"name": "team-b"}))
        .send_raw()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    assert_eq!(answer.headers()["x-request-id"], "r-9");
    assert_eq!(&answer.into_inner()[..], br#"{"id": "wks_1"}"#);
    let sent = &server.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/api/v1/workspaces")
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&sent.body).unwrap(),
        json!({"name": "team-b"})
    );
}

#[tokio::test]
async fn a_raw_get_is_retried_on_503_and_a_raw_post_is_not() {
    let busy = || json(503, r#"{"detail": "busy"}"#);
    let server = ScriptedServer::start(vec![busy(), json(200, ME)]).await;
    let client = support::client(&server.url, quick_retries());
    let me = client.get("/auth/me").send::<Me>().await.unwrap();
    assert_eq!(me.email, "ada@example.com");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].header("x-api-key"),
        Some(KEY),
        "the retry carries the key"
    );

    let server = ScriptedServer::start(vec![busy(), json(200, ME)]).await;
    let client = support::client(&server.url, quick_retries());
    let err = client.post("/auth/me").send_raw().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.requests().len(), 1, "a POST is not repeated");
}

#[tokio::test]
async fn a_raw_get_whose_body_is_cut_is_tried_again_whole() {
    let server = Hostile::start(|n| match n {
        0 => hostile::cut(200, ME, 10),
        _ => hostile::json(200, ME),
    })
    .await;
    let client = support::client(&server.url, quick_retries());
    let answer = client.get("/auth/me").send_raw().await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(answer.headers()["content-type"], "application/json");
    assert_eq!(answer.into_inner(), ME.as_bytes());
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn raw_errors_decode_as_the_generated_calls_do() {
    let server = ScriptedServer::start(vec![
        json(
            404,
            r#"{"error_code": "ERR-03-001", "message": "CVM not found", "suggestions": ["list your CVMs"]}"#,
        ),
        json(200, r#"{"username": 7}"#),
        json(
            422,
            r#"{"detail": [{"loc": ["body", "name"], "msg": "field required", "type": "missing"}]}"#,
        ),
    ])
    .await;
    let client = support::client(&server.url, RetryPolicy::none());
    let err = client
        .get("/cvms/cvm_x/extra")
        .send_raw()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.error_code(), Some("ERR-03-001"));
    assert_eq!(err.suggestions(), ["list your CVMs"]);

    let err = client.get("/auth/me").send::<Me>().await.unwrap_err();
    match &err {
        Error::Decode(decode) => assert_eq!(decode.path, "username", "{err}"),
        other => panic!("not a decode error: {other:?}"),
    }

    let err = client
        .patch("/workspaces/team")
        .json(&json!({}))
        .send::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(err.is_validation());
    assert_eq!(err.validation_errors()[0].field, "name");
}

#[tokio::test]
async fn a_raw_answer_reads_within_the_body_limit() {
    let big = format!(r#"{{"blob": "{}"}}"#, "x".repeat(8 * 1024));
    let server = ScriptedServer::start(vec![json(200, &big), json(200, &big)]).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .max_response_size(4096)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    for err in [
        client.get("/blobs/1").send_raw().await.unwrap_err(),
        client
            .get("/blobs/1")
            .send::<serde_json::Value>()
            .await
            .unwrap_err(),
    ] {
        match err {
            Error::Limit(LimitExceeded::Size { limit, setting, .. }) => {
                assert_eq!((limit, setting), (4096, "ClientBuilder::max_response_size"))
            }
            other => panic!("not a size limit: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_raw_request_takes_per_call_options() {
    let server = ScriptedServer::start(vec![json(200, ME)]).await;
    let client = support::client(&server.url, RetryPolicy::none());
    client
        .get("/kms/phala/nodes")
        .with_options(
            RequestOptions::new()
                .api_version("2026-06-23")
                .header("x-phala-version", "ignored")
                .header("x-extra", "1"),
        )
        .send::<serde_json::Value>()
        .await
        .unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.header("x-phala-version"), Some("2026-06-23"));
    assert_eq!(sent.header("x-extra"), Some("1"));
}

#[tokio::test]
async fn a_bad_path_or_header_sends_nothing() {
    let server = ScriptedServer::start(vec![]).await;
    let client = support::client(&server.url, RetryPolicy::none());
    let err = client.get("auth/me").send_raw().await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidRequest(ref m) if m.contains("start with")),
        "{err}"
    );
    let err = client
        .get("/auth/me")
        .header("x-bad", "line\nbreak")
        .send_raw()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    assert!(server.requests().is_empty());
}
