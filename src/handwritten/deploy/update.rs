//! `client.update_env_vars(cvm, vars)` and `client.update_compose(cvm,
//! compose)`: the update's manifest built once, provisioned, its compose
//! hash checked against the one computed here, the key found from the
//! CVM's KMS and verified, the update committed, and the on-chain approval
//! handed back typed.

use std::time::Instant;

use super::builder::{approval_for, check_hash, hash_of, with_app_id};
use super::compose::complete;
use super::env::{check_allowed, keys, EnvSet};
use super::key::{self, KeyCheck};
use super::{Compose, DeployError};
use crate::builder::{PatchCvm, UpdateCvmEnvs};
use crate::env_encryption::EnvVar;
use crate::ids::{AppId, ComposeHash, CvmRef};
use crate::onchain::{
    Applied, ConfirmUpdate, OnChainApprovalRequired, ProposeUpdate, UpdateOutcome,
};
use crate::types::{self, AppCompose, CvmInfoDetail, UpdateCvmRequest};
use crate::{Client, Error};

impl Client {
    /// Replaces a CVM's env vars: reads the CVM and its compose, checks the
    /// keys against the compose's `allowed_envs` ([`DeployError::EnvNotAllowed`]
    /// before any change is sent), finds the key from the CVM's KMS (Phala's
    /// or the on-chain one, whatever its kind), verifies its signature,
    /// encrypts and sends (`PATCH /cvms/{id}/envs`). With
    /// [`UpdateEnvVars::allow_new_keys`] and keys not yet allowed, the
    /// compose changes: the update then goes as a compose update does
    /// (provisioned, its hash checked, committed with the same env keys).
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

