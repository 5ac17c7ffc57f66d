//! What "the same body" means for the round trip: the JSON the server sent
//! and the JSON the decoded value encodes back to are equal — every field,
//! known or not, every value, every enum value the spec does not list —
//! except for the differences the SDK makes on purpose, each listed in
//! [`DELIBERATE`] with its reason. Nothing else may differ.

use serde_json::{json, Value};

use super::spec::{property_schema, union_branches};
use support::schema::{flatten, validate};

/// The field added to every object to check that unknown fields are kept.
pub const UNKNOWN_FIELD: &str = "x_field_from_a_newer_server";
/// The value put in every enum to check that unknown values are kept.
pub const UNKNOWN_VALUE: &str = "x_value_from_a_newer_server";

/// The only differences between a body and its round trip, and why the SDK
/// makes them.
pub const DELIBERATE: &[(&str, &str)] = &[
    (
        "an optional field the server sent as `null` comes back absent",
        "an unset `Option` is not written, so that a request sends only what \
         the caller set; for a field the spec does not require, absent and \
         `null` mean the same",
    ),
    (
        "a number comes back equal in value, perhaps written otherwise (`5` as `5.0`)",
        "a `number` field is an `f64`",
    ),
    (
        "a date-time comes back as the same instant, written in UTC (`+00:00` as `Z`)",
        "a `date-time` field is a `chrono::DateTime<Utc>`",
    ),
];

/// `Ok` if `actual` is `expected` but for the [`DELIBERATE`] differences,
/// read with `schema` (resolved in `doc`).
pub fn equivalent(
    doc: &Value,
    schema: &Value,
    expected: &Value,
    actual: &Value,
) -> Result<(), String> {
    compare(doc, schema, expected, actual, "")
}

