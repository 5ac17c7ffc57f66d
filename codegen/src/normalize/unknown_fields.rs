//! Answers keep the fields the spec does not list.

use serde_json::{Map, Value};

use super::Context;
use crate::pointer::join;
use crate::walk::{operations, response_schemas, schema_tree};
use crate::SpecError;

/// The field typify generates for `additionalProperties`: a flattened map.
pub const EXTRA_FIELD: &str = "extra";

/// Every object shape an answer can hold — each component schema reachable
/// from a response ([`response_schemas`], so also one a request shares) and
/// each inline schema of a response — gets `additionalProperties: {}` when it
/// lists properties and has no typed `additionalProperties`. typify then
/// generates a `#[serde(flatten)] pub extra: serde_json::Map<String, Value>`
/// field: the fields a newer server sends (`resource_usage`) are kept there
/// and written back on encoding, instead of being dropped. (typify reads an
/// absent or `true` `additionalProperties` as "ignore them", and `false` as
/// "refuse the body"; an answer must do neither.)
///
/// A schema that already has a property named `extra` is refused: the two
/// fields would collide.
pub fn keep_unknown_fields(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    let names = response_schemas(spec)?;
    if let Some(components) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in components.iter_mut() {
            if names.contains(name) {
                schema_tree(schema, &join("/components/schemas", name), &mut open)?;
            }
        }
    }
    operations(spec, &mut |op| {
        let responses = op.op.get_mut("responses").and_then(Value::as_object_mut);
        for (status, response) in responses.into_iter().flatten() {
            let content = response.get_mut("content").and_then(Value::as_object_mut);
            for (media, media_type) in content.into_iter().flatten() {
                if let Some(schema) = media_type.get_mut("schema") {
                    let ptr = join(
                        &join(&join(&join(&op.pointer, "responses"), status), "content"),
                        media,
                    );
                    schema_tree(schema, &join(&ptr, "schema"), &mut open)?;
                }
            }
        }
        Ok(())
    })
}

/// Opens one object shape to unknown fields, as [`keep_unknown_fields`] says.
fn open(schema: &mut Map<String, Value>, ptr: &str) -> Result<(), SpecError> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    if properties.is_empty()
        || schema
            .get("additionalProperties")
            .is_some_and(Value::is_object)
    {
        return Ok(());
    }
    if properties.contains_key(EXTRA_FIELD) {
        return Err(SpecError::at(
            join(&join(ptr, "properties"), EXTRA_FIELD),
            format!(
                "a property named `{EXTRA_FIELD}` collides with the field that keeps unknown fields"
            ),
        ));
    }
    schema.insert("additionalProperties".into(), Value::Object(Map::new()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({
            "paths": {"/x": {
                "get": {"responses": {"200": {"content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {"page": {"$ref": "#/components/schemas/Page"}, "n": {"type": "integer"}}
                }}}}}},
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Body"}}}},
                    "responses": {"204": {"description": "none"}}
                }
            }},
            "components": {"schemas": {
                "Page": {"type": "object", "properties": {
                    "item": {"$ref": "#/components/schemas/Item"},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "inline": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false}
                }},
                "Item": {"type": "object", "properties": {"id": {"type": "string"}}, "additionalProperties": true},
                "Body": {"type": "object", "properties": {"name": {"type": "string"}}}
            }}
        })
    }

    #[test]
    fn every_object_an_answer_holds_keeps_unknown_fields_and_request_bodies_do_not() {
        let mut s = spec();
        keep_unknown_fields(&mut s, &mut Context::default()).unwrap();
        let schemas = &s["components"]["schemas"];
        assert_eq!(schemas["Page"]["additionalProperties"], json!({}));
        assert_eq!(schemas["Item"]["additionalProperties"], json!({}));
        assert_eq!(
            schemas["Page"]["properties"]["inline"]["additionalProperties"],
            json!({})
        );
        // A map's values keep their type.
        assert_eq!(
            schemas["Page"]["properties"]["labels"]["additionalProperties"],
            json!({"type": "string"})
        );
        assert_eq!(schemas["Body"].get("additionalProperties"), None);
        let inline = s.pointer("/paths/~1x/get/responses/200/content/application~1json/schema");
        assert_eq!(inline.unwrap()["additionalProperties"], json!({}));
    }

    #[test]
    fn a_property_named_extra_is_refused_with_its_pointer() {
        let mut s = spec();
        s["components"]["schemas"]["Item"]["properties"]["extra"] = json!({"type": "string"});
        let err = keep_unknown_fields(&mut s, &mut Context::default()).unwrap_err();
        assert_eq!(err.pointer, "/components/schemas/Item/properties/extra");
    }
}
