//! The generated client on the wire: what it sends and what it decodes.

use httpmock::prelude::*;
use phala_cloud::{types, Client, RetryPolicy};
use support::{fixture, KEY};

fn client(server: &MockServer) -> Client {
    support::client(&server.base_url(), RetryPolicy::default())
}

#[tokio::test]
async fn list_kms_sends_credentials_version_and_query_and_decodes_the_page() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v1/kms")
                .query_param("page", "2")
                .query_param("page_size", "50")
                .query_param("is_onchain", "false")
                .header("x-api-key", KEY)
                .header("x-phala-version", "2026-01-21")
                .header(
                    "user-agent",
                    concat!("phala-cloud-rust/", env!("CARGO_PKG_VERSION")),
                )
                .header_missing("api-version");
            then.status(200)
                .header("content-type", "application/json")
                .body(fixture("GET_api_v1_kms__py-action-matrix.json"));
        })
        .await;

    let page = client(&server)
        .list_kms()
        .page(2)
        .page_size(50)
        .is_onchain(false)
        .send()
        .await
        .expect("list_kms succeeds");

    mock.assert_async().await;
    let page: types::KmsListResponse = page.into_inner();
    assert_eq!(
        (page.total, page.page, page.page_size, page.pages),
        (1, 1, 10, 1)
    );
    assert_eq!(page.items.len(), 1);
    let kms = &page.items[0];
    assert_eq!(kms.id, "k1");
    assert_eq!(kms.slug.as_deref(), Some("phala"));
    assert_eq!(kms.chain_id, None);
}

#[tokio::test]
async fn get_cvm_decodes_the_2026_01_21_shape_into_the_typed_response() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v1/cvms/cvm_ykL5lbAn")
                .header("x-phala-version", "2026-01-21");
            then.status(200)
                .header("content-type", "application/json")
                .body(fixture("GET_api_v1_cvms_{cvm_id}__v20260121.json"));
        })
        .await;

    let cvm: types::CvmInfoDetail = client(&server)
        .get_cvm()
        .cvm_id("cvm_ykL5lbAn")
        .send()
        .await
        .expect("get_cvm succeeds")
        .into_inner();

    mock.assert_async().await;
    assert_eq!(cvm.id, "cvm_ykL5lbAn");
    assert_eq!(cvm.status, types::CvmLifecycleStatus::Running);
    assert_eq!(cvm.resource.instance_type.as_deref(), Some("tdx.small"));
    assert_eq!(cvm.kms_type, Some(types::KmsType::Phala));
    assert_eq!(
        cvm.gateway.base_domain.as_deref(),
        Some("dstack-prod5.phala.network")
    );
    assert_eq!(
        cvm.workspace.as_ref().map(|w| w.name.as_str()),
        Some("Team")
    );
    assert_eq!(
        cvm.node_info.as_ref().and_then(|n| n.name.as_deref()),
        Some("prod5")
    );
}

#[tokio::test]
async fn an_error_status_reaches_the_caller_with_its_parsed_body() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v1/cvms/cvm_missing");
            then.status(404)
                .header("content-type", "application/json")
                .body(r#"{"detail": "CVM not found"}"#);
        })
        .await;

    let err = client(&server)
        .get_cvm()
        .cvm_id("cvm_missing")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let api = err.api_error().expect("an API error");
    assert_eq!(api.message(), "CVM not found");
    assert_eq!(err.to_string(), "HTTP 404: CVM not found");
}

#[test]
fn every_operation_of_the_spec_is_listed_once() {
    // The spec with the additions (`openapi.additions.json`) merged in.
    let (mut spec, overlay) = support::spec::files();
    overlay.apply(&mut spec).unwrap();
    let mut in_spec: Vec<(String, String)> = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let path = phala_cloud_codegen::additions::wire_path(path).to_string();
            in_spec.push((method.to_uppercase(), path));
        }
    }
    let mut listed: Vec<(String, String)> = phala_cloud::__private::OPERATIONS
        .iter()
        .map(|o| (o.method.to_string(), o.path.to_string()))
        .collect();
    in_spec.sort();
    listed.sort();
    assert_eq!(listed, in_spec);
    for hand_written in phala_cloud::__private::HAND_WRITTEN_OPERATIONS {
        let on = (
            hand_written.method.to_string(),
            hand_written.path.to_string(),
        );
        assert!(
            in_spec.contains(&on),
            "{} is on no operation",
            hand_written.name
        );
    }
}
