//! Receiving Phala Cloud webhooks: checking their signature and freshness,
//! and decoding the event.
//!
//! Each delivery is a `POST` with the event as its JSON body and these
//! headers:
//!
//! - `X-Webhook-Timestamp`: Unix time in seconds;
//! - `X-Webhook-Signature`: `sha256=` and the lowercase hex HMAC-SHA256 of
//!   `"{timestamp}.{raw body}"`, keyed with the webhook's whole secret
//!   (`whsec_` included).
//!
//! [`WebhookVerifier`] checks both — the signature in constant time, the
//! timestamp within a tolerance of 300 s either way — before
//! [`WebhookVerifier::parse_event`] decodes the body into a [`WebhookEvent`].
//! Pass the body exactly as received: re-serialized JSON does not verify.
//!
//! ```
//! use phala_cloud::webhook::{EventData, WebhookVerifier};
//!
//! fn handle(headers: &http::HeaderMap, body: &[u8]) -> Result<(), phala_cloud::webhook::WebhookError> {
//!     let verifier = WebhookVerifier::new("whsec_…");
//!     let event = verifier.parse_event(headers, body)?;
//!     match &event.data {
//!         EventData::CvmCreated(cvm) => println!("{} is {}", cvm.cvm_name, cvm.status),
//!         EventData::CvmUpdatePendingApproval(pending) => println!("approve at {}", pending.commit_url),
//!         other => println!("{} for event {}", other.name(), event.id),
//!     }
//!     Ok(())
//! }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use http::HeaderMap;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The header with the delivery's Unix time in seconds.
pub const TIMESTAMP_HEADER: &str = "x-webhook-timestamp";
/// The header with `sha256=` and the hex signature.
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";
/// How far a delivery's timestamp may be from now, either way, by default.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

