//! The `mock` feature as its users see it: typed mocks, the client pointed at
//! them, and sample data that the spec accepts.

use std::num::NonZeroU64;

use phala_cloud::mock::{self, httpmock::MockServer, sample, MockServerExt};
use phala_cloud::types;
use serde_json::Value;
use support::schema::{validate, violations};

#[tokio::test]
async fn a_user_mocks_two_operations_in_a_few_lines() {
    let server = MockServer::start_async().await;
    let kms = sample::kms_instances();
    server.list_kms(|when, then| {
        when.page(NonZeroU64::new(2));
        then.ok(&sample::kms_page(&kms, 2, 3));
    });
    let cvm = sample::cvm_detail(&sample::cvms()[0]);
    server.get_cvm(|when, then| {
        when.cvm_id(&cvm.id);
        then.ok(&cvm);
    });
    let client = mock::client(&server);
    let page = client.list_kms().page(2).send().await.unwrap();
    assert_eq!(page.items, kms[3..6]);
    assert_eq!(*client.get_cvm().cvm_id(&cvm.id).send().await.unwrap(), cvm);
}

/// `GET /kms` answers KMS nodes at the spec's version and KMS contracts at
/// 2026-06-23: each mock matches its operation's version, so both can be
/// mocked at once, as the client calls both.
#[tokio::test]
async fn the_two_shapes_of_one_path_are_mocked_side_by_side() {
    let server = MockServer::start_async().await;
    let kms = sample::kms_instances();
    let contracts = sample::kms_contracts();
    let nodes = server.list_kms(|_, then| {
        then.ok(&sample::kms_page(&kms, 1, 3));
    });
    let by_contract = server.list_kms_contracts(|_, then| {
        then.ok(&contracts);
    });
    let client = mock::client(&server);
    assert_eq!(
        client
            .list_kms_contracts()
            .send()
            .await
            .unwrap()
            .into_inner(),
        contracts
    );
    assert_eq!(client.list_kms().send().await.unwrap().items, kms[..3]);
    assert_eq!((nodes.calls(), by_contract.calls()), (1, 1));
    let me = sample::current_user();
    server.get_current_user(|_, then| {
        then.ok(&me);
    });
    assert_eq!(
        client.get_current_user().send().await.unwrap().into_inner(),
        me
    );
}

#[tokio::test]
async fn error_answers_are_typed_and_reach_the_client_classified() {
    let server = MockServer::start_async().await;
    let busy = server.get_cvm(|when, then| {
        when.cvm_id("cvm_ykL5lbAn");
        then.server_error(503, &sample::coded_error("ERR-03-001", "Node busy"));
    });
    server.get_cvm(|when, then| {
        when.cvm_id("cvm_missing");
        then.client_error(404, &sample::error("CVM not found"));
    });
    let client = mock::client(&server);

    let err = client
        .get_cvm()
        .cvm_id("cvm_ykL5lbAn")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_server(), "{err:#}");
    assert_eq!(err.error_code(), Some("ERR-03-001"));
    assert_eq!(err.message(), "Node busy");
    // No retries from the mock client: one call, one request.
    busy.assert_calls_async(1).await;

    let err = client
        .get_cvm()
        .cvm_id("cvm_missing")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:#}");
    assert_eq!(err.message(), "CVM not found");
}

#[tokio::test]
async fn array_query_parameters_match_every_value() {
    let server = MockServer::start_async().await;
    let statuses = vec![
        types::CvmLifecycleStatus::Running,
        types::CvmLifecycleStatus::Stopped,
    ];
    let apps = sample::apps();
    let both = server.list_apps(|when, then| {
        when.status(&statuses);
        then.ok(&sample::app_page(&apps, 1, 10));
    });
    let client = mock::client(&server);

    let listed = client.list_apps().status(statuses.clone()).send().await;
    assert_eq!(listed.unwrap().dstack_apps.len(), 3);
    let one = client
        .list_apps()
        .status(vec![types::CvmLifecycleStatus::Running]);
    assert!(
        one.send().await.is_err(),
        "a request with one status matched"
    );
    both.assert_calls_async(1).await;
}

