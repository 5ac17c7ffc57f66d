//! Form bodies on the wire: the generated CVM file uploads' byte-correct
//! `multipart/form-data`, read back as a server reads it, with the client's
//! headers and retries; and what a URL-encoded form sends.

use std::time::Duration;

use phala_cloud::RetryPolicy;
use support::{client, fixture, json, parse_multipart, FormPart, Recorded, ScriptedServer};

const ACCEPTED: &str = "PATCH_api_v1_cvms_{cvm_id}_docker-compose__202__py-action-matrix.json";

fn parts(request: &Recorded) -> Vec<FormPart> {
    parse_multipart(
        request.header("content-type").expect("a content type"),
        &request.body,
    )
}

#[tokio::test]
async fn a_docker_compose_file_is_one_file_field() {
    let server = ScriptedServer::start(vec![json(202, &fixture(ACCEPTED))]).await;
    // CRLF, a delimiter-like line and non-ASCII text must arrive unchanged.
    let yaml = "services:\r\n  web:\n    image: nginx\n--\n    # café\n";
    let answer = client(&server.url, RetryPolicy::none())
        .update_docker_compose()
        .cvm_id("cvm_ykL5lbAn")
        .content(yaml)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 202);
    assert_eq!(answer.correlation_id.as_deref(), Some("c"));

    let requests = server.requests();
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("PATCH", "/api/v1/cvms/cvm_ykL5lbAn/docker-compose")
    );
    assert_eq!(request.header("x-api-key"), Some("phak_test"));
    assert_eq!(
        request.header("x-phala-version"),
        Some(phala_cloud::API_VERSION)
    );
    assert_eq!(
        request.header("x-compose-hash"),
        None,
        "phase 1 has no hash"
    );
    assert_eq!(
        request.header("content-length"),
        Some(request.body.len().to_string().as_str())
    );
    assert_eq!(
        parts(request),
        [FormPart {
            name: "file".into(),
            filename: Some("docker-compose.yml".into()),
            content_type: Some("application/yaml".into()),
            body: yaml.as_bytes().to_vec(),
        }]
    );
}

#[tokio::test]
async fn a_pre_launch_script_carries_the_phase_2_headers() {
    let server = ScriptedServer::start(vec![json(202, &fixture(ACCEPTED))]).await;
    let script = "#!/bin/sh\nset -e\necho ready\n";
    client(&server.url, RetryPolicy::none())
        .update_pre_launch_script()
        .cvm_id("cvm_ykL5lbAn")
        .content(script)
        .x_compose_hash("0xabc123")
        .x_transaction_hash("0xfeed")
        .send()
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.path, "/api/v1/cvms/cvm_ykL5lbAn/pre-launch-script");
    assert_eq!(request.header("x-compose-hash"), Some("0xabc123"));
    assert_eq!(request.header("x-transaction-hash"), Some("0xfeed"));
    let parts = parts(request);
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].name, "file");
    assert_eq!(parts[0].filename.as_deref(), Some("pre-launch.sh"));
    assert_eq!(parts[0].content_type.as_deref(), Some("text/x-shellscript"));
    assert_eq!(parts[0].body, script.as_bytes());
}

#[tokio::test]
async fn an_upload_is_retried_whole_after_another_operation_in_progress() {
    let busy = json(409, r#"{"detail": "Another operation is in progress"}"#);
    let server = ScriptedServer::start(vec![busy, json(202, &fixture(ACCEPTED))]).await;
    let retry = RetryPolicy::default().base_delay(Duration::from_millis(5));
    client(&server.url, retry)
        .update_docker_compose()
        .cvm_id("cvm_ykL5lbAn")
        .content("services: {}\n")
        .send()
        .await
        .expect("the second attempt succeeds");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body, requests[1].body,
        "the same body, boundary included"
    );
    assert_eq!(parts(&requests[1])[0].body, b"services: {}\n");
}

#[tokio::test]
async fn an_error_answer_is_the_one_error_type() {
    let server = ScriptedServer::start(vec![json(
        400,
        r#"{"detail": "Invalid content type or empty body"}"#,
    )])
    .await;
    let err = client(&server.url, RetryPolicy::none())
        .update_docker_compose()
        .cvm_id("cvm_ykL5lbAn")
        .content("services: {}\n")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "HTTP 400: Invalid content type or empty body"
    );
}

#[tokio::test]
async fn bad_input_sends_nothing() {
    let server = ScriptedServer::start(vec![]).await;
    let err = client(&server.url, RetryPolicy::none())
        .update_pre_launch_script()
        .cvm_id("cvm_ykL5lbAn")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid request: no value supplied for file"
    );
    let err = client(&server.url, RetryPolicy::none())
        .update_docker_compose()
        .cvm_id("cvm_ykL5lbAn")
        .content("")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "invalid request: file: the file is empty");
    let err = client(&server.url, RetryPolicy::none())
        .update_docker_compose()
        .cvm_id("cvm_ykL5lbAn")
        .file("x: 1", "compose\".yml", "application/yaml")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid request: file: the file name \"compose\\\".yml\" has '\"'"),
        "{err}"
    );
    assert!(server.requests().is_empty());
}

/// The encoding a generated `application/x-www-form-urlencoded` operation
/// sends (its `send()` calls progenitor's `form_urlencoded(&body)` on the
/// body type typify writes; the codegen drift test checks that it does):
/// every field type of such a form, on the wire. The vendored spec has no
/// such operation; the previous revision's login had one.
#[tokio::test]
async fn a_url_encoded_form_carries_every_field_type_as_text() {
    use progenitor_client::RequestBuilderExt;

    #[derive(serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    enum GrantType {
        RefreshToken,
    }

    // As typify writes a form body: optional fields skipped when unset,
    // unknown fields flattened in.
    #[derive(serde::Serialize)]
    struct TokenForm {
        username: String,
        password: String,
        scope: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        remember: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        ttl: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        ratio: f64,
        grant_type: GrantType,
        #[serde(flatten)]
        extra: serde_json::Map<String, serde_json::Value>,
    }

    let server = ScriptedServer::start(vec![json(200, r#"{"access_token": "t"}"#)]).await;
    let form = TokenForm {
        username: "alice@example.com".into(),
        password: "p&ss=word 100%".into(),
        scope: String::new(),
        remember: Some(true),
        ttl: Some(3600),
        client_id: None,
        ratio: 0.5,
        grant_type: GrantType::RefreshToken,
        extra: serde_json::Map::from_iter([("x-new".to_string(), serde_json::json!("ü"))]),
    };
    let request =
        phala_cloud::reqwest::Client::new().post(format!("{}/api/v1/auth/token", server.url));
    RequestBuilderExt::<()>::form_urlencoded(request, &form)
        .unwrap()
        .send()
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        String::from_utf8(request.body.clone()).unwrap(),
        "username=alice%40example.com&password=p%26ss%3Dword+100%25&scope=&remember=true\
         &ttl=3600&ratio=0.5&grant_type=refresh_token&x-new=%C3%BC"
    );
}
