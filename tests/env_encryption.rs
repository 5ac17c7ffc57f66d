//! Env-var encryption, proven by decrypting with the private half of a test
//! key; and the client call that fetches the app's key first and refuses it
//! unless the KMS root key of the chosen anchor signed it.
//!
//! The byte-exact comparison with an independent implementation (Python's
//! `cryptography`, fixed ephemeral key and nonce) is the unit test
//! `env_encryption::tests::matches_an_independent_implementation`: a fixed
//! ephemeral key cannot be injected from outside the crate.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use httpmock::prelude::*;
use phala_cloud::env_encryption::{
    EncryptedEnv, EnvEncryptPublicKey, EnvEncryptionError, EnvVar, KeyVerification,
};
use phala_cloud::kms_signature::{Freshness, SignatureError};
use phala_cloud::kms_trust::{AnchorKind, KeyVerificationError, KmsContract, KmsTrust};
use phala_cloud::mock::deploy::TestKms;
use phala_cloud::{Client, Error};
use x25519_dalek::{PublicKey, StaticSecret};

/// The test app's private key; its public half, computed with Python's
/// `cryptography` (`X25519PrivateKey.from_private_bytes(bytes([7] * 32))`),
/// is `APP_PUBLIC_KEY`.
const APP_SECRET: [u8; 32] = [7; 32];
const APP_PUBLIC_KEY: &str = "13be4feaeaf204c7fd3358fc9c00721881d174278128227ec674f37f7fe97b6d";

fn app_key() -> EnvEncryptPublicKey {
    APP_PUBLIC_KEY.parse().unwrap()
}

fn sample_vars() -> Vec<EnvVar> {
    vec![
        EnvVar::new("DATABASE_URL", "postgres://user:p@ss@db:5432/app"),
        EnvVar::new("QUOTED", "say \"hi\"\\ and\nnew line\ttab"),
        EnvVar::new("UNICODE", "héllo wörld 日本 🦀"),
        EnvVar::new("EMPTY", ""),
    ]
}

/// What the TEE does: splits `encrypted_env`, agrees the key with the app's
/// private half and opens the AES-GCM box.
fn decrypt(encrypted_env: &str) -> String {
    let sealed = hex::decode(encrypted_env).unwrap();
    let (ephemeral, rest) = sealed.split_at(32);
    let (nonce, ciphertext) = rest.split_at(12);
    let ephemeral: [u8; 32] = ephemeral.try_into().unwrap();
    let shared = StaticSecret::from(APP_SECRET).diffie_hellman(&PublicKey::from(ephemeral));
    let cipher = Aes256Gcm::new_from_slice(shared.as_bytes()).unwrap();
    let nonce = Nonce::try_from(nonce).unwrap();
    let plaintext = cipher.decrypt(&nonce, ciphertext).unwrap();
    String::from_utf8(plaintext).unwrap()
}

#[test]
fn the_test_key_pair_matches() {
    let public = PublicKey::from(&StaticSecret::from(APP_SECRET));
    assert_eq!(app_key().as_bytes(), public.as_bytes());
}

#[test]
fn the_app_private_key_recovers_the_exact_json() {
    let encrypted = app_key().encrypt(&sample_vars()).unwrap();
    assert_eq!(
        decrypt(&encrypted.encrypted_env),
        concat!(
            r#"{"env":[{"key":"DATABASE_URL","value":"postgres://user:p@ss@db:5432/app"},"#,
            r#"{"key":"QUOTED","value":"say \"hi\"\\ and\nnew line\ttab"},"#,
            r#"{"key":"UNICODE","value":"héllo wörld 日本 🦀"},"#,
            r#"{"key":"EMPTY","value":""}]}"#
        )
    );
    assert_eq!(
        encrypted.env_keys,
        ["DATABASE_URL", "QUOTED", "UNICODE", "EMPTY"]
    );
}

