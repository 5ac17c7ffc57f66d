//! Unions (`anyOf`/`oneOf` left once nullability is lowered) become sum
//! types: typify turns an `anyOf` of object shapes into a struct of
//! `#[serde(flatten)] subtype_N: Option<…>` fields, where the first shape
//! whose fields are all optional swallows every body (and `{"unrelated": 1}`
//! decodes as an app). As a `oneOf` it generates an untagged enum, whose
//! variants serde tries in order; so the branches are put in order, most
//! specific first, and a body no branch takes is a decoding error.

use std::cmp::Reverse;

use serde_json::{Map, Value};

use super::Context;
use crate::pointer::join;
use crate::walk::{referenced, schemas};
use crate::SpecError;

/// A union branch as an object shape: its schema (the component a `$ref`
/// points to, or the branch itself) and where that schema is.
fn object_branch<'a>(
    doc: &'a Value,
    branch: &'a Value,
    ptr: String,
) -> Option<(&'a Value, String)> {
    let (schema, ptr) = referenced(doc, branch).unwrap_or((branch, ptr));
    schema
        .get("properties")
        .is_some_and(Value::is_object)
        .then_some((schema, ptr))
}

/// In a union of object shapes, a property one branch leaves untyped —
/// `DstackAppMinimalResponse.name: {type: null}` upstream ("this shape has
/// no name"), which `lower_bare_null` made `{nullable: true}` — while another
/// types it (`DstackAppFullResponse.name: {type: string}`) takes that type,
/// nullable. Otherwise the field would be an untyped value, and the variants
/// would share no field type for a common accessor (`app.name()`); a value
/// the server does send there is typed like the same field of the other
/// shapes.
///
/// Runs after `dispatch_versions`, so that the type comes from a shape of
/// the pinned version, not from a legacy one the union also lists.
pub fn type_untyped_union_fields(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    let doc = spec.clone();
    let mut edits: Vec<(String, Value)> = Vec::new();
    schemas(&mut spec.clone(), &mut |schema, ptr| {
        for key in ["anyOf", "oneOf"] {
            let Some(Value::Array(branches)) = schema.get(key) else {
                continue;
            };
            let shapes: Vec<(&Value, String)> = branches
                .iter()
                .enumerate()
                .filter_map(|(i, b)| object_branch(&doc, b, join(&join(ptr, key), &i.to_string())))
                .collect();
            if shapes.len() < 2 {
                continue;
            }
            for (shape, shape_ptr) in &shapes {
                for (name, property) in shape["properties"].as_object().into_iter().flatten() {
                    if !is_untyped_nullable(property) {
                        continue;
                    }
                    let typed = shapes
                        .iter()
                        .filter_map(|(other, _)| other["properties"].get(name))
                        .find(|p| !is_untyped_nullable(p));
                    if let Some(typed) = typed {
                        let at = join(&join(shape_ptr, "properties"), name);
                        edits.push((at, nullable(typed, property)));
                    }
                }
            }
        }
        Ok(())
    })?;
    for (ptr, value) in edits {
        if let Some(slot) = spec.pointer_mut(&ptr) {
            *slot = value;
        }
    }
    Ok(())
}

/// `{nullable: true}` and documentation: a lowered `{type: null}`.
fn is_untyped_nullable(schema: &Value) -> bool {
    schema.get("nullable").is_some_and(|n| n == true)
        && schema.as_object().is_some_and(|o| {
            o.keys()
                .all(|k| matches!(k.as_str(), "nullable" | "title" | "description"))
        })
}

/// `typed`, also admitting `null`, documented as `null_only` is if it says
/// more. A `$ref` is wrapped in a one-element `allOf`, as
/// `lower_nullable_unions` writes a nullable reference.
fn nullable(typed: &Value, null_only: &Value) -> Value {
    let mut out = match typed.get("$ref") {
        Some(reference) => {
            let mut only = Map::new();
            only.insert("$ref".into(), reference.clone());
            let mut wrapped = Map::new();
            wrapped.insert("allOf".into(), Value::Array(vec![Value::Object(only)]));
            wrapped
        }
        None => typed.as_object().cloned().unwrap_or_default(),
    };
    if let Some(description) = null_only.get("description") {
        out.insert("description".into(), description.clone());
    }
    out.insert("nullable".into(), Value::Bool(true));
    Value::Object(out)
}

/// How specific a branch is, greater first: an object shape with more
/// required fields, then more fields; then any other typed branch; an
/// untyped branch (any value) last.
fn specificity(doc: &Value, branch: &Value) -> (u8, usize, usize) {
    let schema = referenced(doc, branch).map_or(branch, |(s, _)| s);
    let count = |key: &str| {
        schema.get(key).map_or(0, |v| match v {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => 0,
        })
    };
    let is_object =
        schema.get("type").is_some_and(|t| t == "object") || schema.get("properties").is_some();
    let untyped = schema.as_object().is_some_and(|o| {
        o.keys().all(|k| {
            matches!(
                k.as_str(),
                "title" | "description" | "nullable" | "example" | "default"
            )
        })
    });
    match (is_object, untyped) {
        (true, _) => (2, count("required"), count("properties")),
        (false, true) => (0, 0, 0),
        (false, false) => (1, 0, 0),
    }
}

