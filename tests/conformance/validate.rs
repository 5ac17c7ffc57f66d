//! A small JSON Schema validator for the constructs the spec uses (3.1 as
//! upstream writes it, 3.0 as the normalizer lowers it): it checks the
//! example generator, and it tells a fixture that contradicts the spec from
//! one the client should decode.

use serde_json::Value;

use super::examples::{alternatives, hashid_prefix};
use super::spec::flatten;

/// `Ok` if `value` is an instance of `schema`, else where and why not.
pub fn validate(doc: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    check(doc, schema, value, "")
}

fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = flatten(doc, schema);
    let schema = schema.as_ref();
    let fail = |why: String| {
        Err(format!(
            "at `{}`: {why}",
            if at.is_empty() { "." } else { at }
        ))
    };
    if value.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
        return Ok(());
    }
    if let Some(expected) = schema.get("const")
        && value != expected
    {
        return fail(format!("{value} is not the constant {expected}"));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        return fail(format!(
            "{value} is not one of {}",
            Value::Array(values.clone())
        ));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            let errors: Vec<String> = branches
                .iter()
                .filter_map(|b| check(doc, b, value, at).err())
                .collect();
            if errors.len() == branches.len() {
                return fail(format!("no branch of {key} matches: {}", errors.join("; ")));
            }
        }
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.iter().any(|t| has_type(value, t)) {
            return fail(format!("{value} is not of type {}", types.join(" or ")));
        }
    }
    match value {
        Value::String(s) => string(schema, s).or_else(fail),
        Value::Number(_) => number(schema, value).or_else(fail),
        Value::Array(items) => {
            if let Err(e) = length(schema, ("minItems", "maxItems"), items.len()) {
                return fail(format!("{} items: {e}", items.len()));
            }
            let tuple = schema.get("prefixItems").and_then(Value::as_array);
            for (i, item) in items.iter().enumerate() {
                let item_schema = tuple.and_then(|t| t.get(i)).or_else(|| schema.get("items"));
                if let Some(item_schema) = item_schema {
                    check(doc, item_schema, item, &format!("{at}[{i}]"))?;
                }
            }
            Ok(())
        }
        Value::Object(fields) => {
            let missing: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|name| !fields.contains_key(*name))
                .collect();
            if !missing.is_empty() {
                return fail(format!("required field(s) missing: {}", missing.join(", ")));
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            for (name, field) in fields {
                let path = format!("{at}.{name}");
                match (
                    properties.and_then(|p| p.get(name)),
                    schema.get("additionalProperties"),
                ) {
                    (Some(property), _) => check(doc, property, field, &path)?,
                    (None, Some(Value::Bool(false))) => {
                        return fail(format!("field `{name}` is not allowed"))
                    }
                    (None, Some(additional)) if additional.is_object() => {
                        check(doc, additional, field, &path)?
                    }
                    _ => {}
                }
            }
            Ok(())
        }
        Value::Bool(_) | Value::Null => Ok(()),
    }
}

fn has_type(value: &Value, ty: &str) -> bool {
    match ty {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

/// `len` against a pair of bounds (`minItems`/`maxItems`,
/// `minLength`/`maxLength`).
fn length(schema: &Value, (min, max): (&str, &str), len: usize) -> Result<(), String> {
    let bound = |key: &str| schema.get(key).and_then(Value::as_u64);
    let len = len as u64;
    if bound(min).is_some_and(|m| len < m) {
        return Err(format!("fewer than {min}"));
    }
    if bound(max).is_some_and(|m| len > m) {
        return Err(format!("more than {max}"));
    }
    Ok(())
}

fn string(schema: &Value, s: &str) -> Result<(), String> {
    length(schema, ("minLength", "maxLength"), s.chars().count())
        .map_err(|e| format!("{s:?}: {e}"))?;
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        let matches = if let Some(prefix) = hashid_prefix(pattern) {
            s.strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('_'))
                .is_some_and(|rest| !rest.is_empty())
        } else if let Some(choices) = alternatives(pattern) {
            choices.contains(&s)
        } else {
            return Err(format!(
                "the validator does not know the pattern {pattern:?}"
            ));
        };
        if !matches {
            return Err(format!("{s:?} does not match {pattern:?}"));
        }
    }
    match schema.get("format").and_then(Value::as_str) {
        Some("date-time") if chrono::DateTime::parse_from_rfc3339(s).is_err() => Err(format!(
            "{s:?} is not an RFC 3339 date-time (with an offset)"
        )),
        Some("date") if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err() => {
            Err(format!("{s:?} is not a date"))
        }
        Some("decimal") if s.parse::<f64>().is_err() => Err(format!("{s:?} is not a decimal")),
        Some(format) => id_format(format, s),
        None => Ok(()),
    }
}

