//! Verifying a quote (multipart, read back as a server reads it), and the
//! raw quote file: bytes, and whether it exists.

use phala_cloud::RetryPolicy;
use support::{client, fixture, json, parse_multipart, response, FormPart, ScriptedServer};

const VERIFIED: &str = "POST_api_v1_attestations_verify__docs-attestations.json";
const CHECKSUM: &str = "9aa049fb9049d4f582ca316206f7cf34ee185c2b5b63370a518921432385b81a";

#[tokio::test]
async fn quote_bytes_go_as_a_file_and_the_verification_decodes() {
    let server = ScriptedServer::start(vec![json(200, &fixture(VERIFIED))]).await;
    let quote: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let verification = client(&server.url, RetryPolicy::none())
        .verify_attestation()
        .quote(quote.clone())
        .send()
        .await
        .unwrap();
    assert!(verification.success);
    assert_eq!(verification.checksum.as_deref(), Some(CHECKSUM));
    assert_eq!(verification.can_download, Some(true));
    assert_eq!(verification.quote.as_ref().unwrap()["verified"], true);
    assert_eq!(verification.id, None, "the documented answer has no id");

    let request = &server.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/api/v1/attestations/verify")
    );
    assert_eq!(request.header("x-api-key"), Some("phak_test"));
    let parts = parse_multipart(request.header("content-type").unwrap(), &request.body);
    assert_eq!(
        parts,
        [FormPart {
            name: "file".into(),
            filename: Some("quote.bin".into()),
            content_type: Some("application/octet-stream".into()),
            body: quote,
        }]
    );
}

#[tokio::test]
async fn a_hex_quote_goes_as_the_hex_field_without_0x() {
    let server = ScriptedServer::start(vec![
        json(200, &fixture(VERIFIED)),
        json(200, &fixture(VERIFIED)),
    ])
    .await;
    for hex in ["0x040002008100", "040002008100"] {
        client(&server.url, RetryPolicy::none())
            .verify_attestation()
            .quote_hex(hex)
            .send()
            .await
            .unwrap();
    }
    for request in server.requests() {
        let parts = parse_multipart(request.header("content-type").unwrap(), &request.body);
        assert_eq!(
            parts,
            [FormPart {
                name: "hex".into(),
                filename: None,
                content_type: None,
                body: b"040002008100".to_vec(),
            }]
        );
    }
}

#[tokio::test]
async fn both_fields_go_in_the_specs_order_whatever_the_setters_order() {
    let server = ScriptedServer::start(vec![json(200, &fixture(VERIFIED))]).await;
    client(&server.url, RetryPolicy::none())
        .verify_attestation()
        .quote_hex("0xabcd")
        .quote(b"\x04\x00".to_vec())
        .send()
        .await
        .unwrap();
    let request = &server.requests()[0];
    let parts = parse_multipart(request.header("content-type").unwrap(), &request.body);
    let names: Vec<_> = parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["file", "hex"]);
    assert_eq!(parts[0].filename.as_deref(), Some("quote.bin"));
    assert_eq!(parts[1].body, b"abcd");
}

#[tokio::test]
async fn a_bad_quote_is_refused_before_sending() {
    let server = ScriptedServer::start(vec![]).await;
    let client = client(&server.url, RetryPolicy::none());
    let err = client
        .verify_attestation()
        .quote_hex("0xnot-hex")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid request: hex: the quote's hex has 'n' at offset 0, which is not a hex digit"
    );
    let err = client
        .verify_attestation()
        .quote(Vec::new())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "invalid request: file: the file is empty");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_rejected_quote_is_an_api_error() {
    let server = ScriptedServer::start(vec![json(
        400,
        r#"{"detail": "Invalid quote format or verification failed"}"#,
    )])
    .await;
    let err = client(&server.url, RetryPolicy::none())
        .verify_attestation()
        .quote(vec![1, 2, 3])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.message(), "Invalid quote format or verification failed");
}

#[tokio::test]
async fn a_raw_quote_downloads_as_bytes() {
    let body: String = (0u8..128).map(char::from).collect();
    let server = ScriptedServer::start(vec![response(
        200,
        &[
            ("content-type", "application/octet-stream"),
            ("content-disposition", "attachment; filename=\"quote.bin\""),
        ],
        &body,
    )])
    .await;
    let quote = client(&server.url, RetryPolicy::none())
        .download_raw_attestation(CHECKSUM)
        .await
        .unwrap();
    assert_eq!(
        quote.headers()["content-disposition"],
        "attachment; filename=\"quote.bin\""
    );
    assert_eq!(quote.into_inner(), body.as_bytes());
    let request = &server.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        (
            "GET",
            format!("/api/v1/attestations/raw/{CHECKSUM}").as_str()
        )
    );
    assert_eq!(request.header("accept"), Some("application/octet-stream"));
}

#[tokio::test]
async fn head_says_whether_a_quote_exists() {
    let server = ScriptedServer::start(vec![
        response(200, &[("content-type", "application/octet-stream")], ""),
        response(404, &[], ""),
        json(500, r#"{"detail": "storage unavailable"}"#),
    ])
    .await;
    let client = client(&server.url, RetryPolicy::none());
    assert!(client.raw_attestation_exists(CHECKSUM).await.unwrap());
    assert!(!client.raw_attestation_exists(CHECKSUM).await.unwrap());
    let err = client.raw_attestation_exists(CHECKSUM).await.unwrap_err();
    assert!(err.is_server(), "{err}");
    let methods: Vec<_> = server.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["HEAD", "HEAD", "HEAD"]);
}

#[tokio::test]
async fn a_missing_quote_download_is_not_found() {
    let server = ScriptedServer::start(vec![json(404, r#"{"detail": "Quote not found"}"#)]).await;
    let err = client(&server.url, RetryPolicy::none())
        .download_raw_attestation(CHECKSUM)
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.message(), "Quote not found");
}

/// The raw quote's answer is offered as JSON or as bytes: `send()` asks for
/// the bytes, `send_json()` for the JSON, each decoded as what it asked for.
#[tokio::test]
async fn a_multi_content_answer_is_bytes_or_json_as_asked() {
    let server = ScriptedServer::start(vec![
        response(
            200,
            &[("content-type", "application/octet-stream")],
            "\u{4}\u{0}",
        ),
        json(200, r#"{"checksum": "9aa0", "size": 2}"#),
        json(200, "not json"),
    ])
    .await;
    let client = client(&server.url, RetryPolicy::none());
    let raw = client
        .get_raw_attestation()
        .checksum(CHECKSUM)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-type"], "application/octet-stream");
    assert_eq!(raw.into_inner(), b"\x04\x00".as_slice());
    let answer = client
        .get_raw_attestation()
        .checksum(CHECKSUM)
        .send_json()
        .await
        .unwrap();
    assert_eq!(
        answer.into_inner(),
        serde_json::json!({"checksum": "9aa0", "size": 2})
    );
    let err = client
        .get_raw_attestation()
        .checksum(CHECKSUM)
        .send_json()
        .await
        .unwrap_err();
    assert!(matches!(err, phala_cloud::Error::Decode(_)), "{err}");
    let accepts: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("accept").map(str::to_string))
        .collect();
    assert_eq!(
        accepts,
        [
            Some("application/octet-stream".to_string()),
            Some("application/json".to_string()),
            Some("application/json".to_string())
        ]
    );
    let err = client
        .get_raw_attestation()
        .checksum("not a checksum")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, phala_cloud::Error::InvalidRequest(_)),
        "{err}"
    );
    assert_eq!(
        server.requests().len(),
        3,
        "an invalid checksum sends nothing"
    );
}
