//! The operations typed beyond the docs' spec (`openapi.additions.json`) on
//! the wire: each sends its method, path and the `X-Phala-Version` its types
//! describe (2026-06-23, on a client pinned to 2026-01-21), and decodes its
//! answer (the shared fixture where one exists, else a body with every field
//! its source lists) losing nothing: an unknown field and an unknown enum
//! value come back out of `serde_json::to_value`.
//!
//! The generic checks of every operation (minimal and maximal answers, a
//! newer server's) are the conformance suite's; these are the user's view.

use futures::TryStreamExt;
use phala_cloud::{Client, RequestOptions};
use serde::Serialize;
use serde_json::{json, Value};
use support::{fixture_json, ScriptedServer, KEY};

/// What the additions' types describe, and what the official SDKs send.
const V: &str = "2026-06-23";

/// An unknown field, as a newer server adds one.
const NEW: &str = "field_of_a_newer_server";

/// `body` with an unknown field added to its top-level object.
fn newer(mut body: Value) -> Value {
    body[NEW] = json!({"nested": [1, "two"]});
    body
}

/// A server answering `bodies` in turn, and a client pinned to 2026-01-21.
async fn serve(bodies: &[(u16, &Value)]) -> (ScriptedServer, Client) {
    let script = bodies
        .iter()
        .map(|(status, body)| support::json(*status, &body.to_string()))
        .collect();
    let server = ScriptedServer::start(script).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .api_version("2026-01-21")
        .build()
        .unwrap();
    (server, client)
}

/// The one request `server` received: its method, path (with the query)
/// and version.
fn sent(server: &ScriptedServer) -> (String, String, String) {
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let r = &requests[0];
    let version = r.header("x-phala-version").unwrap_or_default().to_string();
    (r.method.clone(), r.path.clone(), version)
}

/// What was decoded encodes back to `body`, but for the one difference the
/// SDK makes on purpose (the conformance suite's `DELIBERATE`): an optional
/// field sent as `null` comes back absent.
fn round_trips<T: Serialize>(decoded: &T, body: &Value) {
    assert_eq!(serde_json::to_value(decoded).unwrap(), without_nulls(body));
}

fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), without_nulls(v)))
            .collect(),
        Value::Array(items) => items.iter().map(without_nulls).collect(),
        other => other.clone(),
    }
}

#[tokio::test]
async fn the_current_user_is_read_at_2026_06_23_and_keeps_what_it_does_not_know() {
    let mut body = newer(fixture_json(
        "GET_api_v1_auth_me__py-action-matrix_v20260121.json",
    ));
    body["user"]["role"] = json!("auditor");
    body["features"] = json!([{"name": "gpu", "enabled": true, "options": ["h100"], "extra": 1}]);
    let (server, client) = serve(&[(200, &body)]).await;

    let me = client.get_current_user().send().await.unwrap().into_inner();

    assert_eq!(
        sent(&server),
        ("GET".into(), "/api/v1/auth/me".into(), V.into())
    );
    assert_eq!(me.user.username, "alice");
    assert_eq!(me.workspace.slug.as_deref(), Some("s"));
    assert_eq!(me.credits.balance, json!("1"));
    round_trips(&me, &body);
}

#[tokio::test]
async fn an_explicit_version_of_the_call_wins_over_the_operations() {
    let body = fixture_json("GET_api_v1_auth_me__py-action-matrix_v20260121.json");
    let (server, client) = serve(&[(200, &body)]).await;

    client
        .with_options(RequestOptions::new().api_version("2026-05-22"))
        .get_current_user()
        .send()
        .await
        .unwrap();

    assert_eq!(sent(&server).2, "2026-05-22");
}

fn workspace(id: &str) -> Value {
    json!({
        "id": id, "name": "Team", "slug": "team", "avatar_url": null, "description": "d",
        "tier": "pro", "role": "owner", "is_default": true, "created_at": "2026-06-01T10:00:00Z",
        "confidential_models_enabled": false, "billing_status": "frozen", "suspended_at": null,
        NEW: true
    })
}

#[tokio::test]
async fn workspaces_page_by_cursor_and_keep_their_fields() {
    let first = newer(json!({
        "data": [workspace("wks_a1")],
        "pagination": {"has_more": true, "next_cursor": "c2", "total": 2}
    }));
    let last = json!({"data": [workspace("wks_b2")], "pagination": {"has_more": false, "next_cursor": null}});
    let (server, client) = serve(&[(200, &first), (200, &last)]).await;

    let all: Vec<_> = client
        .list_workspaces()
        .items()
        .try_collect()
        .await
        .unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].param("cursor"), None);
    assert_eq!(requests[0].param("limit").as_deref(), Some("50"));
    assert_eq!(requests[1].param("cursor").as_deref(), Some("c2"));
    assert!(requests
        .iter()
        .all(|r| r.header("x-phala-version") == Some(V)));
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id.as_str(), "wks_a1");
    round_trips(&all[1], &workspace("wks_b2"));
}

