//! Fetching an app's env-encryption key, verified against its KMS before
//! it is handed out ([`Client::app_env_encrypt_key`]), and encrypting to
//! it in one call; the encryption itself is [`crate::env_encryption`].

use std::fmt;

use crate::env_encryption::{EncryptedEnv, EnvEncryptPublicKey, EnvVar};
use crate::error::DecodeError;
use crate::ids::{AppId, KmsRef};
use crate::kms_signature::{Freshness, K256PublicKey};
use crate::kms_trust::{AnchorKind, KmsTrust, SignedKey};
use crate::types::AppEnvEncryptPubkey;
use crate::{Client, Error};

impl Client {
    /// Fetches the public key the app's environment must be encrypted to
    /// (`GET /api/v1/kms/{kms_id}/pubkey/{app_id}`) and checks the KMS's
    /// signature over it before handing it out.
    ///
    /// The lookup goes out with `X-Phala-Version: 2026-06-23` whatever the
    /// client's version (the operation table pins it): under an older one
    /// the server resolves `kms_id` through its node namespace and can land
    /// on a disabled KMS replica that accepts the connection and never
    /// answers (phala-cloud PR #494); from 2026-06-23 on it resolves the KMS
    /// contract and skips disabled replicas. The answer is the same at both
    /// versions, with the timestamped (v1) signature where the KMS gives one.
    ///
    /// *Hand-written:* the generated answer is handed out only once its KMS signature verifies.
    ///
    /// By default the signer must be the root key the API reports for the
    /// KMS ([`KmsTrust::from_api`]); [`AppEnvKeyRequest::trust`] chooses a
    /// stronger anchor (a pinned key, the KMS contract on chain). A missing
    /// or bad signature, or another signer, is an
    /// [`Error::KeyVerification`], before anything is encrypted. The check
    /// can only be turned off by name:
    /// [`AppEnvKeyRequest::skip_key_verification`].
    ///
    /// An invalid `kms_id` or `app_id` is an [`Error::InvalidRequest`] and
    /// nothing is sent; an answer without a usable `public_key` is an
    /// [`Error::Decode`].
    ///
    /// ```no_run
    /// use phala_cloud::kms_trust::KmsTrust;
    ///
    /// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
    /// let root = "0x0217610d74cbd39b6143842c6d8bc310d79da1d82cc9d17f8876376221eda0c38f";
    /// let key = client
    ///     .app_env_encrypt_key("kms_dA2M76mq", "0x1234…")
    ///     .trust(KmsTrust::pinned(root.parse().expect("a k256 key")))
    ///     .send()
    ///     .await?;
    /// println!("{} signed by {:?}", key.public_key, key.verification);
    /// # Ok(())
    /// # }
    /// ```
    pub fn app_env_encrypt_key<K, A>(&self, kms_id: K, app_id: A) -> AppEnvKeyRequest
    where
        K: TryInto<KmsRef>,
        K::Error: fmt::Display,
        A: TryInto<AppId>,
        A::Error: fmt::Display,
    {
        AppEnvKeyRequest {
            client: self.clone(),
            kms_id: crate::ids::param("kms_id", kms_id),
            app_id: crate::ids::param("app_id", app_id),
            check: Check::Verify(KmsTrust::default()),
            freshness: Freshness::default(),
        }
    }

    /// Fetches the app's public key, verifies it against the API's view of
    /// the KMS root key (the default of [`Client::app_env_encrypt_key`]) and
    /// encrypts `vars` to it: the `encrypted_env` and `env_keys` of a deploy
    /// or update request. For another anchor,
    /// `client.app_env_encrypt_key(kms, app).trust(…).encrypt(vars)`.
    ///
    /// *Hand-written:* the key fetch of [`Client::app_env_encrypt_key`] and the encryption in one call.
    ///
    /// Errors are those of [`Client::app_env_encrypt_key`]; if the operating
    /// system has no randomness to give, [`Error::InvalidRequest`].
    ///
    /// ```no_run
    /// use phala_cloud::env_encryption::EnvVar;
    ///
    /// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
    /// let encrypted = client
    ///     .encrypt_env_vars_for_app("kms_dA2M76mq", "0x1234…", &[EnvVar::new("API_TOKEN", "s3cr3t")])
    ///     .await?;
    /// println!("{} {:?}", encrypted.encrypted_env, encrypted.env_keys);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn encrypt_env_vars_for_app<K, A>(
        &self,
        kms_id: K,
        app_id: A,
        vars: &[EnvVar],
    ) -> Result<EncryptedEnv, Error>
    where
        K: TryInto<KmsRef>,
        K::Error: fmt::Display,
        A: TryInto<AppId>,
        A::Error: fmt::Display,
    {
        self.app_env_encrypt_key(kms_id, app_id).encrypt(vars).await
    }
}

