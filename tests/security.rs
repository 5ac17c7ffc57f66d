//! The API key stays where it belongs: not on other hosts, not in Debug
//! output (`tests/logging.rs` checks the logs), also through a caller's
//! HTTP stack.

use std::time::Duration;

use phala_cloud::reqwest::redirect::Policy;
use phala_cloud::{Client, Error, RetryPolicy};
use support::{json, response, ScriptedServer};

const KEY: &str = "phak_very_secret_key_4f9a";

#[tokio::test]
async fn a_redirect_to_another_port_never_receives_the_key() {
    redirect_is_not_followed(Client::builder()).await;
}

#[tokio::test]
async fn a_callers_http_stack_cannot_follow_redirects_or_drop_the_timeout() {
    let callers = || {
        Client::builder().configure_http(|http| {
            http.redirect(Policy::limited(10))
                .timeout(Duration::from_secs(3600))
                .connection_verbose(true)
        })
    };
    redirect_is_not_followed(callers()).await;

    // The kernel accepts the connection; nobody ever answers it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = callers()
        .api_key(KEY)
        .base_url(format!("http://{}", silent.local_addr().unwrap()))
        .timeout(Duration::from_millis(100))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.list_kms().send().await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
}

async fn redirect_is_not_followed(builder: phala_cloud::ClientBuilder) {
    let elsewhere = ScriptedServer::start(vec![json(
        200,
        r#"{"items": [], "total": 0, "page": 1, "page_size": 10, "pages": 0}"#,
    )])
    .await;
    let location = format!("{}/api/v1/kms", elsewhere.url);
    let origin = ScriptedServer::start(vec![response(302, &[("location", &location)], "")]).await;
    let client = builder.api_key(KEY).base_url(&origin.url).build().unwrap();

    let err = client.list_kms().send().await.unwrap_err();

    let Error::Unexpected(answer) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(answer.status().as_u16(), 302);
    assert_eq!(answer.headers()["location"], location.as_str());
    assert_eq!(origin.requests()[0].header("x-api-key"), Some(KEY));
    assert!(
        elsewhere.requests().is_empty(),
        "the redirect was not followed"
    );
}
