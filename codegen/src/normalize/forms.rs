//! Form request bodies: `application/x-www-form-urlencoded`, which
//! progenitor encodes itself, and `multipart/form-data`, which it does not
//! know and this crate's generator finishes (`crate::forms`).
//!
//! A multipart body is handed to progenitor as the JSON body it would be
//! with the same fields, each file field typed `{type: string, format:
//! form-file}` (which `generate` converts to `crate::multipart::File`), so
//! progenitor writes the builder, its parameters and its answer as for any
//! other operation; the fields, in the spec's order and with which of them
//! are files, are recorded in the [`Context`] for the generator to send them
//! as a form.

use serde_json::{Map, Value};

use super::Context;
use crate::pointer::join;
use crate::walk::{operations, ref_name};
use crate::SpecError;

/// The media type of a multipart body.
pub const MULTIPART: &str = "multipart/form-data";
/// The media type of a URL-encoded form body.
pub const URLENCODED: &str = "application/x-www-form-urlencoded";
/// The `format` a file field of a multipart body is given for typify.
pub const FILE_FORMAT: &str = "form-file";

/// A `multipart/form-data` operation, as the generator finishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormOperation {
    /// Upstream `operationId`.
    pub operation_id: String,
    /// The operation's JSON pointer, for messages.
    pub pointer: String,
    /// The form's fields, in the spec's order.
    pub fields: Vec<FormField>,
}

/// One field of a multipart form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    /// The field name on the wire.
    pub name: String,
    /// Whether it is a file (`format: binary`): sent with a file name and a
    /// content type.
    pub file: bool,
}

/// Setter names a builder already has, which a form field must not take.
const BUILDER_METHODS: &[&str] = &["body", "body_map", "send", "new"];

/// Rewrites every `multipart/form-data` body as the JSON body progenitor
/// generates a builder for, and records its fields; checks that a
/// URL-encoded body has only fields a URL-encoded form can carry.
pub fn form_bodies(spec: &mut Value, cx: &mut Context) -> Result<(), SpecError> {
    let mut found = Vec::new();
    operations(spec, &mut |op| {
        let Some(content) = op
            .op
            .get("requestBody")
            .and_then(|b| b.get("content"))
            .and_then(Value::as_object)
        else {
            return Ok(());
        };
        let operation_id = op.operation_id();
        for media in [MULTIPART, URLENCODED] {
            if let Some(media_type) = content.get(media) {
                let at = join(&join(&join(&op.pointer, "requestBody"), "content"), media);
                let schema = media_type.get("schema").cloned().ok_or_else(|| {
                    SpecError::at(&at, "a form body without a schema: declare its fields")
                })?;
                found.push((op.pointer.clone(), operation_id.clone(), media, at, schema));
            }
        }
        Ok(())
    })?;
    for (pointer, operation_id, media, at, schema) in found {
        let fields_at = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = ref_name(reference).ok_or_else(|| {
                    SpecError::at(
                        join(&at, "schema"),
                        format!("`{reference}` is not a local schema"),
                    )
                })?;
                join("/components/schemas", name)
            }
            None => join(&at, "schema"),
        };
        let body = spec
            .pointer_mut(&fields_at)
            .ok_or_else(|| SpecError::at(&fields_at, "the form body's schema is not defined"))?;
        if media == URLENCODED {
            check_urlencoded_fields(body, &fields_at)?;
            continue;
        }
        let fields = file_fields(body, &fields_at)?;
        let content = spec
            .pointer_mut(&format!("{pointer}/requestBody/content"))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| SpecError::at(&at, "the request body has no content"))?;
        if content.len() > 1 {
            return Err(SpecError::at(
                join(&pointer, "requestBody"),
                "a multipart body offered with other content types; the generator sends one, \
                 so remove the others in the overlay",
            ));
        }
        if let Some(media_type) = content.remove(MULTIPART) {
            content.insert("application/json".into(), media_type);
        }
        cx.forms.push(FormOperation {
            operation_id,
            pointer,
            fields,
        });
    }
    Ok(())
}

/// The fields of a multipart body, its file fields retyped for typify; a
/// field a form cannot carry (an object) or whose name a builder method
/// has is refused.
fn file_fields(body: &mut Value, at: &str) -> Result<Vec<FormField>, SpecError> {
    let properties = properties(body, at)?;
    let mut fields = Vec::new();
    for (name, schema) in properties.iter_mut() {
        let field_at = join(&join(at, "properties"), name);
        if BUILDER_METHODS.contains(&name.as_str()) {
            return Err(SpecError::at(
                field_at,
                format!(
                    "a form field named `{name}` would take the name of a builder method; \
                     rename it in the overlay"
                ),
            ));
        }
        let file = is_binary(schema);
        if file {
            let mut retyped = Map::new();
            retyped.insert("type".into(), "string".into());
            retyped.insert("format".into(), FILE_FORMAT.into());
            for key in ["description", "title"] {
                if let Some(text) = schema.get(key) {
                    retyped.insert(key.into(), text.clone());
                }
            }
            *schema = Value::Object(retyped);
        } else if kind(schema) == Some("object") {
            return Err(SpecError::at(
                field_at,
                "an object field in a multipart form: the generator sends text and file \
                 fields only; type it as a string (its JSON) in the overlay",
            ));
        }
        fields.push(FormField {
            name: name.clone(),
            file,
        });
    }
    Ok(fields)
}

