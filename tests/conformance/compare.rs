//! What "the same body" means for a typed client: every field that was there
//! is still there with the same value, and a field that appeared is the
//! default the schema declares (a typed client writes defaults out; the
//! server applies the same ones). Date-times compare as instants and numbers
//! as numbers.

use serde_json::{json, Value};

use super::spec::{flatten, property_schema, union_branches};
use super::validate::validate;

/// The field added to every object to check forward compatibility.
pub const UNKNOWN_FIELD: &str = "x_field_from_a_newer_server";

/// What to do with an expected field the schema does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// It must arrive too.
    Keep,
    /// A typed client drops it: only declared fields must arrive.
    Ignore,
}

/// `Ok` if `actual` carries what `expected` does, in the sense above.
pub fn equivalent(
    doc: &Value,
    schema: &Value,
    expected: &Value,
    actual: &Value,
    unknown: Unknown,
) -> Result<(), String> {
    Comparison { doc, unknown }.compare(schema, expected, actual, "")
}

struct Comparison<'a> {
    doc: &'a Value,
    unknown: Unknown,
}

impl Comparison<'_> {
    fn compare(
        &self,
        schema: &Value,
        expected: &Value,
        actual: &Value,
        at: &str,
    ) -> Result<(), String> {
        let doc = self.doc;
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
                return self.compare(branch, expected, actual, at);
            }
        }
        match (expected, actual) {
            (Value::Object(e), Value::Object(a)) => {
                for (name, value) in e {
                    let path = format!("{at}.{name}");
                    let declared = property_schema(schema, name).is_some();
                    if !declared
                        && self.unknown == Unknown::Ignore
                        && schema.get("properties").is_some()
                    {
                        continue;
                    }
                    let required = schema
                        .get("required")
                        .and_then(Value::as_array)
                        .is_some_and(|r| r.iter().any(|n| n == name));
                    let Some(got) = a.get(name) else {
                        // A typed client reads an optional field that is
                        // `null` as `None`, and one that is `[]` or `{}` as
                        // empty, just as if it were absent.
                        if !required && is_empty(value) {
                            continue;
                        }
                        return Err(format!("at `{path}`: {value} was lost"));
                    };
                    let field = property_schema(schema, name)
                        .cloned()
                        .unwrap_or_else(|| json!({}));
                    self.compare(&field, value, got, &path)?;
                }
                for (name, got) in a.iter().filter(|(k, _)| !e.contains_key(*k)) {
                    let default = property_schema(schema, name)
                        .map(|p| flatten(doc, p))
                        .and_then(|p| p.get("default").cloned());
                    if default.as_ref() != Some(got) {
                        return Err(format!(
                        "at `{at}.{name}`: {got} appeared, and it is not the field's default ({})",
                        default.map_or("none".to_string(), |d| d.to_string())
                    ));
                    }
                }
                Ok(())
            }
            (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
                let tuple = schema.get("prefixItems").and_then(Value::as_array);
                for (i, (e, a)) in e.iter().zip(a).enumerate() {
                    let item = tuple
                        .and_then(|t| t.get(i))
                        .or_else(|| schema.get("items"))
                        .cloned()
                        .unwrap_or_else(|| json!({}));
                    self.compare(&item, e, a, &format!("{at}[{i}]"))?;
                }
                Ok(())
            }
            (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => Ok(()),
            (Value::String(e), Value::String(a)) if same_instant(e, a) => Ok(()),
            _ => Err(format!("at `{here}`: expected {expected}, got {actual}")),
        }
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
        _ => false,
    }
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

/// `value` with [`UNKNOWN_FIELD`] added to every object that has declared
/// properties (not to maps, whose keys are data).
pub fn with_unknown_fields(doc: &Value, schema: &Value, value: &Value) -> Value {
    let schema = flatten(doc, schema);
    let schema = schema.as_ref();
    if let Some(branches) = union_branches(doc, schema) {
        if let Some(branch) = branches.iter().find(|b| validate(doc, b, value).is_ok()) {
            return with_unknown_fields(doc, branch, value);
        }
    }
    match value {
        Value::Object(fields) => {
            let mut out = serde_json::Map::new();
            for (name, field) in fields {
                let inner = property_schema(schema, name)
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                out.insert(name.clone(), with_unknown_fields(doc, &inner, field));
            }
            if schema.get("properties").is_some() {
                out.insert(UNKNOWN_FIELD.into(), json!({"nested": [1, "two", null]}));
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let tuple = schema.get("prefixItems").and_then(Value::as_array);
            Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let inner = tuple
                            .and_then(|t| t.get(i))
                            .or_else(|| schema.get("items"))
                            .cloned()
                            .unwrap_or_else(|| json!({}));
                        with_unknown_fields(doc, &inner, item)
                    })
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({"components": {"schemas": {"S": {"type": "object", "properties": {
            "at": {"type": "string", "format": "date-time"},
            "n": {"type": "number"},
            "mode": {"type": "string", "default": "fast"},
            "child": {"anyOf": [{"$ref": "#/components/schemas/S"}, {"type": "null"}]},
            "map": {"type": "object", "additionalProperties": {"type": "integer"}}
        }}}}})
    }

    #[test]
    fn defaults_may_appear_and_nothing_may_be_lost() {
        let doc = doc();
        let s = json!({"$ref": "#/components/schemas/S"});
        let keep = Unknown::Keep;
        equivalent(
            &doc,
            &s,
            &json!({"n": 1}),
            &json!({"n": 1.0, "mode": "fast"}),
            keep,
        )
        .unwrap();
        equivalent(
            &doc,
            &s,
            &json!({"at": "2026-01-21T10:00:00+00:00"}),
            &json!({"at": "2026-01-21T10:00:00Z"}),
            keep,
        )
        .unwrap();
        equivalent(
            &doc,
            &s,
            &json!({"child": null, "map": {}}),
            &json!({}),
            keep,
        )
        .unwrap();
        let err = equivalent(
            &doc,
            &s,
            &json!({"child": {"n": 2}}),
            &json!({"child": {}}),
            keep,
        )
        .unwrap_err();
        assert_eq!(err, "at `.child.n`: 2 was lost");
        let err = equivalent(&doc, &s, &json!({}), &json!({"mode": "slow"}), keep).unwrap_err();
        assert!(err.starts_with("at `.mode`: \"slow\" appeared"), "{err}");
        let unknown = json!({"n": 1, "new": true, "map": {"k": 1}});
        let decoded = json!({"n": 1, "map": {"k": 1}});
        assert!(equivalent(&doc, &s, &unknown, &decoded, keep).is_err());
        equivalent(&doc, &s, &unknown, &decoded, Unknown::Ignore).unwrap();
        let lost_map_key = json!({"n": 1, "map": {}});
        assert!(equivalent(&doc, &s, &unknown, &lost_map_key, Unknown::Ignore).is_err());
    }

    #[test]
    fn unknown_fields_go_into_objects_but_not_maps() {
        let doc = doc();
        let s = json!({"$ref": "#/components/schemas/S"});
        let value = with_unknown_fields(&doc, &s, &json!({"child": {"n": 1}, "map": {"a": 1}}));
        assert!(value[UNKNOWN_FIELD].is_object());
        assert!(value["child"][UNKNOWN_FIELD].is_object());
        assert_eq!(value["map"], json!({"a": 1}));
    }
}
