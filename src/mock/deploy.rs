//! Mocks of the deploy flows ([`crate::deploy`]): a test KMS that signs
//! its app key as a real one does and reads back what was encrypted to it,
//! the answers of provision and commit, HTTP 465 bodies, and the CVM state
//! stream; [`MockDeployExt::mock_deploy`] sets up a whole deploy at once.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use phala_cloud::mock::{self, deploy::{MockDeployExt, TestKms}, MockServer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), phala_cloud::Error> {
//! let server = MockServer::start_async().await;
//! let kms = TestKms::new();
//! let mocks = server.mock_deploy(&kms);
//!
//! let deployment = mock::client(&server)
//!     .deploy("services:\n  web:\n    image: nginx:1.27\n")
//!     .name("my-web-app")
//!     .env("API_TOKEN", "s3cr3t")
//!     .wait_until_running(Instant::now() + Duration::from_secs(60))
//!     .send()
//!     .await?;
//! assert_eq!(deployment.state.map(|s| s.status.to_string()).as_deref(), Some("running"));
//! mocks.commit.assert_async().await;
//! # Ok(())
//! # }
//! ```

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use std::sync::{Arc, Mutex};

use httpmock::{HttpMockRequest, HttpMockResponse, Mock, MockServer};
use k256::ecdsa::SigningKey;
use serde_json::{json, Value};
use sha3::{Digest, Keccak256};
use x25519_dalek::{x25519, X25519_BASEPOINT_BYTES};

use super::sample::{self, decode};
use super::MockServerExt;
use crate::env_encryption::EnvEncryptPublicKey;
use crate::ids::{AppId, ComposeHash, CvmRef};
use crate::kms_signature::K256PublicKey;
use crate::types;
use crate::types::CvmState;

/// The app [`provision`] provisions.
pub const APP_ID: &str = "9f3c2b1a8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b";
/// The compose hash [`provision`] answers.
pub const COMPOSE_HASH: &str = "5d1a9e3f7b2c8d4e6f0a1b3c5d7e9f2a4b6c8d0e1f3a5b7c9d2e4f6a8b0c1d3e";
/// The device [`provision`] picks.
pub const DEVICE_ID: &str = "7c3e9a1f5b8d2e4a6c0f1b3d5e7a9c2e4f6b8d0a1c3e5f7a9b2d4c6e8f0a1b3c";
/// Phala's KMS in [`sample::kms_instances`], which [`provision`] names.
pub const PHALA_KMS: &str = "kms_dA2M76mq";
/// The Base KMS in [`sample::kms_instances`], which
/// [`provision_on_chain`] names.
pub const BASE_KMS: &str = "kms_B7x2Lp0Q";
/// The VM UUID of [`committed_vm`]: the CVM's reference once committed.
pub const VM_UUID: &str = "0b6f2c4e-5a1d-4e8f-9c3b-7d2a1e6f4b80";

/// A KMS for tests: a secp256k1 root key that signs the app's
/// env-encryption key as dstack's KMS does (the legacy message and the v1
/// one with a timestamp), and the app key's private half, to read back what
/// a deploy encrypted. Fixed keys: tests are reproducible.
#[derive(Clone)]
pub struct TestKms {
    root: SigningKey,
    app_secret: [u8; 32],
}

impl std::fmt::Debug for TestKms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKms")
            .field("root_key", &self.root_key())
            .finish_non_exhaustive()
    }
}

impl Default for TestKms {
    fn default() -> Self {
        Self::new()
    }
}

impl TestKms {
    /// The test KMS.
    pub fn new() -> Self {
        // A fixed non-zero scalar below the curve order.
        Self::with_root_secret([0x4b; 32])
    }

