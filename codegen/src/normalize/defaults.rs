//! `default` values: the server's business, written into the docs.

use serde_json::Value;

use super::Context;
use crate::walk::schemas;
use crate::SpecError;

/// Moves every `default` into the schema's description ("Default: `"zfs"`
/// (the server's; this client does not fill it in)."), and drops it from
/// the schema.
///
/// typify turns a default into a non-optional field filled in on decoding
/// and always written on encoding, so a body built from two fields sent
/// today's server defaults for fifteen more (`storage_fs: "zfs"`,
/// `listed: true`, `token: ""`), pinning them into every client, and an
/// answer that left a field out came back with it. Without the default the
/// field is optional: unset, it is not sent, and absent, it stays absent;
/// the server applies its own default, whatever it is by then. (typify also
/// refuses some defaults outright — on a single-value enum, under
/// `allOf`/`anyOf`/`oneOf` — without saying where.) A `null` default only
/// says "optional" and is dropped without a note.
pub fn document_defaults(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        let Some(default) = schema.remove("default") else {
            return Ok(());
        };
        if default.is_null() {
            return Ok(());
        }
        let note = format!("Default: `{default}` (the server's; this client does not fill it in).");
        let description = match schema.get("description").and_then(Value::as_str) {
            Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
            _ => note,
        };
        schema.insert("description".into(), Value::from(description));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(schema: Value) -> Value {
        let mut spec = json!({"paths": {}, "components": {"schemas": {"S": schema}}});
        document_defaults(&mut spec, &mut Context::default()).unwrap();
        spec["components"]["schemas"]["S"].take()
    }

    #[test]
    fn a_default_becomes_a_sentence_of_the_description() {
        assert_eq!(
            run(
                json!({"type": "string", "enum": ["ext4", "zfs"], "default": "zfs", "description": "Filesystem."})
            ),
            json!({"type": "string", "enum": ["ext4", "zfs"], "description": "Filesystem.\n\nDefault: `\"zfs\"` (the server's; this client does not fill it in)."})
        );
        assert_eq!(
            run(
                json!({"type": "array", "items": {"type": "string"}, "default": ["kms", "tproxy-net"]})
            ),
            json!({"type": "array", "items": {"type": "string"}, "description": "Default: `[\"kms\",\"tproxy-net\"]` (the server's; this client does not fill it in)."})
        );
        assert_eq!(
            run(json!({"type": "string", "default": ""})),
            json!({"type": "string", "description": "Default: `\"\"` (the server's; this client does not fill it in)."})
        );
    }

    #[test]
    fn defaults_are_removed_everywhere_null_ones_without_a_note() {
        let out = run(json!({"type": "object", "properties": {
            "a": {"type": "string", "nullable": true, "default": null},
            "b": {"allOf": [{"$ref": "#/x"}], "default": {"a": 1}},
            "c": {"type": "string", "enum": ["node"], "default": "node"}
        }}));
        assert_eq!(
            out["properties"]["a"],
            json!({"type": "string", "nullable": true})
        );
        assert!(out["properties"]["b"].get("default").is_none());
        assert!(out["properties"]["c"].get("default").is_none());
        assert!(!out.to_string().contains("\"default\""), "{out}");
    }
}
