//! Local attestation checks on real samples, offline (feature
//! `attestation`): dstack's SDK simulator attestation (a real TDX CVM,
//! bundle B of `shared/attestation/`) with dcap-qvl's td15ex collateral,
//! and dstack's verifier fixture (bundle A) with dcap-qvl's 90C06F
//! collateral; each tampering fails with its own error. Then the same
//! through the client, the API on 127.0.0.1.

#![cfg(feature = "attestation")]

use std::time::{Duration, UNIX_EPOCH};

use httpmock::prelude::*;
use phala_cloud::ids::{AppId, ComposeHash};
use phala_cloud::local_attestation::{
    AttestationError, AttestationReport, Collateral, EventLog, LocalVerifier, TcbStatus,
};
use serde_json::Value;

/// Inside both the TCB info and QE identity windows, and the CRLs' (the
/// times dcap-qvl's own tests use).
const B_NOW: u64 = 1_791_427_500;
const A_NOW: u64 = 1_774_003_274;
/// The td15ex collateral's QE identity `nextUpdate` and issue date.
const B_QE_NEXT_UPDATE: i64 = 1_794_008_711;
const B_QE_ISSUED: i64 = 1_791_416_711;

fn json(name: &str) -> Value {
    support::fixture_json(&format!("attestation/{name}"))
}

fn at(secs: u64) -> LocalVerifier {
    LocalVerifier::new().at(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Bundle B: quote, event log, and the td15ex collateral without its PCK
/// chain (that chain is the td15ex quote's; B's quote carries its own).
struct Sample {
    quote: Vec<u8>,
    event_log: Value,
    collateral: Value,
}

fn bundle_b() -> Sample {
    let bundle = json("dstack-simulator-attestation.decoded.json");
    let mut collateral = json("tdx_quote_td15ex_collateral.json");
    collateral
        .as_object_mut()
        .unwrap()
        .remove("pck_certificate_chain");
    Sample {
        quote: hex::decode(bundle["quote"].as_str().unwrap()).unwrap(),
        event_log: bundle["event_log"].clone(),
        collateral,
    }
}

impl Sample {
    fn log(&self) -> EventLog {
        EventLog::from_json(&self.event_log.to_string()).unwrap()
    }

    fn collateral(&self) -> Collateral {
        serde_json::from_value(self.collateral.clone()).unwrap()
    }

    fn verify(&self, verifier: &LocalVerifier) -> Result<AttestationReport, AttestationError> {
        verifier.verify(&self.quote, &self.collateral(), &self.log())
    }
}

#[test]
fn the_simulator_quote_verifies_offline_with_its_identity() {
    let sample = bundle_b();
    let report = sample.verify(&at(B_NOW)).unwrap();

    assert_eq!(report.tcb_status, TcbStatus::UpToDate);
    assert!(report.advisory_ids.is_empty());
    assert_eq!(
        report.app_id.as_ref().map(AppId::as_str),
        Some("5bb4ff9a3837357f19dc176407a5709c62eb6c56")
    );
    let compose = "c143116fef3940e7f776bfc0919c256232ae5338a6e948c96b711e0b2383483a";
    assert_eq!(
        report.compose_hash.as_ref().map(ComposeHash::as_str),
        Some(compose)
    );
    assert_eq!(
        report.instance_id.map(|i| i.to_string()).as_deref(),
        Some("1691ed1b47506cad7d08834668691d88246f5b1f")
    );
    let provider = report.key_provider.as_ref().unwrap();
    assert_eq!(provider.name, "kms");
    assert_eq!(provider.id.len(), 91, "a P-256 SubjectPublicKeyInfo");
    assert_eq!(
        report.os_image_hash.map(hex::encode).as_deref(),
        Some("e61be43dd1cc6a6f5edefd7c51b608983780839b0000ce60dd99737dcffe09b9")
    );
    assert_eq!(
        report.mr_config_id.to_string(),
        format!("01{compose}{}", "00".repeat(15))
    );
    assert_eq!(
        hex::encode(report.mr_td),
        "e53236d44a074bc78e784cdfa1a2c858a5f6b53afc1b60d8f079662314978b64241b646d8498dd767d5ea48e1e115822"
    );
    assert_eq!(
        hex::encode(report.rtmrs[3]),
        "f28a1490ee924e9396c2ccf2d93ad536b83cbe159a1d45024d1fd7acdcc102145efcfcd0cfa209416446c70226affadf"
    );
    assert_eq!(report.report_data, [0; 64]);
    assert_eq!(report.verified_at, B_NOW);
    let names: Vec<_> = report
        .runtime_events
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names.first(), Some(&"system-preparing"));
    assert_eq!(names.last(), Some(&"system-ready"));

    // What is expected of it holds.
    sample
        .verify(
            &at(B_NOW)
                .expect_compose_hash(compose.parse().unwrap())
                .expect_app_id("5bb4ff9a3837357f19dc176407a5709c62eb6c56".parse().unwrap()),
        )
        .unwrap();
}

#[test]
fn the_verifier_fixture_verifies_with_an_app_event_after_system_ready() {
    let bundle = json("dstack-verifier-quote-report.json");
    let quote = hex::decode(bundle["quote"].as_str().unwrap()).unwrap();
    let log = EventLog::from_json(bundle["event_log"].as_str().unwrap()).unwrap();
    let collateral: Collateral =
        serde_json::from_value(json("tdx_quote_outdated_collateral.json")).unwrap();
    let report = at(A_NOW).verify(&quote, &collateral, &log).unwrap();
    assert_eq!(report.tcb_status, TcbStatus::UpToDate);
    assert_eq!(report.mr_config_id.version(), 0);
    assert_eq!(report.key_provider.as_ref().unwrap().name, "local-sgx");
    assert_eq!(
        report.compose_hash.unwrap().as_str(),
        "3763bc34552cf3a27ff71ad5f7a90471562a1a2df552dfc1998cba2d60da27e7"
    );
    assert_eq!(
        report.runtime_events.last().map(|e| e.name.as_str()),
        Some("LIUM_MINER_HOTKEY")
    );
    assert_eq!(report.report_data[..2], [0x12, 0x34]);
}

#[test]
fn a_tampered_event_fails_the_rtmr3_replay() {
    let mut sample = bundle_b();
    let entry = sample
        .event_log
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["event"] == "compose-hash")
        .unwrap();
    entry["event_payload"] = Value::String("00".repeat(32));
    let err = sample.verify(&at(B_NOW)).unwrap_err();
    assert!(
        matches!(err, AttestationError::RtmrMismatch { index: 3, .. }),
        "{err}"
    );
}

