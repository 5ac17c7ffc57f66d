//! The string formats that mark identifiers, and the `phala_cloud::ids` type
//! each becomes: hashid fields (`hashid:<prefix>`, set by
//! `lower_custom_formats`) and path parameters (set here).

use serde_json::{Map, Value};

use super::Context;
use crate::pointer::join;
use crate::walk::operations;
use crate::SpecError;

/// A string format and the Rust type the generator maps it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdType {
    /// The schema's `format`.
    pub format: &'static str,
    /// The type, as a path from the generated code.
    pub rust_type: &'static str,
}

const fn id(format: &'static str, rust_type: &'static str) -> IdType {
    IdType { format, rust_type }
}

/// Every ID format and its type. Each hashid kind of the spec needs a row;
/// `tests/ids.rs` names a kind that has none.
pub const ID_TYPES: &[IdType] = &[
    id("hashid:crd", "crate::ids::CreditId"),
    id("hashid:crt", "crate::ids::CreditTransactionId"),
    id("hashid:cvm", "crate::ids::CvmId"),
    id("hashid:gord", "crate::ids::GpuRentalOrderId"),
    id("hashid:in", "crate::ids::InvoiceId"),
    id("hashid:ini", "crate::ids::InvoiceItemId"),
    id("hashid:kms", "crate::ids::KmsId"),
    id("hashid:ord", "crate::ids::OrderId"),
    id("hashid:pm", "crate::ids::PortMappingId"),
    id("hashid:prj", "crate::ids::ProjectId"),
    id("hashid:usr", "crate::ids::UserId"),
    id("hashid:wks", "crate::ids::WorkspaceId"),
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
