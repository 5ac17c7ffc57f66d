//! Webhook signature checks and event decoding against independently computed
//! vectors.
//!
//! Every signature below was computed outside this crate with Python's
//! standard library, over the exact bytes the test passes as the body:
//!
//! ```python
//! import hmac, hashlib
//! secret = b"whsec_dGVzdC1zZWNyZXQtZm9yLXBoYWxhLXdlYmhvb2tz"
//! sig = lambda body: "sha256=" + hmac.new(secret, b"1700000000." + body, hashlib.sha256).hexdigest()
//! sig(open("tests/fixtures/WEBHOOK_event_cvm.created__docs-webhooks.json", "rb").read())
//! ```
//!
//! The `cvm.created` one was also checked with
//! `{ printf '1700000000.'; cat tests/fixtures/WEBHOOK_event_cvm.created__docs-webhooks.json; } | openssl dgst -sha256 -hmac "$SECRET"`
//! and with Node's `crypto.createHmac` (as the official JS SDK does): all
//! three give `b72ce168…3e99`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue};
use phala_cloud::types::CvmLifecycleStatus;
use phala_cloud::webhook::{EventData, WebhookError, WebhookEvent, WebhookVerifier};

const SECRET: &str = "whsec_dGVzdC1zZWNyZXQtZm9yLXBoYWxhLXdlYmhvb2tz";
const TIMESTAMP: i64 = 1_700_000_000;
const TIMESTAMP_TEXT: &str = "1700000000";

const CREATED: &[u8] = include_bytes!("fixtures/WEBHOOK_event_cvm.created__docs-webhooks.json");
const CREATED_SIG: &str = "sha256=b72ce168b9e7c8686be00dff6f45c4aead399c3099c5e436b56af36c38643e99";

const PENDING: &[u8] =
    include_bytes!("fixtures/WEBHOOK_event_cvm.update.pending_approval__docs-multisig.json");
const PENDING_SIG: &str = "sha256=c77796529102156434b68e1e6c826673b0038f5d2fcaa1627541771ea5cbf05d";

/// The docs' failure-event example, in a full envelope, with a real app id
/// in place of the docs' placeholder (`0xabc...`).
const FAILED: &[u8] = br#"{"id":"evt_0000000000000001","event":"cvm.create_failed","version":"1","created_at":"2026-03-19T10:31:00Z","workspace":{"id":"my-team-slug","name":"My Team"},"data":{"cvm_id":"1a09d706-2686-4e0a-8b1d-323ff0e3504b","cvm_name":"my-app","app_id":"0x2A7B4D0D0C0883D0D3119C36EB25A1F72122A7C4","status":"error","error":"CVM 82: Failed to request app keys: ..."}}"#;
const FAILED_SIG: &str = "sha256=5ee6813a6864d711ca3222203a3fd05f78853768e15860b6c6cc9d51c970afac";

const UNKNOWN: &[u8] = br#"{"id":"evt_00000000000000ff","event":"cvm.migrated","version":"1","created_at":"2026-03-19T10:30:00Z","workspace":{"id":"my-team-slug","name":"My Team"},"data":{"cvm_id":"x","region":"eu"}}"#;
const UNKNOWN_SIG: &str = "sha256=6c01afae726272a8da9f2658ab976cb5409765bf5b8b78776394dfe6c62eca9f";

/// The official SDKs' test delivery: a known event with empty data.
const EMPTY_DATA: &[u8] = br#"{"id":"evt_0000000000000003","event":"cvm.created","version":"1","created_at":"2026-03-19T10:30:00Z","workspace":{"id":"my-team-slug","name":"My Team"},"data":{}}"#;
const EMPTY_DATA_SIG: &str =
    "sha256=7065e361adea60f1bd1973b4c8cb758e7443e5286477fd3e08417ad04811e1f4";

/// No envelope: neither `id`, `version`, `created_at` nor `workspace`.
const NO_ENVELOPE: &[u8] = br#"{"event":"cvm.created","data":{"cvm_id":"x"}}"#;
const NO_ENVELOPE_SIG: &str =
    "sha256=669d354c366ca8895ec9c923111ee54955a4393abd74af62c8f0b23c4b8dda53";

