//! The one error type every call returns, and how it classifies failures.
//!
//! ```
//! # async fn run(client: phala_cloud::Client) {
//! match client.get_cvm().cvm_id("cvm_ykL5lbAn").send().await {
//!     Ok(cvm) => println!("{}", cvm.name),
//!     Err(e) if e.is_not_found() => println!("no such CVM"),
//!     Err(e) if e.is_validation() => {
//!         for v in e.validation_errors() {
//!             println!("{}: {}", v.field, v.message);
//!         }
//!     }
//!     // `{:#}` adds the details, suggestions and links of a structured error.
//!     Err(e) => eprintln!("{e:#}"),
//! }
//! # }
//! ```

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::TryStreamExt;
use progenitor_client::{ByteStream, ResponseValue};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::types::{ApiErrorBody, ApiErrorBodyDetailsItem, ApiErrorBodyLinksItem};

/// At most this much of an error body is read and kept (64 KiB), whatever
/// the status; the rest is not read.
pub const MAX_ERROR_BODY: usize = 64 * 1024;
/// The longest wait [`Error::retry_after`] reports (10 minutes), whatever the
/// server's `Retry-After` says.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);
/// At most this many characters of a body appear in messages.
const EXCERPT_CHARS: usize = 300;

/// Everything that can go wrong calling the API.
///
/// The predicates (`is_not_found()`, `is_retryable()`, …) and accessors
/// (`error_code()`, `validation_errors()`, …) answer for every variant, so a
/// caller rarely needs to match on it. `Display` is one line; the alternate
/// form (`{:#}`) lists details, validation errors, suggestions and links.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status (4xx, 5xx).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// An answer with a status the API does not use (1xx, 3xx). Redirects are
    /// not followed, so that the API key never travels to another host.
    #[error("unexpected answer: {0}")]
    Unexpected(Box<ApiError>),
    /// No answer: DNS, connection, TLS, timeout, or the body broke off.
    #[error("request failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// A success answer whose body does not decode into the documented type.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// The request could not be built from the values given (nothing was sent).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client's configuration is not valid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An env-encryption key was refused: its KMS signature is missing or
    /// bad, or its signer is not the trust anchor's root key. Nothing was
    /// encrypted.
    #[error(transparent)]
    KeyVerification(Box<crate::kms_trust::KeyVerificationError>),
    /// A limit of the client was reached: a body too large, a deadline
    /// passed, a listing too long. Nothing more was read or sent.
    #[error(transparent)]
    Limit(LimitExceeded),
    /// A transient failure (the one inside) that was not retried because
    /// the client's retry budget is spent: too many retries lately, too few
    /// successes (see [`crate::RetryPolicy::retry_budget`]). The predicates
    /// and accessors answer for the failure inside.
    #[error("not retried, the client's retry budget is spent: {0}")]
    RetryBudgetExhausted(#[source] Box<Error>),
    /// A client of [`crate::mock`] sent a request that no mock of the
    /// server matched: a mistake of the test, not an answer of the API
    /// (httpmock's 404, which `is_not_found()` would otherwise accept).
    #[cfg(feature = "mock")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
    #[error(
        "no mock matched the request {method} {path}: add one, or check the mocks' conditions"
    )]
    MockUnmatched {
        /// The request's method.
        method: String,
        /// Its path and query.
        path: String,
    },
    /// A CVM being waited for reported a boot error or a state it does not
    /// leave by itself; [`Error::cvm_failure`] has its last state.
    #[error(transparent)]
    CvmFailed(Box<crate::watch::CvmFailure>),
    /// A deploy or update flow stopped before sending (an env var the
    /// compose does not allow, an unreadable dotenv file) or needs an
    /// on-chain step first; [`Error::deploy_error`] says which.
    #[error(transparent)]
    Deploy(Box<crate::deploy::DeployError>),
}

impl From<crate::watch::CvmFailure> for Error {
    fn from(e: crate::watch::CvmFailure) -> Self {
        Error::CvmFailed(Box::new(e))
    }
}

