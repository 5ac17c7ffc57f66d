//! What the hand-written layer implements on an operation of the spec,
//! beside what the generator makes of it: only what the spec cannot
//! describe. The operation table ([`crate::operations`]) says which; this
//! rule checks each is still in the spec and records where it is.

use serde_json::Value;

use super::Context;
use crate::operations::TABLE;
use crate::SpecError;

/// A hand-written client method on an operation of the spec, and why it is
/// not generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandWritten {
    /// Lower-case HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// The name of the hand-written client method.
    pub name: &'static str,
    /// Why it cannot be generated.
    pub reason: &'static str,
}

/// Records every hand-written method of the operation table in the context,
/// on the operation it uses. The operation is generated too, as the spec
/// describes it (`GET /cvms/{cvm_id}/state` gives the current state); the
/// hand-written method uses it in a way the spec does not describe.
///
/// A listed operation that disappears from the spec is an error rather than
/// silently ignored: the hand-written method would call an endpoint that no
/// longer exists. Runs after `name_operations`, which names the operations
/// the table is keyed by.
pub fn check_hand_written(_: &mut Value, cx: &mut Context) -> Result<(), SpecError> {
    for entry in TABLE {
        let Some(hand) = entry.hand_written else {
            continue;
        };
        let Some(op) = cx.operations.iter().find(|o| o.name == entry.name) else {
            return Err(SpecError::at(
                "/paths",
                format!(
                    "the operation `{}` of the hand-written `{}` is not in the spec any more; \
                     update its row of the operation table (codegen/src/operations.rs) and \
                     the hand-written layer",
                    entry.name, hand.method
                ),
            ));
        };
        cx.hand_written.push(HandWritten {
            method: op.method.clone(),
            path: op.path.clone(),
            name: hand.method,
            reason: hand.reason,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::OperationName;

    fn context_with(name: &str) -> Context {
        Context {
            operations: vec![OperationName {
                operation_id: format!("{name}_api_v1_x_get"),
                method: "get".into(),
                path: "/api/v1/cvms/{cvm_id}/state".into(),
                name: name.into(),
            }],
            ..Context::default()
        }
    }

    #[test]
    fn records_every_listed_operation_and_leaves_it_for_the_generator() {
        let mut spec = serde_json::json!({"paths": {}});
        let before = spec.clone();
        let mut cx = context_with("get_cvm_state");
        check_hand_written(&mut spec, &mut cx).unwrap();
        assert_eq!(cx.hand_written.len(), 1);
        assert_eq!(cx.hand_written[0].name, "watch_cvm_state");
        assert_eq!(cx.hand_written[0].path, "/api/v1/cvms/{cvm_id}/state");
        assert_eq!(spec, before);
    }

    #[test]
    fn a_listed_operation_missing_from_the_spec_is_an_error() {
        let mut cx = context_with("get_cvm");
        let err = check_hand_written(&mut serde_json::json!({}), &mut cx).unwrap_err();
        assert_eq!(err.pointer, "/paths");
        assert!(err.message.contains("watch_cvm_state"), "{}", err.message);
    }
}
