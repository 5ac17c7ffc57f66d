//! The API key stays where it belongs: not on other hosts, not in Debug
//! output (`tests/logging.rs` checks the logs).

mod common;

use common::{json, response, ScriptedServer};
use phala_cloud::{Client, Error};

const KEY: &str = "phak_very_secret_key_4f9a";

#[tokio::test]
async fn a_redirect_to_another_port_never_receives_the_key() {
    let elsewhere = ScriptedServer::start(vec![json(
        200,
        r#"{"items": [], "total": 0, "page": 1, "page_size": 10, "pages": 0}"#,
    )])
    .await;
    let location = format!("{}/api/v1/kms", elsewhere.url);
    let origin = ScriptedServer::start(vec![response(302, &[("location", &location)], "")]).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&origin.url)
        .build()
        .unwrap();

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
