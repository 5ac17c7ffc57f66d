//! What can go wrong building, reading or sending a dstack contract call.

#[cfg(feature = "onchain-eth")]
use std::time::Duration;

#[cfg(feature = "onchain-eth")]
use alloy_primitives::{Address, TxHash};

/// Why a contract call could not be built, read or sent.
///
/// Every variant says which value or transaction it is about, so that a
/// message is enough to act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EthError {
    /// A value from the API or the caller is not what the contract takes
    /// (a compose hash that is not 32 bytes, an app id that is not an
    /// address).
    #[error("{field} {value:?} is not {expected}")]
    InvalidField {
        /// Which value (`compose_hash`, `app_id`, `device_id`).
        field: &'static str,
        /// The value, at most 80 characters of it.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// The approval does not say which chain its KMS is on
    /// (`kms_info.chain_id`), so no call can be built for it.
    #[error("the approval does not name the chain of its KMS (kms_info.chain_id)")]
    MissingChainId,
    /// The provider is connected to another chain than the call is for.
    #[cfg(feature = "onchain-eth")]
    #[error("the provider is on chain {actual}, the call is for chain {expected}")]
    WrongChain {
        /// The call's chain.
        expected: u64,
        /// The provider's.
        actual: u64,
    },
    /// The sender is not the contract's owner: nothing was sent.
    #[cfg(feature = "onchain-eth")]
    #[error("{sender} is not the owner of contract {contract} (the owner is {owner})")]
    NotOwner {
        /// The contract.
        contract: Address,
        /// Its owner.
        owner: Address,
        /// The provider's signer.
        sender: Address,
    },
    /// No contract at the address: a view answered nothing.
    #[cfg(feature = "onchain-eth")]
    #[error("no contract at {address} (`{function}` returned no data)")]
    NoContract {
        /// The address.
        address: Address,
        /// The function called.
        function: &'static str,
    },
    /// The JSON-RPC call failed: the node refused it, or the transport did.
    #[cfg(feature = "onchain-eth")]
    #[error("{during}: {source}")]
    Rpc {
        /// What was being done (`eth_call owner()`, `sending addDevice(bytes32)`).
        during: String,
        /// alloy's error.
        #[source]
        source: alloy_provider::transport::TransportError,
    },
    /// A JSON-RPC exchange took longer than its deadline
    /// ([`RPC_TIMEOUT`](super::RPC_TIMEOUT)).
    #[cfg(feature = "onchain-eth")]
    #[error("{during}: no answer after {after:?}")]
    RpcTimeout {
        /// What was being done.
        during: String,
        /// The deadline.
        after: Duration,
    },
    /// A view's answer does not decode as its return type.
    #[cfg(feature = "onchain-eth")]
    #[error("the answer of `{function}` at {address} does not decode: {source}")]
    Decode {
        /// The contract.
        address: Address,
        /// The function called.
        function: &'static str,
        /// What the decoder said.
        #[source]
        source: alloy_sol_types::Error,
    },
    /// The transaction was sent but its receipt did not come in time.
    #[cfg(feature = "onchain-eth")]
    #[error("transaction {transaction_hash} has no receipt after {waited:?}")]
    ReceiptTimeout {
        /// The transaction.
        transaction_hash: TxHash,
        /// How long the receipt was waited for.
        waited: Duration,
    },
    /// Waiting for the receipt failed.
    #[cfg(feature = "onchain-eth")]
    #[error("waiting for the receipt of {transaction_hash}: {source}")]
    Receipt {
        /// The transaction.
        transaction_hash: TxHash,
        /// alloy's error.
        #[source]
        source: alloy_provider::PendingTransactionError,
    },
    /// The transaction was mined and reverted.
    #[cfg(feature = "onchain-eth")]
    #[error("transaction {transaction_hash} ({function}) reverted in block {block_number:?}")]
    Reverted {
        /// The transaction.
        transaction_hash: TxHash,
        /// Its block, if the receipt says.
        block_number: Option<u64>,
        /// The function it called.
        function: &'static str,
    },
    /// The receipt lacks the event the call must emit.
    #[cfg(feature = "onchain-eth")]
    #[error("transaction {transaction_hash} emitted no {event} event")]
    MissingEvent {
        /// The transaction.
        transaction_hash: TxHash,
        /// The event's signature.
        event: &'static str,
    },
    /// The registration was mined but the contract does not read back as
    /// allowing the update in time.
    #[cfg(feature = "onchain-eth")]
    #[error(
        "after {waited:?} the contract allows: compose hash {compose_hash_allowed}, device {device_allowed}"
    )]
    NotAllowed {
        /// Whether the compose hash reads back as allowed.
        compose_hash_allowed: bool,
        /// Whether the device does (or any device).
        device_allowed: bool,
        /// How long it was polled.
        waited: Duration,
    },
}

impl EthError {
    /// An [`EthError::InvalidField`], keeping at most 80 characters of a
    /// value that may come from a server.
    pub(crate) fn invalid(field: &'static str, value: &str, expected: &'static str) -> Self {
        EthError::InvalidField {
            field,
            value: value.chars().take(80).collect(),
            expected,
        }
    }
}
