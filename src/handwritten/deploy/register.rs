//! `Deploy::register(&provider)` and `PendingUpdate::register(&provider)`:
//! the on-chain step done with an alloy provider's signer (feature
//! `onchain-eth`).

use alloy_provider::{Provider, WalletProvider};

use super::builder::{Deploy, Deployment};
use super::update::PendingUpdate;
use super::DeployError;
use crate::ids::AppId;
use crate::onchain::eth::{Address, DeployApp, KmsContract, TxOptions};
use crate::onchain::Applied;
use crate::Error;

impl Deploy {
    /// Deploys with the provider's signer doing the on-chain step, with the
    /// default [`TxOptions`]; see [`Deploy::register_with`].
    ///
    /// Needs the `onchain-eth` feature.
    pub async fn register<P: Provider + WalletProvider>(
        self,
        provider: &P,
    ) -> Result<Deployment, Error> {
        self.register_with(provider, &TxOptions::default()).await
    }

    /// Deploys on an on-chain KMS in one call: provisions; then, on the
    /// app contract named with [`Deploy::app_id`], registers what it does
    /// not allow yet (the compose hash, the device) as
    /// [`OnChainApprovalRequired::register_with`](crate::onchain::OnChainApprovalRequired::register_with)
    /// does, or without one deploys the app's contract through the KMS
    /// (`deploy_app_auth`, the compose hash and device allowed from the
    /// start, the signer its owner); then commits, as [`Deploy::send`].
    /// On Phala's KMS nothing is registered.
    ///
    /// Needs the `onchain-eth` feature.
    ///
    /// ```no_run
    /// use phala_cloud::onchain::eth::alloy_provider::ProviderBuilder;
    /// use phala_cloud::onchain::eth::alloy_signer_local::PrivateKeySigner;
    /// use phala_cloud::types::KmsType;
    ///
    /// # async fn run(client: phala_cloud::Client, key: &str) -> Result<(), Box<dyn std::error::Error>> {
    /// let provider = ProviderBuilder::new()
    ///     .wallet(key.parse::<PrivateKeySigner>()?)
    ///     .connect_http("https://mainnet.base.org".parse()?);
    /// let deployment = client
    ///     .deploy("services:\n  web:\n    image: nginx:1.27\n")
    ///     .name("my-app")
    ///     .kms(KmsType::Base)
    ///     .register(&provider)
    ///     .await?;
    /// println!("app {} on CVM {}", deployment.app_id, deployment.cvm_id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn register_with<P: Provider + WalletProvider>(
        self,
        provider: &P,
        options: &TxOptions,
    ) -> Result<Deployment, Error> {
        let mut provisioned = self.provision().await?;
        if !provisioned.on_chain {
            return provisioned.commit_off_chain().await;
        }
        let app = match provisioned.app_id.clone() {
            Some(app) => {
                let approval = provisioned.approval(&app);
                approval
                    .register_with(provider, options)
                    .await
                    .map_err(DeployError::from)?;
                app
            }
            None => {
                let kms = provisioned.answer.kms_info.as_ref().ok_or_else(|| {
                    DeployError::Incomplete("the provision answer names no KMS".into())
                })?;
                let chain = kms.chain_id.and_then(|id| u64::try_from(id).ok());
                let address = kms.kms_contract_address.as_deref();
                let address = address.and_then(|a| a.parse::<Address>().ok());
                let (Some(chain), Some(address)) = (chain, address) else {
                    return Err(DeployError::Incomplete(
                        "the provision answer names no KMS chain and contract".into(),
                    )
                    .into());
                };
                // The approval's fields, as the contract takes them.
                let fields = provisioned.approval(&AppId::from([0; 20]));
                let mut app = DeployApp::new(provider.default_signer_address())
                    .compose_hash(fields.compose_hash_bytes().map_err(DeployError::from)?);
                if let Some(device) = fields.device_id_bytes().map_err(DeployError::from)? {
                    app = app.device_id(device);
                }
                let deployed = KmsContract::new(chain, address)
                    .deploy_app_auth(provider, &app, options)
                    .await
                    .map_err(DeployError::from)?;
                provisioned.deployer = Some(deployed.deployer.to_string());
                AppId::from(deployed.app.address().into_array())
            }
        };
        let app_text = app.as_str().to_string();
        provisioned.commit(app, app_text).await
    }
}

impl PendingUpdate {
    /// Registers the approval with the provider's signer
    /// ([`OnChainApprovalRequired::register_with`](crate::onchain::OnChainApprovalRequired::register_with)),
    /// then confirms with the registering transaction.
    ///
    /// Needs the `onchain-eth` feature.
    pub async fn register<P: Provider + WalletProvider>(
        self,
        provider: &P,
        options: &TxOptions,
    ) -> Result<Applied, Error> {
        let registration = self
            .approval()
            .register_with(provider, options)
            .await
            .map_err(DeployError::from)?;
        self.confirm(registration).await
    }
}
