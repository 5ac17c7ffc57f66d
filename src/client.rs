//! Building a [`Client`]: credentials, workspace, base URL, API version,
//! timeouts, body limits, retries, user agent, extra headers, the HTTP
//! stack, or one from the environment.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT_ENCODING, AUTHORIZATION, USER_AGENT,
};

use crate::options::SharedOptions;
use crate::transport::body::BodyLimit;
use crate::transport::RetryBudget;
use crate::{Error, RequestOptions, RetryPolicy};

/// The API's public endpoint.
pub const DEFAULT_BASE_URL: &str = "https://cloud-api.phala.com";

/// The user agent sent unless [`ClientBuilder::user_agent`] sets another.
pub const DEFAULT_USER_AGENT: &str = concat!("phala-cloud-rust/", env!("CARGO_PKG_VERSION"));

const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");
pub(crate) const VERSION_HEADER: HeaderName = HeaderName::from_static("x-phala-version");
const WORKSPACE_HEADER: HeaderName = HeaderName::from_static("x-phala-workspace");

/// The environment variable holding the API key, as the official SDKs read it.
pub const API_KEY_ENV: &str = "PHALA_CLOUD_API_KEY";
/// The environment variable overriding the base URL, as the official SDKs read it.
pub const BASE_URL_ENV: &str = "PHALA_CLOUD_API_PREFIX";
/// The environment variable holding an OIDC token (keyless CI), sent as
/// `Authorization: Bearer`, as the official JS SDK reads it.
pub const OIDC_TOKEN_ENV: &str = "PHALA_OIDC_TOKEN";
/// The environment variable naming the workspace, sent as
/// `X-Phala-Workspace`, as the official JS SDK reads it.
pub const WORKSPACE_ENV: &str = "PHALA_CLOUD_WORKSPACE";

/// The default of [`ClientBuilder::max_response_size`]: 32 MiB.
pub const DEFAULT_MAX_RESPONSE_SIZE: u64 = 32 * 1024 * 1024;
/// The default of [`ClientBuilder::max_quote_size`]: 1 MiB.
pub const DEFAULT_MAX_QUOTE_SIZE: u64 = 1024 * 1024;

/// A client of the Phala Cloud API: one method per operation, each
/// returning a request builder (see the [crate] documentation).
///
/// A cheap handle: cloning it copies a pointer (and the per-call options
/// of [`Client::with_options`], if any), so clones share the HTTP
/// connections, the configuration and the retry budget. The request
/// builders and streams own a clone, so they are `Send + 'static`: a
/// listing or a watch can move into `tokio::spawn`.
///
/// Built by [`Client::builder`] or [`Client::from_env`]. Its `Debug` output
/// never shows the credentials.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientState>,
    options: SharedOptions,
}

/// What every request of a [`Client`] carries: its base URL and HTTP stack,
/// its headers (the credentials among them), its retry policy and budget,
/// its timeout and body limits. Shared by the client's clones.
///
/// Internal (the generated code names it); its `Debug` output never shows
/// the credentials or the workspace.
#[doc(hidden)]
pub struct ClientState {
    pub(crate) base_url: String,
    pub(crate) http: reqwest::Client,
    /// The caller's default headers and the workspace: a call's own
    /// headers may replace them.
    defaults: HeaderMap,
    /// Credentials, version, user agent, encoding: nothing replaces them
    /// but a call's version.
    own: HeaderMap,
    api_version: String,
    pub(crate) retry: RetryPolicy,
    /// Shared by every clone of the client.
    pub(crate) budget: RetryBudget,
    /// One attempt's timeout, unless the call sets its own.
    pub(crate) timeout: Duration,
    max_response_size: u64,
    max_quote_size: u64,
    /// Whether an answer of httpmock's for a request no mock matched is
    /// reported as such (the clients of [`crate::mock`]).
    #[cfg(feature = "mock")]
    pub(crate) mock_server: bool,
}

impl ClientState {
    /// The limit on a success answer's body.
    pub(crate) fn response_limit(&self) -> BodyLimit {
        BodyLimit::Bytes {
            limit: self.max_response_size,
            what: "the response body",
            setting: "ClientBuilder::max_response_size",
        }
    }

    /// The limit on the success answer of the generated operation
    /// `operation`: the raw quote has its own.
    pub(crate) fn answer_limit(&self, operation: &str) -> BodyLimit {
        if crate::generated::quote_answer(operation) {
            self.quote_limit()
        } else {
            self.response_limit()
        }
    }

