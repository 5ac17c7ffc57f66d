//! Nothing lost on decode, nothing invented on encode: unions are sum types,
//! answers keep the fields and enum values the spec does not list, and
//! request bodies send what the caller set and nothing else. (The
//! conformance suite checks the round trip of every operation's answers;
//! these are the cases the API's users meet first.)

use httpmock::prelude::*;
use phala_cloud::mock::sample;
use phala_cloud::types::{self, DstackAppListResponseDstackAppsItem as AppItem, GetAppResponse};
use phala_cloud::{Client, Error, RetryPolicy};
use serde_json::{json, Value};
use std::collections::HashMap;

const APP_ID: &str = "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4";

fn client(server: &MockServer) -> Client {
    support::client(&server.base_url(), RetryPolicy::none())
}

/// Answers `GET path` with `body`.
async fn answer_get(server: &MockServer, path: &str, body: &Value) {
    server
        .mock_async(|when, then| {
            when.method(GET).path(path);
            then.status(200).json_body(body.clone());
        })
        .await;
}

fn full_app() -> Value {
    serde_json::to_value(&sample::apps()[0]).unwrap()
}

/// `items` as the one page of a `GET /apps` answer.
fn apps_page(items: Vec<Value>) -> Value {
    let n = items.len();
    json!({"dstack_apps": items, "page": 1, "page_size": n, "total": n, "total_pages": 1})
}

/// Serves `body` as `GET /apps` and lists the apps.
async fn list_apps(
    server: &MockServer,
    body: &Value,
) -> Result<types::DstackAppListResponse, Error> {
    answer_get(server, "/api/v1/apps", body).await;
    Ok(client(server).list_apps().send().await?.into_inner())
}

#[tokio::test]
async fn get_app_of_a_full_app_gives_the_typed_full_app_and_encodes_back_whole() {
    let server = MockServer::start_async().await;
    let body = full_app();
    answer_get(&server, &format!("/api/v1/apps/{APP_ID}"), &body).await;

    let app = client(&server)
        .get_app()
        .app_id(APP_ID)
        .send()
        .await
        .unwrap()
        .into_inner();

    let GetAppResponse::FullResponse(full) = &app else {
        panic!("not the full app: {app:?}");
    };
    assert_eq!(full.name, "web-prod");
    assert!(full.current_cvm.is_some());
    assert_eq!(app.app_id(), APP_ID);
    assert_eq!(app.name(), Some("web-prod"));
    assert_eq!(serde_json::to_value(&app).unwrap(), body);
}

#[tokio::test]
async fn a_minimal_app_is_kept_next_to_full_ones_in_a_page() {
    let server = MockServer::start_async().await;
    let minimal =
        json!({"app_id": "00000000000000000000000000000000000000ff", "name": "bare", "cvms": null});
    let body = apps_page(vec![full_app(), minimal]);
    let page = list_apps(&server, &body).await.unwrap();

    assert!(matches!(page.dstack_apps[0], AppItem::FullResponse(_)));
    let AppItem::MinimalResponse(bare) = &page.dstack_apps[1] else {
        panic!("the minimal app was not kept: {:?}", page.dstack_apps[1]);
    };
    assert_eq!(bare.name.as_deref(), Some("bare"));
    assert_eq!(page.dstack_apps[1].name(), Some("bare"));
    assert_eq!(page.dstack_apps[1].cvms(), None);
    assert_eq!(page.dstack_apps[0].cvms().map(<[_]>::len), Some(1));
    // `"cvms": null` of an optional field is the one thing not written back.
    let mut expected = body;
    expected["dstack_apps"][1]
        .as_object_mut()
        .unwrap()
        .remove("cvms");
    assert_eq!(serde_json::to_value(&page).unwrap(), expected);
}

#[tokio::test]
async fn a_body_that_fits_no_variant_is_a_decode_error_naming_where() {
    let server = MockServer::start_async().await;
    answer_get(
        &server,
        &format!("/api/v1/apps/{APP_ID}"),
        &json!({"unrelated": 1}),
    )
    .await;
    let err = client(&server)
        .get_app()
        .app_id(APP_ID)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");

    let page = apps_page(vec![json!({"name": "no app_id"})]);
    let err = list_apps(&server, &page).await.unwrap_err();
    let Error::Decode(decode) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(decode.path, "dstack_apps[0]", "{err}");
}

