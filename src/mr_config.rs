//! `mr_config_id`: the 48-byte value a dstack CVM's TDX quote carries to
//! bind its configuration (compose hash, app id, key provider, …), computed
//! here so you can predict what an attested CVM must report.
//!
//! The first byte is the version; bytes 33..48 are zero.
//!
//! - **V1** `0x01 ‖ compose_hash ‖ 0×15`: TDX VMs whose compose sets no key
//!   provider id.
//! - **V2** `0x02 ‖ Keccak-256(compose_hash ‖ app_id ‖ key_provider_byte ‖ key_provider_id) ‖ 0×15`:
//!   only VMs created before the V3 document existed.
//! - **V3** `0x03 ‖ SHA-256("dstack-mr-config-v3:" ‖ 0x00 ‖ document) ‖ 0×15`,
//!   where `document` is the [`MrConfigV3`] in RFC 8785 canonical JSON
//!   (JCS); on AMD SEV-SNP the digest alone is the launch's `host_data`.
//!   A verifier hashes the document bytes it is given, exactly: the same
//!   fields pretty-printed give another digest
//!   ([`MrConfigV3::digest_of_document`]).
//!
//! The compose hash is the one the CVM measures: for a compose you hold as
//! JSON, [`ComposeHash::of_json`] (compact, sorted keys; see
//! [`crate::compose_hash`]), or the server's `compose_hash`.
//!
//! ```
//! use phala_cloud::ids::ComposeHash;
//! use phala_cloud::mr_config::{KeyProvider, MrConfigId, MrConfigV3};
//!
//! let app_compose = serde_json::json!({"name": "demo", "runner": "docker-compose",
//!     "docker_compose_file": "services: {}", "kms_enabled": false});
//! let v1 = MrConfigId::v1(&ComposeHash::of_json(&app_compose))?;
//! assert_eq!(v1.v1_compose_hash(), Some(ComposeHash::of_json(&app_compose)));
//!
//! let compose: ComposeHash = "22".repeat(32).parse()?;
//! let v1 = MrConfigId::v1(&compose)?;
//! assert_eq!(v1.version(), 1);
//! assert_eq!(v1.v1_compose_hash(), Some(compose.clone()));
//!
//! let v3 = MrConfigV3::new(compose, KeyProvider::None).app_id("11".repeat(20).parse()?);
//! assert_eq!(
//!     v3.document()?,
//!     r#"{"app_id":"1111111111111111111111111111111111111111","compose_hash":"2222222222222222222222222222222222222222222222222222222222222222","key_provider":"none","version":3}"#
//! );
//! assert_eq!(
//!     v3.mr_config_id()?.to_string(),
//!     "0301d4d7e6ca2922bb80683c27fe1f4da318cf14d1c38db97563c2b6209af7dba5000000000000000000000000000000"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use sha2::Sha256;
use sha3::{Digest, Keccak256};

use crate::ids::{AppId, ComposeHash, ParseIdError};

/// Domain separation of the V3 digest: the tag, then one zero byte.
const V3_DOMAIN: &[u8] = b"dstack-mr-config-v3:\0";
/// The most init-script hashes a V3 document may list.
const MAX_INIT_SCRIPTS: usize = 5;

/// Why an `mr_config_id` cannot be computed or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MrConfigError {
    /// More init-script hashes than a V3 document allows.
    #[error("a V3 document lists at most {MAX_INIT_SCRIPTS} init-script hashes, not {0}")]
    TooManyInitScripts(usize),
    /// Text that is not 48 bytes of hex, or 20 for an instance id.
    #[error("not {expected} bytes of hex: {input:?}")]
    NotHex {
        /// How many bytes were expected.
        expected: usize,
        /// The text given.
        input: String,
    },
    /// A compose hash or app id an answer carried in another form than its
    /// hex, kept as the server sent it (see [`crate::ids`]): it has no bytes
    /// to bind.
    #[error("cannot compute an mr_config_id from it: {0}")]
    Id(#[from] ParseIdError),
}

/// Who provides the CVM's disk and app keys, as the V2 byte and the V3
/// document name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeyProvider {
    /// No key provider.
    None,
    /// A local (SGX) key provider; the runtime event names it `local-sgx`.
    Local,
    /// A dstack KMS; its id is the KMS's k256 public key.
    Kms,
    /// The TPM.
    Tpm,
}

impl KeyProvider {
    /// The byte V2 hashes.
    fn v2_byte(self) -> u8 {
        match self {
            KeyProvider::None => 0,
            KeyProvider::Local => 1,
            KeyProvider::Kms => 2,
            KeyProvider::Tpm => 3,
        }
    }
}

/// A CVM instance id: 20 bytes, written as 40 hex digits with or without
/// `0x`.
///
/// ```
/// use phala_cloud::mr_config::InstanceId;
///
/// let id: InstanceId = "0x4444444444444444444444444444444444444444".parse()?;
/// assert_eq!(id.to_string(), "44".repeat(20));
/// # Ok::<(), phala_cloud::mr_config::MrConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InstanceId([u8; 20]);

