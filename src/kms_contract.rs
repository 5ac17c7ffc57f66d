//! Reading a dstack KMS contract's root key on chain: one JSON-RPC
//! `eth_call` of `kmsInfo()` (selector `0x09177063`), which returns
//! `(bytes k256Pubkey, bytes caPubkey, bytes quote, bytes eventlog)`.
//!
//! The call goes out on its own HTTP client: nothing of the API client (its
//! key, its headers) is sent to the RPC endpoint. The answer is bounded in
//! size and time, and decoded strictly.

use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use serde::Deserialize;
use serde_json::json;

use crate::kms_signature::K256PublicKey;
use crate::kms_trust::{AnchorKind, KeyVerificationError, KmsRootKeySource};
use crate::Error;

/// `bytes4(keccak256("kmsInfo()"))`.
const KMS_INFO_SELECTOR: &str = "0x09177063";
/// The largest JSON-RPC answer read: `kmsInfo()` carries a quote and an
/// event log, tens of KiB.
const MAX_ANSWER: usize = 4 * 1024 * 1024;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A dstack KMS contract reached through an Ethereum JSON-RPC endpoint: the
/// on-chain anchor for [`KmsTrust::on_chain`](crate::kms_trust::KmsTrust::on_chain).
///
/// The endpoint and the address are yours to choose; both are trusted.
#[derive(Debug, Clone)]
pub struct KmsContract {
    rpc_url: reqwest::Url,
    address: String,
    http: reqwest::Client,
}

/// What `kmsInfo()` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContractKmsInfo {
    /// The KMS's root secp256k1 key, the signer of env-encryption keys.
    pub k256_pubkey: K256PublicKey,
    /// The KMS's CA public key (DER).
    pub ca_pubkey: Vec<u8>,
    /// The KMS's own TDX quote.
    pub quote: Vec<u8>,
    /// The KMS's event log.
    pub eventlog: Vec<u8>,
}

impl KmsContract {
    /// The contract at `address` (`0x` and 40 hex digits), read through the
    /// JSON-RPC endpoint `rpc_url`, with a 30 s deadline per call.
    ///
    /// Fails with [`Error::Config`] for a URL that is not `http(s)` or an
    /// address that is not 20 bytes of hex.
    pub fn new(rpc_url: &str, address: &str) -> Result<Self, Error> {
        Self::with_timeout(rpc_url, address, DEFAULT_TIMEOUT)
    }

