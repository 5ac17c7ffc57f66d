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

/// Generates `spec` and checks that every operation of it is generated or
/// hand-written, once, under a unique name, and that the client parses.
fn generates_every_operation(spec: &[u8]) -> Generated {
    let generated = generate_from_bytes(spec, &overlay()).unwrap_or_else(|e| panic!("{e}"));
    let upstream: Value = serde_json::from_slice(spec).unwrap();
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
        assert!(covered.contains(&on), "{} uses an operation not generated", op.name);
    }
    assert_eq!(covered, upstream_ops);
    let names: BTreeSet<_> = context.operations.iter().map(|o| &o.name).collect();
    assert_eq!(names.len(), context.operations.len(), "names are unique");
    syn::parse_file(&generated.client).expect("the generated client parses");
    generated
}

#[test]
fn the_current_revision_generates_every_operation() {
    let generated = generates_every_operation(&read("../openapi.json"));
    let context = &generated.normalized.context;
    assert_eq!(context.operations.len(), 102);
    assert_eq!(context.hand_written.len(), 1);
    assert_eq!(context.forms.len(), 3);
    assert_eq!(context.byte_answers.len(), 1);
}

#[test]
fn the_2026_03_25_revision_generates_every_operation() {
    let generated = generates_every_operation(&read("../xtask/tests/fixtures/openapi.2026-03-25.json"));
    let context = &generated.normalized.context;
    assert_eq!(context.operations.len(), 173);
    assert_eq!(context.forms.len(), 5, "{:?}", context.forms);
    assert_eq!(context.byte_answers.len(), 2);
    assert!(generated.client.contains(".form_urlencoded(&body)?"));
}