impl InstanceId {
    /// The 20 bytes.
    pub fn to_bytes(self) -> [u8; 20] {
        self.0
    }
}

impl From<[u8; 20]> for InstanceId {
    fn from(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }
}

impl FromStr for InstanceId {
    type Err = MrConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_hex(s).map(Self)
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// The 48-byte `mr_config_id` of a TDX quote; shown as 96 lower-case hex
/// digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MrConfigId([u8; 48]);

impl MrConfigId {
    /// V1: `0x01 ‖ compose_hash ‖ 0×15`; [`MrConfigError::Id`] for a
    /// compose hash kept as the server sent it.
    pub fn v1(compose_hash: &ComposeHash) -> Result<Self, MrConfigError> {
        Ok(Self::framed(1, &compose_hash.to_bytes()?))
    }

    /// V2 (VMs created before V3):
    /// `0x02 ‖ Keccak-256(compose_hash ‖ app_id ‖ key_provider_byte ‖ key_provider_id) ‖ 0×15`.
    /// An app without an id of its own uses the compose hash's first 20
    /// bytes. [`MrConfigError::Id`] for a compose hash or app id kept as the
    /// server sent it.
    ///
    /// ```
    /// use phala_cloud::mr_config::{KeyProvider, MrConfigId};
    ///
    /// let compose = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f".parse()?;
    /// let app = "000102030405060708090a0b0c0d0e0f10111213".parse()?;
    /// let id = MrConfigId::v2(&compose, &app, KeyProvider::Kms, &[0xaa, 0xbb, 0xcc, 0xdd])?;
    /// assert_eq!(
    ///     id.to_string(),
    ///     "02e472ed80a08042f044ba63b53b798e98e3ea5219cd078007b1ac8b3dfc762b94000000000000000000000000000000"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn v2(
        compose_hash: &ComposeHash,
        app_id: &AppId,
        key_provider: KeyProvider,
        key_provider_id: &[u8],
    ) -> Result<Self, MrConfigError> {
        let digest = Keccak256::new()
            .chain_update(compose_hash.to_bytes()?)
            .chain_update(app_id.to_bytes()?)
            .chain_update([key_provider.v2_byte()])
            .chain_update(key_provider_id)
            .finalize();
        Ok(Self::framed(2, &digest.into()))
    }

    /// The 48 bytes as a quote reports them.
    pub fn from_bytes(bytes: [u8; 48]) -> Self {
        Self(bytes)
    }

    /// The 48 bytes.
    pub fn as_bytes(&self) -> &[u8; 48] {
        &self.0
    }

    /// The version byte: 1, 2 or 3 for dstack's forms; 0 for the all-zero
    /// value of a VM that binds no configuration.
    pub fn version(&self) -> u8 {
        self.0[0]
    }

    /// The compose hash a V1 value carries; `None` for other versions.
    pub fn v1_compose_hash(&self) -> Option<ComposeHash> {
        (self.version() == 1).then(|| ComposeHash::from(self.payload()))
    }

    fn payload(&self) -> [u8; 32] {
        let mut payload = [0u8; 32];
        payload.copy_from_slice(&self.0[1..33]);
        payload
    }

    fn framed(version: u8, payload: &[u8; 32]) -> Self {
        let mut bytes = [0u8; 48];
        bytes[0] = version;
        bytes[1..33].copy_from_slice(payload);
        Self(bytes)
    }
}

impl FromStr for MrConfigId {
    type Err = MrConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_hex(s).map(Self)
    }
}

impl fmt::Display for MrConfigId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for MrConfigId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MrConfigId({self})")
    }
}

/// The V3 configuration document. Optional fields left unset are omitted
/// from the document, never written as `null` or `""`; an empty list of
/// init-script hashes is not the same as none.
///
/// ```
/// use phala_cloud::mr_config::{KeyProvider, MrConfigV3};
///
/// let doc = MrConfigV3::new("22".repeat(32).parse()?, KeyProvider::Kms)
///     .app_id("11".repeat(20).parse()?)
///     .instance_id("44".repeat(20).parse()?)
///     .key_provider_id(vec![0x33; 32]);
/// assert_eq!(
///     hex::encode(doc.snp_host_data()?),
///     "50fc88d0a462b6a0b06ba25859abc02e98c2a8d9bd000b7dc0d8bae65e71ecbb"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MrConfigV3 {
    compose_hash: ComposeHash,
    key_provider: KeyProvider,
    app_id: Option<AppId>,
    instance_id: Option<InstanceId>,
    key_provider_id: Option<Vec<u8>>,
    gpu_policy_hash: Option<[u8; 32]>,
    init_script_hashes: Option<Vec<[u8; 32]>>,
}

