//! Schemas as short type descriptions (`string(date-time) | null`,
//! `array<CvmInfo>`) and objects as flat field lists, so that two revisions
//! compare with string equality and a change reads as `old → new`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// The type a schema describes, in one line. Equal descriptions mean the
/// generated Rust type is the same (up to documentation); `$ref`s stay names.
pub fn describe(schema: &Value) -> String {
    let Some(obj) = schema.as_object() else {
        return if schema == &Value::Bool(false) {
            "never".into()
        } else {
            "any".into()
        };
    };
    if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
        return reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or(reference)
            .to_string();
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(variants) = obj.get(key).and_then(Value::as_array) {
            return union(variants.iter().map(describe));
        }
    }
    if let Some(parts) = obj.get("allOf").and_then(Value::as_array) {
        let parts: Vec<String> = parts.iter().map(describe).collect();
        return parts.join(" & ");
    }
    if let Some(value) = obj.get("const") {
        return format!("const {value}");
    }
    let base = match obj.get("type") {
        Some(Value::String(t)) => single(t, obj),
        Some(Value::Array(types)) => union(
            types
                .iter()
                .filter_map(Value::as_str)
                .map(|t| single(t, obj)),
        ),
        _ if obj.contains_key("properties") => "object".into(),
        _ => "any".into(),
    };
    match obj.get("enum") {
        Some(values) => format!("{base} enum {values}"),
        None => base,
    }
}

fn single(ty: &str, obj: &Map<String, Value>) -> String {
    match ty {
        "array" => match (
            obj.get("prefixItems").and_then(Value::as_array),
            obj.get("items"),
        ) {
            (Some(tuple), _) => {
                let parts: Vec<String> = tuple.iter().map(describe).collect();
                format!("[{}]", parts.join(", "))
            }
            (None, Some(items)) => format!("array<{}>", describe(items)),
            (None, None) => "array<any>".into(),
        },
        "object" => match obj.get("additionalProperties") {
            Some(values @ Value::Object(_)) if !obj.contains_key("properties") => {
                format!("map<{}>", describe(values))
            }
            _ => "object".into(),
        },
        _ => match obj.get("format").and_then(Value::as_str) {
            Some(format) => format!("{ty}({format})"),
            None => ty.to_string(),
        },
    }
}

/// Alternatives in a stable order, `null` last: `anyOf: [null, X]` and
/// `anyOf: [X, null]` are the same type.
fn union(parts: impl Iterator<Item = String>) -> String {
    let parts: BTreeSet<String> = parts.collect();
    let (nulls, mut others): (Vec<String>, Vec<String>) =
        parts.into_iter().partition(|p| p == "null");
    others.extend(nulls);
    others.join(" | ")
}

/// One field of an object schema, or a parameter or a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its [`describe`]d type.
    pub ty: String,
    /// Listed in its object's `required` (`required: true` for inputs).
    pub required: bool,
}

impl Field {
    /// `required` or `optional`.
    pub fn presence(&self) -> &'static str {
        if self.required {
            "required"
        } else {
            "optional"
        }
    }
}

/// The schema's own type under the key `""`, then every property by its path:
/// `name`, and for inline objects `name.inner`, `name[].inner` (array items).
/// Properties of `$ref`ed schemas are not followed: they are compared where
/// they are defined.
pub fn fields(schema: &Value) -> BTreeMap<String, Field> {
    let mut out = BTreeMap::new();
    out.insert(
        String::new(),
        Field {
            ty: describe(schema),
            required: true,
        },
    );
    collect(schema, "", &mut out);
    out
}

fn collect(schema: &Value, prefix: &str, out: &mut BTreeMap<String, Field>) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, property) in properties {
        let path = format!("{prefix}{name}");
        out.insert(
            path.clone(),
            Field {
                ty: describe(property),
                required: required.contains(name.as_str()),
            },
        );
        for (suffix, inner) in inline_objects(property) {
            collect(inner, &format!("{path}{suffix}."), out);
        }
    }
}

/// The inline object schemas a property holds: itself, its array items, or
/// the variants of its union.
fn inline_objects(property: &Value) -> Vec<(&'static str, &Value)> {
    let mut found = Vec::new();
    if property.get("properties").is_some() {
        found.push(("", property));
    }
    if let Some(items) = property
        .get("items")
        .filter(|i| i.get("properties").is_some())
    {
        found.push(("[]", items));
    }
    for key in ["anyOf", "oneOf"] {
        for variant in property
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            found.extend(inline_objects(variant));
        }
    }
    found
}

/// The path of the field holding `path`, if it is nested.
pub fn parent(path: &str) -> Option<&str> {
    path.rsplit_once('.')
        .map(|(parent, _)| parent.strip_suffix("[]").unwrap_or(parent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn describes_types_in_one_line() {
        let d = |v: Value| describe(&v);
        assert_eq!(d(json!({"$ref": "#/components/schemas/Kms"})), "Kms");
        assert_eq!(
            d(json!({"anyOf": [{"type": "null"}, {"type": "string", "format": "date-time"}]})),
            "string(date-time) | null"
        );
        assert_eq!(d(json!({"type": ["integer", "null"]})), "integer | null");
        assert_eq!(
            d(json!({"type": "array", "items": {"$ref": "#/components/schemas/A"}})),
            "array<A>"
        );
        assert_eq!(
            d(json!({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]})),
            "[integer, string]"
        );
        assert_eq!(
            d(json!({"type": "object", "additionalProperties": {"type": "string"}})),
            "map<string>"
        );
        assert_eq!(
            d(json!({"type": "string", "enum": ["a", "b"]})),
            "string enum [\"a\",\"b\"]"
        );
        assert_eq!(d(json!({"const": "node"})), "const \"node\"");
        assert_eq!(d(json!({})), "any");
        assert_eq!(d(json!({"properties": {}})), "object");
    }

    #[test]
    fn flattens_inline_objects_into_paths() {
        let schema = json!({
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "node": {"anyOf": [{"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}, {"type": "null"}]},
                "ports": {"type": "array", "items": {"type": "object", "properties": {"port": {"type": "integer"}}}}
            }
        });
        let fields = fields(&schema);
        let paths: Vec<_> = fields.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            ["", "id", "node", "node.name", "ports", "ports[].port"]
        );
        assert!(fields["id"].required);
        assert!(fields["node.name"].required);
        assert!(!fields["ports[].port"].required);
        assert_eq!(fields["node"].ty, "object | null");
    }

    #[test]
    fn finds_parents() {
        assert_eq!(parent("a.b"), Some("a"));
        assert_eq!(parent("a[].b"), Some("a"));
        assert_eq!(parent("a"), None);
    }
}