impl From<crate::deploy::DeployError> for Error {
    fn from(e: crate::deploy::DeployError) -> Self {
        Error::Deploy(Box::new(e))
    }
}

impl From<crate::kms_trust::KeyVerificationError> for Error {
    fn from(e: crate::kms_trust::KeyVerificationError) -> Self {
        Error::KeyVerification(Box::new(e))
    }
}

/// Which limit of the client was reached, its value, and the setting that
/// changes it.
///
/// ```
/// # async fn run(client: phala_cloud::Client) {
/// use phala_cloud::error::LimitExceeded;
///
/// match client.list_kms().send().await {
///     Err(phala_cloud::Error::Limit(LimitExceeded::Size { limit, setting, .. })) => {
///         eprintln!("answer over {limit} bytes; see {setting}")
///     }
///     other => println!("{other:?}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitExceeded {
    /// A body, a line or an event larger than allowed.
    #[error("{what} is larger than the limit of {limit} bytes (raise it with {setting})")]
    #[non_exhaustive]
    Size {
        /// What was too large ("the response body").
        what: &'static str,
        /// The limit, in bytes.
        limit: u64,
        /// The setting that changes it (`ClientBuilder::max_response_size`).
        setting: &'static str,
    },
    /// More of something than allowed (pages of one listing).
    #[error("more than {limit} {what} (raise the limit with {setting})")]
    #[non_exhaustive]
    Count {
        /// What was counted ("pages in one listing").
        what: &'static str,
        /// The limit.
        limit: u64,
        /// The setting that changes it (`Pages::max_pages`).
        setting: &'static str,
    },
    /// A deadline passed before the call or stream was done.
    #[error("{what} of {limit:?} passed (change it with {setting})")]
    #[non_exhaustive]
    Deadline {
        /// Which deadline ("the call's deadline").
        what: &'static str,
        /// How long it was.
        limit: Duration,
        /// The setting that changes it (`RetryPolicy::deadline`).
        setting: &'static str,
    },
}

impl LimitExceeded {
    pub(crate) fn size(what: &'static str, limit: u64, setting: &'static str) -> Self {
        Self::Size {
            what,
            limit,
            setting,
        }
    }

    pub(crate) fn count(what: &'static str, limit: u64, setting: &'static str) -> Self {
        Self::Count {
            what,
            limit,
            setting,
        }
    }

    pub(crate) fn deadline(what: &'static str, limit: Duration, setting: &'static str) -> Self {
        Self::Deadline {
            what,
            limit,
            setting,
        }
    }
}

impl From<LimitExceeded> for Error {
    fn from(limit: LimitExceeded) -> Self {
        Error::Limit(limit)
    }
}

/// A success answer that did not decode.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the answer does not decode at `{path}`: {message}")]
pub struct DecodeError {
    /// Where in the body decoding failed, as a serde path (`items[0].id`);
    /// `.` for the root.
    pub path: String,
    /// What serde said.
    pub message: String,
    /// The start of the body.
    pub excerpt: String,
}

/// One failed field of a 422 answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ValidationError {
    /// Path of the field (`resources.compute.memory`, `items.0.name`):
    /// FastAPI's `loc` without its `body`/`query`/`path`/`header` part.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
    /// FastAPI's error type (`missing`, `string_too_short`, …).
    pub kind: String,
    /// FastAPI's `ctx` (limits and the like), when given.
    pub context: Option<Value>,
}

/// An answer with an error status: status, headers and the body, parsed when
/// it is JSON.
#[derive(Clone)]
pub struct ApiError {
    status: StatusCode,
    headers: HeaderMap,
    body: Option<ApiErrorBody>,
    structured: Option<ApiErrorBody>,
    validation: Vec<ValidationError>,
    raw: Bytes,
}

