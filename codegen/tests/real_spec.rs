//! The normalizer and generator on the vendored `openapi.json`, and on copies
//! of it broken on purpose.

use std::collections::HashSet;

use phala_cloud_codegen::normalize::normalize;
use phala_cloud_codegen::overlay::Overlay;
use phala_cloud_codegen::{generate, generate_from_bytes};
use serde_json::Value;

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.json");
    serde_json::from_slice(&std::fs::read(path).expect("read openapi.json"))
        .expect("parse openapi.json")
}

fn overlay_bytes() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../openapi.overlay.json"
    ))
    .expect("read openapi.overlay.json")
}

fn additions_bytes() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../openapi.additions.json"
    ))
    .expect("openapi.additions.json is readable")
}

fn overlay() -> Overlay {
    Overlay::read_beside(concat!(env!("CARGO_MANIFEST_DIR"), "/..").as_ref())
        .expect("the overlay and the additions parse")
}

type Predicate = dyn Fn(&serde_json::Map<String, Value>) -> bool;

fn find(value: &Value, pred: &Predicate, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if pred(map) {
                out.push(at.to_string());
            }
            for (k, v) in map {
                find(v, pred, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                find(v, pred, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_normalized_spec_is_openapi_3_0_without_3_1_constructs() {
    let normalized = normalize(spec(), &overlay())
        .expect("the vendored spec normalizes")
        .spec;
    assert_eq!(normalized["openapi"], "3.0.3");
    let checks: [(&str, &Predicate); 5] = [
        ("type: null", &|m| {
            m.get("type").is_some_and(|t| t == "null" || t.is_array())
        }),
        ("const", &|m| m.contains_key("const")),
        ("examples in a schema", &|m| {
            m.get("examples").is_some_and(Value::is_array)
        }),
        ("numeric exclusive bound", &|m| {
            ["exclusiveMinimum", "exclusiveMaximum"]
                .iter()
                .any(|k| m.get(*k).is_some_and(Value::is_number))
        }),
        ("prefixItems", &|m| m.contains_key("prefixItems")),
    ];
    for (what, pred) in checks {
        let mut found = Vec::new();
        find(&normalized, pred, "", &mut found);
        assert!(found.is_empty(), "{what} left at {found:?}");
    }

    let mut referenced = Vec::new();
    find(
        &normalized,
        &|m| m.contains_key("$ref"),
        "",
        &mut referenced,
    );
    let mut refs = HashSet::new();
    collect(&normalized, &mut refs);
    let defined: HashSet<String> = normalized["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let unreachable: Vec<_> = defined.difference(&refs).collect();
    assert!(
        unreachable.is_empty(),
        "unreachable schemas: {unreachable:?}"
    );
    // 158 reachable from the spec's operations, 42 from the additions.
    assert!(defined.len() < 250, "{} schemas kept", defined.len());
}

fn collect(value: &Value, out: &mut HashSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                out.insert(r.trim_start_matches("#/components/schemas/").to_string());
            }
            map.values().for_each(|v| collect(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        _ => {}
    }
}

#[test]
fn every_operation_is_generated() {
    let upstream = spec();
    let generated = generate(upstream.clone(), &overlay()).expect("the vendored spec generates");
    let context = &generated.normalized.context;
    let mut count = 0;
    for (path, item) in upstream["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            count += 1;
            let hand = context
                .hand_written
                .iter()
                .any(|h| &h.path == path && &h.method == method);
            let gen = context
                .operations
                .iter()
                .find(|o| &o.path == path && &o.method == method);
            let Some(op) = gen else {
                panic!("{method} {path} is not generated (hand-written: {hand})");
            };
            let signature = format!("pub fn {}(", op.name);
            assert!(
                generated.client.contains(&signature),
                "{method} {path}: no `{signature}` in the client"
            );
        }
    }
    assert_eq!(count, 102);
    let added = overlay().additions().operations().len();
    assert_eq!(added, 19, "the endpoints typed beyond the spec");
    assert_eq!(
        context.operations.len(),
        102 + added,
        "every operation is generated, the spec's and the added ones"
    );
    assert_eq!(
        context.additions,
        [],
        "the spec describes none of the additions"
    );
    assert_eq!(
        context.hand_written.len(),
        1,
        "only the watch is hand-written"
    );
    assert_eq!(context.forms.len(), 3, "the multipart uploads");
    assert_eq!(context.byte_answers.len(), 1, "the raw quote");
    let names: HashSet<_> = context.operations.iter().map(|o| &o.name).collect();
    assert_eq!(
        names.len(),
        context.operations.len(),
        "method names are unique"
    );
    assert!(names.iter().all(|n| !n.contains("api_v1")));
    for expected in [
        "list_kms",
        "get_cvm",
        "start_cvm",
        "get_kms_info",
        "replicate_cvm",
        "replicate_app_cvm",
    ] {
        assert!(names.contains(&expected.to_string()), "{expected}");
    }
    assert_eq!(context.api_version, "2026-01-21");
    for row in phala_cloud_codegen::operations::TABLE {
        assert!(
            names.contains(&row.name.to_string()),
            "the operation table names `{}`, which the vendored spec does not have",
            row.name
        );
    }
}

fn pointer_of_failure(spec: Value) -> String {
    let bytes = serde_json::to_vec(&spec).unwrap();
    generate_from_bytes(&bytes, &overlay_bytes(), &additions_bytes())
        .expect_err("the broken spec is refused")
        .to_string()
}

#[test]
fn a_multipart_mixed_body_is_refused_with_its_pointer() {
    let mut s = spec();
    s["paths"]["/api/v1/cvms/{cvm_id}/envs"]["patch"]["requestBody"]["content"] =
        serde_json::json!({"multipart/mixed": {"schema": {"type": "object"}}});
    assert_eq!(
        pointer_of_failure(s),
        "openapi.json#/paths/~1api~1v1~1cvms~1{cvm_id}~1envs/patch/requestBody/content/multipart~1mixed: \
         request body content type `multipart/mixed` is not generated (JSON, URL-encoded and multipart \
         forms are); declare the body as one of those in the overlay"
    );
}

#[test]
fn a_type_union_is_refused_with_its_pointer() {
    let mut s = spec();
    s["components"]["schemas"]["KMSInfo"]["properties"]["chain_id"] =
        serde_json::json!({"type": ["string", "integer"]});
    let message = pointer_of_failure(s);
    assert!(
        message.starts_with(
            "openapi.json#/components/schemas/KMSInfo/properties/chain_id/type: a union of types"
        ),
        "{message}"
    );
}

#[test]
fn a_name_collision_after_renaming_names_both_operations() {
    let mut s = spec();
    s["paths"]["/api/v1/kms/{kms_id}/info"]["get"]["operationId"] =
        Value::from("list_kms_api_v1_kms__kms_id__info_get");
    let message = pointer_of_failure(s);
    assert!(
        message.contains("/paths/~1api~1v1~1kms~1{kms_id}~1info/get/operationId"),
        "{message}"
    );
    assert!(message.contains("/paths/~1api~1v1~1kms/get"), "{message}");
}

#[test]
fn invalid_json_is_refused() {
    let message = generate_from_bytes(
        b"{\"openapi\": \"3.1.0\", ",
        &overlay_bytes(),
        &additions_bytes(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.starts_with("openapi.json#: not valid JSON"),
        "{message}"
    );
}

#[test]
fn the_spec_has_twelve_hashid_kinds_and_eight_paginated_operations() {
    use phala_cloud_codegen::inspect::{hashid_kinds, paginated_operations};
    let s = spec();
    let kinds: Vec<_> = hashid_kinds(&s).into_keys().collect();
    assert_eq!(
        kinds,
        ["crd", "crt", "cvm", "gord", "in", "ini", "kms", "ord", "pm", "prj", "usr", "wks"]
    );
    assert_eq!(paginated_operations(&s).len(), 8);
}

#[test]
fn unions_are_enums_and_answer_enums_are_open() {
    let generated = generate(spec(), &overlay()).expect("the vendored spec generates");
    let code = &generated.client;
    assert!(!code.contains("subtype_"), "a union was flattened");
    for expected in [
        "pub enum GetAppResponse {",
        "pub enum DstackAppListResponseDstackAppsItem {",
        "pub fn app_id(&self) -> &crate::ids::AppId {",
        "pub fn name(&self) -> ::std::option::Option<&str> {",
    ] {
        assert!(code.contains(expected), "missing {expected}");
    }
    // `KmsType` is in answers; a compose-file update's `storage_fs` only in
    // requests.
    let enum_body = |name: &str| {
        let start = code.find(&format!("pub enum {name} {{")).unwrap();
        code[start..start + code[start..].find("\n    }").unwrap()].to_string()
    };
    assert!(enum_body("KmsType").contains("Other(::std::string::String)"));
    assert!(!enum_body("ProvisionComposeFileUpdateRequestStorageFs").contains("Other("));
}

#[test]
fn a_property_named_like_the_unknown_fields_map_is_refused_with_its_pointer() {
    let mut s = spec();
    s["components"]["schemas"]["KMSInfo"]["properties"]["extra"] =
        serde_json::json!({"type": "string"});
    assert_eq!(
        pointer_of_failure(s),
        "openapi.json#/components/schemas/KMSInfo/properties/extra: \
         a property named `extra` collides with the field that keeps unknown fields"
    );
}

#[test]
fn every_rewrite_fires_as_expected_on_the_vendored_spec() {
    use phala_cloud_codegen::rewrites::{Fires, REWRITES};
    let generated = generate(spec(), &overlay()).expect("the vendored spec generates");
    let names: Vec<_> = generated.fired.iter().map(|f| f.name).collect();
    let expected: Vec<_> = REWRITES.iter().map(|r| r.name).collect();
    assert_eq!(names, expected, "every rewrite runs, in order");
    let operations = generated.normalized.context.operations.len();
    for fired in &generated.fired {
        eprintln!("{}: {} ({})", fired.name, fired.count, fired.expected);
        assert!(fired.count > 0, "{} never fired", fired.name);
        match fired.expected {
            Fires::Exactly(n) => assert_eq!(fired.count, n, "{}", fired.name),
            Fires::AtLeast(n) => assert!(fired.count >= n, "{}", fired.name),
        }
    }
    let per_operation = |name: &str| generated.fired.iter().find(|f| f.name == name).unwrap();
    for name in ["send_returns_crate_error", "builders_own_the_client"] {
        assert_eq!(per_operation(name).count, operations, "{name}");
    }
}