/// A known event whose data lacks `cvm_id`.
const WRONG_SHAPE: &[u8] = br#"{"id":"evt_0000000000000002","event":"cvm.created","version":"1","created_at":"2026-03-19T10:30:00Z","workspace":{"id":"w","name":"W"},"data":{"cvm_name":"no id"}}"#;
const WRONG_SHAPE_SIG: &str =
    "sha256=7d8e99081ca2cd729f98497996536392bdfd5e0c04bc277101335c4a9984c017";

const NOT_JSON: &[u8] = b"not json";
const NOT_JSON_SIG: &str =
    "sha256=ffec00e9503512d96534c8eec5a5e3146aac62216fc06ab8b6d9c0a1e60bbd1c";

/// A verifier whose clock reads `TIMESTAMP + offset` seconds.
fn verifier_at(offset: i64) -> WebhookVerifier {
    let now = UNIX_EPOCH + Duration::from_secs(TIMESTAMP.checked_add(offset).unwrap() as u64);
    WebhookVerifier::new(SECRET).clock(move || now)
}

fn header_map(timestamp: &str, signature: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("x-webhook-timestamp"),
        HeaderValue::from_str(timestamp).unwrap(),
    );
    headers.insert(
        HeaderName::from_static("x-webhook-signature"),
        HeaderValue::from_str(signature).unwrap(),
    );
    headers
}

fn parse(body: &[u8], signature: &str) -> Result<WebhookEvent, WebhookError> {
    verifier_at(0).parse_event(&header_map(TIMESTAMP_TEXT, signature), body)
}

#[test]
fn the_independent_vector_verifies_and_decodes_a_created_event() {
    let event = parse(CREATED, CREATED_SIG).unwrap();
    assert_eq!(event.id, "evt_a1b2c3d4e5f67890");
    assert_eq!(event.version, "1");
    assert_eq!(event.created_at.to_rfc3339(), "2026-03-19T10:30:00+00:00");
    assert_eq!(event.workspace.id, "my-team-slug");
    assert_eq!(event.workspace.name, "My Team");
    assert_eq!(event.data.name(), "cvm.created");
    assert!(event.extra.is_empty());
    // The docs' placeholder app id, `0xabc...`, could not stand as a path
    // segment: the data is kept as it came (the typed decoding is in
    // `a_failure_event_carries_its_error` and the samples' tests).
    let EventData::Other { data, .. } = &event.data else {
        panic!("the placeholder app id was taken for an id: {event:?}");
    };
    assert_eq!(data["cvm_id"], "1a09d706-2686-4e0a-8b1d-323ff0e3504b");
    assert_eq!(data["app_id"], "0xabc...");
    assert_eq!(data["status"], "running");
}

#[test]
fn a_pending_approval_event_decodes_every_field() {
    let event = parse(PENDING, PENDING_SIG).unwrap();
    assert_eq!(event.data.name(), "cvm.update.pending_approval");
    let EventData::CvmUpdatePendingApproval(pending) = &event.data else {
        panic!("not a pending-approval event: {event:?}");
    };
    assert_eq!(pending.cvm_name, "payments-api");
    assert_eq!(pending.kms.chain_id, 8453);
    assert_eq!(
        pending.kms.contract_address,
        "0x2f83172A49584C017F2B256F0FB2Dca14126Ba9C"
    );
    assert_eq!(pending.onchain_action.method, "addComposeHash(bytes32)");
    // The docs' hash has 63 digits: kept as sent.
    assert_eq!(pending.compose_hash, pending.onchain_action.calldata);
    assert_eq!(pending.cvm_id, "0123456789ABCDEF0123456789ABCDEF");
    assert_eq!(pending.app_id, "09CEF33CA9C6E4F2B1D5A7C3E8F0B2A4D6E8F1C3");
    assert_eq!(pending.commit_token, "a5732e36-8f4b-4c1d-9e7a-2b5c8d9e0f1a");
    assert!(pending
        .api_commit_url
        .ends_with("/commit-update?token=a5732e36-8f4b-4c1d-9e7a-2b5c8d9e0f1a"));
    assert_eq!(
        pending.expires_at.to_rfc3339(),
        "2026-04-24T12:34:56.789+00:00"
    );
    assert_eq!(pending.initiated_by.username, "alice");
    assert_eq!(pending.initiated_by.user_id, "usr_01HXYZ");
}