/// Whether the key's signature is checked, and against what.
#[derive(Debug, Clone)]
enum Check {
    Verify(KmsTrust),
    Skip,
}

/// A request for an app's env-encryption key; see
/// [`Client::app_env_encrypt_key`].
#[derive(Debug, Clone)]
#[must_use]
pub struct AppEnvKeyRequest {
    client: Client,
    kms_id: Result<KmsRef, String>,
    app_id: Result<AppId, String>,
    check: Check,
    freshness: Freshness,
}

/// An app's env-encryption key and what was verified about it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppEnvKey {
    /// The key to encrypt to.
    pub public_key: EnvEncryptPublicKey,
    /// What its signature proved.
    pub verification: KeyVerification,
}

/// What was verified about an env-encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyVerification {
    /// The KMS signature verifies and its signer is the anchor's root key.
    Verified {
        /// The root key that signed it.
        signer: K256PublicKey,
        /// Where that root key came from.
        anchor: AnchorKind,
    },
    /// Nothing was checked: [`AppEnvKeyRequest::skip_key_verification`].
    Skipped,
}

crate::options::with_options!(AppEnvKeyRequest);

impl AppEnvKeyRequest {
    /// The root key the signature must come from (default
    /// [`KmsTrust::from_api`]).
    pub fn trust(mut self, trust: KmsTrust) -> Self {
        self.check = Check::Verify(trust);
        self
    }

    /// How fresh a timestamped (v1) signature must be, when the answer
    /// carries one (default: at most 300 s old, 60 s ahead).
    pub fn freshness(mut self, freshness: Freshness) -> Self {
        self.freshness = freshness;
        self
    }

    /// **Turns off the signature check**: the key is used as the API sent
    /// it, and whoever controls the API or the connection can read the
    /// secrets encrypted to it. For tests and for KMS deployments that sign
    /// nothing; the result says [`KeyVerification::Skipped`].
    pub fn skip_key_verification(mut self) -> Self {
        self.check = Check::Skip;
        self
    }

    /// Fetches and verifies the key.
    pub async fn send(self) -> Result<AppEnvKey, Error> {
        let kms = self.kms_id.map_err(Error::InvalidRequest)?;
        let app = self.app_id.map_err(Error::InvalidRequest)?;
        let answer = self
            .client
            .get_app_env_encrypt_pubkey()
            .kms_id(kms.clone())
            .app_id(app.clone())
            .send()
            .await?
            .into_inner();
        let signed = read_pubkey_answer(&answer, app)?;
        let public_key = EnvEncryptPublicKey::from_bytes(signed.public_key)
            .map_err(|e| answer_error(&answer, format!("`public_key`: {e}")))?;
        let verification = match self.check {
            Check::Skip => {
                tracing::warn!(
                    app_id = %signed.app,
                    "env-encryption key used without verifying its KMS signature"
                );
                KeyVerification::Skipped
            }
            Check::Verify(trust) => KeyVerification::Verified {
                signer: trust
                    .verify(&self.client, &kms, &signed, self.freshness)
                    .await?,
                anchor: trust.kind(),
            },
        };
        Ok(AppEnvKey {
            public_key,
            verification,
        })
    }

    /// Fetches and verifies the key, then encrypts `vars` to it.
    pub async fn encrypt(self, vars: &[EnvVar]) -> Result<EncryptedEnv, Error> {
        let key = self.send().await?;
        key.public_key
            .encrypt(vars)
            .map_err(|e| Error::InvalidRequest(format!("cannot encrypt the environment: {e}")))
    }
}

/// The pubkey answer's fields: `public_key` and `signature`, and the v1
/// `timestamp` + `signature_v1` should the API pass them on. The spec gives
/// the answer no schema, so it is read here, in one place.
fn read_pubkey_answer(answer: &AppEnvEncryptPubkey, app: AppId) -> Result<SignedKey, Error> {
    let public_key = crate::ids::parse_hex_bytes::<32>(answer.public_key.trim()).map_err(|e| {
        answer_error(
            answer,
            format!("`public_key`: invalid env-encryption public key: {e}"),
        )
    })?;
    let legacy = answer.signature.clone().filter(|s| !s.is_empty());
    let v1 = match (answer.timestamp, answer.signature_v1.as_deref()) {
        (Some(timestamp), Some(signature)) if !signature.is_empty() => {
            Some((timestamp, signature.to_string()))
        }
        _ => None,
    };
    Ok(SignedKey {
        app,
        public_key,
        legacy,
        v1,
    })
}

fn answer_error(answer: &AppEnvEncryptPubkey, message: String) -> Error {
    Error::Decode(Box::new(DecodeError {
        path: "public_key".into(),
        message,
        excerpt: crate::error::excerpt(&serde_json::to_vec(answer).unwrap_or_default()),
    }))
}
