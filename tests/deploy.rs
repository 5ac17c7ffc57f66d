//! `client.deploy(…)`, `update_env_vars` and `update_compose` against a
//! local server that records every request: the bodies carry exactly what
//! was set, the env vars decrypt with the test KMS's app key, the key's
//! signature is checked before anything is encrypted, an on-chain KMS
//! stops with the approval, a boot error ends the wait at once; and a
//! user's own test of deploy code, on the mock helpers.

use std::time::{Duration, Instant};

use phala_cloud::deploy::{DeployError, DeployProposal, Proposal};
use phala_cloud::env_encryption::KeyVerification;
use phala_cloud::ids::ComposeHash;
use phala_cloud::kms_trust::{AnchorKind, KmsTrust};
use phala_cloud::mock::deploy::{self as flows, TestKms, APP_ID, BASE_KMS, PHALA_KMS};
use phala_cloud::onchain::Applied;
use phala_cloud::types::{self, CvmLifecycleStatus, KmsType};
use phala_cloud::{Error, RetryPolicy};
use serde_json::{json, Value};
use support::{client, json, response, Recorded, ScriptedServer};

const COMPOSE: &str = "services:\n  web:\n    image: nginx:1.27\n    ports: [\"80:80\"]\n";

/// The user-style test the crate docs promise: deploy code tested on the
/// mock helpers in a few lines (this test is 17, attribute and braces
/// included).
#[tokio::test]
async fn a_users_deploy_code_is_tested_in_a_few_lines() {
    use phala_cloud::mock::{self, deploy::MockDeployExt, MockServer};
    let server = MockServer::start_async().await;
    let kms = TestKms::new();
    let mocks = server.mock_deploy(&kms);
    let deployment = mock::client(&server)
        .deploy(COMPOSE)
        .name("my-web-app")
        .env("API_TOKEN", "s3cr3t")
        .wait_until_running(Instant::now() + Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert_eq!(
        deployment.state.unwrap().status,
        CvmLifecycleStatus::Running
    );
    mocks.commit.assert_async().await;
}

fn body(request: &Recorded) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

fn ok(value: &impl serde::Serialize) -> String {
    json(200, &serde_json::to_string(value).unwrap())
}

fn sse(states: &[(&str, Option<&str>)], complete: bool) -> String {
    let mut body = String::new();
    for (status, boot_error) in states {
        let state = json!({"status": status, "name": "my-web-app", "boot_error": boot_error});
        body.push_str(&format!("event: state\ndata: {state}\n\n"));
    }
    if complete {
        body.push_str("event: complete\ndata: {\"status\":\"running\",\"target\":\"running\"}\n\n");
    }
    response(200, &[("content-type", "text/event-stream")], &body)
}

fn running_cvm() -> types::CvmInfoDetail {
    flows::running_cvm(&flows::committed_vm("my-web-app", APP_ID))
}

/// The CVM running `hash`.
fn running_with(hash: &ComposeHash) -> types::CvmInfoDetail {
    let mut cvm = running_cvm();
    cvm.compose_hash = Some(hash.clone());
    cvm
}

/// The complete app compose a deploy of [`COMPOSE`] named `name` sends:
/// the spec's defaults filled in, `allowed_envs` the keys given.
fn sent_compose(name: &str, keys: &[&str]) -> Value {
    json!({
        "name": name, "docker_compose_file": COMPOSE, "allowed_envs": keys,
        "manifest_version": 2, "runner": "docker-compose", "features": ["kms", "tproxy-net"],
        "kms_enabled": true, "gateway_enabled": true, "tproxy_enabled": true,
        "public_logs": true, "public_sysinfo": true, "public_tcbinfo": true,
        "local_key_provider_enabled": false, "no_instance_id": false, "secure_time": false,
        "storage_fs": "zfs",
    })
}

/// The hash of [`sent_compose`].
fn sent_hash(name: &str, keys: &[&str]) -> ComposeHash {
    ComposeHash::of_json(&sent_compose(name, keys))
}

/// The provision answer on Phala's KMS, with the hash of what was sent.
fn provisioned(kms: &TestKms, name: &str, keys: &[&str]) -> types::ProvisionCvmResponse {
    let mut answer = flows::provision(kms);
    answer.compose_hash = sent_hash(name, keys);
    answer
}

/// The provision answer on the Base KMS, with the hash of what was sent.
fn provisioned_on_chain(name: &str, keys: &[&str]) -> types::ProvisionCvmResponse {
    let mut answer = flows::provision_on_chain();
    answer.compose_hash = sent_hash(name, keys);
    answer
}

fn uuid_path(tail: &str) -> String {
    format!("/api/v1/cvms/{}{tail}", flows::VM_UUID.replace('-', ""))
}

/// A dotenv file with two of the deploy's variables.
fn dotenv_file() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("phala-deploy-test-{}.env", std::process::id()));
    std::fs::write(
        &path,
        "# secrets\nDATABASE_URL=\"postgres://u:p@db/app\"\nexport GREETING='hé llo'\n",
    )
    .unwrap();
    path
}