    /// A test KMS whose root key has the secret scalar `root_secret`, for
    /// tests that need a second KMS to tell apart from the first; the app
    /// key is the same as [`TestKms::new`]'s.
    ///
    /// Panics if `root_secret` is zero or not below the secp256k1 order.
    ///
    /// ```
    /// use phala_cloud::mock::deploy::TestKms;
    ///
    /// let (ours, theirs) = (TestKms::with_root_secret([1; 32]), TestKms::with_root_secret([2; 32]));
    /// assert_ne!(ours.root_key(), theirs.root_key());
    /// assert_eq!(ours.app_public_key(), theirs.app_public_key());
    /// ```
    pub fn with_root_secret(root_secret: [u8; 32]) -> Self {
        Self {
            root: SigningKey::from_bytes(&root_secret.into())
                .unwrap_or_else(|e| panic!("TestKms: the root secret is not a valid scalar: {e}")),
            app_secret: [0x5a; 32],
        }
    }

    /// Its root key: what a pinned [`KmsTrust`](crate::kms_trust::KmsTrust)
    /// or the API's KMS info names.
    pub fn root_key(&self) -> K256PublicKey {
        let point = self.root.verifying_key().to_encoded_point(true);
        K256PublicKey::from_sec1_bytes(point.as_bytes())
            .unwrap_or_else(|e| panic!("k256 gives a valid key: {e}"))
    }

    /// The app's env-encryption key (one for every app).
    pub fn app_public_key(&self) -> EnvEncryptPublicKey {
        EnvEncryptPublicKey::from_bytes(x25519(self.app_secret, X25519_BASEPOINT_BYTES))
            .unwrap_or_else(|e| panic!("a clamped scalar gives a usable key: {e}"))
    }

    /// `GET /kms/{kms_id}/pubkey/{app_id}`: the app key, signed (the legacy
    /// form the API relays).
    ///
    /// # Panics
    ///
    /// As [`TestKms::sign`], for an app id kept as a server sent it.
    pub fn pubkey_answer(&self, app_id: &AppId) -> types::AppEnvEncryptPubkey {
        let key = self.app_public_key();
        let signature = self.sign(app_id, None, key.as_bytes());
        decode(
            "pubkey",
            json!({"public_key": format!("0x{key}"), "signature": format!("0x{signature}")}),
        )
    }

    /// This root key's signature of `public_key` as `app_id`'s
    /// env-encryption key, as a KMS signs it: recoverable ECDSA over the
    /// Keccak-256 of the message, hex of `r ‖ s ‖ v`. Without a `timestamp`
    /// the legacy message (the answer's `signature`), with one the v1
    /// message (`signature_v1`, beside that `timestamp`).
    ///
    /// # Panics
    ///
    /// For an app id kept as a server sent it (see [`crate::ids`]): a KMS
    /// signs only a 20-byte app id, and a test has no use for the other.
    ///
    /// ```
    /// use phala_cloud::ids::AppId;
    /// use phala_cloud::mock::deploy::TestKms;
    ///
    /// let kms = TestKms::new();
    /// let app: AppId = "9f3c2b1a8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b".parse()?;
    /// let key = kms.app_public_key();
    /// let legacy = kms.sign(&app, None, key.as_bytes());
    /// assert_eq!(legacy.len(), 130);
    /// assert_ne!(kms.sign(&app, Some(1_750_000_000), key.as_bytes()), legacy);
    /// # Ok::<(), phala_cloud::ids::ParseIdError>(())
    /// ```
    pub fn sign(&self, app_id: &AppId, timestamp: Option<u64>, public_key: &[u8; 32]) -> String {
        let message = crate::kms_signature::message(app_id, timestamp, public_key)
            .unwrap_or_else(|e| panic!("TestKms::sign: {e}"));
        let (signature, recovery) = self
            .root
            .sign_prehash_recoverable(&Keccak256::digest(&message))
            .unwrap_or_else(|e| panic!("signing a digest cannot fail: {e}"));
        let mut bytes = signature.to_bytes().to_vec();
        bytes.push(recovery.to_byte());
        hex::encode(bytes)
    }

    /// `GET /kms/{kms_id}/info`: the KMS, reporting this root key as its
    /// bootstrap key.
    pub fn kms_answer(&self, kms_id: &str) -> types::KmsInspectResponse {
        decode(
            "kms info",
            json!({
                "id": kms_id, "slug": "phala-prod6", "db_version": "0.5.3",
                "endpoint": "https://kms.phala-prod6.phala.network", "kms_type": "phala",
                "rpc": {
                    "bootstrap_info": {
                        "ca_pubkey": "3059", "eventlog_length": 0, "quote_length": 0,
                        "k256_pubkey": self.root_key().to_string(),
                    },
                    "is_dev": false, "version": "0.5.3", "version_synced": true,
                },
            }),
        )
    }

