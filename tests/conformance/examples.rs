//! A schema-driven example generator: for any schema of the spec (OpenAPI
//! 3.1 as upstream writes it, or 3.0 as the normalizer lowers it), a
//! *minimal* instance (required fields only, `null` wherever allowed, empty
//! arrays, the smallest numbers) and a *maximal* one (every field, non-null
//! values, two items per array, an entry in every map, numbers past 32 bits,
//! text that needs escaping).

use serde_json::{json, Map, Value};
use support::schema::flatten;

use super::spec::{is_null_only, is_nullable, type_of, union_branches};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Minimal,
    Maximal,
}

/// A plain string in each mode. The maximal one needs escaping in JSON, in a
/// query string and in a path, and is not ASCII.
const TEXT: (&str, &str) = ("", "Ünïcode \"quoted\" a&b=c/d?e#f %20+");
/// Header values must be visible ASCII.
pub const HEADER_TEXT: (&str, &str) = ("", "header-value.1");

/// Instances of `schema` (resolved in `doc`) in `mode`.
pub fn example(doc: &Value, schema: &Value, mode: Mode) -> Value {
    example_with_text(doc, schema, mode, TEXT)
}

/// [`example`] with `text` for plain strings (minimal, maximal).
pub fn example_with_text(
    doc: &Value,
    schema: &Value,
    mode: Mode,
    text: (&'static str, &'static str),
) -> Value {
    Generator {
        doc,
        mode,
        text,
        refs: Vec::new(),
        variant: 0,
    }
    .generate(schema)
}

struct Generator<'a> {
    doc: &'a Value,
    mode: Mode,
    text: (&'static str, &'static str),
    /// The references being expanded, to stop at recursion.
    refs: Vec<String>,
    /// Which branch a maximal union takes, counted from the last: the item's
    /// index inside an array, so that the items of an array of a union
    /// cover different branches.
    variant: usize,
}