impl ApiError {
    /// The error an answer with this status, headers and body gives, as the
    /// client reads it (the body's first [`MAX_ERROR_BODY`] bytes) — for
    /// testing code that handles errors.
    ///
    /// ```
    /// use phala_cloud::error::ApiError;
    /// use phala_cloud::reqwest::{header::HeaderMap, StatusCode};
    ///
    /// let e = ApiError::from_parts(StatusCode::NOT_FOUND, HeaderMap::new(), br#"{"detail": "CVM not found"}"#);
    /// assert_eq!(e.to_string(), "HTTP 404: CVM not found");
    /// ```
    pub fn from_parts(status: StatusCode, headers: HeaderMap, body: &[u8]) -> Self {
        let kept = &body[..body.len().min(MAX_ERROR_BODY)];
        Self::new(status, headers, Bytes::copy_from_slice(kept))
    }

    /// Reads an error answer's parts (`raw` already bounded).
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, raw: Bytes) -> Self {
        let body: Option<ApiErrorBody> = serde_json::from_slice(&raw).ok();
        let structured = body.as_ref().and_then(|b| {
            if b.error_code.is_some() {
                return Some(b.clone());
            }
            let nested = b.detail.as_ref()?;
            let has_code = nested.get("error_code").is_some_and(Value::is_string);
            has_code
                .then(|| serde_json::from_value(nested.clone()).ok())
                .flatten()
        });
        let validation = body
            .as_ref()
            .and_then(|b| b.detail.as_ref()?.as_array())
            .map(|items| items.iter().filter_map(validation_error).collect())
            .unwrap_or_default();
        Self {
            status,
            headers,
            body,
            structured,
            validation,
            raw,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body, when it is a JSON object.
    pub fn body(&self) -> Option<&ApiErrorBody> {
        self.body.as_ref()
    }

    /// The raw body (at most its first 64 KiB).
    pub fn raw_body(&self) -> &[u8] {
        &self.raw
    }

    /// A bounded excerpt of a body that is not JSON (an HTML error page from
    /// a proxy, plain text), for messages and logs.
    pub fn body_excerpt(&self) -> Option<String> {
        if self.body.is_some() || self.raw.is_empty() {
            return None;
        }
        Some(excerpt(&self.raw))
    }

    /// The structured error (`error_code`, `message`, `details`,
    /// `suggestions`, `links`), found at the top level or under `detail`.
    pub fn structured(&self) -> Option<&ApiErrorBody> {
        self.structured.as_ref()
    }

    /// The structured error code, `ERR-xx-yyy`.
    pub fn error_code(&self) -> Option<&str> {
        self.structured.as_ref()?.error_code.as_deref()
    }

    /// The failed fields of a 422 answer; empty otherwise.
    pub fn validation_errors(&self) -> &[ValidationError] {
        &self.validation
    }

    /// The structured error's details (`field`, `value`, `message`).
    pub fn details(&self) -> &[ApiErrorBodyDetailsItem] {
        self.structured
            .as_ref()
            .and_then(|s| s.details.as_deref())
            .unwrap_or_default()
    }

    /// The structured error's suggestions.
    pub fn suggestions(&self) -> &[String] {
        self.structured
            .as_ref()
            .and_then(|s| s.suggestions.as_deref())
            .unwrap_or_default()
    }

    /// The structured error's documentation links.
    pub fn links(&self) -> &[ApiErrorBodyLinksItem] {
        self.structured
            .as_ref()
            .and_then(|s| s.links.as_deref())
            .unwrap_or_default()
    }

    /// The request id: the body's `request_id`, else the `X-Request-ID` header.
    pub fn request_id(&self) -> Option<&str> {
        [&self.structured, &self.body]
            .into_iter()
            .find_map(|b| b.as_ref()?.request_id.as_deref())
            .or_else(|| self.headers.get("x-request-id")?.to_str().ok())
    }

    /// How long the server asks to wait (`Retry-After`, in seconds or as an
    /// HTTP date; a date in the past is zero), at most [`MAX_RETRY_AFTER`].
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after(&self.headers)
    }

    /// The most specific message the answer offers: a structured error's
    /// `message`, the body's `message` or string `detail`, a validation
    /// summary, the start of a non-JSON body, or the HTTP reason. A blank
    /// message counts as none.
    pub fn message(&self) -> String {
        let text = |b: &Option<ApiErrorBody>| {
            let b = b.as_ref()?;
            let detail = || b.detail.as_ref()?.as_str();
            [b.message.as_deref(), detail()]
                .into_iter()
                .flatten()
                .find(|m| !m.trim().is_empty())
                .map(str::to_string)
        };
        if let Some(message) = text(&self.structured).or_else(|| text(&self.body)) {
            return message;
        }
        match self.validation.as_slice() {
            [] => {}
            [one] => return format!("Validation failed: {}: {}", one.field, one.message),
            many => return format!("Validation failed ({} issues)", many.len()),
        }
        self.body_excerpt()
            .map(|e| {
                e.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| {
                self.status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_string()
            })
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("error_code", &self.error_code())
            .field("message", &self.message())
            .field("request_id", &self.request_id())
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status.as_u16())?;
        if let Some(code) = self.error_code() {
            write!(f, " [{code}]")?;
        }
        write!(f, ": {}", self.message())?;
        if !f.alternate() {
            return Ok(());
        }
        if !self.details().is_empty() {
            write!(f, "\nDetails:")?;
            for d in self.details() {
                write!(
                    f,
                    "\n  - {}",
                    d.message.as_deref().unwrap_or("(no message)")
                )?;
                match (&d.field, &d.value) {
                    (Some(field), Some(value)) => write!(f, " (field: {field}, value: {value})")?,
                    (Some(field), None) => write!(f, " (field: {field})")?,
                    (None, Some(value)) => write!(f, " (value: {value})")?,
                    (None, None) => {}
                }
            }
        }
        if self.validation.len() > 1 {
            write!(f, "\nValidation errors:")?;
            for (i, v) in self.validation.iter().enumerate() {
                write!(f, "\n  {}. {}: {}", i + 1, v.field, v.message)?;
            }
        }
        if !self.suggestions().is_empty() {
            write!(f, "\nSuggestions:")?;
            for s in self.suggestions() {
                write!(f, "\n  - {s}")?;
            }
        }
        if !self.links().is_empty() {
            write!(f, "\nLearn more:")?;
            for l in self.links() {
                match &l.label {
                    Some(label) => write!(f, "\n  - {label}: {}", l.url)?,
                    None => write!(f, "\n  - {}", l.url)?,
                }
            }
        }
        if let Some(id) = self.request_id() {
            write!(f, "\nRequest ID: {id}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// One FastAPI validation item: `{loc, msg, type, ctx?}`.
fn validation_error(item: &Value) -> Option<ValidationError> {
    let loc = item.get("loc")?.as_array()?;
    let field = loc
        .iter()
        .filter(|part| !matches!(part.as_str(), Some("body" | "query" | "path" | "header")))
        .map(|part| match part {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".");
    Some(ValidationError {
        field: if field.is_empty() {
            "unknown".to_string()
        } else {
            field
        },
        message: item.get("msg")?.as_str()?.to_string(),
        kind: item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        context: item.get("ctx").cloned(),
    })
}

/// `Retry-After` in seconds or as an HTTP date, at most [`MAX_RETRY_AFTER`].
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The first [`EXCERPT_CHARS`] characters of `bytes`, decoding only as many
/// bytes as they can take (a character is at most 4), so that a large body
/// is not copied to show its start.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(EXCERPT_CHARS * 4)]);
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.into_owned(),
    }
}

impl Error {
    /// The error an answer with this status, headers and body gives, as the
    /// client reads it: [`Error::Api`] for 4xx and 5xx, else
    /// [`Error::Unexpected`] — for testing code that handles errors,
    /// without a server.
    ///
    /// ```
    /// use phala_cloud::reqwest::{header::HeaderMap, StatusCode};
    ///
    /// let body = br#"{"error_code": "ERR-03-001", "message": "CVM not found"}"#;
    /// let e = phala_cloud::Error::from_parts(StatusCode::NOT_FOUND, HeaderMap::new(), body);
    /// assert!(e.is_not_found());
    /// assert_eq!(e.error_code(), Some("ERR-03-001"));
    /// ```
    pub fn from_parts(status: StatusCode, headers: HeaderMap, body: &[u8]) -> Error {
        Error::classify(ApiError::from_parts(status, headers, body))
    }

    /// [`Error::Api`] for a 4xx or 5xx answer, else [`Error::Unexpected`].
    fn classify(api: ApiError) -> Error {
        if api.status.is_client_error() || api.status.is_server_error() {
            Error::Api(Box::new(api))
        } else {
            Error::Unexpected(Box::new(api))
        }
    }

    /// `error` as the client reports it: the error it carries through
    /// reqwest (a limit, a spent budget, see [`carry`]), else
    /// [`Error::Transport`].
    pub(crate) fn from_reqwest(error: reqwest::Error) -> Error {
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            if let Some(carried) = cause.downcast_ref::<Carried>()
                && let Some(inner) = carried.take()
            {
                return inner;
            }
            source = cause.source();
        }
        Error::Transport(error)
    }

    /// The failure itself: the one inside [`Error::RetryBudgetExhausted`].
    fn cause(&self) -> &Error {
        match self {
            Error::RetryBudgetExhausted(last) => last.cause(),
            other => other,
        }
    }

    /// The answer, for [`Error::Api`] and [`Error::Unexpected`].
    pub fn api_error(&self) -> Option<&ApiError> {
        match self.cause() {
            Error::Api(e) | Error::Unexpected(e) => Some(e),
            _ => None,
        }
    }

    /// The limit reached, for [`Error::Limit`].
    pub fn limit(&self) -> Option<&LimitExceeded> {
        match self {
            Error::Limit(limit) => Some(limit),
            _ => None,
        }
    }

    /// The HTTP status of the answer, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self.cause() {
            Error::Transport(e) => e.status(),
            _ => self.api_error().map(ApiError::status),
        }
    }

    fn status_is(&self, code: u16) -> bool {
        self.status().is_some_and(|s| s.as_u16() == code)
    }

    /// 401 or 403: the key is missing, wrong, or not allowed to do this.
    pub fn is_auth(&self) -> bool {
        self.status_is(401) || self.status_is(403)
    }

    /// 404.
    pub fn is_not_found(&self) -> bool {
        self.status_is(404)
    }

    /// 422: the request did not validate; see [`Error::validation_errors`].
    pub fn is_validation(&self) -> bool {
        self.status_is(422)
    }

    /// 409: a conflicting resource, or another operation in progress.
    pub fn is_conflict(&self) -> bool {
        self.status_is(409)
    }

    /// 429.
    pub fn is_rate_limited(&self) -> bool {
        self.status_is(429)
    }

    /// 5xx.
    pub fn is_server(&self) -> bool {
        self.status().is_some_and(|s| s.is_server_error())
    }

    /// 465: the compose hash must be registered on chain before the update
    /// is applied (`ERR-01-005`).
    pub fn is_compose_precondition(&self) -> bool {
        self.status_is(465)
    }

    /// 466 (`ERR-01-006`), at phase 2 of an on-chain update: the compose hash
    /// or commit token is unknown, expired (14 days), superseded by a newer
    /// phase 1, or no longer matches the saved compose file. Run phase 1
    /// again.
    pub fn is_compose_hash_invalid(&self) -> bool {
        self.status_is(466)
    }

    /// 467 (`ERR-01-007`), at phase 2 of an on-chain update: the transaction
    /// hash could not be verified (no receipt, reverted, or not a call to the
    /// app's contract).
    pub fn is_transaction_unverified(&self) -> bool {
        self.status_is(467)
    }

    /// 468 (`ERR-01-008`), at phase 2 of an on-chain update: the app's
    /// contract does not allow the compose hash (`allowedComposeHashes` is
    /// false), typically because the transaction has not landed on it.
    pub fn is_compose_hash_not_allowed(&self) -> bool {
        self.status_is(468)
    }

    /// A timeout on this side: an attempt's (`ClientBuilder::timeout`,
    /// `connect_timeout`), the call's deadline (`RetryPolicy::deadline`) or
    /// a watch's (`WatchOptions::deadline`).
    pub fn is_timeout(&self) -> bool {
        match self.cause() {
            Error::Transport(e) => e.is_timeout(),
            Error::Limit(limit) => matches!(limit, LimitExceeded::Deadline { .. }),
            _ => false,
        }
    }

    /// No answer was received (DNS, connection, TLS, timeout, broken body).
    pub fn is_transport(&self) -> bool {
        matches!(self.cause(), Error::Transport(_))
    }

    /// An env-encryption key was refused before anything was encrypted to
    /// it; [`Error::key_verification_error`] says why.
    pub fn is_key_verification(&self) -> bool {
        matches!(self, Error::KeyVerification(_))
    }

    /// Why an env-encryption key was refused, for
    /// [`Error::KeyVerification`].
    pub fn key_verification_error(&self) -> Option<&crate::kms_trust::KeyVerificationError> {
        match self {
            Error::KeyVerification(e) => Some(e),
            _ => None,
        }
    }

    /// The CVM reported a boot error or a terminal failure while waited for.
    pub fn is_cvm_failed(&self) -> bool {
        matches!(self, Error::CvmFailed(_))
    }

    /// The failure and the CVM's last state, for [`Error::CvmFailed`].
    pub fn cvm_failure(&self) -> Option<&crate::watch::CvmFailure> {
        match self {
            Error::CvmFailed(e) => Some(e),
            _ => None,
        }
    }

    /// What stopped a deploy or update flow, for [`Error::Deploy`].
    pub fn deploy_error(&self) -> Option<&crate::deploy::DeployError> {
        match self {
            Error::Deploy(e) => Some(e),
            _ => None,
        }
    }

    /// Transient: trying again later may succeed. Connection failures,
    /// dropped connections and timeouts (the call's deadline included), 429,
    /// 502, 503, 504, and a 409 without an error code ("another operation in
    /// progress"); for [`Error::RetryBudgetExhausted`], the failure inside.
    /// Whether the client retries by itself also depends on the operation:
    /// see [`crate::RetryPolicy`].
    pub fn is_retryable(&self) -> bool {
        match self.cause() {
            Error::Transport(e) => {
                e.is_connect() || e.is_timeout() || e.is_request() || e.is_body()
            }
            Error::Limit(limit) => matches!(limit, LimitExceeded::Deadline { .. }),
            Error::Api(api) => match api.status.as_u16() {
                429 | 502 | 503 | 504 => true,
                409 => api.error_code().is_none(),
                _ => false,
            },
            _ => false,
        }
    }

    /// The structured error code (`ERR-01-005`), at the top level of the body
    /// or under `detail`.
    pub fn error_code(&self) -> Option<&str> {
        self.api_error()?.error_code()
    }

    /// The most specific message available.
    pub fn message(&self) -> String {
        match self.api_error() {
            Some(api) => api.message(),
            None => self.to_string(),
        }
    }

    /// The failed fields of a 422 answer; empty otherwise.
    pub fn validation_errors(&self) -> &[ValidationError] {
        self.api_error()
            .map(ApiError::validation_errors)
            .unwrap_or_default()
    }

    /// The structured error's details; empty otherwise.
    pub fn details(&self) -> &[ApiErrorBodyDetailsItem] {
        self.api_error().map(ApiError::details).unwrap_or_default()
    }

    /// The structured error's suggestions; empty otherwise.
    pub fn suggestions(&self) -> &[String] {
        self.api_error()
            .map(ApiError::suggestions)
            .unwrap_or_default()
    }

    /// The structured error's links; empty otherwise.
    pub fn links(&self) -> &[ApiErrorBodyLinksItem] {
        self.api_error().map(ApiError::links).unwrap_or_default()
    }

    /// The request id the server gave, for support requests.
    pub fn request_id(&self) -> Option<&str> {
        self.api_error()?.request_id()
    }

    /// How long the server asks to wait before trying again, at most
    /// [`MAX_RETRY_AFTER`].
    pub fn retry_after(&self) -> Option<Duration> {
        self.api_error()?.retry_after()
    }
}