#[test]
fn the_output_is_lowercase_hex_of_key_nonce_ciphertext_and_tag() {
    let encrypted = app_key().encrypt(&sample_vars()).unwrap();
    let plaintext_len = decrypt(&encrypted.encrypted_env).len();
    assert_eq!(
        encrypted.encrypted_env.len(),
        2 * (32 + 12 + plaintext_len + 16)
    );
    assert!(encrypted
        .encrypted_env
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
}

#[test]
fn an_empty_list_encrypts_an_empty_env() {
    let encrypted = app_key().encrypt(&[]).unwrap();
    assert_eq!(decrypt(&encrypted.encrypted_env), r#"{"env":[]}"#);
    assert!(encrypted.env_keys.is_empty());
}

#[test]
fn two_encryptions_of_the_same_input_differ() {
    let vars = sample_vars();
    let first = app_key().encrypt(&vars).unwrap().encrypted_env;
    let second = app_key().encrypt(&vars).unwrap().encrypted_env;
    // A fresh ephemeral key (bytes 0..32) and a fresh nonce (32..44) each time.
    assert_ne!(first[..64], second[..64]);
    assert_ne!(first[64..88], second[64..88]);
    assert_ne!(first, second);
    assert_eq!(decrypt(&first), decrypt(&second));
}

#[test]
fn keys_parse_with_or_without_prefix() {
    let bare = app_key();
    for text in [
        format!("0x{APP_PUBLIC_KEY}"),
        format!("0X{APP_PUBLIC_KEY}"),
        APP_PUBLIC_KEY.to_uppercase(),
        format!(" 0x{APP_PUBLIC_KEY}\n"),
    ] {
        assert_eq!(
            text.parse::<EnvEncryptPublicKey>().unwrap(),
            bare,
            "{text:?}"
        );
    }
    assert_eq!(bare.to_string(), APP_PUBLIC_KEY);
    assert_eq!(
        EnvEncryptPublicKey::try_from(*bare.as_bytes()).unwrap(),
        bare
    );
}

#[test]
fn malformed_keys_are_errors() {
    let cases = [
        String::new(),
        "0x".into(),
        "pk".into(),
        APP_PUBLIC_KEY[..62].into(),
        format!("{APP_PUBLIC_KEY}00"),
        format!("{}zz", &APP_PUBLIC_KEY[..62]),
        format!("{} {}", &APP_PUBLIC_KEY[..32], &APP_PUBLIC_KEY[33..]),
        format!("0x0x{}", &APP_PUBLIC_KEY[2..]),
        // Low-order points: the shared secret would be all zeros whatever
        // the ephemeral key, so anyone could decrypt.
        "00".repeat(32),
        format!("01{}", "00".repeat(31)),
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800".into(),
        format!("ec{}7f", "ff".repeat(30)),
    ];
    for text in cases {
        let err = text.parse::<EnvEncryptPublicKey>().unwrap_err();
        assert!(
            matches!(err, EnvEncryptionError::InvalidPublicKey(_)),
            "{text:?}: {err}"
        );
        assert!(err
            .to_string()
            .starts_with("invalid env-encryption public key: "));
    }
    assert!(EnvEncryptPublicKey::from_bytes([0; 32]).is_err());
}

#[test]
fn values_never_show_in_debug() {
    let vars = sample_vars();
    let shown = format!("{vars:?}");
    assert!(shown.contains("DATABASE_URL"), "{shown}");
    assert!(!shown.contains("p@ss"), "{shown}");
    assert!(!shown.contains("日本"), "{shown}");
    assert_eq!(vars[0].value(), "postgres://user:p@ss@db:5432/app");
    let from_pair = EnvVar::from(("K", String::from("secret-value")));
    assert!(!format!("{from_pair:?}").contains("secret-value"));
    let encrypted = app_key().encrypt(&vars).unwrap();
    assert!(!format!("{encrypted:?}").contains("p@ss"));
}

#[test]
fn the_result_serializes_as_request_fields() {
    let encrypted = app_key().encrypt(&[EnvVar::new("A", "1")]).unwrap();
    let json = serde_json::to_value(&encrypted).unwrap();
    assert_eq!(json["encrypted_env"], encrypted.encrypted_env.as_str());
    assert_eq!(json["env_keys"], serde_json::json!(["A"]));
}

fn client(server: &MockServer) -> Client {
    support::client(&server.base_url(), phala_cloud::RetryPolicy::default())
}

const KMS: &str = "kms_dA2M76mq";
const APP: &str = "0x1234567890abcdef1234567890abcdef12345678";
/// The app id is given with `0x` above; `AppId` sends it without.
const PUBKEY_PATH: &str =
    "/api/v1/kms/kms_dA2M76mq/pubkey/1234567890abcdef1234567890abcdef12345678";
const INFO_PATH: &str = "/api/v1/kms/kms_dA2M76mq/info";

/// A test KMS, told apart from the others by its root secret `[n; 32]`.
fn test_kms(n: u8) -> TestKms {
    TestKms::with_root_secret([n; 32])
}

/// `kms`'s root key as a KMS info reports it: compressed SEC1, in hex.
fn root(kms: &TestKms) -> String {
    hex::encode(kms.root_key().to_compressed())
}

/// `kms`'s signature of `public_key` (hex) as the test app's key.
fn sign(kms: &TestKms, timestamp: Option<u64>, public_key: &str) -> String {
    let key: [u8; 32] = hex::decode(public_key).unwrap().try_into().unwrap();
    kms.sign(&APP.parse().unwrap(), timestamp, &key)
}

/// The pubkey answer for the test app's key, signed by `kms`.
fn answer(kms: &TestKms) -> String {
    serde_json::json!({
        "public_key": format!("0x{APP_PUBLIC_KEY}"),
        "signature": format!("0x{}", sign(kms, None, APP_PUBLIC_KEY)),
    })
    .to_string()
}

/// `GET /kms/{kms_id}/info` naming `rpc_root` as the KMS's bootstrap key
/// and, if given, `chain_root` as the contract's.
fn kms_info(rpc_root: Option<&str>, chain_root: Option<&str>) -> String {
    let mut info = serde_json::json!({
        "id": KMS, "slug": "phala-prod", "db_version": "0.5.3",
        "endpoint": "https://kms.example", "kms_type": "phala",
    });
    if let Some(root) = rpc_root {
        info["rpc"] = serde_json::json!({
            "bootstrap_info": {"ca_pubkey": "3059", "eventlog_length": 0, "k256_pubkey": root, "quote_length": 0},
            "is_dev": false, "version": "0.5.3", "version_synced": true,
        });
    }
    if let Some(root) = chain_root {
        info["on_chain"] = serde_json::json!({
            "kms_info": {"ca_pubkey": "3059", "eventlog_length": 0, "k256_pubkey": root, "quote_length": 0},
        });
    }
    info.to_string()
}

async fn serve<'a>(
    server: &'a MockServer,
    path: &str,
    status: u16,
    body: String,
) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(path)
                .header("x-api-key", support::KEY);
            then.status(status)
                .header("content-type", "application/json")
                .body(body);
        })
        .await
}