#[tokio::test]
async fn an_off_chain_deploy_sends_exactly_what_was_set_and_verifies_the_key() {
    let kms = TestKms::new();
    let app: phala_cloud::ids::AppId = APP_ID.parse().unwrap();
    let keys = ["API_TOKEN", "DATABASE_URL", "GREETING"];
    let hash = sent_hash("my-web-app", &keys);
    let server = ScriptedServer::start(vec![
        ok(&provisioned(&kms, "my-web-app", &keys)),
        ok(&kms.pubkey_answer(&app)),
        ok(&kms.kms_answer(PHALA_KMS)),
        ok(&flows::committed_vm("my-web-app", APP_ID)),
        sse(&[("starting", None), ("running", None)], true),
        ok(&running_with(&hash)),
    ])
    .await;
    let dotenv = dotenv_file();
    let deployment = client(&server.url, RetryPolicy::none())
        .deploy(COMPOSE)
        .name("my-web-app")
        .node(11)
        .region("US-WEST-1")
        .env("API_TOKEN", "s3cr3t")
        .env_file(&dotenv)
        .wait_until_running(Instant::now() + Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    std::fs::remove_file(dotenv).unwrap();

    let requests = server.requests();
    let lines: Vec<_> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.split('?').next().unwrap()))
        .collect();
    assert_eq!(
        lines,
        [
            ("POST", "/api/v1/cvms/provision"),
            ("GET", &*format!("/api/v1/kms/{PHALA_KMS}/pubkey/{APP_ID}")),
            ("GET", &*format!("/api/v1/kms/{PHALA_KMS}/info")),
            ("POST", "/api/v1/cvms"),
            ("GET", &*uuid_path("/state")),
            ("GET", &*uuid_path("")),
        ]
    );
    assert_eq!(
        body(&requests[0]),
        json!({
            "name": "my-web-app",
            "compose_file": sent_compose("my-web-app", &keys),
            "instance_type": "tdx.small",
            "kms": "phala",
            "teepod_id": 11,
            "region": "US-WEST-1",
        })
    );
    let commit = body(&requests[3]);
    let fields: Vec<&str> = commit
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        ["app_id", "compose_hash", "encrypted_env", "env_keys"]
    );
    assert_eq!(
        (commit["app_id"].as_str(), commit["compose_hash"].as_str()),
        (Some(APP_ID), Some(hash.as_str()))
    );
    assert_eq!(commit["env_keys"], json!(keys));
    let vars = kms
        .decrypt(commit["encrypted_env"].as_str().unwrap())
        .unwrap();
    let expected = [
        ("API_TOKEN", "s3cr3t"),
        ("DATABASE_URL", "postgres://u:p@db/app"),
        ("GREETING", "hé llo"),
    ];
    assert_eq!(vars, expected.map(|(k, v)| (k.to_string(), v.to_string())));
    assert_eq!(requests[4].param("target").as_deref(), Some("running"));

    assert_eq!(deployment.cvm_id.as_str(), flows::VM_UUID.replace('-', ""));
    assert_eq!(deployment.app_id.as_str(), APP_ID);
    assert_eq!(deployment.compose_hash, hash);
    assert_eq!(
        deployment.endpoints,
        [format!("https://{APP_ID}-80.dstack-prod6.phala.network")]
    );
    assert_eq!(
        deployment.state.unwrap().status,
        CvmLifecycleStatus::Running
    );
    assert_eq!(
        deployment.key_verification,
        Some(KeyVerification::Verified {
            signer: kms.root_key(),
            anchor: AnchorKind::Api
        })
    );
}

