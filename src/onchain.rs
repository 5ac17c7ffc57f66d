//! The two-phase update of a CVM whose KMS is on chain, as types.
//!
//! An update that changes the compose hash of such a CVM is not applied at
//! once: the server answers HTTP 465 with the hash to register on the app's
//! contract (`DstackApp.addComposeHash`). The update is then sent again with
//! the hash and the registering transaction (phase 2), or — for a multisig,
//! where someone else signs — committed later with a one-time token.
//!
//! - Phase 1: [`ProposeUpdate::propose`] on `patch_cvm()`, `update_cvm_envs()`,
//!   `update_docker_compose()` or `update_pre_launch_script()` gives an
//!   [`UpdateOutcome`]: [`Applied`] (202 or `no_change`) or an
//!   [`OnChainApprovalRequired`] with everything the 465 carried.
//!   `patch_cvm().prepare_only()` asks for a commit token (multisig).
//! - Phase 2: [`ConfirmUpdate::confirm`] with that value and the transaction
//!   hash, on the same request again (`X-Compose-Hash` and
//!   `X-Transaction-Hash` headers; for `/envs`, the body's `compose_hash` and
//!   `transaction_hash`), or on `commit_cvm_update()` for a prepare-only
//!   update (the commit token, no API key needed).
//! - Phase-2 refusals are errors: [`Error::is_compose_hash_invalid`] (466),
//!   [`Error::is_transaction_unverified`] (467),
//!   [`Error::is_compose_hash_not_allowed`] (468).
//! - Between the two: the `onchain::eth` module (features
//!   `onchain-eth-calldata`, `onchain-eth`) gives the calls to sign
//!   (`approval.calldata()`, for a Safe) or sends them with a key and waits
//!   until the contract allows the update (`approval.register(&provider)`,
//!   whose result `confirm` takes).
//!
//! ```no_run
//! use phala_cloud::onchain::{ConfirmUpdate, ProposeUpdate, UpdateOutcome};
//! use phala_cloud::types::UpdateCvmRequest;
//!
//! # async fn register(hash: &str, app: &str) -> String { String::new() }
//! # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
//! let body = UpdateCvmRequest {
//!     docker_compose_file: Some("services:\n  web:\n    image: nginx:1.27\n".into()),
//!     ..Default::default()
//! };
//! let update = client.patch_cvm().cvm_id("cvm_ykL5lbAn").body(body);
//! match update.clone().propose().await? {
//!     UpdateOutcome::Applied(applied) => println!("{applied:?}"),
//!     UpdateOutcome::ApprovalRequired(approval) => {
//!         // Your wallet calls DstackApp.addComposeHash(approval.compose_hash).
//!         let tx = register(&approval.compose_hash, &approval.app_id).await;
//!         let applied = update.confirm(&approval, tx).await?;
//!         println!("{applied:?}");
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use std::future::Future;

use progenitor_client::ResponseValue;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

#[cfg(feature = "onchain-eth-calldata")]
pub mod eth;

use crate::builder::{
    CommitCvmUpdate, PatchCvm, UpdateCvmEnvs, UpdateDockerCompose, UpdatePreLaunchScript,
};
use crate::Error;

/// The transaction hash that tells `commit-update` the compose hash is
/// already registered, so that no receipt is checked.
pub const ALREADY_REGISTERED: &str = "already-registered";

/// What phase 1 of an update led to: one or the other, nothing else.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome {
    /// Nothing more to do: the update was accepted, or changed nothing.
    Applied(Applied),
    /// HTTP 465: register the compose hash on chain, then confirm.
    ApprovalRequired(Box<OnChainApprovalRequired>),
}

/// An update the server took.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Applied {
    /// The update was accepted and runs in the background (HTTP 202).
    Started(UpdateStarted),
    /// The request changes nothing (`status: "no_change"`).
    NoChange {
        /// The server's explanation.
        message: Option<String>,
    },
}

/// The answer to an accepted update.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UpdateStarted {
    /// The id to follow the update by (the CVM's operations).
    pub correlation_id: Option<String>,
    /// `in_progress`, or `pending` for a commit.
    pub status: Option<String>,
    /// The server's message.
    pub message: Option<String>,
    /// Whether the allowed env names changed (`/envs` only).
    pub allowed_envs_changed: Option<bool>,
    /// The whole answer.
    pub body: Value,
}

