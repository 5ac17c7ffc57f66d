//! The KMS's signature over an app's env-encryption key: who signed it.
//!
//! A dstack KMS derives one X25519 key per app for environment encryption
//! and signs it with its root secp256k1 key, so that a client can check the
//! key came from that KMS before sealing secrets to it. Two forms exist:
//!
//! - **legacy** (the only one the Phala Cloud API returns): a recoverable
//!   ECDSA signature over
//!   `Keccak-256("dstack-env-encrypt-pubkey" ‖ ":" ‖ app_id (20 bytes) ‖ public_key (32 bytes))`;
//! - **v1** (the KMS's own RPC): the same with the signing time as a
//!   big-endian `u64` between the app id and the key, so that an old
//!   signature cannot be replayed; accepted when at most 300 s old and at
//!   most 60 s in the future (both adjustable, see [`Freshness`]).
//!
//! Both are 65 bytes, `r (32) ‖ s (32) ‖ recovery id (0 or 1)`. Recovering
//! the signer proves only *which* key signed; whether that key is the KMS's
//! root key is the trust anchor's question (see [`crate::kms_trust`]).
//!
//! ```
//! use phala_cloud::ids::AppId;
//! use phala_cloud::kms_signature::{recover_legacy_signer, KmsSignature};
//!
//! // The vector published with dstack's SDKs.
//! let app: AppId = "0000000000000000000000000000000000000000".parse()?;
//! let key: [u8; 32] =
//!     hex::decode("e33a1832c6562067ff8f844a61e51ad051f1180b66ec2551fb0251735f3ee90a")?
//!         .try_into()
//!         .unwrap();
//! let signature: KmsSignature = "8542c49081fbf4e03f62034f13fbf70630bdf256a53032e38465a27c36fd6bed\
//!                                7a5e7111652004aef37f7fd92fbfc1285212c4ae6a6154203a48f5e16cad2cef00"
//!     .parse()?;
//! let signer = recover_legacy_signer(&app, &key, &signature)?;
//! assert_eq!(
//!     signer.to_string(),
//!     "0x0217610d74cbd39b6143842c6d8bc310d79da1d82cc9d17f8876376221eda0c38f"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use sha3::{Digest, Keccak256};

use crate::ids::{AppId, ParseIdError};

/// What the KMS prefixes to every signed env-encryption key.
const DOMAIN: &[u8] = b"dstack-env-encrypt-pubkey";

/// Why a signature does not give a signer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// Not 65 bytes of hex, or a recovery id other than 0–3.
    #[error("malformed KMS signature: {0}")]
    Malformed(String),
    /// Well-formed, but no key signed this message with it (the key, the
    /// app id or the timestamp differ from what was signed).
    #[error("the KMS signature does not verify for this key and app")]
    Invalid,
    /// A v1 signature older than the freshness window allows.
    #[error("the KMS signature is {age_secs} s old; at most {max_age_secs} s is accepted")]
    Expired {
        /// How old it is.
        age_secs: u64,
        /// The limit.
        max_age_secs: u64,
    },
    /// A v1 signature dated further in the future than clock skew explains.
    #[error("the KMS signature is dated {ahead_secs} s in the future; at most {max_skew_secs} s is accepted")]
    FromTheFuture {
        /// How far ahead it is.
        ahead_secs: u64,
        /// The limit.
        max_skew_secs: u64,
    },
    /// An app id an answer carried in another form than 40 hex digits, kept
    /// as the server sent it (see [`crate::ids`]): no signed message names
    /// it.
    #[error("no KMS signature can be checked for this app id: {0}")]
    AppId(#[from] ParseIdError),
}

/// A secp256k1 public key, such as a KMS's root key (`k256_pubkey`): parsed
/// from 33 (compressed) or 65 (uncompressed) bytes of hex, `0x` optional;
/// shown compressed as `0x…` (66 hex digits), the form the official SDKs
/// return.
///
/// ```
/// use phala_cloud::kms_signature::K256PublicKey;
///
/// let key: K256PublicKey =
///     "0217610d74cbd39b6143842c6d8bc310d79da1d82cc9d17f8876376221eda0c38f".parse()?;
/// assert_eq!(key.to_string(), "0x0217610d74cbd39b6143842c6d8bc310d79da1d82cc9d17f8876376221eda0c38f");
/// assert!("0x02".parse::<K256PublicKey>().is_err());
/// # Ok::<(), phala_cloud::kms_signature::SignatureError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct K256PublicKey([u8; 33]);

impl K256PublicKey {
    /// The key from its SEC1 bytes (33 compressed or 65 uncompressed).
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, SignatureError> {
        VerifyingKey::from_sec1_bytes(bytes)
            .map(|key| Self::from(&key))
            .map_err(|_| SignatureError::Malformed("not a secp256k1 public key".into()))
    }

