//! Names: client methods from operationIds, Rust types from schema names,
//! summaries without FastAPI's handler names, and plain strings where typify
//! would wrap one in a type of its own.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::{Context, OperationName};
use crate::operations::TABLE;
use crate::pointer::join;
use crate::walk::{operations, ref_name, schemas};
use crate::SpecError;

/// Type names the derivation rule (module noise dropped, a Pydantic `Out`
/// suffix dropped) would leave poor, keyed by the spec's schema name: the
/// one place a type name is chosen by hand. Each says what the type is to a
/// user rather than how the server versions or spells it.
pub const TYPE_RENAMES: &[(&str, &str)] = &[
    // typify would spell it `CvmosInfo`.
    ("CVMOSInfo", "CvmOsInfo"),
    // The body of `provision_cvm`; `V2` is the server's revision of its model.
    ("ProvisionDstackAppRequestV2", "ProvisionCvmRequest"),
    // dstack's app compose; manifest version 2 is the only one the API takes.
    ("AppComposeV2", "AppCompose"),
    // What a KMS node reports when it bootstraps.
    ("BootstrapInfoOut", "KmsBootstrapInfo"),
];

/// Words a summary keeps in capitals when it is put in sentence case.
const ACRONYMS: &[&str] = &[
    "CVM", "CVMs", "KMS", "SSH", "ID", "IDs", "OS", "TEE", "TCB", "GPU", "URL",
];

/// The handler name FastAPI built an operationId from: it appends the path
/// (non-word characters as `_`) and the method to the function name.
pub fn fastapi_base<'a>(operation_id: &'a str, path: &str, method: &str) -> &'a str {
    let slug: String = path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base = operation_id
        .strip_suffix(&format!("{slug}_{method}"))
        .unwrap_or(operation_id);
    base.strip_prefix("handle_").unwrap_or(base)
}

fn is_snake_case(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.contains("__")
        && !name.ends_with('_')
}

/// Gives every operation its client method name (the derivation rule, or
/// the name a row of the operation table, [`crate::operations`], gives its
/// `operationId`) and makes it the operationId progenitor sees.
/// Two operations with one name is an error naming both.
pub fn name_operations(spec: &mut Value, cx: &mut Context) -> Result<(), SpecError> {
    let renames: HashMap<&str, &str> = TABLE
        .iter()
        .filter_map(|e| Some((e.renamed_from?, e.name)))
        .collect();
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    operations(spec, &mut |op| {
        let id_ptr = join(&op.pointer, "operationId");
        let upstream = op
            .op
            .get("operationId")
            .and_then(Value::as_str)
            .ok_or_else(|| SpecError::at(&op.pointer, "the operation has no operationId"))?
            .to_string();
        let name = renames
            .get(upstream.as_str())
            .map(|n| n.to_string())
            .unwrap_or_else(|| fastapi_base(&upstream, op.path, op.method).to_string());
        if !is_snake_case(&name) || name.contains("api_v1") {
            return Err(SpecError::at(
                id_ptr,
                format!("`{upstream}` gives the method name `{name}`, which is not clean snake_case; give it a name with `renamed_from` in the operation table (codegen/src/operations.rs)"),
            ));
        }
        if let Some(other) = taken.insert(name.clone(), op.pointer.clone()) {
            return Err(SpecError::at(
                id_ptr,
                format!("the method name `{name}` is also the name of openapi.json#{other}; rename one of them with `renamed_from` in the operation table (codegen/src/operations.rs)"),
            ));
        }
        op.op
            .insert("operationId".into(), Value::from(name.clone()));
        cx.operations.push(OperationName {
            operation_id: upstream,
            method: op.method.to_string(),
            path: op.path.to_string(),
            name,
        });
        Ok(())
    })
}

/// FastAPI titles an operation that has no summary of its own with its
/// handler's name (`Handle Update Cvm Name`): such a summary loses the
/// `Handle` and is put in sentence case (`Update CVM name`).
pub fn clean_summaries(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    operations(spec, &mut |op| {
        let Some(summary) = op.op.get("summary").and_then(Value::as_str) else {
            return Ok(());
        };
        let Some(rest) = summary.strip_prefix("Handle ") else {
            return Ok(());
        };
        let words: Vec<String> = rest
            .split_whitespace()
            .enumerate()
            .map(|(i, word)| {
                if let Some(acronym) = ACRONYMS.iter().find(|a| a.eq_ignore_ascii_case(word)) {
                    acronym.to_string()
                } else if i == 0 {
                    word.to_string()
                } else {
                    word.to_lowercase()
                }
            })
            .collect();
        op.op.insert("summary".into(), Value::from(words.join(" ")));
        Ok(())
    })
}

