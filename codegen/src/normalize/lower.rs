//! OpenAPI 3.1 (JSON Schema 2020-12) constructs lowered to OpenAPI 3.0.3,
//! which is all progenitor's `openapiv3` parser reads.

use serde_json::{Map, Value};

use super::Context;
use crate::walk::schemas;
use crate::SpecError;

/// `type: [T, "null"]` → `type: T, nullable: true`. A union of several
/// non-null types has no 3.0 spelling progenitor understands: refused.
pub fn lower_type_arrays(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, ptr| {
        let Some(Value::Array(types)) = schema.get("type") else {
            return Ok(());
        };
        let nullable = types.iter().any(|t| t == "null");
        let rest: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        match rest.as_slice() {
            [] => {
                schema.insert("type".into(), Value::from("null"));
            }
            [only] => {
                schema.insert("type".into(), only.clone());
                if nullable {
                    schema.insert("nullable".into(), Value::Bool(true));
                }
            }
            _ => {
                return Err(SpecError::at(
                    format!("{ptr}/type"),
                    format!("a union of types {} is not supported", Value::Array(rest)),
                ))
            }
        }
        Ok(())
    })
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").is_some_and(|t| t == "null")
        && schema.as_object().is_some_and(|o| {
            o.keys()
                .all(|k| matches!(k.as_str(), "type" | "title" | "description"))
        })
}

/// `anyOf`/`oneOf` with a `{type: null}` branch → the remaining branch marked
/// `nullable: true`. A lone `$ref` branch becomes `allOf: [$ref]` because
/// OpenAPI 3.0 ignores keywords beside `$ref`; progenitor turns a nullable
/// `allOf` into `Option<T>`.
pub fn lower_nullable_unions(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        for key in ["anyOf", "oneOf"] {
            let Some(Value::Array(branches)) = schema.get(key) else {
                continue;
            };
            if !branches.iter().any(is_null_schema) {
                continue;
            }
            let mut rest: Vec<Value> = branches
                .iter()
                .filter(|b| !is_null_schema(b))
                .cloned()
                .collect();
            schema.remove(key);
            match rest.len() {
                0 => {
                    schema.insert("type".into(), Value::from("null"));
                }
                1 => {
                    let Some(Value::Object(only)) = rest.pop() else {
                        continue;
                    };
                    if only.contains_key("$ref") {
                        schema.insert("allOf".into(), Value::Array(vec![Value::Object(only)]));
                    } else {
                        merge_branch(schema, only);
                    }
                    schema.insert("nullable".into(), Value::Bool(true));
                }
                _ => {
                    schema.insert(key.into(), Value::Array(rest));
                    schema.insert("nullable".into(), Value::Bool(true));
                }
            }
        }
        Ok(())
    })
}

/// Moves a union branch's keywords into the enclosing schema. The enclosing
/// schema's own documentation wins: it describes the field, the branch only
/// the type.
fn merge_branch(schema: &mut Map<String, Value>, branch: Map<String, Value>) {
    for (key, value) in branch {
        let is_doc = matches!(
            key.as_str(),
            "title" | "description" | "default" | "example" | "examples"
        );
        if !(is_doc && schema.contains_key(&key)) {
            schema.insert(key, value);
        }
    }
}

/// A schema that only admits `null` (`{type: "null"}`) has no 3.0 type; it
/// becomes an untyped nullable schema, i.e. an optional JSON value.
pub fn lower_bare_null(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        if schema.get("type").is_some_and(|t| t == "null") {
            schema.remove("type");
            schema.insert("nullable".into(), Value::Bool(true));
        }
        Ok(())
    })
}

/// `const: v` → `enum: [v]`.
pub fn lower_const(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        if let Some(value) = schema.remove("const") {
            schema.insert("enum".into(), Value::Array(vec![value]));
        }
        Ok(())
    })
}

