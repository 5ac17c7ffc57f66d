//! The string formats that mark identifiers, and the `phala_cloud::ids` type
//! each becomes: hashid fields (`hashid:<prefix>`, set by
//! `lower_custom_formats`), path parameters and the answers' app ids,
//! compose hashes and VM UUIDs (set here).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::Context;
use crate::pointer::join;
use crate::walk::{collect_refs, operations, schema_tree};
use crate::SpecError;

/// A string format and the Rust type the generator maps it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdType {
    /// The schema's `format`.
    pub format: &'static str,
    /// The type, as a path from the generated code.
    pub rust_type: &'static str,
    /// For a hashid kind, what the generator defines its type from.
    pub hashid: Option<HashidKind>,
}

/// A hashid kind: the spec's `HashedId[<table>]` schemas, whose values are
/// `<prefix>_` followed by letters and digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashidKind {
    /// The prefix before the `_`.
    pub prefix: &'static str,
    /// The server table it identifies rows of.
    pub table: &'static str,
    /// What it is, for docs and messages: "KMS id".
    pub kind: &'static str,
}

const fn id(format: &'static str, rust_type: &'static str) -> IdType {
    IdType {
        format,
        rust_type,
        hashid: None,
    }
}

/// The row of a hashid kind: its format is `hashid:<prefix>`, its type
/// `crate::ids::<Type>`, which the generator defines (`ids::hashid_types!`).
macro_rules! hashid {
    ($prefix:literal, $table:literal, $ty:ident, $kind:literal) => {
        IdType {
            format: concat!("hashid:", $prefix),
            rust_type: concat!("crate::ids::", stringify!($ty)),
            hashid: Some(HashidKind {
                prefix: $prefix,
                table: $table,
                kind: $kind,
            }),
        }
    };
}

/// Every ID format and its type: the one list of the ID kinds. The hashid
/// rows also define their types (the generator emits `ids::hashid_types!`
/// from them); each hashid kind of the spec needs a row, and `tests/ids.rs`
/// names a kind that has none.
pub const ID_TYPES: &[IdType] = &[
    hashid!("crd", "credits", CreditId, "credit id"),
    hashid!(
        "crt",
        "credit_transactions",
        CreditTransactionId,
        "credit transaction id"
    ),
    hashid!("cvm", "cvms", CvmId, "CVM id"),
    hashid!(
        "gord",
        "gpu_rental_orders",
        GpuRentalOrderId,
        "GPU rental order id"
    ),
    hashid!("in", "invoices", InvoiceId, "invoice id"),
    hashid!("ini", "invoice_items", InvoiceItemId, "invoice item id"),
    hashid!("kms", "kms", KmsId, "KMS id"),
    hashid!("ord", "orders", OrderId, "order id"),
    hashid!("pm", "cvm_port_mappings", PortMappingId, "port mapping id"),
    hashid!("prj", "projects", ProjectId, "project id"),
    hashid!("usr", "users", UserId, "user id"),
    hashid!("wks", "teams", WorkspaceId, "workspace id"),
    id(CVM_REF, "crate::ids::CvmRef"),
    id(KMS_REF, "crate::ids::KmsRef"),
    id(APP_ID, "crate::ids::AppId"),
    id(VM_UUID, "crate::ids::VmUuid"),
    id(COMPOSE_HASH, "crate::ids::ComposeHash"),
    id(QUOTE_CHECKSUM, "crate::ids::QuoteChecksum"),
    id(PATH_SEGMENT, "crate::ids::PathSegment"),
];

const CVM_REF: &str = "cvm-ref";
const KMS_REF: &str = "kms-ref";
const APP_ID: &str = "app-id";
const VM_UUID: &str = "vm-uuid";
const COMPOSE_HASH: &str = "compose-hash";
const QUOTE_CHECKSUM: &str = "quote-checksum";
/// Any other string path parameter: only kept to one path segment.
const PATH_SEGMENT: &str = "path-segment";

/// Path parameters by name, and the format that types them.
const PATH_PARAMETERS: &[(&str, &str)] = &[
    ("cvm_id", CVM_REF),
    ("kms_id", KMS_REF),
    ("app_id", APP_ID),
    ("vm_uuid", VM_UUID),
    ("compose_hash", COMPOSE_HASH),
    ("checksum", QUOTE_CHECKSUM),
];

/// Answer fields by name, and the format that types them: the API names an
/// app id, a compose hash and a VM UUID the same way wherever it sends one.
const FIELD_FORMATS: &[(&str, &str)] = &[
    ("app_id", APP_ID),
    ("compose_hash", COMPOSE_HASH),
    ("vm_uuid", VM_UUID),
];