/// A string with a length bound becomes a plain string, the bound said in
/// its description: typify would wrap each such string in a type of its
/// own (`SshKeyCreateRequestName` for a key's name), which a caller can only
/// build by parsing. The server still enforces the bound and answers 422
/// with the field's path.
pub fn plain_bounded_strings(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    schemas(spec, &mut |schema, _| {
        if schema.get("type").and_then(Value::as_str) != Some("string") {
            return Ok(());
        }
        let min = schema.remove("minLength").and_then(|v| v.as_u64());
        let max = schema.remove("maxLength").and_then(|v| v.as_u64());
        let bound = match (min, max) {
            (None | Some(0), None) => return Ok(()),
            (Some(1), None) => "Not empty.".to_string(),
            (Some(min), None) => format!("At least {min} characters."),
            (None | Some(0), Some(max)) => format!("At most {max} characters."),
            (Some(min), Some(max)) => format!("{min} to {max} characters."),
        };
        let text = match schema.get("description").and_then(Value::as_str) {
            Some(d) if !d.is_empty() => format!("{} {bound}", d.trim_end()),
            _ => bound,
        };
        schema.insert("description".into(), Value::from(text));
        Ok(())
    })
}

/// `list_kms` → `ListKms`, `login_with_2fa` → `LoginWith2fa`: how progenitor
/// names an operation's builder and mock types.
pub(crate) fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut chars = s.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Schema names without FastAPI's noise:
/// - `Body_<operationId>` → `<MethodName>Body`;
/// - `teehouse__api__routes__<module>__…__<Name>` → `<Name>`, or
///   `<Module><Name>` where two modules define the same `<Name>`.
///
/// Every `$ref` follows. Two schemas with one name is an error naming both;
/// so is an entry of [`TYPE_RENAMES`] for a schema no operation reaches.
pub fn rename_types(spec: &mut Value, cx: &mut Context) -> Result<(), SpecError> {
    rename_with(spec, cx, TYPE_RENAMES)
}

/// [`rename_types`] with `chosen` as the hand-chosen names.
fn rename_with(
    spec: &mut Value,
    cx: &mut Context,
    chosen: &[(&str, &str)],
) -> Result<(), SpecError> {
    let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    let chosen: HashMap<&str, &str> = chosen.iter().copied().collect();
    let body_names: HashMap<String, String> = cx
        .operations
        .iter()
        .map(|o| {
            (
                format!("Body_{}", o.operation_id),
                format!("{}Body", pascal_case(&o.name)),
            )
        })
        .collect();
    if let Some((stale, _)) = chosen
        .iter()
        .find(|(n, _)| !schemas.contains_key(*n as &str))
    {
        return Err(SpecError::at(
            join("/components/schemas", stale),
            format!("TYPE_RENAMES renames `{stale}`, which no operation reaches any more; remove or update its entry"),
        ));
    }
    let short = |name: &str| {
        let last = name.rsplit("__").next().unwrap_or(name);
        let base = last
            .strip_suffix("Out")
            .filter(|b| !b.is_empty() && !schemas.contains_key(*b));
        base.unwrap_or(last).to_string()
    };
    let mut short_count: HashMap<String, usize> = HashMap::new();
    for name in schemas.keys() {
        *short_count.entry(short(name)).or_default() += 1;
    }
    let mut renames: BTreeMap<String, String> = BTreeMap::new();
    for name in schemas.keys() {
        let new = if let Some(chosen) = chosen.get(name.as_str()) {
            chosen.to_string()
        } else if let Some(body) = body_names.get(name) {
            body.clone()
        } else if name.contains("__") || short(name) != *name {
            let s = short(name);
            if short_count[&s] > 1 {
                let module = name
                    .rsplit("__")
                    .skip(1)
                    .find(|m| *m != "schemas")
                    .unwrap_or_default();
                format!("{}{s}", pascal_case(module))
            } else {
                s
            }
        } else {
            continue;
        };
        renames.insert(name.clone(), new);
    }
    let mut final_names: HashMap<String, String> = HashMap::new();
    for name in schemas.keys() {
        let new = renames.get(name).unwrap_or(name);
        if let Some(other) = final_names.insert(new.clone(), name.clone()) {
            return Err(SpecError::at(
                format!("/components/schemas/{}", crate::pointer::escape(name)),
                format!("the type name `{new}` is also the name of /components/schemas/{other}"),
            ));
        }
    }
    if renames.is_empty() {
        return Ok(());
    }
    rewrite_refs(spec, &renames);
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        let old = std::mem::take(schemas);
        *schemas = old
            .into_iter()
            .map(|(k, v)| (renames.get(&k).cloned().unwrap_or(k), v))
            .collect();
    }
    Ok(())
}