    /// Changes a CVM's compose: a docker-compose file as text (the rest of
    /// the CVM's compose kept), or a whole [`types::AppCompose`] (its
    /// pre-launch script, `allowed_envs` and public settings go too). With
    /// [`UpdateCompose::env`] the env vars change in the same update,
    /// checked against the new `allowed_envs` (else the current ones),
    /// encrypted to the CVM's verified key.
    ///
    /// The complete app compose is built here and provisioned
    /// (`POST /cvms/{id}/compose_file/provision`); the answer's compose
    /// hash must be the hash of it ([`DeployError::ComposeHashMismatch`]
    /// otherwise, with nothing committed or registered); then it is
    /// committed (`PATCH /cvms/{id}/compose_file`) with the same env keys
    /// and `update_env_vars`, or, on an on-chain KMS whose contract does
    /// not allow the hash yet, handed back as an approval.
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

/// The setters both update flows have: the hash check and the wait.
macro_rules! update_setters {
    ($($flow:ident),+) => {$(
        impl $flow {
            /// **Turns off the compose hash check**: the provision answer's
            /// hash is then committed without comparing it with the hash
            /// of the manifest sent.
            pub fn skip_compose_hash_check(mut self) -> Self {
                self.target.check_hash = false;
                self
            }

            /// Once the update is applied, waits until the CVM runs its
            /// compose hash ([`Client::wait_for_compose_hash`]): `Ok` then
            /// means it does. A boot error is [`Error::CvmFailed`], another
            /// hash [`DeployError::OtherComposeHash`], the deadline
            /// [`DeployError::DeadlinePassed`] (the update was applied).
            pub fn wait_until_running(mut self, deadline: Instant) -> Self {
                self.target.deadline = Some(deadline);
                self
            }
        }
    )+};
}

update_setters!(UpdateEnvVars, UpdateCompose);

/// The CVM an update is for, how its key and hash are checked, and how
/// long to wait.
#[derive(Debug, Clone)]
struct Target {
    client: Client,
    cvm: Result<CvmRef, String>,
    check: KeyCheck,
    check_hash: bool,
    deadline: Option<Instant>,
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
            check_hash: true,
            deadline: None,
        }
    }

    fn cvm(&self) -> Result<CvmRef, Error> {
        self.cvm.clone().map_err(Error::InvalidRequest)
    }

    /// The CVM's compose as the server has it.
    async fn compose(&self) -> Result<AppCompose, Error> {
        let compose = self
            .client
            .get_cvm_compose_file()
            .cvm_id(self.cvm()?)
            .send()
            .await?;
        Ok(compose.into_inner())
    }

    async fn detail(&self) -> Result<CvmInfoDetail, Error> {
        Ok(self
            .client
            .get_cvm()
            .cvm_id(self.cvm()?)
            .send()
            .await?
            .into_inner())
    }

    /// `vars` encrypted to the verified key of `cvm`, as hex.
    async fn encrypt(&self, cvm: &CvmInfoDetail, vars: &[EnvVar]) -> Result<Option<String>, Error> {
        if vars.is_empty() {
            return Ok(None);
        }
        let app = cvm.app_id.clone().ok_or_else(|| {
            DeployError::Incomplete(format!("CVM {} has no app_id to fetch its key for", cvm.id))
        })?;
        let kms = key::cvm_kms(&self.client, cvm).await?;
        let encrypted = key::encrypt(&self.client, kms, app, &self.check, vars, None).await?;
        Ok(encrypted.map(|(env, _)| env.encrypted_env))
    }

    /// Provisions `manifest` and checks the answer's hash, encrypts
    /// `vars`, then commits, or stops at the approval an on-chain KMS
    /// needs first.
    async fn provision(self, manifest: Manifest, vars: &[EnvVar]) -> Result<Proposal, Error> {
        let answer = self
            .client
            .provision_for_cvm_compose_file_update()
            .cvm_id(self.cvm()?)
            .body(manifest.provision_body()?)
            .send()
            .await?
            .into_inner();
        if self.check_hash {
            check_hash(manifest.hash.clone(), &answer.compose_hash)?;
        }
        let encrypted_env = match vars.is_empty() {
            true => None,
            false => self.encrypt(&self.detail().await?, vars).await?,
        };
        let commit = manifest.commit_body(&answer.compose_hash, encrypted_env)?;
        let hash = answer.compose_hash.clone();
        let on_chain = answer
            .kms_info
            .as_ref()
            .is_some_and(|k| k.chain_id.is_some());
        if on_chain && answer.compose_hash_registered != Some(true) {
            let approval = approval_for(
                &hash,
                &answer.app_id,
                answer.device_id.clone(),
                answer.kms_info.as_ref(),
            );
            return Ok(self.pending(approval, Phase2::Commit(Box::new(commit)), hash));
        }
        let applied = self.commit(commit).await?;
        self.finish(applied, hash, Some(answer.app_id))
            .await
            .map(Proposal::Applied)
    }

    /// Commits a provisioned update.
    async fn commit(&self, body: types::TriggerCvmComposeFileUpdateBody) -> Result<Applied, Error> {
        let answer = self
            .client
            .trigger_cvm_compose_file_update()
            .cvm_id(self.cvm()?)
            .body(body)
            .send()
            .await?;
        Ok(Applied::from_answer(answer.into_inner()))
    }

    /// Sends a one-request update (`PATCH /cvms/{id}` or `/envs`) that
    /// the server may answer with HTTP 465; its hash must be `hash`.
    async fn send_once(self, phase_1: Once, hash: ComposeHash) -> Result<Proposal, Error> {
        let outcome = match &phase_1 {
            Once::Envs(request) => (**request).clone().propose().await?,
            Once::Patch(request) => (**request).clone().propose().await?,
        };
        match outcome {
            UpdateOutcome::Applied(applied) => self
                .finish(applied, hash, None)
                .await
                .map(Proposal::Applied),
            UpdateOutcome::ApprovalRequired(approval) => {
                let server: ComposeHash = approval.compose_hash.parse().map_err(|e| {
                    DeployError::Incomplete(format!("the approval's compose hash: {e}"))
                })?;
                if self.check_hash {
                    check_hash(hash, &server)?;
                }
                Ok(self.pending(*approval, Phase2::Again(phase_1), server))
            }
        }
    }

    fn pending(
        self,
        approval: OnChainApprovalRequired,
        phase_2: Phase2,
        hash: ComposeHash,
    ) -> Proposal {
        Proposal::ApprovalRequired(Box::new(PendingUpdate {
            target: self,
            approval,
            phase_2,
            hash,
        }))
    }

    /// Waits, if asked to, until the CVM runs `hash`.
    async fn finish(
        &self,
        applied: Applied,
        hash: ComposeHash,
        app_id: Option<AppId>,
    ) -> Result<Applied, Error> {
        let Some(deadline) = self.deadline else {
            return Ok(applied);
        };
        let wait = self
            .client
            .wait_for_compose_hash(self.cvm()?, hash, deadline);
        match (wait.send().await, app_id) {
            (Ok(_), _) => Ok(applied),
            (Err(e), Some(app_id)) => Err(with_app_id(e, &app_id)),
            (Err(e), None) => Err(e),
        }
    }
}

/// What decides an update's compose hash: the complete app compose (its
/// `allowed_envs` the env keys) and `update_env_vars`, built once and sent
/// to the provision and to the commit alike.
#[derive(Debug, Clone)]
struct Manifest {
    compose: AppCompose,
    update_env_vars: bool,
    hash: ComposeHash,
}