    /// The 33-byte compressed SEC1 form.
    pub fn to_compressed(&self) -> [u8; 33] {
        self.0
    }
}

impl From<&VerifyingKey> for K256PublicKey {
    fn from(key: &VerifyingKey) -> Self {
        let mut compressed = [0u8; 33];
        compressed.copy_from_slice(key.to_encoded_point(true).as_bytes());
        Self(compressed)
    }
}

impl FromStr for K256PublicKey {
    type Err = SignatureError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = decode_hex(s)?;
        if bytes.len() != 33 && bytes.len() != 65 {
            return Err(SignatureError::Malformed(format!(
                "a secp256k1 public key is 33 or 65 bytes, not {}",
                bytes.len()
            )));
        }
        Self::from_sec1_bytes(&bytes)
    }
}

impl fmt::Display for K256PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.to_compressed()))
    }
}

impl fmt::Debug for K256PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "K256PublicKey({self})")
    }
}

/// A KMS signature: 65 bytes `r ‖ s ‖ recovery id`, parsed from hex with or
/// without `0x`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KmsSignature {
    signature: Signature,
    recovery_id: RecoveryId,
}

impl KmsSignature {
    /// The signature from its 65 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SignatureError> {
        let [body @ .., last] = bytes else {
            return Err(SignatureError::Malformed("empty".into()));
        };
        if bytes.len() != 65 {
            return Err(SignatureError::Malformed(format!(
                "expected 65 bytes (r ‖ s ‖ recovery id), found {}",
                bytes.len()
            )));
        }
        let recovery_id = RecoveryId::from_byte(*last).ok_or_else(|| {
            SignatureError::Malformed(format!(
                "recovery id {last} (KMS signatures carry 0 or 1, not Ethereum's 27/28)"
            ))
        })?;
        let signature = Signature::from_slice(body)
            .map_err(|_| SignatureError::Malformed("r or s is not a valid scalar".into()))?;
        Ok(Self {
            signature,
            recovery_id,
        })
    }

    /// Who signed `message`, from its Keccak-256 digest.
    fn recover(&self, message: &[u8]) -> Result<K256PublicKey, SignatureError> {
        let digest = Keccak256::digest(message);
        VerifyingKey::recover_from_prehash(&digest, &self.signature, self.recovery_id)
            .map(|key| K256PublicKey::from(&key))
            .map_err(|_| SignatureError::Invalid)
    }
}

impl FromStr for KmsSignature {
    type Err = SignatureError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bytes(&decode_hex(s)?)
    }
}

impl fmt::Debug for KmsSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = self.signature.to_bytes().to_vec();
        bytes.push(self.recovery_id.to_byte());
        write!(f, "KmsSignature({})", hex::encode(bytes))
    }
}

/// How fresh a v1 signature must be: signed at most `max_age` before `now`
/// and at most `max_future_skew` after it. The default is 300 s and 60 s at
/// the system clock's now, as in dstack's SDKs.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use phala_cloud::kms_signature::Freshness;
///
/// let at = Freshness::default().at(UNIX_EPOCH + Duration::from_secs(1_750_000_000));
/// # let _ = at;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    now: Option<SystemTime>,
    max_age: Duration,
    max_future_skew: Duration,
}

impl Default for Freshness {
    fn default() -> Self {
        Self {
            now: None,
            max_age: Duration::from_secs(300),
            max_future_skew: Duration::from_secs(60),
        }
    }
}

impl Freshness {
    /// Judges against `now` instead of the system clock.
    pub fn at(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }

    /// The oldest signature accepted.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// How far in the future a signature may be dated.
    pub fn max_future_skew(mut self, skew: Duration) -> Self {
        self.max_future_skew = skew;
        self
    }

    fn check(&self, timestamp: u64) -> Result<(), SignatureError> {
        let now = self.now.unwrap_or_else(SystemTime::now);
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if timestamp > now {
            let ahead_secs = timestamp - now;
            if ahead_secs > self.max_future_skew.as_secs() {
                return Err(SignatureError::FromTheFuture {
                    ahead_secs,
                    max_skew_secs: self.max_future_skew.as_secs(),
                });
            }
        } else if now - timestamp > self.max_age.as_secs() {
            return Err(SignatureError::Expired {
                age_secs: now - timestamp,
                max_age_secs: self.max_age.as_secs(),
            });
        }
        Ok(())
    }
}

/// The key that made a legacy signature over `public_key` for `app`;
/// [`SignatureError::AppId`] for an app id kept as the server sent it.
pub fn recover_legacy_signer(
    app: &AppId,
    public_key: &[u8; 32],
    signature: &KmsSignature,
) -> Result<K256PublicKey, SignatureError> {
    signature.recover(&message(app, None, public_key)?)
}

