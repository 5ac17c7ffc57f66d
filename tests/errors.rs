//! Every class of failure, from real-shaped answers, through one error type.

use httpmock::prelude::*;
use phala_cloud::{Client, Error, RetryPolicy};
use support::fixture;

fn client(server: &MockServer) -> Client {
    support::client(&server.base_url(), RetryPolicy::none())
}

async fn get_cvm_answering(status: u16, content_type: &str, body: &str) -> Error {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v1/cvms/cvm_x");
            then.status(status)
                .header("content-type", content_type)
                .header("x-request-id", "rid-header-456")
                .body(body);
        })
        .await;
    client(&server)
        .get_cvm()
        .cvm_id("cvm_x")
        .send()
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_422_lists_its_fields() {
    let err = get_cvm_answering(
        422,
        "application/json",
        &fixture("POST_api_v1_cvms__422-detail-items__js-errors-test.json"),
    )
    .await;
    assert!(err.is_validation() && !err.is_retryable());
    let fields: Vec<_> = err
        .validation_errors()
        .iter()
        .map(|v| (v.field.as_str(), v.kind.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("name", "string_too_short"),
            ("memory", "greater_than_equal"),
            ("disk_size", "less_than_equal")
        ]
    );
    assert_eq!(err.to_string(), "HTTP 422: Validation failed (3 issues)");
    let long = format!("{err:#}");
    assert!(
        long.contains("\n  1. name: String should have at least 4 characters"),
        "{long}"
    );
    assert!(
        long.contains("\n  3. disk_size: Input should be less than or equal to 10240"),
        "{long}"
    );
}

#[tokio::test]
async fn a_structured_error_at_the_top_level() {
    let err = get_cvm_answering(
        400,
        "application/json",
        &fixture("GET_any__400-structured-with-request-id__py-test-465.json"),
    )
    .await;
    assert_eq!(err.error_code(), Some("ERR-01-005"));
    assert_eq!(err.message(), "Compose hash registration required on-chain");
    assert_eq!(
        err.request_id(),
        Some("rid-body-123"),
        "the body's id wins over the header's"
    );
    assert_eq!(
        err.to_string(),
        "HTTP 400 [ERR-01-005]: Compose hash registration required on-chain"
    );
}

#[tokio::test]
async fn a_465_with_details_nested_under_detail() {
    let nested = format!(
        r#"{{"detail": {}}}"#,
        fixture("PATCH_api_v1_cvms_{cvm_id}__465-detail__js-patch-cvm-test.json")
    );
    let err = get_cvm_answering(465, "application/json", &nested).await;
    assert!(err.is_compose_precondition());
    assert_eq!(err.error_code(), Some("HASH_REGISTRATION_REQUIRED"));
    assert_eq!(
        err.request_id(),
        Some("rid-header-456"),
        "no id in the body: the header's"
    );
    let fields: Vec<_> = err
        .details()
        .iter()
        .map(|d| d.field.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(fields, ["compose_hash", "app_id", "device_id", "kms_info"]);
    assert_eq!(err.details()[0].value, Some(serde_json::json!("0xabc123")));
    let long = format!("{err:#}");
    assert!(
        long.starts_with(
            "HTTP 465 [HASH_REGISTRATION_REQUIRED]: Compose hash registration required\nDetails:\n"
        ),
        "{long}"
    );
    assert!(
        long.contains("(field: compose_hash, value: \"0xabc123\")"),
        "{long}"
    );
}

#[tokio::test]
async fn an_html_502_page_is_a_server_error_with_an_excerpt() {
    let page = "<html><head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center></body></html>";
    let err = get_cvm_answering(502, "text/html", page).await;
    assert!(err.is_server() && err.is_retryable() && !err.is_not_found());
    let api = err.api_error().unwrap();
    assert!(api.body().is_none());
    assert!(api
        .body_excerpt()
        .unwrap()
        .starts_with("<html><head><title>502 Bad Gateway"));
    assert!(
        err.message().starts_with("<html><head>"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn a_plain_500_and_an_empty_body() {
    let err = get_cvm_answering(
        500,
        "application/json",
        &fixture("ANY__500__py-test-465.json"),
    )
    .await;
    assert_eq!(err.to_string(), "HTTP 500: boom");
    assert!(err.is_server() && !err.is_retryable());
    let err = get_cvm_answering(403, "application/json", "").await;
    assert!(err.is_auth());
    assert_eq!(err.to_string(), "HTTP 403: Forbidden");
    let err = get_cvm_answering(404, "application/json", r#"{"detail": "CVM not found"}"#).await;
    assert!(err.is_not_found());
    assert_eq!(err.message(), "CVM not found");
}

#[tokio::test]
async fn a_non_json_success_is_a_decode_error_with_the_serde_path() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v1/kms")
                .query_param_missing("page");
            then.status(200)
                .header("content-type", "text/html")
                .body("<html>maintenance</html>");
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v1/kms").query_param("page", "2");
            then.status(200).json_body(serde_json::json!({
                "items": [{"id": "kms_a", "url": "u", "version": "1"}, {"id": "kms_b", "url": 5, "version": "1"}],
                "total": 2, "page": 2, "page_size": 2, "pages": 2
            }));
        })
        .await;
    let err = client(&server).list_kms().send().await.unwrap_err();
    let Error::Decode(decode) = &err else {
        panic!("{err:?}")
    };
    assert!(decode.excerpt.starts_with("<html>maintenance"));

    let err = client(&server).list_kms().page(2).send().await.unwrap_err();
    let Error::Decode(decode) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(decode.path, "items[1].url");
    assert!(
        err.to_string()
            .starts_with("the answer does not decode at `items[1].url`: invalid type: integer `5`"),
        "{err}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = support::client(&url, RetryPolicy::none());
    let err = client.list_kms().send().await.unwrap_err();
    assert!(
        err.is_transport() && err.is_retryable() && err.status().is_none(),
        "{err:?}"
    );
}