    /// The limit on a raw quote's body.
    fn quote_limit(&self) -> BodyLimit {
        BodyLimit::Bytes {
            limit: self.max_quote_size,
            what: "the raw quote",
            setting: "ClientBuilder::max_quote_size",
        }
    }
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credential = |name: &HeaderName| self.own.contains_key(name).then_some("<redacted>");
        f.debug_struct("ClientState")
            .field("base_url", &self.base_url)
            .field("api_version", &self.api_version)
            .field("api_key", &credential(&API_KEY_HEADER))
            .field("bearer_token", &credential(&AUTHORIZATION))
            .field(
                "workspace",
                &self
                    .defaults
                    .contains_key(WORKSPACE_HEADER)
                    .then_some("<redacted>"),
            )
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("max_response_size", &self.max_response_size)
            .field("max_quote_size", &self.max_quote_size)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.inner)
            .field("options", &self.options)
            .finish()
    }
}

/// A caller's configuration of the HTTP stack; see
/// [`ClientBuilder::configure_http`].
type ConfigureHttp = Arc<dyn Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync>;

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
    /// from `PHALA_CLOUD_API_KEY` or, without one, an OIDC token from
    /// `PHALA_OIDC_TOKEN` (one of them is required), the workspace from
    /// `PHALA_CLOUD_WORKSPACE` and the base URL from `PHALA_CLOUD_API_PREFIX`
    /// (both optional; the base URL's `…/api/v1` form is fine).
    ///
    /// ```no_run
    /// let client = phala_cloud::Client::from_env()?;
    /// # Ok::<(), phala_cloud::Error>(())
    /// ```
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_lookup(|name| std::env::var(name).ok())?.build()
    }

    /// The `X-Phala-Version` this client sends, but for the operations
    /// pinned to the version their types describe (see
    /// [`ClientBuilder::api_version`]).
    pub fn api_version(&self) -> &str {
        &self.inner.api_version
    }

    /// The base URL requests go to (scheme, host, port; without `/api/v1`).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// A handle to the same client whose calls carry `options` (over any
    /// this handle already carries): for the calls that are methods rather
    /// than builders, or a group of calls. The handle shares the
    /// connections and the retry budget; `self` is unchanged.
    ///
    /// ```
    /// use std::time::Duration;
    /// use phala_cloud::RequestOptions;
    ///
    /// # fn run(client: phala_cloud::Client) {
    /// let patient = client.with_options(RequestOptions::new().timeout(Duration::from_secs(300)));
    /// let request = patient.get_cvm().cvm_id("cvm_ykL5lbAn");
    /// # }
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> Client {
        let options = match &self.options {
            Some(current) => current.merged(options),
            None => options,
        };
        Client {
            inner: Arc::clone(&self.inner),
            options: Some(Arc::new(options)),
        }
    }

    /// The per-call options this handle carries.
    pub(crate) fn options(&self) -> Option<&RequestOptions> {
        self.options.as_deref()
    }

    /// Sets the client's headers on `request`, then this handle's per-call
    /// ones, replacing any of the same name; fails when a per-call header
    /// or version is not valid.
    ///
    /// The `X-Phala-Version` is, first to last: the call's
    /// [`RequestOptions::api_version`], the version codegen's operation
    /// table pins for `operation` (the one its types describe), the
    /// client's [`ClientBuilder::api_version`].
    pub(crate) fn apply_headers(
        &self,
        request: &mut reqwest::Request,
        operation: &str,
    ) -> Result<(), String> {
        let state = &*self.inner;
        let headers = request.headers_mut();
        for (name, value) in &state.defaults {
            headers.insert(name.clone(), value.clone());
        }
        if let Some(options) = self.options() {
            options.apply_headers(headers)?;
        }
        for (name, value) in &state.own {
            headers.insert(name.clone(), value.clone());
        }
        let call = self
            .options()
            .map(RequestOptions::version_override)
            .transpose()?
            .flatten();
        let pinned = crate::generated::operation_version(operation).map(HeaderValue::from_static);
        if let Some(version) = call.or(pinned) {
            headers.insert(VERSION_HEADER, version);
        }
        Ok(())
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
///     .workspace("my-team")
///     .base_url("https://cloud-api.phala.com/api/v1")
///     .api_version("2026-01-21")
///     .timeout(Duration::from_secs(30))
///     .connect_timeout(Duration::from_secs(5))
///     .max_response_size(64 * 1024 * 1024)
///     .user_agent("my-deployer/1.0")
///     .retry_policy(RetryPolicy::default().max_attempts(4).deadline(Duration::from_secs(60)))
///     .build()?;
/// assert_eq!(client.base_url(), "https://cloud-api.phala.com");
/// # Ok::<(), phala_cloud::Error>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    api_key: Option<String>,
    bearer_token: Option<String>,
    workspace: Option<String>,
    base_url: String,
    api_version: String,
    timeout: Duration,
    connect_timeout: Duration,
    max_response_size: u64,
    max_quote_size: u64,
    user_agent: String,
    headers: HeaderMap,
    retry: RetryPolicy,
    http: Option<ConfigureHttp>,
    #[cfg(feature = "mock")]
    mock_server: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            api_key: None,
            bearer_token: None,
            workspace: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            api_version: crate::API_VERSION.to_string(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            max_quote_size: DEFAULT_MAX_QUOTE_SIZE,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            headers: HeaderMap::new(),
            retry: RetryPolicy::default(),
            http: None,
            #[cfg(feature = "mock")]
            mock_server: false,
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |value: &Option<String>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("ClientBuilder")
            .field("api_key", &redacted(&self.api_key))
            .field("bearer_token", &redacted(&self.bearer_token))
            .field("workspace", &redacted(&self.workspace))
            .field("base_url", &redacted_url(&self.base_url))
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_response_size", &self.max_response_size)
            .field("max_quote_size", &self.max_quote_size)
            .field("user_agent", &self.user_agent)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("retry", &self.retry)
            .field("http", &self.http.as_ref().map(|_| "<caller-configured>"))
            .finish()
    }
}