/// Keywords a plain string field may carry and still be typed: its
/// documentation and `nullable`.
const PLAIN_STRING_KEYWORDS: &[&str] = &["type", "nullable", "title", "description", "example"];

/// What a path parameter of each format is, for the parameters the spec
/// leaves undocumented (`cvm_id` on 39 operations): the setter and the
/// method's argument list say it.
const PATH_PARAMETER_DOCS: &[(&str, &str)] = &[
    (
        CVM_REF,
        "The CVM: its id (`cvm_…`), its UUID (with or without dashes), its app id (`app_` and 40 hex digits), \
         its legacy number or its name; a `&str` or a [`CvmRef`](crate::ids::CvmRef).",
    ),
    (
        KMS_REF,
        "The KMS: its id (`kms_…`) or its slug; a `&str` or a [`KmsRef`](crate::ids::KmsRef).",
    ),
    (
        APP_ID,
        "The app: its id, 40 hex digits with or without `0x`; a `&str` or an [`AppId`](crate::ids::AppId).",
    ),
    (
        VM_UUID,
        "The VM's UUID, with or without dashes; a `&str` or a [`VmUuid`](crate::ids::VmUuid).",
    ),
    (
        COMPOSE_HASH,
        "The compose hash: 64 hex digits, with or without `0x`; a `&str` or a \
         [`ComposeHash`](crate::ids::ComposeHash).",
    ),
    (
        QUOTE_CHECKSUM,
        "The quote's SHA-256 checksum: 64 hex digits; a `&str` or a \
         [`QuoteChecksum`](crate::ids::QuoteChecksum).",
    ),
];

/// Schema keywords kept on a typed path parameter: its documentation.
/// Anything else (`minLength`, `nullable`, …) would stop the generator's
/// match on `{type: string, format}`.
const DOC_KEYWORDS: &[&str] = &["title", "description", "example"];

/// Gives every string path parameter an ID format, so that each becomes a
/// validated type and no value can change the request's path: the known
/// names get their own format ([`PATH_PARAMETERS`]), a parameter the spec
/// already marks as a hashid keeps it, any other becomes `path-segment`.
/// Numbers, booleans and enums need nothing; any other path parameter
/// schema is refused.
pub fn type_path_parameters(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    operations(spec, &mut |op| {
        let params_ptr = join(&op.pointer, "parameters");
        let Some(params) = op.op.get_mut("parameters").and_then(Value::as_array_mut) else {
            return Ok(());
        };
        for (i, param) in params.iter_mut().enumerate() {
            if param.get("in").and_then(Value::as_str) != Some("path") {
                continue;
            }
            let name = param
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let ptr = join(&join(&params_ptr, &i.to_string()), "schema");
            let Some(schema) = param.get_mut("schema").and_then(Value::as_object_mut) else {
                return Err(SpecError::at(ptr, "a path parameter without a schema"));
            };
            type_one(&name, schema, &ptr)?;
            let undocumented = !schema.contains_key("description");
            let format = schema.get("format").and_then(Value::as_str);
            let doc = PATH_PARAMETER_DOCS
                .iter()
                .find(|(f, _)| Some(*f) == format)
                .map(|(_, doc)| *doc);
            if let (Some(doc), Some(param)) = (doc, param.as_object_mut()) {
                if undocumented && !param.contains_key("description") {
                    param.insert("description".into(), Value::from(doc));
                }
            }
        }
        Ok(())
    })
}

fn type_one(name: &str, schema: &mut Map<String, Value>, ptr: &str) -> Result<(), SpecError> {
    let ty = schema.get("type").and_then(Value::as_str);
    if schema.contains_key("enum") || matches!(ty, Some("integer" | "number" | "boolean")) {
        return Ok(());
    }
    if ty != Some("string") {
        return Err(SpecError::at(
            ptr,
            "a path parameter must be a string, a number, a boolean or an enum to be typed safely",
        ));
    }
    let existing = schema.get("format").and_then(Value::as_str);
    let format = PATH_PARAMETERS
        .iter()
        .find(|(param, _)| *param == name)
        .map(|(_, format)| *format)
        .or_else(|| existing.filter(|f| is_id_format(f)))
        .unwrap_or(PATH_SEGMENT)
        .to_string();
    schema.retain(|key, _| DOC_KEYWORDS.contains(&key.as_str()));
    schema.insert("type".into(), Value::from("string"));
    schema.insert("format".into(), Value::from(format));
    Ok(())
}

fn is_id_format(format: &str) -> bool {
    ID_TYPES.iter().any(|t| t.format == format)
}

