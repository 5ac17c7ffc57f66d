//! The page size each paginated operation's streams ask for, read from the
//! spec before `document_defaults` moves the defaults into descriptions.
//! Which operations page, and by which parameter, is the operation table's
//! ([`crate::operations`]).

use serde_json::Value;

use super::Context;
use crate::operations::TABLE;
use crate::pointer::{join, operation};
use crate::SpecError;

/// Records, per paginated row of the operation table whose operation the
/// spec has, its size parameter's `maximum` (the streams ask for as many
/// items as the server allows), or its `default` where the row says why
/// the spec gives no maximum. A size parameter that is gone, or has neither,
/// is an error naming its pointer. Runs after `name_operations`.
pub fn read_page_sizes(spec: &mut Value, cx: &mut Context) -> Result<(), SpecError> {
    for row in TABLE {
        let Some(paging) = &row.paging else { continue };
        let Some(op) = cx.operations.iter().find(|o| o.name == row.name) else {
            continue;
        };
        let (name, size) = (row.name, paging.size);
        let params_ptr = join(&operation(&op.path, &op.method), "parameters");
        let params = spec
            .pointer(&params_ptr)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let found = params
            .iter()
            .position(|p| p.get("name").and_then(Value::as_str) == Some(size));
        let Some(i) = found else {
            return Err(SpecError::at(
                params_ptr,
                format!(
                    "`{name}` pages by `{size}`, which is not one of its parameters; update \
                     its row of the operation table (codegen/src/operations.rs)"
                ),
            ));
        };
        let schema_ptr = join(&join(&params_ptr, &i.to_string()), "schema");
        let read = |keyword| {
            spec.pointer(&join(&schema_ptr, keyword))
                .and_then(Value::as_u64)
        };
        let page_size = match (read("maximum"), paging.no_maximum) {
            (Some(max), None) => max,
            (Some(_), Some(_)) => {
                return Err(SpecError::at(
                    join(&schema_ptr, "maximum"),
                    format!(
                        "`{name}`'s `{size}` has a maximum now: drop `no_maximum` from its row \
                         of the operation table (codegen/src/operations.rs)"
                    ),
                ))
            }
            (None, Some(_)) => read("default").or(paging.chosen_size).ok_or_else(|| {
                SpecError::at(
                    &schema_ptr,
                    format!(
                        "`{name}`'s `{size}` has neither a maximum nor a default: no page \
                         size to ask for"
                    ),
                )
            })?,
            (None, None) => {
                return Err(SpecError::at(
                    schema_ptr,
                    format!(
                        "`{name}`'s `{size}` has no maximum: say in its row of the operation \
                         table (codegen/src/operations.rs, `no_maximum`) why its default is \
                         the page size"
                    ),
                ))
            }
        };
        cx.page_sizes.push((name.to_string(), page_size));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::OperationName;
    use serde_json::json;

    fn run(kms_size: Value, deliveries_size: Value) -> Result<Context, SpecError> {
        let op = |name: &str, path: &str| OperationName {
            operation_id: name.into(),
            method: "get".into(),
            path: path.into(),
            name: name.into(),
        };
        let mut cx = Context {
            operations: vec![
                op("list_kms", "/api/v1/kms"),
                op("list_webhook_deliveries", "/d"),
            ],
            ..Context::default()
        };
        let mut spec = json!({"paths": {
            "/api/v1/kms": {"get": {"parameters": [
                {"name": "page", "in": "query"},
                {"name": "page_size", "in": "query", "schema": kms_size}
            ]}},
            "/d": {"get": {"parameters": [{"name": "limit", "in": "query", "schema": deliveries_size}]}}
        }});
        read_page_sizes(&mut spec, &mut cx).map(|()| cx)
    }

    #[test]
    fn the_maximum_or_the_default_the_table_explains() {
        let cx = run(
            json!({"type": "integer", "maximum": 100, "default": 20}),
            json!({"type": "integer", "default": 50}),
        )
        .unwrap();
        assert_eq!(
            cx.page_sizes,
            [
                ("list_kms".to_string(), 100),
                ("list_webhook_deliveries".to_string(), 50)
            ]
        );
    }

    #[test]
    fn a_page_size_without_maximum_needs_a_reason() {
        let err = run(
            json!({"type": "integer", "default": 20}),
            json!({"type": "integer", "default": 50}),
        )
        .unwrap_err();
        assert_eq!(err.pointer, "/paths/~1api~1v1~1kms/get/parameters/1/schema");
        assert!(err
            .message
            .contains("`list_kms`'s `page_size` has no maximum"));
    }

    #[test]
    fn a_new_maximum_makes_the_reason_stale() {
        let err = run(
            json!({"type": "integer", "maximum": 100}),
            json!({"type": "integer", "maximum": 200, "default": 50}),
        )
        .unwrap_err();
        assert!(err.message.contains("drop `no_maximum`"), "{}", err.message);
    }
}