#[tokio::test]
async fn a_cvm_page_with_a_new_kms_type_a_new_status_and_a_new_field_round_trips_whole() {
    let server = MockServer::start_async().await;
    let mut body = serde_json::to_value(sample::cvm_page(&sample::cvms(), 1, 3)).unwrap();
    let newest = &mut body["items"][2];
    newest["kms_type"] = json!("tdx-quorum");
    newest["status"] = json!("hibernating");
    newest["resource_usage"] = json!({"cpu_percent": 12.5, "memory_mb": 2048});
    answer_get(&server, "/api/v1/cvms/paginated", &body).await;

    let page = client(&server)
        .list_cvms_paginated()
        .send()
        .await
        .unwrap()
        .into_inner();

    let cvm = &page.items[2];
    assert_eq!(
        cvm.kms_type,
        Some(types::KmsType::Other("tdx-quorum".into()))
    );
    assert_eq!(
        cvm.status,
        types::CvmLifecycleStatus::Other("hibernating".into())
    );
    assert_eq!(cvm.extra["resource_usage"]["memory_mb"], 2048);
    assert_eq!(serde_json::to_value(&page).unwrap(), body);
}

#[tokio::test]
async fn a_provision_body_sends_exactly_the_fields_that_were_set() {
    let server = MockServer::start_async().await;
    let provision = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v1/cvms/provision")
                .json_body(json!({
                    "name": "web-prod",
                    "instance_type": "tdx.small",
                    "compose_file": {"name": "web-prod", "docker_compose_file": "services: {}"}
                }));
            then.status(200).json_body(json!({
                "app_id": APP_ID,
                "compose_hash": format!("0x{}", "ab".repeat(32)),
            }));
        })
        .await;

    let compose = types::AppCompose::builder()
        .name("web-prod")
        .docker_compose_file("services: {}");
    client(&server)
        .provision_cvm()
        .body_map(|body| {
            body.name("web-prod")
                .instance_type("tdx.small")
                .compose_file(compose)
        })
        .send()
        .await
        .unwrap();

    provision.assert_async().await;
}

#[tokio::test]
async fn a_commit_update_without_token_or_hash_sends_neither() {
    let server = MockServer::start_async().await;
    let path = "/api/v1/cvms/cvm_ykL5lbAn/commit-update";
    let bare = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(path)
                .query_param_missing("token")
                .json_body(json!({}));
            then.status(202).json_body(json!({}));
        })
        .await;
    let with_hash = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(path)
                .json_body(json!({"transaction_hash": "already-registered"}));
            then.status(202).json_body(json!({}));
        })
        .await;
    let client = client(&server);

    client
        .commit_cvm_update()
        .cvm_id("cvm_ykL5lbAn")
        .send()
        .await
        .unwrap();
    client
        .commit_cvm_update()
        .cvm_id("cvm_ykL5lbAn")
        .body_map(|body| body.transaction_hash("already-registered"))
        .send()
        .await
        .unwrap();

    bare.assert_async().await;
    with_hash.assert_async().await;
}

#[test]
fn optional_setters_take_what_required_ones_take() {
    // `&str` for a `String` and for an ID type, the enum's text, `Vec<T>`
    // for an optional list: no `Some(…)`, no `.to_string()`.
    let body = types::ProvisionCvmRequest::builder()
        .name("web-prod")
        .instance_type("tdx.small")
        .kms("phala")
        .env_keys(vec!["API_TOKEN".to_string()])
        .compose_file(types::AppCompose::builder().name("web-prod"));
    let body = types::ProvisionCvmRequest::try_from(body).unwrap();
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({
            "name": "web-prod", "instance_type": "tdx.small", "kms": "phala",
            "env_keys": ["API_TOKEN"], "compose_file": {"name": "web-prod"}
        })
    );
    let user = types::UserRef::try_from(types::UserRef::builder().id("usr_0123abcd")).unwrap();
    assert_eq!(
        user.id.map(|id| id.to_string()).as_deref(),
        Some("usr_0123abcd")
    );
    let invalid = types::UserRef::try_from(types::UserRef::builder().id("not a user id"));
    assert!(invalid.unwrap_err().to_string().contains("id"));
}

