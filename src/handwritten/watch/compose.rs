//! Waiting for what users poll for after a deploy or an update: until a CVM
//! runs a given compose hash, and until its attestation shows it.

use std::time::{Duration, Instant};

use crate::deploy::{DeployError, Unfinished, WaitedFor};
use crate::ids::{AppId, ComposeHash, CvmRef};
use crate::types::{CvmAttestation, CvmInfoDetail, CvmLifecycleStatus, CvmState};
use crate::{Client, Error};

/// The default of [`ComposeHashWait::poll_interval`]: 5 seconds, the
/// server's own state-check interval.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);

impl Client {
    /// Waits until the CVM runs `compose_hash`: its status `running`, no
    /// operation in progress, and its `compose_hash` equal to the one
    /// given. Nothing is sent until [`ComposeHashWait::send`].
    ///
    /// *Hand-written:* polls `GET /cvms/{id}` after the state stream says
    /// the CVM runs ([`Client::wait_for_cvm_state`]).
    ///
    /// It ends with an error, at once, when the CVM reports a boot error or
    /// a state it does not leave by itself ([`Error::CvmFailed`]), or when
    /// it settles on another hash ([`DeployError::OtherComposeHash`]): it
    /// runs, nothing in progress, with a hash other than the one awaited,
    /// after it was seen busy during the wait or with a hash it did not
    /// have when the wait started (an update not begun yet leaves the old
    /// hash in place, and the wait goes on). At `deadline` it ends with
    /// [`DeployError::DeadlinePassed`], which says what was last seen.
    ///
    /// ```no_run
    /// use std::time::{Duration, Instant};
    /// use phala_cloud::compose_hash::ComposeHash;
    ///
    /// # async fn run(client: phala_cloud::Client, compose: serde_json::Value) -> Result<(), phala_cloud::Error> {
    /// let hash = ComposeHash::of_json(&compose);
    /// let deadline = Instant::now() + Duration::from_secs(15 * 60);
    /// let cvm = client.wait_for_compose_hash("cvm_ykL5lbAn", hash, deadline).send().await?;
    /// println!("{} runs {:?}", cvm.cvm.name, cvm.cvm.compose_hash);
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait_for_compose_hash<V>(
        &self,
        cvm_id: V,
        compose_hash: ComposeHash,
        deadline: Instant,
    ) -> ComposeHashWait
    where
        V: TryInto<CvmRef>,
        V::Error: std::fmt::Display,
    {
        ComposeHashWait {
            client: self.clone(),
            cvm: crate::ids::param("cvm_id", cvm_id),
            compose_hash,
            deadline,
            poll_interval: DEFAULT_POLL_INTERVAL,
        }
    }

    /// Waits until the CVM's attestation shows `compose_hash`: the
    /// `compose-hash` event of its event log (RTMR3) carries it. Nothing
    /// is sent until [`AttestationWait::send`].
    ///
    /// *Hand-written:* polls `GET /cvms/{id}` and `GET /cvms/{id}/attestation`.
    ///
    /// With the `attestation` feature the attestation is then verified on
    /// this machine (`local_attestation::LocalVerifier`: quote, collateral,
    /// event log replay, the hash expected), and the result is
    /// `AttestationSource::Verified`; a verification that fails is
    /// `DeployError::Attestation`. Without it the hash is read from
    /// the API's answer, which is the operator's word
    /// ([`AttestationSource::ApiAnswer`]).
    ///
    /// It waits until the CVM runs the hash first, as
    /// [`Client::wait_for_compose_hash`] does, and ends with the same
    /// errors; an attestation that shows another hash is
    /// [`DeployError::OtherComposeHash`]; the deadline
    /// [`DeployError::DeadlinePassed`].
    ///
    /// ```no_run
    /// use std::time::{Duration, Instant};
    ///
    /// # async fn run(client: phala_cloud::Client, hash: phala_cloud::ids::ComposeHash) -> Result<(), phala_cloud::Error> {
    /// let deadline = Instant::now() + Duration::from_secs(15 * 60);
    /// let attested = client.wait_for_attested_compose_hash("cvm_ykL5lbAn", hash, deadline).send().await?;
    /// println!("{} ({:?})", attested.compose_hash, attested.source);
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait_for_attested_compose_hash<V>(
        &self,
        cvm_id: V,
        compose_hash: ComposeHash,
        deadline: Instant,
    ) -> AttestationWait
    where
        V: TryInto<CvmRef>,
        V::Error: std::fmt::Display,
    {
        AttestationWait(self.wait_for_compose_hash(cvm_id, compose_hash, deadline))
    }
}

/// A wait until a CVM runs a compose hash; see
/// [`Client::wait_for_compose_hash`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ComposeHashWait {
    client: Client,
    cvm: Result<CvmRef, String>,
    compose_hash: ComposeHash,
    deadline: Instant,
    poll_interval: Duration,
}