    /// Mocks the two reads that fetch and verify `app_id`'s key on
    /// `kms_id`: the signed key and the KMS's root key.
    pub fn serve<'a>(&self, server: &'a MockServer, kms_id: &str, app_id: &str) -> [Mock<'a>; 2] {
        let app: AppId = app_id
            .parse()
            .unwrap_or_else(|e| panic!("TestKms::serve: {e}"));
        let answer = self.pubkey_answer(&app);
        let info = self.kms_answer(kms_id);
        [
            server.get_app_env_encrypt_pubkey(|when, then| {
                when.kms_id(kms_id).app_id(app_id);
                then.ok(&answer);
            }),
            server.inspect_kms(|when, then| {
                when.kms_id(kms_id);
                then.ok(&info);
            }),
        ]
    }

    /// What the CVM reads from `encrypted_env`: the `(key, value)` pairs,
    /// or why it cannot open it.
    pub fn decrypt(&self, encrypted_env: &str) -> Result<Vec<(String, String)>, String> {
        let sealed = hex::decode(encrypted_env).map_err(|e| format!("not hex: {e}"))?;
        if sealed.len() < 32 + 12 + 16 {
            return Err(format!("{} bytes is too short", sealed.len()));
        }
        let (ephemeral, rest) = sealed.split_at(32);
        let (nonce, ciphertext) = rest.split_at(12);
        let mut public = [0u8; 32];
        public.copy_from_slice(ephemeral);
        let mut iv = [0u8; 12];
        iv.copy_from_slice(nonce);
        let shared = x25519(self.app_secret, public);
        let cipher = Aes256Gcm::new_from_slice(&shared).map_err(|e| e.to_string())?;
        let plaintext = cipher
            .decrypt(&Nonce::from(iv), ciphertext)
            .map_err(|_| "the box does not open with the app key".to_string())?;
        let document: Value = serde_json::from_slice(&plaintext).map_err(|e| e.to_string())?;
        let entries = document["env"].as_array().ok_or("no `env` list")?;
        entries
            .iter()
            .map(
                |entry| match (entry["key"].as_str(), entry["value"].as_str()) {
                    (Some(key), Some(value)) => Ok((key.to_string(), value.to_string())),
                    _ => Err(format!("not a key and a value: {entry}")),
                },
            )
            .collect()
    }
}

/// `POST /cvms/provision` on Phala's KMS: [`APP_ID`], the test KMS's app
/// key, [`COMPOSE_HASH`], [`PHALA_KMS`].
pub fn provision(kms: &TestKms) -> types::ProvisionCvmResponse {
    let mut answer = provision_on_chain();
    answer.app_id = Some(APP_ID.into());
    answer.app_env_encrypt_pubkey = Some(kms.app_public_key().to_string());
    answer.kms_info = Some(sample::kms_instances()[0].clone());
    answer.kms_id = Some(PHALA_KMS.into());
    answer
}

/// `POST /cvms/provision` on the Base KMS ([`BASE_KMS`]): no app id (the
/// app's contract gives it) and no key.
pub fn provision_on_chain() -> types::ProvisionCvmResponse {
    decode(
        "provision",
        json!({
            "compose_hash": COMPOSE_HASH, "device_id": DEVICE_ID,
            "fmspc": "B0C06F000000", "os_image_hash": "a1b2c3d4",
            "instance_type": "tdx.small", "teepod_id": 11, "node_id": 11,
            "kms_id": BASE_KMS,
            "kms_info": serde_json::to_value(&sample::kms_instances()[3]).unwrap_or_default(),
        }),
    )
}

