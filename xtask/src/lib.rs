//! Maintenance commands for the phala-cloud workspace, run as `cargo xtask <command>`.
//!
//! - `update-spec` refreshes `openapi.json` from the docs site, but only with a
//!   spec the build's own generator ([`phala_cloud_codegen::generate_from_bytes`])
//!   turns into a client, and reports what changed in the API;
//! - `normalized-spec` prints the spec as progenitor is fed it;
//! - `build-time` measures what the crate costs a dependent's clean build
//!   next to the bare reqwest stack ([`build_time`]).
//!
//! Each step is its own module, so tests drive them one by one and
//! [`cli::run`] only wires them to the command line.

pub mod build_time;
pub mod cli;
pub mod fetch;
pub mod normalized;
pub mod report;
pub mod update;
pub mod validate;
pub mod write;