impl ComposeHashWait {
    /// How long to wait between two looks at the CVM (default
    /// [`DEFAULT_POLL_INTERVAL`]).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Waits; the CVM as it runs the hash.
    pub async fn send(self) -> Result<RunningComposeHash, Error> {
        let cvm_id = self.cvm.clone().map_err(Error::InvalidRequest)?;
        let mut seen = Seen::default();
        let wait = async {
            loop {
                let running = self
                    .client
                    .wait_for_cvm_state(cvm_id.clone(), "running", self.deadline)
                    .await?;
                if let Some(state) = running {
                    let cvm = self.client.get_cvm().cvm_id(cvm_id.clone()).send().await?;
                    let cvm = cvm.into_inner();
                    let look = Look::of(&cvm);
                    if let Some(outcome) = seen.decide(look, &self.compose_hash) {
                        return outcome
                            .map(|()| RunningComposeHash {
                                state,
                                cvm: Box::new(cvm),
                            })
                            .map_err(|found| {
                                other_hash(&cvm_id, &self.compose_hash, found, WaitedFor::Running)
                            });
                    }
                }
                self.pause().await;
            }
        };
        match tokio::time::timeout_at(self.deadline.into(), wait).await {
            Ok(result) => result,
            Err(_elapsed) => Err(seen.deadline(cvm_id, self.compose_hash, WaitedFor::Running)),
        }
    }

    /// The pause between two looks.
    async fn pause(&self) {
        tokio::time::sleep(self.poll_interval).await;
    }
}

/// A wait until a CVM's attestation shows a compose hash; see
/// [`Client::wait_for_attested_compose_hash`].
#[derive(Debug, Clone)]
#[must_use]
pub struct AttestationWait(ComposeHashWait);

impl AttestationWait {
    /// How long to wait between two looks at the attestation (default
    /// [`DEFAULT_POLL_INTERVAL`]).
    pub fn poll_interval(self, interval: Duration) -> Self {
        Self(self.0.poll_interval(interval))
    }

    /// Waits; what showed the hash. The CVM must first run it
    /// ([`Client::wait_for_compose_hash`], whose errors it ends with);
    /// then an attestation without a `compose-hash` event is looked at
    /// again, and one with another hash is
    /// [`DeployError::OtherComposeHash`]: the API says the CVM runs the
    /// hash, its hardware says otherwise.
    pub async fn send(self) -> Result<AttestedComposeHash, Error> {
        let inner = self.0;
        let cvm = inner.clone().send().await?;
        let cvm_id = inner.cvm.clone().map_err(Error::InvalidRequest)?;
        let wait = async {
            loop {
                let attestation = inner
                    .client
                    .get_cvm_attestation()
                    .cvm_id(cvm_id.clone())
                    .send()
                    .await?
                    .into_inner();
                match attested_compose_hash(&attestation) {
                    Some(found) if found == inner.compose_hash => {
                        return attested(&inner.client, &cvm_id, found).await;
                    }
                    Some(found) => {
                        return Err(other_hash(
                            &cvm_id,
                            &inner.compose_hash,
                            Some(found),
                            WaitedFor::Attested,
                        ));
                    }
                    None => inner.pause().await,
                }
            }
        };
        match tokio::time::timeout_at(inner.deadline.into(), wait).await {
            Ok(result) => result,
            Err(_elapsed) => {
                let seen = Seen {
                    last: Some(Look::of(&cvm.cvm)),
                    ..Seen::default()
                };
                Err(seen.deadline(cvm_id, inner.compose_hash, WaitedFor::Attested))
            }
        }
    }
}

/// A CVM that runs the compose hash awaited.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunningComposeHash {
    /// Its state (`running`).
    pub state: CvmState,
    /// The CVM, as it reported the hash.
    pub cvm: Box<CvmInfoDetail>,
}

/// What a CVM's attestation showed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AttestedComposeHash {
    /// The compose hash of the event log.
    pub compose_hash: ComposeHash,
    /// Who says so.
    pub source: AttestationSource,
}

/// Where an attested compose hash was read.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AttestationSource {
    /// The quote and event log were verified on this machine (feature
    /// `attestation`): the hash is the hardware's word.
    #[cfg(feature = "attestation")]
    Verified(Box<crate::local_attestation::AttestationReport>),
    /// Read from the event log of the API's attestation answer, not
    /// verified: the operator's word.
    ApiAnswer,
}

/// The compose hash the `compose-hash` event of an attestation's event log
/// carries, if it has one that reads as a hash.
pub(crate) fn attested_compose_hash(attestation: &CvmAttestation) -> Option<ComposeHash> {
    let tcb_info = attestation.tcb_info.as_ref()?;
    let event = tcb_info
        .event_log
        .iter()
        .find(|entry| entry.event == "compose-hash")?;
    event.event_payload.parse().ok()
}

#[cfg(feature = "attestation")]
async fn attested(
    client: &Client,
    cvm_id: &CvmRef,
    compose_hash: ComposeHash,
) -> Result<AttestedComposeHash, Error> {
    let report = crate::local_attestation::LocalVerifier::new()
        .expect_compose_hash(compose_hash.clone())
        .verify_cvm(client, cvm_id.clone())
        .await
        .map_err(|e| DeployError::Attestation(Box::new(e)))?;
    Ok(AttestedComposeHash {
        compose_hash,
        source: AttestationSource::Verified(Box::new(report)),
    })
}