async fn serve_pubkey(server: &MockServer, status: u16, body: String) -> httpmock::Mock<'_> {
    serve(server, PUBKEY_PATH, status, body).await
}

fn pinned(kms: &TestKms) -> KmsTrust {
    KmsTrust::pinned(kms.root_key())
}

async fn encrypt_for_app(server: &MockServer, trust: KmsTrust) -> Result<EncryptedEnv, Error> {
    client(server)
        .app_env_encrypt_key(KMS, APP)
        .trust(trust)
        .encrypt(&sample_vars())
        .await
}

#[tokio::test]
async fn a_key_signed_by_the_pinned_root_is_fetched_and_encrypted_to() {
    let kms = test_kms(1);
    let server = MockServer::start_async().await;
    let mock = serve_pubkey(&server, 200, answer(&kms)).await;

    let encrypted = encrypt_for_app(&server, pinned(&kms)).await.unwrap();

    mock.assert_async().await;
    let direct = app_key().encrypt(&sample_vars()).unwrap();
    assert_eq!(
        decrypt(&encrypted.encrypted_env),
        decrypt(&direct.encrypted_env)
    );
    assert_eq!(encrypted.env_keys, direct.env_keys);

    let key = client(&server)
        .app_env_encrypt_key(KMS, APP)
        .trust(pinned(&kms))
        .send()
        .await
        .unwrap();
    assert_eq!(key.public_key, app_key());
    assert_eq!(
        key.verification,
        KeyVerification::Verified {
            signer: kms.root_key(),
            anchor: AnchorKind::Pinned
        }
    );
}

/// The acceptance case: a key signed by another KMS key. The client asks
/// for the key, refuses it, and sends nothing else.
#[tokio::test]
async fn a_key_signed_by_another_kms_is_refused_before_encrypting() {
    let (ours, theirs) = (test_kms(1), test_kms(2));
    let server = MockServer::start_async().await;
    let pubkey = serve_pubkey(&server, 200, answer(&theirs)).await;
    let anything_else = server
        .mock_async(|when, then| {
            when.path_excludes("/pubkey/");
            then.status(500);
        })
        .await;

    let err = encrypt_for_app(&server, pinned(&ours)).await.unwrap_err();

    assert!(err.is_key_verification(), "{err}");
    assert_eq!(
        err.key_verification_error(),
        Some(&KeyVerificationError::SignerMismatch {
            signer: theirs.root_key(),
            expected: ours.root_key(),
            anchor: AnchorKind::Pinned,
        })
    );
    assert!(err.to_string().contains("refusing to encrypt"), "{err}");
    pubkey.assert_calls_async(1).await;
    anything_else.assert_calls_async(0).await;
}