fn compare(
    doc: &Value,
    schema: &Value,
    expected: &Value,
    actual: &Value,
    at: &str,
) -> Result<(), String> {
    if expected == actual {
        return Ok(());
    }
    let schema = flatten(doc, schema);
    let schema = schema.as_ref();
    let here = if at.is_empty() { "." } else { at };
    if let Some(branches) = union_branches(doc, schema) {
        let branch = branches
            .iter()
            .find(|b| validate(doc, b, expected).is_ok())
            .or(branches.first());
        if let Some(branch) = branch {
            return compare(doc, branch, expected, actual, at);
        }
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (name, value) in e {
                let path = format!("{at}.{name}");
                let required = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .is_some_and(|r| r.iter().any(|n| n == name));
                let Some(got) = a.get(name) else {
                    // DELIBERATE[0].
                    if value.is_null() && !required {
                        continue;
                    }
                    return Err(format!("at `{path}`: {value} was lost"));
                };
                let field = property_schema(schema, name)
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                compare(doc, &field, value, got, &path)?;
            }
            if let Some((name, got)) = a.iter().find(|(k, _)| !e.contains_key(*k)) {
                return Err(format!("at `{at}.{name}`: {got} appeared"));
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                let item = item_schema(schema, i);
                compare(doc, &item, e, a, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        // DELIBERATE[1].
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => Ok(()),
        // DELIBERATE[2].
        (Value::String(e), Value::String(a)) if same_instant(e, a) => Ok(()),
        _ => Err(format!("at `{here}`: expected {expected}, got {actual}")),
    }
}

/// The schema of item `i` of an array (a tuple's position, or `items`).
fn item_schema(schema: &Value, i: usize) -> Value {
    schema
        .get("prefixItems")
        .and_then(Value::as_array)
        .and_then(|t| t.get(i))
        .or_else(|| schema.get("items"))
        .cloned()
        .unwrap_or_else(|| json!({}))
}

fn same_instant(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `value` as a newer server would send it: [`UNKNOWN_FIELD`] added to every
/// object that has declared properties (not to maps, whose keys are data),
/// and every string an enum (or `const`) constrains replaced by
/// [`UNKNOWN_VALUE`].
pub fn from_a_newer_server(doc: &Value, schema: &Value, value: &Value) -> Value {
    let schema = flatten(doc, schema);
    let schema = schema.as_ref();
    if let Some(branches) = union_branches(doc, schema)
        && let Some(branch) = branches.iter().find(|b| validate(doc, b, value).is_ok())
    {
        return from_a_newer_server(doc, branch, value);
    }
    let string_enum = match (schema.get("enum"), schema.get("const")) {
        (Some(Value::Array(values)), _) => values.iter().all(|v| v.is_string() || v.is_null()),
        (_, Some(constant)) => constant.is_string(),
        _ => false,
    };
    match value {
        Value::String(_) if string_enum => Value::from(UNKNOWN_VALUE),
        Value::Object(fields) => {
            let mut out = serde_json::Map::new();
            for (name, field) in fields {
                let inner = property_schema(schema, name)
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                out.insert(name.clone(), from_a_newer_server(doc, &inner, field));
            }
            if schema.get("properties").is_some() {
                out.insert(UNKNOWN_FIELD.into(), json!({"nested": [1, "two", null]}));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| from_a_newer_server(doc, &item_schema(schema, i), item))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({"components": {"schemas": {"S": {"type": "object", "required": ["kind"], "properties": {
            "at": {"type": "string", "format": "date-time"},
            "n": {"type": "number"},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "child": {"anyOf": [{"$ref": "#/components/schemas/S"}, {"type": "null"}]},
            "map": {"type": "object", "additionalProperties": {"type": "integer"}},
            "list": {"type": "array", "items": {"type": "string"}}
        }}}}})
    }

    fn s() -> Value {
        json!({"$ref": "#/components/schemas/S"})
    }

    #[test]
    fn only_the_deliberate_differences_pass() {
        let doc = doc();
        let same = |e: Value, a: Value| equivalent(&doc, &s(), &e, &a);
        same(json!({"kind": "a", "n": 1}), json!({"kind": "a", "n": 1.0})).unwrap();
        same(
            json!({"kind": "a", "at": "2026-01-21T10:00:00+00:00"}),
            json!({"kind": "a", "at": "2026-01-21T10:00:00Z"}),
        )
        .unwrap();
        same(json!({"kind": "a", "child": null}), json!({"kind": "a"})).unwrap();

        let differs = |e: Value, a: Value| same(e, a).unwrap_err();
        assert_eq!(
            differs(
                json!({"kind": "a", "child": {"kind": "b", "n": 2}}),
                json!({"kind": "a", "child": {"kind": "b"}})
            ),
            "at `.child.n`: 2 was lost"
        );
        assert_eq!(
            differs(json!({"kind": "a", "list": []}), json!({"kind": "a"})),
            "at `.list`: [] was lost"
        );
        assert_eq!(
            differs(json!({"kind": null}), json!({})),
            "at `.kind`: null was lost"
        );
        assert_eq!(
            differs(json!({"kind": "a"}), json!({"kind": "a", "n": 0})),
            "at `.n`: 0 appeared"
        );
        assert_eq!(
            differs(json!({"kind": "a", "new": true}), json!({"kind": "a"})),
            "at `.new`: true was lost"
        );
        assert_eq!(
            differs(
                json!({"kind": "a", "map": {"k": 1}}),
                json!({"kind": "a", "map": {}})
            ),
            "at `.map.k`: 1 was lost"
        );
    }

    #[test]
    fn a_newer_server_adds_fields_to_objects_but_not_maps_and_new_enum_values() {
        let doc = doc();
        let value = from_a_newer_server(
            &doc,
            &s(),
            &json!({"kind": "a", "child": {"kind": "b", "n": 1}, "map": {"a": 1}, "list": ["x"]}),
        );
        assert!(value[UNKNOWN_FIELD].is_object());
        assert!(value["child"][UNKNOWN_FIELD].is_object());
        assert_eq!(value["kind"], UNKNOWN_VALUE);
        assert_eq!(value["child"]["kind"], UNKNOWN_VALUE);
        assert_eq!(value["map"], json!({"a": 1}));
        assert_eq!(value["list"], json!(["x"]));
    }
}