impl MrConfigV3 {
    /// A document with the two required fields.
    pub fn new(compose_hash: ComposeHash, key_provider: KeyProvider) -> Self {
        Self {
            compose_hash,
            key_provider,
            app_id: None,
            instance_id: None,
            key_provider_id: None,
            gpu_policy_hash: None,
            init_script_hashes: None,
        }
    }

    /// The app id.
    pub fn app_id(mut self, app_id: AppId) -> Self {
        self.app_id = Some(app_id);
        self
    }

    /// The instance id (absent for an app with `no_instance_id`).
    pub fn instance_id(mut self, instance_id: InstanceId) -> Self {
        self.instance_id = Some(instance_id);
        self
    }

    /// The key provider's id; for a KMS, its k256 public key.
    pub fn key_provider_id(mut self, id: impl Into<Vec<u8>>) -> Self {
        self.key_provider_id = Some(id.into());
        self
    }

    /// The GPU policy's hash (GPU launches only).
    pub fn gpu_policy_hash(mut self, hash: [u8; 32]) -> Self {
        self.gpu_policy_hash = Some(hash);
        self
    }

    /// The init scripts' hashes, in order (at most five; an empty list is
    /// written as `[]`).
    pub fn init_script_hashes(mut self, hashes: impl IntoIterator<Item = [u8; 32]>) -> Self {
        self.init_script_hashes = Some(hashes.into_iter().collect());
        self
    }

    /// The document as JCS text: keys sorted, no whitespace, bytes as
    /// lower-case hex without `0x`. [`MrConfigError::Id`] for a compose hash
    /// or app id kept as the server sent it.
    pub fn document(&self) -> Result<String, MrConfigError> {
        if let Some(hashes) = &self.init_script_hashes
            && hashes.len() > MAX_INIT_SCRIPTS
        {
            return Err(MrConfigError::TooManyInitScripts(hashes.len()));
        }
        let document = Document {
            app_id: self
                .app_id
                .as_ref()
                .map(AppId::to_bytes)
                .transpose()?
                .map(hex::encode),
            compose_hash: hex::encode(self.compose_hash.to_bytes()?),
            gpu_policy_hash: self.gpu_policy_hash.map(hex::encode),
            init_script_hashes: self
                .init_script_hashes
                .as_ref()
                .map(|hashes| hashes.iter().map(hex::encode).collect()),
            instance_id: self.instance_id.map(|id| id.to_string()),
            key_provider: self.key_provider,
            key_provider_id: self.key_provider_id.as_ref().map(hex::encode),
            version: 3,
        };
        // Strings, a small integer and an enum: JCS cannot fail on them.
        Ok(serde_jcs::to_string(&document).expect("the V3 document serializes"))
    }

    /// The V3 digest of this document: SEV-SNP's `host_data`.
    pub fn snp_host_data(&self) -> Result<[u8; 32], MrConfigError> {
        Ok(Self::digest_of_document(self.document()?.as_bytes()))
    }

    /// The TDX `mr_config_id`: `0x03 ‖ digest ‖ 0×15`.
    pub fn mr_config_id(&self) -> Result<MrConfigId, MrConfigError> {
        Ok(MrConfigId::framed(3, &self.snp_host_data()?))
    }

    /// The V3 digest of document bytes exactly as given, as a verifier
    /// computes it from the document a CVM supplies.
    pub fn digest_of_document(document: &[u8]) -> [u8; 32] {
        Sha256::new()
            .chain_update(V3_DOMAIN)
            .chain_update(document)
            .finalize()
            .into()
    }
}

/// The serialized shape; JCS orders the keys.
#[derive(Serialize)]
struct Document {
    #[serde(skip_serializing_if = "Option::is_none")]
    app_id: Option<String>,
    compose_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_policy_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    init_script_hashes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_id: Option<String>,
    key_provider: KeyProvider,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_provider_id: Option<String>,
    version: u8,
}

fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], MrConfigError> {
    crate::ids::parse_hex_bytes(s.trim()).map_err(|_| MrConfigError::NotHex {
        expected: N,
        input: s.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_init_scripts_are_refused() {
        let doc = MrConfigV3::new(ComposeHash::from([0; 32]), KeyProvider::None)
            .init_script_hashes([[0; 32]; 6]);
        assert_eq!(doc.document(), Err(MrConfigError::TooManyInitScripts(6)));
        assert!(doc.mr_config_id().is_err());
    }

    #[test]
    fn versions_and_payloads_read_back() {
        let zero: MrConfigId = "00".repeat(48).parse().unwrap();
        assert_eq!(zero.version(), 0);
        assert_eq!(zero.v1_compose_hash(), None);
        assert!("00".repeat(47).parse::<MrConfigId>().is_err());
        let hash = ComposeHash::from([7; 32]);
        let v1 = MrConfigId::v1(&hash).unwrap();
        assert_eq!(MrConfigId::from_bytes(*v1.as_bytes()), v1);
        assert_eq!(v1.to_string().parse::<MrConfigId>().unwrap(), v1);
        assert!(v1.as_bytes()[33..].iter().all(|b| *b == 0));
    }
}
