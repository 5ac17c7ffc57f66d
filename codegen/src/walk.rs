//! Traversal of every schema and every operation of an OpenAPI document,
//! with the JSON pointer of each, so that rules can name what they refuse.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::pointer::join;
use crate::SpecError;

/// The HTTP methods an OpenAPI path item can hold.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A schema visitor: the schema object and its pointer.
pub type SchemaFn<'a> = dyn FnMut(&mut Map<String, Value>, &str) -> Result<(), SpecError> + 'a;

/// Calls `f` on every schema object of the document, children before parents.
pub fn schemas(doc: &mut Value, f: &mut SchemaFn<'_>) -> Result<(), SpecError> {
    if let Some(components) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in components.iter_mut() {
            schema_tree(schema, &join("/components/schemas", name), f)?;
        }
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (path, item) in paths.iter_mut() {
        let item_ptr = join("/paths", path);
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        if let Some(params) = item.get_mut("parameters") {
            parameter_schemas(params, &join(&item_ptr, "parameters"), f)?;
        }
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let op_ptr = join(&item_ptr, method);
            if let Some(params) = op.get_mut("parameters") {
                parameter_schemas(params, &join(&op_ptr, "parameters"), f)?;
            }
            if let Some(content) = op.get_mut("requestBody").and_then(|b| b.get_mut("content")) {
                content_schemas(content, &join(&join(&op_ptr, "requestBody"), "content"), f)?;
            }
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                for (status, response) in responses.iter_mut() {
                    if let Some(content) = response.get_mut("content") {
                        let ptr = join(&join(&join(&op_ptr, "responses"), status), "content");
                        content_schemas(content, &ptr, f)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn parameter_schemas(params: &mut Value, ptr: &str, f: &mut SchemaFn<'_>) -> Result<(), SpecError> {
    for (i, param) in params.as_array_mut().into_iter().flatten().enumerate() {
        if let Some(schema) = param.get_mut("schema") {
            schema_tree(schema, &join(&join(ptr, &i.to_string()), "schema"), f)?;
        }
    }
    Ok(())
}

fn content_schemas(content: &mut Value, ptr: &str, f: &mut SchemaFn<'_>) -> Result<(), SpecError> {
    for (media, media_type) in content.as_object_mut().into_iter().flatten() {
        if let Some(schema) = media_type.get_mut("schema") {
            schema_tree(schema, &join(&join(ptr, media), "schema"), f)?;
        }
    }
    Ok(())
}

/// Calls `f` on `schema` and every schema nested in it, children first.
pub fn schema_tree(schema: &mut Value, ptr: &str, f: &mut SchemaFn<'_>) -> Result<(), SpecError> {
    let Some(obj) = schema.as_object_mut() else {
        return Ok(());
    };
    for key in ["properties", "patternProperties", "$defs", "definitions"] {
        if let Some(map) = obj.get_mut(key).and_then(Value::as_object_mut) {
            let base = join(ptr, key);
            for (name, child) in map.iter_mut() {
                schema_tree(child, &join(&base, name), f)?;
            }
        }
    }
    for key in [
        "items",
        "additionalProperties",
        "not",
        "contains",
        "propertyNames",
    ] {
        match obj.get_mut(key) {
            Some(child @ Value::Object(_)) => schema_tree(child, &join(ptr, key), f)?,
            Some(Value::Array(children)) => {
                for (i, child) in children.iter_mut().enumerate() {
                    schema_tree(child, &join(&join(ptr, key), &i.to_string()), f)?;
                }
            }
            _ => {}
        }
    }
    for key in ["allOf", "anyOf", "oneOf", "prefixItems"] {
        if let Some(children) = obj.get_mut(key).and_then(Value::as_array_mut) {
            for (i, child) in children.iter_mut().enumerate() {
                schema_tree(child, &join(&join(ptr, key), &i.to_string()), f)?;
            }
        }
    }
    f(obj, ptr)
}

/// One operation of the document.
pub struct Operation<'a> {
    /// The path template, e.g. `/api/v1/cvms/{cvm_id}`.
    pub path: &'a str,
    /// Lower-case HTTP method.
    pub method: &'static str,
    /// The operation object.
    pub op: &'a mut Map<String, Value>,
    /// Its JSON pointer.
    pub pointer: String,
}

impl Operation<'_> {
    /// Its upstream `operationId` (empty if it has none; `name_operations`
    /// refuses that).
    pub fn operation_id(&self) -> String {
        self.op
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }
}

/// Calls `f` on every operation, in document order.
pub fn operations(
    doc: &mut Value,
    f: &mut dyn FnMut(Operation<'_>) -> Result<(), SpecError>,
) -> Result<(), SpecError> {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            if let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) {
                let pointer = crate::pointer::operation(path, method);
                f(Operation {
                    path,
                    method,
                    op,
                    pointer,
                })?;
            }
        }
    }
    Ok(())
}

/// The component name a `#/components/schemas/<name>` reference points to.
pub fn ref_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

/// Every `$ref` target name found anywhere below `value`.
pub fn collect_refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(r)) => out.extend(ref_name(r)),
                    _ => collect_refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The component schemas reachable from `paths` through `$ref`s, followed
/// transitively: what the normalizer keeps, and what the API-change report
/// compares. A reference to an undefined component schema is an error at its
/// pointer; a document without `components/schemas` reaches nothing.
///
/// ```
/// use phala_cloud_codegen::inspect::reachable_schemas;
///
/// let spec = serde_json::json!({
///     "paths": {"/kms": {"get": {"responses": {"200": {"content": {"application/json":
///         {"schema": {"$ref": "#/components/schemas/KmsList"}}}}}}}},
///     "components": {"schemas": {
///         "KmsList": {"items": {"$ref": "#/components/schemas/Kms"}},
///         "Kms": {},
///         "Leftover": {}
///     }}
/// });
/// let names: Vec<_> = reachable_schemas(&spec)?.into_iter().collect();
/// assert_eq!(names, ["Kms", "KmsList"]);
/// # Ok::<(), phala_cloud_codegen::SpecError>(())
/// ```
pub fn reachable_schemas(doc: &Value) -> Result<BTreeSet<String>, SpecError> {
    let mut reachable = BTreeSet::new();
    let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return Ok(reachable);
    };
    let mut stack = Vec::new();
    if let Some(paths) = doc.get("paths") {
        collect_refs(paths, &mut stack);
    }
    while let Some(name) = stack.pop() {
        if reachable.contains(name) {
            continue;
        }
        let schema = schemas.get(name).ok_or_else(|| {
            SpecError::at(
                join("/components/schemas", name),
                "referenced but not defined",
            )
        })?;
        reachable.insert(name.to_string());
        collect_refs(schema, &mut stack);
    }
    Ok(reachable)
}

/// The component a schema stands for: the target of its `$ref`, or of the
/// only `$ref` of a one-element `allOf` (how the normalizer spells a
/// nullable reference), with that component's pointer.
pub fn referenced<'a>(doc: &'a Value, schema: &Value) -> Option<(&'a Value, String)> {
    let reference = match schema
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([only]) => only.get("$ref"),
        _ => schema.get("$ref"),
    }?;
    let name = ref_name(reference.as_str()?)?;
    let pointer = join("/components/schemas", name);
    Some((doc.pointer(&pointer)?, pointer))
}
