//! Whether a candidate spec may replace the vendored one: it must be JSON, and
//! the build's own generator must turn it into a client.

use phala_cloud_codegen::additions::{AdditionNote, Additions};
use phala_cloud_codegen::overlay::Unnecessary;
use phala_cloud_codegen::SpecError;
use serde_json::Value;

/// A body that is not a JSON document, with the likely reason.
#[derive(Debug, thiserror::Error)]
#[error("{label} is not a JSON document: {reason}")]
pub struct NotJson {
    /// Where the body comes from (a URL or a path).
    pub label: String,
    /// What it is instead, or where parsing stopped.
    pub reason: String,
}

/// Parses `bytes` read from `label`; `content_type` is the server's, if any,
/// and helps say what came instead of the spec.
///
/// ```
/// let err = xtask::validate::parse_json("x", b"<!doctype html>", Some("text/html")).unwrap_err();
/// assert!(err.reason.contains("HTML page"));
/// ```
pub fn parse_json(label: &str, bytes: &[u8], content_type: Option<&str>) -> Result<Value, NotJson> {
    serde_json::from_slice(bytes).map_err(|e| {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        let reason = if first.is_none() {
            "the body is empty".to_string()
        } else if first == Some(&b'<') || content_type.is_some_and(|t| t.contains("html")) {
            format!(
                "it is an HTML page (Content-Type: {}), not the spec",
                content_type.unwrap_or("none")
            )
        } else if e.is_eof() {
            format!(
                "it ends early, at line {} column {} (truncated?)",
                e.line(),
                e.column()
            )
        } else {
            match content_type {
                Some(t) => format!("{e} (Content-Type: {t})"),
                None => e.to_string(),
            }
        };
        NotJson {
            label: label.to_string(),
            reason,
        }
    })
}

/// What the generator made of an accepted spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Operations generated as client methods.
    pub operations: usize,
    /// Hand-written client methods on operations of the spec.
    pub hand_written: usize,
    /// Types generated (component schemas after pruning).
    pub types: usize,
    /// The `X-Phala-Version` the client would pin.
    pub api_version: String,
    /// Lines of generated Rust.
    pub lines: usize,
    /// The overlay's updates the spec makes unnecessary: it says the same.
    pub overlay_unnecessary: Vec<Unnecessary>,
    /// Operations typed beyond the spec (`openapi.additions.json`).
    pub added: usize,
    /// The additions the spec now describes itself, or builds on no more.
    pub additions: Vec<AdditionNote>,
}

/// Runs the very generation `build.rs` runs
/// ([`phala_cloud_codegen::generate_from_bytes`], the `mock` feature's
/// [`phala_cloud_codegen::generate_mock`] and the conformance driver) on
/// the spec's `bytes` with the `overlay`'s and the `additions`', in memory.
/// A refusal names the JSON pointer of the construct no rule handles, or the
/// overlay action whose target the spec no longer has.
///
/// ```no_run
/// let bytes = std::fs::read("openapi.json")?;
/// let overlay = std::fs::read("openapi.overlay.json")?;
/// let additions = std::fs::read("openapi.additions.json")?;
/// let accepted = xtask::validate::generates(&bytes, &overlay, &additions)?;
/// println!("{} operations", accepted.operations);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn generates(bytes: &[u8], overlay: &[u8], additions: &[u8]) -> Result<Accepted, SpecError> {
    let generated = phala_cloud_codegen::generate_from_bytes(bytes, overlay, additions)?;
    // Everything else `build.rs` generates must succeed too: the `mock`
    // feature's helpers and the conformance suite's driver.
    phala_cloud_codegen::generate_mock(&generated.normalized)?;
    phala_cloud_codegen::conformance::driver(&generated.client)?;
    let context = &generated.normalized.context;
    Ok(Accepted {
        operations: context.operations.len(),
        hand_written: context.hand_written.len(),
        types: generated
            .normalized
            .spec
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map_or(0, |s| s.len()),
        api_version: context.api_version.clone(),
        lines: generated.client.lines().count(),
        overlay_unnecessary: context.overlay_unnecessary.clone(),
        added: Additions::parse(additions)?.operations().len(),
        additions: context.additions.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_why_a_body_is_not_json() {
        let reason = |bytes: &[u8], ct| parse_json("u", bytes, ct).unwrap_err().reason;
        assert_eq!(reason(b"  \n", None), "the body is empty");
        assert!(reason(b"<html>", None).starts_with("it is an HTML page"));
        assert!(reason(b"{\"a\": [1, 2", None).contains("truncated"));
        assert!(reason(b"{\"a\" 1}", Some("application/json"))
            .contains("Content-Type: application/json"));
        assert!(parse_json("u", b"{\"openapi\": \"3.1.0\"}", None).is_ok());
    }

    #[test]
    fn refusals_carry_the_pointer() {
        let overlay = br#"{"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$", "update": {}}]}"#;
        let additions =
            br#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#;
        let err = generates(br#"{"openapi": "2.0", "paths": {}}"#, overlay, additions).unwrap_err();
        assert_eq!(err.pointer, "/openapi");
    }
}