/// A union of single-value enums of one type (`anyOf: [{const: "ext4"},
/// {const: "zfs"}]`, once `const` is lowered) → one enum of all the values.
/// typify would generate an untagged enum of unit enums that neither
/// decodes `"zfs"` nor encodes it as a string.
pub fn merge_enum_unions(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        for key in ["anyOf", "oneOf"] {
            let Some(Value::Array(branches)) = schema.get(key) else {
                continue;
            };
            let only_enums = branches.iter().all(|b| {
                b.get("enum").is_some_and(Value::is_array)
                    && b.as_object().is_some_and(|o| {
                        o.keys().all(|k| {
                            matches!(k.as_str(), "enum" | "type" | "title" | "description")
                        })
                    })
            });
            let types: Vec<Option<&Value>> = branches.iter().map(|b| b.get("type")).collect();
            if branches.is_empty() || !only_enums || types.windows(2).any(|w| w[0] != w[1]) {
                continue;
            }
            let mut values: Vec<Value> = Vec::new();
            for value in branches
                .iter()
                .flat_map(|b| b["enum"].as_array().into_iter().flatten())
            {
                if !values.contains(value) {
                    values.push(value.clone());
                }
            }
            if let Some(Some(ty)) = types.first() {
                schema.insert("type".into(), (*ty).clone());
            }
            schema.insert("enum".into(), Value::Array(values));
            schema.remove(key);
        }
        Ok(())
    })
}

/// An open enum — a union of string enums and a plain string
/// (`attach_mode`: `anyOf: [{enum: [listed, all]}, {type: string}]`, "one of
/// these or any other string") — becomes the plain string, its known values
/// listed in the description. typify generates a struct of two flattened
/// optional fields for it, which neither decodes nor encodes a string.
pub fn lower_open_enums(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        for key in ["anyOf", "oneOf"] {
            let Some(Value::Array(branches)) = schema.get(key) else {
                continue;
            };
            let is_string = |b: &Value| b.get("type").is_some_and(|t| t == "string");
            let is_doc = |k: &str| matches!(k, "type" | "title" | "description");
            let plain = |b: &Value| {
                is_string(b) && b.as_object().is_some_and(|o| o.keys().all(|k| is_doc(k)))
            };
            let string_enum = |b: &Value| {
                is_string(b)
                    && b.get("enum").is_some_and(Value::is_array)
                    && b.as_object()
                        .is_some_and(|o| o.keys().all(|k| k == "enum" || is_doc(k)))
            };
            if !branches.iter().any(plain) || !branches.iter().all(|b| plain(b) || string_enum(b)) {
                continue;
            }
            let known: Vec<String> = branches
                .iter()
                .flat_map(|b| {
                    b.get("enum")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                })
                .map(|v| format!("`{}`", v.as_str().unwrap_or_default()))
                .collect();
            schema.remove(key);
            schema.insert("type".into(), Value::from("string"));
            if !known.is_empty() {
                let note = format!("Known values: {}; others may appear.", known.join(", "));
                let description = match schema.get("description").and_then(Value::as_str) {
                    Some(d) => format!("{d}\n\n{note}"),
                    None => note,
                };
                schema.insert("description".into(), Value::from(description));
            }
        }
        Ok(())
    })
}

/// `examples: [a, …]` → `example: a` (3.0 has a single example per schema).
pub fn lower_examples(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        if let Some(examples) = schema.remove("examples") {
            if let Some(first) = examples.as_array().and_then(|e| e.first()) {
                schema.entry("example").or_insert_with(|| first.clone());
            }
        }
        Ok(())
    })
}

/// Numeric `exclusiveMinimum: n` → `minimum: n, exclusiveMinimum: true`
/// (and likewise for the maximum).
pub fn lower_exclusive_bounds(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        for (exclusive, inclusive) in [
            ("exclusiveMinimum", "minimum"),
            ("exclusiveMaximum", "maximum"),
        ] {
            if let Some(bound @ Value::Number(_)) = schema.get(exclusive).cloned() {
                schema.insert(inclusive.into(), bound);
                schema.insert(exclusive.into(), Value::Bool(true));
            }
        }
        Ok(())
    })
}

/// Tuples (`prefixItems`) become arrays of their common item type (or of any
/// value when the positions differ); `minItems`/`maxItems` keep the length.
pub fn lower_prefix_items(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        let Some(Value::Array(items)) = schema.remove("prefixItems") else {
            return Ok(());
        };
        let common = match items.split_first() {
            Some((first, rest)) if rest.iter().all(|i| i == first) => first.clone(),
            _ => Value::Object(Map::new()),
        };
        schema.insert("items".into(), common);
        Ok(())
    })
}