#[tokio::test]
async fn a_workspace_its_quotas_and_its_nodes() {
    let one = workspace("wks_a1");
    let quotas = newer(fixture_json(
        "GET_api_v1_workspaces_{slug}_quotas__py-action-matrix.json",
    ));
    let nodes = newer(json!({
        "items": [{
            "object_type": "node", "id": 7, "name": "prod7", "region": "us-west", "ppid": "ab",
            "version": "0.5.3 (git)", "device_id": null,
            "device_ids": [{"device_id": "0xdev", "algorithm_version": "v1", "enabled": true, NEW: 1}],
            "status": "ONLINE"
        }],
        "total": 1, "page": 1, "page_size": 100, "pages": 1
    }));

    let (server, client) = serve(&[(200, &one)]).await;
    let got = client.get_workspace().slug("team").send().await.unwrap();
    assert_eq!(
        sent(&server),
        ("GET".into(), "/api/v1/workspaces/team".into(), V.into())
    );
    round_trips(&got.into_inner(), &one);

    let (server, client) = serve(&[(200, &quotas)]).await;
    let got = client
        .get_workspace_quotas()
        .slug("team")
        .send()
        .await
        .unwrap();
    assert_eq!(sent(&server).1, "/api/v1/workspaces/team/quotas");
    round_trips(&got.into_inner(), &quotas);

    let (server, client) = serve(&[(200, &nodes)]).await;
    let got: Vec<_> = client
        .list_workspace_nodes()
        .slug("team")
        .items()
        .try_collect()
        .await
        .unwrap();
    let (_, path, version) = sent(&server);
    assert_eq!(
        (path.as_str(), version.as_str()),
        ("/api/v1/workspaces/team/nodes?page=1&page_size=100", V)
    );
    assert_eq!(got[0].device_ids.as_ref().map(Vec::len), Some(1));
    round_trips(&got[0], &nodes["items"][0]);
}

#[tokio::test]
async fn what_a_deploy_can_use() {
    let available = newer(json!({
        "tier": "free",
        "capacity": {"max_instances": 5, "max_vcpu": null, "max_memory": 8192, "max_disk": 100},
        "nodes": [{
            "teepod_id": 3, "name": "prod3", "listed": true, "resource_score": 0.5,
            "remaining_vcpu": 12.0, "remaining_memory": 2048.5, "remaining_cvm_slots": 4.0,
            "images": [{"name": "dstack-0.5.3", "is_dev": false, "version": [0, 5, 3],
                        "os_image_hash": "aa", "slug": "dstack-0.5.3", NEW: 1}],
            "support_onchain_kms": true, "fmspc": null, "device_id": "0xd1",
            "device_ids": [{"device_id": "0xd1", "algorithm_version": "v1", "enabled": true}],
            "region_identifier": "us-west", "default_kms": "kms_1", "kms_list": ["kms_1"]
        }],
        "kms_list": [{"id": "kms_1", "slug": null, "url": "https://kms", "version": "0.5.7",
                      "chain_id": null, "kms_contract_address": null, "gateway_app_id": null}],
        "gpu_availability": {"has_reserved_gpus": false, "reserved_gpu_count": 0,
                             "has_public_gpus": true, "public_gpu_count": 2}
    }));
    let (server, client) = serve(&[(200, &available)]).await;
    let got = client
        .get_available_nodes()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        sent(&server),
        ("GET".into(), "/api/v1/teepods/available".into(), V.into())
    );
    assert_eq!(got.nodes[0].teepod_id, 3);
    round_trips(&got, &available);

    let resources = newer(fixture_json(
        "GET_api_v1_teepods_cvm-create-resources__py-action-matrix.json",
    ));
    let (server, client) = serve(&[(200, &resources)]).await;
    let got = client.get_cvm_create_resources().send().await.unwrap();
    assert_eq!(sent(&server).1, "/api/v1/teepods/cvm-create-resources");
    round_trips(&got.into_inner(), &resources);

    let images = newer(fixture_json("GET_api_v1_os-images__py-action-matrix.json"));
    let (server, client) = serve(&[(200, &images)]).await;
    let got = client.list_os_images().is_dev(false).send().await.unwrap();
    assert_eq!(sent(&server).1, "/api/v1/os-images?is_dev=false");
    round_trips(&got.into_inner(), &images);
}