/// An [`Error`] on its way through code that can only pass a
/// `reqwest::Error` on: progenitor's `exec` hook and a body stream. It rides
/// as the `reqwest::Error`'s source, and [`Error::from_reqwest`] takes it
/// out again, once.
#[derive(Debug)]
struct Carried(Mutex<Option<Error>>);

impl Carried {
    fn take(&self) -> Option<Error> {
        self.0.lock().ok()?.take()
    }
}

impl fmt::Display for Carried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.lock().ok().as_deref() {
            Some(Some(error)) => error.fmt(f),
            _ => f.write_str("a client error, already reported"),
        }
    }
}

impl std::error::Error for Carried {}

/// `error` as a body stream's error: reqwest reports it as the source of
/// the `reqwest::Error` reading the body fails with.
pub(crate) fn carried(error: Error) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(Carried(Mutex::new(Some(error))))
}

/// A `reqwest::Error` that carries `error`, for the `exec` hook to return.
/// reqwest makes its errors itself: this one comes from reading a body
/// whose only item is `error`.
pub(crate) async fn carry(error: Error) -> reqwest::Error {
    let item = futures::stream::iter([Err::<Bytes, _>(carried(error))]);
    let response = reqwest::Response::from(http::Response::new(reqwest::Body::wrap_stream(item)));
    match response.bytes().await {
        Err(error) => error,
        Ok(_) => unreachable!("a body made of one error read as bytes"),
    }
}

