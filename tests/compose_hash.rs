//! Compose hashes against vectors computed independently with Python
//! (3, standard library only) from the files in `tests/fixtures/compose_hash/`:
//!
//! ```python
//! import hashlib, json
//! def preprocess(d):
//!     d = dict(d)
//!     if d.get("runner") == "bash":
//!         d.pop("docker_compose_file", None)
//!     elif d.get("runner") == "docker-compose":
//!         d.pop("bash_script", None)
//!     if "pre_launch_script" in d and not d["pre_launch_script"]:
//!         del d["pre_launch_script"]
//!     return d
//! def canonical(d):
//!     return json.dumps(preprocess(d), sort_keys=True, indent=4, separators=(",", ":"), ensure_ascii=False)
//! def compose_hash(d):
//!     return hashlib.sha256(canonical(d).encode("utf-8")).hexdigest()
//! compose_hash(json.load(open("tests/fixtures/compose_hash/docker_compose.json", encoding="utf-8")))
//! ```
//!
//! `escapes.canonical.txt` is `canonical(...)` of `escapes.json`, written as
//! is. The official JS algorithm (`sortObject`, `JSON.stringify(o, null, 4)`,
//! `.replace(/": /g, '":')`, run with Node) gives the same hashes for
//! `docker_compose`, `bash_runner`, `app_compose_v2` and `empty`; it differs
//! on `other_runner` (a `": ` inside a string value) and `escapes` (integers
//! beyond 2^53), where this crate follows Python.

use phala_cloud::compose_hash::{canonical_json, ComposeHash};
use phala_cloud::types::AppCompose;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/compose_hash/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn hash_of(name: &str) -> String {
    ComposeHash::of_json(&fixture(name)).to_string()
}

#[test]
fn a_docker_compose_app_with_nested_objects_and_non_ascii_values() {
    assert_eq!(
        hash_of("docker_compose"),
        "f9e45830e78ea7f30786ae56b35399f62648aa563ac01a517a042b5bca7e1ae4"
    );
}

#[test]
fn the_bash_runner_drops_the_compose_file_and_a_null_pre_launch_script() {
    assert_eq!(
        hash_of("bash_runner"),
        "fc656acc5f289a8ee9065b23dc1e4915365d840cea400893919c17e870e2770e"
    );
    let text = canonical_json(&fixture("bash_runner"));
    assert!(!text.contains("docker_compose_file"), "{text}");
    assert!(!text.contains("pre_launch_script"), "{text}");
    assert!(
        text.contains("\"bash_script\":\"#!/bin/sh\\necho \\\"démarrage\\\"\\n\""),
        "{text}"
    );
}

#[test]
fn another_runner_keeps_both_scripts_and_a_set_pre_launch_script() {
    assert_eq!(
        hash_of("other_runner"),
        "df1b1c1ae9ffef3cf33c8b102c7932a2d17b9ef43e6281d6d6ad90f284901521"
    );
    let text = canonical_json(&fixture("other_runner"));
    for key in ["docker_compose_file", "bash_script", "pre_launch_script"] {
        assert!(
            text.contains(&format!("\"{key}\":")),
            "{key} missing: {text}"
        );
    }
    // A `": ` inside a string stays as it is (`\": ` once escaped).
    assert!(text.contains(r#"echo \"ready\": ok"#), "{text}");
}

#[test]
fn escapes_key_order_numbers_and_empty_containers_match_python_byte_for_byte() {
    let expected = include_str!("fixtures/compose_hash/escapes.canonical.txt");
    assert_eq!(canonical_json(&fixture("escapes")), expected);
    assert_eq!(
        hash_of("escapes"),
        "23e172bc5ddc8cd7d1e5c38dcb4c7489cba4dc858bdbfe07ef5a9c00c6bcd3e9"
    );
}

#[test]
fn an_empty_compose_is_two_braces() {
    assert_eq!(canonical_json(&fixture("empty")), "{}");
    assert_eq!(
        hash_of("empty"),
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
}

#[test]
fn key_order_in_the_input_does_not_matter() {
    let forward: Value =
        serde_json::from_str(r#"{"a": 1, "b": {"c": 2, "d": [ {"e": 3, "f": 4} ]}}"#).unwrap();
    let backward: Value =
        serde_json::from_str(r#"{"b": {"d": [ {"f": 4, "e": 3} ], "c": 2}, "a": 1}"#).unwrap();
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
fn a_typed_compose_encodes_exactly_what_it_holds_so_its_json_hashes_alike() {
    // The fixture is the full form, defaults spelled out, that the vector
    // was computed from; decoded and encoded again, it is the same JSON.
    let full = fixture("app_compose_v2");
    let compose: AppCompose = serde_json::from_value(full.clone()).unwrap();
    assert_eq!(serde_json::to_value(&compose).unwrap(), full);
    let expected = "220632b07f1dc3095260b3944cc5b9ae5440fbda6218e114f6f982949961f85c";
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
    let hash = ComposeHash::of_json(&fixture("empty"));
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
