//! Encrypting a CVM's environment variables to its app's public key, as the
//! official SDKs do, so that only the app's TEE can read them.
//!
//! The plaintext is the compact JSON `{"env":[{"key":K,"value":V},…]}`. It is
//! sealed with an ephemeral X25519 key agreed with the app's public key; the
//! raw 32-byte shared secret is the AES-256-GCM key (no KDF, no associated
//! data) and the nonce is 12 random bytes. The result, sent as
//! `encrypted_env`, is the lowercase hex of
//! `ephemeral public key (32) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`; the key
//! names go alongside as `env_keys`.
//!
//! Values are held in memory that is wiped when dropped, and never shown by
//! `Debug`; so are the plaintext, the ephemeral secret and the shared secret.
//!
//! A key fetched with [`Client::app_env_encrypt_key`](crate::Client::app_env_encrypt_key) (or
//! [`Client::encrypt_env_vars_for_app`](crate::Client::encrypt_env_vars_for_app)) is refused unless the KMS's
//! signature over it verifies against a trust anchor
//! ([`crate::kms_trust`]). A key you parse yourself, as below, is used as
//! given: nothing shows who issued it.
//!
//! ```
//! use phala_cloud::env_encryption::{EnvEncryptPublicKey, EnvVar};
//!
//! // `app_env_encrypt_pubkey` from provisioning, or `Client::app_env_encrypt_key`.
//! let key: EnvEncryptPublicKey =
//!     "0x8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a".parse()?;
//! let encrypted = key.encrypt(&[
//!     EnvVar::new("DATABASE_URL", "postgres://…"),
//!     EnvVar::new("API_TOKEN", "s3cr3t"),
//! ])?;
//! assert_eq!(encrypted.env_keys, ["DATABASE_URL", "API_TOKEN"]);
//! assert!(!format!("{:?}", EnvVar::new("API_TOKEN", "s3cr3t")).contains("s3cr3t"));
//! # Ok::<(), phala_cloud::env_encryption::EnvEncryptionError>(())
//! ```

use std::fmt;
use std::io;
use std::str::FromStr;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use x25519_dalek::{x25519, X25519_BASEPOINT_BYTES};
use zeroize::Zeroizing;

pub use crate::handwritten::env_key::{AppEnvKey, AppEnvKeyRequest, KeyVerification};

/// Length of the ephemeral public key at the start of `encrypted_env`.
const PUBLIC_KEY_LEN: usize = 32;
/// Length of the AES-GCM nonce that follows it.
const NONCE_LEN: usize = 12;

/// What can go wrong preparing `encrypted_env`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvEncryptionError {
    /// The public key is not 32 bytes of hex, or is a point no key agreement
    /// can use (a low-order point, which would make the shared secret
    /// all-zero and the ciphertext readable by anyone).
    #[error("invalid env-encryption public key: {0}")]
    InvalidPublicKey(String),
    /// The operating system gave no random bytes for the ephemeral key or
    /// the nonce.
    #[error("no randomness for env encryption: {0}")]
    Randomness(String),
    /// AES-GCM refused the plaintext (only for sizes far beyond any
    /// environment).
    #[error("env encryption failed")]
    Cipher,
}

/// An app's X25519 public key for environment encryption: 32 bytes, written
/// as 64 hex digits with or without `0x` (`app_env_encrypt_pubkey`,
/// `encrypted_env_pubkey`, or `public_key` from
/// `GET /api/v1/kms/{kms_id}/pubkey/{app_id}`).
///
/// Parsing rejects low-order points, so every value of this type is usable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnvEncryptPublicKey([u8; PUBLIC_KEY_LEN]);

impl EnvEncryptPublicKey {
    /// The key from its 32 bytes.
    ///
    /// Fails with [`EnvEncryptionError::InvalidPublicKey`] for a low-order
    /// point.
    pub fn from_bytes(bytes: [u8; PUBLIC_KEY_LEN]) -> Result<Self, EnvEncryptionError> {
        // Clamped X25519 scalars are multiples of the cofactor, so any of them
        // maps a low-order point (on the curve or its twist) to zero, and only
        // such a point: one scalar decides for all.
        if x25519([1; 32], bytes) == [0; 32] {
            return Err(EnvEncryptionError::InvalidPublicKey(
                "a low-order point, which gives an all-zero shared secret".into(),
            ));
        }
        Ok(Self(bytes))
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.0
    }