/// Maps what a generated `send_unmapped` returns to [`Error`], reading the
/// body of an error answer and locating a decode failure.
pub(crate) async fn from_generated<T: DeserializeOwned>(
    result: Result<ResponseValue<T>, progenitor_client::Error<ByteStream>>,
) -> Result<ResponseValue<T>, Error> {
    match result {
        Ok(value) => Ok(value),
        Err(err) => Err(generated_error::<T>(err).await),
    }
}

/// A generated operation's failure as an [`Error`]; an answer that does not
/// decode is located in `T`.
pub(crate) async fn generated_error<T: DeserializeOwned>(
    err: progenitor_client::Error<ByteStream>,
) -> Error {
    use progenitor_client::Error as E;
    match err {
        E::ErrorResponse(response) => {
            let (status, headers) = (response.status(), response.headers().clone());
            let body = response.into_inner().into_inner();
            answer(status, headers, body)
                .await
                .map_or_else(Error::from_reqwest, |a| Error::Api(Box::new(a)))
        }
        E::UnexpectedResponse(response) => answer_error(response).await,
        E::InvalidResponsePayload(bytes, e) => Error::Decode(Box::new(locate::<T>(&bytes, e))),
        E::CommunicationError(e) | E::InvalidUpgrade(e) | E::ResponseBodyError(e) => {
            Error::from_reqwest(e)
        }
        E::InvalidRequest(message) | E::Custom(message) => Error::InvalidRequest(message),
    }
}

