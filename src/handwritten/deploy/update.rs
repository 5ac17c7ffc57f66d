//! `client.update_env_vars(cvm, vars)` and `client.update_compose(cvm,
//! compose)`: the key found from the CVM's KMS, verified, the update sent,
//! and the on-chain approval (HTTP 465) handed back typed.

use super::env::{check_allowed, keys, EnvSet};
use super::key::{self, KeyCheck};
use super::{Compose, DeployError};
use crate::builder::{PatchCvm, UpdateCvmEnvs};
use crate::env_encryption::{EncryptedEnv, EnvVar};
use crate::ids::CvmRef;
use crate::onchain::{
    Applied, ConfirmUpdate, OnChainApprovalRequired, ProposeUpdate, UpdateOutcome,
};
use crate::types::{self, UpdateCvmRequest};
use crate::{Client, Error};

impl Client {
    /// Replaces a CVM's env vars: reads the CVM and its compose, checks the
    /// keys against the compose's `allowed_envs` ([`DeployError::EnvNotAllowed`]
    /// before any change is sent), finds the key from the CVM's KMS (Phala's
    /// or the on-chain one, whatever its kind), verifies its signature,
    /// encrypts and sends (`PATCH /cvms/{id}/envs`).
    ///
    /// *Hand-written:* a two-phase flow over generated operations.
    ///
    /// [`UpdateEnvVars::send`] for a CVM on Phala's KMS;
    /// [`UpdateEnvVars::propose`] when an on-chain KMS may ask for approval
    /// (a change of `allowed_envs` changes the compose hash).
    ///
    /// ```no_run
    /// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
    /// let applied = client
    ///     .update_env_vars("cvm_ykL5lbAn", [("API_TOKEN", "n3w-s3cr3t")])
    ///     .send()
    ///     .await?;
    /// println!("{applied:?}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn update_env_vars<V, I>(&self, cvm_id: V, vars: I) -> UpdateEnvVars
    where
        V: TryInto<CvmRef>,
        V::Error: std::fmt::Display,
        I: IntoIterator,
        I::Item: Into<EnvVar>,
    {
        let mut env = EnvSet::default();
        vars.into_iter().for_each(|var| env.set(var.into()));
        UpdateEnvVars {
            target: Target::new(self.clone(), cvm_id),
            env,
            allow_new_keys: false,
        }
    }

    /// Changes a CVM's compose (`PATCH /cvms/{id}`): a docker-compose file
    /// as text, or a whole [`types::AppCompose`] (its pre-launch script,
    /// `allowed_envs` and public settings go too). With
    /// [`UpdateCompose::env`] the env vars change in the same update,
    /// checked against the new `allowed_envs` (else the current ones),
    /// encrypted to the CVM's verified key.
    ///
    /// *Hand-written:* a two-phase flow over generated operations.
    ///
    /// ```no_run
    /// use phala_cloud::deploy::Proposal;
    ///
    /// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
    /// let update = client.update_compose("cvm_ykL5lbAn", "services:\n  web:\n    image: nginx:1.28\n");
    /// match update.propose().await? {
    ///     Proposal::Applied(applied) => println!("{applied:?}"),
    ///     Proposal::ApprovalRequired(pending) => {
    ///         println!("register {} first", pending.approval().compose_hash);
    ///         // … then, with the registering transaction:
    ///         pending.confirm("0x5e1f…").await?;
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn update_compose<V>(&self, cvm_id: V, compose: impl Into<Compose>) -> UpdateCompose
    where
        V: TryInto<CvmRef>,
        V::Error: std::fmt::Display,
    {
        UpdateCompose {
            target: Target::new(self.clone(), cvm_id),
            compose: compose.into(),
            env: EnvSet::default(),
            prepare_only: false,
        }
    }
}

/// The CVM an update is for, and how its key is checked.
#[derive(Debug, Clone)]
struct Target {
    client: Client,
    cvm: Result<CvmRef, String>,
    check: KeyCheck,
}

impl Target {
    fn new<V>(client: Client, cvm_id: V) -> Self
    where
        V: TryInto<CvmRef>,
        V::Error: std::fmt::Display,
    {
        Self {
            client,
            cvm: crate::ids::param("cvm_id", cvm_id),
            check: KeyCheck::default(),
        }
    }

