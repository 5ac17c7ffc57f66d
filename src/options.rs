//! Per-call overrides: one request's API version, timeout, retry policy and
//! extra headers, over the client's.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::RetryPolicy;

/// What one call sets differently from its client: the `X-Phala-Version`,
/// the timeout of an attempt, the retry policy, extra headers.
///
/// Every request builder, generated or hand-written, takes them with
/// `.with_options(…)`; [`Client::with_options`](crate::Client::with_options)
/// gives a handle whose every call carries them (for the calls that are
/// methods, such as [`Client::watch_cvm_state`](crate::Client::watch_cvm_state)).
/// Options set twice merge: a later value wins, headers add up.
///
/// ```
/// use std::time::Duration;
/// use phala_cloud::{RequestOptions, RetryPolicy};
///
/// # fn run(client: phala_cloud::Client) {
/// let request = client.list_kms().with_options(
///     RequestOptions::new()
///         .api_version("2026-06-23")
///         .timeout(Duration::from_secs(5))
///         .retry_policy(RetryPolicy::none())
///         .header("x-request-source", "nightly"),
/// );
/// # }
/// ```
///
/// The response types are generated for [`API_VERSION`](crate::API_VERSION):
/// an answer of another version that does not decode into them is an
/// [`Error::Decode`](crate::Error::Decode); [`Client::request`](crate::Client::request)
/// reads it as whatever type you choose.
#[derive(Clone, Default)]
#[must_use]
pub struct RequestOptions {
    api_version: Option<Result<HeaderValue, String>>,
    timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    headers: Vec<Result<(HeaderName, HeaderValue), String>>,
}

impl RequestOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `X-Phala-Version` this call sends instead of the client's, and
    /// instead of the one an operation is pinned to (the operations typed
    /// beyond the spec, the env-key lookup: their docs say which). A
    /// value that is not a valid header value fails the call with
    /// [`Error::InvalidRequest`](crate::Error::InvalidRequest) before
    /// anything is sent.
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        let version = version.into();
        self.api_version = Some(
            HeaderValue::from_str(&version).map_err(|_| format!("invalid API version {version:?}")),
        );
        self
    }

    /// The time allowed for one attempt of this call, instead of
    /// [`ClientBuilder::timeout`](crate::ClientBuilder::timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// This call's attempts, waits and deadline, instead of the client's
    /// policy. Its retries still draw on the client's retry budget (whose
    /// size the client's policy set).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// A header this call sends, over a
    /// [`default_header`](crate::ClientBuilder::default_header) of the same
    /// name; the credentials, `X-Phala-Version` (see
    /// [`api_version`](RequestOptions::api_version)) and `User-Agent` stay
    /// the client's. A name or value that is not valid in a header fails the
    /// call with [`Error::InvalidRequest`](crate::Error::InvalidRequest)
    /// before anything is sent. Values are marked sensitive: they never
    /// appear in `Debug` output.
    pub fn header<N, V>(mut self, name: N, value: V) -> Self
    where
        N: TryInto<HeaderName>,
        V: TryInto<HeaderValue>,
    {
        let header = match (name.try_into(), value.try_into()) {
            (Ok(name), Ok(mut value)) => {
                value.set_sensitive(true);
                Ok((name, value))
            }
            (Err(_), _) => Err("invalid header name in RequestOptions::header".to_string()),
            (Ok(name), Err(_)) => Err(format!("invalid value for the header {name}")),
        };
        self.headers.push(header);
        self
    }

    /// `self` with `later`'s settings over it.
    pub(crate) fn merged(&self, later: RequestOptions) -> RequestOptions {
        let mut headers = self.headers.clone();
        headers.extend(later.headers);
        RequestOptions {
            api_version: later.api_version.or_else(|| self.api_version.clone()),
            timeout: later.timeout.or(self.timeout),
            retry: later.retry.or_else(|| self.retry.clone()),
            headers,
        }
    }

    pub(crate) fn timeout_override(&self) -> Option<Duration> {
        self.timeout
    }

    pub(crate) fn retry_override(&self) -> Option<&RetryPolicy> {
        self.retry.as_ref()
    }

    /// Sets the extra headers on `headers`, replacing any of the same
    /// name; fails when one is not valid.
    pub(crate) fn apply_headers(&self, headers: &mut HeaderMap) -> Result<(), String> {
        for header in &self.headers {
            let (name, value) = header.clone()?;
            headers.insert(name, value);
        }
        Ok(())
    }

    /// The version override, or why it is not valid.
    pub(crate) fn version_override(&self) -> Result<Option<HeaderValue>, String> {
        self.api_version.clone().transpose()
    }
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .headers
            .iter()
            .map(|h| match h {
                Ok((name, _)) => name.to_string(),
                Err(e) => e.clone(),
            })
            .collect();
        f.debug_struct("RequestOptions")
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("headers", &names)
            .finish()
    }
}

/// A client's per-call overrides, shared by its clones.
pub(crate) type SharedOptions = Option<Arc<RequestOptions>>;

/// Gives each request builder named `with_options`, which sets
/// [`RequestOptions`] on the client handle the builder owns (its `client`
/// field). The generated builders get it from the code generator, the
/// hand-written ones by naming themselves here.
macro_rules! with_options {
    ($($builder:ty),* $(,)?) => {
        $(
            impl $builder {
                /// Overrides the client's API version, timeout, retry policy
                /// or headers for this request; see
                /// [`RequestOptions`](crate::RequestOptions).
                pub fn with_options(mut self, options: crate::RequestOptions) -> Self {
                    self.client = self.client.with_options(options);
                    self
                }
            }
        )*
    };
}

pub(crate) use with_options;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_settings_win_and_headers_add_up() {
        let first = RequestOptions::new()
            .api_version("2026-01-21")
            .timeout(Duration::from_secs(1))
            .header("x-a", "1");
        let merged = first.merged(
            RequestOptions::new()
                .api_version("2026-06-23")
                .header("x-b", "2"),
        );
        assert_eq!(
            merged.version_override().unwrap(),
            Some(HeaderValue::from_static("2026-06-23"))
        );
        assert_eq!(merged.timeout_override(), Some(Duration::from_secs(1)));
        let mut headers = HeaderMap::new();
        merged.apply_headers(&mut headers).unwrap();
        assert_eq!(
            (
                headers["x-a"].to_str().unwrap(),
                headers["x-b"].to_str().unwrap()
            ),
            ("1", "2")
        );
    }

    #[test]
    fn invalid_values_are_reported_and_values_never_shown() {
        let options = RequestOptions::new().header("x-token", "s3cret");
        assert!(!format!("{options:?}").contains("s3cret"));
        let bad = RequestOptions::new().header("x-bad", "line\nbreak");
        assert_eq!(
            bad.apply_headers(&mut HeaderMap::new()).unwrap_err(),
            "invalid value for the header x-bad"
        );
        assert!(RequestOptions::new()
            .api_version("a\nb")
            .version_override()
            .is_err());
    }
}