#[tokio::test]
async fn kms_contracts_beside_the_node_listing_of_the_same_path() {
    let contracts = newer(fixture_json(
        "GET_api_v1_kms__go-kms-contract-test_v20260623.json",
    ));
    let (server, client) = serve(&[(200, &contracts)]).await;
    let got = client
        .list_kms_contracts()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        sent(&server),
        ("GET".into(), "/api/v1/kms".into(), V.into())
    );
    assert_eq!(got.items[0].contract_address, "phala");
    round_trips(&got, &contracts);

    let one = contracts["items"][0].clone();
    let (server, client) = serve(&[(200, &one)]).await;
    let got = client
        .get_kms_contract()
        .slug("phala")
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent(&server),
        ("GET".into(), "/api/v1/kms/phala".into(), V.into())
    );
    round_trips(&got.into_inner(), &one);

    let nodes = newer(fixture_json(
        "GET_api_v1_kms_{slug}_nodes__go-kms-contract-test_v20260623.json",
    ));
    let (server, client) = serve(&[(200, &nodes)]).await;
    let got = client
        .list_kms_contract_nodes()
        .slug("phala")
        .send()
        .await
        .unwrap();
    assert_eq!(sent(&server).1, "/api/v1/kms/phala/nodes");
    round_trips(&got.into_inner(), &nodes);

    // The node listing of the same path keeps the spec's version.
    let legacy = fixture_json("GET_api_v1_kms__py-action-matrix.json");
    let (server, client) = serve(&[(200, &legacy)]).await;
    let client = client.with_options(RequestOptions::new());
    client.list_kms().send().await.unwrap();
    assert_eq!(sent(&server).2, phala_cloud::API_VERSION);
}

fn ssh_keys() -> Value {
    newer(json!({
        "keys": [{
            "id": "sshkey_abc", "owner_user_id": "usr_1", "owner_username": "ada",
            "owner_email": "ada@example.com", "added_by_user_id": "usr_1", "name": "laptop",
            "public_key": "ssh-ed25519 AAAA ada", "fingerprint": "SHA256:xyz",
            "key_type": "ssh-ed25519", NEW: "kept"
        }],
        "restart_required": true
    }))
}

#[tokio::test]
async fn a_cvms_ssh_keys_are_read_and_replaced() {
    let (server, client) = serve(&[(200, &ssh_keys())]).await;
    let got = client
        .get_cvm_ssh_keys()
        .cvm_id("cvm_ykL5lbAn")
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent(&server),
        (
            "GET".into(),
            "/api/v1/cvms/cvm_ykL5lbAn/ssh-keys".into(),
            V.into()
        )
    );
    round_trips(&got.into_inner(), &ssh_keys());

    let (server, client) = serve(&[(200, &ssh_keys())]).await;
    client
        .update_cvm_ssh_keys()
        .cvm_id("cvm_ykL5lbAn")
        .body_map(|b| {
            b.ssh_key_ids(vec!["sshkey_abc".to_string()])
                .apply_now(true)
        })
        .send()
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.method, "PUT");
    assert_eq!(
        serde_json::from_slice::<Value>(&request.body).unwrap(),
        json!({"ssh_key_ids": ["sshkey_abc"], "apply_now": true})
    );
}

#[tokio::test]
async fn the_pre_launch_script_upgrade_in_two_phases() {
    let status = newer(json!({
        "current_hash": null, "latest_official_hash": "ab12", "is_official": true,
        "is_latest": false, "can_upgrade": true
    }));
    let (server, client) = serve(&[(200, &status)]).await;
    let got = client
        .get_pre_launch_script_upgrade_status()
        .cvm_id("cvm_ykL5lbAn")
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent(&server).1,
        "/api/v1/cvms/cvm_ykL5lbAn/pre-launch-script/upgrade-status"
    );
    assert!(got.can_upgrade);
    round_trips(&got.into_inner(), &status);

    let accepted = newer(support::fixture_json(
        "PATCH_api_v1_cvms_{cvm_id}_docker-compose__202__py-action-matrix.json",
    ));
    let (server, client) = serve(&[(202, &accepted)]).await;
    let hash = "a".repeat(64);
    let got = client
        .upgrade_pre_launch_script()
        .cvm_id("cvm_ykL5lbAn")
        .x_compose_hash(hash.clone())
        .x_transaction_hash("0xtx")
        .send()
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        (
            "POST",
            "/api/v1/cvms/cvm_ykL5lbAn/pre-launch-script/upgrade-to-latest-official"
        )
    );
    assert_eq!(request.header("x-compose-hash"), Some(hash.as_str()));
    assert_eq!(request.header("x-transaction-hash"), Some("0xtx"));
    round_trips(&got.into_inner(), &accepted);
}