impl Applied {
    /// Reads a typed answer (`CvmUpdateResponse`) or a hand-written
    /// operation's JSON alike. Serializing a decoded answer cannot fail: its
    /// types are plain structs, strings and numbers.
    pub(crate) fn from_answer(answer: impl Serialize) -> Self {
        Self::from_body(serde_json::to_value(answer).unwrap_or_default())
    }

    fn from_body(body: Value) -> Self {
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
        if text("status").as_deref() == Some("no_change") {
            return Applied::NoChange {
                message: text("message"),
            };
        }
        Applied::Started(UpdateStarted {
            correlation_id: text("correlation_id"),
            status: text("status"),
            message: text("message"),
            allowed_envs_changed: body.get("allowed_envs_changed").and_then(Value::as_bool),
            body,
        })
    }
}

/// HTTP 465 (`ERR-01-005`): the compose hash must be registered on the
/// app's contract before the update is applied.
///
/// Read from any of the shapes the API has used: a structured error at the
/// top level or under `detail` (its `details` list of `{field, value}`), or
/// the legacy flat body. It serializes, so that a multisig flow can keep it
/// until the signers are done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OnChainApprovalRequired {
    /// The hash to register (`DstackApp.addComposeHash(bytes32)`).
    pub compose_hash: String,
    /// The app id: the `DstackApp` contract's address.
    #[serde(deserialize_with = "id_text")]
    pub app_id: String,
    /// The device id, for `addDevice` when the device is not allowed yet.
    #[serde(default)]
    pub device_id: Option<String>,
    /// The KMS and its chain.
    #[serde(default)]
    pub kms_info: Option<ApprovalKmsInfo>,
    /// Prepare-only: the one-time token for `commit-update` (14 days).
    #[serde(default)]
    pub commit_token: Option<String>,
    /// Prepare-only: the dashboard page where the update can be committed.
    #[serde(default)]
    pub commit_url: Option<String>,
    /// Prepare-only: the API URL of `commit-update` with the token.
    #[serde(default)]
    pub api_commit_url: Option<String>,
    /// What the contract allows already.
    #[serde(default)]
    pub onchain_status: Option<OnChainStatus>,
    /// The contract call to make.
    #[serde(default)]
    pub onchain_action: Option<OnChainAction>,
    /// When the commit token expires (ISO 8601).
    #[serde(default)]
    pub expires_at: Option<String>,
    /// The server's message.
    pub message: String,
    /// The structured error code (`ERR-01-005`), if the body had one.
    #[serde(default)]
    pub error_code: Option<String>,
    /// The request id, for support requests.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Details this version of the client does not know.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The KMS of an [`OnChainApprovalRequired`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApprovalKmsInfo {
    /// The KMS id.
    #[serde(default, deserialize_with = "optional_id_text")]
    pub id: Option<String>,
    /// The KMS slug (`ethereum`, `base`, …).
    #[serde(default)]
    pub slug: Option<String>,
    /// The KMS URL.
    #[serde(default)]
    pub url: Option<String>,
    /// The KMS version.
    #[serde(default)]
    pub version: Option<String>,
    /// The chain the contracts are on (8453 for Base).
    #[serde(default)]
    pub chain_id: Option<u64>,
    /// The KMS contract's address.
    #[serde(default)]
    pub kms_contract_address: Option<String>,
    /// The gateway's app id.
    #[serde(default)]
    pub gateway_app_id: Option<String>,
    /// Fields this version of the client does not know.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// What an app's contract allows, as phase 1 found it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OnChainStatus {
    /// The compose hash is allowed already.
    #[serde(default)]
    pub compose_hash_allowed: Option<bool>,
    /// The device is allowed already.
    #[serde(default)]
    pub device_id_allowed: Option<bool>,
    /// Both: the update could be committed with [`ALREADY_REGISTERED`].
    #[serde(default)]
    pub is_allowed: Option<bool>,
}

