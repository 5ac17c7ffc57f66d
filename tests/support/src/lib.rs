//! The helpers of phala-cloud's integration tests, in one crate so that
//! each test binary links what it uses and nothing is compiled twice.
//! Every server here listens on 127.0.0.1 only: the tests never touch the
//! internet.
//!
//! | module | what it is for |
//! |---|---|
//! | this crate's root | the API key every test client sends, such a client, the fixtures under `tests/fixtures/`, as text or JSON |
//! | [`http`] | HTTP/1.1 on the wire: a request as a server received it ([`Recorded`]), answers spelled out byte for byte |
//! | [`scripted`] | a server answering each connection with the next scripted answer, for sequences httpmock cannot express (a 429 then a 200, an event stream in pieces, a dropped connection) |
//! | [`routed`] | a server answering every request in its own task, so that answers overlap and come out of order |
//! | [`multipart`] | a strict `multipart/form-data` parser, to read uploads back |
//! | [`hostile`] | a server that misbehaves on purpose (endless or lying bodies, silence), bounded itself, for the limits tests |
//! | [`spec`] | `openapi.json` and its overlay, read at test time |
//! | [`schema`] | the JSON Schema validator (with [`phala_cloud_codegen::reference`] following `$ref`s) every test checking a body against the spec uses |
//!
//! Beside it, `tests/support/id_contract.rs` holds the contract every ID
//! type keeps, included by path into `tests/ids.rs` and the fuzz target
//! (outside this workspace).

pub mod hostile;
pub mod http;
pub mod multipart;
pub mod routed;
pub mod schema;
pub mod scripted;
pub mod spec;

pub use http::{json, response, Recorded};
pub use multipart::{parse_multipart, FormPart};
pub use routed::{json_keep_alive, Log, RoutedServer};
pub use scripted::{sse_head, sse_head_then_drop, ScriptedServer};

/// The API key every test client sends.
pub const KEY: &str = "phak_test";

/// A client of `url` with the retry policy `retry`, sending [`KEY`].
pub fn client(url: &str, retry: phala_cloud::RetryPolicy) -> phala_cloud::Client {
    phala_cloud::Client::builder()
        .api_key(KEY)
        .base_url(url)
        .retry_policy(retry)
        .build()
        .unwrap()
}

/// The text of `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `tests/fixtures/<name>`, parsed as JSON.
pub fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(name)).unwrap_or_else(|e| panic!("tests/fixtures/{name}: {e}"))
}