/// The ID formats the normalizer gives the answers' app ids, compose hashes
/// and VM UUIDs (`type_id_fields`): what the client decodes them as.
fn id_format(format: &str, s: &str) -> Result<(), String> {
    use phala_cloud::ids::{AppId, ComposeHash, QuoteChecksum, VmUuid};
    let parsed = match format {
        "app-id" => s.parse::<AppId>().map(drop),
        "compose-hash" => s.parse::<ComposeHash>().map(drop),
        "vm-uuid" => s.parse::<VmUuid>().map(drop),
        "quote-checksum" => s.parse::<QuoteChecksum>().map(drop),
        _ => Ok(()),
    };
    parsed.map_err(|e| e.to_string())
}

fn number(schema: &Value, value: &Value) -> Result<(), String> {
    let n = value.as_f64().unwrap_or_default();
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    let flag = |key: &str| schema.get(key) == Some(&Value::Bool(true));
    let below = |limit: f64, exclusive: bool| n < limit || (exclusive && n == limit);
    let above = |limit: f64, exclusive: bool| n > limit || (exclusive && n == limit);
    let too_small = bound("minimum").is_some_and(|m| below(m, flag("exclusiveMinimum")))
        || bound("exclusiveMinimum").is_some_and(|m| below(m, true));
    let too_large = bound("maximum").is_some_and(|m| above(m, flag("exclusiveMaximum")))
        || bound("exclusiveMaximum").is_some_and(|m| above(m, true));
    if too_small || too_large {
        return Err(format!("{value} is out of bounds"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refuses_what_the_spec_refuses_and_says_where() {
        let doc = json!({"components": {"schemas": {"Kms": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string", "format": "hashid", "pattern": "^kms_.+"},
                "chain_id": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                "created_at": {"type": "string", "format": "date-time"},
                "protocol": {"type": "string", "pattern": "^(tcp|udp)$"},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 1},
                "size": {"type": "number", "exclusiveMinimum": 0}
            }
        }}}});
        let kms = json!({"$ref": "#/components/schemas/Kms"});
        let ok = json!({"id": "kms_1", "chain_id": null, "created_at": "2026-01-21T00:00:00+00:00",
            "protocol": "udp", "tags": ["a"], "size": 0.5, "unknown": 1});
        validate(&doc, &kms, &ok).unwrap();
        for (bad, why) in [
            (json!({}), "at `.`: required field(s) missing: id"),
            (
                json!({"id": "cvm_1"}),
                "at `.id`: \"cvm_1\" does not match \"^kms_.+\"",
            ),
            (
                json!({"id": "kms_1", "chain_id": "1"}),
                "at `.chain_id`: no branch of anyOf matches",
            ),
            (
                json!({"id": "kms_1", "created_at": "2026-01-21T00:00:00"}),
                "is not an RFC 3339 date-time",
            ),
            (json!({"id": "kms_1", "protocol": "sctp"}), "does not match"),
            (
                json!({"id": "kms_1", "tags": ["a", "b"]}),
                "at `.tags`: 2 items: more than maxItems",
            ),
            (
                json!({"id": "kms_1", "tags": [1]}),
                "at `.tags[0]`: 1 is not of type string",
            ),
            (
                json!({"id": "kms_1", "size": 0}),
                "at `.size`: 0 is out of bounds",
            ),
        ] {
            let err = validate(&doc, &kms, &bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn nullable_and_integer_forms() {
        let doc = json!({});
        validate(
            &doc,
            &json!({"type": "integer", "nullable": true}),
            &json!(null),
        )
        .unwrap();
        validate(&doc, &json!({"type": "integer"}), &json!(2.0)).unwrap();
        assert!(validate(&doc, &json!({"type": "integer"}), &json!(2.5)).is_err());
        assert!(validate(&doc, &json!({"type": "integer"}), &json!(null)).is_err());
        assert!(validate(
            &doc,
            &json!({"type": "object", "additionalProperties": false}),
            &json!({"a": 1})
        )
        .is_err());
    }
}