#[test]
fn a_tampered_quote_byte_is_rejected_by_dcap_qvl() {
    // 48-byte header, then the TD report: byte 600 is in `report_data`,
    // which the QE's signature covers.
    for at_byte in [100, 600] {
        let mut sample = bundle_b();
        sample.quote[at_byte] ^= 0x01;
        let err = sample.verify(&at(B_NOW)).unwrap_err();
        assert!(
            matches!(err, AttestationError::QuoteRejected(_)),
            "{at_byte}: {err}"
        );
    }
    let mut sample = bundle_b();
    sample.quote.truncate(1000);
    assert!(matches!(
        sample.verify(&at(B_NOW)),
        Err(AttestationError::QuoteRejected(_))
    ));
}

#[test]
fn collateral_outside_its_validity_is_refused_as_such() {
    let sample = bundle_b();
    let expired = sample.verify(&at(B_QE_NEXT_UPDATE as u64 + 1)).unwrap_err();
    assert!(
        matches!(
            expired,
            AttestationError::CollateralExpired {
                what: "QE identity",
                next_update: B_QE_NEXT_UPDATE,
                ..
            }
        ),
        "{expired}"
    );
    // The last second of the window still verifies.
    assert!(sample.verify(&at(B_QE_NEXT_UPDATE as u64)).is_ok());
    let early = sample.verify(&at(B_QE_ISSUED as u64 - 1)).unwrap_err();
    assert!(
        matches!(early, AttestationError::CollateralNotYetValid { .. }),
        "{early}"
    );
}

#[test]
fn expectations_that_do_not_hold_are_typed_errors() {
    let sample = bundle_b();
    let other = ComposeHash::from([0xee; 32]);
    assert!(matches!(
        sample.verify(&at(B_NOW).expect_compose_hash(other.clone())),
        Err(AttestationError::ComposeHashMismatch { expected, found: Some(_) }) if expected == other
    ));
    assert!(matches!(
        sample.verify(&at(B_NOW).expect_app_id(AppId::from([0xee; 20]))),
        Err(AttestationError::AppIdMismatch { .. })
    ));
}

#[test]
fn another_quotes_collateral_chain_is_not_accepted() {
    // With the td15ex quote's PCK chain left in, dcap-qvl checks B's QE
    // report against the wrong key.
    let mut sample = bundle_b();
    sample.collateral = json("tdx_quote_td15ex_collateral.json");
    assert!(matches!(
        sample.verify(&at(B_NOW)),
        Err(AttestationError::QuoteRejected(_))
    ));
}