#[tokio::test]
async fn env_vars_the_compose_does_not_allow_are_refused_before_anything_is_sent() {
    let server = ScriptedServer::start(vec![]).await;
    let compose = types::AppCompose::builder()
        .name("my-web-app")
        .docker_compose_file(COMPOSE)
        .allowed_envs(vec!["API_TOKEN".to_string()]);
    let err = client(&server.url, RetryPolicy::none())
        .deploy(types::AppCompose::try_from(compose).unwrap())
        .env("API_TOKEN", "s3cr3t")
        .env("DEBUG", "1")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err.deploy_error(), Some(DeployError::EnvNotAllowed { keys, allowed }) if keys == &["DEBUG"] && allowed == &["API_TOKEN"]),
        "{err}"
    );
    let err = client(&server.url, RetryPolicy::none())
        .deploy(COMPOSE)
        .name("my-web-app")
        .env_file("/nonexistent/.env")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err.deploy_error(), Some(DeployError::EnvFile { .. })),
        "{err}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_key_another_kms_signed_stops_the_deploy_before_the_commit() {
    let kms = TestKms::new();
    let app: phala_cloud::ids::AppId = APP_ID.parse().unwrap();
    let server = ScriptedServer::start(vec![
        ok(&provisioned(&kms, "my-web-app", &["API_TOKEN"])),
        ok(&kms.pubkey_answer(&app)),
    ])
    .await;
    let other_root = "0x0217610d74cbd39b6143842c6d8bc310d79da1d82cc9d17f8876376221eda0c38f";
    let err = client(&server.url, RetryPolicy::none())
        .deploy(COMPOSE)
        .name("my-web-app")
        .env("API_TOKEN", "s3cr3t")
        .trust(KmsTrust::pinned(other_root.parse().unwrap()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_key_verification(), "{err}");
    assert_eq!(server.requests().len(), 2, "nothing committed");
}

#[tokio::test]
async fn a_boot_error_ends_the_wait_at_once_with_the_last_state() {
    let kms = TestKms::new();
    let server = ScriptedServer::start(vec![
        ok(&provisioned(&kms, "my-web-app", &[])),
        ok(&flows::committed_vm("my-web-app", APP_ID)),
        sse(
            &[("starting", None), ("starting", Some("image pull failed"))],
            false,
        ),
    ])
    .await;
    let started = Instant::now();
    let err = client(&server.url, RetryPolicy::none())
        .deploy(COMPOSE)
        .name("my-web-app")
        .wait_until_running(Instant::now() + Duration::from_secs(600))
        .send()
        .await
        .unwrap_err();
    let failure = err.cvm_failure().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(
        failure.state.boot_error.as_deref(),
        Some("image pull failed")
    );
    assert_eq!(failure.target, "running");
    assert!(err.to_string().contains("image pull failed"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "not waited out, not reconnected"
    );
    assert_eq!(server.requests().len(), 3);

    // The same for a plain wait; only a real deadline is `None`.
    let server = ScriptedServer::start(vec![sse(&[("exited", None)], false)]).await;
    let err = client(&server.url, RetryPolicy::none())
        .wait_for_cvm_state(
            flows::VM_UUID,
            "running",
            Instant::now() + Duration::from_secs(600),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::CvmFailed(ref f) if f.state.status == CvmLifecycleStatus::Exited),
        "{err}"
    );
}

