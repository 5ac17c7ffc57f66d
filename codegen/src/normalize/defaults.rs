//! `default` values typify refuses.

use serde_json::Value;

use super::Context;
use crate::walk::schemas;
use crate::SpecError;

/// Drops the defaults typify rejects with "value does not conform to the
/// given schema" (without saying where), or that mean nothing in Rust:
/// - on a single-value enum (a lowered `const`): the value is implied;
/// - under `allOf`/`anyOf`/`oneOf`: typify cannot check them there;
/// - `null`: an optional field already defaults to `None`;
/// - a value of another JSON type than the schema's `type`.
///
/// A default only fills a field the server omitted, so dropping one never
/// changes what is sent or what a present field decodes to.
pub fn drop_rejected_defaults(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        let Some(default) = schema.get("default") else {
            return Ok(());
        };
        let single_enum = schema
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|e| e.len() == 1);
        let composite = ["allOf", "anyOf", "oneOf"]
            .iter()
            .any(|k| schema.contains_key(*k));
        let mismatched = match schema.get("type").and_then(Value::as_str) {
            Some("string") => !default.is_string(),
            Some("integer") => !(default.is_i64() || default.is_u64()),
            Some("number") => !default.is_number(),
            Some("boolean") => !default.is_boolean(),
            Some("array") => !default.is_array(),
            Some("object") => !default.is_object(),
            _ => false,
        };
        if single_enum || composite || default.is_null() || mismatched {
            schema.remove("default");
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(schema: Value) -> Value {
        let mut spec = json!({"paths": {}, "components": {"schemas": {"S": schema}}});
        drop_rejected_defaults(&mut spec, &mut Context::default()).unwrap();
        spec["components"]["schemas"]["S"].take()
    }

    #[test]
    fn drops_single_value_enum_default() {
        assert_eq!(
            run(json!({"type": "string", "enum": ["node"], "default": "node"})),
            json!({"type": "string", "enum": ["node"]})
        );
    }

    #[test]
    fn drops_composite_null_and_mismatched_defaults() {
        assert_eq!(
            run(json!({"allOf": [{"$ref": "#/x"}], "default": {"a": 1}})),
            json!({"allOf": [{"$ref": "#/x"}]})
        );
        assert_eq!(
            run(json!({"type": "string", "nullable": true, "default": null})),
            json!({"type": "string", "nullable": true})
        );
        assert_eq!(
            run(json!({"type": "integer", "default": "5"})),
            json!({"type": "integer"})
        );
        assert_eq!(
            run(json!({"type": "integer", "default": 1.5})),
            json!({"type": "integer"})
        );
    }

    #[test]
    fn keeps_valid_defaults() {
        for schema in [
            json!({"type": "string", "default": "0.000000"}),
            json!({"type": "integer", "default": 20}),
            json!({"type": "boolean", "default": false}),
            json!({"type": "string", "enum": ["a", "b"], "default": "a"}),
        ] {
            assert_eq!(run(schema.clone()), schema);
        }
    }
}
