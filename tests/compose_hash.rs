//! Compose hashes against vectors computed with dstack-sdk's own code:
//! `tests/fixtures/compose_hash/dstack_sdk_vectors.json`, written by
//! `dstack_sdk_vectors.py` beside it with dstack-sdk 0.5.4 from PyPI
//! (`get_compose_hash(compose, normalize=False)`, and the text it hashes,
//! `to_deterministic_json`); the file names the package and the calls.

use phala_cloud::compose_hash::{compact_json, ComposeHash};
use phala_cloud::types::AppCompose;
use serde_json::Value;

fn fixture_text(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/compose_hash/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture(name: &str) -> Value {
    serde_json::from_str(&fixture_text(&format!("{name}.json"))).unwrap()
}

fn vectors() -> Vec<Value> {
    let file = fixture("dstack_sdk_vectors");
    assert_eq!(
        file["provenance"]["call"],
        "dstack_sdk.get_compose_hash.get_compose_hash(compose, normalize=False)"
    );
    file["vectors"].as_array().unwrap().clone()
}

fn vector(name: &str) -> Value {
    let found = vectors().into_iter().find(|v| v["name"] == name);
    found.unwrap_or_else(|| panic!("no vector {name}"))
}

#[test]
fn every_dstack_sdk_vector_matches_byte_for_byte() {
    let vectors = vectors();
    let names: Vec<&str> = vectors
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    for name in [
        "non_ascii",
        "escapes",
        "nested",
        "scalars",
        "deploy_defaults",
        "every_runner_field_kept",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    for v in &vectors {
        assert_eq!(
            compact_json(&v["compose"]),
            v["json"].as_str().unwrap(),
            "{}",
            v["name"]
        );
        assert_eq!(
            ComposeHash::of_json(&v["compose"]).to_string(),
            v["hash"].as_str().unwrap(),
            "{}",
            v["name"]
        );
    }
}

#[test]
fn non_ascii_is_written_as_utf8_and_controls_are_escaped() {
    let text = compact_json(&vector("non_ascii")["compose"]);
    assert!(text.contains("héllo 日本 🦀"), "{text}");
    assert!(text.contains(r#"{"Z":"upper","a":"lower","É":"#), "{text}");
    let text = compact_json(&vector("escapes")["compose"]);
    assert!(
        text.contains(r#"quote \" backslash \\ slash / tab\tnewline\ncr\r"#),
        "{text}"
    );
    assert!(
        text.contains(r#"controls \u0001 \u001f \b \f \u000b \u0000"#),
        "{text}"
    );
    // DEL and the Unicode line separators are not escaped.
    assert!(
        text.contains("del \u{7f} nbsp \u{a0} line-sep \u{2028}"),
        "{text}"
    );
}

#[test]
fn numbers_are_written_as_python_writes_them() {
    let text = compact_json(&vector("scalars")["compose"]);
    assert!(
        text.contains(
            r#""floats":[1.5,-0.25,1.0,0.1,-0.0,1000000000000000.0,1e+16,1.5e+16,1e+22,"#
        ),
        "{text}"
    );
    assert!(
        text.contains("9007199254740993,18446744073709551615,-9223372036854775808"),
        "{text}"
    );
    assert!(
        text.contains(r#""nested_null":{"salt":null},"nulls":[null,{"inner":null}]"#),
        "{text}"
    );
}

#[test]
fn nothing_is_dropped_whatever_the_runner() {
    let v = vector("every_runner_field_kept");
    let text = compact_json(&v["compose"]);
    for key in ["bash_script", "docker_compose_file", "pre_launch_script"] {
        assert!(
            text.contains(&format!("\"{key}\":")),
            "{key} missing: {text}"
        );
    }
    // A top-level null is hashed as given (dstack-sdk's class would drop it).
    let with_null = serde_json::json!({"runner": "docker-compose", "salt": null});
    assert_eq!(
        compact_json(&with_null),
        r#"{"runner":"docker-compose","salt":null}"#
    );
}

#[test]
fn key_order_in_the_input_does_not_matter() {
    let forward: Value =
        serde_json::from_str(r#"{"a": 1, "b": {"c": 2, "d": [ {"e": 3, "f": 4} ]}}"#).unwrap();
    let backward: Value =
        serde_json::from_str(r#"{"b": {"d": [ {"f": 4, "e": 3} ], "c": 2}, "a": 1}"#).unwrap();
    assert_eq!(
        compact_json(&forward),
        r#"{"a":1,"b":{"c":2,"d":[{"e":3,"f":4}]}}"#
    );
    assert_eq!(
        ComposeHash::of_json(&forward),
        ComposeHash::of_json(&backward)
    );
    // Array order does.
    let swapped: Value =
        serde_json::from_str(r#"{"a": 1, "b": {"c": 2, "d": [ {"f": 4}, {"e": 3} ]}}"#).unwrap();
    assert_ne!(
        ComposeHash::of_json(&forward),
        ComposeHash::of_json(&swapped)
    );
}

#[test]
fn a_cvm_measures_the_files_bytes() {
    // dstack-examples' attestation/rtmr3-based: the report's compose-hash
    // event is SHA-256 of this file as it is (see /shared/attestation
    // NOTES, bundle C). The file is not in the compact form (its keys are
    // not sorted), so only its bytes give that hash.
    let raw = fixture_text("rtmr3-based-app-compose.json");
    let measured = "06768e6df639ce3be65e9e5321f8b2d82dbffb01c74323462d34c2feb9653aff";
    assert_eq!(ComposeHash::of_file(raw.as_bytes()).to_string(), measured);
    let parsed: Value = serde_json::from_str(&raw).unwrap();
    assert_ne!(ComposeHash::of_json(&parsed).to_string(), measured);
    // The compact form of a file in that form is the file.
    let compact = compact_json(&parsed);
    let reparsed: Value = serde_json::from_str(&compact).unwrap();
    assert_eq!(compact_json(&reparsed), compact);
    assert_eq!(
        ComposeHash::of_file(compact.as_bytes()),
        ComposeHash::of_json(&parsed)
    );
}

#[test]
fn a_typed_compose_encodes_exactly_what_it_holds_so_its_json_hashes_alike() {
    // The fixture is the full form, defaults spelled out, that the vector
    // was computed from; decoded and encoded again, it is the same JSON.
    let full = fixture("app_compose_v2");
    let expected = vector("app_compose_v2")["hash"].clone();
    let compose: AppCompose = serde_json::from_value(full.clone()).unwrap();
    assert_eq!(serde_json::to_value(&compose).unwrap(), full);
    let sent = serde_json::to_value(&compose).unwrap();
    assert_eq!(ComposeHash::of_json(&sent).to_string(), expected);

    // Nothing is filled in, an empty list stays, a key the spec does not
    // list is kept.
    let short = serde_json::json!({
        "name": "tëst-app",
        "docker_compose_file": "services: {}",
        "allowed_envs": [],
        "x_key_from_a_newer_dstack": {"on": true},
    });
    let compose: AppCompose = serde_json::from_value(short.clone()).unwrap();
    let sent = serde_json::to_value(&compose).unwrap();
    assert_eq!(sent, short);
    assert_eq!(ComposeHash::of_json(&sent), ComposeHash::of_json(&short));
}

#[test]
fn a_null_optional_field_does_not_survive_a_typed_compose_so_there_is_no_typed_hash() {
    let with_null = serde_json::json!({"name": "a", "docker_compose_file": "x", "salt": null});
    let compose: AppCompose = serde_json::from_value(with_null.clone()).unwrap();
    let sent = serde_json::to_value(&compose).unwrap();
    assert_eq!(
        sent,
        serde_json::json!({"name": "a", "docker_compose_file": "x"})
    );
    assert_ne!(
        ComposeHash::of_json(&sent),
        ComposeHash::of_json(&with_null)
    );
}

#[test]
fn the_storage_filesystem_round_trips_as_a_string() {
    // `storage_fs` is `anyOf: [const ext4, const zfs, null]` upstream; the
    // normalizer's merge_enum_unions makes it one enum, so a compose with it
    // set decodes and hashes as the server wrote it.
    let json = serde_json::json!({"name": "fs", "docker_compose_file": "services: {}", "storage_fs": "zfs"});
    let compose: AppCompose = serde_json::from_value(json.clone()).unwrap();
    let back = serde_json::to_value(&compose).unwrap();
    assert_eq!(back, json);
    assert_eq!(ComposeHash::of_json(&back), ComposeHash::of_json(&json));
}

#[test]
fn hashes_print_parse_and_serialize_as_hex() {
    let hash = ComposeHash::of_json(&serde_json::json!({}));
    // sha256("{}")
    let hex = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    assert_eq!(hash.to_string(), hex);
    assert_eq!(hex.parse::<ComposeHash>().unwrap(), hash);
    assert_eq!(format!("0x{hex}").parse::<ComposeHash>().unwrap(), hash);
    assert_eq!(hex.to_uppercase().parse::<ComposeHash>().unwrap(), hash);
    assert_eq!(hash.to_bytes().unwrap()[..4], [0x44, 0x13, 0x6f, 0xa3]);
    assert_eq!(ComposeHash::from(hash.to_bytes().unwrap()), hash);

    assert_eq!(
        serde_json::to_value(&hash).unwrap(),
        Value::String(hex.into())
    );
    let from_server: ComposeHash =
        serde_json::from_value(Value::String(format!("0x{hex}"))).unwrap();
    assert_eq!(from_server, hash);
}

#[test]
fn malformed_hashes_do_not_parse() {
    for text in [
        "",
        "0x",
        "abc",
        &"a".repeat(63),
        &"a".repeat(65),
        &"g".repeat(64),
    ] {
        let err = text.parse::<ComposeHash>().unwrap_err();
        assert!(
            err.to_string().starts_with("invalid compose hash \""),
            "{err}"
        );
    }
    assert!(serde_json::from_value::<ComposeHash>(serde_json::json!(42)).is_err());
    assert!(serde_json::from_value::<ComposeHash>(serde_json::json!("a/b")).is_err());
    // An answer's odd hash is kept, but has no bytes.
    let kept: ComposeHash = serde_json::from_value(serde_json::json!("zz")).unwrap();
    assert!(kept.to_bytes().is_err());
}