/// The spec's own string formats. `hashid` with its `^<prefix>_.+` pattern
/// becomes `format: "hashid:<prefix>"`, one distinctive schema per ID kind that
/// the build can map to an ID type, and no regex-validated newtype per field;
/// `decimal` (a decimal number sent as a string) stays a plain string.
pub fn lower_custom_formats(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        match schema.get("format").and_then(Value::as_str) {
            Some("hashid") => {
                let prefix = schema
                    .get("pattern")
                    .and_then(Value::as_str)
                    .and_then(|p| p.strip_prefix('^'))
                    .and_then(|p| p.strip_suffix("_.+"))
                    .map(str::to_string);
                schema.remove("pattern");
                let format = match prefix {
                    Some(prefix) => format!("hashid:{prefix}"),
                    None => "hashid".to_string(),
                };
                schema.insert("format".into(), Value::from(format));
            }
            Some("decimal") => {
                schema.remove("format");
            }
            _ => {}
        }
        Ok(())
    })
}

/// Drops `pattern`: typify turns each into a regex-validated newtype that
/// also refuses server answers a newer server may send (a new protocol in
/// `^(tcp|udp)$`), and needs a regex engine at run time. The server validates
/// requests itself and answers 422 with the failing field.
pub fn drop_patterns(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        schema.remove("pattern");
        Ok(())
    })
}

