//! Request bodies: which content types go through progenitor, and the shape
//! of optional bodies.

use serde_json::{Map, Value};

use super::Context;
use crate::pointer::join;
use crate::walk::operations;
use crate::SpecError;

/// Every request body left after `form_bodies` must be JSON or a URL-encoded
/// form, which progenitor encodes: it panics on anything else ("unexpected
/// content type"), so anything else is refused here with its pointer.
pub fn reject_unsupported_bodies(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    operations(spec, &mut |op| {
        let Some(content) = op.op.get("requestBody").and_then(|b| b.get("content")) else {
            return Ok(());
        };
        let content = content.as_object().ok_or_else(|| {
            SpecError::at(
                join(&op.pointer, "requestBody"),
                "`content` is not an object",
            )
        })?;
        for media in content.keys() {
            if media != "application/json" && media != super::forms::URLENCODED {
                return Err(SpecError::at(
                    join(&join(&join(&op.pointer, "requestBody"), "content"), media),
                    format!(
                        "request body content type `{media}` is not generated \
                         (JSON, URL-encoded and multipart forms are); declare the body \
                         as one of those in the overlay"
                    ),
                ));
            }
        }
        Ok(())
    })
}

/// An optional body is already optional: `anyOf: [Body, null]` (lowered to a
/// nullable `allOf: [Body]`) becomes `Body`, and keywords beside a body `$ref`
/// (`default`, `description`, which OpenAPI 3.0 ignores there) are dropped, so
/// progenitor sees the named type and generates its builder.
pub fn flatten_optional_bodies(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    operations(spec, &mut |op| {
        let Some(schema) = op.op.get_mut("requestBody").and_then(|b| {
            let content = b.get_mut("content")?.as_object_mut()?;
            content
                .iter_mut()
                .find(|(media, _)| {
                    *media == "application/json" || *media == super::forms::URLENCODED
                })?
                .1
                .get_mut("schema")
        }) else {
            return Ok(());
        };
        if let Some(target) = single_ref(schema) {
            *schema = Value::Object(Map::from_iter([("$ref".to_string(), Value::from(target))]));
        }
        Ok(())
    })
}

/// The `$ref` a body schema stands for, if it is one (possibly wrapped in a
/// one-element `allOf`, possibly nullable).
fn single_ref(schema: &Value) -> Option<String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return Some(r.to_string());
    }
    match schema
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([only]) => only.get("$ref").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec_with_body(content: Value) -> Value {
        json!({"paths": {"/x": {"post": {"requestBody": {"content": content}, "responses": {}}}}})
    }

    #[test]
    fn refuses_multipart_mixed_with_its_pointer() {
        let mut spec = spec_with_body(json!({"multipart/mixed": {"schema": {}}}));
        let err = reject_unsupported_bodies(&mut spec, &mut Context::default()).unwrap_err();
        assert_eq!(
            err.pointer,
            "/paths/~1x/post/requestBody/content/multipart~1mixed"
        );
    }

    #[test]
    fn accepts_json() {
        let mut spec = spec_with_body(json!({"application/json": {"schema": {}}}));
        reject_unsupported_bodies(&mut spec, &mut Context::default()).unwrap();
    }

    #[test]
    fn flattens_nullable_and_decorated_refs() {
        let ref_a = json!({"$ref": "#/components/schemas/A"});
        for schema in [
            json!({"allOf": [ref_a.clone()], "nullable": true, "title": "Request"}),
            json!({"$ref": "#/components/schemas/A", "default": {"overwrite": false}}),
        ] {
            let mut spec = spec_with_body(json!({"application/json": {"schema": schema}}));
            flatten_optional_bodies(&mut spec, &mut Context::default()).unwrap();
            assert_eq!(
                spec.pointer("/paths/~1x/post/requestBody/content/application~1json/schema"),
                Some(&ref_a)
            );
        }
    }

    #[test]
    fn leaves_inline_bodies_alone() {
        let inline = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let mut spec = spec_with_body(json!({"application/json": {"schema": inline.clone()}}));
        flatten_optional_bodies(&mut spec, &mut Context::default()).unwrap();
        assert_eq!(
            spec.pointer("/paths/~1x/post/requestBody/content/application~1json/schema"),
            Some(&inline)
        );
    }
}