/// A hand-written operation's answer: a success answer as it came, an error
/// status (its body read, bounded) or no answer as an [`Error`], mapped as
/// [`from_generated`] maps a generated operation's.
pub(crate) async fn checked(
    result: reqwest::Result<reqwest::Response>,
) -> Result<reqwest::Response, Error> {
    let response = result.map_err(Error::from_reqwest)?;
    if response.status().is_success() {
        return Ok(response);
    }
    Err(answer_error(response).await)
}

/// The error an answer that is not a success gives, its body read (bounded):
/// [`Error::Api`] for 4xx and 5xx, else [`Error::Unexpected`].
pub(crate) async fn answer_error(response: reqwest::Response) -> Error {
    let (status, headers) = (response.status(), response.headers().clone());
    match answer(status, headers, Box::pin(response.bytes_stream())).await {
        Ok(api) => Error::classify(api),
        Err(e) => Error::from_reqwest(e),
    }
}

/// Decodes `bytes` again, tracking the path, to say where it failed.
fn locate<T: DeserializeOwned>(bytes: &[u8], original: serde_json::Error) -> DecodeError {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let (path, message) = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(e) => (e.path().to_string(), e.into_inner().to_string()),
        Ok(_) => (".".to_string(), original.to_string()),
    };
    DecodeError {
        path,
        message,
        excerpt: excerpt(bytes),
    }
}

