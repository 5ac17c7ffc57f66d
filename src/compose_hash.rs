//! The compose hash: SHA-256 of an app compose in canonical JSON, the value
//! an app's on-chain allow-list and the `X-Compose-Hash` header carry.
//!
//! The canonical form is the one dstack and the Phala Cloud docs use:
//!
//! 1. preprocessing of the top-level object: with `"runner": "bash"` the
//!    `docker_compose_file` key is dropped, with `"runner": "docker-compose"`
//!    the `bash_script` key; a `pre_launch_script` that is `null`, `""`,
//!    `false` or `0` is dropped;
//! 2. object keys sorted recursively (array order is kept);
//! 3. JSON indented by four spaces, with `,` and `:` as separators and
//!    non-ASCII characters written as UTF-8 — Python's
//!    `json.dumps(d, sort_keys=True, indent=4, separators=(",", ":"), ensure_ascii=False)`;
//! 4. SHA-256 of those bytes.
//!
//! The official JS and Python SDKs also export a *compact* variant under the
//! name `getComposeHash` / `get_compose_hash`, which gives a different hash;
//! this crate implements only the canonical one. The JS implementation also
//! rewrites `": ` inside string values (it post-processes the indented text
//! with a regular expression), so for a value containing `": ` it disagrees
//! with Python and with this crate; the hash the server returns is the
//! authority. Floating-point numbers are written as `serde_json` writes them,
//! which may differ from Python for very large or small values; app composes
//! hold none.
//!
//! ```
//! use phala_cloud::compose_hash::ComposeHash;
//!
//! let compose = serde_json::json!({
//!     "name": "demo",
//!     "runner": "docker-compose",
//!     "docker_compose_file": "services: {}",
//!     "bash_script": "dropped for the docker-compose runner",
//! });
//! let hash = ComposeHash::of_json(&compose);
//! assert_eq!(hash.to_string().len(), 64);
//! let bytes32 = hash.to_bytes()?; // what `addComposeHash(bytes32)` takes on chain
//! # assert_eq!(phala_cloud::ids::ComposeHash::from(bytes32), hash);
//! # Ok::<(), phala_cloud::ids::ParseIdError>(())
//! ```
//!
//! A compose built as a [`types::AppCompose`](crate::types::AppCompose)
//! is sent as it serializes — the fields set, the keys of its `extra` map,
//! nothing filled in — so the hash of what the client sends for it is
//! `ComposeHash::of_json(&serde_json::to_value(&compose)?)`. There is no
//! typed `compose_hash()` method: a compose decoded from the server's JSON
//! does not re-encode an optional field the server wrote as `null` (an unset
//! `Option` is left out), and the `null` is part of the hash. Hash the JSON
//! as it came.
//!
//! ```
//! use phala_cloud::compose_hash::ComposeHash;
//! use phala_cloud::types::AppCompose;
//!
//! let compose = AppCompose::builder()
//!     .name("demo")
//!     .docker_compose_file("services: {}")
//!     .allowed_envs(Vec::<String>::new());
//! let compose = AppCompose::try_from(compose).map_err(|e| e.to_string())?;
//! let sent = serde_json::to_value(&compose)?;
//! assert_eq!(
//!     sent,
//!     serde_json::json!({"name": "demo", "docker_compose_file": "services: {}", "allowed_envs": []})
//! );
//! let hash = ComposeHash::of_json(&sent);
//! # assert_eq!(hash.to_string().len(), 64);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use crate::ids::ComposeHash;

impl ComposeHash {
    /// The compose hash of an app compose given as JSON: the canonical form
    /// of [`canonical_json`], hashed with SHA-256.
    ///
    /// Use this for a compose as the server or a file holds it: every key
    /// present is hashed, including ones this crate's types do not know.
    pub fn of_json(app_compose: &Value) -> Self {
        let digest: [u8; 32] = Sha256::digest(canonical_json(app_compose).as_bytes()).into();
        Self::from(digest)
    }
}

/// The canonical JSON text of an app compose: preprocessed, keys sorted
/// recursively, indented by four spaces, `,`/`:` separators, UTF-8 (see the
/// [module docs](self)).
///
/// ```
/// let compose = serde_json::json!({"name": "é", "features": ["kms"], "runner": "bash",
///     "docker_compose_file": "dropped", "pre_launch_script": ""});
/// assert_eq!(
///     phala_cloud::compose_hash::canonical_json(&compose),
///     "{\n    \"features\":[\n        \"kms\"\n    ],\n    \"name\":\"é\",\n    \"runner\":\"bash\"\n}"
/// );
/// ```
pub fn canonical_json(app_compose: &Value) -> String {
    let mut compose = app_compose.clone();
    if let Value::Object(map) = &mut compose {
        match map.get("runner").and_then(Value::as_str) {
            Some("bash") => {
                map.remove("docker_compose_file");
            }
            Some("docker-compose") => {
                map.remove("bash_script");
            }
            _ => {}
        }
        if map.get("pre_launch_script").is_some_and(is_falsy) {
            map.remove("pre_launch_script");
        }
    }
    let mut out = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut out, CanonicalFormatter::new());
    // A `Value` always serializes: its keys are strings and its numbers finite.
    Sorted(&compose)
        .serialize(&mut serializer)
        .expect("a serde_json::Value serializes into a Vec");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// JavaScript's falsiness, which decides whether the official SDKs drop
/// `pre_launch_script`.
fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(_) | Value::Object(_) => false,
    }
}

/// Serializes a value with every object's keys in sorted order, whatever
/// order the map keeps (`serde_json`'s `preserve_order` may be on).
struct Sorted<'a>(&'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let mut out = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    out.serialize_entry(key, &Sorted(value))?;
                }
                out.end()
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(Sorted)),
            scalar => scalar.serialize(serializer),
        }
    }
}

/// `serde_json`'s four-space pretty printer with `:` instead of `": "`
/// between a key and its value.
struct CanonicalFormatter(PrettyFormatter<'static>);

impl CanonicalFormatter {
    fn new() -> Self {
        Self(PrettyFormatter::with_indent(b"    "))
    }
}

impl Formatter for CanonicalFormatter {
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b":")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}
