//! The on-chain two-phase update: phase 1 answers (202, `no_change`, the
//! three shapes of a 465), phase 2 requests, prepare-only and commit, and
//! the phase-2 refusals 466–468.

use phala_cloud::onchain::{
    Applied, ConfirmUpdate, OnChainApprovalRequired, ProposeUpdate, UpdateOutcome, UpdateStarted,
    ALREADY_REGISTERED,
};
use phala_cloud::types::{UpdateCvmEnvsBody, UpdateCvmRequest};
use phala_cloud::{Error, RetryPolicy};
use serde_json::{json, Value};
use support::{client, fixture, json, parse_multipart, response, ScriptedServer};

const DETAIL_465: &str = "PATCH_api_v1_cvms_{cvm_id}__465-detail__js-patch-cvm-test.json";
const FLAT_465: &str = "PATCH_api_v1_cvms_{cvm_id}_envs__465-legacy-flat__py-test-465.json";
const PREPARE_ONLY: &str =
    "PATCH_api_v1_cvms_{cvm_id}__prepare-only-cli-json-output__docs-multisig.json";
const PENDING_APPROVAL: &str = "WEBHOOK_event_cvm.update.pending_approval__docs-multisig.json";
const ACCEPTED: &str = "PATCH_api_v1_cvms_{cvm_id}__202__py-action-matrix.json";
const NO_CHANGE: &str = "PATCH_api_v1_cvms_{cvm_id}__no_change__js-patch-cvm-test.json";
const COMMITTED: &str = "POST_api_v1_cvms_{cvm_id}_commit-update__docs-multisig-cli-output.json";
const COMPOSE_ACCEPTED: &str =
    "PATCH_api_v1_cvms_{cvm_id}_docker-compose__202__py-action-matrix.json";
const TX: &str = "0x5e1f00000000000000000000000000000000000000000000000000000000beef";

fn compose_update() -> UpdateCvmRequest {
    UpdateCvmRequest {
        docker_compose_file: Some("services:\n  web:\n    image: nginx:1.27\n".into()),
        ..Default::default()
    }
}

