//! The JSON Schema validator of the test suite, for the constructs the spec
//! uses — OpenAPI 3.1 as upstream writes it, 3.0 as the normalizer lowers
//! it: `$ref` (followed by [`phala_cloud_codegen::reference`]), `allOf`
//! (merged, [`flatten`]), `anyOf`/`oneOf` (one branch must match),
//! `nullable` and `type: [T, "null"]`, `const`, `enum`, `type`, `pattern`,
//! the `hashid:<prefix>`, date, date-time, decimal and ID formats, string
//! and array lengths, number bounds, `required`, `properties`,
//! `additionalProperties` (`false` closes an object, a schema types the
//! other fields), `items` and `prefixItems`.
//!
//! It checks the conformance suite's example generator, tells a fixture
//! that contradicts the spec from one the client should decode, and checks
//! the mock's sample data against the operations that answer it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use phala_cloud_codegen::reference;
use regex::Regex;
use serde_json::{Map, Value};

/// `Ok` if `value` is an instance of `schema` (its `$ref`s resolved in
/// `doc`), else every violation, one a line, each saying where.
pub fn validate(doc: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    let found = violations(doc, schema, value);
    if found.is_empty() {
        Ok(())
    } else {
        Err(found.join("\n"))
    }
}

/// Every way `value` breaks `schema`: ``at `.items[0].id`: why``.
pub fn violations(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(doc, schema, value, "", &mut found);
    found
}

