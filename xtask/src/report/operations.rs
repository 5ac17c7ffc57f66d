//! Operations compared by method and path: their parameters, request body
//! and responses.

use std::collections::BTreeMap;

use phala_cloud_codegen::inspect::METHODS;
use serde_json::Value;

use super::describe::{describe, Field};
use super::{member_changes, sides, Change, ChangeKind, Changed, Diff, Operation, Role, Side};

/// Removed, added and changed operations, each sorted by path then method.
pub(super) fn compare(old: &Value, new: &Value) -> Diff<Operation> {
    let (old_ops, new_ops) = (operations(old), operations(new));
    let mut diff = Diff::default();
    for (_, side) in sides(&old_ops, &new_ops) {
        match side {
            Side::Removed(o) => diff.removed.push(o.operation.clone()),
            Side::Added(n) => diff.added.push(n.operation.clone()),
            Side::Both(o, n) => {
                let changes = differences(old, o, new, n);
                if !changes.is_empty() {
                    diff.changed.push(Changed {
                        subject: n.operation.to_string(),
                        changes,
                    });
                }
            }
        }
    }
    diff
}

struct Op<'a> {
    operation: Operation,
    path_item: &'a Value,
    op: &'a Value,
}

fn operations(spec: &Value) -> BTreeMap<(String, usize), Op<'_>> {
    let mut found = BTreeMap::new();
    for (path, item) in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (rank, method) in METHODS.iter().enumerate() {
            let Some(op) = item.get(*method) else {
                continue;
            };
            let operation = Operation {
                path: path.clone(),
                method: method.to_ascii_uppercase(),
                operation_id: op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            };
            found.insert(
                (path.clone(), rank),
                Op {
                    operation,
                    path_item: item,
                    op,
                },
            );
        }
    }
    found
}

fn differences(old_spec: &Value, old: &Op<'_>, new_spec: &Value, new: &Op<'_>) -> Vec<Change> {
    let mut changes = Vec::new();
    let (old_id, new_id) = (&old.operation.operation_id, &new.operation.operation_id);
    if old_id != new_id {
        changes.push(Change::new(
            ChangeKind::Changed,
            false,
            format!("operationId `{old_id}` → `{new_id}`"),
        ));
    }
    parameter_changes(
        &parameters(old_spec, old),
        &parameters(new_spec, new),
        &mut changes,
    );
    changes.extend(member_changes(
        "request body",
        body(old_spec, old.op).as_ref(),
        body(new_spec, new.op).as_ref(),
        Role::Sent,
    ));
    response_changes(
        &responses(old_spec, old.op),
        &responses(new_spec, new.op),
        &mut changes,
    );
    changes
}

/// Parameters by (location, name); the operation's override the path item's.
fn parameters(spec: &Value, op: &Op<'_>) -> BTreeMap<(String, String), Field> {
    let mut found = BTreeMap::new();
    for list in [op.path_item, op.op] {
        for param in list
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let param = resolve(spec, param);
            let (Some(location), Some(name)) = (
                param.get("in").and_then(Value::as_str),
                param.get("name").and_then(Value::as_str),
            ) else {
                continue;
            };
            let input = Field {
                required: location == "path"
                    || param.get("required").and_then(Value::as_bool) == Some(true),
                ty: param.get("schema").map_or_else(|| "any".into(), describe),
            };
            found.insert((location.to_string(), name.to_string()), input);
        }
    }
    found
}

fn parameter_changes(
    old: &BTreeMap<(String, String), Field>,
    new: &BTreeMap<(String, String), Field>,
    changes: &mut Vec<Change>,
) {
    for ((location, name), side) in sides(old, new) {
        let (o, n) = side.options();
        changes.extend(member_changes(
            &format!("{location} parameter `{name}`"),
            o,
            n,
            Role::Sent,
        ));
    }
}

fn body(spec: &Value, op: &Value) -> Option<Field> {
    let body = resolve(spec, op.get("requestBody")?);
    Some(Field {
        required: body.get("required").and_then(Value::as_bool) == Some(true),
        ty: content(body.get("content")),
    })
}

/// Response body types by status code.
fn responses(spec: &Value, op: &Value) -> BTreeMap<String, String> {
    op.get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(status, response)| {
            (
                status.clone(),
                content(resolve(spec, response).get("content")),
            )
        })
        .collect()
}