/// Gives the plain string fields of the answers that carry an app id, a
/// compose hash or a VM UUID ([`FIELD_FORMATS`]) their ID format, so that
/// they decode as the `ids` types the setters take (`cvm.app_id` goes
/// straight into `get_app().app_id(…)`). A field that already has a format,
/// an enum or constraints is left alone, and so is every schema a request
/// reaches: the body builders' optional setters do not take `&str` for an ID
/// type, so request fields stay strings.
pub fn type_id_fields(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    let sent = request_schemas(spec);
    let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    for (name, schema) in schemas.iter_mut() {
        if sent.contains(name) {
            continue;
        }
        schema_tree(
            schema,
            &join("/components/schemas", name),
            &mut |schema, _| {
                type_fields(schema);
                Ok(())
            },
        )?;
    }
    operations(spec, &mut |op| {
        let Some(responses) = op.op.get_mut("responses").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        for response in responses.values_mut() {
            let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
                continue;
            };
            for media in content.values_mut() {
                if let Some(schema) = media.get_mut("schema") {
                    schema_tree(schema, &op.pointer, &mut |schema, _| {
                        type_fields(schema);
                        Ok(())
                    })?;
                }
            }
        }
        Ok(())
    })
}

fn type_fields(schema: &mut Map<String, Value>) {
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (name, format) in FIELD_FORMATS {
        let Some(field) = properties.get_mut(*name).and_then(Value::as_object_mut) else {
            continue;
        };
        if let Some(string) = plain_string(field) {
            string.insert("format".into(), Value::from(*format));
        }
    }
}

/// The plain string `field` is, or its string branch when it is the 3.1
/// spelling of a nullable string (`anyOf: [{type: string}, {type: null}]`).
fn plain_string(field: &mut Map<String, Value>) -> Option<&mut Map<String, Value>> {
    if is_plain_string(field) {
        return Some(field);
    }
    if !field
        .keys()
        .all(|k| k == "anyOf" || PLAIN_STRING_KEYWORDS.contains(&k.as_str()))
    {
        return None;
    }
    let branches = field.get_mut("anyOf")?.as_array_mut()?;
    let is_null = |v: &Value| v.get("type").and_then(Value::as_str) == Some("null");
    let string = match branches.as_slice() {
        [_, n] if is_null(n) => 0,
        [n, _] if is_null(n) => 1,
        _ => return None,
    };
    let branch = branches.get_mut(string)?.as_object_mut()?;
    is_plain_string(branch).then_some(branch)
}

fn is_plain_string(schema: &Map<String, Value>) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("string")
        && schema
            .keys()
            .all(|k| PLAIN_STRING_KEYWORDS.contains(&k.as_str()))
}

