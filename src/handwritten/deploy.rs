//! The everyday flows in one call each: deploy an app
//! ([`Client::deploy`](crate::Client::deploy)), change its environment
//! ([`Client::update_env_vars`](crate::Client::update_env_vars)) or its compose
//! ([`Client::update_compose`](crate::Client::update_compose)).
//!
//! A deploy is the API's own two steps, provision then commit, with what
//! goes between done for you: the complete app compose is hashed here and
//! the provision answer's `compose_hash` must equal it
//! ([`DeployError::ComposeHashMismatch`] otherwise, before anything is
//! committed or registered; [`Deploy::skip_compose_hash_check`] turns it
//! off); the app's env-encryption key is fetched and its KMS signature
//! verified ([`crate::kms_trust`], the API's root key by default), the env
//! vars are checked against the compose's `allowed_envs` and encrypted to
//! it, the deployment is committed and, with [`Deploy::wait_until_running`],
//! waited for until it runs the verified hash: `Ok` then means it does, and
//! a deadline is [`DeployError::DeadlinePassed`], carrying what to keep
//! waiting with ([`Client::wait_for_compose_hash`](crate::Client::wait_for_compose_hash)).
//!
//! ```no_run
//! use std::time::{Duration, Instant};
//!
//! # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
//! let deployment = client
//!     .deploy("services:\n  web:\n    image: nginx:1.27\n    ports: [\"80:80\"]\n")
//!     .name("my-web-app")
//!     .env("API_TOKEN", "s3cr3t")
//!     .wait_until_running(Instant::now() + Duration::from_secs(15 * 60))
//!     .send()
//!     .await?;
//! println!("{} runs {} at {:?}", deployment.cvm_id, deployment.compose_hash, deployment.endpoints);
//! # Ok(())
//! # }
//! ```
//!
//! An app whose KMS is on chain (Base, Ethereum) boots only what its
//! `DstackApp` contract allows, so its compose hash must be registered
//! there between the two steps. [`Deploy::propose`] stops at that point
//! with a [`PendingDeployment`] whose [`approval`](PendingDeployment::approval)
//! says what to register (and, with the `onchain-eth-calldata` feature,
//! gives the calldata for a Safe); [`PendingDeployment::commit`] finishes
//! once it is. With the `onchain-eth` feature, `Deploy::register(&provider)`
//! does it all with an alloy provider's signer: it deploys the app's
//! contract, or registers the hash on the one you name with
//! [`Deploy::app_id`].
//!
//! Compose updates are provisioned and checked the same way, one manifest
//! (the compose, its env keys, `update_env_vars`) sent to both phases. On
//! a CVM whose KMS is on chain, [`UpdateEnvVars::propose`] and
//! [`UpdateCompose::propose`] give a [`Proposal`], and
//! [`PendingUpdate::confirm`] sends phase 2 (see [`crate::onchain`]).

/// The setters every flow has: its env vars and how their key is checked.
/// `$check` is the path of the flow's [`key::KeyCheck`].
macro_rules! env_setters {
    ($flow:ident, $($check:ident).+) => {
        impl $flow {
            /// An env var, encrypted so that only the app's TEE can read
            /// it. A later value of the same key replaces an earlier one.
            pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
                self.env.set(crate::env_encryption::EnvVar::new(key, value));
                self
            }

            /// Several env vars: [`EnvVar`](crate::env_encryption::EnvVar)s
            /// or `(key, value)` pairs.
            pub fn envs<I>(mut self, vars: I) -> Self
            where
                I: IntoIterator,
                I::Item: Into<crate::env_encryption::EnvVar>,
            {
                vars.into_iter().for_each(|var| self.env.set(var.into()));
                self
            }

            /// The env vars of a dotenv file (the format of
            /// [`parse_dotenv`](crate::deploy::parse_dotenv)). A file that
            /// cannot be read or parsed is
            /// [`DeployError::EnvFile`](crate::deploy::DeployError::EnvFile)
            /// before anything is sent.
            pub fn env_file(mut self, path: impl AsRef<std::path::Path>) -> Self {
                self.env.read_file(path.as_ref());
                self
            }

            /// The root key the app's env-encryption key must be signed by
            /// (default [`KmsTrust::from_api`](crate::kms_trust::KmsTrust::from_api)).
            pub fn trust(mut self, trust: crate::kms_trust::KmsTrust) -> Self {
                self.$($check).+ = crate::deploy::key::KeyCheck::Verify(trust);
                self
            }

            /// **Turns off the key's signature check**; see
            /// [`AppEnvKeyRequest::skip_key_verification`](crate::env_encryption::AppEnvKeyRequest::skip_key_verification).
            pub fn skip_key_verification(mut self) -> Self {
                self.$($check).+ = crate::deploy::key::KeyCheck::Skip;
                self
            }
        }
    };
}

mod builder;
mod compose;
mod env;
mod key;
#[cfg(feature = "onchain-eth")]
mod register;
mod update;

pub use builder::{Deploy, DeployProposal, Deployment, PendingDeployment};
pub use compose::Compose;
pub use env::parse_dotenv;
pub use update::{PendingUpdate, Proposal, UpdateCompose, UpdateEnvVars};

use crate::ids::{AppId, ComposeHash, CvmRef};
use crate::onchain::OnChainApprovalRequired;

/// The instance type of a deploy that sets none, as the official SDKs
/// choose it.
pub const DEFAULT_INSTANCE_TYPE: &str = "tdx.small";

