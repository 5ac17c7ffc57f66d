//! Verifying a CVM's attestation on your own machine (feature
//! `attestation`), instead of asking the API's `/attestations/verify` — the
//! operator vouching for itself.
//!
//! [`LocalVerifier::verify`] checks, offline:
//!
//! 1. the collateral's TCB info and QE identity are valid at the chosen time
//!    (default: now);
//! 2. the TDX quote with [`dcap-qvl`](https://docs.rs/dcap-qvl): Intel's
//!    signatures from the quote up to the Intel SGX root CA the crate
//!    embeds, the collateral's CRLs, TCB level and QE identity, and refusal
//!    of debug TDs; the TCB status and advisories are reported, not judged;
//! 3. that the TDX module is Intel's (`mr_signer_seam` is zero);
//! 4. the event log: replayed into RTMR0–3 (runtime events from their
//!    contents), each equal to the quote's;
//! 5. that a V1 `mr_config_id` carries the compose hash of the event log;
//! 6. what you expect: [`LocalVerifier::expect_compose_hash`],
//!    [`LocalVerifier::expect_app_id`].
//!
//! The result is a typed [`AttestationReport`]: TCB status and advisories,
//! MRTD and RTMRs, `mr_config_id`, report data, and the app id, compose
//! hash, instance id, key provider and OS image hash read from the
//! replayed events (the first of each before `system-ready`; later events
//! are the app's own and listed in `runtime_events`).
//!
//! What this does not prove: that MRTD and RTMR0–2 are a dstack image you
//! trust (compare them with the image's published measurements), what the
//! compose file behind the hash says (hash your own copy with
//! [`ComposeHash::of_json`], the compact form the CVM measures, or the
//! file's bytes with [`ComposeHash::of_file`]), or that the app's TLS key is the attested one
//! (`report_data` binds whatever the CVM chose). The TCB status is
//! reported, not enforced.
//!
//! [`LocalVerifier::verify_cvm`] fetches the quote, event log and collateral
//! through the API first; the API can withhold or garble them, which fails
//! verification, but cannot make a false attestation pass.
//!
//! ```no_run
//! use phala_cloud::local_attestation::LocalVerifier;
//!
//! use phala_cloud::compose_hash::ComposeHash;
//!
//! # async fn run(client: phala_cloud::Client, my_app_compose: serde_json::Value) -> Result<(), Box<dyn std::error::Error>> {
//! let compose_hash = ComposeHash::of_json(&my_app_compose);
//! let report = LocalVerifier::new()
//!     .expect_compose_hash(compose_hash)
//!     .verify_cvm(&client, "cvm_ykL5lbAn")
//!     .await?;
//! println!("{:?} app {:?}", report.tcb_status, report.app_id);
//! # Ok(())
//! # }
//! ```

mod collateral;
mod event_log;
mod fetch;

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

pub use dcap_qvl::QuoteCollateralV3 as Collateral;

pub use event_log::{EventLog, EventLogEntry, KeyProviderEvent, RuntimeEvent, RUNTIME_EVENT_TYPE};

use crate::ids::{AppId, ComposeHash};
use crate::mr_config::{InstanceId, MrConfigId};