fn check(doc: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    let schema = flatten(doc, schema);
    let schema = schema.as_ref();
    let here = if at.is_empty() { "." } else { at };
    let fail = |why: String| format!("at `{here}`: {why}");
    if value.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
        return;
    }
    if let Some(expected) = schema.get("const")
        && value != expected
    {
        found.push(fail(format!("{value} is not the constant {expected}")));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        found.push(fail(format!(
            "{value} is not one of {}",
            Value::Array(values.clone())
        )));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            let errors: Vec<Vec<String>> = branches
                .iter()
                .map(|b| violations_at(doc, b, value, at))
                .collect();
            if errors.iter().all(|e| !e.is_empty()) {
                let errors: Vec<String> = errors.into_iter().map(|e| e.join("; ")).collect();
                found.push(fail(format!(
                    "no branch of {key} matches: {}",
                    errors.join(" | ")
                )));
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
            // Nothing below means anything for a value of the wrong type.
            return found.push(fail(format!(
                "{value} is not of type {}",
                types.join(" or ")
            )));
        }
    }
    match value {
        Value::String(s) => {
            if let Err(why) = string(schema, s) {
                found.push(fail(why));
            }
        }
        Value::Number(_) => {
            if let Err(why) = number(schema, value) {
                found.push(fail(why));
            }
        }
        Value::Array(items) => {
            if let Err(e) = length(schema, ("minItems", "maxItems"), items.len()) {
                found.push(fail(format!("{} items: {e}", items.len())));
            }
            let tuple = schema.get("prefixItems").and_then(Value::as_array);
            for (i, item) in items.iter().enumerate() {
                let item_schema = tuple.and_then(|t| t.get(i)).or_else(|| schema.get("items"));
                if let Some(item_schema) = item_schema {
                    check(doc, item_schema, item, &format!("{at}[{i}]"), found);
                }
            }
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
                found.push(fail(format!(
                    "required field(s) missing: {}",
                    missing.join(", ")
                )));
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            for (name, field) in fields {
                let path = format!("{at}.{name}");
                match (
                    properties.and_then(|p| p.get(name)),
                    schema.get("additionalProperties"),
                ) {
                    (Some(property), _) => check(doc, property, field, &path, found),
                    (None, Some(Value::Bool(false))) => found.push(format!(
                        "at `{}`: field `{name}` is not allowed",
                        if at.is_empty() { "." } else { at }
                    )),
                    (None, Some(additional)) if additional.is_object() => {
                        check(doc, additional, field, &path, found)
                    }
                    _ => {}
                }
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

fn violations_at(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut found = Vec::new();
    check(doc, schema, value, at, &mut found);
    found
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
    let format = schema.get("format").and_then(Value::as_str);
    // The normalizer turns a hashid's `^cvm_.+` pattern into the format
    // `hashid:cvm`.
    let hashid = format
        .and_then(|f| f.strip_prefix("hashid:"))
        .map(|prefix| format!("^{prefix}_.+"));
    let pattern = schema
        .get("pattern")
        .and_then(Value::as_str)
        .or(hashid.as_deref());
    if let Some(pattern) = pattern
        && !matches(pattern, s)?
    {
        return Err(format!("{s:?} does not match {pattern:?}"));
    }
    match format {
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

/// Whether `s` matches `pattern`, each pattern compiled once per test
/// binary (the suite checks thousands of values against a few patterns).
fn matches(pattern: &str, s: &str) -> Result<bool, String> {
    static COMPILED: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let mut compiled = COMPILED.get_or_init(Default::default).lock().unwrap();
    if !compiled.contains_key(pattern) {
        let regex = Regex::new(pattern)
            .map_err(|e| format!("the validator cannot read the pattern {pattern:?}: {e}"))?;
        compiled.insert(pattern.to_string(), regex);
    }
    Ok(compiled[pattern].is_match(s))
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

/// `schema` with its `$ref`s followed and its `allOf` merged into one schema
/// (properties and `required` united, the first of any other keyword kept;
/// the schema's own keywords win over its target's). A reference that does
/// not resolve is a broken spec: it panics, naming it.
pub fn flatten<'a>(doc: &'a Value, schema: &'a Value) -> Cow<'a, Value> {
    let Some(map) = schema.as_object() else {
        return Cow::Borrowed(schema);
    };
    let target = reference::target(doc, schema)
        .map(|t| t.unwrap_or_else(|r| panic!("a reference that does not resolve: {r}")));
    let all_of = map.get("allOf").and_then(Value::as_array);
    if target.is_none() && all_of.is_none() {
        return Cow::Borrowed(schema);
    }
    let mut merged = Map::new();
    let own: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| *k != "$ref" && *k != "allOf")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    merge_into(&mut merged, &own);
    if let Some(target) = target
        && let Value::Object(t) = flatten(doc, target).as_ref()
    {
        merge_into(&mut merged, t);
    }
    for branch in all_of.into_iter().flatten() {
        if let Value::Object(b) = flatten(doc, branch).as_ref() {
            merge_into(&mut merged, b);
        }
    }
    Cow::Owned(Value::Object(merged))
}

fn merge_into(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (key, value) in from {
        match (key.as_str(), into.get_mut(key), value) {
            ("properties", Some(Value::Object(have)), Value::Object(more)) => {
                for (k, v) in more {
                    have.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            ("required", Some(Value::Array(have)), Value::Array(more)) => {
                for v in more {
                    if !have.contains(v) {
                        have.push(v.clone());
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, _) => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `value`'s violations of `schema` (no references).
    fn errors(schema: Value, value: Value) -> Vec<String> {
        violations(&json!({}), &schema, &value)
    }

    #[test]
    fn types_one_or_several_and_integers_written_as_floats() {
        for (ty, good, bad) in [
            ("string", json!("a"), json!(1)),
            ("boolean", json!(true), json!("true")),
            ("object", json!({}), json!([])),
            ("array", json!([]), json!({})),
            ("number", json!(0.5), json!("0.5")),
            ("integer", json!(2.0), json!(2.5)),
            ("null", json!(null), json!(0)),
        ] {
            assert_eq!(errors(json!({"type": ty}), good), Vec::<String>::new());
            assert_eq!(
                errors(json!({"type": ty}), bad.clone()),
                [format!("at `.`: {bad} is not of type {ty}")]
            );
        }
        let either = json!({"type": ["string", "null"]});
        assert!(errors(either.clone(), json!(null)).is_empty());
        assert_eq!(
            errors(either, json!(1)),
            ["at `.`: 1 is not of type string or null"]
        );
        assert_eq!(
            errors(json!({"type": "tuple"}), json!([])),
            ["at `.`: [] is not of type tuple"]
        );
    }

    #[test]
    fn nullable_admits_null_and_only_null() {
        let schema = json!({"type": "integer", "nullable": true});
        assert!(errors(schema.clone(), json!(null)).is_empty());
        assert_eq!(errors(schema, json!("1")).len(), 1);
        assert_eq!(errors(json!({"type": "integer"}), json!(null)).len(), 1);
    }

    #[test]
    fn required_properties_and_additional_properties() {
        let closed = json!({
            "type": "object", "required": ["id", "name"], "additionalProperties": false,
            "properties": {"id": {"type": "string"}, "name": {"type": "string"}}
        });
        assert_eq!(
            errors(closed.clone(), json!({"id": 1, "x": 1})),
            [
                "at `.`: required field(s) missing: name",
                "at `.id`: 1 is not of type string",
                "at `.`: field `x` is not allowed",
            ]
        );
        // Open by default; an `additionalProperties` schema types the rest.
        let open = json!({"properties": {"id": {"type": "string"}}});
        assert!(errors(open, json!({"id": "a", "x": 1})).is_empty());
        let map = json!({"type": "object", "additionalProperties": {"type": "integer"}});
        assert!(errors(map.clone(), json!({"a": 1})).is_empty());
        assert_eq!(
            errors(map, json!({"a": "1"})),
            ["at `.a`: \"1\" is not of type integer"]
        );
    }

    #[test]
    fn enum_and_const() {
        let kms = json!({"nullable": true, "enum": ["phala", "base"]});
        assert!(errors(kms.clone(), json!("base")).is_empty());
        assert!(errors(kms.clone(), json!(null)).is_empty());
        assert_eq!(
            errors(kms, json!("tpm")),
            [r#"at `.`: "tpm" is not one of ["phala","base"]"#]
        );
        assert_eq!(
            errors(json!({"const": "v1"}), json!("v2")),
            [r#"at `.`: "v2" is not the constant "v1""#]
        );
    }

    #[test]
    fn any_of_and_one_of_need_a_branch_that_matches() {
        for key in ["anyOf", "oneOf"] {
            let schema = json!({key: [{"type": "integer"}, {"type": "null"}]});
            assert!(errors(schema.clone(), json!(1)).is_empty());
            assert!(errors(schema.clone(), json!(null)).is_empty());
            let found = errors(schema, json!("1"));
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(
                found[0].starts_with(&format!("at `.`: no branch of {key} matches: ")),
                "{found:?}"
            );
        }
    }

    #[test]
    fn all_of_and_refs_merge_into_one_schema() {
        let doc = json!({"components": {"schemas": {
            "Named": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
            "Cvm": {"allOf": [
                {"$ref": "#/components/schemas/Named"},
                {"required": ["id"], "properties": {"id": {"type": "string", "pattern": "^cvm_.+"}}}
            ]}
        }}});
        // The normalizer's nullable reference.
        let cvm = json!({"allOf": [{"$ref": "#/components/schemas/Cvm"}], "nullable": true});
        assert!(violations(&doc, &cvm, &json!(null)).is_empty());
        assert!(violations(&doc, &cvm, &json!({"name": "a", "id": "cvm_1"})).is_empty());
        assert_eq!(
            violations(&doc, &cvm, &json!({"id": "app_1"})),
            [
                "at `.`: required field(s) missing: name",
                r#"at `.id`: "app_1" does not match "^cvm_.+""#,
            ]
        );
        let flat = flatten(&doc, &cvm);
        assert_eq!(flat["required"], json!(["name", "id"]));
        assert_eq!(flat["nullable"], json!(true));
    }

    #[test]
    #[should_panic(expected = "a reference that does not resolve: #/components/schemas/Gone")]
    fn a_dangling_reference_names_itself() {
        validate(
            &json!({}),
            &json!({"$ref": "#/components/schemas/Gone"}),
            &json!(1),
        )
        .ok();
    }

    #[test]
    fn patterns_and_formats() {
        let hashid = json!({"type": "string", "format": "hashid:cvm"});
        assert!(errors(hashid.clone(), json!("cvm_ykL5lbAn")).is_empty());
        assert_eq!(
            errors(hashid, json!("ykL5lbAn")),
            [r#"at `.`: "ykL5lbAn" does not match "^cvm_.+""#]
        );
        let protocol = json!({"pattern": "^(tcp|udp)$"});
        assert!(errors(protocol.clone(), json!("udp")).is_empty());
        assert_eq!(errors(protocol, json!("sctp")).len(), 1);
        assert_eq!(
            errors(json!({"pattern": "("}), json!("a")).len(),
            1,
            "a pattern the validator cannot read is a violation, not a pass"
        );
        for (format, good, bad, why) in [
            (
                "date-time",
                "2026-01-21T00:00:00+00:00",
                "2026-01-21T00:00:00",
                "is not an RFC 3339 date-time",
            ),
            ("date", "2026-12-31", "31.12.2026", "is not a date"),
            ("decimal", "12.50", "twelve", "is not a decimal"),
            (
                "app-id",
                "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4",
                "2a7b",
                "",
            ),
            (
                "compose-hash",
                "5d1a9e3f7b2c8d4e6f0a1b3c5d7e9f2a4b6c8d0e1f3a5b7c9d2e4f6a8b0c1d3e",
                "5d1a",
                "",
            ),
            (
                "vm-uuid",
                "0b6f2c4e-5a1d-4e8f-9c3b-7d2a1e6f4b80",
                "0b6f",
                "",
            ),
        ] {
            let schema = json!({"type": "string", "format": format});
            assert!(errors(schema.clone(), json!(good)).is_empty(), "{format}");
            let found = errors(schema, json!(bad));
            assert_eq!(found.len(), 1, "{format}: {found:?}");
            assert!(found[0].contains(why), "{format}: {found:?}");
        }
        // A format it does not know restricts nothing.
        assert!(errors(json!({"format": "email"}), json!("x")).is_empty());
    }

    #[test]
    fn lengths_items_and_bounds() {
        let tags = json!({"type": "array", "items": {"type": "string"}, "maxItems": 1});
        assert_eq!(
            errors(tags.clone(), json!(["a", "b"])),
            ["at `.`: 2 items: more than maxItems"]
        );
        assert_eq!(
            errors(tags, json!([1])),
            ["at `[0]`: 1 is not of type string"]
        );
        let pair = json!({"prefixItems": [{"type": "string"}, {"type": "integer"}], "minItems": 2});
        assert!(errors(pair.clone(), json!(["a", 1])).is_empty());
        assert_eq!(errors(pair.clone(), json!([1, 1])).len(), 1);
        assert_eq!(
            errors(pair, json!(["a"])),
            ["at `.`: 1 items: fewer than minItems"]
        );
        assert_eq!(
            errors(json!({"maxLength": 2}), json!("abc")),
            [r#"at `.`: "abc": more than maxLength"#]
        );
        for (schema, good, bad) in [
            (json!({"exclusiveMinimum": 0}), 0.5, 0.0),
            (json!({"minimum": 0, "exclusiveMinimum": true}), 0.5, 0.0),
            (json!({"maximum": 10}), 10.0, 10.5),
            (json!({"exclusiveMaximum": 10}), 9.5, 10.0),
        ] {
            assert!(errors(schema.clone(), json!(good)).is_empty(), "{schema}");
            assert_eq!(
                errors(schema.clone(), json!(bad)),
                [format!("at `.`: {} is out of bounds", json!(bad))],
                "{schema}"
            );
        }
    }

    #[test]
    fn counts_every_violation_of_a_closed_object() {
        let doc = json!({"components": {"schemas": {"Cvm": {
            "type": "object", "required": ["id"], "additionalProperties": false,
            "properties": {
                "id": {"type": "string", "pattern": "^cvm_.+"},
                "kms_type": {"nullable": true, "enum": ["phala", "base"]},
                "vcpu": {"anyOf": [{"type": "integer"}, {"type": "string"}]}
            }
        }}}});
        let schema = json!({"$ref": "#/components/schemas/Cvm"});
        let check = |value: Value| violations(&doc, &schema, &value).len();
        assert_eq!(
            check(json!({"id": "cvm_a", "kms_type": null, "vcpu": 2})),
            0
        );
        assert_eq!(check(json!({"id": "app_a"})), 1);
        assert_eq!(check(json!({"kms_type": "tpm"})), 2);
        assert_eq!(check(json!({"id": "cvm_a", "vcpu": true, "x": 1})), 2);
    }

    #[test]
    fn every_violation_is_reported_with_where() {
        let doc = json!({"components": {"schemas": {"Kms": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string", "format": "hashid", "pattern": "^kms_.+"},
                "chain_id": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                "tags": {"type": "array", "items": {"type": "string"}}
            }
        }}}});
        let kms = json!({"$ref": "#/components/schemas/Kms"});
        let bad = json!({"chain_id": "1", "tags": ["a", 2], "unknown": 1});
        let err = validate(&doc, &kms, &bad).unwrap_err();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 3, "{err}");
        assert_eq!(lines[0], "at `.`: required field(s) missing: id");
        assert!(lines[1].starts_with("at `.chain_id`: no branch of anyOf matches"));
        assert_eq!(lines[2], "at `.tags[1]`: 2 is not of type string");
        validate(&doc, &kms, &json!({"id": "kms_1", "chain_id": null})).unwrap();
    }
}