#[test]
fn a_pending_approval_event_is_the_approval_a_prepare_only_update_gives() {
    use phala_cloud::onchain::OnChainApprovalRequired;

    let event = parse(PENDING, PENDING_SIG).unwrap();
    let EventData::CvmUpdatePendingApproval(pending) = &event.data else {
        panic!("not a pending-approval event: {event:?}");
    };
    let approval = OnChainApprovalRequired::from(&**pending);
    assert_eq!(pending.compose_hash, approval.compose_hash);
    assert_eq!(pending.app_id, approval.app_id);
    assert_eq!(
        approval.device_id.as_deref(),
        Some(pending.device_id.as_str())
    );
    assert_eq!(
        approval.commit_token.as_deref(),
        Some(pending.commit_token.as_str())
    );
    assert_eq!(
        approval.api_commit_url.as_deref(),
        Some(pending.api_commit_url.as_str())
    );
    let kms = approval.kms_info.as_ref().unwrap();
    assert_eq!(kms.chain_id, Some(8453));
    assert_eq!(
        kms.kms_contract_address.as_deref(),
        Some("0x2f83172A49584C017F2B256F0FB2Dca14126Ba9C")
    );
    let action = approval.onchain_action.as_ref().unwrap();
    assert_eq!(action.method.as_deref(), Some("addComposeHash(bytes32)"));
    assert_eq!(
        action.calldata.as_deref(),
        Some(pending.onchain_action.calldata.as_str())
    );
    assert_eq!(
        approval.expires_at.as_deref(),
        Some("2026-04-24T12:34:56.789+00:00")
    );
    // Nothing the event said is lost: the rest travels in `other`.
    assert_eq!(approval.other["cvm_name"], "payments-api");
    assert_eq!(approval.other["cvm_id"], pending.cvm_id.as_str());
    assert_eq!(approval.other["initiated_by"]["username"], "alice");
}

#[test]
fn a_failure_event_carries_its_error() {
    let event = parse(FAILED, FAILED_SIG).unwrap();
    let EventData::CvmCreateFailed(cvm) = &event.data else {
        panic!("not a cvm.create_failed event: {event:?}");
    };
    assert_eq!(cvm.status, CvmLifecycleStatus::Other("error".into()));
    assert_eq!(
        cvm.app_id.as_str(),
        "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4"
    );
    assert_eq!(
        cvm.cvm_id.simple(),
        Some("1a09d70626864e0a8b1d323ff0e3504b")
    );
    assert_eq!(
        cvm.error.as_deref(),
        Some("CVM 82: Failed to request app keys: ...")
    );
}

#[test]
fn an_unknown_event_keeps_its_name_and_data() {
    let event = parse(UNKNOWN, UNKNOWN_SIG).unwrap();
    assert_eq!(event.data.name(), "cvm.migrated");
    let EventData::Other { event: name, data } = &event.data else {
        panic!("a known event: {event:?}");
    };
    assert_eq!(name, "cvm.migrated");
    assert_eq!(data, &serde_json::json!({"cvm_id": "x", "region": "eu"}));
}

#[test]
fn the_tolerance_is_300_seconds_inclusive_both_ways() {
    for offset in [-300, -1, 0, 1, 300] {
        verifier_at(offset)
            .verify(TIMESTAMP_TEXT, CREATED_SIG, CREATED)
            .unwrap_or_else(|e| panic!("rejected at {offset:+} s: {e}"));
    }
    for offset in [-301, 301, -86_400, 86_400] {
        let err = verifier_at(offset)
            .verify(TIMESTAMP_TEXT, CREATED_SIG, CREATED)
            .unwrap_err();
        let WebhookError::Expired {
            timestamp,
            now,
            tolerance_secs,
        } = err
        else {
            panic!("at {offset:+} s: {err}");
        };
        assert_eq!(
            (timestamp, now - timestamp, tolerance_secs),
            (TIMESTAMP, offset, 300)
        );
    }
}

#[test]
fn the_tolerance_can_be_changed() {
    let strict = verifier_at(11).tolerance(Duration::from_secs(10));
    assert!(matches!(
        strict.verify(TIMESTAMP_TEXT, CREATED_SIG, CREATED),
        Err(WebhookError::Expired { .. })
    ));
    let lenient = verifier_at(3_600).tolerance(Duration::from_secs(3_600));
    lenient
        .verify(TIMESTAMP_TEXT, CREATED_SIG, CREATED)
        .unwrap();
}