    /// Like [`KmsContract::new`], with another deadline per call.
    pub fn with_timeout(rpc_url: &str, address: &str, timeout: Duration) -> Result<Self, Error> {
        let url = reqwest::Url::parse(rpc_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| Error::Config(format!("not an http(s) JSON-RPC URL: {rpc_url:?}")))?;
        let digits = crate::ids::strip_0x(address.trim());
        if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Config(format!(
                "not a contract address (0x and 40 hex digits): {address:?}"
            )));
        }
        let http = crate::tls::backend(reqwest::Client::builder())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("cannot build the JSON-RPC client: {e}")))?;
        Ok(Self {
            rpc_url: url,
            address: format!("0x{}", digits.to_ascii_lowercase()),
            http,
        })
    }

    /// Calls `kmsInfo()` at the latest block.
    pub async fn kms_info(&self) -> Result<ContractKmsInfo, KeyVerificationError> {
        let result = self
            .eth_call(KMS_INFO_SELECTOR)
            .await
            .map_err(unavailable)?;
        decode_kms_info(&result).map_err(unavailable)
    }

    /// The `result` bytes of an `eth_call` with `data` to the contract.
    async fn eth_call(&self, data: &str) -> Result<Vec<u8>, String> {
        let request = json!({
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_call",
            "params": [{"to": self.address, "data": data}, "latest"],
        });
        let mut response = self
            .http
            .post(self.rpc_url.clone())
            .json(&request)
            .send()
            .await
            .map_err(|e| format!("the JSON-RPC request failed: {e}"))?;
        if !response.status().is_success() {
            return Err(format!(
                "the JSON-RPC endpoint answered {}",
                response.status()
            ));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("the JSON-RPC answer broke off: {e}"))?
        {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(format!("the JSON-RPC answer exceeds {MAX_ANSWER} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        read_result(&body)
    }
}

impl KmsRootKeySource for KmsContract {
    fn k256_pubkey(&self) -> BoxFuture<'_, Result<K256PublicKey, KeyVerificationError>> {
        async move { Ok(self.kms_info().await?.k256_pubkey) }.boxed()
    }
}

fn unavailable(reason: String) -> KeyVerificationError {
    KeyVerificationError::AnchorUnavailable {
        anchor: AnchorKind::OnChain,
        reason,
    }
}

/// The `result` of a JSON-RPC answer, hex-decoded, or its `error`.
fn read_result(body: &[u8]) -> Result<Vec<u8>, String> {
    #[derive(Deserialize)]
    struct Answer {
        result: Option<String>,
        error: Option<RpcError>,
    }
    #[derive(Deserialize)]
    struct RpcError {
        code: Option<i64>,
        message: Option<String>,
    }
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| format!("the JSON-RPC answer is not a JSON-RPC response: {e}"))?;
    if let Some(error) = answer.error {
        return Err(format!(
            "the JSON-RPC call failed (code {}): {}",
            error.code.map_or("none".into(), |c| c.to_string()),
            error.message.unwrap_or_default()
        ));
    }
    let result = answer
        .result
        .ok_or("the JSON-RPC answer has neither `result` nor `error`")?;
    hex::decode(crate::ids::strip_0x(&result))
        .map_err(|e| format!("the call's result is not hex: {e}"))
}

/// `(bytes, bytes, bytes, bytes)` as the ABI encodes it: four head words
/// holding offsets, each pointing at a length word and that many bytes.
fn decode_kms_info(data: &[u8]) -> Result<ContractKmsInfo, String> {
    if data.is_empty() {
        return Err("the call returned nothing: no contract at that address, or not a KMS".into());
    }
    let field = |index: usize| -> Result<Vec<u8>, String> {
        let offset = word_as_usize(data, index * 32)?;
        let length = word_as_usize(data, offset)?;
        let start = offset + 32;
        start
            .checked_add(length)
            .and_then(|end| data.get(start..end))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| format!("field {index} runs past the end of the result"))
    };
    let k256 = field(0)?;
    if k256.is_empty() {
        return Err("the contract's kmsInfo() has no k256 public key set".into());
    }
    let k256_pubkey = K256PublicKey::from_sec1_bytes(&k256)
        .map_err(|e| format!("the contract's k256Pubkey: {e}"))?;
    Ok(ContractKmsInfo {
        k256_pubkey,
        ca_pubkey: field(1)?,
        quote: field(2)?,
        eventlog: field(3)?,
    })
}