/// Every union becomes a `oneOf` with its branches in order of
/// [`specificity`] (a stable sort: equally specific branches keep the
/// spec's order). The generated enum tries its variants in that order, so
/// `anyOf: [Minimal, Full]` decodes a full body as `Full` and a minimal one
/// as `Minimal`, and fails when no branch's required fields are all there.
/// An `anyOf` is a `oneOf` that may match several branches; trying the most
/// specific first picks the one that keeps the most. A schema with both
/// keywords is refused: no single enum expresses it.
///
/// Runs after `dispatch_versions`, which reads the version unions as `anyOf`.
pub fn order_union_branches(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    let doc = spec.clone();
    schemas(spec, &mut |schema, ptr| {
        if schema.contains_key("anyOf") && schema.contains_key("oneOf") {
            return Err(SpecError::at(
                ptr,
                "a schema with both `anyOf` and `oneOf` is not supported",
            ));
        }
        let Some(Value::Array(mut branches)) =
            schema.remove("anyOf").or_else(|| schema.remove("oneOf"))
        else {
            return Ok(());
        };
        branches.sort_by_key(|b| Reverse(specificity(&doc, b)));
        schema.insert("oneOf".into(), Value::Array(branches));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(union: Value) -> Value {
        json!({"paths": {}, "components": {"schemas": {
            "U": union,
            "Minimal": {"type": "object", "required": ["app_id"], "properties": {
                "app_id": {"type": "string"},
                "name": {"nullable": true, "title": "Name"},
                "profile": {"nullable": true},
                "gone": {"nullable": true},
                "any": {}
            }},
            "Full": {"type": "object", "required": ["app_id", "name"], "properties": {
                "app_id": {"type": "string"},
                "name": {"type": "string", "description": "The app's name."},
                "profile": {"allOf": [{"$ref": "#/components/schemas/Profile"}], "nullable": true}
            }},
            "Profile": {"type": "object", "properties": {"bio": {"type": "string"}}}
        }}})
    }

    fn union_of(key: &str, names: &[&str]) -> Value {
        let refs: Vec<Value> = names
            .iter()
            .map(|n| json!({"$ref": format!("#/components/schemas/{n}")}))
            .collect();
        json!({ key: refs })
    }

    #[test]
    fn an_untyped_field_takes_the_type_of_the_same_field_in_another_branch() {
        let mut s = spec(union_of("anyOf", &["Minimal", "Full"]));
        type_untyped_union_fields(&mut s, &mut Context::default()).unwrap();
        let minimal = &s["components"]["schemas"]["Minimal"]["properties"];
        assert_eq!(
            minimal["name"],
            json!({"type": "string", "description": "The app's name.", "nullable": true})
        );
        assert_eq!(
            minimal["profile"],
            json!({"allOf": [{"$ref": "#/components/schemas/Profile"}], "nullable": true})
        );
        // No other branch types it: it stays untyped.
        assert_eq!(minimal["gone"], json!({"nullable": true}));
        assert_eq!(minimal["any"], json!({}));
        assert_eq!(
            s["components"]["schemas"]["Full"]["properties"]["name"]["type"],
            "string"
        );
    }

    #[test]
    fn fields_outside_unions_of_objects_are_left_alone() {
        let untouched =
            spec(json!({"anyOf": [{"$ref": "#/components/schemas/Minimal"}, {"type": "string"}]}));
        let mut s = untouched.clone();
        type_untyped_union_fields(&mut s, &mut Context::default()).unwrap();
        assert_eq!(s, untouched);
    }

    #[test]
    fn inline_branches_are_typed_in_place() {
        let mut s = spec(json!({"oneOf": [
            {"type": "object", "properties": {"a": {"nullable": true}}},
            {"type": "object", "properties": {"a": {"type": "integer"}}}
        ]}));
        type_untyped_union_fields(&mut s, &mut Context::default()).unwrap();
        assert_eq!(
            s["components"]["schemas"]["U"]["oneOf"][0]["properties"]["a"],
            json!({"type": "integer", "nullable": true})
        );
    }

    #[test]
    fn branches_are_ordered_most_specific_first_as_one_of() {
        let mut s = spec(json!({"anyOf": [
            {},
            {"type": "string"},
            {"$ref": "#/components/schemas/Minimal"},
            {"$ref": "#/components/schemas/Full"}
        ], "nullable": true}));
        order_union_branches(&mut s, &mut Context::default()).unwrap();
        assert_eq!(
            s["components"]["schemas"]["U"],
            json!({"nullable": true, "oneOf": [
                {"$ref": "#/components/schemas/Full"},
                {"$ref": "#/components/schemas/Minimal"},
                {"type": "string"},
                {}
            ]})
        );
    }

    #[test]
    fn equally_specific_branches_keep_their_order() {
        let arrays = json!({"oneOf": [
            {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "integer"}},
            {"type": "array", "minItems": 3, "maxItems": 3, "items": {"type": "integer"}}
        ]});
        let mut s = spec(arrays.clone());
        order_union_branches(&mut s, &mut Context::default()).unwrap();
        assert_eq!(s["components"]["schemas"]["U"], arrays);
    }

    #[test]
    fn both_any_of_and_one_of_is_refused_with_its_pointer() {
        let mut s = spec(json!({"anyOf": [{"type": "string"}], "oneOf": [{"type": "integer"}]}));
        let err = order_union_branches(&mut s, &mut Context::default()).unwrap_err();
        assert_eq!(err.pointer, "/components/schemas/U");
    }
}