    /// Encrypts `vars` to this key with a fresh ephemeral key and nonce: the
    /// `encrypted_env` and `env_keys` of a deploy or update request.
    ///
    /// Each call gives a different ciphertext for the same input.
    pub fn encrypt(&self, vars: &[EnvVar]) -> Result<EncryptedEnv, EnvEncryptionError> {
        let mut ephemeral = Zeroizing::new([0u8; 32]);
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(ephemeral.as_mut_slice())
            .and_then(|()| getrandom::fill(&mut nonce))
            .map_err(|e| EnvEncryptionError::Randomness(e.to_string()))?;
        self.seal(&ephemeral, nonce, vars)
    }

    /// The encryption itself, with the ephemeral secret and nonce given, so
    /// that a fixed vector can test it.
    fn seal(
        &self,
        ephemeral: &[u8; 32],
        nonce: [u8; NONCE_LEN],
        vars: &[EnvVar],
    ) -> Result<EncryptedEnv, EnvEncryptionError> {
        let ephemeral_public = x25519(*ephemeral, X25519_BASEPOINT_BYTES);
        let shared = Zeroizing::new(x25519(*ephemeral, self.0));
        let cipher =
            Aes256Gcm::new_from_slice(shared.as_slice()).map_err(|_| EnvEncryptionError::Cipher)?;
        let plaintext = plaintext(vars);
        let ciphertext = cipher
            .encrypt(&Nonce::from(nonce), plaintext.as_slice())
            .map_err(|_| EnvEncryptionError::Cipher)?;

        let mut sealed = Vec::with_capacity(PUBLIC_KEY_LEN + NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&ephemeral_public);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(EncryptedEnv {
            encrypted_env: hex::encode(sealed),
            env_keys: vars.iter().map(|v| v.key.clone()).collect(),
        })
    }
}

impl TryFrom<[u8; PUBLIC_KEY_LEN]> for EnvEncryptPublicKey {
    type Error = EnvEncryptionError;

    fn try_from(bytes: [u8; PUBLIC_KEY_LEN]) -> Result<Self, Self::Error> {
        Self::from_bytes(bytes)
    }
}

impl FromStr for EnvEncryptPublicKey {
    type Err = EnvEncryptionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = crate::ids::parse_hex_bytes::<32>(s.trim())
            .map_err(|e| EnvEncryptionError::InvalidPublicKey(e.to_string()))?;
        Self::from_bytes(bytes)
    }
}

impl fmt::Display for EnvEncryptPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for EnvEncryptPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnvEncryptPublicKey({self})")
    }
}

/// One environment variable. The value is wiped from memory when dropped and
/// never shown by `Debug`.
///
/// ```
/// use phala_cloud::env_encryption::EnvVar;
///
/// let var = EnvVar::from(("API_TOKEN", "s3cr3t"));
/// assert_eq!(var.key(), "API_TOKEN");
/// assert_eq!(format!("{var:?}"), r#"EnvVar { key: "API_TOKEN", value: "<redacted>" }"#);
/// ```
#[derive(Clone)]
pub struct EnvVar {
    key: String,
    value: Zeroizing<String>,
}

impl EnvVar {
    /// A variable. Key names must be among the compose's `allowed_envs` for
    /// the CVM to receive them.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: Zeroizing::new(value.into()),
        }
    }

    /// The name.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The secret value.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl<K: Into<String>, V: Into<String>> From<(K, V)> for EnvVar {
    fn from((key, value): (K, V)) -> Self {
        Self::new(key, value)
    }
}

impl fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvVar")
            .field("key", &self.key)
            .field("value", &"<redacted>")
            .finish()
    }
}

/// The two request fields that carry encrypted environment variables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EncryptedEnv {
    /// Lowercase hex, no `0x`: `ephemeral public key ‖ nonce ‖ ciphertext ‖ tag`.
    pub encrypted_env: String,
    /// The variables' names, in the order given.
    pub env_keys: Vec<String>,
}