/// Why an attestation does not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// Fetching the evidence through the API failed.
    #[error("fetching the attestation failed: {0}")]
    Fetch(#[from] crate::Error),
    /// The API has no quote for this CVM (offline, or not a TDX CVM).
    #[error("no quote to verify: {0}")]
    NoQuote(String),
    /// The collateral does not parse.
    #[error("malformed collateral: {0}")]
    MalformedCollateral(String),
    /// The collateral is not valid yet at the verification time.
    #[error(
        "the collateral's {what} is issued at {issued} (UNIX), after the verification time {now}"
    )]
    CollateralNotYetValid {
        /// `TCB info` or `QE identity`.
        what: &'static str,
        /// Its issue date, UNIX seconds.
        issued: i64,
        /// The verification time.
        now: u64,
    },
    /// The collateral has expired at the verification time: fetch fresh
    /// collateral.
    #[error("the collateral's {what} expired at {next_update} (UNIX), before the verification time {now}")]
    CollateralExpired {
        /// `TCB info` or `QE identity`.
        what: &'static str,
        /// Its `nextUpdate`, UNIX seconds.
        next_update: i64,
        /// The verification time.
        now: u64,
    },
    /// `dcap-qvl` refused the quote: a signature or certificate does not
    /// verify, a CRL revokes it or has expired, no TCB level matches, or it
    /// is a debug TD.
    #[error("the quote does not verify: {0}")]
    QuoteRejected(String),
    /// An SGX enclave quote, not a TDX one.
    #[error("not a TDX quote")]
    NotTdx,
    /// The TDX module is not signed by Intel (`mr_signer_seam` not zero).
    #[error("the TDX module's signer is not Intel's (mr_signer_seam {0})")]
    UntrustedSeamSigner(String),
    /// The event log does not parse, or has entries no replay accepts.
    #[error("malformed event log: {0}")]
    MalformedEventLog(String),
    /// The replayed register differs from the quote's: the log is not the
    /// one that was measured.
    #[error("RTMR{index} replayed from the event log is {replayed}, the quote says {quoted}")]
    RtmrMismatch {
        /// Which register (0–3).
        index: usize,
        /// From the log, hex.
        replayed: String,
        /// From the quote, hex.
        quoted: String,
    },
    /// A V1 `mr_config_id` names another compose hash than the event log.
    #[error(
        "mr_config_id {mr_config_id} does not carry the event log's compose hash {compose_hash:?}"
    )]
    MrConfigMismatch {
        /// The quote's `mr_config_id`.
        mr_config_id: MrConfigId,
        /// The event log's compose hash.
        compose_hash: Option<ComposeHash>,
    },
    /// The attested compose hash is not the expected one.
    #[error("the attested compose hash is {found:?}, expected {expected}")]
    ComposeHashMismatch {
        /// What [`LocalVerifier::expect_compose_hash`] was given.
        expected: ComposeHash,
        /// What the event log says.
        found: Option<ComposeHash>,
    },
    /// The attested app id is not the expected one.
    #[error("the attested app id is {found:?}, expected {expected}")]
    AppIdMismatch {
        /// What [`LocalVerifier::expect_app_id`] was given.
        expected: AppId,
        /// What the event log says.
        found: Option<AppId>,
    },
}

/// Intel's verdict on the platform's TCB, as the collateral grades it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TcbStatus {
    /// Fully patched.
    UpToDate,
    /// Patched, but software hardening is advised (see the advisories).
    SwHardeningNeeded,
    /// Patched, but the platform configuration needs attention.
    ConfigurationNeeded,
    /// Both of the above.
    ConfigurationAndSwHardeningNeeded,
    /// The platform's TCB is out of date.
    OutOfDate,
    /// Out of date, and the configuration needs attention.
    OutOfDateConfigurationNeeded,
    /// The TD should be relaunched to pick up a TDX module update.
    TdRelaunchAdvised,
    /// A status this version does not know.
    Other(String),
}

impl FromStr for TcbStatus {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "UpToDate" => TcbStatus::UpToDate,
            "SWHardeningNeeded" => TcbStatus::SwHardeningNeeded,
            "ConfigurationNeeded" => TcbStatus::ConfigurationNeeded,
            "ConfigurationAndSWHardeningNeeded" => TcbStatus::ConfigurationAndSwHardeningNeeded,
            "OutOfDate" => TcbStatus::OutOfDate,
            "OutOfDateConfigurationNeeded" => TcbStatus::OutOfDateConfigurationNeeded,
            "TDRelaunchAdvised" => TcbStatus::TdRelaunchAdvised,
            other => TcbStatus::Other(other.to_string()),
        })
    }
}

impl fmt::Display for TcbStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TcbStatus::UpToDate => "UpToDate",
            TcbStatus::SwHardeningNeeded => "SWHardeningNeeded",
            TcbStatus::ConfigurationNeeded => "ConfigurationNeeded",
            TcbStatus::ConfigurationAndSwHardeningNeeded => "ConfigurationAndSWHardeningNeeded",
            TcbStatus::OutOfDate => "OutOfDate",
            TcbStatus::OutOfDateConfigurationNeeded => "OutOfDateConfigurationNeeded",
            TcbStatus::TdRelaunchAdvised => "TDRelaunchAdvised",
            TcbStatus::Other(other) => other,
        })
    }
}