impl Manifest {
    fn new(compose: AppCompose, update_env_vars: bool) -> Result<Self, Error> {
        let compose = complete(compose);
        let hash = hash_of(&compose)?;
        Ok(Self {
            compose,
            update_env_vars,
            hash,
        })
    }

    fn env_keys(&self) -> Vec<String> {
        self.compose.allowed_envs.clone().unwrap_or_default()
    }

    /// `POST /cvms/{id}/compose_file/provision`: the compose, and
    /// `update_env_vars`.
    fn provision_body(&self) -> Result<types::ProvisionComposeFileUpdateRequest, Error> {
        let mut body = serde_json::to_value(&self.compose).map_err(invalid)?;
        if let Some(body) = body.as_object_mut() {
            body.insert("update_env_vars".into(), self.update_env_vars.into());
        }
        serde_json::from_value(body).map_err(invalid)
    }

    /// `PATCH /cvms/{id}/compose_file`: the provisioned hash, the env keys
    /// and `update_env_vars` of the manifest, and the env vars.
    fn commit_body(
        &self,
        compose_hash: &ComposeHash,
        encrypted_env: Option<String>,
    ) -> Result<types::TriggerCvmComposeFileUpdateBody, Error> {
        let body = serde_json::json!({
            "compose_hash": compose_hash,
            "encrypted_env": encrypted_env,
            "env_keys": self.env_keys(),
            "update_env_vars": self.update_env_vars,
        });
        serde_json::from_value(body).map_err(invalid)
    }
}