/// `POST /cvms/{id}/compose_file/provision`: `compose_hash` for
/// [`APP_ID`]; on chain (Base, chain 8453, [`DEVICE_ID`]) with the hash not
/// registered yet, else on Phala's KMS.
pub fn compose_provisioned(
    compose_hash: &ComposeHash,
    on_chain: bool,
) -> types::ComposeFileProvisionResponse {
    let kms = &sample::kms_instances()[if on_chain { 3 } else { 0 }];
    decode(
        "compose file provision",
        json!({
            "app_id": APP_ID, "compose_hash": compose_hash, "device_id": DEVICE_ID,
            "kms_info": serde_json::to_value(kms).unwrap_or_default(),
            "compose_hash_registered": false,
        }),
    )
}

/// `POST /cvms`: the CVM `name` of `app_id`, committed and `starting`,
/// [`VM_UUID`].
pub fn committed_vm(name: &str, app_id: &str) -> types::Vm {
    decode(
        "vm",
        json!({
            "id": 4821, "name": name, "status": "starting", "teepod_id": 11,
            "app_id": app_id, "vm_uuid": VM_UUID,
            "app_url": format!("https://{app_id}-80.dstack-prod6.phala.network"),
            "vcpu": 1, "memory": 2048, "disk_size": 20,
            "created_at": "2026-12-01T10:00:00Z",
            "encrypted_env_pubkey": null,
        }),
    )
}

/// The HTTP 465 an update of an on-chain CVM answers: register
/// `compose_hash` on `app_id`'s contract (chain 8453); with
/// `commit_token`, the answer to a prepare-only update.
pub fn approval_required(
    compose_hash: &str,
    app_id: &str,
    commit_token: Option<&str>,
) -> types::ApiErrorBody {
    let mut details = vec![
        json!({"field": "compose_hash", "value": compose_hash}),
        json!({"field": "app_id", "value": app_id}),
        json!({"field": "device_id", "value": format!("0x{DEVICE_ID}")}),
        json!({"field": "kms_info", "value": {
            "id": BASE_KMS, "slug": "base-prod", "chain_id": 8453,
            "kms_contract_address": sample::kms_instances()[3].kms_contract_address,
        }}),
        json!({"field": "onchain_status", "value": {
            "compose_hash_allowed": false, "device_id_allowed": true, "is_allowed": false,
        }}),
    ];
    if let Some(token) = commit_token {
        details.push(json!({"field": "commit_token", "value": token}));
        details.push(json!({"field": "commit_url",
            "value": format!("https://cloud.phala.com/commit?token={token}")}));
    }
    decode(
        "465",
        json!({
            "error_code": "ERR-01-005",
            "message": "Compose hash registration required on-chain",
            "details": details,
        }),
    )
}

/// The 202 of an accepted update (`patch_cvm`, `update_cvm_envs`,
/// `commit_cvm_update`), followed by `correlation_id`.
pub fn update_started(correlation_id: &str) -> types::CvmUpdateResponse {
    decode(
        "update",
        json!({"status": "in_progress", "message": "Update started", "correlation_id": correlation_id}),
    )
}

/// `GET /cvms/{VM_UUID}` once [`committed_vm`] runs: on Phala's KMS, with
/// its endpoints, [`COMPOSE_HASH`] and nothing in progress.
pub fn running_cvm(vm: &types::Vm) -> types::CvmInfoDetail {
    let mut cvm = sample::cvm_detail(&sample::cvms()[0]);
    cvm.status = types::CvmLifecycleStatus::Running;
    cvm.in_progress = Some(false);
    cvm.compose_hash = Some(decode("compose_hash", json!(COMPOSE_HASH)));
    cvm.name = vm.name.clone();
    cvm.app_id = Some(vm.app_id.clone());
    cvm.vm_uuid = vm.vm_uuid.clone();
    let instance = format!(
        "https://{}.dstack-prod6.phala.network",
        VM_UUID.replace('-', "")
    );
    cvm.endpoints = Some(vec![decode(
        "endpoint",
        json!({"app": vm.app_url, "instance": instance}),
    )]);
    cvm
}

/// A state event's state: `status`, and the CVM's name.
pub fn state(status: &str) -> CvmState {
    CvmState::builder()
        .name("my-web-app")
        .status(status)
        .try_into()
        .expect("a name and a status make a state")
}