#[cfg(not(feature = "attestation"))]
async fn attested(
    _client: &Client,
    _cvm_id: &CvmRef,
    compose_hash: ComposeHash,
) -> Result<AttestedComposeHash, Error> {
    Ok(AttestedComposeHash {
        compose_hash,
        source: AttestationSource::ApiAnswer,
    })
}

fn other_hash(
    cvm_id: &CvmRef,
    expected: &ComposeHash,
    found: Option<ComposeHash>,
    waited_for: WaitedFor,
) -> Error {
    DeployError::OtherComposeHash {
        cvm_id: cvm_id.clone(),
        expected: expected.clone(),
        found,
        waited_for,
    }
    .into()
}

/// One look at the CVM.
#[derive(Debug, Clone)]
struct Look {
    running: bool,
    busy: bool,
    compose_hash: Option<ComposeHash>,
    app_id: Option<AppId>,
    status: String,
}

impl Look {
    fn of(cvm: &CvmInfoDetail) -> Self {
        Self {
            running: cvm.status == CvmLifecycleStatus::Running,
            busy: cvm.in_progress == Some(true),
            compose_hash: cvm.compose_hash.clone(),
            app_id: cvm.app_id.clone(),
            status: cvm.status.to_string(),
        }
    }
}

/// What a wait has seen so far, which decides whether a hash other than
/// the one awaited is where the CVM settled or one it has not left yet.
#[derive(Debug, Default)]
struct Seen {
    first_hash: Option<Option<ComposeHash>>,
    was_busy: bool,
    last: Option<Look>,
}

impl Seen {
    /// `Some(Ok)` when the CVM runs the hash, `Some(Err(found))` when it
    /// settled on another, `None` to look again.
    fn decide(
        &mut self,
        look: Look,
        expected: &ComposeHash,
    ) -> Option<Result<(), Option<ComposeHash>>> {
        let first = self
            .first_hash
            .get_or_insert_with(|| look.compose_hash.clone());
        let settled = look.running && !look.busy;
        let moved = *first != look.compose_hash;
        self.was_busy |= !settled;
        let outcome = match (settled, look.compose_hash.as_ref() == Some(expected)) {
            (true, true) => Some(Ok(())),
            (true, false) if self.was_busy || moved => Some(Err(look.compose_hash.clone())),
            _ => None,
        };
        self.last = Some(look);
        outcome
    }

    /// The error a wait ends with at its deadline.
    fn deadline(self, cvm_id: CvmRef, compose_hash: ComposeHash, waited_for: WaitedFor) -> Error {
        let last = self.last;
        DeployError::DeadlinePassed(Box::new(Unfinished {
            cvm_id,
            app_id: last.as_ref().and_then(|l| l.app_id.clone()),
            compose_hash,
            waited_for,
            last_status: last.as_ref().map(|l| l.status.clone()),
            last_compose_hash: last.and_then(|l| l.compose_hash),
        }))
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(running: bool, busy: bool, hash: u8) -> Look {
        Look {
            running,
            busy,
            compose_hash: Some(ComposeHash::from([hash; 32])),
            app_id: None,
            status: "running".into(),
        }
    }

    #[test]
    fn a_settled_cvm_decides_and_a_busy_one_is_looked_at_again() {
        let expected = ComposeHash::from([1; 32]);
        let other = Some(ComposeHash::from([2; 32]));
        assert_eq!(
            Seen::default().decide(look(true, false, 1), &expected),
            Some(Ok(()))
        );
        // The old hash, never busy: an update not begun yet.
        let mut seen = Seen::default();
        assert_eq!(seen.decide(look(true, false, 2), &expected), None);
        assert_eq!(seen.decide(look(true, false, 2), &expected), None);
        // Busy, then settled on the old hash: it will not move.
        assert_eq!(seen.decide(look(true, true, 2), &expected), None);
        assert_eq!(
            seen.decide(look(true, false, 2), &expected),
            Some(Err(other.clone()))
        );
        // Not running counts as busy.
        let mut seen = Seen::default();
        assert_eq!(seen.decide(look(false, false, 2), &expected), None);
        assert_eq!(
            seen.decide(look(true, false, 2), &expected),
            Some(Err(other.clone()))
        );
        // A hash it did not start with.
        let mut seen = Seen::default();
        assert_eq!(seen.decide(look(true, false, 3), &expected), None);
        assert_eq!(
            seen.decide(look(true, false, 2), &expected),
            Some(Err(other))
        );
        // The awaited hash while busy is not reached yet.
        let mut seen = Seen::default();
        assert_eq!(seen.decide(look(true, true, 1), &expected), None);
        assert_eq!(seen.decide(look(false, false, 1), &expected), None);
        assert_eq!(seen.decide(look(true, false, 1), &expected), Some(Ok(())));
    }
}