    fn cvm(&self) -> Result<CvmRef, Error> {
        self.cvm.clone().map_err(Error::InvalidRequest)
    }

    /// The compose's `allowed_envs` as the server has it.
    async fn allowed_envs(&self) -> Result<Vec<String>, Error> {
        let compose = self
            .client
            .get_cvm_compose_file()
            .cvm_id(self.cvm()?)
            .send()
            .await?;
        Ok(compose.into_inner().allowed_envs.unwrap_or_default())
    }

    /// `vars` encrypted to the CVM's verified key.
    async fn encrypt(&self, vars: &[EnvVar]) -> Result<Option<EncryptedEnv>, Error> {
        if vars.is_empty() {
            return Ok(None);
        }
        let cvm = self.client.get_cvm().cvm_id(self.cvm()?).send().await?;
        let app = cvm.app_id.clone().ok_or_else(|| {
            DeployError::Incomplete(format!("CVM {} has no app_id to fetch its key for", cvm.id))
        })?;
        let kms = key::cvm_kms(&self.client, &cvm).await?;
        let encrypted = key::encrypt(&self.client, kms, app, &self.check, vars, None).await?;
        Ok(encrypted.map(|(env, _)| env))
    }

    /// Sends phase 1.
    async fn propose(self, phase_1: Phase1) -> Result<Proposal, Error> {
        let cvm = self.cvm()?;
        let outcome = match &phase_1 {
            Phase1::Envs(request) => (**request).clone().propose().await?,
            Phase1::Patch(request) => (**request).clone().propose().await?,
        };
        Ok(match outcome {
            UpdateOutcome::Applied(applied) => Proposal::Applied(applied),
            UpdateOutcome::ApprovalRequired(approval) => {
                Proposal::ApprovalRequired(Box::new(PendingUpdate {
                    client: self.client,
                    cvm,
                    approval: *approval,
                    phase_1,
                }))
            }
        })
    }
}

/// An env var update being configured; see [`Client::update_env_vars`].
#[derive(Debug, Clone)]
#[must_use]
pub struct UpdateEnvVars {
    target: Target,
    env: EnvSet,
    allow_new_keys: bool,
}

env_setters!(UpdateEnvVars, target.check);

impl UpdateEnvVars {
    /// Adds the keys not yet in `allowed_envs` to it (sent as `env_keys`)
    /// instead of refusing them. This changes the compose hash: on an
    /// on-chain KMS the update then needs approval
    /// ([`UpdateEnvVars::propose`]).
    pub fn allow_new_keys(mut self) -> Self {
        self.allow_new_keys = true;
        self
    }

    /// Sends the update; an on-chain approval (HTTP 465) is
    /// [`DeployError::ApprovalRequired`], carrying it.
    pub async fn send(self) -> Result<Applied, Error> {
        self.propose().await?.applied()
    }

    /// Sends the update: [`Proposal::Applied`], or on HTTP 465 a
    /// [`PendingUpdate`] to confirm once the compose hash is registered.
    pub async fn propose(self) -> Result<Proposal, Error> {
        let vars = self.env.into_vars()?;
        if vars.is_empty() {
            return Err(Error::InvalidRequest("no env vars to update".into()));
        }
        let allowed = self.target.allowed_envs().await?;
        let mut body = types::UpdateCvmEnvsBody::builder();
        if self.allow_new_keys {
            let new: Vec<String> = keys(&vars)
                .into_iter()
                .filter(|k| !allowed.contains(k))
                .collect();
            body = body.env_keys([allowed, new].concat());
        } else {
            check_allowed(&vars, &allowed)?;
        }
        let Some(encrypted) = self.target.encrypt(&vars).await? else {
            return Err(Error::InvalidRequest("no env vars to update".into()));
        };
        let request = self
            .target
            .client
            .update_cvm_envs()
            .cvm_id(self.target.cvm()?)
            .body(body.encrypted_env(encrypted.encrypted_env));
        self.target.propose(Phase1::Envs(Box::new(request))).await
    }
}

/// A compose update being configured; see [`Client::update_compose`].
#[derive(Debug, Clone)]
#[must_use]
pub struct UpdateCompose {
    target: Target,
    compose: Compose,
    env: EnvSet,
    prepare_only: bool,
}