/// A state that reports a boot error.
pub fn boot_error(status: &str, error: &str) -> CvmState {
    CvmState {
        boot_error: Some(error.into()),
        ..state(status)
    }
}

/// The mocks [`MockDeployExt::mock_deploy`] sets up, to check their hits.
#[non_exhaustive]
pub struct DeployMocks<'a> {
    /// `POST /cvms/provision`.
    pub provision: Mock<'a>,
    /// The app key and the KMS's root key.
    pub key: [Mock<'a>; 2],
    /// `POST /cvms`.
    pub commit: Mock<'a>,
    /// The state stream, `starting` then `running`.
    pub state: Mock<'a>,
    /// `GET /cvms/{VM_UUID}`: it runs the compose hash provisioned, with
    /// its endpoints.
    pub cvm: Mock<'a>,
}

/// Mocks of the flows that the per-operation mocks take several calls to
/// set up.
pub trait MockDeployExt {
    /// Mocks `GET /api/v1/cvms/{cvm_id}/state?target={target}` answering
    /// `states` as `state` events, then `complete` if the last is `target`
    /// without a boot error. `cvm_id` is any CVM reference the client
    /// takes (a `Deployment::cvm_id`, [`VM_UUID`]); one that is not panics,
    /// as a misconfigured mock does.
    fn cvm_state_stream<V>(&self, cvm_id: V, target: &str, states: &[CvmState]) -> Mock<'_>
    where
        V: TryInto<CvmRef>,
        V::Error: std::fmt::Display;

    /// Mocks a whole deploy on Phala's KMS: [`provision`] answering the
    /// compose hash of the app compose the request carries (as the server
    /// computes it), `kms`'s signed key, the commit ([`committed_vm`]), a
    /// state stream to `running` and the CVM running that hash.
    fn mock_deploy(&self, kms: &TestKms) -> DeployMocks<'_>;

    /// Mocks a compose update of `cvm_id` (without env vars), whose compose
    /// is `current`: its compose file, the provision for the update
    /// answering the hash of the manifest sent ([`compose_provisioned`],
    /// on chain or not), and the commit, accepted. `cvm_id` is any CVM
    /// reference the client takes; one that is not panics.
    fn mock_compose_update<V>(
        &self,
        cvm_id: V,
        current: &types::AppCompose,
        on_chain: bool,
    ) -> ComposeUpdateMocks<'_>
    where
        V: TryInto<CvmRef>,
        V::Error: std::fmt::Display;
}

/// The mocks [`MockDeployExt::mock_compose_update`] sets up.
#[non_exhaustive]
pub struct ComposeUpdateMocks<'a> {
    /// `GET /cvms/{id}/compose_file`.
    pub compose: Mock<'a>,
    /// `POST /cvms/{id}/compose_file/provision`.
    pub provision: Mock<'a>,
    /// `PATCH /cvms/{id}/compose_file`.
    pub commit: Mock<'a>,
}

impl MockDeployExt for MockServer {
    fn cvm_state_stream<V>(&self, cvm_id: V, target: &str, states: &[CvmState]) -> Mock<'_>
    where
        V: TryInto<CvmRef>,
        V::Error: std::fmt::Display,
    {
        let cvm: CvmRef =
            crate::ids::param("cvm_id", cvm_id).unwrap_or_else(|e| panic!("cvm_state_stream: {e}"));
        let mut body = String::new();
        for state in states {
            let data = serde_json::to_string(state).unwrap_or_default();
            body.push_str(&format!("event: state\ndata: {data}\n\n"));
        }
        let reached = states
            .last()
            .is_some_and(|last| last.status.to_string() == target && last.boot_error.is_none());
        if reached {
            let done = json!({"status": target, "target": target, "elapsed": 1.0});
            body.push_str(&format!("event: complete\ndata: {done}\n\n"));
        }
        self.mock(|when, then| {
            when.method(httpmock::Method::GET)
                .path(format!("/api/v1/cvms/{}/state", cvm.as_str()))
                .query_param("target", target);
            then.status(200)
                .header("content-type", "text/event-stream")
                .body(body);
        })
    }

