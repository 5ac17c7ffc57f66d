//! The overlay beside the vendored spec: every action is needed, documented
//! and applies; a spec without an action's target fails the build naming the
//! action; a spec that says what an action says makes it unnecessary.

use phala_cloud_codegen::normalize::normalize;
use phala_cloud_codegen::overlay::Overlay;
use phala_cloud_codegen::{generate_from_bytes, SpecError};
use serde_json::{json, Value};

fn read(file: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../{file}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn spec() -> Value {
    serde_json::from_slice(&read("openapi.json")).expect("openapi.json is JSON")
}

fn overlay() -> Overlay {
    Overlay::parse(&read("openapi.overlay.json")).expect("the overlay parses")
}

/// The index of the first action whose target contains `part`.
fn action(part: &str) -> usize {
    overlay()
        .actions()
        .iter()
        .position(|a| a.target.contains(part))
        .unwrap_or_else(|| panic!("no action targets {part}"))
}

fn generate(spec: &Value) -> Result<(), SpecError> {
    let bytes = serde_json::to_vec(spec).unwrap();
    generate_from_bytes(
        &bytes,
        &read("openapi.overlay.json"),
        &read("openapi.additions.json"),
    )
    .map(|_| ())
}

#[test]
fn every_action_is_documented_and_needed_by_the_vendored_spec() {
    let overlay = overlay();
    for (i, action) in overlay.actions().iter().enumerate() {
        assert!(
            action.description.as_deref().is_some_and(|d| !d.is_empty()),
            "action {i} ({}) says why it exists",
            action.target
        );
    }
    let normalized = normalize(spec(), &overlay).expect("the vendored spec normalizes");
    assert_eq!(normalized.context.overlay_unnecessary, []);
}

#[test]
fn a_spec_without_an_actions_target_fails_the_build_naming_the_action() {
    // The operation is still there, its answer is not.
    let mut trimmed = spec();
    trimmed["paths"]["/api/v1/cvms/provision"]["post"]["responses"]
        .as_object_mut()
        .unwrap()
        .shift_remove("200");
    let err = generate(&trimmed).expect_err("the trimmed spec is refused");
    let index = action("$.paths['/api/v1/cvms/provision'].post");
    assert_eq!(
        err.to_string(),
        format!(
            "openapi.json#: openapi.overlay.json action {index} (target \
             `$.paths['/api/v1/cvms/provision'].post.responses['200'].content['application/json'].schema`) \
             matches nothing in the spec: the spec changed there, so update or remove the action"
        )
    );

    let mut renamed = spec();
    let schemas = renamed["components"]["schemas"].as_object_mut().unwrap();
    let vm = schemas.shift_remove("VM").unwrap();
    schemas.insert("VirtualMachine".into(), vm);
    let err = generate(&renamed).expect_err("a renamed schema is refused");
    assert!(
        err.message.contains(&format!(
            "action {} (target `$.components.schemas['VM']",
            action("['VM']")
        )),
        "{err}"
    );
}

#[test]
fn an_answer_the_spec_types_itself_makes_its_actions_unnecessary() {
    let mut typed = spec();
    let response = "/paths/~1api~1v1~1kms~1{kms_id}~1pubkey~1{app_id}/get/responses/200/content/application~1json/schema";
    *typed.pointer_mut(response).unwrap() = json!({"$ref": "#/components/schemas/AppEnvPubkey"});
    typed["components"]["schemas"]["AppEnvPubkey"] = json!({
        "type": "object",
        "properties": {"public_key": {"type": "string"}, "signature": {"type": "string"}}
    });
    let normalized = normalize(typed, &overlay()).expect("still normalizes");
    let targets: Vec<_> = normalized
        .context
        .overlay_unnecessary
        .iter()
        .map(|u| u.target.as_str())
        .collect();
    assert_eq!(
        targets,
        ["$.paths['/api/v1/kms/{kms_id}/pubkey/{app_id}'].get.responses['200'].content['application/json'].schema"]
    );
}

/// The operations whose success answer is still an untyped JSON value, and
/// why: no official SDK, docs page or fixture shows what they answer.
const UNTYPED: &[(&str, &str)] = &[
    (
        "get_commit_update_info",
        "commit token metadata for the web confirm page; no SDK reads it",
    ),
    (
        "test_webhook",
        "no SDK or docs page shows the answer of a test delivery",
    ),
    (
        "resend_webhook_delivery",
        "no SDK or docs page shows the answer of a resend",
    ),
];

#[test]
fn at_most_three_operations_answer_untyped_json() {
    let normalized = normalize(spec(), &overlay()).unwrap();
    let mut untyped = Vec::new();
    for item in normalized.spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let responses = op["responses"].as_object().unwrap();
            let success = responses
                .iter()
                .filter(|(status, _)| status.starts_with('2'));
            for (_, response) in success {
                let Some(schema) = response.pointer("/content/application~1json/schema") else {
                    continue;
                };
                let documentation_only = schema
                    .as_object()
                    .is_some_and(|s| s.keys().all(|k| k == "title" || k == "description"));
                if documentation_only {
                    untyped.push(op["operationId"].as_str().unwrap().to_string());
                }
            }
        }
    }
    let expected: Vec<_> = UNTYPED.iter().map(|(name, _)| name.to_string()).collect();
    let why: Vec<_> = UNTYPED
        .iter()
        .map(|(n, why)| format!("{n}: {why}"))
        .collect();
    assert_eq!(untyped, expected, "untyped, and why:\n{}", why.join("\n"));
    assert!(UNTYPED.len() <= 3);
}
