//! Getting the candidate spec: over HTTP(S) or from a local file, as raw bytes.

use std::error::Error as _;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Where the docs site serves the spec.
pub const DEFAULT_URL: &str = "https://docs.phala.com/openapi.json";

/// How long one download may take, connection to last byte, unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the candidate spec comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Downloaded with a GET; only a `200 OK` answer is accepted.
    Url(String),
    /// Read from disk (offline use and tests).
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Url(url) => f.write_str(url),
            Source::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The bytes of a candidate spec, and what its server said they are.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The body, verbatim: this is what gets written.
    pub bytes: Vec<u8>,
    /// The `Content-Type` of an HTTP answer, for the error when the body is not JSON.
    pub content_type: Option<String>,
}

/// Why the candidate spec could not be obtained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The local file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The URL does not parse or is not http(s).
    #[error("{url} is not an http(s) URL: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The host name did not resolve.
    #[error("cannot resolve the host of {url} (DNS): {detail}")]
    Dns {
        /// The URL.
        url: String,
        /// The resolver's error chain.
        detail: String,
    },
    /// No TCP connection (refused, unreachable).
    #[error("cannot connect to {url}: {detail}")]
    Connect {
        /// The URL.
        url: String,
        /// The error chain.
        detail: String,
    },
    /// The TLS handshake failed (certificate, protocol).
    #[error("TLS handshake with {url} failed: {detail}")]
    Tls {
        /// The URL.
        url: String,
        /// The error chain.
        detail: String,
    },
    /// The download took longer than allowed.
    #[error("{url} did not answer within {}s", timeout.as_secs_f32())]
    Timeout {
        /// The URL.
        url: String,
        /// The limit.
        timeout: Duration,
    },
    /// The server answered with something else than `200 OK`.
    #[error("{url} answered {status}, not 200 OK")]
    Status {
        /// The URL.
        url: String,
        /// The status line's code and reason.
        status: String,
    },
    /// The connection broke after the request was sent.
    #[error("downloading {url} failed: {detail}")]
    Transport {
        /// The URL.
        url: String,
        /// The error chain.
        detail: String,
    },
}

/// Reads the candidate spec from `source`; `timeout` bounds a download.
///
/// ```no_run
/// use xtask::fetch::{fetch, Source, DEFAULT_TIMEOUT, DEFAULT_URL};
///
/// let fetched = fetch(&Source::Url(DEFAULT_URL.into()), DEFAULT_TIMEOUT)?;
/// println!("{} bytes", fetched.bytes.len());
/// # Ok::<(), xtask::fetch::FetchError>(())
/// ```
pub fn fetch(source: &Source, timeout: Duration) -> Result<Fetched, FetchError> {
    match source {
        Source::File(path) => std::fs::read(path)
            .map(|bytes| Fetched {
                bytes,
                content_type: None,
            })
            .map_err(|source| FetchError::Read {
                path: path.clone(),
                source,
            }),
        Source::Url(url) => download(url, timeout),
    }
}

fn download(url: &str, timeout: Duration) -> Result<Fetched, FetchError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| FetchError::InvalidUrl {
        url: url.into(),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(FetchError::InvalidUrl {
            url: url.into(),
            reason: format!("scheme `{}` is not http or https", parsed.scheme()),
        });
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| FetchError::Transport {
            url: url.into(),
            detail: format!("cannot start the async runtime: {e}"),
        })?;
    let classify = |e: reqwest::Error| classify(url, timeout, &e);
    // reqwest's rustls comes without a crypto provider here; an error means
    // one is installed already, which serves as well.
    let _ = rustls::crypto::ring::default_provider().install_default();
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("phala-cloud-xtask/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(classify)?;
        let response = client.get(parsed).send().await.map_err(classify)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(FetchError::Status {
                url: url.into(),
                status: response.status().to_string(),
            });
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let bytes = response.bytes().await.map_err(classify)?;
        Ok(Fetched {
            bytes: bytes.to_vec(),
            content_type,
        })
    })
}

/// Sorts a reqwest failure into the cases a maintainer acts on differently.
fn classify(url: &str, timeout: Duration, e: &reqwest::Error) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout {
            url: url.to_string(),
            timeout,
        };
    }
    sort(url.to_string(), e.is_connect(), chain(e))
}

/// reqwest flags connection failures but not their cause; the cause is in
/// the error chain, whose types (hyper-util's, rustls') are not all public,
/// so the chain's text decides between DNS, TLS and the rest.
fn sort(url: String, connect: bool, detail: String) -> FetchError {
    if !connect {
        return FetchError::Transport { url, detail };
    }
    let lower = detail.to_ascii_lowercase();
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        FetchError::Dns { url, detail }
    } else if ["tls", "certificate", "handshake", "corrupt message"]
        .iter()
        .any(|word| lower.contains(word))
    {
        FetchError::Tls { url, detail }
    } else {
        FetchError::Connect { url, detail }
    }
}

/// The causes of the error, outermost first, repeated messages once; reqwest's
/// own message ("error sending request for url (…)") only repeats the URL.
fn chain(e: &reqwest::Error) -> String {
    let Some(first) = e.source() else {
        return e.to_string();
    };
    let mut parts: Vec<String> = vec![first.to_string()];
    let mut source = first.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chains reqwest 0.13 gives (seen against 127.0.0.1 and an
    /// unresolvable name); the tests in `tests/commands.rs` meet the refused,
    /// TLS and timeout cases for real, DNS would need a resolver.
    #[test]
    fn sorts_connection_failures_by_cause() {
        let url = || "https://docs.example/openapi.json".to_string();
        let sorted = |connect, detail: &str| sort(url(), connect, detail.to_string());
        assert!(matches!(
            sorted(true, "client error (Connect): dns error: failed to lookup address information: Name or service not known"),
            FetchError::Dns { .. }
        ));
        assert!(matches!(
            sorted(
                true,
                "client error (Connect): received corrupt message of type InvalidContentType"
            ),
            FetchError::Tls { .. }
        ));
        assert!(matches!(
            sorted(
                true,
                "client error (Connect): invalid peer certificate: UnknownIssuer"
            ),
            FetchError::Tls { .. }
        ));
        assert!(matches!(
            sorted(
                true,
                "client error (Connect): tcp connect error: Connection refused (os error 111)"
            ),
            FetchError::Connect { .. }
        ));
        assert!(matches!(
            sorted(false, "connection closed before message completed"),
            FetchError::Transport { .. }
        ));
    }

    #[test]
    fn only_http_urls_are_fetched() {
        for url in ["ftp://docs.example/openapi.json", "not a url"] {
            let err = fetch(&Source::Url(url.into()), DEFAULT_TIMEOUT).unwrap_err();
            assert!(matches!(err, FetchError::InvalidUrl { .. }), "{err}");
        }
    }

    #[test]
    fn a_missing_file_is_a_read_error() {
        let err = fetch(
            &Source::File("/nonexistent/openapi.json".into()),
            DEFAULT_TIMEOUT,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/openapi.json"),
            "{err}"
        );
    }
}