#[tokio::test]
async fn an_on_chain_deploy_returns_the_approval_then_commits_with_the_contract() {
    let kms = TestKms::new();
    let app = "0x5f2e8c1a7b3d4e9fa6c21d8b4e7f3a90c0ffee01";
    let app_id: phala_cloud::ids::AppId = app.parse().unwrap();
    let hash = sent_hash("my-agent", &["API_TOKEN"]);
    let server = ScriptedServer::start(vec![
        ok(&provisioned_on_chain("my-agent", &["API_TOKEN"])),
        ok(&kms.pubkey_answer(&app_id)),
        ok(&kms.kms_answer(BASE_KMS)),
        ok(&flows::committed_vm("my-agent", app_id.as_str())),
    ])
    .await;
    let client = client(&server.url, RetryPolicy::none());
    let proposal = client
        .deploy(COMPOSE)
        .name("my-agent")
        .kms(KmsType::Base)
        .app_id(app)
        .deployer("0x1111111111111111111111111111111111111111")
        .env("API_TOKEN", "s3cr3t")
        .propose()
        .await
        .unwrap();
    let DeployProposal::ApprovalRequired(pending) = proposal else {
        panic!("an approval")
    };
    let approval = pending.approval();
    assert_eq!(approval.compose_hash, hash.as_str());
    assert_eq!(approval.app_id, app);
    assert_eq!(approval.device_id.as_deref(), Some(flows::DEVICE_ID));
    assert_eq!(
        approval.kms_info.as_ref().and_then(|k| k.chain_id),
        Some(8453)
    );
    assert_eq!(
        server.requests().len(),
        1,
        "nothing committed before the approval"
    );

    let deployment = pending.commit().await.unwrap();
    let requests = server.requests();
    assert_eq!(
        requests[1].path,
        format!("/api/v1/kms/{BASE_KMS}/pubkey/{}", app_id.as_str())
    );
    assert_eq!(body(&requests[0])["kms"], "base");
    let commit = body(&requests[3]);
    assert_eq!(commit["app_id"], app_id.as_str());
    assert_eq!(commit["contract_address"], app);
    assert_eq!(commit["kms_id"], "base-prod");
    assert_eq!(
        commit["deployer_address"],
        "0x1111111111111111111111111111111111111111"
    );
    assert_eq!(
        kms.decrypt(commit["encrypted_env"].as_str().unwrap())
            .unwrap()[0]
            .1,
        "s3cr3t"
    );
    assert_eq!(deployment.app_id, app_id);
    assert_eq!(deployment.state, None, "not waited for");

    // `send()` cannot finish an on-chain deploy: it says what to register.
    let hash = sent_hash("my-agent", &[]);
    let server = ScriptedServer::start(vec![ok(&provisioned_on_chain("my-agent", &[]))]).await;
    let err = support::client(&server.url, RetryPolicy::none())
        .deploy(COMPOSE)
        .name("my-agent")
        .kms(KmsType::Base)
        .app_id(app)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err.deploy_error(), Some(DeployError::ApprovalRequired(a)) if a.compose_hash == hash.as_str()),
        "{err}"
    );
}

/// The CVM detail of an existing Phala-KMS CVM of [`APP_ID`].
fn phala_cvm() -> String {
    let mut cvm = running_cvm();
    cvm.app_id = Some(APP_ID.parse().unwrap());
    cvm.kms_info = None;
    cvm.kms_type = Some(KmsType::Phala);
    ok(&cvm)
}

fn compose_allowing(keys: &[&str]) -> String {
    ok(&json!({"name": "web-prod", "docker_compose_file": COMPOSE, "allowed_envs": keys}))
}

