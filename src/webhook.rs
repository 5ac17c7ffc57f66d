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
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::ids::{AppId, ComposeHash, PathSegment, VmUuid};
use crate::types::CvmLifecycleStatus;

/// The header with the delivery's Unix time in seconds.
pub const TIMESTAMP_HEADER: &str = "x-webhook-timestamp";
/// The header with `sha256=` and the hex signature.
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";
/// How far a delivery's timestamp may be from now, either way, by default.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// What the signature header holds before the hex digits.
pub(crate) const SIGNATURE_PREFIX: &str = "sha256=";
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
        signing_mac(&self.secret, timestamp, body)
            .ok_or(WebhookError::BadSignature)?
            .verify_slice(&expected)
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

/// The HMAC-SHA256 of `"{timestamp}.{body}"` keyed with `secret`, before
/// it is finalized; `None` never happens (HMAC takes keys of any length).
pub(crate) fn signing_mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).ok()?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// Whole seconds since the Unix epoch, negative before it.
pub(crate) fn unix_seconds(time: SystemTime) -> i64 {
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
/// [`WebhookVerifier::parse_event`] for deliveries. `Serialize` writes the
/// body back as it came (fields this crate does not know included), so an
/// event built with [`WebhookEvent::new`] is a delivery for tests; the
/// `mock` feature signs it (`phala_cloud::mock::webhook`).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use phala_cloud::types::CvmLifecycleStatus;
/// use phala_cloud::webhook::{CvmEvent, EventData, WebhookEvent, Workspace};
///
/// let cvm = CvmEvent::new(
///     "1a09d706-2686-4e0a-8b1d-323ff0e3504b".parse()?,
///     "my-app",
///     "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4".parse()?,
///     CvmLifecycleStatus::Running,
/// );
/// let event = WebhookEvent::new(
///     "evt_a1b2c3d4e5f67890".parse()?,
///     Utc.with_ymd_and_hms(2026, 3, 19, 10, 30, 0).unwrap(),
///     Workspace::new("my-team", "My Team"),
///     EventData::CvmCreated(cvm),
/// );
/// let body = serde_json::to_string(&event)?;
/// assert!(body.contains(r#""event":"cvm.created""#));
/// assert_eq!(serde_json::from_str::<WebhookEvent>(&body)?, event);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "Envelope")]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The event's id (`evt_…`), the same on every retry: deduplicate on it.
    /// It names the event in the deliveries API (`…/deliveries/{event_id}/resend`).
    pub id: PathSegment,
    /// The payload format version (`"1"`).
    pub version: String,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
    /// The workspace the event belongs to.
    pub workspace: Workspace,
    /// The event and its data.
    pub data: EventData,
    /// Envelope fields not listed above, kept as sent.
    pub extra: Map<String, Value>,
}

impl WebhookEvent {
    /// The payload format version this crate reads and writes.
    pub const VERSION: &'static str = "1";

    /// An event of payload version [`WebhookEvent::VERSION`], as a test's
    /// delivery.
    pub fn new(
        id: PathSegment,
        created_at: DateTime<Utc>,
        workspace: Workspace,
        data: EventData,
    ) -> Self {
        Self {
            id,
            version: Self::VERSION.to_owned(),
            created_at,
            workspace,
            data,
            extra: Map::new(),
        }
    }
}

impl Serialize for WebhookEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Envelope {
            id: self.id.clone(),
            event: self.data.name().to_owned(),
            version: self.version.clone(),
            created_at: self.created_at,
            workspace: self.workspace.clone(),
            data: self.data.to_value().map_err(serde::ser::Error::custom)?,
            extra: self.extra.clone(),
        }
        .serialize(serializer)
    }
}

/// The workspace an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Workspace {
    /// The workspace's slug.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Fields not listed above, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Workspace {
    /// The workspace with this slug and display name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            extra: Map::new(),
        }
    }
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
    /// official SDKs' own test delivery is a `cvm.created` with `data: {}`;
    /// an id that could not stand as one URL path segment, such as the
    /// docs' placeholder `"0xabc..."`, does not fit either): the verified
    /// event is kept, its data as it came.
    Other {
        /// The event's name.
        event: String,
        /// Its data, undecoded.
        data: Value,
    },
}

