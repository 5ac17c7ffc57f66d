//! Drift: the generator on every real revision of the spec, and on a spec of
//! constructs new to it. Each generates (its code is parsed, not compiled:
//! only the vendored spec's client is built) or is refused with its pointer.

use std::collections::BTreeSet;

use phala_cloud_codegen::{generate_from_bytes, Generated};
use serde_json::Value;

fn read(relative: &str) -> Vec<u8> {
    let path = format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn overlay() -> Vec<u8> {
    read("../openapi.overlay.json")
}

fn additions() -> Vec<u8> {
    read("../openapi.additions.json")
}

/// Generates `spec` and checks that every operation of it is generated or
/// hand-written, once, under a unique name, and that the client parses.
fn generates_every_operation(spec: &[u8]) -> Generated {
    let generated =
        generate_from_bytes(spec, &overlay(), &additions()).unwrap_or_else(|e| panic!("{e}"));
    // The spec as the additions complete it: their operations in, the
    // spec's that they stand in for out.
    let mut upstream: Value = serde_json::from_slice(spec).unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    phala_cloud_codegen::overlay::Overlay::read_beside(root.as_ref())
        .unwrap()
        .apply(&mut upstream)
        .unwrap();
    let context = &generated.normalized.context;
    let mut upstream_ops = BTreeSet::new();
    for (path, item) in upstream["paths"].as_object().unwrap() {
        for method in phala_cloud_codegen::inspect::METHODS {
            if item.get(method).is_some() {
                upstream_ops.insert((method.to_string(), path.clone()));
            }
        }
    }
    let mut covered = BTreeSet::new();
    for op in &context.operations {
        assert!(
            covered.insert((op.method.clone(), op.path.clone())),
            "{} {} twice",
            op.method,
            op.path
        );
        let signature = format!("pub fn {}(", op.name);
        assert!(generated.client.contains(&signature), "no `{signature}`");
    }
    for op in &context.hand_written {
        let on = (op.method.to_string(), op.path.to_string());
        assert!(
            covered.contains(&on),
            "{} uses an operation not generated",
            op.name
        );
    }
    assert_eq!(covered, upstream_ops);
    let names: BTreeSet<_> = context.operations.iter().map(|o| &o.name).collect();
    assert_eq!(names.len(), context.operations.len(), "names are unique");
    syn::parse_file(&generated.client).expect("the generated client parses");
    generated
}

#[test]
fn the_2026_03_25_revision_generates_every_operation() {
    let generated =
        generates_every_operation(&read("../xtask/tests/fixtures/openapi.2026-03-25.json"));
    let context = &generated.normalized.context;
    // 173 of its own; the 19 added stand in for its 5 of workspaces and the
    // current user, which it describes itself.
    assert_eq!(context.operations.len(), 173 + 19 - 5);
    let described: Vec<_> = context.additions.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        described,
        [
            "get_current_user",
            "list_workspaces",
            "get_workspace",
            "get_workspace_quotas",
            "list_workspace_nodes"
        ]
    );
    assert_eq!(context.forms.len(), 5, "{:?}", context.forms);
    assert_eq!(context.byte_answers.len(), 2);
    assert!(generated.client.contains(".form_urlencoded(&body)?"));
}

/// The vendored spec with the paths and schemas of
/// `tests/fixtures/drift.json` added: constructs new to the generator.
fn drift() -> Value {
    let mut spec: Value = serde_json::from_slice(&read("../openapi.json")).unwrap();
    let added: Value = serde_json::from_slice(&read("tests/fixtures/drift.json")).unwrap();
    for (section, pointer) in [("paths", "/paths"), ("components", "/components/schemas")] {
        let into = spec
            .pointer_mut(pointer)
            .and_then(Value::as_object_mut)
            .unwrap();
        let from = match section {
            "paths" => &added["paths"],
            _ => &added["components"]["schemas"],
        };
        for (key, value) in from.as_object().unwrap() {
            into.insert(key.clone(), value.clone());
        }
    }
    spec
}

fn generate_drift(spec: Value) -> Result<Generated, phala_cloud_codegen::SpecError> {
    generate_from_bytes(
        &serde_json::to_vec(&spec).unwrap(),
        &overlay(),
        &additions(),
    )
}