const SIGNATURE_PREFIX: &str = "sha256=";
/// How much of a malformed timestamp an error keeps.
const MAX_ECHO: usize = 64;

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Why a delivery was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A required header is absent (or not text).
    #[error("missing webhook header {0}")]
    MissingHeader(&'static str),
    /// `X-Webhook-Timestamp` is not a whole number of seconds.
    #[error("the webhook timestamp {0:?} is not a Unix time in seconds")]
    InvalidTimestamp(String),
    /// The signature does not match the body, timestamp and secret: a forged
    /// or altered delivery, or the wrong secret.
    #[error("invalid webhook signature")]
    BadSignature,
    /// The signature is valid but the timestamp is too far from now: a
    /// replayed delivery, or a clock that is off.
    #[error("webhook timestamp {timestamp} is {}s from now ({now}), more than the {tolerance_secs}s allowed", timestamp.abs_diff(*now))]
    Expired {
        /// The delivery's timestamp, Unix seconds.
        timestamp: i64,
        /// The verifier's clock, Unix seconds.
        now: i64,
        /// The tolerance, in seconds.
        tolerance_secs: u64,
    },
    /// The body is authentic but is not a webhook event: not JSON, or
    /// without the envelope (`id`, `event`, `version`, `created_at`,
    /// `workspace`). Its `data` never causes this (see [`EventData::Other`]).
    #[error("the webhook body is not a valid event: {0}")]
    MalformedBody(#[source] serde_json::Error),
}

/// Checks webhook deliveries with a webhook's signing secret.
///
/// Cheap to clone. `Debug` never shows the secret, and the secret is wiped
/// from memory when the last clone is dropped.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use phala_cloud::webhook::{WebhookError, WebhookVerifier};
///
/// let verifier = WebhookVerifier::new("whsec_test")
///     .tolerance(Duration::from_secs(60))
///     .clock(|| UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// let err = verifier.verify("1700000000", "sha256=00", b"{}").unwrap_err();
/// assert!(matches!(err, WebhookError::BadSignature));
/// assert!(!format!("{verifier:?}").contains("whsec_test"));
/// ```
#[derive(Clone)]
pub struct WebhookVerifier {
    secret: Arc<Zeroizing<Vec<u8>>>,
    tolerance: Duration,
    clock: Clock,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("secret", &"<redacted>")
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

impl WebhookVerifier {
    /// A verifier for the webhook with this signing secret (`whsec_…`, used
    /// whole), with the default tolerance and the system clock.
    pub fn new(secret: impl Into<String>) -> Self {
        Self {
            secret: Arc::new(Zeroizing::new(secret.into().into_bytes())),
            tolerance: DEFAULT_TOLERANCE,
            clock: Arc::new(SystemTime::now),
        }
    }

    /// How far the timestamp may be from now, either way, in whole seconds
    /// (fractions are dropped); default [`DEFAULT_TOLERANCE`]. A timestamp
    /// exactly this far off is accepted.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The clock timestamps are compared with; default
    /// [`SystemTime::now`]. For tests, and for servers with a better clock.
    #[must_use]
    pub fn clock(mut self, now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(now);
        self
    }

    /// Checks a delivery given its `X-Webhook-Timestamp` and
    /// `X-Webhook-Signature` values and its raw body: the signature first,
    /// then the timestamp's distance from now.
    pub fn verify(
        &self,
        timestamp: &str,
        signature: &str,
        body: impl AsRef<[u8]>,
    ) -> Result<(), WebhookError> {
        let sent_at = timestamp.parse::<i64>().map_err(|_| {
            WebhookError::InvalidTimestamp(timestamp.chars().take(MAX_ECHO).collect())
        })?;
        self.check_signature(timestamp, signature, body.as_ref())?;
        self.check_freshness(sent_at)
    }

    /// [`WebhookVerifier::verify`] with the values taken from the request's
    /// headers, whose names are matched case-insensitively.
    pub fn verify_headers<H: WebhookHeaders + ?Sized>(
        &self,
        headers: &H,
        body: impl AsRef<[u8]>,
    ) -> Result<(), WebhookError> {
        let timestamp = headers
            .header(TIMESTAMP_HEADER)
            .ok_or(WebhookError::MissingHeader("X-Webhook-Timestamp"))?;
        let signature = headers
            .header(SIGNATURE_HEADER)
            .ok_or(WebhookError::MissingHeader("X-Webhook-Signature"))?;
        self.verify(timestamp, signature, body)
    }

    /// Verifies a delivery (see [`WebhookVerifier::verify_headers`]), then
    /// decodes its body.
    ///
    /// `headers` is an `http::HeaderMap` (axum, hyper, reqwest…), a
    /// `HashMap` or `BTreeMap` of names to values, or a slice or `Vec` of
    /// `(name, value)` pairs.
    pub fn parse_event<H: WebhookHeaders + ?Sized>(
        &self,
        headers: &H,
        body: impl AsRef<[u8]>,
    ) -> Result<WebhookEvent, WebhookError> {
        let body = body.as_ref();
        self.verify_headers(headers, body)?;
        serde_json::from_slice(body).map_err(WebhookError::MalformedBody)
    }

    fn check_signature(
        &self,
        timestamp: &str,
        signature: &str,
        body: &[u8],
    ) -> Result<(), WebhookError> {
        let mut expected = [0u8; 32];
        signature
            .strip_prefix(SIGNATURE_PREFIX)
            .and_then(|digits| hex::decode_to_slice(digits, &mut expected).ok())
            .ok_or(WebhookError::BadSignature)?;
        // HMAC takes keys of any length; this never fails.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .map_err(|_| WebhookError::BadSignature)?;
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&expected)
            .map_err(|_| WebhookError::BadSignature)
    }

    fn check_freshness(&self, timestamp: i64) -> Result<(), WebhookError> {
        let now = unix_seconds((self.clock)());
        let tolerance_secs = self.tolerance.as_secs();
        if timestamp.abs_diff(now) > tolerance_secs {
            return Err(WebhookError::Expired {
                timestamp,
                now,
                tolerance_secs,
            });
        }
        Ok(())
    }
}

/// Whole seconds since the Unix epoch, negative before it.
fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Request headers a webhook can be read from, looked up case-insensitively.
///
/// Implemented for `http::HeaderMap` (values that are not visible ASCII
/// count as absent), `HashMap` and `BTreeMap` of names to values, and arrays,
/// slices and `Vec`s of `(name, value)` pairs. With repeated names, the first wins.
pub trait WebhookHeaders {
    /// The value of the header named `name` (given in lowercase).
    fn header(&self, name: &str) -> Option<&str>;
}

impl WebhookHeaders for HeaderMap {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name)?.to_str().ok()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> WebhookHeaders for [(K, V)] {
    fn header(&self, name: &str) -> Option<&str> {
        find(self.iter().map(|(k, v)| (k, v)), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> WebhookHeaders for [(K, V); N] {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> WebhookHeaders for Vec<(K, V)> {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>, S: BuildHasher> WebhookHeaders for HashMap<K, V, S> {
    fn header(&self, name: &str) -> Option<&str> {
        find(self.iter(), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> WebhookHeaders for BTreeMap<K, V> {
    fn header(&self, name: &str) -> Option<&str> {
        find(self.iter(), name)
    }
}

fn find<'a, K, V, I>(mut pairs: I, name: &str) -> Option<&'a str>
where
    K: AsRef<str> + 'a,
    V: AsRef<str> + 'a,
    I: Iterator<Item = (&'a K, &'a V)>,
{
    pairs
        .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref())
}

/// A webhook delivery's body: the envelope and the typed event.
///
/// `Deserialize` decodes a body without checking anything; use
/// [`WebhookVerifier::parse_event`] for deliveries.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "Envelope")]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The event's id (`evt_…`), the same on every retry: deduplicate on it.
    pub id: String,
    /// The payload format version (`"1"`).
    pub version: String,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
    /// The workspace the event belongs to.
    pub workspace: Workspace,
    /// The event and its data.
    pub data: EventData,
}

/// The workspace an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Workspace {
    /// The workspace's slug.
    pub id: String,
    /// Its display name.
    pub name: String,
}

/// The event, by name, with its data.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventData {
    /// `cvm.created`: a CVM's first deployment completed; it is running.
    CvmCreated(CvmEvent),
    /// `cvm.started`: a stopped CVM started.
    CvmStarted(CvmEvent),
    /// `cvm.create_failed`: a deployment failed (`error` says why).
    CvmCreateFailed(CvmEvent),
    /// `cvm.restarted`: a restart completed.
    CvmRestarted(CvmEvent),
    /// `cvm.updated`: a compose update completed; the CVM is running.
    CvmUpdated(CvmEvent),
    /// `cvm.stopped`: a CVM stopped or shut down.
    CvmStopped(CvmEvent),
    /// `cvm.deleted`: a CVM was deleted.
    CvmDeleted(CvmEvent),
    /// `cvm.update.pending_approval`: an update on an on-chain KMS waits for
    /// its compose hash to be approved (multisig).
    CvmUpdatePendingApproval(Box<PendingApproval>),
    /// An event this version of the crate does not know, or a known one
    /// whose `data` does not have the shape this crate knows for it (the
    /// official SDKs' own test delivery is a `cvm.created` with `data: {}`):
    /// the verified event is kept, its data as it came.
    Other {
        /// The event's name.
        event: String,
        /// Its data, undecoded.
        data: Value,
    },
}

impl EventData {
    /// The event's name, as in the `event` field (`cvm.created`, …).
    pub fn name(&self) -> &str {
        match self {
            EventData::CvmCreated(_) => "cvm.created",
            EventData::CvmStarted(_) => "cvm.started",
            EventData::CvmCreateFailed(_) => "cvm.create_failed",
            EventData::CvmRestarted(_) => "cvm.restarted",
            EventData::CvmUpdated(_) => "cvm.updated",
            EventData::CvmStopped(_) => "cvm.stopped",
            EventData::CvmDeleted(_) => "cvm.deleted",
            EventData::CvmUpdatePendingApproval(_) => "cvm.update.pending_approval",
            EventData::Other { event, .. } => event,
        }
    }

    /// The typed data of `event`, or [`EventData::Other`] when the event is
    /// unknown or its data does not fit the type: an authentic event is
    /// never refused for its data.
    fn decode(event: String, data: Value) -> Self {
        let cvm = |wrap: fn(CvmEvent) -> EventData, data: &Value| {
            CvmEvent::deserialize(data).ok().map(wrap)
        };
        let typed = match event.as_str() {
            "cvm.created" => cvm(EventData::CvmCreated, &data),
            "cvm.started" => cvm(EventData::CvmStarted, &data),
            "cvm.create_failed" => cvm(EventData::CvmCreateFailed, &data),
            "cvm.restarted" => cvm(EventData::CvmRestarted, &data),
            "cvm.updated" => cvm(EventData::CvmUpdated, &data),
            "cvm.stopped" => cvm(EventData::CvmStopped, &data),
            "cvm.deleted" => cvm(EventData::CvmDeleted, &data),
            "cvm.update.pending_approval" => Box::<PendingApproval>::deserialize(&data)
                .ok()
                .map(EventData::CvmUpdatePendingApproval),
            _ => None,
        };
        typed.unwrap_or(EventData::Other { event, data })
    }
}

/// The data of a CVM lifecycle event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CvmEvent {
    /// The CVM's id (a UUID).
    pub cvm_id: String,
    /// The CVM's name.
    pub cvm_name: String,
    /// The app's id (hex).
    pub app_id: String,
    /// The CVM's status (`running`, `stopped`, `error`, …).
    pub status: String,
    /// What went wrong, on failure events.
    #[serde(default)]
    pub error: Option<String>,
    /// Fields not listed above, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The data of `cvm.update.pending_approval`: what to approve on chain, and
/// where to commit the update once it is.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct PendingApproval {
    /// The CVM's id (a UUID).
    pub cvm_id: String,
    /// The CVM's name.
    pub cvm_name: String,
    /// The app's id (hex).
    pub app_id: String,
    /// The compose hash to approve (`0x…`).
    pub compose_hash: String,
    /// The device id (`0x…`).
    pub device_id: String,
    /// The KMS contract that must approve it.
    pub kms: KmsContract,
    /// The transaction that approves it.
    pub onchain_action: OnchainAction,
    /// The token that commits the update once approved.
    pub commit_token: String,
    /// The dashboard page that commits the update.
    pub commit_url: String,
    /// The API endpoint that commits the update.
    pub api_commit_url: String,
    /// When the commit token expires.
    pub expires_at: DateTime<Utc>,
    /// Who started the update.
    pub initiated_by: Initiator,
    /// Fields not listed above, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An on-chain KMS: chain and contract.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct KmsContract {
    /// The EVM chain id (8453 for Base).
    pub chain_id: u64,
    /// The KMS contract's address.
    pub contract_address: String,
}

/// A contract call to make.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct OnchainAction {
    /// The contract to call (the app's contract).
    pub to: String,
    /// The method's signature (`addComposeHash(bytes32)`).
    pub method: String,
    /// The call's argument data (`0x…`).
    pub calldata: String,
}

/// The user who started an operation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Initiator {
    /// The user's id.
    pub user_id: String,
    /// The user's name.
    pub username: String,
}

/// The body as sent, before the event name picks the data's type.
#[derive(Deserialize)]
struct Envelope {
    id: String,
    event: String,
    version: String,
    created_at: DateTime<Utc>,
    workspace: Workspace,
    data: Value,
}

impl From<Envelope> for WebhookEvent {
    fn from(envelope: Envelope) -> Self {
        Self {
            id: envelope.id,
            version: envelope.version,
            created_at: envelope.created_at,
            workspace: envelope.workspace,
            data: EventData::decode(envelope.event, envelope.data),
        }
    }
}
