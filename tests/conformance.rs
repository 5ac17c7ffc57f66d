//! Conformance: every operation of `openapi.json` (read at test time) is
//! called through the generated client against httpmock, and what arrives —
//! method, path, every query parameter, headers, JSON body — is checked
//! against the *upstream* spec; the server answers a body valid for the
//! operation's success schema (minimal and maximal examples from
//! `conformance/examples.rs`), and the decoded answer must encode back to
//! the same JSON (`conformance/compare.rs` lists the only differences the
//! SDK makes, and why). So do the answers a newer server would send (a
//! field the spec does not know in every object, a value it does not list
//! in every enum) and every real-shaped body under `tests/fixtures/`
//! (`conformance/fixtures.rs` says which operation each belongs to, or why
//! it contradicts the spec).
//!
//! The calls go through a driver generated from the client's own builders
//! (`phala_cloud_codegen::conformance`, written by `build.rs`): it takes
//! each argument as JSON, deserializes it into the type its setter takes,
//! sends, and serializes the typed answer back to JSON.

#[path = "conformance/compare.rs"]
mod compare;
#[path = "conformance/examples.rs"]
mod examples;
#[path = "conformance/fixtures.rs"]
mod fixtures;
#[path = "conformance/spec.rs"]
mod spec;
#[path = "conformance/wire.rs"]
mod wire;

use std::panic::{self, AssertUnwindSafe};

use futures::stream::{self, StreamExt};

use compare::from_a_newer_server;
use examples::Mode;
use spec::{Coverage, Spec};
use wire::{Answer, Case, Server};

include!(concat!(env!("OUT_DIR"), "/conformance.rs"));

/// The generated operations the JSON driver does not call: `multipart/form-data`
/// bodies and byte answers. Their wire tests are in `tests/uploads.rs` and
/// `tests/attestations.rs`. A new such operation fails
/// `every_operation_has_a_conformance_case` until it is listed here, with
/// its wire test written.
const WIRE_TESTED: &[&str] = &[
    "update_docker_compose",
    "update_pre_launch_script",
    "verify_attestation",
    "get_raw_attestation",
];

/// How many cases run at once (each under a path prefix of its own on the
/// test's mock server).
const CONCURRENCY: usize = 8;

#[test]
fn every_operation_has_a_conformance_case() {
    let mut missing = Vec::new();
    for op in Spec::get().operations() {
        let covered = match &op.coverage {
            Coverage::Generated(name) => {
                let listed = phala_cloud::__private::OPERATIONS
                    .iter()
                    .find(|o| o.name == name);
                assert_eq!(
                    listed.map(|o| (o.method, o.path)),
                    Some((
                        op.method.to_ascii_uppercase().as_str(),
                        phala_cloud_codegen::additions::wire_path(op.path)
                    )),
                    "phala_cloud::__private::OPERATIONS lists {name} as the spec does"
                );
                CALLABLE.contains(&name.as_str()) != WIRE_TESTED.contains(&name.as_str())
            }
            Coverage::Missing => false,
        };
        if !covered {
            missing.push(op.name());
        }
    }
    assert!(
        missing.is_empty(),
        "operations of openapi.json without a conformance case:\n  {}",
        missing.join("\n  ")
    );
    assert_eq!(
        Spec::get().operations().len(),
        CALLABLE.len() + WIRE_TESTED.len(),
        "every callable operation is one of openapi.json"
    );
}

/// The cases of every generated operation in `mode`.
fn cases(mode: Mode) -> Vec<Case> {
    let spec = Spec::get();
    spec.operations()
        .iter()
        .filter_map(|op| match &op.coverage {
            Coverage::Generated(name) if CALLABLE.contains(&name.as_str()) => {
                let case =
                    panic::catch_unwind(AssertUnwindSafe(|| Case::new(spec, op, name, mode)));
                Some(case.unwrap_or_else(|_| {
                    panic!("{name}: no conformance case (see the panic above)")
                }))
            }
            _ => None,
        })
        .collect()
}

/// The generator's self-check: every argument, body and answer it made for
/// a case is valid for the upstream schema it was made from.
#[test]
fn generated_examples_are_valid_upstream() {
    let doc = &Spec::get().upstream;
    let mut invalid = Vec::new();
    for case in cases(Mode::Minimal).into_iter().chain(cases(Mode::Maximal)) {
        for (what, schema, value) in &case.generated {
            if let Err(e) = support::schema::validate(doc, schema, value) {
                invalid.push(format!("{}: {what} {e}", case.label));
            }
        }
    }
    assert!(
        invalid.is_empty(),
        "invalid examples:\n{}",
        invalid.join("\n")
    );
}

/// Runs `cases`, a few at a time, and fails with every case that failed.
async fn run_all(cases: Vec<Case>) {
    let total = cases.len();
    let server = Server::start().await;
    let failures: Vec<String> = stream::iter(&cases)
        .map(|case| server.run(case))
        .buffer_unordered(CONCURRENCY)
        .filter_map(|result| async move { result.err() })
        .collect()
        .await;
    let allowed: Vec<String> = compare::DELIBERATE
        .iter()
        .map(|(what, why)| format!("  - {what}: {why}"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}\n(a round trip may differ only so:\n{})",
        failures.len(),
        failures.join("\n"),
        allowed.join("\n")
    );
}

#[tokio::test]
async fn every_operation_with_required_arguments_and_a_minimal_answer() {
    run_all(cases(Mode::Minimal)).await;
}

#[tokio::test]
async fn every_operation_with_every_argument_and_a_maximal_answer() {
    run_all(cases(Mode::Maximal)).await;
}

/// Forward compatibility: an answer with a field the spec does not know in
/// every object and a value it does not list in every enum decodes, and
/// encodes back to the same JSON: nothing a newer server sends is lost.
#[tokio::test]
async fn answers_of_a_newer_server_round_trip() {
    let spec = Spec::get();
    let cases = cases(Mode::Maximal)
        .into_iter()
        .filter(|case| case.answer.body.is_some())
        .filter_map(|mut case| {
            let body = case.answer.expected.clone();
            let newer = from_a_newer_server(&spec.upstream, &case.answer.schema, &body);
            if newer == body {
                // No object with declared fields and no enum (a string, an
                // untyped value).
                return None;
            }
            case.answer = Answer::json(case.answer.status, case.answer.schema.clone(), newer);
            case.label = case.label.replace("(Maximal)", "(newer server)");
            Some(case)
        })
        .collect();
    run_all(cases).await;
}

/// Every fixture decodes with the typed client and encodes back to the
/// same JSON, or is recorded as contradicting the spec (and still does).
#[tokio::test]
async fn fixtures_decode_or_are_recorded_as_contradicting_the_spec() {
    let server = Server::start().await;
    let failures: Vec<String> = stream::iter(fixtures::FIXTURES)
        .map(|fixture| fixtures::check(&server, fixture))
        .buffer_unordered(CONCURRENCY)
        .filter_map(|result| async move { result.err() })
        .collect()
        .await;
    assert!(failures.is_empty(), "fixtures:\n{}", failures.join("\n"));
}

/// A body added to `tests/fixtures/` needs a row saying what it is.
#[test]
fn every_fixture_has_a_row() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(dir).expect("tests/fixtures") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".json") && !fixtures::FIXTURES.iter().any(|f| f.file == name) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "fixtures without a row in conformance/fixtures.rs: {missing:?}"
    );
}
