//! Env-var encryption, proven by decrypting with the private half of a test
//! key; and the client call that fetches the app's key first.
//!
//! The byte-exact comparison with an independent implementation (Python's
//! `cryptography`, fixed ephemeral key and nonce) is the unit test
//! `env_encryption::tests::matches_an_independent_implementation`: a fixed
//! ephemeral key cannot be injected from outside the crate.

mod common;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use httpmock::prelude::*;
use phala_cloud::env_encryption::{EncryptedEnv, EnvEncryptPublicKey, EnvEncryptionError, EnvVar};
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
    common::client(&server.base_url(), phala_cloud::RetryPolicy::default())
}

/// The app id is given with `0x` below; `AppId` sends it without.
const PUBKEY_PATH: &str =
    "/api/v1/kms/kms_dA2M76mq/pubkey/1234567890abcdef1234567890abcdef12345678";

async fn serve_pubkey(server: &MockServer, status: u16, body: String) -> httpmock::Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(PUBKEY_PATH)
                .header("x-api-key", common::KEY);
            then.status(status)
                .header("content-type", "application/json")
                .body(body);
        })
        .await
}

async fn encrypt_for_app(server: &MockServer) -> Result<EncryptedEnv, Error> {
    client(server)
        .encrypt_env_vars_for_app(
            "kms_dA2M76mq",
            "0x1234567890abcdef1234567890abcdef12345678",
            &sample_vars(),
        )
        .await
}

#[tokio::test]
async fn the_client_fetches_the_app_key_and_encrypts_to_it() {
    let server = MockServer::start_async().await;
    let mock = serve_pubkey(
        &server,
        200,
        serde_json::json!({"public_key": format!("0x{APP_PUBLIC_KEY}"), "signature": "0xabcd"})
            .to_string(),
    )
    .await;

    let encrypted = encrypt_for_app(&server).await.unwrap();

    mock.assert_async().await;
    let direct = app_key().encrypt(&sample_vars()).unwrap();
    assert_eq!(
        decrypt(&encrypted.encrypted_env),
        decrypt(&direct.encrypted_env)
    );
    assert_eq!(encrypted.env_keys, direct.env_keys);
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
            "trailing characters",
            ".",
        ),
        (
            serde_json::json!({"public_key": "00".repeat(32), "signature": "sig"}).to_string(),
            "low-order point",
            "public_key",
        ),
    ];
    for (body, expected, path) in bodies {
        let server = MockServer::start_async().await;
        serve_pubkey(&server, 200, body.clone()).await;
        let err = encrypt_for_app(&server).await.unwrap_err();
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
    let err = encrypt_for_app(&server).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.api_error().unwrap().message(), "KMS not found");
}

#[tokio::test]
async fn the_key_alone_can_be_fetched() {
    let server = MockServer::start_async().await;
    serve_pubkey(
        &server,
        200,
        serde_json::json!({"public_key": APP_PUBLIC_KEY, "signature": "0xabcd"}).to_string(),
    )
    .await;
    let key = client(&server)
        .app_env_encrypt_key("kms_dA2M76mq", "0x1234567890abcdef1234567890abcdef12345678")
        .await
        .unwrap();
    assert_eq!(key, app_key());
}