impl ClientBuilder {
    /// A builder with the credentials, workspace and base URL read through
    /// `lookup`; see [`Client::from_env`].
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let read = |name| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut builder = ClientBuilder::default();
        match (read(API_KEY_ENV), read(OIDC_TOKEN_ENV)) {
            (Some(key), _) => builder = builder.api_key(key),
            (None, Some(token)) => builder = builder.bearer_token(token),
            (None, None) => {
                return Err(Error::Config(format!(
                    "no credentials: neither {API_KEY_ENV} nor {OIDC_TOKEN_ENV} is set"
                )))
            }
        }
        if let Some(workspace) = read(WORKSPACE_ENV) {
            builder = builder.workspace(workspace);
        }
        if let Some(url) = read(BASE_URL_ENV) {
            builder = builder.base_url(url);
        }
        Ok(builder)
    }

    /// The API key, sent as `X-API-Key` and never logged. This or a
    /// [`bearer_token`](ClientBuilder::bearer_token) is required.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// An OIDC token (keyless CI), sent as `Authorization: Bearer …` and
    /// never logged, when no [`api_key`](ClientBuilder::api_key) is set:
    /// with both, only the key is sent, as the official JS SDK does.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// The workspace the calls act in (its slug or id), sent as
    /// `X-Phala-Workspace`; without it, the credentials' default workspace.
    /// Not shown by `Debug` nor logged.
    pub fn workspace(mut self, workspace: impl Into<String>) -> Self {
        self.workspace = Some(workspace.into());
        self
    }

    /// The API's base URL, default [`DEFAULT_BASE_URL`]. Both
    /// `https://host` and `https://host/api/v1` (the official SDKs' form) are
    /// accepted: the generated paths already start with `/api/v1`. A URL
    /// with a query, a fragment or credentials (`user:password@`) is
    /// refused by [`build`](ClientBuilder::build).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The `X-Phala-Version` to send, default [`crate::API_VERSION`], the one
    /// the response types are generated for. An operation whose shapes are
    /// known to differ by version sends the version its types describe
    /// instead, whatever this says: the operations typed beyond the spec
    /// (2026-06-23), the env-key lookup (2026-06-23), `list_kms` and
    /// `get_kms_info` (the spec's; their path answers KMS contracts from
    /// 2026-06-23 on). A call's [`RequestOptions::api_version`] wins over
    /// both.
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// Time allowed for one attempt, from sending the request to the end
    /// of the answer's body, default 60 s. The whole call, retries
    /// included, is bounded by [`RetryPolicy::deadline`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time allowed to establish a connection, default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest success body the client reads, in bytes, default
    /// [`DEFAULT_MAX_RESPONSE_SIZE`] (32 MiB). A larger answer (or one whose
    /// `Content-Length` says so) fails with
    /// [`LimitExceeded::Size`](crate::error::LimitExceeded::Size) as soon
    /// as the limit is passed, so memory never holds more. Error bodies are
    /// read up to [`MAX_ERROR_BODY`](crate::error::MAX_ERROR_BODY) (64 KiB)
    /// whatever this says.
    pub fn max_response_size(mut self, bytes: u64) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// The largest raw quote [`Client::download_raw_attestation`] reads, in
    /// bytes, default [`DEFAULT_MAX_QUOTE_SIZE`] (1 MiB; a TDX quote is a
    /// few KiB).
    pub fn max_quote_size(mut self, bytes: u64) -> Self {
        self.max_quote_size = bytes;
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

    /// Configures the `reqwest::ClientBuilder` the client's HTTP stack is
    /// built from: proxies, root certificates, TLS, connection pools, DNS,
    /// local address stay as `configure` sets them. The client then sets
    /// what keeps the key and the limits safe, over whatever `configure`
    /// set: no redirects (a redirect would carry `X-API-Key` to wherever it
    /// points; reqwest only strips `Authorization`), its own timeouts, no
    /// decompression whatever reqwest features another crate enables, and
    /// no connection logging (it would log the key).
    ///
    /// `configure` runs at each [`build`](ClientBuilder::build).
    ///
    /// ```
    /// let client = phala_cloud::Client::builder()
    ///     .api_key("phak_example")
    ///     .configure_http(|http| http.pool_max_idle_per_host(4).tcp_nodelay(true))
    ///     .build()?;
    /// # Ok::<(), phala_cloud::Error>(())
    /// ```
    pub fn configure_http<F>(mut self, configure: F) -> Self
    where
        F: Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static,
    {
        self.http = Some(Arc::new(configure));
        self
    }

    /// Marks the client as one of [`crate::mock`]'s: a request no mock
    /// matched fails as [`Error::MockUnmatched`].
    #[cfg(feature = "mock")]
    pub(crate) fn for_mock_server(mut self) -> Self {
        self.mock_server = true;
        self
    }

    /// Checks the configuration and builds the client.
    ///
    /// Fails with [`Error::Config`] when neither an API key nor a bearer
    /// token is set, a header value is not valid, the base URL does not
    /// parse (or has a query, a fragment or credentials), or the HTTP stack
    /// cannot be built.
    pub fn build(self) -> Result<Client, Error> {
        let credential = match (
            self.api_key.filter(|k| !k.is_empty()),
            self.bearer_token.filter(|t| !t.is_empty()),
        ) {
            (Some(key), _) => (API_KEY_HEADER, secret("the API key", key)?),
            (None, Some(token)) => (
                AUTHORIZATION,
                secret("the bearer token", format!("Bearer {token}"))?,
            ),
            (None, None) => {
                return Err(Error::Config(
                    "no credentials: set ClientBuilder::api_key or ClientBuilder::bearer_token"
                        .into(),
                ))
            }
        };
        let version = HeaderValue::from_str(&self.api_version)
            .map_err(|_| Error::Config(format!("invalid API version {:?}", self.api_version)))?;
        let agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::Config(format!("invalid user agent {:?}", self.user_agent)))?;
        let own = HeaderMap::from_iter([
            credential,
            (VERSION_HEADER, version),
            (USER_AGENT, agent),
            // Without it any encoding is acceptable; the client decodes none.
            (ACCEPT_ENCODING, HeaderValue::from_static("identity")),
        ]);
        let mut defaults = self.headers;
        if let Some(workspace) = self.workspace.filter(|w| !w.is_empty()) {
            defaults.insert(WORKSPACE_HEADER, secret("the workspace", workspace)?);
        }

        let base_url = normalize_base_url(&self.base_url)?;
        let http = crate::tls::backend(reqwest::Client::builder());
        let http = match &self.http {
            Some(configure) => configure(http),
            None => http,
        };
        let http = http
            // A redirect would carry the credentials to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            // These exist whatever reqwest features are enabled, so that a
            // crate enabling `reqwest/gzip` cannot make a small answer
            // inflate past the body limits.
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd()
            .connection_verbose(false)
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let state = ClientState {
            base_url,
            http,
            defaults,
            own,
            api_version: self.api_version,
            budget: RetryBudget::new(self.retry.budget_tokens()),
            retry: self.retry,
            timeout: self.timeout,
            max_response_size: self.max_response_size,
            max_quote_size: self.max_quote_size,
            #[cfg(feature = "mock")]
            mock_server: self.mock_server,
        };
        Ok(Client {
            inner: Arc::new(state),
            options: None,
        })
    }
}