fn rewrite_refs(value: &mut Value, renames: &BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "$ref" {
                    if let Some(new) = child
                        .as_str()
                        .and_then(ref_name)
                        .and_then(|n| renames.get(n))
                    {
                        *child = Value::from(format!("#/components/schemas/{new}"));
                    }
                } else {
                    rewrite_refs(child, renames);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, renames)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema_names(spec: &Value) -> Vec<String> {
        spec["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    #[test]
    fn strips_fastapi_suffix_and_handle_prefix() {
        assert_eq!(
            fastapi_base("list_kms_api_v1_kms_get", "/api/v1/kms", "get"),
            "list_kms"
        );
        assert_eq!(
            fastapi_base(
                "handle_get_cvm_api_v1_cvms__cvm_id__get",
                "/api/v1/cvms/{cvm_id}",
                "get"
            ),
            "get_cvm"
        );
        assert_eq!(
            fastapi_base(
                "get_kms_onchain_detail_api_v1_kms_on_chain__chain__get",
                "/api/v1/kms/on-chain/{chain}",
                "get"
            ),
            "get_kms_onchain_detail"
        );
        assert_eq!(fastapi_base("custom", "/x", "get"), "custom");
    }

    fn two_ops(id_a: &str, id_b: &str) -> Value {
        json!({"paths": {
            "/api/v1/cvms/{cvm_id}/replicas": {"post": {"operationId": id_a, "responses": {}}},
            "/api/v1/apps/{app_id}/cvms/{vm_uuid}/replicas": {"post": {"operationId": id_b, "responses": {}}}
        }})
    }

    #[test]
    fn the_rename_table_separates_the_replicate_pair() {
        let mut spec = two_ops(
            "handle_replicate_cvm_api_v1_cvms__cvm_id__replicas_post",
            "handle_replicate_cvm_api_v1_apps__app_id__cvms__vm_uuid__replicas_post",
        );
        let mut cx = Context::default();
        name_operations(&mut spec, &mut cx).unwrap();
        let names: Vec<_> = cx.operations.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["replicate_cvm", "replicate_app_cvm"]);
        assert_eq!(
            spec["paths"]["/api/v1/cvms/{cvm_id}/replicas"]["post"]["operationId"],
            "replicate_cvm"
        );
    }

    #[test]
    fn a_collision_names_both_operations() {
        let mut spec = two_ops("same_thing", "same_thing");
        let err = name_operations(&mut spec, &mut Context::default()).unwrap_err();
        assert_eq!(
            err.pointer,
            "/paths/~1api~1v1~1apps~1{app_id}~1cvms~1{vm_uuid}~1replicas/post/operationId"
        );
        assert!(err
            .message
            .contains("/paths/~1api~1v1~1cvms~1{cvm_id}~1replicas/post"));
    }

    #[test]
    fn an_unclean_name_is_refused() {
        let mut spec =
            json!({"paths": {"/x": {"get": {"operationId": "getThing", "responses": {}}}}});
        let err = name_operations(&mut spec, &mut Context::default()).unwrap_err();
        assert_eq!(err.pointer, "/paths/~1x/get/operationId");
    }

    #[test]
    fn type_names_lose_module_noise_and_refs_follow() {
        let mut spec = json!({
            "paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/teehouse__api__routes__cvms__v20260121__schemas__CVMInfo"}}}}}}}},
            "components": {"schemas": {
                "teehouse__api__routes__cvms__v20260121__schemas__CVMInfo": {"properties": {"os": {"$ref": "#/components/schemas/a__patch__Image"}}},
                "a__patch__Image": {},
                "a__preflight__Image": {},
                "Body_update_thing_api_v1_x_patch": {}
            }}
        });
        let mut cx = Context::default();
        cx.operations.push(OperationName {
            operation_id: "update_thing_api_v1_x_patch".into(),
            method: "patch".into(),
            path: "/x".into(),
            name: "update_thing".into(),
        });
        rename_with(&mut spec, &mut cx, &[]).unwrap();
        let names = schema_names(&spec);
        assert_eq!(
            names,
            ["CVMInfo", "PatchImage", "PreflightImage", "UpdateThingBody"]
        );
        assert_eq!(
            spec["components"]["schemas"]["CVMInfo"]["properties"]["os"]["$ref"],
            "#/components/schemas/PatchImage"
        );
        assert_eq!(
            spec.pointer("/paths/~1x/get/responses/200/content/application~1json/schema/$ref")
                .unwrap(),
            "#/components/schemas/CVMInfo"
        );
    }

    #[test]
    fn handler_summaries_are_put_in_sentence_case() {
        let mut spec = json!({"paths": {"/x": {
            "get": {"summary": "Handle Batch Cvm Status", "responses": {}},
            "put": {"summary": "Update SSH key", "responses": {}}
        }}});
        clean_summaries(&mut spec, &mut Context::default()).unwrap();
        assert_eq!(spec["paths"]["/x"]["get"]["summary"], "Batch CVM status");
        assert_eq!(spec["paths"]["/x"]["put"]["summary"], "Update SSH key");
    }

    #[test]
    fn bounded_strings_become_plain_and_say_their_bound() {
        let mut spec = json!({"paths": {}, "components": {"schemas": {"S": {"properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100, "description": "The name"},
            "user": {"type": "string", "maxLength": 39},
            "tag": {"type": "string", "minLength": 1},
            "n": {"type": "integer", "minimum": 1}
        }}}}});
        plain_bounded_strings(&mut spec, &mut Context::default()).unwrap();
        let p = &spec["components"]["schemas"]["S"]["properties"];
        assert_eq!(
            p["name"],
            json!({"type": "string", "description": "The name 1 to 100 characters."})
        );
        assert_eq!(
            p["user"],
            json!({"type": "string", "description": "At most 39 characters."})
        );
        assert_eq!(
            p["tag"],
            json!({"type": "string", "description": "Not empty."})
        );
        assert_eq!(p["n"], json!({"type": "integer", "minimum": 1}));
    }

    #[test]
    fn chosen_names_and_out_suffixes() {
        let mut spec = json!({"paths": {}, "components": {"schemas": {
            "CVMOSInfo": {}, "OnChainDeviceOut": {}, "Thing": {}, "ThingOut": {}, "AppComposeV2": {}
        }}});
        let chosen = [("CVMOSInfo", "CvmOsInfo"), ("AppComposeV2", "AppCompose")];
        rename_with(&mut spec, &mut Context::default(), &chosen).unwrap();
        let names = schema_names(&spec);
        for expected in [
            "CvmOsInfo",
            "OnChainDevice",
            "Thing",
            "ThingOut",
            "AppCompose",
        ] {
            assert!(
                names.contains(&expected.to_string()),
                "{expected}: {names:?}"
            );
        }
    }

    #[test]
    fn a_stale_chosen_name_is_an_error() {
        let mut spec = json!({"paths": {}, "components": {"schemas": {"Other": {}}}});
        let err = rename_with(&mut spec, &mut Context::default(), &[("Gone", "G")]).unwrap_err();
        assert!(err.message.contains("TYPE_RENAMES renames"), "{err}");
    }

    #[test]
    fn a_type_name_collision_is_an_error() {
        let mut spec = json!({"paths": {}, "components": {"schemas": {"x__Thing": {}, "Thing": {}, "XThing": {}}}});
        let err = rename_with(&mut spec, &mut Context::default(), &[]).unwrap_err();
        assert!(err.message.contains("`XThing`"), "{err}");
    }
}