#[test]
fn the_system_clock_is_the_default() {
    let verifier = WebhookVerifier::new(SECRET);
    let before = unix_now();
    let result = verifier.verify(TIMESTAMP_TEXT, CREATED_SIG, CREATED);
    let after = unix_now();
    // The vector is from 2023: far outside 300 s of the real clock.
    assert!(
        matches!(result, Err(WebhookError::Expired { timestamp: TIMESTAMP, now, .. })
            if (before..=after).contains(&now)),
        "{result:?}"
    );
}

fn unix_now() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since_epoch.as_secs()).unwrap()
}

#[test]
fn header_names_are_case_insensitive() {
    let verifier = verifier_at(0);

    // HeaderMap normalises names whatever case they were parsed in.
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_bytes(b"X-Webhook-Timestamp").unwrap(),
        HeaderValue::from_static(TIMESTAMP_TEXT),
    );
    headers.insert(
        HeaderName::from_bytes(b"X-WEBHOOK-SIGNATURE").unwrap(),
        HeaderValue::from_static(CREATED_SIG),
    );
    verifier.parse_event(&headers, CREATED).unwrap();

    let pairs = [
        ("Content-Type", "application/json"),
        ("X-WEBHOOK-TIMESTAMP", TIMESTAMP_TEXT),
        ("x-Webhook-Signature", CREATED_SIG),
    ];
    verifier.parse_event(&pairs, CREATED).unwrap();
    verifier.parse_event(&pairs[..], CREATED).unwrap();
    verifier.parse_event(&pairs.to_vec(), CREATED).unwrap();

    let owned: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    verifier.parse_event(&owned, CREATED).unwrap();
    let sorted: BTreeMap<&str, &str> = pairs.into_iter().collect();
    verifier.parse_event(&sorted, CREATED).unwrap();
}

#[test]
fn a_tampered_body_is_rejected() {
    let mut tampered = CREATED.to_vec();
    let at = tampered.iter().position(|&b| b == b'r').unwrap();
    tampered[at] = b'R';
    assert!(matches!(
        parse(&tampered, CREATED_SIG),
        Err(WebhookError::BadSignature)
    ));
    // Whitespace counts: the body must be verified exactly as received.
    assert!(matches!(
        parse(&CREATED[..CREATED.len() - 1], CREATED_SIG),
        Err(WebhookError::BadSignature)
    ));
}

#[test]
fn a_wrong_secret_is_rejected() {
    let now = UNIX_EPOCH + Duration::from_secs(TIMESTAMP as u64);
    for secret in [
        "whsec_dGVzdC1zZWNyZXQtZm9yLXBoYWxhLXdlYmhvb2tY",
        // The `whsec_` prefix is part of the key.
        "dGVzdC1zZWNyZXQtZm9yLXBoYWxhLXdlYmhvb2tz",
        "",
    ] {
        let verifier = WebhookVerifier::new(secret).clock(move || now);
        assert!(
            matches!(
                verifier.verify(TIMESTAMP_TEXT, CREATED_SIG, CREATED),
                Err(WebhookError::BadSignature)
            ),
            "secret {secret:?} accepted"
        );
    }
}

#[test]
fn the_timestamp_is_part_of_the_signed_message() {
    // Moving the timestamp (and the clock with it) breaks the signature.
    let verifier = verifier_at(1);
    assert!(matches!(
        verifier.verify("1700000001", CREATED_SIG, CREATED),
        Err(WebhookError::BadSignature)
    ));
    // So does writing the same number differently.
    assert!(matches!(
        verifier_at(0).verify("01700000000", CREATED_SIG, CREATED),
        Err(WebhookError::BadSignature)
    ));
}

#[test]
fn malformed_signatures_are_rejected() {
    let digits = CREATED_SIG.strip_prefix("sha256=").unwrap();
    for signature in [
        digits.to_string(),
        format!("sha1={digits}"),
        format!("SHA256={digits}"),
        format!("sha256={}", &digits[..62]),
        format!("sha256={digits}00"),
        format!("sha256={}zz", &digits[..62]),
        format!("sha256= {digits}"),
        String::new(),
    ] {
        assert!(
            matches!(parse(CREATED, &signature), Err(WebhookError::BadSignature)),
            "{signature:?} accepted"
        );
    }
    // Hex digits are hex digits in either case.
    parse(CREATED, &format!("sha256={}", digits.to_uppercase())).unwrap();
}