    fn mock_compose_update<V>(
        &self,
        cvm_id: V,
        current: &types::AppCompose,
        on_chain: bool,
    ) -> ComposeUpdateMocks<'_>
    where
        V: TryInto<CvmRef>,
        V::Error: std::fmt::Display,
    {
        let cvm: CvmRef = crate::ids::param("cvm_id", cvm_id)
            .unwrap_or_else(|e| panic!("mock_compose_update: {e}"));
        let provisioned = compose_provisioned(&ComposeHash::from([0; 32]), on_chain);
        let hash = Arc::new(Mutex::new(provisioned.compose_hash.clone()));
        ComposeUpdateMocks {
            compose: self.get_cvm_compose_file(|when, then| {
                when.cvm_id(cvm.as_str());
                then.ok(current);
            }),
            provision: self.provision_for_cvm_compose_file_update(|when, then| {
                when.cvm_id(cvm.as_str());
                then.into_inner().respond_with(answering_the_hash(
                    provisioned,
                    hash,
                    |answer, hash| {
                        answer.compose_hash = hash;
                    },
                ));
            }),
            commit: self.trigger_cvm_compose_file_update(|when, then| {
                when.cvm_id(cvm.as_str());
                then.accepted(&update_started("corr-update-1"));
            }),
        }
    }

    fn mock_deploy(&self, kms: &TestKms) -> DeployMocks<'_> {
        let provisioned = provision(kms);
        let vm = committed_vm("my-web-app", APP_ID);
        let uuid = VM_UUID.replace('-', "");
        let cvm = running_cvm(&vm);
        // What the provision answered, for the CVM to run.
        let hash = Arc::new(Mutex::new(provisioned.compose_hash.clone()));
        let provision_hash = Arc::clone(&hash);
        DeployMocks {
            provision: self.provision_cvm(|_, then| {
                then.into_inner().respond_with(answering_the_hash(
                    provisioned,
                    provision_hash,
                    |answer, hash| {
                        answer.compose_hash = hash;
                    },
                ));
            }),
            key: kms.serve(self, PHALA_KMS, APP_ID),
            commit: self.commit_cvm_provision(|_, then| {
                then.ok(&vm);
            }),
            state: self.cvm_state_stream(
                VM_UUID,
                "running",
                &[state("starting"), state("running")],
            ),
            cvm: self.get_cvm(|when, then| {
                when.cvm_id(uuid.as_str());
                then.into_inner().respond_with(move |_| {
                    let mut cvm = cvm.clone();
                    if let Ok(hash) = hash.lock() {
                        cvm.compose_hash = Some(hash.clone());
                    }
                    json_response(&cvm)
                });
            }),
        }
    }
}

/// A responder that answers `template` with the compose hash of the app
/// compose the request carries (a deploy's `compose_file`, or an update's
/// body without `update_env_vars`), as the server computes it, and keeps it
/// in `hash` for later answers.
fn answering_the_hash<T>(
    template: T,
    hash: Arc<Mutex<ComposeHash>>,
    set: fn(&mut T, ComposeHash),
) -> impl Fn(&HttpMockRequest) -> HttpMockResponse + Send + Sync + 'static
where
    T: serde::Serialize + Clone + Send + Sync + 'static,
{
    move |request| {
        let mut answer = template.clone();
        if let Some(compose) = compose_of(request.body_ref()) {
            let computed = ComposeHash::of_json(&compose);
            if let Ok(mut hash) = hash.lock() {
                *hash = computed.clone();
            }
            set(&mut answer, computed);
        }
        json_response(&answer)
    }
}

/// The app compose a provision request's body carries, if it is JSON.
fn compose_of(body: &[u8]) -> Option<Value> {
    let mut body: Value = serde_json::from_slice(body).ok()?;
    let object = body.as_object_mut()?;
    if let Some(compose) = object.remove("compose_file") {
        return Some(compose);
    }
    object.remove("update_env_vars");
    Some(body)
}

/// A 200 answer with `value` as JSON.
fn json_response(value: &impl serde::Serialize) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(value).unwrap_or_default())
        .build()
}
