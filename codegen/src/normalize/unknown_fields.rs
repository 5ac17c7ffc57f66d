//! Answers keep the fields the spec does not list.

use serde_json::{Map, Value};

use super::Context;
use crate::pointer::join;
use crate::walk::schemas;
use crate::SpecError;

/// The field typify generates for `additionalProperties`: a flattened map.
pub const EXTRA_FIELD: &str = "extra";

/// Every object shape with listed properties and no typed
/// `additionalProperties` gets `additionalProperties: {}`. typify then
/// generates a `#[serde(flatten)] pub extra: serde_json::Map<String, Value>`
/// field: the fields a newer server sends (`resource_usage`) are kept there
/// and written back on encoding, instead of being dropped. (typify reads an
/// absent or `true` `additionalProperties` as "ignore them", and `false` as
/// "refuse the body"; an answer must do neither.) Request bodies get the
/// map too: a body read from a file (an app compose) keeps the keys this
/// version does not know, and a caller can send a field the spec does not
/// list yet; an empty map sends nothing.
///
/// A schema that already has a property named `extra` is refused: the two
/// fields would collide.
pub fn keep_unknown_fields(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut open)
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
    fn every_object_keeps_unknown_fields_and_a_typed_map_keeps_its_type() {
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
        assert_eq!(schemas["Body"]["additionalProperties"], json!({}));
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