/// The contract call that registers the compose hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OnChainAction {
    /// The contract to call.
    #[serde(default)]
    pub to: Option<String>,
    /// The method (`addComposeHash(bytes32)`).
    #[serde(default)]
    pub method: Option<String>,
    /// The call data.
    #[serde(default)]
    pub calldata: Option<String>,
}

/// The approval a `cvm.update.pending_approval` webhook announces, as phase
/// 1 of a prepare-only update would have given it: its commit token and
/// URLs, the KMS contract and the call to make. What the event says beyond
/// that (the CVM's id and name, who started the update, fields this client
/// does not know) is kept in `other`.
///
/// ```
/// use phala_cloud::onchain::OnChainApprovalRequired;
/// use phala_cloud::webhook::{EventData, WebhookEvent};
///
/// # fn run(event: WebhookEvent) {
/// if let EventData::CvmUpdatePendingApproval(pending) = &event.data {
///     let approval = OnChainApprovalRequired::from(&**pending);
///     println!("register {} on chain {:?}", approval.compose_hash, approval.kms_info.and_then(|k| k.chain_id));
/// }
/// # }
/// ```
impl From<&crate::webhook::PendingApproval> for OnChainApprovalRequired {
    fn from(pending: &crate::webhook::PendingApproval) -> Self {
        let mut other = pending.extra.clone();
        other.insert("cvm_id".into(), Value::from(pending.cvm_id.as_str()));
        other.insert("cvm_name".into(), Value::from(pending.cvm_name.clone()));
        other.insert(
            "initiated_by".into(),
            serde_json::json!({
                "user_id": pending.initiated_by.user_id,
                "username": pending.initiated_by.username,
            }),
        );
        OnChainApprovalRequired {
            compose_hash: pending.compose_hash.to_string(),
            app_id: pending.app_id.to_string(),
            device_id: Some(pending.device_id.clone()),
            kms_info: Some(ApprovalKmsInfo {
                chain_id: Some(pending.kms.chain_id),
                kms_contract_address: Some(pending.kms.contract_address.clone()),
                ..ApprovalKmsInfo::default()
            }),
            commit_token: Some(pending.commit_token.clone()),
            commit_url: Some(pending.commit_url.clone()),
            api_commit_url: Some(pending.api_commit_url.clone()),
            onchain_status: None,
            onchain_action: Some(OnChainAction {
                to: Some(pending.onchain_action.to.clone()),
                method: Some(pending.onchain_action.method.clone()),
                calldata: Some(pending.onchain_action.calldata.clone()),
            }),
            expires_at: Some(pending.expires_at.to_rfc3339()),
            message: format!(
                "the update of CVM {} awaits the on-chain approval of compose hash {}",
                pending.cvm_name, pending.compose_hash
            ),
            error_code: None,
            request_id: None,
            other,
        }
    }
}

impl OnChainApprovalRequired {
    /// The approval a 465 error carries; `None` for any other error, or a 465
    /// without a compose hash and an app id.
    ///
    /// Useful for the operations that answer 465 outside this module's
    /// traits (replicas, redeploys, app instances).
    ///
    /// ```no_run
    /// use phala_cloud::onchain::OnChainApprovalRequired;
    ///
    /// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
    /// match client.redeploy_cvm_revision().cvm_id("cvm_ykL5lbAn").revision_id("rev_1").send().await {
    ///     Ok(_) => {}
    ///     Err(e) => match OnChainApprovalRequired::from_error(&e) {
    ///         Some(approval) => println!("register {}", approval.compose_hash),
    ///         None => return Err(e),
    ///     },
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_error(error: &Error) -> Option<Self> {
        let api = error.api_error().filter(|a| a.status().as_u16() == 465)?;
        let mut fields: Map<String, Value> = api
            .details()
            .iter()
            .filter_map(|d| Some((d.field.clone()?, d.value.clone()?)))
            .collect();
        if !fields.contains_key("compose_hash") {
            // The legacy flat body, at the top level or under `detail`.
            let body: Value = serde_json::from_slice(api.raw_body()).ok()?;
            let flat = [Some(&body), body.get("detail")]
                .into_iter()
                .flatten()
                .find_map(|b| b.as_object().filter(|o| o.contains_key("compose_hash")))?;
            fields.extend(flat.clone());
        }
        fields.insert("message".into(), api.message().into());
        fields.insert("error_code".into(), api.error_code().into());
        fields.insert("request_id".into(), api.request_id().into());
        serde_json::from_value(Value::Object(fields)).ok()
    }
}