impl Generator<'_> {
    fn maximal(&self) -> bool {
        self.mode == Mode::Maximal
    }

    fn generate(&mut self, schema: &Value) -> Value {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let depth = self.refs.iter().filter(|r| *r == reference).count();
            if depth >= 1 && self.maximal() {
                // A recursive schema: the inner occurrence is kept minimal.
                let mode = std::mem::replace(&mut self.mode, Mode::Minimal);
                let value = self.generate(schema);
                self.mode = mode;
                return value;
            }
            if depth >= 2 {
                return Value::Null;
            }
            self.refs.push(reference.to_string());
            let value = self.flat(schema);
            self.refs.pop();
            return value;
        }
        self.flat(schema)
    }

    fn flat(&mut self, schema: &Value) -> Value {
        let doc = self.doc;
        let schema = flatten(doc, schema);
        let schema = schema.as_ref();
        if let Some(value) = schema.get("const") {
            return value.clone();
        }
        if is_null_only(doc, schema) || (is_nullable(doc, schema) && !self.maximal()) {
            return Value::Null;
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            let mut values = values.iter().filter(|v| !v.is_null());
            let chosen = if self.maximal() {
                values.next_back()
            } else {
                values.next()
            };
            return chosen.cloned().unwrap_or(Value::Null);
        }
        if let Some(branches) = union_branches(doc, schema) {
            let chosen = if self.maximal() {
                let from_end = self.variant % branches.len().max(1);
                branches.iter().rev().nth(from_end)
            } else {
                branches.first()
            };
            return chosen.map_or(Value::Null, |b| self.generate(b));
        }
        match type_of(schema) {
            Some("object") => self.object(schema),
            Some("array") => self.array(schema),
            Some("string") => self.string(schema),
            Some("integer") => self.integer(schema),
            Some("number") => self.number(schema),
            Some("boolean") => Value::Bool(self.maximal()),
            Some("null") => Value::Null,
            Some(other) => panic!("no example for type {other:?}"),
            None if self.maximal() => json!({"any": [1, "two", true, null]}),
            None => json!({}),
        }
    }

    fn object(&mut self, schema: &Value) -> Value {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                if self.maximal() || required.contains(&name.as_str()) {
                    out.insert(name.clone(), self.generate(property));
                }
            }
        }
        if self.maximal() {
            match schema.get("additionalProperties") {
                Some(Value::Object(values)) if !values.is_empty() => {
                    let value = self.generate(&Value::Object(values.clone()));
                    out.insert("map_key".into(), value);
                }
                Some(Value::Bool(true)) | Some(Value::Object(_)) | None
                    if schema.get("properties").is_none() =>
                {
                    out.insert("key".into(), json!("value"));
                }
                _ => {}
            }
        }
        Value::Object(out)
    }

    fn array(&mut self, schema: &Value) -> Value {
        if let Some(tuple) = schema.get("prefixItems").and_then(Value::as_array) {
            return Value::Array(tuple.iter().map(|s| self.generate(s)).collect());
        }
        let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = schema
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX);
        let count = if self.maximal() {
            2.clamp(min, max)
        } else {
            min
        };
        let items = schema.get("items").cloned().unwrap_or_else(|| json!({}));
        let variant = self.variant;
        let values = (0..count as usize)
            .map(|i| {
                self.variant = i;
                self.generate(&items)
            })
            .collect();
        self.variant = variant;
        Value::Array(values)
    }

    fn string(&mut self, schema: &Value) -> Value {
        let maximal = self.maximal();
        let pick = |min: &str, max: &str| Value::from(if maximal { max } else { min });
        let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
            if let Some(prefix) = hashid_prefix(pattern) {
                return Value::from(hashid(prefix, maximal));
            }
            let choices = alternatives(pattern).unwrap_or_else(|| {
                panic!("no example for pattern {pattern:?}: teach the generator")
            });
            return pick(choices[0], choices[choices.len() - 1]);
        }
        if let Some(id) = id_example(format, maximal) {
            return Value::from(id);
        }
        match format {
            "date-time" => return pick("2026-01-21T00:00:00Z", "2026-01-21T10:30:00.123456Z"),
            "date" => return pick("2026-01-21", "2026-12-31"),
            "email" => return pick("a@example.com", "dev.ops+phala@example.com"),
            "uri" | "url" => return pick("https://example.com", "https://example.com/a/b?c=d"),
            "uuid" => {
                return pick(
                    "00000000-0000-0000-0000-000000000000",
                    "c48d9363-21b2-4f4a-87d9-3496623f020d",
                )
            }
            "decimal" => return pick("0", "123.456000"),
            "binary" => return pick("", "binary-bytes"),
            _ => {}
        }
        let text = if maximal { self.text.1 } else { self.text.0 };
        let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .map_or(usize::MAX, |m| m as usize);
        let mut s: String = text.chars().take(max).collect();
        while s.chars().count() < min {
            s.push('x');
        }
        Value::from(s)
    }

    fn integer(&mut self, schema: &Value) -> Value {
        let (low, high) = bounds(schema, 1.0);
        let value = if self.maximal() {
            high.unwrap_or(5_000_000_000.0).max(low.unwrap_or(f64::MIN))
        } else {
            low.unwrap_or(0.0)
        };
        Value::from(value as i64)
    }

    fn number(&mut self, schema: &Value) -> Value {
        let (low, high) = bounds(schema, 0.25);
        if self.maximal() {
            let value = high
                .map_or(1.5, |h| h.min(1.5))
                .max(low.unwrap_or(f64::MIN));
            json!(value)
        } else {
            match low {
                Some(low) => json!(low),
                None => json!(0),
            }
        }
    }
}