fn parsed(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn envs_update() -> UpdateCvmEnvsBody {
    UpdateCvmEnvsBody {
        encrypted_env: "abcd".into(),
        env_keys: Some(vec!["API_KEY".into()]),
        compose_hash: None,
        transaction_hash: None,
        extra: Default::default(),
    }
}

fn approval(outcome: UpdateOutcome) -> OnChainApprovalRequired {
    match outcome {
        UpdateOutcome::ApprovalRequired(approval) => *approval,
        other => panic!("expected an approval, got {other:?}"),
    }
}

fn started(applied: Applied) -> UpdateStarted {
    match applied {
        Applied::Started(started) => started,
        other => panic!("expected a started update, got {other:?}"),
    }
}

/// Phase 1, which must ask for approval, then phase 2 with [`TX`].
async fn both_phases<U: ProposeUpdate + ConfirmUpdate + Clone>(update: U) -> Applied {
    let approval = approval(update.clone().propose().await.unwrap());
    update.confirm(&approval, TX).await.unwrap()
}

#[tokio::test]
async fn a_465_under_detail_is_a_typed_approval() {
    let body = json!({ "detail": parsed(&fixture(DETAIL_465)) });
    let server = ScriptedServer::start(vec![response(
        465,
        &[
            ("content-type", "application/json"),
            ("x-request-id", "rid-465"),
        ],
        &body.to_string(),
    )])
    .await;
    let outcome = client(&server.url, RetryPolicy::none())
        .patch_cvm()
        .cvm_id("cvm_ykL5lbAn")
        .body(compose_update())
        .propose()
        .await
        .unwrap();
    let approval = approval(outcome);
    assert_eq!(approval.compose_hash, "0xabc123");
    assert_eq!(approval.app_id, "0xdef456");
    assert_eq!(approval.device_id.as_deref(), Some("0x789abc"));
    assert_eq!(approval.message, "Compose hash registration required");
    assert_eq!(
        approval.error_code.as_deref(),
        Some("HASH_REGISTRATION_REQUIRED")
    );
    assert_eq!(approval.request_id.as_deref(), Some("rid-465"));
    let kms = approval.kms_info.as_ref().unwrap();
    assert_eq!(
        (
            kms.id.as_deref(),
            kms.slug.as_deref(),
            kms.url.as_deref(),
            kms.version.as_deref()
        ),
        (
            Some("1"),
            Some("ethereum"),
            Some("https://kms.example.com"),
            Some("1.0.0")
        )
    );
    assert_eq!(kms.chain_id, Some(8453));
    assert_eq!(kms.kms_contract_address.as_deref(), Some("0xkms123"));
    assert_eq!(kms.gateway_app_id.as_deref(), Some("0xgateway123"));
    assert!(kms.other.is_empty());
    assert_eq!(approval.commit_token, None, "not prepare-only");
    assert_eq!(
        server.requests()[0].header("x-prepare-only"),
        None,
        "phase 1 is not prepare-only unless asked"
    );
}

#[tokio::test]
async fn a_465_at_the_top_level_of_an_upload() {
    let server = ScriptedServer::start(vec![json(465, &fixture(DETAIL_465))]).await;
    let outcome = client(&server.url, RetryPolicy::none())
        .update_docker_compose()
        .cvm_id("cvm_ykL5lbAn")
        .content("services: {}\n")
        .propose()
        .await
        .unwrap();
    let approval = approval(outcome);
    assert_eq!(
        (approval.compose_hash.as_str(), approval.app_id.as_str()),
        ("0xabc123", "0xdef456")
    );
}

#[tokio::test]
async fn a_legacy_flat_465_of_envs() {
    let server = ScriptedServer::start(vec![json(465, &fixture(FLAT_465))]).await;
    let outcome = client(&server.url, RetryPolicy::none())
        .update_cvm_envs()
        .cvm_id("cvm_ykL5lbAn")
        .body(envs_update())
        .propose()
        .await
        .unwrap();
    let approval = approval(outcome);
    assert_eq!(approval.compose_hash, "legacy_hash");
    assert_eq!(approval.app_id, "legacy_app");
    assert_eq!(approval.device_id.as_deref(), Some("legacy_device"));
    assert_eq!(
        approval.kms_info.and_then(|k| k.id).as_deref(),
        Some("legacy_kms")
    );
    assert_eq!(approval.message, "need hash");
    assert_eq!(approval.error_code, None);
}

/// A prepare-only 465 as the server sends it: the structured error with the
/// fields of the documented CLI output and of the pending-approval webhook.
fn prepare_only_465() -> (Value, Value) {
    let cli = parsed(&fixture(PREPARE_ONLY));
    let webhook = parsed(&fixture(PENDING_APPROVAL))["data"].clone();
    let mut details: Vec<Value> = [
        "compose_hash",
        "app_id",
        "device_id",
        "kms_info",
        "onchain_status",
        "commit_token",
        "commit_url",
        "api_commit_url",
    ]
    .iter()
    .map(|field| json!({"field": field, "value": cli[field]}))
    .collect();
    for field in ["onchain_action", "expires_at"] {
        details.push(json!({"field": field, "value": webhook[field]}));
    }
    details.push(json!({"field": "chain_id", "value": cli["chain_id"]}));
    let body = json!({"detail": {
        "error_code": "ERR-01-005",
        "message": "Compose hash registration required on-chain",
        "request_id": "req-prepare",
        "details": details,
    }});
    (body, cli)
}

#[tokio::test]
async fn prepare_only_then_commit_carries_every_field() {
    let (body, cli) = prepare_only_465();
    let webhook = parsed(&fixture(PENDING_APPROVAL))["data"].clone();
    let server = ScriptedServer::start(vec![
        json(465, &body.to_string()),
        json(202, &fixture(COMMITTED)),
    ])
    .await;
    let client = client(&server.url, RetryPolicy::none());
    let outcome = client
        .patch_cvm()
        .cvm_id("cvm_ykL5lbAn")
        .body(compose_update())
        .prepare_only()
        .propose()
        .await
        .unwrap();
    let approval = approval(outcome);
    let text = |v: &Value| v.as_str().map(str::to_string);
    assert_eq!(
        Some(approval.compose_hash.clone()),
        text(&cli["compose_hash"])
    );
    assert_eq!(Some(approval.app_id.clone()), text(&cli["app_id"]));
    assert_eq!(approval.device_id, text(&cli["device_id"]));
    assert_eq!(approval.commit_token, text(&cli["commit_token"]));
    assert_eq!(approval.commit_url, text(&cli["commit_url"]));
    assert_eq!(approval.api_commit_url, text(&cli["api_commit_url"]));
    let kms = approval.kms_info.clone().unwrap();
    assert_eq!(kms.chain_id, Some(8453));
    assert_eq!(
        kms.kms_contract_address,
        text(&cli["kms_info"]["kms_contract_address"])
    );
    let status = approval.onchain_status.clone().unwrap();
    assert_eq!(
        (
            status.compose_hash_allowed,
            status.device_id_allowed,
            status.is_allowed
        ),
        (Some(false), Some(true), Some(false))
    );
    let action = approval.onchain_action.clone().unwrap();
    assert_eq!(action.to, text(&webhook["onchain_action"]["to"]));
    assert_eq!(action.method.as_deref(), Some("addComposeHash(bytes32)"));
    assert_eq!(
        action.calldata,
        text(&webhook["onchain_action"]["calldata"])
    );
    assert_eq!(approval.expires_at, text(&webhook["expires_at"]));
    assert_eq!(approval.error_code.as_deref(), Some("ERR-01-005"));
    assert_eq!(approval.request_id.as_deref(), Some("req-prepare"));
    assert_eq!(
        approval.other.get("chain_id"),
        Some(&json!(8453)),
        "a detail without a field of its own is kept"
    );

    // The approval survives being stored while the signers work.
    let stored = serde_json::to_string(&approval).unwrap();
    let restored: OnChainApprovalRequired = serde_json::from_str(&stored).unwrap();
    assert_eq!(restored, approval);

    let started = started(
        client
            .commit_cvm_update()
            .cvm_id("cvm_ykL5lbAn")
            .confirm(&restored, TX)
            .await
            .unwrap(),
    );
    assert_eq!(started.correlation_id.as_deref(), Some("corr_01HXYZ..."));
    assert_eq!(started.status.as_deref(), Some("pending"));
    assert_eq!(
        started.body["vm_uuid"],
        "01234567-89ab-cdef-0123-456789abcdef"
    );

    let requests = server.requests();
    assert_eq!(requests[0].header("x-prepare-only"), Some("true"));
    assert_eq!(
        (requests[1].method.as_str(), requests[1].path.as_str()),
        ("POST", "/api/v1/cvms/cvm_ykL5lbAn/commit-update")
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&requests[1].body).unwrap(),
        json!({
            "token": cli["commit_token"],
            "compose_hash": cli["compose_hash"],
            "transaction_hash": TX,
        })
    );
}