#[test]
fn answer_enums_are_open_and_request_only_enums_are_strict() {
    let kms: types::KmsType = serde_json::from_value(json!("tdx-quorum")).unwrap();
    assert_eq!(kms, types::KmsType::Other("tdx-quorum".into()));
    assert_eq!(serde_json::to_value(&kms).unwrap(), json!("tdx-quorum"));
    assert_eq!(kms.to_string(), "tdx-quorum");
    assert_eq!("tdx-quorum".parse::<types::KmsType>().unwrap(), kms);
    assert_eq!(
        "phala".parse::<types::KmsType>().unwrap(),
        types::KmsType::Phala
    );

    // The `storage_fs` of a compose-file update only goes to the server; an
    // app compose's is read back too (the overlay types the compose answers),
    // so its enum is open.
    type RequestOnly = types::ProvisionComposeFileUpdateRequestStorageFs;
    assert!(serde_json::from_value::<RequestOnly>(json!("btrfs")).is_err());
    assert!("btrfs".parse::<RequestOnly>().is_err());
    let read_back: types::AppComposeStorageFs = serde_json::from_value(json!("btrfs")).unwrap();
    assert_eq!(serde_json::to_value(&read_back).unwrap(), json!("btrfs"));
}

/// Serves `body` as `POST /status/batch` and asks for the statuses.
async fn status_batch(
    server: &MockServer,
    body: &Value,
) -> Result<HashMap<String, types::CvmStatus>, Error> {
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status/batch");
            then.status(200).json_body(body.clone());
        })
        .await;
    let request = types::BatchStatusRequest::builder().vm_uuids(vec!["uuid-1".to_string()]);
    Ok(client(server)
        .get_cvm_status_batch()
        .body(request)
        .send()
        .await?
        .into_inner())
}

#[tokio::test]
async fn an_app_id_of_an_unexpected_form_keeps_the_page_and_its_value() {
    let server = MockServer::start_async().await;
    let mut full = full_app();
    full["app_id"] = json!("app-1");
    let body = apps_page(vec![
        full,
        json!({"app_id": "app-2", "name": "odd"}),
        json!({"app_id": APP_ID, "name": "hex"}),
    ]);
    let page = list_apps(&server, &body).await.unwrap();

    let ids: Vec<&str> = page
        .dstack_apps
        .iter()
        .map(|a| a.app_id().as_str())
        .collect();
    assert_eq!(ids, ["app-1", "app-2", APP_ID]);
    assert!(matches!(page.dstack_apps[0], AppItem::FullResponse(_)));
    assert_eq!(page.dstack_apps[1].name(), Some("odd"));
    let kept = page.dstack_apps[0].app_id();
    assert!(kept.to_bytes().is_err(), "a kept id has no bytes");
    assert!(page.dstack_apps[2].app_id().to_bytes().is_ok());
    assert_eq!(serde_json::to_value(&page).unwrap(), body);
}

#[tokio::test]
async fn a_vm_uuid_of_an_unexpected_form_keeps_the_status_batch() {
    let server = MockServer::start_async().await;
    let body = json!({
        "uuid-1": {"vm_uuid": "uuid-1", "status": "running", "in_progress": false},
        "c48d9363-21b2-4f4a-87d9-3496623f020d":
            {"vm_uuid": "c48d9363-21b2-4f4a-87d9-3496623f020d", "status": "stopped", "in_progress": false},
    });
    let statuses = status_batch(&server, &body).await.unwrap();

    let odd = &statuses["uuid-1"].vm_uuid;
    assert_eq!(odd.as_str(), "uuid-1");
    assert_eq!(odd.simple(), None);
    let uuid = &statuses["c48d9363-21b2-4f4a-87d9-3496623f020d"].vm_uuid;
    assert_eq!(uuid.simple(), Some("c48d936321b24f4a87d93496623f020d"));
    assert_eq!(serde_json::to_value(&statuses).unwrap(), body);
}

#[tokio::test]
async fn a_server_id_that_could_not_stand_as_one_path_segment_is_a_decode_error() {
    for (app_id, vm_uuid) in [("../admin", "a/b"), ("..", "uuid-1/.."), ("app 1", "")] {
        let server = MockServer::start_async().await;
        let page = apps_page(vec![json!({"app_id": app_id, "name": "bad"})]);
        let err = list_apps(&server, &page).await.unwrap_err();
        let Error::Decode(decode) = &err else {
            panic!("{app_id:?}: {err:?}");
        };
        assert_eq!(decode.path, "dstack_apps[0]", "{err}");

        let answer = json!({"x": {"vm_uuid": vm_uuid, "status": "running"}});
        let err = status_batch(&server, &answer).await.unwrap_err();
        assert!(
            matches!(&err, Error::Decode(_)) && err.to_string().contains("one URL path segment"),
            "{vm_uuid:?}: {err}"
        );
    }
}