fn invalid(e: serde_json::Error) -> Error {
    Error::InvalidRequest(format!("the update's manifest: {e}"))
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
    /// Adds the keys not yet in `allowed_envs` to it instead of refusing
    /// them. This changes the compose hash: the update is then provisioned
    /// and committed as a compose update, and on an on-chain KMS needs
    /// approval ([`UpdateEnvVars::propose`]).
    pub fn allow_new_keys(mut self) -> Self {
        self.allow_new_keys = true;
        self
    }

    /// Sends the update; an on-chain approval (HTTP 465) is
    /// [`DeployError::ApprovalRequired`], carrying it.
    pub async fn send(self) -> Result<Applied, Error> {
        self.propose().await?.applied()
    }

    /// Sends the update: [`Proposal::Applied`], or a [`PendingUpdate`] to
    /// confirm once the compose hash is registered.
    pub async fn propose(self) -> Result<Proposal, Error> {
        let vars = self.env.into_vars()?;
        if vars.is_empty() {
            return Err(Error::InvalidRequest("no env vars to update".into()));
        }
        let mut compose = self.target.compose().await?;
        let allowed = compose.allowed_envs.clone().unwrap_or_default();
        let new: Vec<String> = keys(&vars)
            .into_iter()
            .filter(|k| !allowed.contains(k))
            .collect();
        if self.allow_new_keys && !new.is_empty() {
            compose.allowed_envs = Some([allowed, new].concat());
            let manifest = Manifest::new(compose, true)?;
            return self.target.provision(manifest, &vars).await;
        }
        check_allowed(&vars, &allowed)?;
        // The keys stay: the compose, and so its hash, do not change.
        let cvm = self.target.detail().await?;
        let hash = cvm.compose_hash.clone().ok_or_else(|| {
            DeployError::Incomplete(format!("CVM {} reports no compose hash", cvm.id))
        })?;
        let Some(encrypted_env) = self.target.encrypt(&cvm, &vars).await? else {
            return Err(Error::InvalidRequest("no env vars to update".into()));
        };
        let request = self
            .target
            .client
            .update_cvm_envs()
            .cvm_id(self.target.cvm()?)
            .body(types::UpdateCvmEnvsBody::builder().encrypted_env(encrypted_env));
        self.target
            .send_once(Once::Envs(Box::new(request)), hash)
            .await
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
    /// A multisig update the API's own way (`PATCH /cvms/{id}` with
    /// `X-Prepare-Only: true`): the 465 then carries a commit token, and
    /// [`PendingUpdate::confirm`] commits with it (`commit_cvm_update`)
    /// once the signers have registered the hash. The 465's hash must be
    /// the hash of the manifest built here from the CVM's compose and the
    /// change. Without it, an update on an on-chain KMS stops at the
    /// approval all the same.
    pub fn prepare_only(mut self) -> Self {
        self.prepare_only = true;
        self
    }

    /// Sends the update; an on-chain approval is
    /// [`DeployError::ApprovalRequired`], carrying it.
    pub async fn send(self) -> Result<Applied, Error> {
        self.propose().await?.applied()
    }

    /// Provisions the update and checks its hash, then commits it
    /// ([`Proposal::Applied`]) or, when the app contract must allow the
    /// hash first, gives a [`PendingUpdate`] to confirm once it does.
    pub async fn propose(self) -> Result<Proposal, Error> {
        let vars = self.env.into_vars()?;
        let current = self.target.compose().await?;
        let current_keys = current.allowed_envs.clone();
        let (compose, patch) = match self.compose {
            Compose::DockerCompose(text) => (
                AppCompose {
                    docker_compose_file: Some(text.clone()),
                    ..current
                },
                UpdateCvmRequest {
                    docker_compose_file: Some(text),
                    ..Default::default()
                },
            ),
            Compose::App(app) => {
                let patch = UpdateCvmRequest {
                    docker_compose_file: app.docker_compose_file.clone(),
                    pre_launch_script: app.pre_launch_script.clone(),
                    allowed_envs: app.allowed_envs.clone(),
                    public_logs: app.public_logs,
                    public_sysinfo: app.public_sysinfo,
                    public_tcbinfo: app.public_tcbinfo,
                    ..Default::default()
                };
                let mut app = *app;
                if app.name.is_empty() {
                    app.name = current.name;
                }
                app.allowed_envs = app.allowed_envs.or(current_keys.clone());
                (app, patch)
            }
        };
        if !vars.is_empty() {
            check_allowed(&vars, compose.allowed_envs.as_deref().unwrap_or_default())?;
        }
        let update_env_vars = !vars.is_empty() || compose.allowed_envs != current_keys;
        let manifest = Manifest::new(compose, update_env_vars)?;
        if !self.prepare_only {
            return self.target.provision(manifest, &vars).await;
        }
        let mut patch = patch;
        if !vars.is_empty() {
            patch.encrypted_env = self
                .target
                .encrypt(&self.target.detail().await?, &vars)
                .await?;
        }
        let request = self
            .target
            .client
            .patch_cvm()
            .cvm_id(self.target.cvm()?)
            .body(patch)
            .prepare_only();
        let hash = manifest.hash;
        self.target
            .send_once(Once::Patch(Box::new(request)), hash)
            .await
    }
}

/// What phase 2 sends.
#[derive(Debug, Clone)]
enum Phase2 {
    /// The commit of a provisioned update.
    Commit(Box<types::TriggerCvmComposeFileUpdateBody>),
    /// The phase-1 request again.
    Again(Once),
}

/// An update in one request, which the server may answer with HTTP 465.
#[derive(Debug, Clone)]
enum Once {
    Envs(Box<UpdateCvmEnvs>),
    Patch(Box<PatchCvm>),
}

/// What an update's phase 1 led to.
#[derive(Debug)]
pub enum Proposal {
    /// The server took the update (or it changed nothing), and, if a wait
    /// was asked for, the CVM runs its hash.
    Applied(Applied),
    /// The compose hash must be registered on the app's contract first.
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
    target: Target,
    approval: OnChainApprovalRequired,
    phase_2: Phase2,
    hash: ComposeHash,
}

impl PendingUpdate {
    /// What to register (with the `onchain-eth-calldata` feature,
    /// `calldata()` gives the calls for a Safe): a hash checked against
    /// the manifest sent, unless the check was skipped. It serializes, to
    /// keep while the signers act.
    pub fn approval(&self) -> &OnChainApprovalRequired {
        &self.approval
    }

    /// Phase 2, with the transaction that registered the hash
    /// ([`ALREADY_REGISTERED`](crate::onchain::ALREADY_REGISTERED) if it
    /// was): the commit of the provisioned update (the server reads the
    /// contract itself; the transaction is not sent), the same request
    /// again, or for a [prepare-only](UpdateCompose::prepare_only) update
    /// the commit with its token. Then waits, if asked to.
    pub async fn confirm(
        self,
        transaction_hash: impl Into<String> + Send,
    ) -> Result<Applied, Error> {
        let cvm = self.target.cvm()?;
        let applied = if self.approval.commit_token.is_some() {
            self.target
                .client
                .commit_cvm_update()
                .cvm_id(cvm)
                .confirm(&self.approval, transaction_hash)
                .await?
        } else {
            match self.phase_2 {
                Phase2::Commit(body) => self.target.commit(*body).await?,
                Phase2::Again(Once::Envs(request)) => {
                    (*request).confirm(&self.approval, transaction_hash).await?
                }
                Phase2::Again(Once::Patch(request)) => {
                    (*request).confirm(&self.approval, transaction_hash).await?
                }
            }
        };
        self.target.finish(applied, self.hash, None).await
    }
}