/// How a lifecycle event's data becomes its [`EventData`] variant.
type CvmVariant = fn(CvmEvent) -> EventData;

/// The events whose data is a [`CvmEvent`], by name.
const CVM_EVENTS: [(&str, CvmVariant); 7] = [
    ("cvm.created", EventData::CvmCreated),
    ("cvm.started", EventData::CvmStarted),
    ("cvm.create_failed", EventData::CvmCreateFailed),
    ("cvm.restarted", EventData::CvmRestarted),
    ("cvm.updated", EventData::CvmUpdated),
    ("cvm.stopped", EventData::CvmStopped),
    ("cvm.deleted", EventData::CvmDeleted),
];

/// The name of the event whose data is a [`PendingApproval`].
const PENDING_APPROVAL: &str = "cvm.update.pending_approval";

impl EventData {
    /// The names of the events this crate types, as in the `event` field.
    pub const KNOWN: [&'static str; 8] = [
        CVM_EVENTS[0].0,
        CVM_EVENTS[1].0,
        CVM_EVENTS[2].0,
        CVM_EVENTS[3].0,
        CVM_EVENTS[4].0,
        CVM_EVENTS[5].0,
        CVM_EVENTS[6].0,
        PENDING_APPROVAL,
    ];

    /// The event's name, as in the `event` field (`cvm.created`, …).
    pub fn name(&self) -> &str {
        match self {
            EventData::CvmCreated(_) => CVM_EVENTS[0].0,
            EventData::CvmStarted(_) => CVM_EVENTS[1].0,
            EventData::CvmCreateFailed(_) => CVM_EVENTS[2].0,
            EventData::CvmRestarted(_) => CVM_EVENTS[3].0,
            EventData::CvmUpdated(_) => CVM_EVENTS[4].0,
            EventData::CvmStopped(_) => CVM_EVENTS[5].0,
            EventData::CvmDeleted(_) => CVM_EVENTS[6].0,
            EventData::CvmUpdatePendingApproval(_) => PENDING_APPROVAL,
            EventData::Other { event, .. } => event,
        }
    }

    /// The event named `event` with `cvm` as its data: one of the seven CVM
    /// lifecycle events; `None` for any other name.
    ///
    /// ```
    /// # fn run(cvm: phala_cloud::webhook::CvmEvent) {
    /// use phala_cloud::webhook::EventData;
    ///
    /// let stopped = EventData::cvm("cvm.stopped", cvm);
    /// assert!(matches!(stopped, Some(EventData::CvmStopped(_))));
    /// # }
    /// ```
    pub fn cvm(event: &str, cvm: CvmEvent) -> Option<Self> {
        CVM_EVENTS
            .iter()
            .find(|(name, _)| *name == event)
            .map(|(_, wrap)| wrap(cvm))
    }

    /// The data as it goes into the body.
    fn to_value(&self) -> Result<Value, serde_json::Error> {
        match self {
            EventData::CvmCreated(cvm)
            | EventData::CvmStarted(cvm)
            | EventData::CvmCreateFailed(cvm)
            | EventData::CvmRestarted(cvm)
            | EventData::CvmUpdated(cvm)
            | EventData::CvmStopped(cvm)
            | EventData::CvmDeleted(cvm) => serde_json::to_value(cvm),
            EventData::CvmUpdatePendingApproval(pending) => serde_json::to_value(pending),
            EventData::Other { data, .. } => Ok(data.clone()),
        }
    }

    /// The typed data of `event`, or [`EventData::Other`] when the event is
    /// unknown or its data does not fit the type: an authentic event is
    /// never refused for its data.
    fn decode(event: String, data: Value) -> Self {
        let typed = if event == PENDING_APPROVAL {
            Box::<PendingApproval>::deserialize(&data)
                .ok()
                .map(EventData::CvmUpdatePendingApproval)
        } else {
            CvmEvent::deserialize(&data)
                .ok()
                .and_then(|cvm| EventData::cvm(&event, cvm))
        };
        typed.unwrap_or(EventData::Other { event, data })
    }
}

