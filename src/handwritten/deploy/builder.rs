//! `client.deploy(compose)`: provision, verify the key, encrypt, commit,
//! and optionally wait.

use std::time::Instant;

use super::compose::complete;
use super::env::{check_allowed, keys, EnvSet};
use super::key::{self, KeyCheck};
use super::{Compose, DeployError, DEFAULT_INSTANCE_TYPE};
use crate::env_encryption::{EnvVar, KeyVerification};
use crate::ids::{AppId, ComposeHash, CvmRef, KmsRef, LegacyCvmId};
use crate::onchain::OnChainApprovalRequired;
use crate::types::CvmState;
use crate::types::{self, KmsType, ProvisionCvmResponse};
use crate::{Client, Error};

impl Client {
    /// Deploys an app: `compose` is a docker-compose file as text, or a
    /// whole [`types::AppCompose`]. See [`Deploy`] for the settings and
    /// the [`deploy` module](crate::deploy) for the flow and an example.
    ///
    /// *Hand-written:* a flow over several generated operations.
    pub fn deploy(&self, compose: impl Into<Compose>) -> Deploy {
        Deploy {
            client: self.clone(),
            compose: compose.into(),
            name: None,
            instance_type: DEFAULT_INSTANCE_TYPE.to_string(),
            node: None,
            region: None,
            kms: KmsType::Phala,
            kms_id: Ok(None),
            app_id: Ok(None),
            deployer: None,
            env: EnvSet::default(),
            check: KeyCheck::default(),
            check_hash: true,
            deadline: None,
        }
    }
}

/// A deploy being configured; see [`Client::deploy`]. Nothing is sent
/// until [`send`](Deploy::send) or [`propose`](Deploy::propose), and every
/// setting is checked before the first request.
#[derive(Debug, Clone)]
#[must_use]
pub struct Deploy {
    client: Client,
    compose: Compose,
    name: Option<String>,
    instance_type: String,
    node: Option<i64>,
    region: Option<String>,
    kms: KmsType,
    kms_id: Result<Option<KmsRef>, String>,
    app_id: Result<Option<AppId>, String>,
    deployer: Option<String>,
    env: EnvSet,
    check: KeyCheck,
    check_hash: bool,
    deadline: Option<Instant>,
}

env_setters!(Deploy, check);

impl Deploy {
    /// The CVM's name, also its hostname: 5–63 letters, digits and hyphens,
    /// starting with a letter. Required, unless the compose is an
    /// [`types::AppCompose`] with a name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The instance type (default [`DEFAULT_INSTANCE_TYPE`], `tdx.small`;
    /// `client.list_instance_types()` lists them).
    pub fn instance_type(mut self, instance_type: impl Into<String>) -> Self {
        self.instance_type = instance_type.into();
        self
    }

    /// The node to deploy to (its `teepod_id`); the server picks one
    /// otherwise.
    pub fn node(mut self, node_id: i64) -> Self {
        self.node = Some(node_id);
        self
    }

    /// The region to deploy in (`US-WEST-1`, …).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Which kind of KMS the app's keys come from: [`KmsType::Phala`]
    /// (the default, off-chain), or [`KmsType::Base`] /
    /// [`KmsType::Ethereum`], whose app contract must allow the compose
    /// hash (see [`Deploy::propose`]).
    pub fn kms(mut self, kms: KmsType) -> Self {
        self.kms = kms;
        self
    }

    /// Which KMS instance (`kms_…` id or slug); the server picks one of the
    /// kind otherwise.
    pub fn kms_id<K>(mut self, kms_id: K) -> Self
    where
        K: TryInto<KmsRef>,
        K::Error: std::fmt::Display,
    {
        self.kms_id = crate::ids::param("kms_id", kms_id).map(Some);
        self
    }

    /// On an on-chain KMS: the app's existing `DstackApp` contract (its
    /// address is the app id), on which the compose hash gets registered.
    pub fn app_id<A>(mut self, app_id: A) -> Self
    where
        A: TryInto<AppId>,
        A::Error: std::fmt::Display,
    {
        self.app_id = crate::ids::param("app_id", app_id).map(Some);
        self
    }

    /// On an on-chain KMS: the address that deployed the app's contract,
    /// sent with the commit as `deployer_address`.
    pub fn deployer(mut self, address: impl Into<String>) -> Self {
        self.deployer = Some(address.into());
        self
    }