/// A form body, a multipart body with a file and two fields, a byte answer
/// that also offers JSON, a new hashid kind and a new paginated operation:
/// each generates, and what the update report reads off the spec names the
/// new hashid kind and the paginated operation.
#[test]
fn constructs_new_to_the_generator_generate() {
    let spec = drift();
    let generated = generate_drift(spec.clone()).unwrap_or_else(|e| panic!("{e}"));
    let code = generated
        .client
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for expected in [
        ".form_urlencoded(&body)?",
        "impl crate::multipart::FormFields for types::BodyUploadAvatar",
        r#"parts.push(crate::multipart::file_part("avatar", &self.avatar));"#,
        r#"crate::multipart::text_parts(&mut parts, "caption", &self.caption);"#,
        r#"crate::multipart::text_parts(&mut parts, "size", &self.size);"#,
        "pub fn avatar( mut self, content: impl ::std::convert::Into<::bytes::Bytes>,",
        "pub fn size<V>(mut self, value: V) -> Self where V: ::std::convert::TryInto<i64>,",
        r#"::reqwest::header::HeaderValue::from_static( "application/zip, application/pdf", )"#,
        "pub async fn send_json(",
        "pub fn list_things(",
    ] {
        assert!(code.contains(expected), "missing {expected}");
    }
    let avatar = code.find(r#"file_part("avatar""#).unwrap();
    let caption = code.find(r#""caption", &self.caption"#).unwrap();
    assert!(avatar < caption, "the spec's field order");
    // The new kind generates as a string; the report and the ID coverage
    // test name it from the spec.
    assert!(code.contains("pub id: ::std::string::String,"), "{code}");
    let kinds = phala_cloud_codegen::inspect::hashid_kinds(&spec);
    assert_eq!(kinds.get("thg").map(String::as_str), Some("things"));
    let paginated = phala_cloud_codegen::inspect::paginated_operations(&spec);
    assert!(paginated.iter().any(|o| o.path == "/api/v1/things"));
    syn::parse_file(&generated.client).expect("parses");
}

/// A 201 next to a 202 with another schema is refused with the pointer of
/// the second; so is an array field of a URL-encoded form and an object
/// field of a multipart one. None of them reaches progenitor's assertions.
#[test]
fn constructs_the_generator_refuses_are_named_by_their_pointers() {
    let refused = |edit: &dyn Fn(&mut Value)| {
        let mut spec = drift();
        edit(&mut spec);
        generate_drift(spec).expect_err("refused").to_string()
    };
    let two_answers = refused(&|spec| {
        let typed = |name: &str| serde_json::json!({"description": name, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}}});
        spec["paths"]["/api/v1/things"]["post"] = serde_json::json!({
            "operationId": "create_thing_api_v1_things_post",
            "responses": {"201": typed("Thing"), "202": typed("DriftToken")}
        });
    });
    assert!(
        two_answers.starts_with(
            "openapi.json#/paths/~1api~1v1~1things/post/responses/202: answers 201 with \
             `#/components/schemas/Thing` and 202 with `#/components/schemas/DriftToken`"
        ),
        "{two_answers}"
    );
    let array_field = refused(&|spec| {
        spec["components"]["schemas"]["TokenForm"]["properties"]["scopes"] =
            serde_json::json!({"type": "array", "items": {"type": "string"}});
    });
    assert!(
        array_field.starts_with(
            "openapi.json#/components/schemas/TokenForm/properties/scopes: an array field"
        ),
        "{array_field}"
    );
    let object_field = refused(&|spec| {
        spec["components"]["schemas"]["Body_upload_avatar"]["properties"]["meta"] =
            serde_json::json!({"type": "object", "properties": {}});
    });
    assert!(
        object_field.starts_with(
            "openapi.json#/components/schemas/Body_upload_avatar/properties/meta: an object field"
        ),
        "{object_field}"
    );
    let unbound = refused(&|spec| {
        spec["paths"]["/api/v1/things/{thing_id}"] = serde_json::json!({"get": {
            "operationId": "get_thing_api_v1_things__thing_id__get",
            "responses": {"200": {"description": "ok"}}
        }});
    });
    assert!(
        unbound.contains("`{thing_id}`, which no parameter declares"),
        "{unbound}"
    );
}
