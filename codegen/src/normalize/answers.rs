//! Success answers in the shapes progenitor generates: one type per
//! operation, JSON or bytes.
//!
//! progenitor decodes a success answer as JSON whenever `application/json`
//! is among its content types, and asserts that all success statuses share
//! one type (`response_types.len() <= 1`). So an answer that may be a file
//! (raw bytes, a zip, a PDF) is handed to it as `application/octet-stream`
//! only, which it answers as a byte stream, and the generator
//! (`crate::answers`) gives the builder a `send()` that reads the bytes
//! within the body limit and, when the spec also offers JSON, a
//! `send_json()`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::Context;
use crate::pointer::join;
use crate::walk::operations;
use crate::SpecError;

/// An operation whose success answer is bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteAnswer {
    /// Upstream `operationId`.
    pub operation_id: String,
    /// The non-JSON media types it answers, in the spec's order: what
    /// `send()` asks for.
    pub media_types: Vec<String>,
    /// Whether it answers JSON too (then `send_json()` asks for it).
    pub json: bool,
}

/// A success status declared without a body next to one with an untyped
/// JSON body: its empty answer decodes as `null`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptyAnswer {
    /// Upstream `operationId`.
    pub operation_id: String,
    /// The status, e.g. `202`.
    pub status: u16,
}

fn is_json(media: &str) -> bool {
    media == "application/json" || media.starts_with("application/json;")
}

fn is_success(status: &str) -> bool {
    status.starts_with('2')
}

/// Hands every answer with a non-JSON media type to progenitor as a byte
/// stream, and records it.
pub fn byte_answers(spec: &mut Value, cx: &mut Context) -> Result<(), SpecError> {
    operations(spec, &mut |op| {
        let Some(responses) = op.op.get_mut("responses").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        let mut media_types: Vec<String> = Vec::new();
        let mut json = false;
        for (_, response) in responses.iter().filter(|(s, _)| is_success(s)) {
            for media in response
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(Map::keys)
            {
                if is_json(media) {
                    json = true;
                } else if !media_types.contains(media) {
                    media_types.push(media.clone());
                }
            }
        }
        if media_types.is_empty() {
            return Ok(());
        }
        for (_, response) in responses.iter_mut().filter(|(s, _)| is_success(s)) {
            if let Some(content) = response.get_mut("content") {
                *content = json!({"application/octet-stream": {}});
            }
        }
        cx.byte_answers.push(ByteAnswer {
            operation_id: op.operation_id(),
            media_types,
            json,
        });
        Ok(())
    })
}

/// What one success status answers, as progenitor tells answers apart.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    None,
    Bytes,
    Json(Value),
}

/// One success type per operation: a status without a body next to an
/// untyped JSON answer is given that answer (its empty body decoding as
/// `null`, see [`EmptyAnswer`]); two different types are refused, naming
/// the second, before progenitor would assert.
pub fn one_success_type(spec: &mut Value, cx: &mut Context) -> Result<(), SpecError> {
    operations(spec, &mut |op| {
        let operation_id = op.operation_id();
        let Some(responses) = op.op.get_mut("responses").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        let kinds: BTreeMap<String, Kind> = responses
            .iter()
            .filter(|(s, _)| is_success(s))
            .map(|(status, response)| (status.clone(), kind(response)))
            .collect();
        let mut typed = kinds.iter().filter(|(_, k)| **k != Kind::None);
        let Some((first_status, first)) = typed.next() else {
            return Ok(());
        };
        if let Some((status, other)) = typed.find(|(_, k)| *k != first) {
            return Err(SpecError::at(
                join(&join(&op.pointer, "responses"), status),
                format!(
                    "answers {first_status} with {} and {status} with {}; the generator makes one \
                     success type per operation: give both the same schema in the overlay \
                     (an `anyOf` of the two, if they differ)",
                    describe(first),
                    describe(other)
                ),
            ));
        }
        let empty: Vec<&String> = kinds
            .iter()
            .filter(|(_, k)| **k == Kind::None)
            .map(|(s, _)| s)
            .collect();
        if empty.is_empty() {
            return Ok(());
        }
        if *first != Kind::Json(json!({})) {
            let status = empty[0];
            return Err(SpecError::at(
                join(&join(&op.pointer, "responses"), status),
                format!(
                    "answers {status} without a body next to {first_status} with {}; the \
                     generator makes one success type per operation: declare the body of \
                     {status} in the overlay, or make {first_status}'s answer untyped",
                    describe(first)
                ),
            ));
        }
        let content = responses[first_status.as_str()]["content"].clone();
        for status in empty {
            let code = status.parse::<u16>().map_err(|_| {
                SpecError::at(
                    join(&join(&op.pointer, "responses"), status),
                    "a status range without a body next to a typed answer; declare its body",
                )
            })?;
            responses[status.as_str()]["content"] = content.clone();
            cx.empty_answers.push(EmptyAnswer {
                operation_id: operation_id.clone(),
                status: code,
            });
        }
        Ok(())
    })
}

