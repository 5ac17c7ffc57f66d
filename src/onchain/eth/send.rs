//! Sending a [`Call`] with the provider's signer: the chain and the owner
//! checked first, then the receipt waited for, within a deadline.

use std::time::Duration;

use alloy_provider::network::TransactionBuilder;
use alloy_provider::{Provider, WalletProvider};
use alloy_rpc_types_eth::{TransactionReceipt, TransactionRequest};

use super::contracts::DstackApp;
use super::read::{rpc, view};
use super::{Call, EthError};

/// How long to wait for what a transaction does. Defaults as the official
/// SDK's: a receipt within 120 s, polled every 2 s when reading back.
///
/// ```
/// use std::time::Duration;
/// use phala_cloud::onchain::eth::TxOptions;
///
/// let options = TxOptions::new().receipt_timeout(Duration::from_secs(300));
/// assert_eq!(options.get_receipt_timeout(), Duration::from_secs(300));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxOptions {
    receipt_timeout: Duration,
    read_back_timeout: Duration,
    poll_interval: Duration,
}

impl Default for TxOptions {
    fn default() -> Self {
        Self {
            receipt_timeout: Duration::from_secs(120),
            read_back_timeout: Duration::from_secs(120),
            poll_interval: Duration::from_secs(2),
        }
    }
}

impl TxOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long to wait for a sent transaction's receipt (default 120 s).
    #[must_use]
    pub fn receipt_timeout(mut self, timeout: Duration) -> Self {
        self.receipt_timeout = timeout;
        self
    }

    /// How long `register` polls until the contract reads back "allowed"
    /// (default 120 s).
    #[must_use]
    pub fn read_back_timeout(mut self, timeout: Duration) -> Self {
        self.read_back_timeout = timeout;
        self
    }

    /// How often `register` reads the contract back (default 2 s).
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The receipt deadline.
    pub fn get_receipt_timeout(&self) -> Duration {
        self.receipt_timeout
    }

    /// The read-back deadline.
    pub fn get_read_back_timeout(&self) -> Duration {
        self.read_back_timeout
    }

    /// The read-back interval.
    pub fn get_poll_interval(&self) -> Duration {
        self.poll_interval
    }
}

/// Fails unless `provider` is on `chain_id`.
pub(crate) async fn check_chain<P: Provider>(provider: &P, chain_id: u64) -> Result<(), EthError> {
    let actual = rpc(|| "eth_chainId".into(), provider.get_chain_id()).await?;
    if actual != chain_id {
        return Err(EthError::WrongChain {
            expected: chain_id,
            actual,
        });
    }
    Ok(())
}

impl Call {
    /// Signs and sends the call with the provider's wallet, with the default
    /// [`TxOptions`]; see [`Call::send_with`].
    ///
    /// Needs the `onchain-eth` feature.
    pub async fn send<P: Provider + WalletProvider>(
        &self,
        provider: &P,
    ) -> Result<TransactionReceipt, EthError> {
        self.send_with(provider, &TxOptions::default()).await
    }

    /// Signs and sends the call with the provider's wallet (its default
    /// signer) and waits for the receipt, as an EIP-1559 transaction when
    /// the provider's fillers make one (alloy's `ProviderBuilder::new()`
    /// does).
    ///
    /// Before anything is signed: the provider must be on the call's chain
    /// ([`EthError::WrongChain`]), and for a `DstackApp` write the signer
    /// must be the contract's `owner()` ([`EthError::NotOwner`]). After:
    /// no receipt within the timeout is [`EthError::ReceiptTimeout`], a
    /// reverted one [`EthError::Reverted`]; both carry the hash.
    ///
    /// Needs the `onchain-eth` feature.
    ///
    /// ```no_run
    /// use phala_cloud::onchain::eth::alloy_provider::ProviderBuilder;
    /// use phala_cloud::onchain::eth::alloy_signer_local::PrivateKeySigner;
    /// use phala_cloud::onchain::eth::{AppContract, Address, B256, TxOptions};
    ///
    /// # async fn run(key: &str, app: Address, hash: B256) -> Result<(), Box<dyn std::error::Error>> {
    /// let signer: PrivateKeySigner = key.parse()?;
    /// let provider = ProviderBuilder::new()
    ///     .wallet(signer)
    ///     .connect_http("https://mainnet.base.org".parse()?);
    /// let receipt = AppContract::new(8453, app)
    ///     .add_compose_hash(hash)
    ///     .send_with(&provider, &TxOptions::new())
    ///     .await?;
    /// println!("registered in {}", receipt.transaction_hash);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_with<P: Provider + WalletProvider>(
        &self,
        provider: &P,
        options: &TxOptions,
    ) -> Result<TransactionReceipt, EthError> {
        check_chain(provider, self.chain_id).await?;
        if self.owner_only {
            let owner = view(provider, self.to, DstackApp::ownerCall {}).await?;
            let sender = provider.default_signer_address();
            if owner != sender {
                return Err(EthError::NotOwner {
                    contract: self.to,
                    owner,
                    sender,
                });
            }
        }
        let request = TransactionRequest::default()
            .to(self.to)
            .input(self.data.clone().into());
        let pending = rpc(
            || format!("sending {}", self.function),
            provider.send_transaction(request.with_chain_id(self.chain_id)),
        )
        .await?;
        let transaction_hash = *pending.tx_hash();
        let receipt = tokio::time::timeout(options.receipt_timeout, pending.get_receipt())
            .await
            .map_err(|_| EthError::ReceiptTimeout {
                transaction_hash,
                waited: options.receipt_timeout,
            })?
            .map_err(|source| EthError::Receipt {
                transaction_hash,
                source,
            })?;
        if !receipt.status() {
            return Err(EthError::Reverted {
                transaction_hash,
                block_number: receipt.block_number,
                function: self.function,
            });
        }
        Ok(receipt)
    }
}
