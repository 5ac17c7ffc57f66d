//! Which KMS root key an app's env-encryption key must be signed by: the
//! trust anchor of [`Client::app_env_encrypt_key`], chosen explicitly.
//!
//! Strongest first:
//!
//! - [`KmsTrust::pinned`]: a root key you obtained yourself (from the KMS's
//!   attested bootstrap, a config file you audit, …). Nothing the API or a
//!   network says can change it.
//! - [`KmsTrust::on_chain`]: the `k256Pubkey` of the KMS contract's
//!   `kmsInfo()`, read through an Ethereum JSON-RPC endpoint you choose
//!   ([`KmsContract`], or any other [`KmsRootKeySource`]). You trust that
//!   endpoint and the contract address you give.
//! - [`KmsTrust::from_api`] (the default, what the official CLI does): the
//!   root key the Phala Cloud API reports for the KMS
//!   (`GET /api/v1/kms/{kms_id}/info`: the API's on-chain read, else the
//!   KMS's own bootstrap info as the API relays it). This proves the key was
//!   signed by the key the API names — it does not protect against the API
//!   itself lying about both.
//!
//! An off-chain (Phala) KMS has no contract, so only a pinned key or the
//! API's word can anchor it.
//!
//! ```
//! use phala_cloud::kms_trust::{KmsContract, KmsTrust};
//!
//! let pinned = KmsTrust::pinned(
//!     "0x0217610d74cbd39b6143842c6d8bc310d79da1d82cc9d17f8876376221eda0c38f".parse()?,
//! );
//! let on_chain = KmsTrust::on_chain(KmsContract::new(
//!     "https://mainnet.base.org",
//!     "0x2f83172A49584C017F2B256F0FB2Dca14126Ba9C",
//! )?);
//! # let _ = (pinned, on_chain);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::ids::{AppId, KmsRef};
use crate::kms_signature::{
    recover_legacy_signer, recover_v1_signer, Freshness, K256PublicKey, KmsSignature,
    SignatureError,
};
use crate::types::KmsInspectResponse;
use crate::{Client, Error};

pub use crate::kms_contract::{ContractKmsInfo, KmsContract};

/// Which kind of anchor a key was checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AnchorKind {
    /// A root key the caller pinned.
    Pinned,
    /// The KMS contract's `kmsInfo()` on chain.
    OnChain,
    /// The root key the Phala Cloud API reports (trusting the API).
    Api,
}

impl fmt::Display for AnchorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnchorKind::Pinned => "pinned root key",
            AnchorKind::OnChain => "KMS contract on chain",
            AnchorKind::Api => "root key reported by the Phala Cloud API",
        })
    }
}

/// Why an env-encryption key was refused. Nothing was encrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyVerificationError {
    /// The answer carries no signature, so nothing shows which KMS the key
    /// comes from.
    #[error(
        "the env-encryption key for app {app} came without a KMS signature, so nothing proves \
         which KMS issued it; refusing to encrypt to it (skip_key_verification() opts out)"
    )]
    MissingSignature {
        /// The app.
        app: AppId,
    },
    /// The signature is malformed, does not verify, or (v1) is stale.
    #[error("the env-encryption key's KMS signature is refused: {0}")]
    Signature(#[from] SignatureError),
    /// The key was signed, but not by the anchor's root key.
    #[error(
        "the env-encryption key was signed by {signer}, not by the KMS root key {expected} \
         ({anchor}); refusing to encrypt to it"
    )]
    SignerMismatch {
        /// Who signed it.
        signer: K256PublicKey,
        /// The anchor's root key.
        expected: K256PublicKey,
        /// Where that root key came from.
        anchor: AnchorKind,
    },
    /// The anchor gave no root key (no key reported, the RPC failed, the
    /// contract answered something else).
    #[error("no KMS root key to check the env-encryption key against ({anchor}): {reason}")]
    AnchorUnavailable {
        /// The anchor asked.
        anchor: AnchorKind,
        /// What went wrong.
        reason: String,
    },
    /// The API reports two different root keys for the KMS (its on-chain
    /// read and the KMS's bootstrap info), or says they do not match.
    #[error("the API's root keys for this KMS disagree ({0}); refusing to pick one")]
    AnchorDisagreement(String),
}

/// Where an on-chain (or otherwise external) root key is read from. The
/// built-in [`KmsContract`] reads `kmsInfo()` with one `eth_call`; another
/// Ethereum client can implement this to serve [`KmsTrust::on_chain`].
pub trait KmsRootKeySource: fmt::Debug + Send + Sync {
    /// The KMS's root secp256k1 key, or why there is none (report it as
    /// [`KeyVerificationError::AnchorUnavailable`]).
    fn k256_pubkey(&self) -> BoxFuture<'_, Result<K256PublicKey, KeyVerificationError>>;
}

/// The trust anchor for env-encryption keys; see the [module docs](self).
/// The default is [`KmsTrust::from_api`].
#[derive(Debug, Clone, Default)]
pub struct KmsTrust(Anchor);

#[derive(Debug, Clone, Default)]
enum Anchor {
    Pinned(K256PublicKey),
    OnChain(Arc<dyn KmsRootKeySource>),
    #[default]
    Api,
}

impl KmsTrust {
    /// Keys must be signed by `root`.
    pub fn pinned(root: K256PublicKey) -> Self {
        Self(Anchor::Pinned(root))
    }

