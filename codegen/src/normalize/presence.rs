//! Optional fields say whether they were there.

use serde_json::Value;

use super::Context;
use crate::walk::schemas;
use crate::SpecError;

/// Marks every optional (not `required`) array or map property `nullable`,
/// so that it is generated as `Option<Vec<T>>` / `Option<Map<…>>`.
///
/// typify gives such a field a plain `Vec` that is left out when empty, so
/// `[]` and "absent" were one value: a body could not send
/// `"allowed_envs": []` (which changes a compose hash, and may clear a
/// list), and an answer's `[]` came back absent. As an `Option`, `None` is
/// absent and `Some(vec![])` is `[]`, both ways. The only new value this
/// admits is `null`, read as absent.
pub fn optional_collections_are_options(
    spec: &mut Value,
    _: &mut Context,
) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        let required: Vec<String> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        for (name, property) in properties.iter_mut() {
            let Some(property) = property.as_object_mut() else {
                continue;
            };
            let collection = match property.get("type").and_then(Value::as_str) {
                Some("array") => true,
                Some("object") => !property.contains_key("properties"),
                _ => false,
            };
            if collection && !required.contains(name) {
                property.insert("nullable".into(), Value::Bool(true));
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn optional_arrays_and_maps_become_nullable_and_nothing_else_does() {
        let mut spec = json!({"paths": {}, "components": {"schemas": {"S": {
            "type": "object",
            "required": ["ids"],
            "properties": {
                "ids": {"type": "array", "items": {"type": "integer"}},
                "tags": {"type": "array", "items": {"type": "string"}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "owner": {"type": "object", "properties": {"name": {"type": "string"}}},
                "name": {"type": "string"}
            }
        }}}});
        optional_collections_are_options(&mut spec, &mut Context::default()).unwrap();
        let p = &spec["components"]["schemas"]["S"]["properties"];
        assert_eq!(p["ids"].get("nullable"), None);
        assert_eq!(p["tags"]["nullable"], true);
        assert_eq!(p["labels"]["nullable"], true);
        assert_eq!(p["owner"].get("nullable"), None);
        assert_eq!(p["name"].get("nullable"), None);
    }
}