#[tokio::test]
async fn phase_2_of_a_patch_repeats_it_with_both_headers() {
    let server = ScriptedServer::start(vec![
        json(465, &fixture(DETAIL_465)),
        json(202, &fixture(ACCEPTED)),
    ])
    .await;
    let client = client(&server.url, RetryPolicy::none());
    let update = client
        .patch_cvm()
        .cvm_id("cvm_ykL5lbAn")
        .body(compose_update());
    let started = started(both_phases(update).await);
    assert_eq!(started.correlation_id.as_deref(), Some("corr-123"));

    let requests = server.requests();
    assert_eq!(requests[1].method, "PATCH");
    assert_eq!(requests[1].header("x-compose-hash"), Some("0xabc123"));
    assert_eq!(requests[1].header("x-transaction-hash"), Some(TX));
    assert_eq!(requests[1].body, requests[0].body, "the same update");
    assert_eq!(requests[0].header("x-compose-hash"), None);
}

#[tokio::test]
async fn phase_2_of_an_upload_sends_the_file_again_with_both_headers() {
    let server = ScriptedServer::start(vec![
        json(465, &fixture(DETAIL_465)),
        json(202, &fixture(COMPOSE_ACCEPTED)),
    ])
    .await;
    let client = client(&server.url, RetryPolicy::none());
    let yaml = "services:\n  web:\n    image: nginx:1.27\n";
    let update = client
        .update_docker_compose()
        .cvm_id("cvm_ykL5lbAn")
        .content(yaml);
    let started = started(both_phases(update).await);
    assert_eq!(started.status.as_deref(), Some("in_progress"));
    let request = &server.requests()[1];
    assert_eq!(request.header("x-compose-hash"), Some("0xabc123"));
    assert_eq!(request.header("x-transaction-hash"), Some(TX));
    let parts = parse_multipart(request.header("content-type").unwrap(), &request.body);
    assert_eq!(parts[0].body, yaml.as_bytes());
}

