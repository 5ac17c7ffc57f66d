//! What the hand-written layer implements on an operation of the spec,
//! beside what the generator makes of it: only what the spec cannot
//! describe.

use serde_json::Value;

use super::Context;
use crate::pointer::operation;
use crate::SpecError;

/// A hand-written client method on an operation of the spec, and why it is
/// not generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandWritten {
    /// Lower-case HTTP method.
    pub method: &'static str,
    /// Path template.
    pub path: &'static str,
    /// The name of the hand-written client method.
    pub name: &'static str,
    /// Why it cannot be generated.
    pub reason: &'static str,
}

/// The hand-written client methods. The operation each uses is generated
/// too, as the spec describes it (`GET /cvms/{cvm_id}/state` gives the
/// current state); the hand-written method uses it in a way the spec does
/// not describe.
///
/// A listed operation that disappears from the spec is an error rather than
/// silently ignored: the hand-written method would call an endpoint that no
/// longer exists.
pub const HAND_WRITTEN: &[HandWritten] = &[HandWritten {
    method: "get",
    path: "/api/v1/cvms/{cvm_id}/state",
    name: "watch_cvm_state",
    reason: "with `target`, the answer is a Server-Sent Events stream, which the spec declares \
             as one JSON answer: the watch reads its events as they come, reconnects, and ends \
             at the target state",
}];

/// Checks that every [`HAND_WRITTEN`] operation is in the spec and records
/// it in the context.
pub fn check_hand_written(spec: &mut Value, cx: &mut Context) -> Result<(), SpecError> {
    for entry in HAND_WRITTEN {
        let found = spec
            .get("paths")
            .and_then(|p| p.get(entry.path))
            .and_then(|item| item.get(entry.method))
            .is_some();
        if !found {
            return Err(SpecError::at(
                operation(entry.path, entry.method),
                format!(
                    "the operation of the hand-written `{}` is not in the spec any more; \
                     update HAND_WRITTEN and the hand-written layer",
                    entry.name
                ),
            ));
        }
        cx.hand_written.push(*entry);
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
    fn records_every_listed_operation_and_leaves_it_for_the_generator() {
        let mut spec = spec_with_all();
        let before = spec.clone();
        let mut cx = Context::default();
        check_hand_written(&mut spec, &mut cx).unwrap();
        assert_eq!(cx.hand_written.len(), HAND_WRITTEN.len());
        assert_eq!(spec, before);
    }

    #[test]
    fn a_listed_operation_missing_from_the_spec_is_an_error() {
        let mut spec = spec_with_all();
        spec["paths"]["/api/v1/cvms/{cvm_id}/state"]
            .as_object_mut()
            .unwrap()
            .remove("get");
        let err = check_hand_written(&mut spec, &mut Context::default()).unwrap_err();
        assert_eq!(err.pointer, "/paths/~1api~1v1~1cvms~1{cvm_id}~1state/get");
        assert!(err.message.contains("watch_cvm_state"));
    }
}