/// An id the API sends as a string or a number, as text.
fn id_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    optional_id_text(deserializer)?
        .ok_or_else(|| D::Error::custom("expected a string or a number, got null"))
}

fn optional_id_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(D::Error::custom(format!(
            "expected a string or a number, got {other}"
        ))),
    }
}

fn outcome<T: Serialize>(result: Result<ResponseValue<T>, Error>) -> Result<UpdateOutcome, Error> {
    match result {
        Ok(answer) => Ok(UpdateOutcome::Applied(Applied::from_answer(
            answer.into_inner(),
        ))),
        Err(e) => OnChainApprovalRequired::from_error(&e)
            .map(|approval| UpdateOutcome::ApprovalRequired(Box::new(approval)))
            .ok_or(e),
    }
}

fn applied<T: Serialize>(result: Result<ResponseValue<T>, Error>) -> Result<Applied, Error> {
    result.map(|answer| Applied::from_answer(answer.into_inner()))
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::builder::PatchCvm {}
    impl Sealed for crate::builder::UpdateCvmEnvs {}
    impl Sealed for crate::builder::CommitCvmUpdate {}
    impl Sealed for crate::builder::UpdateDockerCompose {}
    impl Sealed for crate::builder::UpdatePreLaunchScript {}
}

/// Phase 1: send an update that may need on-chain approval.
///
/// Implemented by the builders of `patch_cvm()`, `update_cvm_envs()`,
/// `update_docker_compose()` and `update_pre_launch_script()`; see the
/// [module documentation](self).
pub trait ProposeUpdate: sealed::Sealed + Sized {
    /// Sends the update: [`UpdateOutcome::Applied`] when the server took it,
    /// [`UpdateOutcome::ApprovalRequired`] on HTTP 465, an [`Error`]
    /// otherwise.
    fn propose(self) -> impl Future<Output = Result<UpdateOutcome, Error>> + Send;
}

/// Phase 2: send an update again with the transaction that registered its
/// compose hash, or commit a prepare-only update.
///
/// Implemented by the builders of `patch_cvm()`, `update_docker_compose()`,
/// `update_pre_launch_script()` (the same request as phase 1, with the
/// `X-Compose-Hash` and `X-Transaction-Hash` headers), `update_cvm_envs()`
/// (the same body with its `compose_hash` and `transaction_hash` set) and
/// `commit_cvm_update()` (a prepare-only update, by its commit token); see
/// the [module documentation](self).
///
/// For `patch_cvm()` the official JS SDK sends an empty body in phase 2;
/// this client sends the update again, so that the server can check the
/// hash against it.
pub trait ConfirmUpdate: sealed::Sealed + Sized {
    /// Sends the phase-2 request for `approval`, registered on chain by
    /// `transaction_hash`.
    fn confirm(
        self,
        approval: &OnChainApprovalRequired,
        transaction_hash: impl Into<String> + Send,
    ) -> impl Future<Output = Result<Applied, Error>> + Send;
}

/// `propose()` for the builders whose `send()` answers the update's body.
macro_rules! propose_by_sending {
    ($($builder:ty),+) => {$(
        impl ProposeUpdate for $builder {
            async fn propose(self) -> Result<UpdateOutcome, Error> {
                outcome(self.send().await)
            }
        }
    )+};
}

propose_by_sending!(
    PatchCvm,
    UpdateCvmEnvs,
    UpdateDockerCompose,
    UpdatePreLaunchScript
);

/// `confirm()` for the builders that take phase 2 as the `X-Compose-Hash`
/// and `X-Transaction-Hash` headers: the same request again, with both.
macro_rules! confirm_with_headers {
    ($($builder:ty),+) => {$(
        impl ConfirmUpdate for $builder {
            async fn confirm(
                self,
                approval: &OnChainApprovalRequired,
                transaction_hash: impl Into<String> + Send,
            ) -> Result<Applied, Error> {
                applied(
                    self.x_compose_hash(approval.compose_hash.clone())
                        .x_transaction_hash(transaction_hash.into())
                        .send()
                        .await,
                )
            }
        }
    )+};
}