#[tokio::test]
async fn missing_and_malformed_signatures_are_refused() {
    let kms = test_kms(1);
    let good = sign(&kms, None, APP_PUBLIC_KEY);
    let cases = [
        (
            serde_json::json!({"public_key": APP_PUBLIC_KEY}),
            "without a KMS signature",
        ),
        (
            serde_json::json!({"public_key": APP_PUBLIC_KEY, "signature": ""}),
            "without a KMS signature",
        ),
        (
            serde_json::json!({"public_key": APP_PUBLIC_KEY, "signature": "0xabcd"}),
            "expected 65 bytes",
        ),
        (
            serde_json::json!({"public_key": APP_PUBLIC_KEY, "signature": format!("{}1c", &good[..128])}),
            "27/28",
        ),
        // A signature over another key: it recovers some other signer.
        (
            serde_json::json!({"public_key": APP_PUBLIC_KEY, "signature": sign(&kms, None, &"11".repeat(32))}),
            "not by the KMS root key",
        ),
    ];
    for (body, expected) in cases {
        let server = MockServer::start_async().await;
        serve_pubkey(&server, 200, body.to_string()).await;
        let err = encrypt_for_app(&server, pinned(&kms)).await.unwrap_err();
        assert!(err.is_key_verification(), "{body}: {err}");
        assert!(err.to_string().contains(expected), "{body}: {err}");
    }
}

