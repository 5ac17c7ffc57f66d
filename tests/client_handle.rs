//! The client as a service holds it: a cheap handle whose builders and
//! streams move into spawned tasks, per-call options on every builder, and
//! the bearer token and workspace headers.

use std::time::Duration;

use futures::TryStreamExt;
use phala_cloud::mock::{self, sample, MockServerExt};
use phala_cloud::watch::{CvmStateEvent, WatchOptions};
use phala_cloud::{Client, RequestOptions, RetryPolicy};
use support::{json, sse_head, ScriptedServer, KEY};

/// Fails a test that would hang rather than letting it hang.
async fn bounded<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .expect("done in time")
}

#[tokio::test]
async fn a_listing_and_a_watch_run_in_spawned_tasks_that_own_the_client() {
    let server = mock::MockServer::start_async().await;
    let cvms = sample::cvms();
    server.list_cvms_paginated(|_, then| {
        then.ok(&sample::cvm_page(&cvms, 1, 100));
    });
    let client = mock::client(&server);
    let listing = tokio::spawn(client.list_cvms_paginated().items().try_collect::<Vec<_>>());

    let events = ScriptedServer::start_in_pieces(vec![vec![
        sse_head(),
        b"event: complete\ndata: {\"status\": \"running\", \"target\": \"running\"}\n\n".to_vec(),
    ]])
    .await;
    let watcher = support::client(&events.url, RetryPolicy::none());
    let watch = tokio::spawn(
        watcher
            .watch_cvm_state("cvm_ykL5lbAn", WatchOptions::new("running"))
            .try_collect::<Vec<_>>(),
    );
    // The tasks hold their own handles.
    drop((client, watcher));

    let listed = bounded(listing).await.unwrap().unwrap();
    assert_eq!(listed.len(), cvms.len());
    let watched = bounded(watch).await.unwrap().unwrap();
    assert!(
        matches!(watched.as_slice(), [CvmStateEvent::Complete(done)] if done.status == phala_cloud::types::CvmLifecycleStatus::Running),
        "{watched:?}"
    );
}

#[tokio::test]
async fn a_generated_call_can_pin_another_api_version_and_headers() {
    let page = r#"{"items": [], "total": 0, "page": 1, "page_size": 10, "pages": 0}"#;
    let server = ScriptedServer::start(vec![json(200, page), json(200, page)]).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .default_header("x-source".parse().unwrap(), "default".parse().unwrap())
        .build()
        .unwrap();
    client
        .list_kms()
        .with_options(
            RequestOptions::new()
                .api_version("2026-06-23")
                .header("x-source", "this call")
                .header("x-api-key", "not the key"),
        )
        .send()
        .await
        .unwrap();
    client.list_kms().send().await.unwrap();
    let requests = server.requests();
    assert_eq!(requests[0].header("x-phala-version"), Some("2026-06-23"));
    assert_eq!(requests[0].header("x-source"), Some("this call"));
    assert_eq!(
        requests[0].header("x-api-key"),
        Some(KEY),
        "the key stays the client's"
    );
    assert_eq!(
        requests[1].header("x-phala-version"),
        Some(phala_cloud::API_VERSION),
        "the override was this call's only"
    );
    assert_eq!(requests[1].header("x-source"), Some("default"));
}

#[tokio::test]
async fn a_call_can_set_its_own_retry_policy_and_timeout() {
    let busy = || json(503, r#"{"detail": "busy"}"#);
    let page = r#"{"items": [], "total": 0, "page": 1, "page_size": 10, "pages": 0}"#;
    let server = ScriptedServer::start(vec![busy(), json(200, page)]).await;
    let client = support::client(&server.url, RetryPolicy::none());
    client
        .list_kms()
        .with_options(
            RequestOptions::new()
                .retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(5)))
                .timeout(Duration::from_secs(5)),
        )
        .send()
        .await
        .expect("retried under the call's policy");
    assert_eq!(server.requests().len(), 2);

    // A server that accepts and never answers: the call's 50 ms, not the
    // client's 60 s.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let client = support::client(&url, RetryPolicy::none());
    let err = bounded(
        client
            .list_kms()
            .with_options(RequestOptions::new().timeout(Duration::from_millis(50)))
            .send(),
    )
    .await
    .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn hand_written_builders_and_client_handles_take_options_too() {
    let accepted = r#"{"status": "accepted", "message": "ok", "correlation_id": "c-1"}"#;
    let server = ScriptedServer::start(vec![json(202, accepted), json(202, accepted)]).await;
    let client = support::client(&server.url, RetryPolicy::none());
    client
        .update_pre_launch_script()
        .cvm_id("cvm_ykL5lbAn")
        .content("#!/bin/sh\n")
        .with_options(RequestOptions::new().api_version("2026-06-23"))
        .send()
        .await
        .unwrap();
    let pinned = client.with_options(RequestOptions::new().header("x-batch", "7"));
    pinned
        .with_options(RequestOptions::new().api_version("2026-06-23"))
        .update_docker_compose()
        .cvm_id("cvm_ykL5lbAn")
        .content("services: {}\n")
        .send()
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests[0].header("x-phala-version"), Some("2026-06-23"));
    assert_eq!(requests[1].header("x-phala-version"), Some("2026-06-23"));
    assert_eq!(requests[1].header("x-batch"), Some("7"), "options merge");
    assert_eq!(
        client.api_version(),
        phala_cloud::API_VERSION,
        "the client is unchanged"
    );
}

#[tokio::test]
async fn an_invalid_override_sends_nothing() {
    let server = ScriptedServer::start(vec![]).await;
    let client = support::client(&server.url, RetryPolicy::none());
    let err = client
        .list_kms()
        .with_options(RequestOptions::new().api_version("2026\n06"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, phala_cloud::Error::InvalidRequest(ref m) if m.contains("API version")),
        "{err}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_bearer_token_and_a_workspace_are_sent_and_never_shown() {
    let page = r#"{"items": [], "total": 0, "page": 1, "page_size": 10, "pages": 0}"#;
    let server = ScriptedServer::start(vec![json(200, page), json(200, page)]).await;
    let oidc = Client::builder()
        .bearer_token("oidc.secret.token")
        .workspace("secret-workspace")
        .base_url(&server.url)
        .build()
        .unwrap();
    oidc.list_kms().send().await.unwrap();
    let both = Client::builder()
        .api_key(KEY)
        .bearer_token("oidc.secret.token")
        .base_url(&server.url)
        .build()
        .unwrap();
    both.list_kms().send().await.unwrap();

    let requests = server.requests();
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer oidc.secret.token")
    );
    assert_eq!(requests[0].header("x-api-key"), None);
    assert_eq!(
        requests[0].header("x-phala-workspace"),
        Some("secret-workspace")
    );
    assert_eq!(
        requests[1].header("x-api-key"),
        Some(KEY),
        "the key is preferred"
    );
    assert_eq!(requests[1].header("authorization"), None);
    for shown in [format!("{oidc:?}"), format!("{both:?}")] {
        assert!(!shown.contains("secret"), "{shown}");
    }
}
