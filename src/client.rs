//! Building a [`Client`]: API key, base URL, API version, timeouts, retries,
//! user agent, extra headers, or one from the environment.

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};

use crate::{Error, RetryPolicy};

pub use crate::generated::Client;

/// The API's public endpoint.
pub const DEFAULT_BASE_URL: &str = "https://cloud-api.phala.com";

/// The user agent sent unless [`ClientBuilder::user_agent`] sets another.
pub const DEFAULT_USER_AGENT: &str = concat!("phala-cloud-rust/", env!("CARGO_PKG_VERSION"));

const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");
const VERSION_HEADER: HeaderName = HeaderName::from_static("x-phala-version");

/// The environment variable holding the API key, as the official SDKs read it.
pub const API_KEY_ENV: &str = "PHALA_CLOUD_API_KEY";
/// The environment variable overriding the base URL, as the official SDKs read it.
pub const BASE_URL_ENV: &str = "PHALA_CLOUD_API_PREFIX";

/// What every request of a [`Client`] carries: its headers (the API key
/// among them) and its retry policy.
///
/// Opaque; built by [`ClientBuilder::build`]. Its `Debug` output never shows
/// the API key.
#[derive(Clone)]
pub struct ClientState {
    headers: HeaderMap,
    api_version: String,
    pub(crate) retry: RetryPolicy,
}

impl ClientState {
    /// Sets the client's headers on `request`, replacing any of the same name.
    pub(crate) fn apply_headers(&self, request: &mut reqwest::Request) {
        for (name, value) in &self.headers {
            request.headers_mut().insert(name.clone(), value.clone());
        }
    }
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientState")
            .field("api_version", &self.api_version)
            .field("api_key", &"<redacted>")
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client.
    ///
    /// ```
    /// let client = phala_cloud::Client::builder()
    ///     .api_key("phak_example")
    ///     .build()
    ///     .expect("valid configuration");
    /// assert_eq!(client.api_version(), phala_cloud::API_VERSION);
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured as the official SDKs configure theirs: the key
    /// from `PHALA_CLOUD_API_KEY` (required) and the base URL from
    /// `PHALA_CLOUD_API_PREFIX` (optional; their `…/api/v1` form is fine).
    ///
    /// ```no_run
    /// let client = phala_cloud::Client::from_env()?;
    /// # Ok::<(), phala_cloud::Error>(())
    /// ```
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_lookup(|name| std::env::var(name).ok())?.build()
    }

    /// The `X-Phala-Version` this client sends.
    pub fn api_version(&self) -> &str {
        &self.inner.api_version
    }

    /// The base URL requests go to (scheme, host, port; without `/api/v1`).
    pub fn base_url(&self) -> &str {
        &self.baseurl
    }
}

/// Configuration of a [`Client`]; see [`Client::builder`].
///
/// ```
/// use std::time::Duration;
/// use phala_cloud::{Client, RetryPolicy};
///
/// let client = Client::builder()
///     .api_key("phak_example")
///     .base_url("https://cloud-api.phala.com/api/v1")
///     .api_version("2026-01-21")
///     .timeout(Duration::from_secs(30))
///     .connect_timeout(Duration::from_secs(5))
///     .user_agent("my-deployer/1.0")
///     .retry_policy(RetryPolicy::default().max_attempts(4))
///     .build()?;
/// assert_eq!(client.base_url(), "https://cloud-api.phala.com");
/// # Ok::<(), phala_cloud::Error>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    api_key: Option<String>,
    base_url: String,
    api_version: String,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    headers: HeaderMap,
    retry: RetryPolicy,
    http: Option<reqwest::Client>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            api_version: crate::API_VERSION.to_string(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            headers: HeaderMap::new(),
            retry: RetryPolicy::default(),
            http: None,
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("retry", &self.retry)
            .field("http", &self.http.as_ref().map(|_| "<caller-supplied>"))
            .finish()
    }
}