#[tokio::test]
async fn a_fresh_v1_signature_is_checked_as_well() {
    let kms = test_kms(1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let answer = |timestamp: u64, signer: &TestKms| {
        serde_json::json!({
            "public_key": APP_PUBLIC_KEY,
            "signature": sign(&kms, None, APP_PUBLIC_KEY),
            "timestamp": timestamp,
            "signature_v1": sign(signer, Some(timestamp), APP_PUBLIC_KEY),
        })
        .to_string()
    };

    let server = MockServer::start_async().await;
    serve_pubkey(&server, 200, answer(now, &kms)).await;
    assert!(encrypt_for_app(&server, pinned(&kms)).await.is_ok());

    let server = MockServer::start_async().await;
    serve_pubkey(&server, 200, answer(now - 3600, &kms)).await;
    let err = encrypt_for_app(&server, pinned(&kms)).await.unwrap_err();
    assert!(
        matches!(
            err.key_verification_error(),
            Some(KeyVerificationError::Signature(
                SignatureError::Expired { .. }
            ))
        ),
        "{err}"
    );

    // The legacy signature is the pinned KMS's, the v1 one another's.
    let server = MockServer::start_async().await;
    serve_pubkey(&server, 200, answer(now, &test_kms(3))).await;
    let err = encrypt_for_app(&server, pinned(&kms)).await.unwrap_err();
    assert!(matches!(
        err.key_verification_error(),
        Some(KeyVerificationError::SignerMismatch { .. })
    ));

    // A clock of the caller's choosing.
    let server = MockServer::start_async().await;
    serve_pubkey(&server, 200, answer(1_750_000_000, &kms)).await;
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_750_000_100);
    client(&server)
        .app_env_encrypt_key(KMS, APP)
        .trust(pinned(&kms))
        .freshness(Freshness::default().at(at))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn by_default_the_root_key_comes_from_the_api() {
    let kms = test_kms(1);
    let server = MockServer::start_async().await;
    let pubkey = serve_pubkey(&server, 200, answer(&kms)).await;
    let info = serve(&server, INFO_PATH, 200, kms_info(Some(&root(&kms)), None)).await;

    let encrypted = client(&server)
        .encrypt_env_vars_for_app(KMS, APP, &sample_vars())
        .await
        .unwrap();
    assert_eq!(
        decrypt(&encrypted.encrypted_env),
        decrypt(&app_key().encrypt(&sample_vars()).unwrap().encrypted_env)
    );
    pubkey.assert_async().await;
    info.assert_async().await;

    let key = client(&server)
        .app_env_encrypt_key(KMS, APP)
        .send()
        .await
        .unwrap();
    assert_eq!(
        key.verification,
        KeyVerification::Verified {
            signer: kms.root_key(),
            anchor: AnchorKind::Api
        }
    );
}

#[tokio::test]
async fn the_api_anchor_refuses_what_it_cannot_vouch_for() {
    let (kms, other) = (test_kms(1), test_kms(2));
    let cases = [
        // The API names another root key.
        (
            kms_info(Some(&root(&other)), None),
            "not by the KMS root key",
        ),
        // The contract and the KMS's bootstrap info disagree.
        (kms_info(Some(&root(&kms)), Some(&root(&other))), "disagree"),
        // No root key at all.
        (kms_info(None, None), "reports no k256 public key"),
        (kms_info(Some("0x02"), None), "not a secp256k1 key"),
    ];
    for (info, expected) in cases {
        let server = MockServer::start_async().await;
        serve_pubkey(&server, 200, answer(&kms)).await;
        serve(&server, INFO_PATH, 200, info.clone()).await;
        let err = client(&server)
            .encrypt_env_vars_for_app(KMS, APP, &sample_vars())
            .await
            .unwrap_err();
        assert!(err.is_key_verification(), "{info}: {err}");
        assert!(err.to_string().contains(expected), "{info}: {err}");
    }
    // The contract's key wins over the bootstrap info when they agree, and
    // it alone is enough.
    let server = MockServer::start_async().await;
    serve_pubkey(&server, 200, answer(&kms)).await;
    serve(&server, INFO_PATH, 200, kms_info(None, Some(&root(&kms)))).await;
    assert!(client(&server)
        .encrypt_env_vars_for_app(KMS, APP, &sample_vars())
        .await
        .is_ok());
}

/// A JSON-RPC endpoint on 127.0.0.1 answering `eth_call` of `kmsInfo()`
/// with `(bytes k256, bytes ca, bytes quote, bytes eventlog)`.
fn kms_info_call_result(root: &str) -> String {
    let word = |n: usize| format!("{n:064x}");
    let key = hex::decode(root).unwrap();
    format!(
        "0x{}{}{}{}{}{}{}{}{}",
        word(0x80),
        word(0xe0),
        word(0x100),
        word(0x120),
        word(key.len()),
        hex::encode([key, vec![0; 31]].concat()),
        word(0),
        word(0),
        word(0),
    )
}

#[tokio::test]
async fn the_on_chain_anchor_reads_kms_info_over_json_rpc() {
    let (kms, other) = (test_kms(1), test_kms(2));
    let contract = "0x2f83172A49584C017F2B256F0FB2Dca14126Ba9C";
    for (signer, expect_ok) in [(&kms, true), (&other, false)] {
        let api = MockServer::start_async().await;
        let rpc = MockServer::start_async().await;
        serve_pubkey(&api, 200, answer(signer)).await;
        let call = rpc
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/")
                    .header_missing("x-api-key")
                    .json_body_includes(
                        serde_json::json!({
                            "jsonrpc": "2.0",
                            "method": "eth_call",
                            "params": [{"to": contract.to_ascii_lowercase(), "data": "0x09177063"}, "latest"],
                        })
                        .to_string(),
                    );
                then.status(200)
                    .header("content-type", "application/json")
                    .json_body(serde_json::json!({"jsonrpc": "2.0", "id": 1, "result": kms_info_call_result(&root(&kms))}));
            })
            .await;
        let trust = KmsTrust::on_chain(KmsContract::new(&rpc.base_url(), contract).unwrap());
        let result = client(&api)
            .app_env_encrypt_key(KMS, APP)
            .trust(trust)
            .send()
            .await;
        call.assert_async().await;
        match result {
            Ok(key) => {
                assert!(expect_ok);
                assert_eq!(
                    key.verification,
                    KeyVerification::Verified {
                        signer: kms.root_key(),
                        anchor: AnchorKind::OnChain
                    }
                );
            }
            Err(err) => {
                assert!(!expect_ok, "{err}");
                assert!(matches!(
                    err.key_verification_error(),
                    Some(KeyVerificationError::SignerMismatch {
                        anchor: AnchorKind::OnChain,
                        ..
                    })
                ));
            }
        }
    }
}

