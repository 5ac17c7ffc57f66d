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
//! see the README's "How it is built".

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod attestations;
mod body;
mod budget;
pub mod client;
pub mod compose_hash;
pub mod env_encryption;
pub mod error;
mod generated;
mod hex32;
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
pub mod paginate;
mod retry;
mod send;
mod sse;
mod transport;
pub mod uploads;
pub mod watch;
pub mod webhook;

pub use client::{Client, ClientBuilder, ClientState};
pub use error::Error;
pub use generated::{
    builder, types, Operation, API_VERSION, API_VERSIONS, HAND_WRITTEN_OPERATIONS, OPERATIONS,
};
pub use progenitor_client::{ByteStream, ResponseValue};
pub use reqwest;
pub use retry::RetryPolicy;