    /// After the commit, waits until the CVM runs the verified compose
    /// hash ([`Client::wait_for_compose_hash`]): `send()` is then `Ok`
    /// only once it does. A boot error or a terminal failure ends the
    /// wait at once with [`Error::CvmFailed`], a CVM that settles on
    /// another hash with [`DeployError::OtherComposeHash`], and the
    /// deadline with [`DeployError::DeadlinePassed`], which carries the
    /// CVM id, the app id and the hash to keep waiting with.
    pub fn wait_until_running(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// **Turns off the compose hash check**: the provision answer's
    /// `compose_hash` is then committed, registered and waited for without
    /// comparing it with the hash of the compose sent. By default a
    /// difference is [`DeployError::ComposeHashMismatch`], before anything
    /// is committed or registered.
    pub fn skip_compose_hash_check(mut self) -> Self {
        self.check_hash = false;
        self
    }

    /// Deploys on Phala's KMS: provisions, verifies the app's key, encrypts
    /// the env vars, commits, and waits if asked to.
    ///
    /// On an on-chain KMS it provisions and then fails with
    /// [`DeployError::ApprovalRequired`], which carries what to register:
    /// use [`Deploy::propose`], or `Deploy::register(&provider)` (feature
    /// `onchain-eth`). Env vars the compose's `allowed_envs` does not list
    /// fail with [`DeployError::EnvNotAllowed`] before anything is sent;
    /// when the compose lists none, it allows those given.
    pub async fn send(self) -> Result<Deployment, Error> {
        match self.propose().await? {
            DeployProposal::Deployed(deployment) => Ok(*deployment),
            DeployProposal::ApprovalRequired(pending) => {
                Err(DeployError::ApprovalRequired(Box::new(pending.approval)).into())
            }
        }
    }

    /// Provisions, then commits on Phala's KMS
    /// ([`DeployProposal::Deployed`]); on an on-chain KMS stops before the
    /// commit with the approval the app contract ([`Deploy::app_id`]) must
    /// give ([`DeployProposal::ApprovalRequired`]).
    ///
    /// ```no_run
    /// use phala_cloud::deploy::DeployProposal;
    /// use phala_cloud::types::KmsType;
    ///
    /// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
    /// let proposal = client
    ///     .deploy("services:\n  web:\n    image: nginx:1.27\n")
    ///     .name("my-app")
    ///     .kms(KmsType::Base)
    ///     .app_id("0x2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4")
    ///     .propose()
    ///     .await?;
    /// if let DeployProposal::ApprovalRequired(pending) = proposal {
    ///     println!("addComposeHash({}) on {}", pending.approval().compose_hash, pending.approval().app_id);
    ///     // … once the app's owner (a Safe, say) has executed it:
    ///     let deployment = pending.commit().await?;
    ///     println!("{}", deployment.cvm_id);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn propose(self) -> Result<DeployProposal, Error> {
        let provisioned = self.provision().await?;
        if !provisioned.on_chain {
            return Ok(DeployProposal::Deployed(Box::new(
                provisioned.commit_off_chain().await?,
            )));
        }
        let app = provisioned
            .app_id
            .clone()
            .ok_or(DeployError::NoAppContract)?;
        Ok(DeployProposal::ApprovalRequired(Box::new(
            PendingDeployment {
                approval: provisioned.approval(&app),
                app,
                provisioned,
            },
        )))
    }

    /// Checks the settings, then provisions.
    pub(super) async fn provision(self) -> Result<Provisioned, Error> {
        let vars = self.env.into_vars()?;
        let kms_id = self.kms_id.map_err(Error::InvalidRequest)?;
        let app_id = self.app_id.map_err(Error::InvalidRequest)?;
        let name = self
            .name
            .or_else(|| self.compose.name().map(str::to_string))
            .ok_or_else(|| Error::InvalidRequest("a deploy needs a name: Deploy::name".into()))?;
        let mut compose = self.compose.into_app(&name)?;
        match &compose.allowed_envs {
            Some(allowed) => check_allowed(&vars, allowed)?,
            None if !vars.is_empty() => compose.allowed_envs = Some(keys(&vars)),
            None => {}
        }
        let compose = complete(compose);
        let local_hash = hash_of(&compose)?;
        let mut body = types::ProvisionCvmRequest::builder()
            .name(name)
            .compose_file(compose)
            .instance_type(self.instance_type)
            .kms(self.kms.clone());
        if let Some(node) = self.node {
            body = body.teepod_id(node);
        }
        if let Some(region) = self.region {
            body = body.region(region);
        }
        if let Some(kms_id) = kms_id {
            body = body.kms_id(kms_id.as_str());
        }
        let answer = self
            .client
            .provision_cvm()
            .body(body)
            .send()
            .await?
            .into_inner();
        if self.check_hash {
            check_hash(local_hash, &answer.compose_hash)?;
        }
        let on_chain = !matches!(self.kms, KmsType::Phala)
            || answer
                .kms_info
                .as_ref()
                .is_some_and(|kms| kms.chain_id.is_some());
        Ok(Provisioned {
            client: self.client,
            answer,
            on_chain,
            app_id,
            deployer: self.deployer,
            vars,
            check: self.check,
            deadline: self.deadline,
        })
    }
}