#[test]
fn missing_headers_are_named() {
    let verifier = verifier_at(0);
    let only_signature = [("X-Webhook-Signature", CREATED_SIG)];
    assert!(matches!(
        verifier.parse_event(&only_signature, CREATED),
        Err(WebhookError::MissingHeader("X-Webhook-Timestamp"))
    ));
    let only_timestamp = [("X-Webhook-Timestamp", TIMESTAMP_TEXT)];
    assert!(matches!(
        verifier.parse_event(&only_timestamp, CREATED),
        Err(WebhookError::MissingHeader("X-Webhook-Signature"))
    ));
    assert!(matches!(
        verifier.verify_headers(&HeaderMap::new(), CREATED),
        Err(WebhookError::MissingHeader(_))
    ));
    let err = verifier.parse_event(&only_signature, CREATED).unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing webhook header X-Webhook-Timestamp"
    );
}

#[test]
fn a_header_value_that_is_not_text_counts_as_missing() {
    let mut headers = header_map(TIMESTAMP_TEXT, CREATED_SIG);
    headers.insert(
        HeaderName::from_static("x-webhook-signature"),
        HeaderValue::from_bytes(b"sha256=\xff").unwrap(),
    );
    assert!(matches!(
        verifier_at(0).parse_event(&headers, CREATED),
        Err(WebhookError::MissingHeader("X-Webhook-Signature"))
    ));
}

#[test]
fn a_timestamp_that_is_not_a_number_is_its_own_error() {
    for timestamp in ["", "1700000000abc", "1.7e9", " 1700000000", "now"] {
        let err = verifier_at(0)
            .verify(timestamp, CREATED_SIG, CREATED)
            .unwrap_err();
        assert!(
            matches!(&err, WebhookError::InvalidTimestamp(t) if t == timestamp),
            "{timestamp:?}: {err}"
        );
    }
    let long = "9".repeat(10_000);
    let err = verifier_at(0)
        .verify(&long, CREATED_SIG, CREATED)
        .unwrap_err();
    assert!(matches!(&err, WebhookError::InvalidTimestamp(t) if t.len() == 64));
}

#[test]
fn a_known_event_whose_data_does_not_fit_is_kept_as_it_came() {
    for (body, signature, data) in [
        (EMPTY_DATA, EMPTY_DATA_SIG, serde_json::json!({})),
        (
            WRONG_SHAPE,
            WRONG_SHAPE_SIG,
            serde_json::json!({"cvm_name": "no id"}),
        ),
    ] {
        let event = parse(body, signature).unwrap();
        assert_eq!(event.data.name(), "cvm.created");
        assert_eq!(
            event.data,
            EventData::Other {
                event: "cvm.created".into(),
                data
            }
        );
        assert!(
            event.id.as_str().starts_with("evt_000000000000000"),
            "{}",
            event.id
        );
    }
}