type Chunks = std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<Bytes>> + Send + Sync>>;

/// Reads an answer's body (bounded) into an [`ApiError`].
async fn answer(
    status: StatusCode,
    headers: HeaderMap,
    body: Chunks,
) -> Result<ApiError, reqwest::Error> {
    Ok(ApiError::new(status, headers, read_bounded(body).await?))
}

/// At most [`MAX_ERROR_BODY`] bytes of `stream`; the rest is not read.
pub(crate) async fn read_bounded(mut stream: Chunks) -> Result<Bytes, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = stream.try_next().await? {
        let room = MAX_ERROR_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_ERROR_BODY {
            break;
        }
    }
    Ok(Bytes::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(status: u16, body: Value) -> ApiError {
        let raw = Bytes::from(serde_json::to_vec(&body).unwrap());
        ApiError::new(StatusCode::from_u16(status).unwrap(), HeaderMap::new(), raw)
    }

    #[test]
    fn validation_paths_drop_the_location_and_keep_indexes() {
        let e = api(
            422,
            json!({"detail": [
                {"loc": ["body", "resources", "compute", "memory"], "msg": "too small", "type": "greater_than", "ctx": {"gt": 0}},
                {"loc": ["query", "items", 0, "name"], "msg": "Field required", "type": "missing"},
                {"loc": [], "msg": "bad", "type": "value_error"}
            ]}),
        );
        let fields: Vec<_> = e
            .validation_errors()
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(
            fields,
            ["resources.compute.memory", "items.0.name", "unknown"]
        );
        assert_eq!(e.validation_errors()[0].context, Some(json!({"gt": 0})));
        assert_eq!(e.message(), "Validation failed (3 issues)");
    }

    #[test]
    fn a_blank_message_gives_way_to_the_detail_summary_or_status() {
        let validation = api(
            422,
            json!({"message": "", "detail": [{"loc": ["body", "name"], "msg": "too short", "type": "string_too_short"}]}),
        );
        assert_eq!(validation.message(), "Validation failed: name: too short");
        let detail = api(400, json!({"message": " ", "detail": "bad name"}));
        assert_eq!(detail.message(), "bad name");
        let bare = api(500, json!({"message": "", "error_code": "ERR-9"}));
        assert_eq!(bare.to_string(), "HTTP 500 [ERR-9]: Internal Server Error");
    }

    #[test]
    fn retry_after_is_clamped() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "1000000000".parse().unwrap());
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn from_parts_keeps_at_most_the_error_limit() {
        let body = vec![b'x'; MAX_ERROR_BODY + 10];
        let e = ApiError::from_parts(StatusCode::BAD_GATEWAY, HeaderMap::new(), &body);
        assert_eq!(e.raw_body().len(), MAX_ERROR_BODY);
        assert_eq!(e.message().chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn structured_errors_are_found_at_the_top_and_under_detail() {
        let top = api(
            465,
            json!({"error_code": "ERR-01-005", "message": "register it", "request_id": "r1"}),
        );
        let nested = api(
            403,
            json!({"detail": {"error_code": "ERR-03-003", "message": "not yours"}}),
        );
        assert_eq!(
            (top.error_code(), top.message().as_str()),
            (Some("ERR-01-005"), "register it")
        );
        assert_eq!(top.request_id(), Some("r1"));
        assert_eq!(
            (nested.error_code(), nested.message().as_str()),
            (Some("ERR-03-003"), "not yours")
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        h.insert("retry-after", later.parse().unwrap());
        let wait = retry_after(&h).unwrap();
        assert!(
            wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn excerpts_are_bounded_on_char_boundaries() {
        let long = "é".repeat(1000);
        let e = excerpt(long.as_bytes());
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
    }
}