/// The compose hash of an app compose as this client sends it.
pub(super) fn hash_of(compose: &types::AppCompose) -> Result<ComposeHash, Error> {
    let json = serde_json::to_value(compose)
        .map_err(|e| Error::InvalidRequest(format!("the app compose: {e}")))?;
    Ok(ComposeHash::of_json(&json))
}

/// The provision answer's hash must be the hash of the compose sent.
pub(super) fn check_hash(local: ComposeHash, server: &ComposeHash) -> Result<(), DeployError> {
    if &local == server {
        return Ok(());
    }
    Err(DeployError::ComposeHashMismatch {
        local,
        server: server.clone(),
    })
}

/// What an app contract must allow for `compose_hash` to boot on the
/// device, as a provision answer gives it.
pub(super) fn approval_for(
    compose_hash: &ComposeHash,
    app: &AppId,
    device_id: Option<String>,
    kms_info: Option<&impl serde::Serialize>,
) -> OnChainApprovalRequired {
    let kms_info =
        kms_info.and_then(|kms| serde_json::from_value(serde_json::to_value(kms).ok()?).ok());
    OnChainApprovalRequired {
        compose_hash: compose_hash.to_string(),
        app_id: format!("0x{}", app.as_str()),
        device_id,
        kms_info,
        commit_token: None,
        commit_url: None,
        api_commit_url: None,
        onchain_status: None,
        onchain_action: None,
        expires_at: None,
        message: "register the compose hash on the app's contract, then commit".into(),
        error_code: None,
        request_id: None,
        other: Default::default(),
    }
}

/// A provisioned deployment, not committed yet.
#[derive(Debug)]
pub(super) struct Provisioned {
    pub(super) client: Client,
    pub(super) answer: ProvisionCvmResponse,
    pub(super) on_chain: bool,
    /// The app contract the caller named (on chain).
    pub(super) app_id: Option<AppId>,
    pub(super) deployer: Option<String>,
    vars: Vec<EnvVar>,
    check: KeyCheck,
    deadline: Option<Instant>,
}

impl Provisioned {
    /// What the app contract must allow for the deployment to boot.
    pub(super) fn approval(&self, app: &AppId) -> OnChainApprovalRequired {
        approval_for(
            &self.answer.compose_hash,
            app,
            self.answer.device_id.clone(),
            self.answer.kms_info.as_ref(),
        )
    }

    /// Commits on Phala's KMS, under the app id the provision gave.
    pub(super) async fn commit_off_chain(self) -> Result<Deployment, Error> {
        let app_id =
            self.answer.app_id.clone().ok_or_else(|| {
                DeployError::Incomplete("the provision answer has no app_id".into())
            })?;
        let app: AppId = crate::ids::param("app_id", app_id.as_str())
            .map_err(|e| DeployError::Incomplete(format!("the provision answer's {e}")))?;
        self.commit(app, app_id).await
    }

    /// Encrypts the env vars to the app's verified key, commits, and waits
    /// if asked to. `app_text` is the app id as the commit sends it.
    pub(super) async fn commit(self, app: AppId, app_text: String) -> Result<Deployment, Error> {
        let kms = key::provisioned_kms(&self.answer)?;
        let provisioned_key = match self.on_chain {
            true => None,
            false => self.answer.app_env_encrypt_pubkey.as_deref(),
        };
        let encrypted = key::encrypt(
            &self.client,
            kms,
            app.clone(),
            &self.check,
            &self.vars,
            provisioned_key,
        )
        .await?;
        let mut body = types::CreateTappRequest::builder()
            .app_id(app_text)
            .compose_hash(self.answer.compose_hash.as_str());
        if let Some((env, _)) = &encrypted {
            body = body
                .encrypted_env(env.encrypted_env.clone())
                .env_keys(env.env_keys.clone());
        }
        if self.on_chain {
            body = body.contract_address(format!("0x{}", app.as_str()));
            let slug = self.answer.kms_info.as_ref().and_then(|k| k.slug.clone());
            if let Some(kms) = slug.or_else(|| self.answer.kms_id.clone()) {
                body = body.kms_id(kms);
            }
            if let Some(deployer) = &self.deployer {
                body = body.deployer_address(deployer.clone());
            }
        }
        let vm = self
            .client
            .commit_cvm_provision()
            .body(body)
            .send()
            .await?
            .into_inner();
        let key = encrypted.map(|(_, verification)| verification);
        finish(
            &self.client,
            vm,
            self.answer.compose_hash,
            key,
            self.deadline,
        )
        .await
    }
}