/// `value` as a header value marked sensitive (never shown by `Debug`), or
/// a configuration error naming `what`.
fn secret(what: &str, value: String) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(&value).map_err(|_| {
        Error::Config(format!(
            "{what} contains characters not allowed in a header"
        ))
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// `https://host/`, `https://host/api/v1` and `https://host/api/v1/` all mean
/// `https://host`: the generated paths start with `/api/v1`.
fn normalize_base_url(url: &str) -> Result<String, Error> {
    let trimmed = url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/api/v1").unwrap_or(trimmed);
    let shown = redacted_url(url);
    let parsed = reqwest::Url::parse(trimmed)
        .map_err(|e| Error::Config(format!("invalid base URL {shown:?}: {e}")))?;
    let refusal = if !matches!(parsed.scheme(), "http" | "https") {
        Some("not http or https")
    } else if parsed.query().is_some() {
        Some("a query would be lost: operations add their own")
    } else if parsed.fragment().is_some() {
        Some("a fragment is not sent to a server")
    } else if !parsed.username().is_empty() || parsed.password().is_some() {
        Some("credentials in the URL would be sent in clear headers and logged; set the key with api_key")
    } else {
        None
    };
    match refusal {
        Some(why) => Err(Error::Config(format!("invalid base URL {shown:?}: {why}"))),
        None => Ok(trimmed.to_string()),
    }
}

/// `url` with any password replaced, for messages and `Debug`.
fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url.trim()) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only fails for URLs that cannot have credentials at all.
            let _ = parsed.set_password(Some("<redacted>"));
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        // Unparsable: whatever sits before an `@` could be a password.
        Err(_) => match url.rsplit_once('@') {
            Some((_, host)) => format!("<redacted>@{host}"),
            None => url.to_string(),
        },
    }
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
    fn base_urls_with_a_query_a_fragment_or_credentials_are_refused() {
        for (url, why) in [
            ("https://h.example/?region=eu", "a query"),
            ("https://h.example/api/v1#top", "a fragment"),
            ("https://user@h.example", "credentials"),
            ("https://user:hunter2@h.example", "credentials"),
        ] {
            let err = normalize_base_url(url).unwrap_err().to_string();
            assert!(err.contains(why), "{url}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn debug_never_shows_a_password_in_the_base_url() {
        for url in [
            "https://u:hunter2@h.example",
            "https://u:hunter2@h.example:bad port",
        ] {
            let builder = Client::builder().api_key("phak_k").base_url(url);
            let shown = format!("{builder:?}");
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(!builder.build().unwrap_err().to_string().contains("hunter2"));
        }
    }

    #[test]
    fn missing_credentials_are_a_config_error() {
        let err = Client::builder().build().unwrap_err();
        assert!(
            matches!(err, Error::Config(ref m) if m.contains("api_key")),
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
    fn from_env_without_credentials_names_the_variables() {
        let err =
            ClientBuilder::from_lookup(env(&[(BASE_URL_ENV, "https://h.example")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration: no credentials: neither PHALA_CLOUD_API_KEY nor PHALA_OIDC_TOKEN is set"
        );
    }

    #[test]
    fn from_env_reads_a_token_and_a_workspace_and_prefers_the_key() {
        let builder = ClientBuilder::from_lookup(env(&[
            (OIDC_TOKEN_ENV, " oidc_t "),
            (WORKSPACE_ENV, "team-a"),
        ]))
        .unwrap();
        assert_eq!(builder.bearer_token.as_deref(), Some("oidc_t"));
        assert_eq!(builder.workspace.as_deref(), Some("team-a"));
        assert_eq!(builder.api_key, None);
        let both =
            ClientBuilder::from_lookup(env(&[(API_KEY_ENV, "phak_k"), (OIDC_TOKEN_ENV, "t")]))
                .unwrap();
        assert_eq!(
            (both.api_key.as_deref(), both.bearer_token),
            (Some("phak_k"), None)
        );
    }

    #[test]
    fn debug_never_shows_the_credentials_or_the_workspace() {
        for builder in [
            Client::builder().api_key("phak_secret_value"),
            Client::builder().bearer_token("oidc_secret_value"),
        ] {
            let builder = builder.workspace("secret-team");
            assert!(!format!("{builder:?}").contains("secret"));
            let client = builder.build().unwrap();
            let shown = format!("{client:?}");
            assert!(!shown.contains("secret"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
    }
}
