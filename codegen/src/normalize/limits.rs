//! What progenitor 0.15 asserts (or leaves `todo!()`) about an operation,
//! checked on the normalized spec first, so that a spec it cannot generate
//! is refused with the JSON pointer and what to do, never with a panic.
//!
//! One check per assertion in `progenitor-impl`'s `method.rs`: status codes
//! (`assert!(code < 1000)`), path parameters (`assert!(required)`,
//! "missing from path"), a media type's `encoding` (`assert!` / `todo!`),
//! a JSON answer without a schema (`todo!`), more than one body media type
//! (`todo!`), and an optional raw body (`unreachable!`). The one-success-
//! type assertion has its own rule (`answers::one_success_type`).

use serde_json::Value;

use super::Context;
use crate::pointer::join;
use crate::walk::operations;
use crate::SpecError;

/// Refuses what progenitor would panic on, naming where.
pub fn check_generator_limits(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    operations(spec, &mut |op| {
        check_statuses(op.op, &op.pointer)?;
        check_path_parameters(op.path, op.op, &op.pointer)?;
        check_body(op.op, &op.pointer)
    })
}

fn check_statuses(op: &serde_json::Map<String, Value>, at: &str) -> Result<(), SpecError> {
    let Some(responses) = op.get("responses").and_then(Value::as_object) else {
        return Ok(());
    };
    for (status, response) in responses {
        let at = join(&join(at, "responses"), status);
        let valid = status == "default"
            || (status.len() == 3 && status.parse::<u16>().is_ok_and(|s| (100..600).contains(&s)))
            || (status.len() == 3
                && status.as_bytes()[0].is_ascii_digit()
                && status[1..].eq_ignore_ascii_case("XX"));
        if !valid {
            return Err(SpecError::at(
                at,
                format!("`{status}` is not an HTTP status, a range like `4XX` or `default`"),
            ));
        }
        for (media, media_type) in response
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let at = join(&join(&at, "content"), media);
            check_encoding(media_type, &at)?;
            if media.starts_with("application/json") && media_type.get("schema").is_none() {
                return Err(SpecError::at(
                    at,
                    "a JSON answer without a schema; give it one in the overlay (`{}` for any JSON)",
                ));
            }
        }
    }
    Ok(())
}

fn check_encoding(media_type: &Value, at: &str) -> Result<(), SpecError> {
    if media_type
        .get("encoding")
        .and_then(Value::as_object)
        .is_some_and(|e| !e.is_empty())
    {
        return Err(SpecError::at(
            join(at, "encoding"),
            "per-field `encoding` is not generated; remove it in the overlay if the defaults do",
        ));
    }
    Ok(())
}

fn check_path_parameters(
    path: &str,
    op: &serde_json::Map<String, Value>,
    at: &str,
) -> Result<(), SpecError> {
    let template: Vec<&str> = path
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect();
    let mut declared = Vec::new();
    for (i, param) in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if param.get("in").and_then(Value::as_str) != Some("path") {
            continue;
        }
        let at = join(&join(at, "parameters"), &i.to_string());
        let name = param
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !template.contains(&name) {
            return Err(SpecError::at(
                at,
                format!("the path parameter `{name}` is not in the path `{path}`"),
            ));
        }
        if param.get("required").and_then(Value::as_bool) != Some(true) {
            return Err(SpecError::at(
                at,
                format!("the path parameter `{name}` is not `required: true`, which a path parameter must be"),
            ));
        }
        if param
            .get("style")
            .and_then(Value::as_str)
            .is_some_and(|s| s != "simple")
        {
            return Err(SpecError::at(
                join(&at, "style"),
                "only `style: simple` path parameters are generated",
            ));
        }
        declared.push(name);
    }
    if let Some(missing) = template.iter().find(|name| !declared.contains(name)) {
        return Err(SpecError::at(
            join(at, "parameters"),
            format!("the path `{path}` has `{{{missing}}}`, which no parameter declares"),
        ));
    }
    Ok(())
}

fn check_body(op: &serde_json::Map<String, Value>, at: &str) -> Result<(), SpecError> {
    let Some(body) = op.get("requestBody") else {
        return Ok(());
    };
    let at = join(at, "requestBody");
    let Some(content) = body.get("content").and_then(Value::as_object) else {
        return Ok(());
    };
    if content.len() > 1 {
        return Err(SpecError::at(
            join(&at, "content"),
            format!(
                "a body offered as {} media types; the generator sends one: remove the others in the overlay",
                content.len()
            ),
        ));
    }
    for (media, media_type) in content {
        let media_at = join(&join(&at, "content"), media);
        check_encoding(media_type, &media_at)?;
        let raw = media == "application/octet-stream" || media.starts_with("text/");
        if raw && body.get("required").and_then(Value::as_bool) != Some(true) {
            return Err(SpecError::at(
                at,
                format!(
                    "an optional `{media}` body is not generated; make it required in the overlay"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(path: &str, op: Value) -> SpecError {
        let mut spec = json!({"paths": {path: {"get": op}}});
        check_generator_limits(&mut spec, &mut Context::default()).unwrap_err()
    }

    #[test]
    fn what_progenitor_would_assert_is_refused_with_its_pointer() {
        let e = refused("/x", json!({"responses": {"2000": {}}}));
        assert_eq!(e.pointer, "/paths/~1x/get/responses/2000");
        let e = refused(
            "/x/{id}",
            json!({"parameters": [{"name": "id", "in": "path", "schema": {}}], "responses": {}}),
        );
        assert_eq!(e.pointer, "/paths/~1x~1{id}/get/parameters/0");
        let e = refused(
            "/x/{id}",
            json!({"parameters": [{"name": "other", "in": "path", "required": true}], "responses": {}}),
        );
        assert!(e.message.contains("not in the path"), "{e}");
        let e = refused("/x/{id}", json!({"responses": {}}));
        assert!(e.message.contains("no parameter declares"), "{e}");
        let e = refused(
            "/x",
            json!({"responses": {"200": {"content": {"application/json": {}}}}}),
        );
        assert_eq!(
            e.pointer,
            "/paths/~1x/get/responses/200/content/application~1json"
        );
        let e = refused(
            "/x",
            json!({"requestBody": {"content": {"application/json": {}, "text/plain": {}}}, "responses": {}}),
        );
        assert_eq!(e.pointer, "/paths/~1x/get/requestBody/content");
        let e = refused(
            "/x",
            json!({"requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}}, "responses": {}}),
        );
        assert!(e.message.contains("optional `text/plain` body"), "{e}");
        let e = refused(
            "/x",
            json!({"requestBody": {"content": {"application/json": {"encoding": {"a": {}}}}}, "responses": {}}),
        );
        assert_eq!(
            e.pointer,
            "/paths/~1x/get/requestBody/content/application~1json/encoding"
        );
    }

    #[test]
    fn what_progenitor_generates_passes() {
        let mut spec = json!({"paths": {"/x/{id}": {"get": {
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {}}],
            "requestBody": {"content": {"application/json": {"schema": {}}}},
            "responses": {"200": {"content": {"application/json": {"schema": {}}}}, "4XX": {}, "default": {}}
        }}}});
        check_generator_limits(&mut spec, &mut Context::default()).unwrap();
    }
}