/// `GET /cvms/{id}/attestation` as the API shapes it, carrying bundle B.
fn cvm_attestation(sample: &Sample) -> Value {
    let certificate = serde_json::json!({
        "subject": {"common_name": "app.example"}, "issuer": {"common_name": "dstack"},
        "serial_number": "01", "not_before": "2026-01-01T00:00:00Z", "not_after": "2027-01-01T00:00:00Z",
        "version": "v3", "fingerprint": "ab", "signature_algorithm": "ecdsa-with-SHA256",
        "is_ca": false, "position_in_chain": 0, "quote": hex::encode(&sample.quote),
    });
    serde_json::json!({
        "is_online": true, "is_public": true, "name": "sim",
        "app_certificates": [certificate],
        "tcb_info": {
            "mrtd": "", "rtmr0": "", "rtmr1": "", "rtmr2": "", "rtmr3": "",
            "app_compose": "{}", "event_log": sample.event_log,
        },
    })
}

/// Answers `GET /cvms/cvm_ykL5lbAn/attestation` with `body`.
async fn serve_cvm_attestation(server: &MockServer, body: Value) -> httpmock::Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v1/cvms/cvm_ykL5lbAn/attestation");
            then.status(200).json_body(body);
        })
        .await
}

#[tokio::test]
async fn verify_cvm_fetches_the_evidence_and_verifies_it_here() {
    let sample = bundle_b();
    let checksum = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&sample.quote))
    };
    let server = MockServer::start_async().await;
    let attestation = serve_cvm_attestation(&server, cvm_attestation(&sample)).await;
    let collateral = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("/api/v1/attestations/collateral/{checksum}"));
            then.status(200).json_body(sample.collateral.clone());
        })
        .await;
    let client = support::client(&server.base_url(), phala_cloud::RetryPolicy::none());

    let report = at(B_NOW).verify_cvm(&client, "cvm_ykL5lbAn").await.unwrap();
    assert_eq!(report.tcb_status, TcbStatus::UpToDate);
    attestation.assert_async().await;
    collateral.assert_async().await;

    // The API's own register values are not used: the quote's are.
    assert_eq!(
        report.rtmrs,
        at(B_NOW)
            .verify(&sample.quote, &sample.collateral(), &sample.log())
            .unwrap()
            .rtmrs
    );
}

#[tokio::test]
async fn a_quote_the_api_has_not_stored_is_uploaded_for_its_collateral() {
    let sample = bundle_b();
    let server = MockServer::start_async().await;
    serve_cvm_attestation(&server, cvm_attestation(&sample)).await;
    let missing = server
        .mock_async(|when, then| {
            when.method(GET)
                .path_includes("/api/v1/attestations/collateral/");
            then.status(404)
                .json_body(serde_json::json!({"detail": "Quote not found"}));
        })
        .await;
    let upload = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/attestations/verify");
            then.status(200).json_body(serde_json::json!({
                "success": true, "quote_collateral": sample.collateral,
            }));
        })
        .await;
    let client = support::client(&server.base_url(), phala_cloud::RetryPolicy::none());
    let report = at(B_NOW).verify_cvm(&client, "cvm_ykL5lbAn").await.unwrap();
    assert_eq!(report.tcb_status, TcbStatus::UpToDate);
    missing.assert_async().await;
    upload.assert_async().await;
}

#[tokio::test]
async fn an_offline_cvm_or_bad_id_is_a_typed_error() {
    let server = MockServer::start_async().await;
    serve_cvm_attestation(
        &server,
        serde_json::json!({
            "is_online": false, "error": "CVM is offline",
        }),
    )
    .await;
    let client = support::client(&server.base_url(), phala_cloud::RetryPolicy::none());
    let err = LocalVerifier::new()
        .verify_cvm(&client, "cvm_ykL5lbAn")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AttestationError::NoQuote(m) if m.contains("offline")),
        "{err}"
    );
    let err = LocalVerifier::new()
        .verify_cvm(&client, "no/such cvm")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AttestationError::Fetch(phala_cloud::Error::InvalidRequest(_))
        ),
        "{err}"
    );
}

proptest::proptest! {
    /// An event log from a hostile server: parsed and replayed, or refused,
    /// never a panic.
    #[test]
    fn event_logs_never_panic(
        imr in 0u32..6,
        event_type in proptest::prop_oneof![proptest::strategy::Just(0x0800_0001u32), proptest::num::u32::ANY],
        digest in "[0-9a-f]{0,100}",
        event in ".{0,20}",
        payload in "[0-9a-f]{0,80}",
        version in 0u8..4,
    ) {
        let entry = serde_json::json!([{
            "imr": imr, "event_type": event_type, "digest": digest,
            "event": event, "event_payload": payload, "version": version,
        }]);
        if let Ok(log) = EventLog::from_json(&entry.to_string()) {
            let _ = log.replay();
            let _ = log.runtime_events();
        }
    }
}