/// The plaintext the TEE expects, in a buffer wiped on drop. It is written
/// twice, first to count its length, so that the buffer never grows and
/// leaves an unwiped copy behind.
fn plaintext(vars: &[EnvVar]) -> Zeroizing<Vec<u8>> {
    let document = Document(vars);
    let mut counter = Counter(0);
    write_json(&mut counter, &document);
    let mut buffer = Zeroizing::new(Vec::with_capacity(counter.0));
    write_json(&mut *buffer, &document);
    buffer
}

fn write_json<W: io::Write>(writer: W, document: &Document<'_>) {
    // Strings into an infallible writer: serde_json cannot fail here.
    serde_json::to_writer(writer, document).expect("string JSON into memory cannot fail");
}

/// `{"env":[{"key":K,"value":V},…]}`; kept private so values are only ever
/// serialized into the wiped plaintext buffer.
struct Document<'a>(&'a [EnvVar]);
struct Entry<'a>(&'a EnvVar);

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut document = serializer.serialize_struct("Document", 1)?;
        document.serialize_field("env", &self.0.iter().map(Entry).collect::<Vec<_>>())?;
        document.end()
    }
}

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut entry = serializer.serialize_struct("Entry", 2)?;
        entry.serialize_field("key", &self.0.key)?;
        entry.serialize_field("value", self.0.value.as_str())?;
        entry.end()
    }
}

/// A writer that only counts bytes.
struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed vector, computed independently with Python's `cryptography`
    /// package (48.0.0), no Rust involved:
    ///
    /// ```python
    /// from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    /// from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    /// from cryptography.hazmat.primitives import serialization as s
    /// raw = lambda k: k.public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
    /// app = X25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    /// eph = X25519PrivateKey.from_private_bytes(bytes([0x42] * 32))
    /// nonce = bytes(range(12))
    /// pt = '{"env":[{"key":"FOO","value":"bar"},{"key":"GREETING","value":"héllo \\"wörld\\"\\n"}]}'
    /// shared = eph.exchange(app.public_key())
    /// print(raw(app.public_key()).hex())
    /// print((raw(eph.public_key()) + nonce + AESGCM(shared).encrypt(nonce, pt.encode(), None)).hex())
    /// ```
    #[test]
    fn matches_an_independent_implementation() {
        let key: EnvEncryptPublicKey = APP_PUBLIC_KEY.parse().unwrap();
        let vars = [
            EnvVar::new("FOO", "bar"),
            EnvVar::new("GREETING", "héllo \"wörld\"\n"),
        ];
        let sealed = key
            .seal(&[0x42; 32], std::array::from_fn(|i| i as u8), &vars)
            .unwrap();
        assert_eq!(sealed.encrypted_env, EXPECTED);
        assert_eq!(sealed.env_keys, ["FOO", "GREETING"]);
    }

    const APP_PUBLIC_KEY: &str = "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c";
    const EXPECTED: &str = concat!(
        "132c442be010fbd57e72603328aa76e71fccc1503aae219327d14d9c9993f472",
        "000102030405060708090a0b",
        "66a361f3976978796cdde062a965eb0ab70dc1fc72dd6907984e8195c6778669cb7dd866eba28308",
        "267521c38c0dd1a6c7d50a65f79e5b37354833e6ab4f0b3058aa57a4dc2b9b990853e27a5ba33e5c",
        "15fe09e1087819b0e442e4330ba1fb4df862365f3785",
    );

    #[test]
    fn the_plaintext_is_compact_json_in_an_exact_buffer() {
        let vars = [EnvVar::new("A", "1"), EnvVar::new("B", "ü")];
        let buffer = plaintext(&vars);
        assert_eq!(
            std::str::from_utf8(&buffer).unwrap(),
            r#"{"env":[{"key":"A","value":"1"},{"key":"B","value":"ü"}]}"#
        );
        assert_eq!(buffer.capacity(), buffer.len());
        assert_eq!(&*plaintext(&[]), br#"{"env":[]}"#);
    }
}