    /// Keys must be signed by the root key `source` reads (the KMS contract
    /// on chain).
    pub fn on_chain(source: impl KmsRootKeySource + 'static) -> Self {
        Self(Anchor::OnChain(Arc::new(source)))
    }

    /// Keys must be signed by the root key the Phala Cloud API reports for
    /// the KMS. This trusts the API for the anchor.
    pub fn from_api() -> Self {
        Self(Anchor::Api)
    }

    /// The kind of anchor.
    pub fn kind(&self) -> AnchorKind {
        match self.0 {
            Anchor::Pinned(_) => AnchorKind::Pinned,
            Anchor::OnChain(_) => AnchorKind::OnChain,
            Anchor::Api => AnchorKind::Api,
        }
    }

    /// The root key, reading it where the anchor says.
    async fn root_key(&self, client: &Client, kms: &KmsRef) -> Result<K256PublicKey, Error> {
        match &self.0 {
            Anchor::Pinned(key) => Ok(*key),
            Anchor::OnChain(source) => Ok(source.k256_pubkey().await?),
            Anchor::Api => {
                let info = client.inspect_kms().kms_id(kms.clone()).send().await?;
                Ok(api_root_key(&info)?)
            }
        }
    }

    /// Checks that `key` is signed by this anchor's root key; returns the
    /// signer.
    pub(crate) async fn verify(
        &self,
        client: &Client,
        kms: &KmsRef,
        key: &SignedKey,
        freshness: Freshness,
    ) -> Result<K256PublicKey, Error> {
        let signers = key.signers(freshness)?;
        let root = self.root_key(client, kms).await?;
        for signer in signers {
            if signer != root {
                return Err(KeyVerificationError::SignerMismatch {
                    signer,
                    expected: root,
                    anchor: self.kind(),
                }
                .into());
            }
        }
        Ok(root)
    }
}

/// An env-encryption key as the KMS signed it: the legacy signature, and the
/// v1 one with its timestamp when the answer has them.
#[derive(Debug, Clone)]
pub(crate) struct SignedKey {
    pub(crate) app: AppId,
    pub(crate) public_key: [u8; 32],
    pub(crate) legacy: Option<String>,
    pub(crate) v1: Option<(u64, String)>,
}

impl SignedKey {
    /// Everyone who signed it, each signature checked; at least one.
    fn signers(&self, freshness: Freshness) -> Result<Vec<K256PublicKey>, KeyVerificationError> {
        let mut signers = Vec::with_capacity(2);
        if let Some(signature) = &self.legacy {
            let signature: KmsSignature = signature.parse()?;
            signers.push(recover_legacy_signer(
                &self.app,
                &self.public_key,
                &signature,
            )?);
        }
        if let Some((timestamp, signature)) = &self.v1 {
            let signature: KmsSignature = signature.parse()?;
            signers.push(recover_v1_signer(
                &self.app,
                &self.public_key,
                *timestamp,
                &signature,
                freshness,
            )?);
        }
        if signers.is_empty() {
            return Err(KeyVerificationError::MissingSignature {
                app: self.app.clone(),
            });
        }
        Ok(signers)
    }
}

/// The root key in the API's KMS info: its on-chain read, else the KMS's
/// bootstrap info; refused when the two differ or the API flags a mismatch.
fn api_root_key(info: &KmsInspectResponse) -> Result<K256PublicKey, KeyVerificationError> {
    let parse = |what: &str, text: &str| {
        text.parse::<K256PublicKey>()
            .map_err(|e| KeyVerificationError::AnchorUnavailable {
                anchor: AnchorKind::Api,
                reason: format!("{what} is not a secp256k1 key: {e}"),
            })
    };
    let on_chain = info.on_chain.as_ref();
    if on_chain
        .and_then(|c| c.verification.as_ref()?.k256_pubkey_match)
        .is_some_and(|matched| !matched)
    {
        return Err(KeyVerificationError::AnchorDisagreement(
            "the API reports that the KMS's k256 key does not match the contract's".into(),
        ));
    }
    let chain_key = on_chain
        .and_then(|c| c.kms_info.as_ref())
        .map(|k| parse("the contract's k256_pubkey", &k.k256_pubkey))
        .transpose()?;
    let rpc_key = info
        .rpc
        .as_ref()
        .map(|r| {
            parse(
                "the KMS's bootstrap k256_pubkey",
                &r.bootstrap_info.k256_pubkey,
            )
        })
        .transpose()?;
    match (chain_key, rpc_key) {
        (Some(chain), Some(rpc)) if chain != rpc => Err(KeyVerificationError::AnchorDisagreement(
            format!("contract {chain}, KMS bootstrap {rpc}"),
        )),
        (Some(key), _) | (None, Some(key)) => Ok(key),
        (None, None) => Err(KeyVerificationError::AnchorUnavailable {
            anchor: AnchorKind::Api,
            reason: format!(
                "the API reports no k256 public key for KMS {} ({})",
                info.id,
                [
                    info.rpc_error.as_deref(),
                    on_chain.and_then(|c| c.error.as_deref())
                ]
                .into_iter()
                .flatten()
                .next()
                .unwrap_or("no RPC or on-chain info")
            ),
        }),
    }
}