/// Why a deploy or update flow stopped; nothing was sent unless said so.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// Env vars the compose's `allowed_envs` does not list: the CVM would
    /// never see them. Nothing was sent.
    #[error(
        "env vars {keys:?} are not in the compose's allowed_envs {allowed:?}: the CVM would \
         not receive them (add them to allowed_envs, or use allow_new_keys() on an update)"
    )]
    EnvNotAllowed {
        /// The keys not allowed.
        keys: Vec<String>,
        /// What the compose allows.
        allowed: Vec<String>,
    },
    /// A dotenv file that cannot be read or parsed. Nothing was sent.
    #[error("cannot read env vars from {source_name}: {message}")]
    EnvFile {
        /// The file, or `dotenv text`.
        source_name: String,
        /// What went wrong, with the line when the parser says it.
        message: String,
    },
    /// The step needs the compose hash registered on the app's contract
    /// first: register it, then use the flow's `propose()` and
    /// `confirm`/`commit`, or `register(&provider)` (feature `onchain-eth`).
    #[error(
        "the compose hash {} must be registered on the app contract {} first; use propose() \
         to get the approval", .0.compose_hash, .0.app_id
    )]
    ApprovalRequired(Box<OnChainApprovalRequired>),
    /// An on-chain deploy without an app contract: name an existing one
    /// with [`Deploy::app_id`], or let `Deploy::register(&provider)`
    /// deploy one. Nothing was committed.
    #[error(
        "an on-chain KMS deploy needs the app's contract: set Deploy::app_id to a DstackApp \
         you control, or deploy one with Deploy::register(&provider) (feature onchain-eth)"
    )]
    NoAppContract,
    /// The key the provision answer names is not the one the KMS signed.
    /// Nothing was encrypted.
    #[error(
        "the provision answer's env-encryption key {provisioned} is not the key the KMS signed \
         ({signed}); refusing to encrypt to either"
    )]
    KeyMismatch {
        /// The key in the provision answer.
        provisioned: String,
        /// The key the KMS signed.
        signed: String,
    },
    /// The provision answer's compose hash is not the hash of the app
    /// compose this client sent: the server would have the CVM boot
    /// something other than what you approved. Nothing was committed and
    /// nothing registered on chain. The check is turned off only by the
    /// flows' `skip_compose_hash_check()`.
    #[error(
        "the server answered compose hash {server} for the app compose sent, whose hash is \
         {local}: nothing was committed or registered"
    )]
    ComposeHashMismatch {
        /// The hash of the compose sent, computed here
        /// ([`ComposeHash::of_json`]).
        local: ComposeHash,
        /// The hash the provision answer carries.
        server: ComposeHash,
    },
    /// A CVM waited for settled on another compose hash: it runs, nothing
    /// in progress, with `found` (or its attestation shows `found`).
    #[error(
        "CVM {cvm_id} {waited_for} compose hash {} while {expected} was awaited",
        .found.as_ref().map_or("(none)".to_string(), ToString::to_string)
    )]
    OtherComposeHash {
        /// The CVM.
        cvm_id: CvmRef,
        /// The hash awaited.
        expected: ComposeHash,
        /// The hash it reports instead, if any.
        found: Option<ComposeHash>,
        /// Whether the CVM's state or its attestation showed it.
        waited_for: WaitedFor,
    },
    /// A wait ended at its deadline before the CVM ran (or attested) the
    /// compose hash. Everything before the wait was done: the CVM exists
    /// with that hash committed; keep waiting with
    /// [`Client::wait_for_compose_hash`](crate::Client::wait_for_compose_hash)
    /// and the ids this carries.
    #[error(
        "the deadline passed before CVM {} {} compose hash {} (last seen: {})",
        .0.cvm_id, .0.waited_for, .0.compose_hash,
        .0.last_status.as_deref().unwrap_or("nothing")
    )]
    DeadlinePassed(Box<Unfinished>),
    /// The CVM's attestation did not verify on this machine (feature
    /// `attestation`).
    #[cfg(feature = "attestation")]
    #[error("the CVM's attestation did not verify: {0}")]
    Attestation(Box<crate::local_attestation::AttestationError>),
    /// An answer without what the next step needs (the provision's
    /// `app_id`, a CVM's KMS).
    #[error("cannot go on: {0}")]
    Incomplete(String),
    /// An on-chain step failed (feature `onchain-eth-calldata`).
    #[cfg(feature = "onchain-eth-calldata")]
    #[error(transparent)]
    OnChain(Box<crate::onchain::eth::EthError>),
}

/// What was done when a wait ended at its deadline
/// ([`DeployError::DeadlinePassed`]): enough to keep waiting.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Unfinished {
    /// The CVM.
    pub cvm_id: CvmRef,
    /// The app, once known.
    pub app_id: Option<AppId>,
    /// The compose hash committed (verified unless the check was skipped)
    /// and awaited.
    pub compose_hash: ComposeHash,
    /// What was awaited.
    pub waited_for: WaitedFor,
    /// The CVM's status when last seen, if it was.
    pub last_status: Option<String>,
    /// The compose hash it reported when last seen.
    pub last_compose_hash: Option<ComposeHash>,
}

/// What a wait was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitedFor {
    /// The CVM running the hash, nothing in progress.
    Running,
    /// The CVM's attestation showing the hash.
    Attested,
}

impl std::fmt::Display for WaitedFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WaitedFor::Running => "ran",
            WaitedFor::Attested => "attested",
        })
    }
}

#[cfg(feature = "onchain-eth-calldata")]
impl From<crate::onchain::eth::EthError> for DeployError {
    fn from(e: crate::onchain::eth::EthError) -> Self {
        DeployError::OnChain(Box::new(e))
    }
}