#[tokio::test]
async fn an_on_chain_read_that_fails_is_an_unavailable_anchor() {
    let kms = test_kms(1);
    let bodies = [
        (200, serde_json::json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "execution reverted"}}).to_string(), "execution reverted"),
        (200, serde_json::json!({"jsonrpc": "2.0", "id": 1, "result": "0x"}).to_string(), "no contract"),
        (502, "bad gateway".to_string(), "502"),
    ];
    for (status, body, expected) in bodies {
        let api = MockServer::start_async().await;
        let rpc = MockServer::start_async().await;
        serve_pubkey(&api, 200, answer(&kms)).await;
        rpc.mock_async(|when, then| {
            when.method(POST);
            then.status(status).body(body.clone());
        })
        .await;
        let trust = KmsTrust::on_chain(
            KmsContract::new(
                &rpc.base_url(),
                "0x2f83172a49584c017f2b256f0fb2dca14126ba9c",
            )
            .unwrap(),
        );
        let err = client(&api)
            .app_env_encrypt_key(KMS, APP)
            .trust(trust)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(
                err.key_verification_error(),
                Some(KeyVerificationError::AnchorUnavailable {
                    anchor: AnchorKind::OnChain,
                    ..
                })
            ),
            "{err}"
        );
        assert!(err.to_string().contains(expected), "{err}");
    }
}

#[tokio::test]
async fn skipping_verification_is_explicit_and_says_so() {
    let server = MockServer::start_async().await;
    let pubkey = serve_pubkey(
        &server,
        200,
        serde_json::json!({"public_key": APP_PUBLIC_KEY}).to_string(),
    )
    .await;
    let key = client(&server)
        .app_env_encrypt_key(KMS, APP)
        .skip_key_verification()
        .send()
        .await
        .unwrap();
    assert_eq!(key.public_key, app_key());
    assert_eq!(key.verification, KeyVerification::Skipped);
    pubkey.assert_async().await;
}

#[tokio::test]
async fn invalid_ids_are_refused_before_any_request() {
    let server = MockServer::start_async().await;
    let anything = server
        .mock_async(|_, then| {
            then.status(500);
        })
        .await;
    for (kms, app) in [(KMS, "0x1234"), ("not a/kms", APP)] {
        let err = client(&server)
            .encrypt_env_vars_for_app(kms, app, &sample_vars())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    }
    anything.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_malformed_key_from_the_server_is_a_decode_error() {
    // The official Python SDK's own test mock answers `{"public_key": "pk"}`.
    let fixture =
        include_str!("fixtures/GET_api_v1_kms_{kms_id}_pubkey_{app_id}__py-action-matrix.json");
    let bodies = [
        (
            fixture.to_string(),
            "`public_key`: invalid env-encryption public key",
            "public_key",
        ),
        (
            r#"{"signature": "sig"}"#.to_string(),
            "missing field `public_key`",
            ".",
        ),
        (
            r#"{"public_key": 42, "signature": "sig"}"#.to_string(),
            "invalid type: integer `42`, expected a string",
            "public_key",
        ),
        (
            r#"["not", "an", "object"]"#.to_string(),
            "invalid type: sequence, expected struct AppEnvEncryptPubkey",
            ".",
        ),
        (
            serde_json::json!({"public_key": "00".repeat(32), "signature": "sig"}).to_string(),
            "low-order point",
            "public_key",
        ),
        (
            serde_json::json!({"public_key": APP_PUBLIC_KEY, "timestamp": "soon", "signature_v1": "00"}).to_string(),
            "invalid type: string \"soon\"",
            "timestamp",
        ),
    ];
    for (body, expected, path) in bodies {
        let server = MockServer::start_async().await;
        serve_pubkey(&server, 200, body.clone()).await;
        let err = encrypt_for_app(&server, pinned(&test_kms(1)))
            .await
            .unwrap_err();
        let Error::Decode(decode) = &err else {
            panic!("{body}: {err}");
        };
        assert!(decode.message.contains(expected), "{body}: {err}");
        assert_eq!(decode.path, path, "{body}");
        assert!(!decode.excerpt.is_empty());
    }
}

#[tokio::test]
async fn an_error_answer_stays_an_api_error() {
    let server = MockServer::start_async().await;
    serve_pubkey(&server, 404, r#"{"detail": "KMS not found"}"#.into()).await;
    let err = encrypt_for_app(&server, pinned(&test_kms(1)))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.api_error().unwrap().message(), "KMS not found");
}
