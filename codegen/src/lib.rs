//! The spec normalizer and code generator behind the `phala-cloud` crate.
//!
//! `phala-cloud`'s `build.rs` and its `xtask` both call [`generate`], so the
//! spec that `cargo xtask update-spec` accepts is exactly the spec the build
//! can turn into a client. The pipeline is:
//!
//! 1. [`normalize::normalize`] applies the [`overlay`] beside the spec (what
//!    the API does that the spec does not say), then lowers the OpenAPI 3.1
//!    document into the OpenAPI 3.0.3 subset progenitor accepts, one named
//!    rule at a time;
//! 2. [`generate`] feeds the result to progenitor (builder interface, merged
//!    tags), runs the named [`rewrites::REWRITES`] over the tokens with
//!    `syn` (each checked to fire as often as the spec says), appends what
//!    the [`operations`] table says (retry lookup, pagination, hand-written
//!    operations) and pretty-prints the result;
//! 3. [`generate_mock`] (only for `phala-cloud`'s `mock` feature) runs
//!    progenitor's `httpmock` generator on the same normalized spec with the
//!    same settings, and reshapes its output with `syn`
//!    ([`MOCK_REWRITES`]).
//!
//! Every refusal is a [`SpecError`] naming the JSON pointer of the construct
//! that no rule handles, never a panic inside a generator.

pub mod additions;
pub mod conformance;
mod docs;
mod error;
mod from_table;
mod generate;
pub mod inspect;
mod jsonpath;
mod mock;
pub mod normalize;
pub mod operations;
pub mod overlay;
mod owned_builders;
mod passes;
mod pointer;
pub mod reference;
pub mod rewrites;
mod walk;

pub use error::SpecError;
pub use generate::{generate, generate_from_bytes, Generated};
pub use mock::{generate_mock, MOCK_REWRITES};