#[test]
fn an_authentic_body_that_is_not_an_event_is_malformed() {
    for (body, signature) in [(NOT_JSON, NOT_JSON_SIG), (NO_ENVELOPE, NO_ENVELOPE_SIG)] {
        let err = parse(body, signature).unwrap_err();
        assert!(matches!(err, WebhookError::MalformedBody(_)), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }
    // The same bodies pass `verify`, which does not decode.
    verifier_at(0)
        .verify(TIMESTAMP_TEXT, NOT_JSON_SIG, NOT_JSON)
        .unwrap();
}

#[test]
fn an_unauthentic_body_is_never_decoded() {
    // A valid event with a bad signature fails on the signature, and an
    // expired one on its age, before the body is looked at.
    assert!(matches!(
        parse(NOT_JSON, CREATED_SIG),
        Err(WebhookError::BadSignature)
    ));
    assert!(matches!(
        verifier_at(301).parse_event(&header_map(TIMESTAMP_TEXT, NOT_JSON_SIG), NOT_JSON),
        Err(WebhookError::Expired { .. })
    ));
}

#[test]
fn debug_never_shows_the_secret() {
    let verifier = WebhookVerifier::new(SECRET);
    let shown = format!("{verifier:?}");
    assert!(!shown.contains("dGVzdC"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
}

#[test]
fn events_decode_without_verification_through_serde() {
    let event: WebhookEvent = serde_json::from_slice(CREATED).unwrap();
    assert_eq!(event, parse(CREATED, CREATED_SIG).unwrap());
}

/// The user-style test the crate docs promise: a webhook handler tested
/// with the signer and a sample in a few lines (this test is 15, attribute
/// and braces included).
#[test]
fn a_users_webhook_handler_is_tested_in_a_few_lines() {
    use phala_cloud::mock::webhook::{deliver, events};
    fn handler(headers: &HeaderMap, body: &[u8]) -> Result<String, WebhookError> {
        let event = WebhookVerifier::new("whsec_mine").parse_event(headers, body)?;
        Ok(format!("{} {}", event.data.name(), event.id))
    }
    let (headers, body) = deliver("whsec_mine", &events()[0]);
    assert_eq!(
        handler(&headers, &body).unwrap(),
        "cvm.created evt_a1b2c3d4e5f67890"
    );
    let (headers, body) = deliver("whsec_other", &events()[0]);
    assert!(handler(&headers, &body).is_err());
}

#[test]
fn the_signer_gives_the_independent_vectors() {
    use phala_cloud::mock::webhook::sign;

    for (body, signature) in [
        (CREATED, CREATED_SIG),
        (PENDING, PENDING_SIG),
        (FAILED, FAILED_SIG),
    ] {
        let headers = sign(SECRET, TIMESTAMP, body);
        assert_eq!(headers["x-webhook-signature"], signature);
        assert_eq!(headers["x-webhook-timestamp"], TIMESTAMP_TEXT);
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(
            verifier_at(0).parse_event(&headers, body).unwrap(),
            parse(body, signature).unwrap()
        );
    }
}

#[test]
fn a_delivery_carries_the_events_id_and_name_and_is_fresh() {
    use phala_cloud::mock::webhook;

    let event = webhook::event(EventData::CvmStarted(webhook::cvm_event()));
    let (headers, body) = webhook::deliver(SECRET, &event);
    assert_eq!(headers["x-webhook-id"], "evt_a1b2c3d4e5f67890");
    assert_eq!(headers["x-webhook-event"], "cvm.started");
    let sent_at: i64 = headers["x-webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(sent_at.abs_diff(unix_now()) <= 60, "{sent_at}");
    // The system clock's verifier takes it, with the data typed.
    let parsed = WebhookVerifier::new(SECRET)
        .parse_event(&headers, &body)
        .unwrap();
    assert_eq!(parsed, event);
    let EventData::CvmStarted(cvm) = &parsed.data else {
        panic!("{parsed:?}");
    };
    assert_eq!(cvm.status, CvmLifecycleStatus::Running);
}

#[test]
fn there_is_a_sample_of_every_event_type_and_each_round_trips() {
    use phala_cloud::mock::{sample, webhook};

    let events = webhook::events();
    let names: Vec<&str> = events.iter().map(|e| e.data.name()).collect();
    assert_eq!(names, EventData::KNOWN);
    for event in &events {
        assert!(!matches!(event.data, EventData::Other { .. }), "{event:?}");
        let (headers, body) = webhook::deliver(SECRET, event);
        let parsed = WebhookVerifier::new(SECRET)
            .parse_event(&headers, &body)
            .unwrap();
        assert_eq!(&parsed, event);
    }
    let EventData::CvmCreateFailed(failed) = &events[2].data else {
        panic!("{:?}", events[2]);
    };
    assert_eq!(failed.status.to_string(), "error");
    assert!(failed.error.is_some());
    assert!(
        matches!(&events[5].data, EventData::CvmStopped(cvm) if cvm.status == CvmLifecycleStatus::Stopped)
    );

    // About the first sample CVM, as a handler's lookup would find it.
    let cvm = &sample::cvms()[0];
    let sampled = webhook::cvm_event();
    assert_eq!(Some(&sampled.cvm_id), cvm.vm_uuid.as_ref());
    assert_eq!(Some(&sampled.app_id), cvm.app_id.as_ref());
    assert_eq!(sampled.cvm_name, cvm.name);
    let pending = webhook::pending_approval();
    assert_eq!(
        (pending.cvm_id, pending.app_id),
        (sampled.cvm_id, sampled.app_id)
    );
    assert_eq!(pending.compose_hash.to_bytes().unwrap()[0], 0xff);
}

#[test]
fn a_known_event_name_with_another_kind_of_data_is_no_cvm_event() {
    use phala_cloud::mock::webhook;

    assert_eq!(
        EventData::cvm("cvm.update.pending_approval", webhook::cvm_event()),
        None
    );
    assert_eq!(EventData::cvm("cvm.migrated", webhook::cvm_event()), None);
    for name in &EventData::KNOWN[..7] {
        let data = EventData::cvm(name, webhook::cvm_event()).unwrap();
        assert_eq!(data.name(), *name);
    }
}

/// Nothing a delivery carries is lost: fields this crate does not know, at
/// every level, and a status the API's enum does not list, come back when
/// the event is serialized.
#[test]
fn typed_events_write_back_everything_they_were_sent() {
    let delivery = serde_json::json!({
        "id": "evt_0000000000000009", "event": "cvm.stopped", "version": "1",
        "created_at": "2026-03-19T10:30:00Z", "trace": {"hop": 1},
        "workspace": {"id": "my-team", "name": "My Team", "tier": "pro"},
        "data": {
            "cvm_id": "1a09d706-2686-4e0a-8b1d-323ff0e3504b", "cvm_name": "my-app",
            "app_id": "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4",
            "status": "hibernating", "region": "eu", "error": null
        }
    });
    let event: WebhookEvent = serde_json::from_value(delivery.clone()).unwrap();
    let EventData::CvmStopped(cvm) = &event.data else {
        panic!("{event:?}");
    };
    assert_eq!(cvm.status, CvmLifecycleStatus::Other("hibernating".into()));
    assert_eq!(cvm.extra["region"], "eu");
    assert_eq!(event.extra["trace"]["hop"], 1);
    assert_eq!(event.workspace.extra["tier"], "pro");
    let mut written = serde_json::to_value(&event).unwrap();
    // An explicit `null` error is the absent one.
    written["data"]["error"] = serde_json::Value::Null;
    assert_eq!(written, delivery);

    let mut pending: serde_json::Value = serde_json::from_slice(PENDING).unwrap();
    pending["data"]["kms"]["rpc"] = "https://base.example".into();
    pending["data"]["onchain_action"]["value"] = "0".into();
    pending["data"]["initiated_by"]["email"] = "alice@example.com".into();
    pending["data"]["safe"] = "0x01".into();
    let event: WebhookEvent = serde_json::from_value(pending.clone()).unwrap();
    assert!(matches!(event.data, EventData::CvmUpdatePendingApproval(_)));
    let written = serde_json::to_value(&event).unwrap();
    // Times are written in one RFC 3339 form; the rest as sent.
    for (path, sent) in [
        ("/created_at", "2026-04-10T12:34:56.789Z"),
        ("/data/expires_at", "2026-04-24T12:34:56.789Z"),
    ] {
        assert_eq!(written.pointer(path).unwrap(), sent);
    }
    // An id is written in its normal form: the app id without `0x`.
    pending["data"]["app_id"] = "09cef33ca9c6e4f2b1d5a7c3e8f0b2a4d6e8f1c3".into();
    assert_eq!(written, pending);

    let unknown: WebhookEvent = serde_json::from_slice(UNKNOWN).unwrap();
    let sent: serde_json::Value = serde_json::from_slice(UNKNOWN).unwrap();
    assert_eq!(serde_json::to_value(&unknown).unwrap(), sent);
}

/// The README's examples in its IDs and webhook sections compile: each is,
/// line for line, a rustdoc example (a doctest) without its hidden lines.
#[test]
fn the_readmes_id_and_webhook_examples_are_doctests() {
    let read = |path: &str| {
        std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    let sources = read("src/ids/cvm_ref.rs") + &read("src/mock/webhook.rs");
    let doc_lines: Vec<&str> = sources
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let doc = line
                .strip_prefix("///")
                .or_else(|| line.strip_prefix("//!"))?;
            Some(doc.strip_prefix(' ').unwrap_or(doc))
        })
        .filter(|line| !line.starts_with("# "))
        .collect();
    let docs = doc_lines.join("\n");
    let readme = read("README.md");
    for heading in ["\n## IDs\n", "\n## Webhooks"] {
        let section = readme.split_once(heading).unwrap().1;
        let section = section.split("\n## ").next().unwrap();
        let mut examples = 0;
        let mut lines = section.lines();
        while let Some(fence) = lines.by_ref().find(|l| l.trim_start() == "```rust") {
            let indent = fence.len() - fence.trim_start().len();
            let example: Vec<&str> = lines
                .by_ref()
                .take_while(|l| l.trim_start() != "```")
                .map(|l| l.get(indent..).unwrap_or(""))
                .collect();
            let example = example.join("\n");
            assert!(docs.contains(&example), "not a doctest:\n{example}");
            examples += 1;
        }
        assert_eq!(examples, 1, "{heading}");
    }
}