confirm_with_headers!(PatchCvm, UpdateDockerCompose, UpdatePreLaunchScript);

impl PatchCvm {
    /// Sends `X-Prepare-Only: true`: phase 1 of a multisig update. The 465
    /// then carries a commit token, and phase 2 is
    /// `commit_cvm_update().confirm(…)` once the signers have registered
    /// the hash — not `confirm` on this request, which would send the header
    /// again.
    ///
    /// ```no_run
    /// use phala_cloud::onchain::{ConfirmUpdate, ProposeUpdate, UpdateOutcome};
    ///
    /// # async fn run(client: phala_cloud::Client, body: phala_cloud::types::UpdateCvmRequest) -> Result<(), phala_cloud::Error> {
    /// let outcome = client.patch_cvm().cvm_id("cvm_ykL5lbAn").body(body).prepare_only().propose().await?;
    /// if let UpdateOutcome::ApprovalRequired(approval) = outcome {
    ///     println!("signers: approve at {:?}", approval.commit_url);
    ///     // … days later, once the Safe transaction has executed:
    ///     let applied = client
    ///         .commit_cvm_update()
    ///         .cvm_id("cvm_ykL5lbAn")
    ///         .confirm(&approval, "0x5e1f…")
    ///         .await?;
    ///     println!("{applied:?}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn prepare_only(self) -> Self {
        self.x_prepare_only("true")
    }
}

impl ConfirmUpdate for UpdateCvmEnvs {
    /// Sends the same body again with its `compose_hash` and
    /// `transaction_hash` set: `/envs` takes them in the body, not as headers.
    async fn confirm(
        self,
        approval: &OnChainApprovalRequired,
        transaction_hash: impl Into<String> + Send,
    ) -> Result<Applied, Error> {
        let (hash, transaction) = (approval.compose_hash.clone(), transaction_hash.into());
        applied(
            self.body_map(|body| body.compose_hash(hash).transaction_hash(transaction))
                .send()
                .await,
        )
    }
}

impl ConfirmUpdate for CommitCvmUpdate {
    /// Commits a prepare-only update: `{token, compose_hash,
    /// transaction_hash}` to `commit-update`. Fails before sending when
    /// `approval` has no commit token (its phase 1 was not prepare-only).
    async fn confirm(
        self,
        approval: &OnChainApprovalRequired,
        transaction_hash: impl Into<String> + Send,
    ) -> Result<Applied, Error> {
        let token = approval.commit_token.clone().ok_or_else(|| {
            Error::InvalidRequest(
                "the approval has no commit token: its phase 1 was not prepare-only".into(),
            )
        })?;
        let (hash, transaction) = (approval.compose_hash.clone(), transaction_hash.into());
        applied(
            self.body_map(|body| {
                body.token(token)
                    .compose_hash(hash)
                    .transaction_hash(transaction)
            })
            .send()
            .await,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn applied_tells_no_change_from_a_started_update() {
        assert_eq!(
            Applied::from_body(json!({"status": "no_change", "message": "same"})),
            Applied::NoChange {
                message: Some("same".into())
            }
        );
        let body =
            json!({"status": "in_progress", "correlation_id": "c", "allowed_envs_changed": true});
        let Applied::Started(started) = Applied::from_body(body.clone()) else {
            panic!("started")
        };
        assert_eq!(started.correlation_id.as_deref(), Some("c"));
        assert_eq!(started.allowed_envs_changed, Some(true));
        assert_eq!(started.body, body);
    }

    #[test]
    fn ids_may_be_numbers() {
        let approval: OnChainApprovalRequired = serde_json::from_value(json!({
            "compose_hash": "0xabc", "app_id": 7, "message": "m", "kms_info": {"id": 1}
        }))
        .unwrap();
        assert_eq!(approval.app_id, "7");
        assert_eq!(approval.kms_info.unwrap().id.as_deref(), Some("1"));
        let err = serde_json::from_value::<OnChainApprovalRequired>(
            json!({"compose_hash": "0xabc", "app_id": null, "message": "m"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("got null"), "{err}");
    }
}
