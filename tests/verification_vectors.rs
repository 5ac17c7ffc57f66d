//! Published vectors: the KMS env-encryption key signatures (legacy → the
//! signer dstack's SDKs publish; v1 with the collector's fixed timestamp)
//! and `mr_config_id` V1, V2 and V3, read from `tests/fixtures/attestation/`.

use std::time::{Duration, UNIX_EPOCH};

use phala_cloud::ids::{AppId, ComposeHash};
use phala_cloud::kms_signature::{
    recover_legacy_signer, recover_v1_signer, Freshness, K256PublicKey, KmsSignature,
    SignatureError,
};
use phala_cloud::mr_config::{KeyProvider, MrConfigId, MrConfigV3};
use serde_json::Value;

fn vectors(name: &str) -> Value {
    support::fixture_json(&format!("attestation/{name}"))
}

fn bytes32(text: &str) -> [u8; 32] {
    hex::decode(text).unwrap().try_into().unwrap()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

#[test]
fn the_legacy_vector_recovers_the_published_signer() {
    let v = &vectors("env_encrypt_pubkey.json")["legacy"];
    let signature: KmsSignature = text(v, "signature").parse().unwrap();
    let key = bytes32(text(v, "public_key"));
    for app in [
        text(v, "app_id").to_string(),
        format!("0x{}", text(v, "app_id")),
    ] {
        let app: AppId = app.parse().unwrap();
        let signer = recover_legacy_signer(&app, &key, &signature).unwrap();
        assert_eq!(signer.to_string(), text(v, "expected_signer_compressed"));
    }
    // Another app id or another key: the signature proves nothing for them.
    let other_app = AppId::from([1; 20]);
    let recovered = recover_legacy_signer(&other_app, &key, &signature);
    assert!(
        recovered.map_or(true, |s| s.to_string()
            != text(v, "expected_signer_compressed")),
        "a signature for app 00… must not give the KMS key for app 01…"
    );
    let mut other_key = key;
    other_key[0] ^= 1;
    let zero: AppId = text(v, "app_id").parse().unwrap();
    assert!(
        recover_legacy_signer(&zero, &other_key, &signature).map_or(true, |s| s.to_string()
            != text(v, "expected_signer_compressed"))
    );
}

#[test]
fn the_v1_vector_recovers_its_signer_within_the_window_only() {
    let v = &vectors("env_encrypt_pubkey.json")["v1_derived"];
    let signature: KmsSignature = text(v, "signature_v1").parse().unwrap();
    let app: AppId = text(v, "app_id").parse().unwrap();
    let key = bytes32(text(v, "public_key"));
    let signed_at = v["timestamp"].as_u64().unwrap();
    let at = |secs: u64| Freshness::default().at(UNIX_EPOCH + Duration::from_secs(secs));

    let signer = recover_v1_signer(&app, &key, signed_at, &signature, at(signed_at)).unwrap();
    assert_eq!(signer.to_string(), text(v, "expected_signer_compressed"));
    assert!(recover_v1_signer(&app, &key, signed_at, &signature, at(signed_at + 300)).is_ok());
    assert_eq!(
        recover_v1_signer(&app, &key, signed_at, &signature, at(signed_at + 301)),
        Err(SignatureError::Expired {
            age_secs: 301,
            max_age_secs: 300
        })
    );
    assert!(matches!(
        recover_v1_signer(&app, &key, signed_at, &signature, at(signed_at - 61)),
        Err(SignatureError::FromTheFuture { ahead_secs: 61, .. })
    ));
    // The timestamp is signed: another one recovers someone else, or no one.
    let moved = recover_v1_signer(&app, &key, signed_at + 1, &signature, at(signed_at));
    assert!(moved != Ok(signer));

    // The same key's legacy signature.
    let legacy: KmsSignature = text(v, "legacy_signature_same_key").parse().unwrap();
    assert_eq!(recover_legacy_signer(&app, &key, &legacy).unwrap(), signer);
}

#[test]
fn malformed_signatures_and_keys_are_refused() {
    let v = &vectors("env_encrypt_pubkey.json")["legacy"];
    let good = text(v, "signature");
    for bad in [
        String::new(),
        "0x".into(),
        good[..128].to_string(),
        format!("{good}00"),
        format!("{}1b", &good[..128]), // 27: Ethereum's v, not a recovery id
        format!("{}zz", &good[..128]),
        format!("{}{}", "00".repeat(64), "00"), // r = s = 0
    ] {
        assert!(
            matches!(
                bad.parse::<KmsSignature>(),
                Err(SignatureError::Malformed(_))
            ),
            "{bad:?}"
        );
    }
    assert!(format!("{}1b", &good[..128])
        .parse::<KmsSignature>()
        .unwrap_err()
        .to_string()
        .contains("27/28"));
    let signer = text(v, "expected_signer_compressed");
    assert!(signer[..20].parse::<K256PublicKey>().is_err());
    assert!(format!("0x04{}", &signer[4..])
        .parse::<K256PublicKey>()
        .is_err());
    assert_eq!(
        signer[2..].parse::<K256PublicKey>().unwrap().to_string(),
        signer
    );
}

#[test]
fn mr_config_v1_and_v2_vectors() {
    let v = vectors("mr_config_id.json");
    let v1 = &v["v1"][0];
    let compose: ComposeHash = text(v1, "compose_hash").parse().unwrap();
    let id = MrConfigId::v1(&compose).unwrap();
    assert_eq!(id.to_string(), text(v1, "expected_mr_config_id"));
    assert_eq!(id.v1_compose_hash(), Some(compose));

    let cases = v["v2"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let provider = match text(case, "key_provider") {
            "kms" => KeyProvider::Kms,
            "none" => KeyProvider::None,
            other => panic!("{other}"),
        };
        let id = MrConfigId::v2(
            &text(case, "compose_hash").parse().unwrap(),
            &text(case, "app_id").parse().unwrap(),
            provider,
            &hex::decode(text(case, "key_provider_id")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            id.to_string(),
            text(case, "expected_mr_config_id"),
            "{case}"
        );
        assert_eq!(id.version(), 2);
        assert_eq!(id.v1_compose_hash(), None);
    }
}

/// The typed document built from the vector's fields must serialize to the
/// vector's exact JCS text and give its digests.
#[test]
fn mr_config_v3_vectors() {
    let v = vectors("mr_config_id.json");
    let cases = v["v3"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for case in cases {
        let text_doc = text(case, "document_jcs");
        let fields: Value = serde_json::from_str(text_doc).unwrap();
        let provider = match text(&fields, "key_provider") {
            "none" => KeyProvider::None,
            "kms" => KeyProvider::Kms,
            "local" => KeyProvider::Local,
            "tpm" => KeyProvider::Tpm,
            other => panic!("{other}"),
        };
        let mut doc = MrConfigV3::new(text(&fields, "compose_hash").parse().unwrap(), provider);
        if let Some(app) = fields["app_id"].as_str() {
            doc = doc.app_id(app.parse().unwrap());
        }
        if let Some(instance) = fields["instance_id"].as_str() {
            doc = doc.instance_id(instance.parse().unwrap());
        }
        if let Some(id) = fields["key_provider_id"].as_str() {
            doc = doc.key_provider_id(hex::decode(id).unwrap());
        }
        if let Some(gpu) = fields["gpu_policy_hash"].as_str() {
            doc = doc.gpu_policy_hash(bytes32(gpu));
        }
        if let Some(hashes) = fields["init_script_hashes"].as_array() {
            doc = doc.init_script_hashes(hashes.iter().map(|h| bytes32(h.as_str().unwrap())));
        }
        let (id, host_data) = match case["derived"].as_bool() {
            Some(true) => ("computed_mr_config_id", "computed_snp_host_data"),
            _ => ("expected_mr_config_id", "expected_snp_host_data"),
        };
        assert_eq!(doc.document().unwrap(), text_doc, "{}", case["id"]);
        assert_eq!(doc.mr_config_id().unwrap().to_string(), text(case, id));
        assert_eq!(
            hex::encode(doc.snp_host_data().unwrap()),
            text(case, host_data)
        );
        assert_eq!(
            hex::encode(MrConfigV3::digest_of_document(text_doc.as_bytes())),
            text(case, host_data)
        );
    }
}

#[test]
fn a_v3_digest_is_of_the_bytes_given() {
    let v = vectors("mr_config_id.json");
    let case = &v["v3"][0];
    let compact = text(case, "document_jcs");
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(compact).unwrap()).unwrap();
    assert_ne!(
        MrConfigV3::digest_of_document(compact.as_bytes()),
        MrConfigV3::digest_of_document(pretty.as_bytes())
    );
    // An empty list of init scripts is written, and differs from none.
    let base = MrConfigV3::new(ComposeHash::from([0x22; 32]), KeyProvider::Kms);
    let with_empty = base.clone().init_script_hashes([]);
    assert!(with_empty
        .document()
        .unwrap()
        .contains(r#""init_script_hashes":[]"#));
    assert_ne!(
        with_empty.mr_config_id().unwrap(),
        base.mr_config_id().unwrap()
    );
}

proptest::proptest! {
    /// Whatever a server or a user hands the parsers, they answer with a
    /// value or an error, never a panic; a well-formed signature over
    /// arbitrary data recovers someone or no one.
    #[test]
    fn parsers_never_panic(
        text in ".{0,200}",
        bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
        exact in proptest::collection::vec(proptest::num::u8::ANY, 65),
    ) {
        let _ = text.parse::<KmsSignature>();
        let _ = text.parse::<K256PublicKey>();
        let _ = text.parse::<MrConfigId>();
        let _ = K256PublicKey::from_sec1_bytes(&bytes);
        for candidate in [&bytes, &exact] {
            if let Ok(signature) = KmsSignature::from_bytes(candidate) {
                let _ = recover_legacy_signer(&AppId::from([0; 20]), &[0; 32], &signature);
            }
        }
    }
}

/// The compose hash `mr_config_id` binds is the compact one the CVM
/// measures: a V1 id predicted from a compose carries dstack-sdk's hash of
/// it (`compose_hash/dstack_sdk_vectors.json`), and a V3 document names it.
#[test]
fn mr_config_ids_predicted_from_a_compose_carry_its_compact_hash() {
    let file = support::fixture_json("compose_hash/dstack_sdk_vectors.json");
    let vector = file["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "deploy_defaults")
        .unwrap();
    let hash = ComposeHash::of_json(&vector["compose"]);
    assert_eq!(hash.to_string(), text(vector, "hash"));
    let id = MrConfigId::v1(&hash).unwrap();
    assert_eq!(
        id.to_string(),
        format!("01{}{}", text(vector, "hash"), "00".repeat(15))
    );
    let document = MrConfigV3::new(hash, KeyProvider::Kms).document().unwrap();
    assert!(document.contains(&format!("\"compose_hash\":\"{}\"", text(vector, "hash"))));
}