/// A URL-encoded form carries names and scalar values: an array or object
/// field is refused (serde_urlencoded cannot encode one) with its pointer.
fn check_urlencoded_fields(body: &mut Value, at: &str) -> Result<(), SpecError> {
    for (name, schema) in properties(body, at)?.iter() {
        if let Some(kind @ ("array" | "object")) = kind(schema) {
            return Err(SpecError::at(
                join(&join(at, "properties"), name),
                format!(
                    "an {kind} field in an application/x-www-form-urlencoded body cannot be \
                     encoded; type it as a string in the overlay"
                ),
            ));
        }
    }
    Ok(())
}

fn properties<'a>(body: &'a mut Value, at: &str) -> Result<&'a mut Map<String, Value>, SpecError> {
    body.get_mut("properties")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| {
            SpecError::at(
                at,
                "a form body that is not an object with `properties`: name its fields",
            )
        })
}

/// `{type: string, format: binary}`, possibly as a branch of a nullable
/// `anyOf`.
fn is_binary(schema: &Value) -> bool {
    // A body schema two operations share is retyped by the first.
    let binary = |s: &Value| {
        s.get("type").and_then(Value::as_str) == Some("string")
            && matches!(
                s.get("format").and_then(Value::as_str),
                Some("binary" | FILE_FORMAT)
            )
    };
    binary(schema)
        || schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|branches| {
                branches.iter().any(binary)
                    && branches
                        .iter()
                        .all(|b| binary(b) || b.get("type").and_then(Value::as_str) == Some("null"))
            })
}

/// The one non-null `type` of a field, looking through a nullable `anyOf`.
fn kind(schema: &Value) -> Option<&str> {
    if let Some(kind) = schema.get("type").and_then(Value::as_str) {
        return Some(kind);
    }
    let mut kinds = schema
        .get("anyOf")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(|b| b.get("type").and_then(Value::as_str))
        .filter(|k| *k != "null");
    kinds.next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(media: &str, schema: Value) -> Value {
        json!({
            "paths": {"/upload": {"put": {
                "operationId": "upload_avatar",
                "requestBody": {"content": {media: {"schema": {"$ref": "#/components/schemas/Body"}}}},
                "responses": {}
            }}},
            "components": {"schemas": {"Body": schema}}
        })
    }

    #[test]
    fn a_multipart_body_becomes_json_with_its_fields_recorded_in_order() {
        let mut s = spec(
            MULTIPART,
            json!({"type": "object", "required": ["avatar"], "properties": {
                "caption": {"type": "string"},
                "avatar": {"type": "string", "format": "binary", "description": "image"},
                "quote": {"anyOf": [{"type": "string", "format": "binary"}, {"type": "null"}]},
                "size": {"type": "integer"}
            }}),
        );
        let mut cx = Context::default();
        form_bodies(&mut s, &mut cx).unwrap();
        let content = &s["paths"]["/upload"]["put"]["requestBody"]["content"];
        assert!(content.get("application/json").is_some());
        assert!(content.get(MULTIPART).is_none());
        let body = &s["components"]["schemas"]["Body"]["properties"];
        assert_eq!(
            body["avatar"],
            json!({"type": "string", "format": FILE_FORMAT, "description": "image"})
        );
        assert_eq!(
            body["quote"],
            json!({"type": "string", "format": FILE_FORMAT})
        );
        let [form] = cx.forms.as_slice() else {
            panic!("{:?}", cx.forms)
        };
        assert_eq!(form.operation_id, "upload_avatar");
        let fields: Vec<_> = form
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.file))
            .collect();
        assert_eq!(
            fields,
            [
                ("caption", false),
                ("avatar", true),
                ("quote", true),
                ("size", false)
            ]
        );
    }

    #[test]
    fn unencodable_fields_are_refused_with_their_pointers() {
        let mut s = spec(
            URLENCODED,
            json!({"type": "object", "properties": {"scopes": {"type": "array", "items": {}}}}),
        );
        let err = form_bodies(&mut s, &mut Context::default()).unwrap_err();
        assert_eq!(err.pointer, "/components/schemas/Body/properties/scopes");
        let mut s = spec(
            MULTIPART,
            json!({"type": "object", "properties": {"meta": {"type": "object"}}}),
        );
        let err = form_bodies(&mut s, &mut Context::default()).unwrap_err();
        assert_eq!(err.pointer, "/components/schemas/Body/properties/meta");
        let mut s = spec(
            MULTIPART,
            json!({"type": "object", "properties": {"body": {"type": "string"}}}),
        );
        let err = form_bodies(&mut s, &mut Context::default()).unwrap_err();
        assert!(err.message.contains("builder method"), "{err}");
    }

    #[test]
    fn a_urlencoded_body_stays_for_progenitor() {
        let schema = json!({"type": "object", "properties": {
            "username": {"type": "string"}, "remember": {"type": "boolean"}
        }});
        let mut s = spec(URLENCODED, schema.clone());
        let mut cx = Context::default();
        form_bodies(&mut s, &mut cx).unwrap();
        assert!(cx.forms.is_empty());
        assert_eq!(s["components"]["schemas"]["Body"], schema);
        assert!(s["paths"]["/upload"]["put"]["requestBody"]["content"]
            .get(URLENCODED)
            .is_some());
    }
}
