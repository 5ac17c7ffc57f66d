//! The schemas operations reach, compared field by field.

use std::collections::{BTreeMap, BTreeSet};

use phala_cloud_codegen::inspect::reachable_schemas;
use phala_cloud_codegen::SpecError;
use serde_json::Value;

use super::describe::{fields, parent, Field};
use super::{member_changes, sides, Change, Changed, Diff, Role, Side};

/// Removed, added and changed reachable schemas, by name.
pub(super) fn compare(old: &Value, new: &Value) -> Result<Diff<String>, SpecError> {
    let (old_schemas, new_schemas) = (reachable(old)?, reachable(new)?);
    let mut diff = Diff::default();
    for (name, side) in sides(&old_schemas, &new_schemas) {
        match side {
            Side::Removed(_) => diff.removed.push(name),
            Side::Added(_) => diff.added.push(name),
            Side::Both(o, n) => {
                let changes = field_changes(&fields(o), &fields(n));
                if !changes.is_empty() {
                    diff.changed.push(Changed {
                        subject: name,
                        changes,
                    });
                }
            }
        }
    }
    Ok(diff)
}

fn reachable(spec: &Value) -> Result<BTreeMap<String, &Value>, SpecError> {
    let names = reachable_schemas(spec)?;
    Ok(spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(name, _)| names.contains(*name))
        .map(|(name, schema)| (name.clone(), schema))
        .collect())
}

/// A removed field, a changed type and a changed required-ness all change the
/// generated struct (`T` and `Option<T>` are different types); only an added
/// field leaves existing code working. Fields inside an added or removed
/// field are not listed again.
fn field_changes(old: &BTreeMap<String, Field>, new: &BTreeMap<String, Field>) -> Vec<Change> {
    let gone: BTreeSet<&str> = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .map(String::as_str)
        .collect();
    let came: BTreeSet<&str> = new
        .keys()
        .filter(|k| !old.contains_key(*k))
        .map(String::as_str)
        .collect();
    let mut changes = Vec::new();
    for (path, side) in sides(old, new) {
        let label = if path.is_empty() {
            "the schema's type".to_string()
        } else {
            format!("field `{path}`")
        };
        let nested_in = |set: &BTreeSet<&str>| parent(&path).is_some_and(|p| set.contains(p));
        if !(nested_in(&gone) || nested_in(&came)) {
            let (o, n) = side.options();
            changes.extend(member_changes(&label, o, n, Role::Shared));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(schemas: Value) -> Value {
        json!({
            "paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Cvm"}}}}}}}},
            "components": {"schemas": schemas}
        })
    }

    #[test]
    fn compares_reachable_schemas_field_by_field() {
        let old = spec(json!({
            "Cvm": {"type": "object", "required": ["id", "name"], "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "node": {"$ref": "#/components/schemas/Node"},
                "gone": {"type": "object", "properties": {"inner": {"type": "integer"}}}
            }},
            "Node": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "Unreached": {"type": "object"}
        }));
        let new = spec(json!({
            "Cvm": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "status": {"type": "string"}
            }},
            "Unreached": {"type": "string"}
        }));
        let diff = compare(&old, &new).unwrap();
        assert_eq!(diff.removed, ["Node"]);
        assert!(diff.added.is_empty());
        assert_eq!(diff.changed.len(), 1);
        let changes: Vec<_> = diff.changed[0]
            .changes
            .iter()
            .map(|c| (c.breaking, c.what.as_str()))
            .collect();
        assert_eq!(
            changes,
            [
                (true, "field `gone` removed"),
                (true, "field `id`: string → integer"),
                (true, "field `name` is now optional"),
                (true, "field `node` removed"),
                (false, "field `status` added (optional, string)"),
            ]
        );
    }

    #[test]
    fn a_dangling_reference_is_an_error() {
        let err = compare(&spec(json!({})), &spec(json!({}))).unwrap_err();
        assert_eq!(err.pointer, "/components/schemas/Cvm");
    }
}