#[tokio::test]
async fn phase_2_of_envs_puts_the_hashes_in_the_body() {
    let server = ScriptedServer::start(vec![
        json(465, &fixture(FLAT_465)),
        json(
            202,
            r#"{"status": "in_progress", "correlation_id": "c-env", "allowed_envs_changed": true}"#,
        ),
    ])
    .await;
    let client = client(&server.url, RetryPolicy::none());
    let update = client
        .update_cvm_envs()
        .cvm_id("cvm_ykL5lbAn")
        .body(envs_update());
    let started = started(both_phases(update).await);
    assert_eq!(started.allowed_envs_changed, Some(true));
    let request = &server.requests()[1];
    assert_eq!(
        serde_json::from_slice::<Value>(&request.body).unwrap(),
        json!({
            "encrypted_env": "abcd",
            "env_keys": ["API_KEY"],
            "compose_hash": "legacy_hash",
            "transaction_hash": TX,
        })
    );
    assert_eq!(request.header("x-compose-hash"), None);
}

#[tokio::test]
async fn a_202_and_no_change_are_applied() {
    let server = ScriptedServer::start(vec![
        json(202, &fixture(ACCEPTED)),
        json(202, &fixture(NO_CHANGE)),
    ])
    .await;
    let client = client(&server.url, RetryPolicy::none());
    let patch = || {
        client
            .patch_cvm()
            .cvm_id("cvm_ykL5lbAn")
            .body(UpdateCvmRequest {
                vcpu: Some(4),
                ..Default::default()
            })
    };
    let UpdateOutcome::Applied(Applied::Started(started)) = patch().propose().await.unwrap() else {
        panic!("started")
    };
    assert_eq!(started.correlation_id.as_deref(), Some("corr-123"));
    assert_eq!(
        patch().propose().await.unwrap(),
        UpdateOutcome::Applied(Applied::NoChange {
            message: Some("Compose configuration unchanged".into())
        })
    );
}

#[tokio::test]
async fn phase_2_refusals_are_distinct() {
    let refusal = |status: u16, code: &str| {
        json(
            status,
            &json!({"detail": {"error_code": code, "message": format!("refused {status}")}})
                .to_string(),
        )
    };
    let server = ScriptedServer::start(vec![
        refusal(466, "ERR-01-006"),
        refusal(467, "ERR-01-007"),
        refusal(468, "ERR-01-008"),
    ])
    .await;
    let client = client(&server.url, RetryPolicy::none());
    let approval: OnChainApprovalRequired = serde_json::from_value(json!({
        "compose_hash": "0xabc123", "app_id": "0xdef456", "message": "m",
        "commit_token": "tok"
    }))
    .unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let err: Error = client
            .commit_cvm_update()
            .cvm_id("cvm_ykL5lbAn")
            .confirm(&approval, ALREADY_REGISTERED)
            .await
            .unwrap_err();
        seen.push((
            err.status().unwrap().as_u16(),
            err.error_code().unwrap().to_string(),
            [
                err.is_compose_precondition(),
                err.is_compose_hash_invalid(),
                err.is_transaction_unverified(),
                err.is_compose_hash_not_allowed(),
            ],
        ));
    }
    assert_eq!(
        seen,
        [
            (466, "ERR-01-006".into(), [false, true, false, false]),
            (467, "ERR-01-007".into(), [false, false, true, false]),
            (468, "ERR-01-008".into(), [false, false, false, true]),
        ]
    );
    let body: Value = serde_json::from_slice(&server.requests()[0].body).unwrap();
    assert_eq!(body["transaction_hash"], "already-registered");
}

#[tokio::test]
async fn a_commit_needs_a_prepare_only_approval() {
    let server = ScriptedServer::start(vec![]).await;
    let approval: OnChainApprovalRequired = serde_json::from_value(
        json!({"compose_hash": "0xabc123", "app_id": "0xdef456", "message": "m"}),
    )
    .unwrap();
    let err = client(&server.url, RetryPolicy::none())
        .commit_cvm_update()
        .cvm_id("cvm_ykL5lbAn")
        .confirm(&approval, TX)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid request: the approval has no commit token: its phase 1 was not prepare-only"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_465_without_a_compose_hash_stays_an_error() {
    let server = ScriptedServer::start(vec![json(
        465,
        r#"{"detail": "Compose hash registration required"}"#,
    )])
    .await;
    let err = client(&server.url, RetryPolicy::none())
        .patch_cvm()
        .cvm_id("cvm_ykL5lbAn")
        .body(compose_update())
        .propose()
        .await
        .unwrap_err();
    assert!(err.is_compose_precondition());
    assert_eq!(OnChainApprovalRequired::from_error(&err), None);
}