/// Drops `title` below the component roots. FastAPI titles every property
/// with its humanized name ("Object Type"), and typify names inline types by
/// title: `NodeRef.object_type` (`enum: [node]`) and `CvmRef.object_type`
/// (`enum: [cvm]`) both became one `ObjectType` that only accepts `cvm`.
/// Without titles, inline types are named by where they stand
/// (`NodeRefObjectType`).
pub fn drop_inline_titles(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, ptr| {
        let is_component_root = ptr
            .strip_prefix("/components/schemas/")
            .is_some_and(|rest| !rest.contains('/'));
        if !is_component_root {
            schema.remove("title");
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(rule: fn(&mut Value, &mut Context) -> Result<(), SpecError>, schema: Value) -> Value {
        let mut spec = json!({"paths": {}, "components": {"schemas": {"S": schema}}});
        rule(&mut spec, &mut Context::default()).unwrap();
        spec["components"]["schemas"]["S"].take()
    }

    #[test]
    fn type_array_with_null_becomes_nullable() {
        let out = run(lower_type_arrays, json!({"type": ["string", "null"]}));
        assert_eq!(out, json!({"type": "string", "nullable": true}));
    }

    #[test]
    fn type_union_is_refused_with_pointer() {
        let mut spec = json!({"paths": {}, "components": {"schemas": {"S": {"properties": {"a": {"type": ["string", "integer"]}}}}}});
        let err = lower_type_arrays(&mut spec, &mut Context::default()).unwrap_err();
        assert_eq!(err.pointer, "/components/schemas/S/properties/a/type");
        assert!(err.message.contains("union of types"));
    }

    #[test]
    fn nullable_ref_becomes_nullable_all_of() {
        let out = run(
            lower_nullable_unions,
            json!({"anyOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}], "description": "d"}),
        );
        assert_eq!(
            out,
            json!({"description": "d", "allOf": [{"$ref": "#/components/schemas/A"}], "nullable": true})
        );
    }

    #[test]
    fn nullable_inline_branch_is_merged_keeping_outer_docs() {
        let out = run(
            lower_nullable_unions,
            json!({"anyOf": [{"type": "integer", "title": "inner"}, {"type": "null"}], "title": "Outer", "default": null}),
        );
        assert_eq!(
            out,
            json!({"title": "Outer", "default": null, "type": "integer", "nullable": true})
        );
    }

    #[test]
    fn nullable_union_of_several_keeps_the_union() {
        let out = run(
            lower_nullable_unions,
            json!({"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]}),
        );
        assert_eq!(
            out,
            json!({"anyOf": [{"type": "integer"}, {"type": "string"}], "nullable": true})
        );
    }

    #[test]
    fn nested_unions_are_lowered_too() {
        let out = run(
            lower_nullable_unions,
            json!({"type": "object", "properties": {"a": {"anyOf": [{"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "null"}]}}, {"type": "null"}]}}}),
        );
        assert_eq!(
            out["properties"]["a"],
            json!({"type": "array", "items": {"type": "string", "nullable": true}, "nullable": true})
        );
    }

    #[test]
    fn bare_null_becomes_untyped_nullable() {
        let out = run(lower_bare_null, json!({"type": "null", "title": "Id"}));
        assert_eq!(out, json!({"title": "Id", "nullable": true}));
    }

    #[test]
    fn const_becomes_single_value_enum() {
        let out = run(lower_const, json!({"type": "string", "const": "cvm"}));
        assert_eq!(out, json!({"type": "string", "enum": ["cvm"]}));
    }

    #[test]
    fn examples_become_one_example() {
        assert_eq!(
            run(lower_examples, json!({"examples": [1, 2]})),
            json!({"example": 1})
        );
        assert_eq!(run(lower_examples, json!({"examples": []})), json!({}));
    }

    #[test]
    fn numeric_exclusive_bounds_become_boolean() {
        let out = run(
            lower_exclusive_bounds,
            json!({"type": "number", "exclusiveMinimum": 0.0, "exclusiveMaximum": 5}),
        );
        assert_eq!(
            out,
            json!({"type": "number", "minimum": 0.0, "exclusiveMinimum": true, "maximum": 5, "exclusiveMaximum": true})
        );
        let already = json!({"type": "number", "minimum": 1, "exclusiveMinimum": true});
        assert_eq!(run(lower_exclusive_bounds, already.clone()), already);
    }

    #[test]
    fn homogeneous_tuple_becomes_array() {
        let out = run(
            lower_prefix_items,
            json!({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "integer"}], "minItems": 2, "maxItems": 2}),
        );
        assert_eq!(
            out,
            json!({"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "integer"}})
        );
    }

    #[test]
    fn mixed_tuple_becomes_array_of_any() {
        let out = run(
            lower_prefix_items,
            json!({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]}),
        );
        assert_eq!(out, json!({"type": "array", "items": {}}));
    }

    #[test]
    fn hashid_pattern_becomes_kind_format() {
        let out = run(
            lower_custom_formats,
            json!({"type": "string", "format": "hashid", "pattern": "^kms_.+", "title": "HashedId[kms]"}),
        );
        assert_eq!(
            out,
            json!({"type": "string", "format": "hashid:kms", "title": "HashedId[kms]"})
        );
        let bare = run(
            lower_custom_formats,
            json!({"type": "string", "format": "hashid"}),
        );
        assert_eq!(bare, json!({"type": "string", "format": "hashid"}));
    }

    #[test]
    fn decimal_becomes_plain_string() {
        let out = run(
            lower_custom_formats,
            json!({"type": "string", "format": "decimal"}),
        );
        assert_eq!(out, json!({"type": "string"}));
    }

    #[test]
    fn patterns_are_dropped() {
        assert_eq!(
            run(
                drop_patterns,
                json!({"type": "string", "pattern": "^(tcp|udp)$"})
            ),
            json!({"type": "string"})
        );
    }

    #[test]
    fn titles_below_component_roots_are_dropped() {
        let out = run(
            drop_inline_titles,
            json!({"title": "S", "properties": {"object_type": {"title": "Object Type", "enum": ["node"]}}}),
        );
        assert_eq!(
            out,
            json!({"title": "S", "properties": {"object_type": {"enum": ["node"]}}})
        );
    }

    #[test]
    fn a_union_of_constants_becomes_one_enum() {
        let out = run(
            merge_enum_unions,
            json!({"anyOf": [{"type": "string", "enum": ["ext4"]}, {"type": "string", "enum": ["zfs"]}], "nullable": true, "default": "zfs"}),
        );
        assert_eq!(
            out,
            json!({"nullable": true, "default": "zfs", "type": "string", "enum": ["ext4", "zfs"]})
        );
    }

    #[test]
    fn an_open_enum_becomes_a_string_listing_its_known_values() {
        let out = run(
            lower_open_enums,
            json!({"anyOf": [{"type": "string", "enum": ["listed", "all"]}, {"type": "string"}], "default": "listed", "description": "Mode."}),
        );
        assert_eq!(
            out,
            json!({"default": "listed", "description": "Mode.\n\nKnown values: `listed`, `all`; others may appear.", "type": "string"})
        );
    }

    #[test]
    fn only_unions_of_strings_with_a_plain_string_are_open_enums() {
        for union in [
            json!({"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "string", "enum": ["b"]}]}),
            json!({"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "integer"}]}),
            json!({"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "string", "format": "date-time"}]}),
            json!({"anyOf": [{"type": "object"}, {"type": "string"}]}),
        ] {
            assert_eq!(run(lower_open_enums, union.clone()), union);
        }
    }

    #[test]
    fn unions_of_other_shapes_are_left_alone() {
        for union in [
            json!({"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "integer", "enum": [1]}]}),
            json!({"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "string"}]}),
            json!({"anyOf": [{"type": "string", "enum": ["a"], "format": "x"}, {"type": "string", "enum": ["b"]}]}),
        ] {
            assert_eq!(run(merge_enum_unions, union.clone()), union);
        }
    }
}