#[tokio::test]
async fn timestamps_and_arrays_match_in_their_wire_form() {
    let server = MockServer::start_async().await;
    let since = chrono::DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let kinds = vec!["power_on".to_string(), "compose_update".to_string()];
    let ops = server.list_cvm_operations(|when, then| {
        when.cvm_id("cvm_ykL5lbAn")
            .start_time(&since)
            .operation_types(&kinds);
        then.ok(&types::PaginatedCvmOperationsResponse {
            items: Vec::new(),
            next_cursor: None,
            total: 0,
            extra: Default::default(),
        });
    });
    let client = mock::client(&server);

    let answer = client
        .list_cvm_operations()
        .cvm_id("cvm_ykL5lbAn")
        .start_time(since)
        .operation_types(kinds)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.total, 0);
    ops.assert_async().await;
}

#[tokio::test]
async fn path_parameters_match_literally() {
    let server = MockServer::start_async().await;
    let gpus = sample::family_instance_types("gpu");
    let dotted = server.list_family_instance_types(|when, then| {
        when.family("gpu.h200");
        then.ok(&gpus);
    });
    let client = mock::client(&server);

    // Spliced into a regex unescaped, the `.` would match the `X`.
    let unmatched = client
        .list_family_instance_types()
        .family("gpuXh200")
        .send()
        .await;
    assert!(
        matches!(unmatched, Err(phala_cloud::Error::MockUnmatched { .. })),
        "{unmatched:?}"
    );
    let matched = client
        .list_family_instance_types()
        .family("gpu.h200")
        .send()
        .await
        .unwrap();
    assert_eq!(matched.into_inner(), gpus);
    dotted.assert_calls_async(1).await;
}

#[test]
#[should_panic(expected = "cvm_id: invalid CVM reference")]
fn a_mock_for_an_id_the_client_refuses_panics_where_it_is_written() {
    let server = MockServer::start();
    server.get_cvm(|when, _| {
        when.cvm_id("not a valid/id");
    });
}

#[tokio::test]
async fn every_sample_decodes_through_the_client() {
    let server = MockServer::start_async().await;
    let cvms = sample::cvms();
    server.list_cvms(|_, then| {
        then.ok(&cvms);
    });
    server.list_instance_types(|_, then| {
        then.ok(&sample::instance_types());
    });
    server.list_family_instance_types(|when, then| {
        when.family("gpu");
        then.ok(&sample::family_instance_types("gpu"));
    });
    server.list_cvms_paginated(|_, then| {
        then.ok(&sample::cvm_page(&cvms, 1, 2));
    });
    let client = mock::client(&server);

    assert_eq!(*client.list_cvms().send().await.unwrap(), cvms);
    let families = client.list_instance_types().send().await.unwrap();
    assert_eq!(families.into_inner(), sample::instance_types());
    let gpu = client
        .list_family_instance_types()
        .family("gpu")
        .send()
        .await;
    assert_eq!(gpu.unwrap().items[0].id, "h200.small");
    let page = client.list_cvms_paginated().send().await.unwrap();
    assert_eq!((page.items.len(), page.pages, page.total), (2, 2, 3));
}

