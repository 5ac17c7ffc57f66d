//! Every error answer declared the same way: `4XX` and `5XX` with one body type.

use serde_json::{json, Map, Value};

use super::{Context, ERROR_BODY};
use crate::walk::operations;
use crate::SpecError;

/// Replaces each operation's error responses (typed 422 next to untyped
/// 4xx makes progenitor assert; undeclared statuses would come back as
/// "unexpected response") by the two ranges `4XX` and `5XX`.
///
/// Their content type is the media range `*/*`: an error body is usually the
/// JSON [`ERROR_BODY`] (a FastAPI `detail`, a structured `ERR-xx-yyy` body or
/// a validation list) but a proxy can answer HTML or nothing, so the client
/// receives the raw body with its status and headers and the hand-written
/// layer parses it. The ranges also avoid the mock generator's panic on
/// statuses without a standard reason phrase (465–468). The upstream
/// descriptions are kept in the ranges' descriptions, for the docs.
pub fn unify_error_responses(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    let schemas = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| {
            SpecError::at(
                "/components/schemas",
                "the document has no component schemas",
            )
        })?;
    if schemas.contains_key(ERROR_BODY) {
        return Err(SpecError::at(
            format!("/components/schemas/{ERROR_BODY}"),
            "the spec defines a schema with the name reserved for the unified error body",
        ));
    }
    schemas.insert(ERROR_BODY.into(), error_body_schema());

    operations(spec, &mut |op| {
        let Some(responses) = op.op.get_mut("responses").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        let mut client = Vec::new();
        let mut server = Vec::new();
        responses.retain(|status, response| {
            let description = response
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim();
            let line = format!("{status}: {description}");
            match status.chars().next() {
                Some('4') => client.push(line),
                Some('5') => server.push(line),
                _ if status == "default" => client.push(line),
                _ => return true,
            }
            false
        });
        for (range, kind, lines) in [
            ("4XX", "Client error", client),
            ("5XX", "Server error", server),
        ] {
            let description = if lines.is_empty() {
                kind.to_string()
            } else {
                format!("{kind}. {}", lines.join("; "))
            };
            responses.insert(range.into(), error_response(&description));
        }
        Ok(())
    })
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"*/*": {"schema": {"$ref": format!("#/components/schemas/{ERROR_BODY}")}}}
    })
}

fn nullable(schema: Value) -> Value {
    let mut schema: Map<String, Value> = serde_json::from_value(schema).unwrap_or_default();
    schema.insert("nullable".into(), Value::Bool(true));
    Value::Object(schema)
}

fn error_body_schema() -> Value {
    json!({
        "type": "object",
        "description": "The body of an error answer. FastAPI errors carry `detail` (a message, a list of \
            validation errors, or a structured error); structured errors carry `error_code` \
            (`ERR-xx-yyy`), `message`, `details`, `suggestions` and `links`, at the top level or \
            under `detail`.",
        "properties": {
            "detail": {"description": "A message, a list of validation errors or a structured error."},
            "error_code": nullable(json!({"type": "string", "description": "Structured error code, `ERR-xx-yyy`."})),
            "message": nullable(json!({"type": "string", "description": "Human-readable message."})),
            "details": nullable(json!({"type": "array", "items": {
                "type": "object",
                "description": "One fact about the error.",
                "properties": {
                    "field": nullable(json!({"type": "string"})),
                    "value": {"description": "Any JSON value."},
                    "message": nullable(json!({"type": "string"}))
                }
            }})),
            "suggestions": nullable(json!({"type": "array", "items": {"type": "string"}})),
            "links": nullable(json!({"type": "array", "items": {
                "type": "object",
                "properties": {
                    "url": {"type": "string"},
                    "label": nullable(json!({"type": "string"}))
                },
                "required": ["url"]
            }})),
            "request_id": nullable(json!({"type": "string"}))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_statuses_collapse_into_two_ranges() {
        let mut spec = json!({
            "paths": {"/x": {"get": {"responses": {
                "200": {"description": "OK"},
                "404": {"description": "Not found"},
                "422": {"description": "Validation Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}},
                "465": {"description": "Hash registration required"},
                "503": {"description": "Busy"}
            }}}},
            "components": {"schemas": {}}
        });
        unify_error_responses(&mut spec, &mut Context::default()).unwrap();
        let responses = spec["paths"]["/x"]["get"]["responses"].as_object().unwrap();
        let keys: Vec<_> = responses.keys().cloned().collect();
        assert_eq!(keys, ["200", "4XX", "5XX"]);
        assert_eq!(
            responses["4XX"]["description"],
            "Client error. 404: Not found; 422: Validation Error; 465: Hash registration required"
        );
        assert_eq!(
            responses["5XX"]["content"]["*/*"]["schema"]["$ref"],
            "#/components/schemas/ApiErrorBody"
        );
        assert!(spec["components"]["schemas"][ERROR_BODY].is_object());
    }

    #[test]
    fn a_spec_defining_the_reserved_name_is_refused() {
        let mut spec = json!({"paths": {}, "components": {"schemas": {"ApiErrorBody": {}}}});
        let err = unify_error_responses(&mut spec, &mut Context::default()).unwrap_err();
        assert_eq!(err.pointer, "/components/schemas/ApiErrorBody");
    }
}
