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
//!
//! `api` reads an error answer's body ([`ApiError`]); `convert` turns what
//! progenitor and reqwest report into [`Error`].

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;

use crate::types::{ApiErrorBodyDetailsItem, ApiErrorBodyLinksItem};

mod api;
mod convert;

pub(crate) use api::excerpt;
pub use api::ApiError;
pub(crate) use convert::{
    answer_error, carried, carry, checked, from_generated, generated_error, read_bounded,
};

/// At most this much of an error body is read and kept (64 KiB), whatever
/// the status; the rest is not read.
pub const MAX_ERROR_BODY: usize = 64 * 1024;
/// The longest wait [`Error::retry_after`] reports (10 minutes), whatever the
/// server's `Retry-After` says.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

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
        if api.status().is_client_error() || api.status().is_server_error() {
            Error::Api(Box::new(api))
        } else {
            Error::Unexpected(Box::new(api))
        }
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
    /// connections dropped before the answer or during its body, timeouts
    /// (the call's deadline included), 429, 502, 503, 504, and a 409
    /// without an error code ("another operation in progress"); for
    /// [`Error::RetryBudgetExhausted`], the failure inside.
    /// Whether the client retries by itself also depends on the operation:
    /// see [`crate::RetryPolicy`].
    pub fn is_retryable(&self) -> bool {
        match self.cause() {
            Error::Transport(e) => {
                e.is_connect() || e.is_timeout() || e.is_request() || broke_off(e)
            }
            Error::Limit(limit) => matches!(limit, LimitExceeded::Deadline { .. }),
            Error::Api(api) => match api.status().as_u16() {
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

/// Whether `error` is, or was caused by, a body that broke off while it was
/// read: reqwest reports that as a decode error whose source is the body's.
fn broke_off(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_body)
        {
            return true;
        }
        source = cause.source();
    }
    false
}