/// Each sample, serialized as the mock serves it, against the normalized
/// spec's schema for the operation that answers it: required fields, types,
/// enums, `nullable`, hashid patterns (`^cvm_.+`, …), closed objects.
#[test]
fn samples_are_valid_against_the_spec() {
    let (spec, overlay) = support::spec::files();
    let normalized = phala_cloud_codegen::normalize::normalize(spec, &overlay).unwrap();
    let spec = &normalized.spec;
    let (kms, cvms, apps) = (sample::kms_instances(), sample::cvms(), sample::apps());
    let answers = [
        ("list_kms", json(&sample::kms_page(&kms, 1, 3))),
        ("get_kms_info", json(&kms[3])),
        ("list_cvms", json(&cvms)),
        ("list_app_cvms", json(&cvms)),
        ("list_cvms_paginated", json(&sample::cvm_page(&cvms, 2, 2))),
        ("get_cvm", json(&sample::cvm_detail(&cvms[1]))),
        ("list_apps", json(&sample::app_page(&apps, 1, 10))),
        ("list_instance_types", json(&sample::instance_types())),
        (
            "list_family_instance_types",
            json(&sample::family_instance_types("cpu")),
        ),
        ("get_current_user", json(&sample::current_user())),
        ("list_kms_contracts", json(&sample::kms_contracts())),
        ("get_available_nodes", json(&sample::available_nodes())),
        ("list_os_images", json(&sample::os_images())),
    ];
    for (name, body) in answers {
        // The normalized spec's own paths: a versioned sibling's carries its version.
        let op = normalized
            .context
            .operations
            .iter()
            .find(|op| op.name == name)
            .unwrap();
        let pointer = format!(
            "/paths/{}/{}/responses/200/content/application~1json/schema",
            op.path.replace('~', "~0").replace('/', "~1"),
            op.method
        );
        let schema = spec
            .pointer(&pointer)
            .unwrap_or_else(|| panic!("{name}: {pointer}"));
        if let Err(e) = validate(spec, schema, &body) {
            panic!("{name}: {e}");
        }
        // The schema says something: it refuses a body of the wrong kind.
        assert!(!violations(spec, schema, &Value::Bool(true)).is_empty());
    }
    let get_cvm = &spec["paths"]["/api/v1/cvms/{cvm_id}"]["get"]["responses"]["200"];
    let schema = &get_cvm["content"]["application/json"]["schema"];
    let mut unhashed = json(&sample::cvm_detail(&cvms[0]));
    unhashed["id"] = "ykL5lbAn".into();
    let errors = violations(spec, schema, &unhashed);
    assert_eq!(errors, [r#"at `.id`: "ykL5lbAn" does not match "^cvm_.+""#]);
    unhashed["id"] = "cvm_ykL5lbAn".into();
    unhashed["created_at"] = "yesterday".into();
    let errors = violations(spec, schema, &unhashed);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error_body = &spec["components"]["schemas"]["ApiErrorBody"];
    for body in [
        sample::error("Not found"),
        sample::coded_error("ERR-02-001", "No such type"),
    ] {
        validate(spec, error_body, &json(&body)).unwrap();
    }
}

fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

#[tokio::test]
async fn a_request_no_mock_matches_is_a_test_error_not_a_not_found() {
    let server = MockServer::start_async().await;
    server.get_cvm(|when, then| {
        when.cvm_id("cvm_missing");
        then.client_error(404, &sample::error("CVM not found"));
    });
    let client = mock::client(&server);
    let err = client
        .get_cvm()
        .cvm_id("cvm_other")
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_not_found(), "{err:?}");
    assert_eq!(err.status(), None);
    match &err {
        phala_cloud::Error::MockUnmatched { method, path } => {
            assert_eq!(
                (method.as_str(), path.as_str()),
                ("GET", "/api/v1/cvms/cvm_other")
            )
        }
        other => panic!("not an unmatched request: {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("no mock matched the request GET /api/v1/cvms/cvm_other"),
        "{err}"
    );
    // A mocked 404 stays the API's
    // (`error_answers_are_typed_and_reach_the_client_classified`); an
    // unmatched raw request is reported as unmatched too.
    let raw = client
        .get("/auth/me")
        .query(&[("x", "1")])
        .send_raw()
        .await
        .unwrap_err();
    assert!(
        matches!(raw, phala_cloud::Error::MockUnmatched { ref path, .. } if path == "/api/v1/auth/me?x=1"),
        "{raw:?}"
    );
}

#[test]
fn errors_are_built_from_a_status_and_a_body_without_a_server() {
    use phala_cloud::error::ApiError;
    use phala_cloud::reqwest::{header::HeaderMap, StatusCode};

    let body = serde_json::to_vec(&sample::coded_error("ERR-03-001", "CVM not found")).unwrap();
    let err = phala_cloud::Error::from_parts(StatusCode::NOT_FOUND, HeaderMap::new(), &body);
    assert!(err.is_not_found());
    assert_eq!(err.error_code(), Some("ERR-03-001"));
    assert_eq!(err.message(), "CVM not found");

    let mut headers = HeaderMap::new();
    headers.insert("retry-after", "3".parse().unwrap());
    let err = phala_cloud::Error::from_parts(
        StatusCode::TOO_MANY_REQUESTS,
        headers,
        b"<html>slow</html>",
    );
    assert!(err.is_rate_limited() && err.is_retryable());
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(3)));

    let err = phala_cloud::Error::from_parts(StatusCode::FOUND, HeaderMap::new(), b"");
    assert!(matches!(err, phala_cloud::Error::Unexpected(_)), "{err:?}");

    let api = ApiError::from_parts(
        StatusCode::CONFLICT,
        HeaderMap::new(),
        br#"{"detail": "busy"}"#,
    );
    assert_eq!(
        (api.status(), api.message()),
        (StatusCode::CONFLICT, "busy".to_string())
    );
}