/// The key that made a v1 signature over `public_key` for `app` at
/// `timestamp` (UNIX seconds), once the timestamp passes `freshness`;
/// [`SignatureError::AppId`] for an app id kept as the server sent it.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use phala_cloud::ids::AppId;
/// use phala_cloud::kms_signature::{recover_v1_signer, Freshness, SignatureError};
///
/// let app: AppId = "ab".repeat(20).parse()?;
/// let signature = "84b2e6b4e45bf6b7300bd919569b02a379fd1dda4ae73a1b0060e2993c7dfa88\
///                  52c5cc2a3c33fa0f672bbe352d569fb68942cb11bccd8352103dab690fd982a000".parse()?;
/// let signed_at = UNIX_EPOCH + Duration::from_secs(1_750_000_000);
/// let signer = recover_v1_signer(&app, &[0xde; 32], 1_750_000_000, &signature,
///                                Freshness::default().at(signed_at))?;
/// assert_eq!(signer.to_string(), "0x031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f");
///
/// let an_hour_later = Freshness::default().at(signed_at + Duration::from_secs(3600));
/// assert!(matches!(
///     recover_v1_signer(&app, &[0xde; 32], 1_750_000_000, &signature, an_hour_later),
///     Err(SignatureError::Expired { .. })
/// ));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn recover_v1_signer(
    app: &AppId,
    public_key: &[u8; 32],
    timestamp: u64,
    signature: &KmsSignature,
    freshness: Freshness,
) -> Result<K256PublicKey, SignatureError> {
    freshness.check(timestamp)?;
    signature.recover(&message(app, Some(timestamp), public_key)?)
}

/// `"dstack-env-encrypt-pubkey" ‖ ":" ‖ app_id ‖ [timestamp BE] ‖ public_key`:
/// what a KMS signs, for the verifier here and the mock's test KMS.
pub(crate) fn message(
    app: &AppId,
    timestamp: Option<u64>,
    public_key: &[u8; 32],
) -> Result<Vec<u8>, ParseIdError> {
    let app = app.to_bytes()?;
    let mut message = Vec::with_capacity(DOMAIN.len() + 1 + 20 + 8 + 32);
    message.extend_from_slice(DOMAIN);
    message.push(b':');
    message.extend_from_slice(&app);
    if let Some(timestamp) = timestamp {
        message.extend_from_slice(&timestamp.to_be_bytes());
    }
    message.extend_from_slice(public_key);
    Ok(message)
}

fn decode_hex(s: &str) -> Result<Vec<u8>, SignatureError> {
    hex::decode(crate::ids::strip_0x(s.trim()))
        .map_err(|e| SignatureError::Malformed(format!("not hex: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_layout_matches_the_published_bytes() {
        let app: AppId = "00".repeat(20).parse().unwrap();
        let key: [u8; 32] =
            hex::decode("e33a1832c6562067ff8f844a61e51ad051f1180b66ec2551fb0251735f3ee90a")
                .unwrap()
                .try_into()
                .unwrap();
        assert_eq!(
            hex::encode(message(&app, None, &key).unwrap()),
            "64737461636b2d656e762d656e63727970742d7075626b65793a0000000000000000000000000000000000000000e33a1832c6562067ff8f844a61e51ad051f1180b66ec2551fb0251735f3ee90a"
        );
        let app: AppId = "ab".repeat(20).parse().unwrap();
        assert_eq!(
            hex::encode(message(&app, Some(1_750_000_000), &[0xde; 32]).unwrap()),
            concat!(
                "64737461636b2d656e762d656e63727970742d7075626b65793a",
                "abababababababababababababababababababab00000000684ee180",
                "dededededededededededededededededededededededededededededededede"
            )
        );
    }

    #[test]
    fn freshness_has_a_past_and_a_future_edge() {
        let at = |now| Freshness::default().at(UNIX_EPOCH + Duration::from_secs(now));
        assert_eq!(at(1300).check(1000), Ok(()));
        assert_eq!(
            at(1301).check(1000),
            Err(SignatureError::Expired {
                age_secs: 301,
                max_age_secs: 300
            })
        );
        assert_eq!(at(940).check(1000), Ok(()));
        assert_eq!(
            at(939).check(1000),
            Err(SignatureError::FromTheFuture {
                ahead_secs: 61,
                max_skew_secs: 60
            })
        );
        let strict = Freshness::default()
            .max_age(Duration::from_secs(10))
            .max_future_skew(Duration::ZERO)
            .at(UNIX_EPOCH + Duration::from_secs(1000));
        assert!(strict.check(989).is_err());
        assert!(strict.check(1001).is_err());
        assert_eq!(strict.check(1000), Ok(()));
    }
}
