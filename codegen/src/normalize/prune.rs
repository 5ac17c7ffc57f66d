//! Only schemas reachable from an operation are generated.

use serde_json::Value;

use super::Context;
use crate::walk::reachable_schemas;
use crate::SpecError;

/// Removes every component schema no operation reaches through `$ref`s.
/// The upstream document carries several hundred internal leftovers; pruning
/// them divides the generated code, and the build time, by about two.
pub fn prune_unreachable(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    let reachable = reachable_schemas(spec)?;
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.retain(|name, _| reachable.contains(name));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_transitively_referenced_schemas_only() {
        let mut spec = json!({
            "paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}}},
            "components": {"schemas": {
                "A": {"properties": {"b": {"$ref": "#/components/schemas/B"}}},
                "B": {"items": {"$ref": "#/components/schemas/A"}},
                "Orphan": {"properties": {"a": {"$ref": "#/components/schemas/A"}}}
            }}
        });
        prune_unreachable(&mut spec, &mut Context::default()).unwrap();
        let names: Vec<_> = spec["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(names, ["A", "B"]);
    }

    #[test]
    fn a_dangling_reference_is_an_error() {
        let mut spec = json!({
            "paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Gone"}}}}}}}},
            "components": {"schemas": {}}
        });
        let err = prune_unreachable(&mut spec, &mut Context::default()).unwrap_err();
        assert_eq!(err.pointer, "/components/schemas/Gone");
    }
}