env_setters!(UpdateCompose, target.check);

impl UpdateCompose {
    /// Phase 1 of a multisig update (`X-Prepare-Only: true`): the 465 then
    /// carries a commit token, and [`PendingUpdate::confirm`] commits with
    /// it (`commit_cvm_update`) once the signers have registered the hash.
    pub fn prepare_only(mut self) -> Self {
        self.prepare_only = true;
        self
    }

    /// Sends the update; an on-chain approval (HTTP 465) is
    /// [`DeployError::ApprovalRequired`], carrying it.
    pub async fn send(self) -> Result<Applied, Error> {
        self.propose().await?.applied()
    }

    /// Sends the update: [`Proposal::Applied`], or on HTTP 465 a
    /// [`PendingUpdate`] to confirm once the compose hash is registered.
    pub async fn propose(self) -> Result<Proposal, Error> {
        let vars = self.env.into_vars()?;
        let mut body = match self.compose {
            Compose::DockerCompose(text) => UpdateCvmRequest {
                docker_compose_file: Some(text),
                ..Default::default()
            },
            Compose::App(app) => UpdateCvmRequest {
                docker_compose_file: app.docker_compose_file,
                pre_launch_script: app.pre_launch_script,
                allowed_envs: app.allowed_envs,
                public_logs: app.public_logs,
                public_sysinfo: app.public_sysinfo,
                public_tcbinfo: app.public_tcbinfo,
                ..Default::default()
            },
        };
        if !vars.is_empty() {
            let allowed = match &body.allowed_envs {
                Some(allowed) => allowed.clone(),
                None => self.target.allowed_envs().await?,
            };
            check_allowed(&vars, &allowed)?;
            body.encrypted_env = self.target.encrypt(&vars).await?.map(|e| e.encrypted_env);
        }
        let mut request = self
            .target
            .client
            .patch_cvm()
            .cvm_id(self.target.cvm()?)
            .body(body);
        if self.prepare_only {
            request = request.prepare_only();
        }
        self.target.propose(Phase1::Patch(Box::new(request))).await
    }
}

/// The phase-1 request, sent again in phase 2.
#[derive(Debug, Clone)]
enum Phase1 {
    Envs(Box<UpdateCvmEnvs>),
    Patch(Box<PatchCvm>),
}

/// What an update's phase 1 led to.
#[derive(Debug)]
pub enum Proposal {
    /// The server took the update (or it changed nothing).
    Applied(Applied),
    /// HTTP 465: the compose hash must be registered on the app's contract
    /// first.
    ApprovalRequired(Box<PendingUpdate>),
}

impl Proposal {
    fn applied(self) -> Result<Applied, Error> {
        match self {
            Proposal::Applied(applied) => Ok(applied),
            Proposal::ApprovalRequired(pending) => {
                Err(DeployError::ApprovalRequired(Box::new(pending.approval)).into())
            }
        }
    }
}

/// An update waiting for its compose hash to be registered on chain.
#[derive(Debug)]
pub struct PendingUpdate {
    client: Client,
    cvm: CvmRef,
    approval: OnChainApprovalRequired,
    phase_1: Phase1,
}

impl PendingUpdate {
    /// What to register (with the `onchain-eth-calldata` feature,
    /// `calldata()` gives the calls for
    /// a Safe). It serializes, to keep while the signers act.
    pub fn approval(&self) -> &OnChainApprovalRequired {
        &self.approval
    }

    /// Phase 2, with the transaction that registered the hash
    /// ([`ALREADY_REGISTERED`](crate::onchain::ALREADY_REGISTERED) if it
    /// was): the same update again, or for a
    /// [prepare-only](UpdateCompose::prepare_only) update the commit with
    /// its token.
    pub async fn confirm(
        self,
        transaction_hash: impl Into<String> + Send,
    ) -> Result<Applied, Error> {
        if self.approval.commit_token.is_some() {
            return self
                .client
                .commit_cvm_update()
                .cvm_id(self.cvm)
                .confirm(&self.approval, transaction_hash)
                .await;
        }
        match self.phase_1 {
            Phase1::Envs(request) => (*request).confirm(&self.approval, transaction_hash).await,
            Phase1::Patch(request) => (*request).confirm(&self.approval, transaction_hash).await,
        }
    }
}
