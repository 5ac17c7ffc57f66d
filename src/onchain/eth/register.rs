//! `approval.register(&provider)`: the on-chain half of a two-phase update,
//! from the approval to the transaction hash phase 2 takes.

use alloy_primitives::{TxHash, B256};
use alloy_provider::{Provider, WalletProvider};
use tokio::time::Instant;

use super::send::check_chain;
use super::{AppContract, EthError, Prerequisites, TxOptions};
use crate::onchain::{OnChainApprovalRequired, ALREADY_REGISTERED};

/// What [`OnChainApprovalRequired::register`] sent. Converts into the
/// transaction hash phase 2 takes, so it can be passed to `confirm`
/// directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Registration {
    /// The `addComposeHash` transaction; `None` if the hash was allowed
    /// already.
    pub compose_hash_transaction: Option<TxHash>,
    /// The `addDevice` transaction; `None` if the device was allowed
    /// already (or the approval names none).
    pub device_transaction: Option<TxHash>,
}

impl Registration {
    /// The hash phase 2 takes: the `addComposeHash` transaction's, or
    /// [`ALREADY_REGISTERED`] when the compose hash was allowed before.
    pub fn transaction_hash(&self) -> String {
        self.compose_hash_transaction
            .map_or_else(|| ALREADY_REGISTERED.to_string(), |hash| hash.to_string())
    }
}

impl From<Registration> for String {
    fn from(registration: Registration) -> Self {
        registration.transaction_hash()
    }
}

impl From<&Registration> for String {
    fn from(registration: &Registration) -> Self {
        registration.transaction_hash()
    }
}

impl OnChainApprovalRequired {
    /// Registers the approval with the provider's signer (the contract's
    /// owner), with the default [`TxOptions`]; see
    /// [`OnChainApprovalRequired::register_with`].
    ///
    /// Needs the `onchain-eth` feature.
    pub async fn register<P: Provider + WalletProvider>(
        &self,
        provider: &P,
    ) -> Result<Registration, EthError> {
        self.register_with(provider, &TxOptions::default()).await
    }

    /// Registers the approval on the app's contract with the provider's
    /// signer, then waits until the contract reads back as allowing it —
    /// the compose hash, and the device if the approval names one — as the
    /// official CLI does before phase 2.
    ///
    /// What the contract allows already is read first (one round trip), so
    /// only what is missing is sent: `addDevice`, then `addComposeHash`,
    /// each with [`Call::send_with`](super::Call::send_with) (chain and owner
    /// checked, receipt waited for). A contract that does not read back as
    /// allowing within the read-back timeout is [`EthError::NotAllowed`].
    ///
    /// Needs the `onchain-eth` feature.
    ///
    /// ```no_run
    /// use phala_cloud::onchain::eth::alloy_provider::ProviderBuilder;
    /// use phala_cloud::onchain::eth::alloy_signer_local::PrivateKeySigner;
    /// use phala_cloud::onchain::{ConfirmUpdate, ProposeUpdate, UpdateOutcome};
    ///
    /// # async fn run(client: phala_cloud::Client, body: phala_cloud::types::UpdateCvmRequest, key: &str) -> Result<(), Box<dyn std::error::Error>> {
    /// let provider = ProviderBuilder::new()
    ///     .wallet(key.parse::<PrivateKeySigner>()?)
    ///     .connect_http("https://mainnet.base.org".parse()?);
    /// let update = client.patch_cvm().cvm_id("cvm_ykL5lbAn").body(body);
    /// if let UpdateOutcome::ApprovalRequired(approval) = update.clone().propose().await? {
    ///     let registration = approval.register(&provider).await?;
    ///     update.confirm(&approval, registration).await?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn register_with<P: Provider + WalletProvider>(
        &self,
        provider: &P,
        options: &TxOptions,
    ) -> Result<Registration, EthError> {
        let app = AppContract::for_approval(self)?;
        let compose_hash = self.compose_hash_bytes()?;
        let device_id = self.device_id_bytes()?;
        check_chain(provider, app.chain_id()).await?;

        let before = read(&app, provider, device_id, compose_hash).await?;
        let mut registration = Registration {
            compose_hash_transaction: None,
            device_transaction: None,
        };
        if let (Some(device_id), false) = (device_id, before.device_allowed) {
            let receipt = app
                .add_device(device_id)
                .send_with(provider, options)
                .await?;
            registration.device_transaction = Some(receipt.transaction_hash);
        }
        if !before.compose_hash_allowed {
            let receipt = app
                .add_compose_hash(compose_hash)
                .send_with(provider, options)
                .await?;
            registration.compose_hash_transaction = Some(receipt.transaction_hash);
        }

        let deadline = Instant::now() + options.get_read_back_timeout();
        let sent = registration.device_transaction.is_some()
            || registration.compose_hash_transaction.is_some();
        let mut now = before;
        if sent {
            now = read(&app, provider, device_id, compose_hash).await?;
        }
        while !now.is_allowed() {
            if Instant::now() + options.get_poll_interval() > deadline {
                return Err(EthError::NotAllowed {
                    compose_hash_allowed: now.compose_hash_allowed,
                    device_allowed: now.device_allowed,
                    waited: options.get_read_back_timeout(),
                });
            }
            tokio::time::sleep(options.get_poll_interval()).await;
            now = read(&app, provider, device_id, compose_hash).await?;
        }
        Ok(registration)
    }
}

/// The prerequisites, with the device counted as allowed when the approval
/// names none.
async fn read<P: Provider>(
    app: &AppContract,
    provider: &P,
    device_id: Option<B256>,
    compose_hash: B256,
) -> Result<Prerequisites, EthError> {
    let mut read = app
        .check_prerequisites(provider, device_id.unwrap_or_default(), compose_hash)
        .await?;
    read.device_allowed |= device_id.is_none();
    Ok(read)
}