/// What a verified attestation says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttestationReport {
    /// The platform's TCB status.
    pub tcb_status: TcbStatus,
    /// Intel security advisories that apply (`INTEL-SA-…`).
    pub advisory_ids: Vec<String>,
    /// MRTD: the measurement of the TD's initial image (firmware).
    pub mr_td: [u8; 48],
    /// RTMR0–3, equal to the event log's replay.
    pub rtmrs: [[u8; 48]; 4],
    /// The configuration id (see [`crate::mr_config`]).
    pub mr_config_id: MrConfigId,
    /// The 64 bytes the CVM bound into the quote.
    pub report_data: [u8; 64],
    /// The app id from the `app-id` event.
    pub app_id: Option<AppId>,
    /// The compose hash from the `compose-hash` event.
    pub compose_hash: Option<ComposeHash>,
    /// The instance id from the `instance-id` event (none when empty).
    pub instance_id: Option<InstanceId>,
    /// The key provider from the `key-provider` event.
    pub key_provider: Option<KeyProviderEvent>,
    /// The OS image hash from the `os-image-hash` event.
    pub os_image_hash: Option<[u8; 32]>,
    /// Every runtime event, in order (the app's own after `system-ready`).
    pub runtime_events: Vec<RuntimeEvent>,
    /// The time it was verified at, UNIX seconds.
    pub verified_at: u64,
}

/// Verifies attestations locally; see the [module docs](self).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct LocalVerifier {
    now: Option<SystemTime>,
    compose_hash: Option<ComposeHash>,
    app_id: Option<AppId>,
}

impl LocalVerifier {
    /// A verifier at the system clock's time, expecting nothing in
    /// particular.
    pub fn new() -> Self {
        Self::default()
    }

    /// Verifies as of `now` (collateral validity, certificates, CRLs).
    pub fn at(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }

    /// Refuses an attestation whose compose hash is not `hash`.
    pub fn expect_compose_hash(mut self, hash: ComposeHash) -> Self {
        self.compose_hash = Some(hash);
        self
    }

    /// Refuses an attestation whose app id is not `app`.
    pub fn expect_app_id(mut self, app: AppId) -> Self {
        self.app_id = Some(app);
        self
    }

    /// Verifies a raw TDX quote and its event log against `collateral`,
    /// offline.
    pub fn verify(
        &self,
        quote: &[u8],
        collateral: &Collateral,
        event_log: &EventLog,
    ) -> Result<AttestationReport, AttestationError> {
        let now = self
            .now
            .unwrap_or_else(SystemTime::now)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        collateral::check_validity(collateral, now)?;
        let verified = dcap_qvl::verify::verify(quote, collateral, now)
            .map_err(|e| AttestationError::QuoteRejected(format!("{e:#}")))?;
        let td = verified.report.as_td10().ok_or(AttestationError::NotTdx)?;
        if td.mr_signer_seam != [0; 48] {
            return Err(AttestationError::UntrustedSeamSigner(hex::encode(
                td.mr_signer_seam,
            )));
        }
        let quoted = [td.rt_mr0, td.rt_mr1, td.rt_mr2, td.rt_mr3];
        let replayed = event_log.replay()?;
        for (index, (replayed, quoted)) in replayed.iter().zip(&quoted).enumerate() {
            if replayed != quoted {
                return Err(AttestationError::RtmrMismatch {
                    index,
                    replayed: hex::encode(replayed),
                    quoted: hex::encode(quoted),
                });
            }
        }
        let identity = event_log.identity()?;
        let mr_config_id = MrConfigId::from_bytes(td.mr_config_id);
        if mr_config_id.version() == 1 && mr_config_id.v1_compose_hash() != identity.compose_hash {
            return Err(AttestationError::MrConfigMismatch {
                mr_config_id,
                compose_hash: identity.compose_hash,
            });
        }
        if let Some(expected) = &self.compose_hash
            && identity.compose_hash.as_ref() != Some(expected)
        {
            return Err(AttestationError::ComposeHashMismatch {
                expected: expected.clone(),
                found: identity.compose_hash,
            });
        }
        if let Some(expected) = &self.app_id
            && identity.app_id.as_ref() != Some(expected)
        {
            return Err(AttestationError::AppIdMismatch {
                expected: expected.clone(),
                found: identity.app_id,
            });
        }
        Ok(AttestationReport {
            tcb_status: verified.status.parse().unwrap_or_else(|e| match e {}),
            advisory_ids: verified.advisory_ids,
            mr_td: td.mr_td,
            rtmrs: quoted,
            mr_config_id,
            report_data: td.report_data,
            app_id: identity.app_id,
            compose_hash: identity.compose_hash,
            instance_id: identity.instance_id,
            key_provider: identity.key_provider,
            os_image_hash: identity.os_image_hash,
            runtime_events: event_log.runtime_events(),
            verified_at: now,
        })
    }
}