/// The smallest and largest values `schema` admits, an exclusive bound moved
/// inwards by `step`; in both the 3.1 (numeric) and 3.0 (boolean) forms.
fn bounds(schema: &Value, step: f64) -> (Option<f64>, Option<f64>) {
    let bound = |inclusive: &str, exclusive: &str, sign: f64| match (
        schema.get(inclusive).and_then(Value::as_f64),
        schema.get(exclusive),
    ) {
        (_, Some(Value::Number(n))) => n.as_f64().map(|n| n + sign * step),
        (Some(n), Some(Value::Bool(true))) => Some(n + sign * step),
        (Some(n), _) => Some(n),
        (None, _) => None,
    };
    (
        bound("minimum", "exclusiveMinimum", 1.0),
        bound("maximum", "exclusiveMaximum", -1.0),
    )
}

/// `cvm` for the hashid pattern `^cvm_.+`.
fn hashid_prefix(pattern: &str) -> Option<&str> {
    pattern.strip_prefix('^')?.strip_suffix("_.+")
}

/// `["tcp", "udp"]` for the pattern `^(tcp|udp)$`.
fn alternatives(pattern: &str) -> Option<Vec<&str>> {
    let inner = pattern.strip_prefix("^(")?.strip_suffix(")$")?;
    let choices: Vec<&str> = inner.split('|').collect();
    choices
        .iter()
        .all(|c| {
            c.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        })
        .then_some(choices)
}

fn hashid(prefix: &str, maximal: bool) -> String {
    format!("{prefix}_{}", if maximal { "ykL5lbAn" } else { "0123abcd" })
}

