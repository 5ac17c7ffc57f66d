//! Typed mocks of the API for your own tests (feature `mock`).
//!
//! [`MockServerExt`] adds a method per operation to
//! [`httpmock::MockServer`], named like the client's: `server.list_kms(|when,
//! then| …)` mocks `GET /api/v1/kms`. `when` matches the request with the
//! parameters' own types (path and query parameters, the JSON body), `then`
//! answers with the type the client decodes: `ok(&body)` for success,
//! `client_error(status, &error_body)` and `server_error(status,
//! &error_body)` for errors, with a
//! [`types::ApiErrorBody`](crate::types::ApiErrorBody) (a status outside 4xx,
//! respectively 5xx, panics, as httpmock does on any misconfigured mock).
//! `into_inner()` on either gives the plain `httpmock` value, to send what
//! the spec does not allow. [`client`] returns a [`Client`] pointed at the
//! server, and [`sample`] has realistic objects to serve; [`deploy`] mocks
//! the deploy flows (a test KMS, provision and commit answers, 465 bodies,
//! state streams), and [`webhook`] signs webhook deliveries and has a sample
//! of every event.
//!
//! Everything is generated from the same spec as the client, so a mock
//! that compiles asks for paths, parameters and bodies the client sends.
//!
//! ```
//! use std::num::NonZeroU64;
//! use phala_cloud::mock::{self, httpmock::MockServer, sample, MockServerExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), phala_cloud::Error> {
//! let server = MockServer::start_async().await;
//! let list = server.list_kms(|when, then| {
//!     when.page_size(NonZeroU64::new(2));
//!     then.ok(&sample::kms_page(&sample::kms_instances(), 1, 2));
//! });
//! server.get_cvm(|when, then| {
//!     when.cvm_id("cvm_missing");
//!     then.client_error(404, &sample::error("CVM not found"));
//! });
//!
//! let client = mock::client(&server);
//! let page = client.list_kms().page_size(2).send().await?;
//! assert_eq!((page.items.len(), page.total), (2, 7));
//! let err = client.get_cvm().cvm_id("cvm_missing").send().await.unwrap_err();
//! assert!(err.is_not_found());
//! list.assert_async().await;
//! # Ok(())
//! # }
//! ```

pub mod deploy;
mod generated;
mod query;
pub mod sample;
pub mod webhook;

pub use generated::{operations, MockServerExt};
pub use httpmock::{self, MockServer};

use crate::{Client, ClientBuilder, RetryPolicy};

/// A [`Client`] for `server`, configured as [`client_builder`] does.
///
/// ```
/// let server = phala_cloud::mock::MockServer::start();
/// let client = phala_cloud::mock::client(&server);
/// assert_eq!(client.base_url(), server.base_url());
/// ```
pub fn client(server: &MockServer) -> Client {
    client_builder(server)
        .build()
        // Cannot fail: the key is a fixed header-safe string and the URL is
        // httpmock's `http://host:port`, the two things `build` checks.
        .expect("a client for an httpmock server builds")
}

/// Where an example or a demo runs: the account of `PHALA_CLOUD_API_KEY`
/// when it is set and not empty (through [`Client::from_env`]), otherwise a
/// mock of the API on 127.0.0.1 that `seed` prepares. The mock lives as
/// long as this value: keep it while its client is in use.
///
/// ```
/// # async fn run() -> Result<(), phala_cloud::Error> {
/// use phala_cloud::mock::{sample, Demo, MockServerExt};
///
/// let demo = Demo::start(|server| {
///     server.list_kms(|_, then| {
///         then.ok(&sample::kms_page(&sample::kms_instances(), 1, 100));
///     });
/// })
/// .await?;
/// if demo.is_mock() {
///     println!("no key: on a mock at {}", demo.client().base_url());
/// }
/// let kms = demo.client().list_kms().send().await?;
/// # let _ = kms;
/// # Ok(())
/// # }
/// ```
pub struct Demo {
    client: Client,
    server: Option<MockServer>,
}

impl Demo {
    /// The real API if `PHALA_CLOUD_API_KEY` is set, else a mock seeded by
    /// `seed`; an error only from [`Client::from_env`].
    pub async fn start(seed: impl FnOnce(&MockServer)) -> Result<Self, crate::Error> {
        let has_key = std::env::var("PHALA_CLOUD_API_KEY").is_ok_and(|key| !key.is_empty());
        if has_key {
            return Ok(Self {
                client: Client::from_env()?,
                server: None,
            });
        }
        let server = MockServer::start_async().await;
        seed(&server);
        Ok(Self {
            client: client(&server),
            server: Some(server),
        })
    }

    /// The client: of the account, or of the mock.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether the client calls the mock.
    pub fn is_mock(&self) -> bool {
        self.server.is_some()
    }
}

/// A [`ClientBuilder`] for `server`: a placeholder API key, the server's
/// URL, and no retries, so that each call is one request to the mock
/// (set a [`RetryPolicy`] to test retries). A request that no mock
/// matches fails with [`Error::MockUnmatched`](crate::Error::MockUnmatched),
/// not with httpmock's 404, which the code under test could take for the
/// API's "not found".
///
/// ```
/// use phala_cloud::RetryPolicy;
///
/// let server = phala_cloud::mock::MockServer::start();
/// let client = phala_cloud::mock::client_builder(&server)
///     .retry_policy(RetryPolicy::default())
///     .build()?;
/// # Ok::<(), phala_cloud::Error>(())
/// ```
pub fn client_builder(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .api_key("phak_mock")
        .base_url(server.base_url())
        .retry_policy(RetryPolicy::none())
        .for_mock_server()
}

/// The body of httpmock's 404 for a request that no mock matched.
const UNMATCHED_MESSAGE: &str = "Request did not match any route or mock";

/// Whether `body` is httpmock's answer to a request that no mock matched.
pub(crate) fn is_unmatched_answer(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Unmatched {
        message: String,
    }
    serde_json::from_slice::<Unmatched>(body).is_ok_and(|u| u.message == UNMATCHED_MESSAGE)
}