fn kind(response: &Value) -> Kind {
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return Kind::None;
    };
    match content.iter().find(|(media, _)| is_json(media)) {
        Some((_, media)) => Kind::Json(media.get("schema").cloned().unwrap_or(Value::Null)),
        None if content.is_empty() => Kind::None,
        None => Kind::Bytes,
    }
}

fn describe(kind: &Kind) -> String {
    match kind {
        Kind::None => "no body".into(),
        Kind::Bytes => "bytes".into(),
        Kind::Json(schema) => match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => format!("`{reference}`"),
            None => format!("the JSON schema {schema}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(responses: Value) -> Value {
        json!({"paths": {"/x": {"get": {"operationId": "x", "responses": responses}}}})
    }

    #[test]
    fn a_multi_content_answer_becomes_bytes_and_remembers_json() {
        let mut spec = op(json!({
            "200": {"content": {"application/json": {"schema": {}}, "application/zip": {}, "application/pdf": {}}},
            "404": {"content": {"application/json": {"schema": {}}}}
        }));
        let mut cx = Context::default();
        byte_answers(&mut spec, &mut cx).unwrap();
        assert_eq!(
            spec["paths"]["/x"]["get"]["responses"]["200"]["content"],
            json!({"application/octet-stream": {}})
        );
        assert!(spec["paths"]["/x"]["get"]["responses"]["404"]["content"]
            .get("application/json")
            .is_some());
        assert_eq!(
            cx.byte_answers,
            [ByteAnswer {
                operation_id: "x".into(),
                media_types: vec!["application/zip".into(), "application/pdf".into()],
                json: true
            }]
        );
    }

    #[test]
    fn different_success_types_are_refused_with_the_pointer_of_the_second() {
        let mut spec = op(json!({
            "201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}},
            "202": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/B"}}}}
        }));
        let err = one_success_type(&mut spec, &mut Context::default()).unwrap_err();
        assert_eq!(err.pointer, "/paths/~1x/get/responses/202");
        assert!(err.message.contains("`#/components/schemas/A`"), "{err}");
    }

    #[test]
    fn a_bodyless_status_next_to_untyped_json_answers_null() {
        let mut spec = op(json!({
            "200": {"content": {"application/json": {"schema": {}}}},
            "202": {"description": "accepted"}
        }));
        let mut cx = Context::default();
        one_success_type(&mut spec, &mut cx).unwrap();
        assert_eq!(
            spec["paths"]["/x"]["get"]["responses"]["202"]["content"],
            json!({"application/json": {"schema": {}}})
        );
        assert_eq!(
            cx.empty_answers,
            [EmptyAnswer {
                operation_id: "x".into(),
                status: 202
            }]
        );
        let mut typed = op(json!({
            "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}},
            "204": {"description": "none"}
        }));
        let err = one_success_type(&mut typed, &mut Context::default()).unwrap_err();
        assert_eq!(err.pointer, "/paths/~1x/get/responses/204");
    }
}
