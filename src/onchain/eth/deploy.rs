//! `deploy_app_auth`: an app contract deployed through the KMS factory, its
//! address read from the `AppDeployedViaFactory` event.

use alloy_primitives::{Address, TxHash};
use alloy_provider::{Provider, WalletProvider};
use alloy_sol_types::SolEvent;

use super::contracts::DstackKms;
use super::read::rpc;
use super::{AppContract, DeployApp, EthError, KmsContract, TxOptions};

/// An app contract `deploy_app_auth` created.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeployedApp {
    /// The app's contract; its address is the app id.
    pub app: AppContract,
    /// Who deployed it (the signer).
    pub deployer: Address,
    /// The deploying transaction.
    pub transaction_hash: TxHash,
    /// Its block.
    pub block_number: Option<u64>,
    /// The gas it used.
    pub gas_used: u64,
}

impl KmsContract {
    /// Deploys and registers an app contract with the provider's signer,
    /// as the official SDK's `deployAppAuth`: the factory must have code on
    /// the provider's chain, the call is
    /// [`deploy_and_register_app`](KmsContract::deploy_and_register_app)
    /// sent with [`Call::send_with`](super::Call::send_with), and the app
    /// id is the `AppDeployedViaFactory` event's (its absence is
    /// [`EthError::MissingEvent`]).
    ///
    /// Needs the `onchain-eth` feature.
    ///
    /// ```no_run
    /// use phala_cloud::onchain::eth::alloy_provider::{Provider, ProviderBuilder, WalletProvider};
    /// use phala_cloud::onchain::eth::alloy_signer_local::PrivateKeySigner;
    /// use phala_cloud::onchain::eth::{DeployApp, KmsContract, TxOptions, B256};
    ///
    /// # async fn run(key: &str, compose_hash: B256) -> Result<(), Box<dyn std::error::Error>> {
    /// let provider = ProviderBuilder::new()
    ///     .wallet(key.parse::<PrivateKeySigner>()?)
    ///     .connect_http("https://mainnet.base.org".parse()?);
    /// let kms = KmsContract::deployed(8453).ok_or("no KMS on Base")?;
    /// let app = DeployApp::new(provider.default_signer_address()).compose_hash(compose_hash);
    /// let deployed = kms.deploy_app_auth(&provider, &app, &TxOptions::new()).await?;
    /// println!("app id {}", deployed.app.address());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn deploy_app_auth<P: Provider + WalletProvider>(
        &self,
        provider: &P,
        app: &DeployApp,
        options: &TxOptions,
    ) -> Result<DeployedApp, EthError> {
        let call = self.deploy_and_register_app(app);
        let code = rpc(
            || "eth_getCode".into(),
            provider.get_code_at(self.address()),
        )
        .await?;
        if code.is_empty() {
            return Err(EthError::NoContract {
                address: self.address(),
                function: call.function,
            });
        }
        let receipt = call.send_with(provider, options).await?;
        let deployed = receipt
            .inner
            .logs()
            .iter()
            .filter(|log| log.address() == self.address())
            .find_map(|log| DstackKms::AppDeployedViaFactory::decode_log_data(log.data()).ok())
            .ok_or(EthError::MissingEvent {
                transaction_hash: receipt.transaction_hash,
                event: DstackKms::AppDeployedViaFactory::SIGNATURE,
            })?;
        Ok(DeployedApp {
            app: AppContract::new(self.chain_id(), deployed.appId),
            deployer: deployed.deployer,
            transaction_hash: receipt.transaction_hash,
            block_number: receipt.block_number,
            gas_used: receipt.gas_used,
        })
    }
}
