//! Parameters in the shapes progenitor's builder interface can generate.

use serde_json::{Map, Value};

use super::Context;
use crate::pointer::join;
use crate::walk::operations;
use crate::SpecError;

/// - A nullable header parameter generates code that does not compile;
///   optional already means "may be absent", so `nullable` is dropped.
/// - A query parameter that is a union of scalars (`user_id`: the string `"0"`
///   or a `usr_` hashid) hits `unreachable!()` in progenitor's builder; it is
///   sent as a string, so it becomes one. A union with a non-scalar branch is
///   refused.
/// - A nullable query parameter is just optional.
pub fn simplify_parameters(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    operations(spec, &mut |op| {
        let params_ptr = join(&op.pointer, "parameters");
        let Some(params) = op.op.get_mut("parameters").and_then(Value::as_array_mut) else {
            return Ok(());
        };
        for (i, param) in params.iter_mut().enumerate() {
            let location = param
                .get("in")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let Some(schema) = param.get_mut("schema").and_then(Value::as_object_mut) else {
                continue;
            };
            let ptr = join(&join(&params_ptr, &i.to_string()), "schema");
            if matches!(location.as_str(), "header" | "query") {
                schema.remove("nullable");
                let single = match schema
                    .get("allOf")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                {
                    Some([Value::Object(inner)]) => Some(inner.clone()),
                    _ => None,
                };
                if let Some(inner) = single {
                    *schema = keep_docs(schema, inner);
                }
            }
            if location == "query" {
                for key in ["anyOf", "oneOf"] {
                    let Some(Value::Array(branches)) = schema.get(key) else {
                        continue;
                    };
                    if let Some(i) = branches.iter().position(|b| !is_scalar(b)) {
                        return Err(SpecError::at(
                            format!("{ptr}/{key}/{i}"),
                            "a query parameter union with a non-scalar branch is not supported",
                        ));
                    }
                    schema.remove(key);
                    schema.insert("type".into(), Value::from("string"));
                }
            }
        }
        Ok(())
    })
}

fn is_scalar(schema: &Value) -> bool {
    matches!(
        schema.get("type").and_then(Value::as_str),
        Some("string" | "integer" | "number" | "boolean")
    )
}

fn keep_docs(outer: &Map<String, Value>, mut inner: Map<String, Value>) -> Map<String, Value> {
    for key in ["title", "description"] {
        if let Some(v) = outer.get(key) {
            inner.insert(key.into(), v.clone());
        }
    }
    inner
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(param: Value) -> Result<Value, SpecError> {
        let mut spec = json!({"paths": {"/x": {"get": {"parameters": [param], "responses": {}}}}});
        simplify_parameters(&mut spec, &mut Context::default())?;
        Ok(spec["paths"]["/x"]["get"]["parameters"][0]["schema"].take())
    }

    #[test]
    fn nullable_header_becomes_plain() {
        let out = run(json!({"in": "header", "name": "X-Compose-Hash", "schema": {"type": "string", "nullable": true, "title": "T"}})).unwrap();
        assert_eq!(out, json!({"type": "string", "title": "T"}));
    }

    #[test]
    fn scalar_union_query_becomes_string() {
        let out = run(json!({"in": "query", "name": "user_id", "schema": {"anyOf": [{"type": "string", "enum": ["0"]}, {"type": "string", "format": "hashid:usr"}], "nullable": true, "description": "d"}})).unwrap();
        assert_eq!(out, json!({"type": "string", "description": "d"}));
    }

    #[test]
    fn nullable_ref_query_becomes_the_ref() {
        let out = run(json!({"in": "query", "name": "s", "schema": {"allOf": [{"$ref": "#/components/schemas/S"}], "nullable": true, "description": "d"}})).unwrap();
        assert_eq!(
            out,
            json!({"$ref": "#/components/schemas/S", "description": "d"})
        );
    }

    #[test]
    fn non_scalar_query_union_is_refused() {
        let err = run(json!({"in": "query", "name": "q", "schema": {"anyOf": [{"type": "string"}, {"type": "object"}]}})).unwrap_err();
        assert_eq!(err.pointer, "/paths/~1x/get/parameters/0/schema/anyOf/1");
    }

    #[test]
    fn path_parameters_are_left_alone() {
        let schema = json!({"type": "string", "nullable": true});
        let out = run(json!({"in": "path", "name": "id", "schema": schema.clone()})).unwrap();
        assert_eq!(out, schema);
    }
}