#[tokio::test]
async fn is_allowed_keeps_a_placeholder_hash_as_sent() {
    let verdict = newer(fixture_json(
        "POST_api_v1_cvms_{cvm_id}_is-allowed__go-types-cvms-test_v20260522.json",
    ));
    let (server, client) = serve(&[(200, &verdict)]).await;
    let got = client
        .check_cvm_is_allowed()
        .cvm_id("cvm_ykL5lbAn")
        .body_map(|b| b.node_id(7))
        .send()
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.path, "/api/v1/cvms/cvm_ykL5lbAn/is-allowed");
    assert_eq!(
        serde_json::from_slice::<Value>(&request.body).unwrap(),
        json!({"node_id": 7})
    );
    assert!(got.is_allowed);
    round_trips(&got.into_inner(), &verdict);
}

#[tokio::test]
async fn revoking_the_current_token_accepts_an_empty_answer() {
    let (server, client) = serve(&[(204, &Value::Null)]).await;
    client.revoke_current_api_token().send().await.unwrap();
    assert_eq!(
        sent(&server),
        ("DELETE".into(), "/api/v1/tokens/self".into(), V.into())
    );
}

#[tokio::test]
async fn a_device_login() {
    let code = newer(json!({
        "device_code": "dc", "user_code": "ABCD-EFGH", "verification_uri": "https://cloud.phala.com/device",
        "verification_uri_complete": "https://cloud.phala.com/device?code=ABCD-EFGH",
        "expires_in": 900, "interval": 5
    }));
    let token =
        newer(json!({"access_token": "phak_new", "token_type": "bearer", "expires_in": 7776000}));
    let (server, client) = serve(&[(200, &code)]).await;
    let got = client
        .request_device_code()
        .body_map(|b| b.client_id("my-tool"))
        .send()
        .await
        .unwrap();
    assert_eq!(sent(&server).1, "/api/v1/auth/device/code");
    round_trips(&got.into_inner(), &code);

    let (server, client) = serve(&[(200, &token)]).await;
    let got = client
        .poll_device_token()
        .body_map(|b| b.device_code("dc"))
        .send()
        .await
        .unwrap();
    assert_eq!(sent(&server).1, "/api/v1/auth/device/token");
    assert_eq!(got.access_token, "phak_new");
    round_trips(&got.into_inner(), &token);
}

#[tokio::test]
async fn an_answer_that_does_not_fit_is_a_decode_error_naming_the_field() {
    let body = json!({"items": [{"id": "kc_1", "contract_address": "phala", "chain_id": "zero", "node_count": 1}],
                      "total": 1, "page": 1, "page_size": 20, "pages": 1});
    let (_server, client) = serve(&[(200, &body)]).await;
    let err = client.list_kms_contracts().send().await.unwrap_err();
    assert!(matches!(err, phala_cloud::Error::Decode(_)), "{err:?}");
    assert!(err.to_string().contains("items[0].chain_id"), "{err}");
}

#[tokio::test]
async fn an_invalid_id_is_refused_before_anything_is_sent() {
    let (server, client) = serve(&[]).await;
    let err = client
        .get_cvm_ssh_keys()
        .cvm_id("not/a cvm")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, phala_cloud::Error::InvalidRequest(_)),
        "{err:?}"
    );
    assert!(server.requests().is_empty());
}

/// The env-key lookup resolves the KMS contract, never its node namespace,
/// whatever the client's version (phala-cloud PR #494): the verified path
/// and the generated operation both send 2026-06-23, unless the call says
/// otherwise.
#[tokio::test]
async fn the_env_key_lookup_goes_out_at_2026_06_23() {
    let app = "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4";
    let key = json!({"public_key": "11".repeat(32), "signature": ""});
    let (server, client) = serve(&[(200, &key)]).await;
    client
        .app_env_encrypt_key("kms_8xNq2bLw", app)
        .skip_key_verification()
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent(&server),
        (
            "GET".into(),
            format!("/api/v1/kms/kms_8xNq2bLw/pubkey/{app}"),
            V.into()
        )
    );

    let (server, client) = serve(&[(200, &key)]).await;
    client
        .with_options(RequestOptions::new().api_version("2026-01-21"))
        .get_app_env_encrypt_pubkey()
        .kms_id("kms_8xNq2bLw")
        .app_id(app)
        .send()
        .await
        .unwrap();
    assert_eq!(sent(&server).2, "2026-01-21");
}
