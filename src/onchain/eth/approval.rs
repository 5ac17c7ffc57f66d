//! The calls an approval asks for, built from what the API sent: the HTTP
//! 465 of phase 1 ([`OnChainApprovalRequired`]) and the
//! `cvm.update.pending_approval` webhook ([`PendingApproval`]).
//!
//! The calldata is encoded here from the compose hash, app id and chain id,
//! not copied from the server's `onchain_action`.

use std::str::FromStr;

use alloy_primitives::{Address, B256};

use super::{AppContract, Call, EthError};
use crate::ids::AppId;
use crate::onchain::OnChainApprovalRequired;
use crate::webhook::PendingApproval;

const BYTES32: &str = "32 bytes of hex (64 digits, `0x` optional)";

/// `value` as a `bytes32`.
pub(crate) fn bytes32(field: &'static str, value: &str) -> Result<B256, EthError> {
    crate::ids::parse_hex_bytes::<32>(value)
        .map(B256::from)
        .map_err(|_| EthError::invalid(field, value, BYTES32))
}

/// An app id as the contract's address.
pub(crate) fn app_address(value: &str) -> Result<Address, EthError> {
    let invalid = |expected| EthError::invalid("app_id", value, expected);
    let app = AppId::from_str(value)
        .and_then(|app| app.to_bytes())
        .map_err(|e| invalid(e.expected()))?;
    Ok(Address::from(app))
}

impl AppContract {
    /// The app contract an approval is about: its `app_id`, on the chain of
    /// its KMS (`kms_info.chain_id`, or a top-level `chain_id`).
    pub fn for_approval(approval: &OnChainApprovalRequired) -> Result<Self, EthError> {
        let chain_id = approval
            .kms_info
            .as_ref()
            .and_then(|kms| kms.chain_id)
            .or_else(|| approval.other.get("chain_id")?.as_u64())
            .ok_or(EthError::MissingChainId)?;
        Ok(Self::new(chain_id, app_address(&approval.app_id)?))
    }
}

impl OnChainApprovalRequired {
    /// The compose hash, as the `bytes32` the contract takes.
    pub fn compose_hash_bytes(&self) -> Result<B256, EthError> {
        bytes32("compose_hash", &self.compose_hash)
    }

    /// The device id, as a `bytes32`, if the approval names one.
    pub fn device_id_bytes(&self) -> Result<Option<B256>, EthError> {
        self.device_id
            .as_deref()
            .map(|device| bytes32("device_id", device))
            .transpose()
    }

    /// The calls that make the app's contract allow this update, for a Safe
    /// or any signer: `addComposeHash(compose_hash)` unless phase 1 found
    /// the hash allowed already, then `addDevice(device_id)` if it found the
    /// device not allowed. Empty when both are: commit with
    /// [`ALREADY_REGISTERED`](crate::onchain::ALREADY_REGISTERED).
    ///
    /// Needs the `onchain-eth-calldata` feature.
    ///
    /// ```
    /// use phala_cloud::onchain::OnChainApprovalRequired;
    ///
    /// let approval: OnChainApprovalRequired = serde_json::from_value(serde_json::json!({
    ///     "compose_hash": format!("0x{}", "11".repeat(32)),
    ///     "app_id": "0x09cef33ca9c6e4f2b1d5a7c3e8f0b2a4d6e8f1c3",
    ///     "device_id": format!("0x{}", "33".repeat(32)),
    ///     "kms_info": {"chain_id": 8453},
    ///     "onchain_status": {"compose_hash_allowed": false, "device_id_allowed": false},
    ///     "message": "Compose hash registration required",
    /// }))?;
    /// let calls = approval.calldata()?;
    /// let functions: Vec<_> = calls.iter().map(|c| c.function).collect();
    /// assert_eq!(functions, ["addComposeHash(bytes32)", "addDevice(bytes32)"]);
    /// assert!(calls.iter().all(|c| c.chain_id == 8453));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn calldata(&self) -> Result<Vec<Call>, EthError> {
        let app = AppContract::for_approval(self)?;
        let compose_hash = self.compose_hash_bytes()?;
        let device_id = self.device_id_bytes()?;
        let status = self.onchain_status.clone().unwrap_or_default();
        let mut calls = Vec::new();
        if status.compose_hash_allowed != Some(true) {
            calls.push(app.add_compose_hash(compose_hash));
        }
        if let (Some(device_id), Some(false)) = (device_id, status.device_id_allowed) {
            calls.push(app.add_device(device_id));
        }
        Ok(calls)
    }
}

impl PendingApproval {
    /// The call the event's `onchain_action` describes —
    /// `addComposeHash(compose_hash)` on the app's contract, on the KMS's
    /// chain — for the Safe's signers.
    ///
    /// Needs the `onchain-eth-calldata` feature.
    ///
    /// ```
    /// use phala_cloud::webhook::EventData;
    ///
    /// # fn run(event: phala_cloud::webhook::WebhookEvent) -> Result<(), phala_cloud::onchain::eth::EthError> {
    /// if let EventData::CvmUpdatePendingApproval(pending) = &event.data {
    ///     let call = pending.calldata()?;
    ///     println!("propose to the Safe on chain {}: to {} data {}", call.chain_id, call.to, call.data);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn calldata(&self) -> Result<Call, EthError> {
        let app = AppContract::new(self.kms.chain_id, app_address(self.app_id.as_str())?);
        Ok(app.add_compose_hash(bytes32("compose_hash", self.compose_hash.as_str())?))
    }
}