#[tokio::test]
async fn env_vars_of_an_existing_cvm_are_checked_encrypted_to_its_verified_key_and_sent() {
    let kms = TestKms::new();
    let app: phala_cloud::ids::AppId = APP_ID.parse().unwrap();
    let server = ScriptedServer::start(vec![
        compose_allowing(&["API_TOKEN", "DEBUG"]),
        phala_cvm(),
        ok(&kms.pubkey_answer(&app)),
        ok(&kms.kms_answer("phala")),
        json(202, r#"{"status": "in_progress", "correlation_id": "c-7"}"#),
    ])
    .await;
    let applied = client(&server.url, RetryPolicy::none())
        .update_env_vars("cvm_ykL5lbAn", [("API_TOKEN", "n3w")])
        .send()
        .await
        .unwrap();
    assert!(
        matches!(applied, Applied::Started(ref s) if s.correlation_id.as_deref() == Some("c-7"))
    );
    let requests = server.requests();
    assert_eq!(
        requests[2].path,
        format!("/api/v1/kms/phala/pubkey/{APP_ID}")
    );
    assert_eq!(
        (requests[4].method.as_str(), requests[4].path.as_str()),
        ("PATCH", "/api/v1/cvms/cvm_ykL5lbAn/envs")
    );
    let sent = body(&requests[4]);
    assert_eq!(
        sent.as_object().unwrap().len(),
        1,
        "only encrypted_env: allowed_envs unchanged"
    );
    assert_eq!(
        kms.decrypt(sent["encrypted_env"].as_str().unwrap())
            .unwrap(),
        [("API_TOKEN".to_string(), "n3w".to_string())]
    );

    // A key the compose does not allow: refused after the one read.
    let server = ScriptedServer::start(vec![compose_allowing(&["API_TOKEN"])]).await;
    let err = client(&server.url, RetryPolicy::none())
        .update_env_vars("cvm_ykL5lbAn", [("SECRET", "x")])
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err.deploy_error(), Some(DeployError::EnvNotAllowed { .. })),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

fn assert_hash_mismatch(err: &Error) {
    assert!(
        matches!(
            err.deploy_error(),
            Some(DeployError::ComposeHashMismatch { .. })
        ),
        "{err}"
    );
}

const NEW_COMPOSE: &str = "services:\n  web:\n    image: nginx:1.28\n";

/// The manifest a compose update of `web-prod` (allowing `keys`) to
/// [`NEW_COMPOSE`] provisions: the CVM's compose with the new file, the
/// spec's defaults filled in.
fn updated_compose(keys: &[&str]) -> Value {
    let mut compose = sent_compose("web-prod", keys);
    compose["docker_compose_file"] = json!(NEW_COMPOSE);
    compose
}

#[tokio::test]
async fn a_compose_update_is_provisioned_checked_then_committed_with_the_same_manifest() {
    let kms = TestKms::new();
    let app: phala_cloud::ids::AppId = APP_ID.parse().unwrap();
    let keys = ["API_TOKEN", "DEBUG"];
    let manifest = updated_compose(&keys);
    let hash = ComposeHash::of_json(&manifest);
    let server = ScriptedServer::start(vec![
        compose_allowing(&keys),
        ok(&flows::compose_provisioned(&hash, false)),
        phala_cvm(),
        ok(&kms.pubkey_answer(&app)),
        ok(&kms.kms_answer("phala")),
        json(202, r#"{"status": "in_progress", "correlation_id": "c-5"}"#),
    ])
    .await;
    let applied = client(&server.url, RetryPolicy::none())
        .update_compose("cvm_ykL5lbAn", NEW_COMPOSE)
        .env("API_TOKEN", "n3w")
        .send()
        .await
        .unwrap();
    assert!(
        matches!(applied, Applied::Started(ref s) if s.correlation_id.as_deref() == Some("c-5"))
    );
    let requests = server.requests();
    let lines: Vec<_> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        lines[1],
        ("POST", "/api/v1/cvms/cvm_ykL5lbAn/compose_file/provision")
    );
    assert_eq!(
        lines[5],
        ("PATCH", "/api/v1/cvms/cvm_ykL5lbAn/compose_file")
    );
    let provision = body(&requests[1]);
    let commit = body(&requests[5]);
    // The provision carries the manifest and `update_env_vars`; the commit
    // the same env keys and the same `update_env_vars`.
    let mut sent = provision.clone();
    let update_env_vars = sent.as_object_mut().unwrap().remove("update_env_vars");
    assert_eq!(sent, manifest);
    assert_eq!(update_env_vars, Some(json!(true)));
    assert_eq!(commit["update_env_vars"], provision["update_env_vars"]);
    assert_eq!(commit["env_keys"], provision["allowed_envs"]);
    assert_eq!(commit["compose_hash"], hash.as_str());
    assert_eq!(
        kms.decrypt(commit["encrypted_env"].as_str().unwrap())
            .unwrap(),
        [("API_TOKEN".to_string(), "n3w".to_string())]
    );
}

#[tokio::test]
async fn a_compose_update_whose_provision_answers_another_hash_is_not_committed() {
    let other = ComposeHash::from([0x5d; 32]);
    let server = ScriptedServer::start(vec![
        compose_allowing(&[]),
        ok(&flows::compose_provisioned(&other, true)),
    ])
    .await;
    let err = client(&server.url, RetryPolicy::none())
        .update_compose("cvm_ykL5lbAn", NEW_COMPOSE)
        .propose()
        .await
        .unwrap_err();
    let Some(DeployError::ComposeHashMismatch {
        local,
        server: answered,
    }) = err.deploy_error()
    else {
        panic!("{err}")
    };
    assert_eq!(local, &ComposeHash::of_json(&updated_compose(&[])));
    assert_eq!(answered, &other);
    assert_eq!(
        server.requests().len(),
        2,
        "no commit, no approval handed out"
    );
}

#[tokio::test]
async fn new_env_keys_go_to_the_provision_and_the_commit_alike() {
    let kms = TestKms::new();
    let app: phala_cloud::ids::AppId = APP_ID.parse().unwrap();
    let mut manifest = sent_compose("web-prod", &["API_TOKEN", "NEW_KEY"]);
    manifest["docker_compose_file"] = json!(COMPOSE);
    let hash = ComposeHash::of_json(&manifest);
    let server = ScriptedServer::start(vec![
        compose_allowing(&["API_TOKEN"]),
        ok(&flows::compose_provisioned(&hash, false)),
        phala_cvm(),
        ok(&kms.pubkey_answer(&app)),
        ok(&kms.kms_answer("phala")),
        json(202, r#"{"status": "in_progress", "correlation_id": "c-6"}"#),
    ])
    .await;
    client(&server.url, RetryPolicy::none())
        .update_env_vars("cvm_ykL5lbAn", [("NEW_KEY", "v")])
        .allow_new_keys()
        .send()
        .await
        .unwrap();
    let requests = server.requests();
    let (provision, commit) = (body(&requests[1]), body(&requests[5]));
    assert_eq!(provision["allowed_envs"], json!(["API_TOKEN", "NEW_KEY"]));
    assert_eq!(commit["env_keys"], provision["allowed_envs"]);
    assert_eq!(
        (&provision["update_env_vars"], &commit["update_env_vars"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(commit["compose_hash"], hash.as_str());
}

#[tokio::test]
async fn a_compose_update_on_chain_is_proposed_then_confirmed() {
    let hash = ComposeHash::of_json(&updated_compose(&[]));
    let server = ScriptedServer::start(vec![
        compose_allowing(&[]),
        ok(&flows::compose_provisioned(&hash, true)),
        json(202, r#"{"status": "in_progress", "correlation_id": "c-8"}"#),
    ])
    .await;
    let client = client(&server.url, RetryPolicy::none());
    let proposal = client
        .update_compose("cvm_ykL5lbAn", NEW_COMPOSE)
        .propose()
        .await
        .unwrap();
    let Proposal::ApprovalRequired(pending) = proposal else {
        panic!("an approval")
    };
    assert_eq!(pending.approval().app_id, format!("0x{APP_ID}"));
    assert_eq!(pending.approval().compose_hash, hash.as_str());
    assert_eq!(
        server.requests().len(),
        2,
        "nothing committed before the approval"
    );
    pending.confirm("0xabc").await.unwrap();
    let requests = server.requests();
    assert_eq!(requests[2].path, "/api/v1/cvms/cvm_ykL5lbAn/compose_file");
    assert_eq!(body(&requests[2])["compose_hash"], hash.as_str());
    assert_eq!(body(&requests[2])["update_env_vars"], false);

    // Prepare-only (a multisig): the 465's hash is checked against the
    // manifest, and phase 2 is the commit, by its token.
    let approval = flows::approval_required(hash.as_str(), APP_ID, Some("tok-1"));
    let server = ScriptedServer::start(vec![
        compose_allowing(&[]),
        json(465, &serde_json::to_string(&approval).unwrap()),
        json(202, r#"{"status": "pending", "correlation_id": "c-9"}"#),
    ])
    .await;
    let client = support::client(&server.url, RetryPolicy::none());
    let update = client
        .update_compose("cvm_ykL5lbAn", NEW_COMPOSE)
        .prepare_only();
    let Proposal::ApprovalRequired(pending) = update.propose().await.unwrap() else {
        panic!("an approval")
    };
    pending.confirm("already-registered").await.unwrap();
    let requests = server.requests();
    assert_eq!(requests[1].header("x-prepare-only"), Some("true"));
    assert_eq!(
        body(&requests[1]),
        json!({"docker_compose_file": NEW_COMPOSE})
    );
    assert_eq!(requests[2].path, "/api/v1/cvms/cvm_ykL5lbAn/commit-update");
    assert_eq!(body(&requests[2])["token"], "tok-1");

    // A 465 with another hash: no approval is handed out.
    let approval = flows::approval_required(flows::COMPOSE_HASH, APP_ID, Some("tok-2"));
    let server = ScriptedServer::start(vec![
        compose_allowing(&[]),
        json(465, &serde_json::to_string(&approval).unwrap()),
    ])
    .await;
    let err = support::client(&server.url, RetryPolicy::none())
        .update_compose("cvm_ykL5lbAn", NEW_COMPOSE)
        .prepare_only()
        .propose()
        .await
        .unwrap_err();
    assert_hash_mismatch(&err);
}

#[tokio::test]
async fn the_mocked_state_stream_reports_a_boot_error() {
    use phala_cloud::mock::{self, deploy::MockDeployExt, MockServer};
    let server = MockServer::start_async().await;
    let states = [
        flows::state("starting"),
        flows::boot_error("starting", "image pull failed"),
    ];
    let stream = server.cvm_state_stream(flows::VM_UUID, "running", &states);
    let deadline = Instant::now() + Duration::from_secs(600);
    let err = mock::client(&server)
        .wait_for_cvm_state(flows::VM_UUID, "running", deadline)
        .await
        .unwrap_err();
    assert_eq!(
        err.cvm_failure().map(|f| f.state.clone()),
        Some(states[1].clone())
    );
    stream.assert_async().await;
}

#[tokio::test]
async fn a_provision_answer_with_another_hash_stops_the_deploy_before_anything_is_committed() {
    let kms = TestKms::new();
    let local = sent_hash("my-web-app", &["API_TOKEN"]);
    // The server answers a hash that is not the compose's: off chain, no
    // key is fetched and nothing committed.
    let server = ScriptedServer::start(vec![ok(&flows::provision(&kms))]).await;
    let err = client(&server.url, RetryPolicy::none())
        .deploy(COMPOSE)
        .name("my-web-app")
        .env("API_TOKEN", "s3cr3t")
        .send()
        .await
        .unwrap_err();
    let Some(DeployError::ComposeHashMismatch {
        local: l,
        server: s,
    }) = err.deploy_error()
    else {
        panic!("{err}")
    };
    assert_eq!((l, s.as_str()), (&local, flows::COMPOSE_HASH));
    assert!(err.to_string().contains(flows::COMPOSE_HASH), "{err}");
    assert!(err.to_string().contains(local.as_str()), "{err}");
    assert_eq!(server.requests().len(), 1, "only the provision was sent");

    // On chain: no approval is handed out, so nothing can be registered.
    let server = ScriptedServer::start(vec![ok(&flows::provision_on_chain())]).await;
    let err = client(&server.url, RetryPolicy::none())
        .deploy(COMPOSE)
        .name("my-agent")
        .kms(KmsType::Base)
        .app_id("0x5f2e8c1a7b3d4e9fa6c21d8b4e7f3a90c0ffee01")
        .propose()
        .await
        .unwrap_err();
    assert_hash_mismatch(&err);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn the_hash_check_is_turned_off_only_by_name() {
    let kms = TestKms::new();
    let app: phala_cloud::ids::AppId = APP_ID.parse().unwrap();
    let server = ScriptedServer::start(vec![
        ok(&flows::provision(&kms)),
        ok(&kms.pubkey_answer(&app)),
        ok(&kms.kms_answer(PHALA_KMS)),
        ok(&flows::committed_vm("my-web-app", APP_ID)),
    ])
    .await;
    let deployment = client(&server.url, RetryPolicy::none())
        .deploy(COMPOSE)
        .name("my-web-app")
        .env("API_TOKEN", "s3cr3t")
        .skip_compose_hash_check()
        .send()
        .await
        .unwrap();
    assert_eq!(deployment.compose_hash.as_str(), flows::COMPOSE_HASH);
    assert_eq!(
        body(&server.requests()[3])["compose_hash"],
        flows::COMPOSE_HASH
    );
}

#[tokio::test]
async fn a_wait_that_reaches_its_deadline_is_an_error_that_says_what_was_done() {
    use phala_cloud::mock::{self, deploy::MockDeployExt, MockServer, MockServerExt};
    let server = MockServer::start_async().await;
    let kms = TestKms::new();
    let hash = sent_hash("my-web-app", &["API_TOKEN"]);
    let provisioned = provisioned(&kms, "my-web-app", &["API_TOKEN"]);
    server.provision_cvm(|_, then| {
        then.ok(&provisioned);
    });
    kms.serve(&server, PHALA_KMS, APP_ID);
    let commit = server.commit_cvm_provision(|_, then| {
        then.ok(&flows::committed_vm("my-web-app", APP_ID));
    });
    // Starting, and the stream ends: the watch waits to reconnect, past
    // the deadline.
    server.cvm_state_stream(flows::VM_UUID, "running", &[flows::state("starting")]);
    let err = mock::client(&server)
        .deploy(COMPOSE)
        .name("my-web-app")
        .env("API_TOKEN", "s3cr3t")
        .wait_until_running(Instant::now() + Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    commit.assert_async().await;
    let Some(DeployError::DeadlinePassed(unfinished)) = err.deploy_error() else {
        panic!("{err}")
    };
    assert_eq!(unfinished.cvm_id.as_str(), flows::VM_UUID.replace('-', ""));
    assert_eq!(unfinished.app_id.as_ref().map(|a| a.as_str()), Some(APP_ID));
    assert_eq!(unfinished.compose_hash, hash);
    assert!(err.to_string().contains(hash.as_str()), "{err}");
}

#[tokio::test]
async fn an_update_waited_for_is_ok_once_the_cvm_runs_its_hash_and_an_error_at_the_deadline() {
    use phala_cloud::mock::{self, deploy::MockDeployExt, MockServer, MockServerExt};
    let current: types::AppCompose =
        serde_json::from_value(json!({"name": "web-prod", "docker_compose_file": COMPOSE}))
            .unwrap();
    let hash = ComposeHash::of_json(&updated_compose(&[]));
    let uuid = flows::VM_UUID.replace('-', "");

    let server = MockServer::start_async().await;
    let mocks = server.mock_compose_update(flows::VM_UUID, &current, false);
    server.cvm_state_stream(flows::VM_UUID, "running", &[flows::state("running")]);
    server.get_cvm(|when, then| {
        when.cvm_id(uuid.as_str());
        then.ok(&running_with(&hash));
    });
    let applied = mock::client(&server)
        .update_compose(flows::VM_UUID, NEW_COMPOSE)
        .wait_until_running(Instant::now() + Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert!(matches!(applied, Applied::Started(_)));
    mocks.commit.assert_async().await;

    // Never running: the update was applied, the deadline is an error.
    let server = MockServer::start_async().await;
    server.mock_compose_update(flows::VM_UUID, &current, false);
    server.cvm_state_stream(flows::VM_UUID, "running", &[flows::state("starting")]);
    let err = mock::client(&server)
        .update_compose(flows::VM_UUID, NEW_COMPOSE)
        .wait_until_running(Instant::now() + Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    let Some(DeployError::DeadlinePassed(unfinished)) = err.deploy_error() else {
        panic!("{err}")
    };
    assert_eq!(
        (unfinished.cvm_id.as_str(), &unfinished.compose_hash),
        (uuid.as_str(), &hash)
    );
    assert_eq!(unfinished.app_id.as_ref().map(|a| a.as_str()), Some(APP_ID));
}
