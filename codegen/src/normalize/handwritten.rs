//! Operations progenitor cannot generate and the hand-written layer covers.

use serde_json::Value;

use super::Context;
use crate::pointer::operation;
use crate::SpecError;

/// An operation excluded from generation, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandWritten {
    /// Lower-case HTTP method.
    pub method: &'static str,
    /// Path template.
    pub path: &'static str,
    /// The name of the hand-written client method.
    pub name: &'static str,
    /// Why progenitor cannot generate it.
    pub reason: &'static str,
}

/// The operations the hand-written layer implements instead of progenitor:
/// the `multipart/form-data` uploads and the raw-quote download and check.
///
/// A listed operation that disappears from the spec is an error rather than
/// silently ignored: the hand-written method would call an endpoint that no
/// longer exists.
pub const HAND_WRITTEN: &[HandWritten] = &[
    HandWritten {
        method: "patch",
        path: "/api/v1/cvms/{cvm_id}/docker-compose",
        name: "update_docker_compose",
        reason: "multipart/form-data request body",
    },
    HandWritten {
        method: "patch",
        path: "/api/v1/cvms/{cvm_id}/pre-launch-script",
        name: "update_pre_launch_script",
        reason: "multipart/form-data request body",
    },
    HandWritten {
        method: "post",
        path: "/api/v1/attestations/verify",
        name: "verify_attestation",
        reason: "multipart/form-data request body",
    },
    HandWritten {
        method: "get",
        path: "/api/v1/attestations/raw/{checksum}",
        name: "download_raw_attestation",
        reason:
            "answers raw bytes (application/octet-stream), which progenitor would decode as JSON",
    },
    HandWritten {
        method: "head",
        path: "/api/v1/attestations/raw/{checksum}",
        name: "raw_attestation_exists",
        reason: "HEAD: no body to decode; the answer is whether the quote exists",
    },
];

/// Removes the [`HAND_WRITTEN`] operations and records them in the context.
pub fn exclude_hand_written(spec: &mut Value, cx: &mut Context) -> Result<(), SpecError> {
    for entry in HAND_WRITTEN {
        let item = spec
            .get_mut("paths")
            .and_then(|p| p.get_mut(entry.path))
            .and_then(Value::as_object_mut);
        let removed = item.and_then(|item| item.remove(entry.method));
        if removed.is_none() {
            return Err(SpecError::at(
                operation(entry.path, entry.method),
                format!(
                    "the hand-written operation `{}` is not in the spec any more; \
                     update HAND_WRITTEN and the hand-written layer",
                    entry.name
                ),
            ));
        }
        cx.hand_written.push(*entry);
    }
    // A path item left without operations would make progenitor emit nothing
    // for it, but keep the document tidy for `cargo xtask normalized-spec`.
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        paths.retain(|_, item| {
            item.as_object()
                .is_some_and(|i| crate::walk::METHODS.iter().any(|m| i.contains_key(*m)))
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec_with_all() -> Value {
        let mut paths = serde_json::Map::new();
        for e in HAND_WRITTEN {
            paths
                .entry(e.path)
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .unwrap()
                .insert(e.method.into(), json!({"responses": {}}));
        }
        paths.insert("/api/v1/kms".into(), json!({"get": {"responses": {}}}));
        json!({"openapi": "3.1.0", "paths": paths})
    }

    #[test]
    fn removes_every_listed_operation_and_records_it() {
        let mut spec = spec_with_all();
        let mut cx = Context::default();
        exclude_hand_written(&mut spec, &mut cx).unwrap();
        assert_eq!(cx.hand_written.len(), HAND_WRITTEN.len());
        assert_eq!(spec["paths"].as_object().unwrap().len(), 1);
        assert!(spec["paths"]["/api/v1/kms"]["get"].is_object());
    }

    #[test]
    fn a_listed_operation_missing_from_the_spec_is_an_error() {
        let mut spec = spec_with_all();
        spec["paths"]["/api/v1/attestations/verify"]
            .as_object_mut()
            .unwrap()
            .remove("post");
        let err = exclude_hand_written(&mut spec, &mut Context::default()).unwrap_err();
        assert_eq!(err.pointer, "/paths/~1api~1v1~1attestations~1verify/post");
        assert!(err.message.contains("verify_attestation"));
    }
}