impl ClientBuilder {
    /// A builder with the key and base URL read through `lookup`; see
    /// [`Client::from_env`].
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let key = lookup(API_KEY_ENV)
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| {
                Error::Config(format!(
                    "no API key: the environment variable {API_KEY_ENV} is not set"
                ))
            })?;
        let builder = ClientBuilder::default().api_key(key.trim());
        Ok(
            match lookup(BASE_URL_ENV).filter(|u| !u.trim().is_empty()) {
                Some(url) => builder.base_url(url),
                None => builder,
            },
        )
    }

    /// The API key, sent as `X-API-Key` and never logged. Required.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The API's base URL, default [`DEFAULT_BASE_URL`]. Both
    /// `https://host` and `https://host/api/v1` (the official SDKs' form) are
    /// accepted: the generated paths already start with `/api/v1`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The `X-Phala-Version` to send, default [`crate::API_VERSION`], the one
    /// the response types are generated for.
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// Total time allowed for one request, default 60 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time allowed to establish a connection, default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent`, default [`DEFAULT_USER_AGENT`].
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How transient failures are retried; see [`RetryPolicy`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// A header sent with every request, e.g. a tracing or tenant header.
    /// The client's own headers (`X-API-Key`, `X-Phala-Version`,
    /// `User-Agent`) take precedence over one of the same name.
    ///
    /// ```
    /// use phala_cloud::reqwest::header::{HeaderName, HeaderValue};
    ///
    /// let client = phala_cloud::Client::builder()
    ///     .api_key("phak_example")
    ///     .default_header(HeaderName::from_static("x-request-source"), HeaderValue::from_static("batch"))
    ///     .build()?;
    /// # Ok::<(), phala_cloud::Error>(())
    /// ```
    pub fn default_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Sends requests through a `reqwest::Client` of the caller's. Its own
    /// timeouts and redirect policy then apply instead of this builder's;
    /// the API key, version, user agent and retry policy still apply.
    /// Build it with `redirect(reqwest::redirect::Policy::none())`: reqwest
    /// strips `Authorization` on a cross-host redirect, but not `X-API-Key`.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the configuration and builds the client.
    ///
    /// Fails with [`Error::Config`] when no API key is set, a header value is
    /// not valid, or the base URL does not parse.
    pub fn build(self) -> Result<Client, Error> {
        let key = self.api_key.filter(|k| !k.is_empty()).ok_or_else(|| {
            Error::Config("no API key: set one with ClientBuilder::api_key".into())
        })?;
        let mut key = HeaderValue::from_str(&key).map_err(|_| {
            Error::Config("the API key contains characters not allowed in a header".into())
        })?;
        key.set_sensitive(true);
        let version = HeaderValue::from_str(&self.api_version)
            .map_err(|_| Error::Config(format!("invalid API version {:?}", self.api_version)))?;
        let agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::Config(format!("invalid user agent {:?}", self.user_agent)))?;
        let mut headers = self.headers;
        headers.extend([
            (API_KEY_HEADER, key),
            (VERSION_HEADER, version),
            (USER_AGENT, agent),
        ]);

        let base_url = normalize_base_url(&self.base_url)?;
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .connect_timeout(self.connect_timeout)
                // A redirect would carry the API key to wherever it points.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?,
        };
        let state = ClientState {
            headers,
            api_version: self.api_version,
            retry: self.retry,
        };
        Ok(Client::new_with_client(&base_url, http, state))
    }
}

/// `https://host/`, `https://host/api/v1` and `https://host/api/v1/` all mean
/// `https://host`: the generated paths start with `/api/v1`.
fn normalize_base_url(url: &str) -> Result<String, Error> {
    let trimmed = url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/api/v1").unwrap_or(trimmed);
    let parsed = reqwest::Url::parse(trimmed)
        .map_err(|e| Error::Config(format!("invalid base URL {url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::Config(format!(
            "invalid base URL {url:?}: not http or https"
        )));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_forms_are_equivalent() {
        for url in [
            "https://h.example",
            "https://h.example/",
            "https://h.example/api/v1",
            "https://h.example/api/v1/",
        ] {
            assert_eq!(normalize_base_url(url).unwrap(), "https://h.example");
        }
        assert!(normalize_base_url("ftp://h.example").is_err());
        assert!(normalize_base_url("not a url").is_err());
    }

    #[test]
    fn a_missing_key_is_a_config_error() {
        let err = Client::builder().build().unwrap_err();
        assert!(
            matches!(err, Error::Config(ref m) if m.contains("API key")),
            "{err}"
        );
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn from_env_reads_the_key_and_either_base_url_form() {
        for prefix in ["https://h.example/api/v1", "https://h.example"] {
            let client =
                ClientBuilder::from_lookup(env(&[(API_KEY_ENV, "phak_k"), (BASE_URL_ENV, prefix)]))
                    .unwrap()
                    .build()
                    .unwrap();
            assert_eq!(client.base_url(), "https://h.example");
        }
        let client = ClientBuilder::from_lookup(env(&[(API_KEY_ENV, "phak_k")]))
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(client.base_url(), DEFAULT_BASE_URL);
    }

    #[test]
    fn from_env_without_a_key_names_the_variable() {
        let err =
            ClientBuilder::from_lookup(env(&[(BASE_URL_ENV, "https://h.example")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration: no API key: the environment variable PHALA_CLOUD_API_KEY is not set"
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let builder = Client::builder().api_key("phak_secret_value");
        assert!(!format!("{builder:?}").contains("secret"));
        let client = builder.build().unwrap();
        assert!(!format!("{client:?}").contains("secret"));
    }
}