/// The deployment once committed, after the wait if one was asked for.
async fn finish(
    client: &Client,
    vm: types::Vm,
    compose_hash: ComposeHash,
    key_verification: Option<KeyVerification>,
    deadline: Option<Instant>,
) -> Result<Deployment, Error> {
    let cvm_id = match &vm.vm_uuid {
        Some(uuid) => CvmRef::from(uuid.clone()),
        None => u64::try_from(vm.id)
            .map(|id| CvmRef::from(LegacyCvmId::from(id)))
            .map_err(|_| DeployError::Incomplete(format!("the commit answer's id {}", vm.id)))?,
    };
    let mut endpoints: Vec<String> = vm.app_url.iter().cloned().collect();
    let mut state = None;
    if let Some(deadline) = deadline {
        let running = client
            .wait_for_compose_hash(cvm_id.clone(), compose_hash.clone(), deadline)
            .send()
            .await
            .map_err(|e| with_app_id(e, &vm.app_id))?;
        let urls = running
            .cvm
            .endpoints
            .iter()
            .flatten()
            .map(|e| e.app.clone());
        let urls: Vec<String> = urls.filter(|url| !url.is_empty()).collect();
        if !urls.is_empty() {
            endpoints = urls;
        }
        state = Some(running.state);
    }
    Ok(Deployment {
        cvm_id,
        app_id: vm.app_id.clone(),
        compose_hash,
        endpoints,
        state,
        key_verification,
        vm,
    })
}

/// A wait's deadline error with the app id the commit gave, when the wait
/// never saw the CVM.
pub(super) fn with_app_id(error: Error, app_id: &AppId) -> Error {
    match error {
        Error::Deploy(deploy) => match *deploy {
            DeployError::DeadlinePassed(mut unfinished) => {
                unfinished.app_id.get_or_insert_with(|| app_id.clone());
                DeployError::DeadlinePassed(unfinished).into()
            }
            other => other.into(),
        },
        other => other,
    }
}

/// A committed deployment.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Deployment {
    /// The CVM, for every CVM operation (`get_cvm().cvm_id(…)`).
    pub cvm_id: CvmRef,
    /// The app.
    pub app_id: AppId,
    /// The compose hash the CVM boots with: the provision answer's,
    /// checked equal to the hash of the compose sent (unless the check was
    /// skipped).
    pub compose_hash: ComposeHash,
    /// The app's public URLs: the CVM's endpoints once it runs, else the
    /// commit's `app_url`.
    pub endpoints: Vec<String>,
    /// The CVM's state once it runs the hash
    /// ([`Deploy::wait_until_running`]); `None` when not waited for (a
    /// wait that ends at its deadline is an error, not `None`).
    pub state: Option<CvmState>,
    /// What was verified about the key the env vars were encrypted to;
    /// `None` without env vars (no key was fetched).
    pub key_verification: Option<KeyVerification>,
    /// The commit's answer, whole.
    pub vm: types::Vm,
}

/// What [`Deploy::propose`] led to.
#[derive(Debug)]
pub enum DeployProposal {
    /// Committed (Phala's KMS).
    Deployed(Box<Deployment>),
    /// Provisioned on an on-chain KMS: the app contract must allow the
    /// compose hash before [`PendingDeployment::commit`].
    ApprovalRequired(Box<PendingDeployment>),
}

/// A deployment on an on-chain KMS waiting for its app contract to allow
/// the compose hash.
#[derive(Debug)]
pub struct PendingDeployment {
    approval: OnChainApprovalRequired,
    app: AppId,
    provisioned: Provisioned,
}

impl PendingDeployment {
    /// What to register: the compose hash on the app's contract (and, with
    /// the `onchain-eth-calldata` feature,
    /// `calldata()` for a Safe).
    pub fn approval(&self) -> &OnChainApprovalRequired {
        &self.approval
    }

    /// Commits once the contract allows the compose hash: verifies the
    /// app's key, encrypts the env vars, commits (with the app contract
    /// and the deployer), and waits if asked to.
    pub async fn commit(self) -> Result<Deployment, Error> {
        let app_text = self.app.as_str().to_string();
        self.provisioned.commit(self.app, app_text).await
    }
}
