//! Apps governed on chain: the dstack contracts from Rust, on the alloy
//! crates.
//!
//! A CVM whose KMS is on chain (Ethereum, Base) boots only what its app's
//! `DstackApp` contract allows. This module builds, reads and sends those
//! contracts' calls:
//!
//! - **Bindings** ([`DstackApp`], [`DstackKms`]: `sol!` interfaces with every
//!   write, view, event and error) and the KMS contracts Phala Cloud runs
//!   ([`KMS_DEPLOYMENTS`]).
//! - **Calldata without a wallet** (feature `onchain-eth-calldata`): every
//!   write as a [`Call`] — chain id, contract, data — from an
//!   [`AppContract`] or [`KmsContract`], from a 465
//!   ([`OnChainApprovalRequired::calldata`](crate::onchain::OnChainApprovalRequired::calldata))
//!   or from the `cvm.update.pending_approval` webhook
//!   ([`PendingApproval::calldata`](crate::webhook::PendingApproval::calldata)):
//!   what a Safe's signers propose.
//! - **Reads and writes** (feature `onchain-eth`): the contracts' views
//!   through any alloy `Provider`, `check_prerequisites` in one round trip,
//!   `Call::send` with the provider's signer (chain and `owner()` checked
//!   before signing, the receipt waited for), `deploy_app_auth`, and
//!   `approval.register(&provider)`, which closes the two-phase update.
//!
//! With the default TLS feature (`rustls-ring`), call
//! [`install_tls_provider`](crate::install_tls_provider) (or build a
//! [`Client`](crate::Client)) before alloy's `connect_http`: the reqwest
//! both use has no crypto provider of its own then.
//!
//! ```
//! use phala_cloud::onchain::eth::{AppContract, Address, B256, BASE_CHAIN_ID};
//!
//! let app = AppContract::new(BASE_CHAIN_ID, Address::repeat_byte(0x0a));
//! let call = app.add_compose_hash(B256::repeat_byte(0x11));
//! println!("to {} on chain {}: {}", call.to, call.chain_id, call.data);
//! ```
//!
//! `onchain-eth-calldata` builds with the crate's rust-version (1.88);
//! `onchain-eth` needs what alloy 2.5's provider needs (rustc 1.94.1).

mod approval;
mod call;
mod contracts;
#[cfg(feature = "onchain-eth")]
mod deploy;
mod error;
#[cfg(feature = "onchain-eth")]
mod read;
#[cfg(feature = "onchain-eth")]
mod register;
#[cfg(feature = "onchain-eth")]
mod send;

pub use alloy_primitives::{self, Address, Bytes, TxHash, B256, U256};
pub use alloy_sol_types;
pub use call::{AppContract, Call, DeployApp, KmsContract};
pub use contracts::{
    kms_deployment, DstackApp, DstackKms, KmsDeployment, BASE_CHAIN_ID, ETHEREUM_CHAIN_ID,
    KMS_DEPLOYMENTS,
};
pub use error::EthError;

#[cfg(feature = "onchain-eth")]
pub use alloy_provider;
#[cfg(feature = "onchain-eth")]
pub use alloy_rpc_types_eth;
#[cfg(feature = "onchain-eth")]
pub use alloy_signer_local;
#[cfg(feature = "onchain-eth")]
pub use deploy::DeployedApp;
#[cfg(feature = "onchain-eth")]
pub use read::{KmsInfo, Prerequisites, RPC_TIMEOUT};
#[cfg(feature = "onchain-eth")]
pub use register::Registration;
#[cfg(feature = "onchain-eth")]
pub use send::TxOptions;
