//! Typed async client for the [Phala Cloud](https://cloud.phala.com) API:
//! confidential VMs (CVMs) in TEEs, apps, KMS, attestations, webhooks and
//! SSH keys.
//!
//! Every operation of the API is a method on [`Client`] that returns a
//! request builder; `send()` performs the request and returns the typed body
//! in a [`ResponseValue`] or a [`Error`].
//!
//! ```no_run
//! # async fn run() -> Result<(), phala_cloud::Error> {
//! let client = phala_cloud::Client::builder()
//!     .api_key("phak_…")
//!     .build()?;
//! let kms = client.list_kms().page_size(50).send().await?;
//! for instance in &kms.items {
//!     println!("{} {}", instance.id, instance.url);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The everyday flow, deploying an app, is one call: provision, the app's
//! key verified against its KMS, env vars encrypted to it, commit, and the
//! wait until it runs (a boot error ends it at once); see [`deploy`]:
//!
//! ```no_run
//! use std::time::{Duration, Instant};
//!
//! # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
//! let deployment = client
//!     .deploy("services:\n  web:\n    image: nginx:1.27\n    ports: [\"80:80\"]\n")
//!     .name("my-web-app")
//!     .env("API_TOKEN", "s3cr3t")
//!     .wait_until_running(Instant::now() + Duration::from_secs(15 * 60))
//!     .send()
//!     .await?;
//! println!("{} runs at {:?}", deployment.cvm_id, deployment.endpoints);
//! # Ok(())
//! # }
//! ```
//!
//! Paginated operations also list everything in one line, every filter kept
//! on every page; see [`paginate`]:
//!
//! ```no_run
//! use futures::TryStreamExt;
//!
//! # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
//! let all_kms = client.list_kms().items().try_collect::<Vec<_>>().await?;
//! # Ok(())
//! # }
//! ```
//!
//! The client is generated at build time from the vendored `openapi.json`;
//! see the README's "How it is built". The few methods that are not (the
//! flows such as [`Client::deploy`], the SSE watch, conveniences on
//! generated builders) say *Hand-written* in their docs, and why.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
pub mod compose_hash;
pub mod env_encryption;
pub mod error;
mod generated;
mod handwritten;
pub mod ids;
mod kms_contract;
pub mod kms_signature;
pub mod kms_trust;
#[cfg(feature = "attestation")]
pub mod local_attestation;
#[cfg(feature = "mock")]
pub mod mock;
pub mod mr_config;
pub mod multipart;
pub mod onchain;
mod options;
pub mod paginate;
pub mod raw;
mod sse;
mod tls;
mod transport;
pub mod webhook;

pub use client::{Client, ClientBuilder};
pub use error::Error;
pub use generated::{builder, types, API_VERSION, API_VERSIONS};
pub use handwritten::{attestations, deploy, uploads, watch};
pub use options::RequestOptions;
pub use progenitor_client::{ByteStream, ResponseValue};
pub use reqwest;
pub use tls::install_tls_provider;
pub use transport::RetryPolicy;

/// Not part of the API: what the generated code names and the crate's own
/// tests read. May change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::client::ClientState;
    pub use crate::generated::{operation_version, Operation, HAND_WRITTEN_OPERATIONS, OPERATIONS};
}