/// Every component schema a request parameter or body reaches.
fn request_schemas(spec: &Value) -> BTreeSet<String> {
    let mut stack = Vec::new();
    for item in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
    {
        collect_refs(item.get("parameters").unwrap_or(&Value::Null), &mut stack);
        for op in item.as_object().into_iter().flat_map(|i| i.values()) {
            collect_refs(op.get("parameters").unwrap_or(&Value::Null), &mut stack);
            collect_refs(op.get("requestBody").unwrap_or(&Value::Null), &mut stack);
        }
    }
    let mut sent = BTreeSet::new();
    while let Some(name) = stack.pop() {
        if !sent.insert(name.to_string()) {
            continue;
        }
        if let Some(schema) = spec.pointer(&join("/components/schemas", name)) {
            collect_refs(schema, &mut stack);
        }
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(param: Value) -> Result<Value, SpecError> {
        let mut spec = json!({"paths": {"/x/{p}": {"get": {"parameters": [
            {"in": "query", "name": "cvm_id", "schema": {"type": "string"}},
            param
        ], "responses": {}}}}});
        type_path_parameters(&mut spec, &mut Context::default())?;
        let params = &mut spec["paths"]["/x/{p}"]["get"]["parameters"];
        assert_eq!(
            params[0]["schema"],
            json!({"type": "string"}),
            "query untouched"
        );
        Ok(params[1]["schema"].take())
    }

    fn path(name: &str, schema: Value) -> Value {
        json!({"in": "path", "name": name, "required": true, "schema": schema})
    }

    #[test]
    fn known_names_get_their_format_and_keep_their_docs() {
        let out = run(path(
            "cvm_id",
            json!({"type": "string", "title": "Cvm Id", "minLength": 1, "nullable": true}),
        ))
        .unwrap();
        assert_eq!(
            out,
            json!({"type": "string", "title": "Cvm Id", "format": "cvm-ref"})
        );
        for (name, format) in PATH_PARAMETERS {
            let out = run(path(name, json!({"type": "string"}))).unwrap();
            assert_eq!(out["format"], *format);
            assert!(is_id_format(format), "{format} has a type");
        }
    }

    #[test]
    fn undocumented_id_parameters_say_what_they_take() {
        let mut spec = json!({"paths": {"/x/{cvm_id}/{app_id}": {"get": {"parameters": [
            path("cvm_id", json!({"type": "string"})),
            {"in": "path", "name": "app_id", "required": true, "description": "Hex app id", "schema": {"type": "string"}}
        ], "responses": {}}}}});
        type_path_parameters(&mut spec, &mut Context::default()).unwrap();
        let params = &spec["paths"]["/x/{cvm_id}/{app_id}"]["get"]["parameters"];
        assert!(params[0]["description"]
            .as_str()
            .unwrap()
            .starts_with("The CVM: its id (`cvm_…`)"));
        assert_eq!(
            params[1]["description"], "Hex app id",
            "the spec's own text stays"
        );
    }

    #[test]
    fn other_strings_become_path_segments_unless_already_hashids() {
        let out = run(path("webhook_id", json!({"type": "string"}))).unwrap();
        assert_eq!(out, json!({"type": "string", "format": "path-segment"}));
        let out = run(path(
            "workspace_id",
            json!({"type": "string", "format": "hashid:wks"}),
        ))
        .unwrap();
        assert_eq!(out["format"], "hashid:wks");
        let out = run(path(
            "thing_id",
            json!({"type": "string", "format": "hashid:zzz"}),
        ))
        .unwrap();
        assert_eq!(
            out["format"], "path-segment",
            "an unknown kind is not trusted"
        );
    }

    #[test]
    fn numbers_booleans_and_enums_are_left_alone() {
        for schema in [
            json!({"type": "integer"}),
            json!({"type": "boolean"}),
            json!({"type": "string", "enum": ["cpu", "gpu"]}),
        ] {
            assert_eq!(run(path("p", schema.clone())).unwrap(), schema);
        }
    }

    #[test]
    fn answer_fields_get_their_id_format_and_request_fields_stay_strings() {
        let mut spec = json!({
            "paths": {"/x": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Sent"}}}},
                "responses": {"200": {"content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {"app": {"$ref": "#/components/schemas/Got"}, "vm_uuid": {"type": "string"}}
                }}}}}
            }}},
            "components": {"schemas": {
                "Sent": {"properties": {"app_id": {"type": "string"}, "nested": {"$ref": "#/components/schemas/Shared"}}},
                "Shared": {"properties": {"compose_hash": {"type": "string"}}},
                "Got": {"properties": {
                    "app_id": {"type": "string", "nullable": true, "description": "d"},
                    "vm_uuid": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Vm Uuid"},
                    "compose_hash": {"type": "string", "minLength": 64},
                    "shared": {"$ref": "#/components/schemas/Shared"}
                }}
            }}
        });
        type_id_fields(&mut spec, &mut Context::default()).unwrap();
        let schemas = &spec["components"]["schemas"];
        assert_eq!(
            schemas["Got"]["properties"]["app_id"],
            json!({"type": "string", "nullable": true, "description": "d", "format": "app-id"})
        );
        assert!(
            schemas["Got"]["properties"]["compose_hash"]
                .get("format")
                .is_none(),
            "constrained"
        );
        assert_eq!(
            schemas["Got"]["properties"]["vm_uuid"]["anyOf"][0],
            json!({"type": "string", "format": "vm-uuid"}),
            "the string branch of a 3.1 nullable string"
        );
        assert!(
            schemas["Sent"]["properties"]["app_id"]
                .get("format")
                .is_none(),
            "sent"
        );
        assert!(
            schemas["Shared"]["properties"]["compose_hash"]
                .get("format")
                .is_none(),
            "sent too"
        );
        let inline = &spec["paths"]["/x"]["post"]["responses"]["200"]["content"]
            ["application/json"]["schema"];
        assert_eq!(inline["properties"]["vm_uuid"]["format"], "vm-uuid");
    }

    #[test]
    fn anything_else_is_refused_with_its_pointer() {
        for schema in [
            json!({"$ref": "#/components/schemas/S"}),
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
        ] {
            let err = run(path("p", schema)).unwrap_err();
            assert_eq!(err.pointer, "/paths/~1x~1{p}/get/parameters/1/schema");
        }
        let err = run(json!({"in": "path", "name": "p"})).unwrap_err();
        assert!(err.message.contains("without a schema"), "{err}");
    }
}