/// A valid value of each ID format the normalizer sets (`hashid:<prefix>`,
/// and the path parameter formats), in its canonical form (the form the
/// client sends).
pub fn id_example(format: &str, maximal: bool) -> Option<String> {
    if let Some(prefix) = format.strip_prefix("hashid:") {
        return Some(hashid(prefix, maximal));
    }
    let (minimal, maximal_value) = match format {
        "cvm-ref" => (
            "app_2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4",
            "cvm_ykL5lbAn",
        ),
        "kms-ref" => ("phala-prod3", "kms_8xNq2bLw"),
        "app-id" => (
            "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4",
            "00000000000000000000000000000000000000ff",
        ),
        "vm-uuid" => (
            "c48d9363-21b2-4f4a-87d9-3496623f020d",
            "123e4567-e89b-42d3-a456-556642440000",
        ),
        "compose-hash" => (
            "ff22c67f1c8d5e4a9b3d2c1e0f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a",
            "0000000000000000000000000000000000000000000000000000000000000001",
        ),
        "quote-checksum" => (
            "9aa049fb9049d4f582ca316206f7cf34ee185c2b5b63370a518921432385b81a",
            "9540fda5e6416c9d02bae726b146be58bee3caccfe7f874dbc68c808a13b1139",
        ),
        "path-segment" => ("cpu", "evt_a1b2c3d4e5f67890"),
        _ => return None,
    };
    Some(if maximal { maximal_value } else { minimal }.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use support::schema::validate;

    fn doc() -> Value {
        json!({"components": {"schemas": {
            "Node": {
                "type": "object",
                "required": ["id", "name", "owner", "kind", "created_at", "tags", "price", "parent"],
                "properties": {
                    "id": {"type": "string", "format": "hashid", "pattern": "^kms_.+"},
                    "name": {"type": "string", "minLength": 3, "maxLength": 8},
                    "owner": {"anyOf": [{"$ref": "#/components/schemas/Owner"}, {"type": "null"}]},
                    "kind": {"type": "string", "enum": ["node", "cluster"]},
                    "created_at": {"type": "string", "format": "date-time"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "price": {"type": "string", "format": "decimal"},
                    "parent": {"anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]},
                    "labels": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "ratio": {"type": "number", "exclusiveMaximum": 1},
                    "count": {"type": ["integer", "null"], "minimum": 1},
                    "protocol": {"type": "string", "pattern": "^(tcp|udp)$"},
                    "version": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]},
                    "object_type": {"const": "node"},
                    "gone": {"type": "null"},
                    "legacy": {"type": "integer", "nullable": true}
                }
            },
            "Owner": {"type": "object", "required": ["user"], "properties": {
                "user": {"type": "string", "format": "hashid", "pattern": "^usr_.+"},
                "since": {"type": "string", "format": "date"}
            }}
        }}})
    }

    fn node() -> Value {
        json!({"$ref": "#/components/schemas/Node"})
    }

    #[test]
    fn minimal_has_required_fields_only_and_nulls_where_allowed() {
        let doc = doc();
        let value = example(&doc, &node(), Mode::Minimal);
        assert_eq!(
            value,
            json!({
                "id": "kms_0123abcd",
                "name": "xxx",
                "owner": null,
                "kind": "node",
                "created_at": "2026-01-21T00:00:00Z",
                "tags": [],
                "price": "0",
                "parent": null
            })
        );
        validate(&doc, &node(), &value).unwrap();
    }

    #[test]
    fn maximal_has_every_field_nested_objects_maps_and_two_items_per_array() {
        let doc = doc();
        let value = example(&doc, &node(), Mode::Maximal);
        validate(&doc, &node(), &value).unwrap();
        assert_eq!(value["id"], "kms_ykL5lbAn");
        assert_eq!(value["name"], "Ünïcode ");
        assert_eq!(
            value["owner"],
            json!({"user": "usr_ykL5lbAn", "since": "2026-12-31"})
        );
        assert_eq!(value["kind"], "cluster");
        assert_eq!(value["created_at"], "2026-01-21T10:30:00.123456Z");
        assert_eq!(value["tags"].as_array().unwrap().len(), 2);
        assert_eq!(value["price"], "123.456000");
        assert_eq!(value["labels"], json!({"map_key": 5_000_000_000_i64}));
        assert_eq!(value["ratio"], json!(0.75));
        assert_eq!(value["count"], json!(5_000_000_000_i64));
        assert_eq!(value["protocol"], "udp");
        assert_eq!(
            value["version"],
            json!([5_000_000_000_i64, "Ünïcode \"quoted\" a&b=c/d?e#f %20+"])
        );
        assert_eq!(value["object_type"], "node");
        assert_eq!(value["gone"], Value::Null);
        assert_eq!(value["legacy"], json!(5_000_000_000_i64));
        // The recursive `parent` is expanded once, minimally.
        assert_eq!(value["parent"]["kind"], "node");
        assert_eq!(value["parent"]["parent"], Value::Null);
    }

    #[test]
    fn the_id_formats_have_examples_the_id_types_accept() {
        use phala_cloud::ids::*;
        for maximal in [false, true] {
            let id = |f| id_example(f, maximal).unwrap();
            id("cvm-ref").parse::<CvmRef>().unwrap();
            id("kms-ref").parse::<KmsRef>().unwrap();
            id("app-id").parse::<AppId>().unwrap();
            id("vm-uuid").parse::<VmUuid>().unwrap();
            id("compose-hash").parse::<ComposeHash>().unwrap();
            id("quote-checksum").parse::<QuoteChecksum>().unwrap();
            id("path-segment").parse::<PathSegment>().unwrap();
            id("hashid:cvm").parse::<CvmId>().unwrap();
        }
        assert_eq!(id_example("email", true), None);
    }

    #[test]
    fn unions_take_the_first_branch_when_minimal_and_the_last_when_maximal() {
        let doc = json!({});
        let schema = json!({"anyOf": [{"type": "integer"}, {"type": "boolean"}]});
        assert_eq!(example(&doc, &schema, Mode::Minimal), json!(0));
        assert_eq!(example(&doc, &schema, Mode::Maximal), json!(true));
        let list = json!({"type": "array", "items": schema});
        assert_eq!(
            example(&doc, &list, Mode::Maximal),
            json!([true, 5_000_000_000_i64])
        );
        let untyped = json!({});
        assert_eq!(example(&doc, &untyped, Mode::Minimal), json!({}));
        validate(&doc, &untyped, &example(&doc, &untyped, Mode::Maximal)).unwrap();
    }
}