/// The 32-byte big-endian word at `at`, as an offset or length into data
/// of this size.
fn word_as_usize(data: &[u8], at: usize) -> Result<usize, String> {
    let word = at
        .checked_add(32)
        .and_then(|end| data.get(at..end))
        .ok_or_else(|| format!("the result ends before byte {}", at.saturating_add(32)))?;
    let (high, low) = word.split_at(24);
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(low);
    let value = u64::from_be_bytes(bytes);
    if high.iter().any(|b| *b != 0) || value > data.len() as u64 {
        return Err(format!(
            "the word at byte {at} is not an offset or length in the result"
        ));
    }
    Ok(value as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0217610d74cbd39b6143842c6d8bc310d79da1d82cc9d17f8876376221eda0c38f";

    /// A `(bytes,bytes,bytes,bytes)` encoding written out word by word:
    /// heads 0x80, 0xe0, 0x120, 0x140; a 33-byte key in two words, a 2-byte
    /// CA key, an empty quote, a 1-byte event log.
    fn encoded() -> Vec<u8> {
        let word = |n: u64| format!("{n:064x}");
        let hex = [
            word(0x80),
            word(0xe0),
            word(0x120),
            word(0x140),
            word(33),
            format!("{KEY}{}", "00".repeat(31)),
            word(2),
            format!("abcd{}", "00".repeat(30)),
            word(0),
            word(1),
            format!("ee{}", "00".repeat(31)),
        ]
        .concat();
        hex::decode(hex).unwrap()
    }

    #[test]
    fn the_selector_is_that_of_kms_info() {
        use sha3::{Digest, Keccak256};
        let hash = Keccak256::digest(b"kmsInfo()");
        assert_eq!(format!("0x{}", hex::encode(&hash[..4])), KMS_INFO_SELECTOR);
    }

    #[test]
    fn a_well_formed_answer_decodes() {
        let info = decode_kms_info(&encoded()).unwrap();
        assert_eq!(info.k256_pubkey.to_string(), format!("0x{KEY}"));
        assert_eq!(info.ca_pubkey, [0xab, 0xcd]);
        assert!(info.quote.is_empty());
        assert_eq!(info.eventlog, [0xee]);
    }

    #[test]
    fn malformed_answers_are_errors_not_panics() {
        let good = encoded();
        assert!(decode_kms_info(&[]).unwrap_err().contains("no contract"));
        for len in [1, 31, 32, 127, 128, 160, 200, good.len() - 33] {
            assert!(decode_kms_info(&good[..len]).is_err(), "truncated to {len}");
        }
        let mut huge_offset = good.clone();
        huge_offset[0] = 1;
        assert!(decode_kms_info(&huge_offset).is_err());
        let mut past_end = good.clone();
        past_end[31] = 0xff;
        assert!(decode_kms_info(&past_end).is_err());
        let mut long_length = good.clone();
        long_length[0x80 + 31] = 0xff;
        assert!(decode_kms_info(&long_length).is_err());
        let mut not_a_key = good.clone();
        not_a_key[0x80 + 32] = 0x07;
        assert!(decode_kms_info(&not_a_key)
            .unwrap_err()
            .contains("k256Pubkey"));
        let mut empty_key = good;
        empty_key[0x80 + 31] = 0;
        assert!(decode_kms_info(&empty_key)
            .unwrap_err()
            .contains("no k256 public key"));
    }

    #[test]
    fn every_prefix_and_byte_flip_is_handled() {
        let good = encoded();
        for len in 0..good.len() {
            let _ = decode_kms_info(&good[..len]);
        }
        for at in 0..good.len() {
            let mut flipped = good.clone();
            flipped[at] ^= 0xff;
            let _ = decode_kms_info(&flipped);
        }
    }

    #[test]
    fn rpc_errors_and_odd_answers_are_reported() {
        assert_eq!(
            read_result(br#"{"jsonrpc":"2.0","id":1,"result":"0x0102"}"#),
            Ok(vec![1, 2])
        );
        assert!(
            read_result(br#"{"error":{"code":-32000,"message":"execution reverted"}}"#)
                .unwrap_err()
                .contains("execution reverted")
        );
        assert!(read_result(br#"{"id":1}"#).unwrap_err().contains("neither"));
        assert!(read_result(br#"{"result":"0xzz"}"#)
            .unwrap_err()
            .contains("not hex"));
        assert!(read_result(b"<html>").is_err());
    }

    #[test]
    fn configuration_is_checked() {
        let address = "0x2f83172A49584C017F2B256F0FB2Dca14126Ba9C";
        let contract = KmsContract::new("http://127.0.0.1:8545", address).unwrap();
        assert_eq!(contract.address, address.to_ascii_lowercase());
        assert!(KmsContract::new("ftp://x", address).is_err());
        assert!(KmsContract::new("not a url", address).is_err());
        assert!(KmsContract::new("http://127.0.0.1:8545", "0x1234").is_err());
    }
}