/// A success body of another type breaks the callers that read it; error
/// bodies all reach the client as one error type, and a status that comes or
/// goes changes no signature.
fn response_changes(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
    changes: &mut Vec<Change>,
) {
    for (status, side) in sides(old, new) {
        match side {
            Side::Removed(_) => changes.push(Change::new(
                ChangeKind::Removed,
                false,
                format!("response `{status}` no longer declared"),
            )),
            Side::Added(n) => changes.push(Change::new(
                ChangeKind::Added,
                false,
                format!("response `{status}` added: {n}"),
            )),
            Side::Both(o, n) if o != n => changes.push(Change::new(
                ChangeKind::Changed,
                status.starts_with('2'),
                format!("response `{status}`: {o} → {n}"),
            )),
            Side::Both(..) => {}
        }
    }
}

/// The types of a `content` map: the schema's type for JSON alone, else each
/// media type with its type.
fn content(content: Option<&Value>) -> String {
    let Some(media) = content.and_then(Value::as_object).filter(|m| !m.is_empty()) else {
        return "no body".into();
    };
    let ty = |m: &Value| m.get("schema").map_or_else(|| "any".into(), describe);
    match media.get("application/json") {
        Some(json) if media.len() == 1 => ty(json),
        _ => {
            let mut parts: Vec<String> = media
                .iter()
                .map(|(k, m)| format!("{k}: {}", ty(m)))
                .collect();
            parts.sort();
            parts.join("; ")
        }
    }
}

/// The target of a local `$ref` (parameters, bodies and responses may be
/// declared in `components`), or the value itself.
fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    value
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| spec.pointer(pointer))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one_op(op: Value) -> Value {
        json!({"paths": {"/api/v1/kms": {"get": op}}})
    }

    fn changes(old: Value, new: Value) -> Vec<(bool, String)> {
        let diff = compare(&one_op(old), &one_op(new));
        assert!(diff.removed.is_empty() && diff.added.is_empty());
        diff.changed
            .into_iter()
            .flat_map(|c| c.changes)
            .map(|c| (c.breaking, c.what))
            .collect()
    }

    #[test]
    fn parameters_added_removed_and_changed() {
        let old = json!({"parameters": [
            {"in": "query", "name": "page", "schema": {"type": "integer"}},
            {"in": "query", "name": "gone", "schema": {"type": "string"}},
            {"in": "query", "name": "search", "schema": {"type": "string"}}
        ]});
        let new = json!({"parameters": [
            {"in": "query", "name": "page", "required": true, "schema": {"type": "string"}},
            {"in": "query", "name": "search", "schema": {"type": "string"}},
            {"in": "header", "name": "X-Team", "schema": {"type": "string"}}
        ]});
        assert_eq!(
            changes(old, new),
            [
                (
                    false,
                    "header parameter `X-Team` added (optional, string)".to_string()
                ),
                (true, "query parameter `gone` removed".to_string()),
                (true, "query parameter `page`: integer → string".to_string()),
                (true, "query parameter `page` is now required".to_string()),
            ]
        );
    }

    #[test]
    fn bodies_and_responses() {
        let schema = |name: &str| json!({"content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}}});
        let old = json!({
            "requestBody": schema("Old"),
            "responses": {"200": schema("Kms"), "404": {"description": "gone"}}
        });
        let mut new_body = schema("New");
        new_body["required"] = json!(true);
        let new = json!({
            "operationId": "list",
            "requestBody": new_body,
            "responses": {"200": schema("KmsV2"), "422": schema("HTTPValidationError")}
        });
        assert_eq!(
            changes(old, new),
            [
                (false, "operationId `` → `list`".to_string()),
                (true, "request body: Old → New".to_string()),
                (true, "request body is now required".to_string()),
                (true, "response `200`: Kms → KmsV2".to_string()),
                (false, "response `404` no longer declared".to_string()),
                (
                    false,
                    "response `422` added: HTTPValidationError".to_string()
                ),
            ]
        );
    }

    #[test]
    fn refs_to_components_are_followed() {
        let spec = |required: bool| {
            json!({
                "paths": {"/x": {"get": {"parameters": [{"$ref": "#/components/parameters/P"}]}}},
                "components": {"parameters": {"P": {"in": "query", "name": "p", "required": required, "schema": {"type": "string"}}}}
            })
        };
        let changed = compare(&spec(false), &spec(true)).changed;
        assert_eq!(
            changed[0].changes[0].what,
            "query parameter `p` is now required"
        );
    }

    #[test]
    fn several_media_types_are_listed() {
        let c = json!({"application/octet-stream": {}, "application/json": {"schema": {"type": "string"}}});
        assert_eq!(
            content(Some(&c)),
            "application/json: string; application/octet-stream: any"
        );
        assert_eq!(content(None), "no body");
    }
}