/// The data of a CVM lifecycle event, typed as the API's answers are: the
/// same [`VmUuid`] as a CVM's `vm_uuid` (so it equals the
/// [`CvmRef`](crate::ids::CvmRef) a deploy gave), the same [`AppId`], and
/// the open [`CvmLifecycleStatus`] (a status it does not list, such as
/// `error`, is kept in [`CvmLifecycleStatus::Other`]).
///
/// ```
/// use phala_cloud::types::CvmLifecycleStatus;
/// use phala_cloud::webhook::CvmEvent;
///
/// let failed = CvmEvent::new(
///     "1a09d706-2686-4e0a-8b1d-323ff0e3504b".parse()?,
///     "my-app",
///     "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4".parse()?,
///     CvmLifecycleStatus::Other("error".into()),
/// )
/// .error("CVM 82: Failed to request app keys");
/// assert_eq!(failed.cvm_id, "1A09D7062686-4E0A-8B1D-323FF0E3504B");
/// # Ok::<(), phala_cloud::ids::ParseIdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct CvmEvent {
    /// The CVM's VM UUID.
    pub cvm_id: VmUuid,
    /// The CVM's name.
    pub cvm_name: String,
    /// The app's id.
    pub app_id: AppId,
    /// The CVM's status (`running`, `stopped`, `error`, …).
    pub status: CvmLifecycleStatus,
    /// What went wrong, on failure events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Fields not listed above, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CvmEvent {
    /// The data of a lifecycle event of this CVM, without an error.
    pub fn new(
        cvm_id: VmUuid,
        cvm_name: impl Into<String>,
        app_id: AppId,
        status: CvmLifecycleStatus,
    ) -> Self {
        Self {
            cvm_id,
            cvm_name: cvm_name.into(),
            app_id,
            status,
            error: None,
            extra: Map::new(),
        }
    }

    /// The same data with `error` saying what went wrong, as failure events
    /// carry.
    #[must_use]
    pub fn error(mut self, error: impl Into<String>) -> Self {
        self.error = Some(error.into());
        self
    }
}

/// The data of `cvm.update.pending_approval`: what to approve on chain, and
/// where to commit the update once it is.
///
/// `phala_cloud::mock::webhook::pending_approval()` (feature `mock`) is one
/// to test with.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct PendingApproval {
    /// The CVM's VM UUID.
    pub cvm_id: VmUuid,
    /// The CVM's name.
    pub cvm_name: String,
    /// The app's id.
    pub app_id: AppId,
    /// The compose hash to approve.
    pub compose_hash: ComposeHash,
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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct KmsContract {
    /// The EVM chain id (8453 for Base).
    pub chain_id: u64,
    /// The KMS contract's address.
    pub contract_address: String,
    /// Fields not listed above, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A contract call to make.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct OnchainAction {
    /// The contract to call (the app's contract).
    pub to: String,
    /// The method's signature (`addComposeHash(bytes32)`).
    pub method: String,
    /// The call's argument data (`0x…`).
    pub calldata: String,
    /// Fields not listed above, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The user who started an operation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Initiator {
    /// The user's id.
    pub user_id: String,
    /// The user's name.
    pub username: String,
    /// Fields not listed above, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body as sent, before the event name picks the data's type.
#[derive(Deserialize, Serialize)]
struct Envelope {
    id: PathSegment,
    event: String,
    version: String,
    created_at: DateTime<Utc>,
    workspace: Workspace,
    data: Value,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl From<Envelope> for WebhookEvent {
    fn from(envelope: Envelope) -> Self {
        Self {
            id: envelope.id,
            version: envelope.version,
            created_at: envelope.created_at,
            workspace: envelope.workspace,
            data: EventData::decode(envelope.event, envelope.data),
            extra: envelope.extra,
        }
    }
}
