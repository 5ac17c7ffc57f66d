//! Webhook deliveries for your handler's tests: [`sign`] signs a body as
//! Phala Cloud does, [`deliver`] turns an event into the headers and body a
//! handler receives, and [`events`] has a sample of every event type.
//!
//! The samples are about the first sample CVM
//! ([`sample::cvms`](super::sample::cvms)), so a handler that looks the CVM
//! up can be served [`sample::cvm_detail`](super::sample::cvm_detail) for
//! it.
//!
//! ```
//! use phala_cloud::mock::webhook::{cvm_event, deliver, event, events};
//! use phala_cloud::webhook::{EventData, WebhookVerifier};
//!
//! // What your handler receives when the first sample CVM stops.
//! let (headers, body) = deliver("whsec_test", &event(EventData::CvmStopped(cvm_event())));
//! let verified = WebhookVerifier::new("whsec_test").parse_event(&headers, &body)?;
//! assert_eq!(verified.data.name(), "cvm.stopped");
//! // One of every event type, `cvm.created` to `cvm.update.pending_approval`.
//! assert_eq!(events().len(), EventData::KNOWN.len());
//! # Ok::<(), phala_cloud::webhook::WebhookError>(())
//! ```

use std::time::SystemTime;

use chrono::{TimeZone, Utc};
use hmac::Mac;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;

use super::sample::decode;
use crate::types::CvmLifecycleStatus;
use crate::webhook::{
    signing_mac, unix_seconds, CvmEvent, EventData, PendingApproval, WebhookEvent, Workspace,
    SIGNATURE_HEADER, SIGNATURE_PREFIX, TIMESTAMP_HEADER,
};

/// The headers Phala Cloud sends with `body` at `timestamp` (Unix seconds)
/// for a webhook whose secret is `secret`: `X-Webhook-Timestamp`,
/// `X-Webhook-Signature` (see [`crate::webhook`]) and `Content-Type`.
///
/// ```
/// use phala_cloud::webhook::WebhookVerifier;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let headers = phala_cloud::mock::webhook::sign("whsec_test", 1_700_000_000, b"{}");
/// let verifier = WebhookVerifier::new("whsec_test")
///     .clock(|| UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// assert!(verifier.verify_headers(&headers, b"{}").is_ok());
/// ```
pub fn sign(secret: &str, timestamp: i64, body: impl AsRef<[u8]>) -> HeaderMap {
    let timestamp = timestamp.to_string();
    let digest = signing_mac(secret.as_bytes(), &timestamp, body.as_ref())
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // Digits and hex: always valid header values.
    for (name, value) in [
        (TIMESTAMP_HEADER, timestamp),
        (SIGNATURE_HEADER, format!("{SIGNATURE_PREFIX}{digest}")),
    ] {
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    headers
}

/// `event` as a delivery signed now with `secret`: the headers (those of
/// [`sign`], `X-Webhook-Id` and `X-Webhook-Event`) and the JSON body.
pub fn deliver(secret: &str, event: &WebhookEvent) -> (HeaderMap, Vec<u8>) {
    // Cannot fail: an event is strings, numbers, a time and JSON values,
    // whose maps have string keys.
    let body = serde_json::to_vec(event)
        .unwrap_or_else(|e| panic!("the webhook event does not serialize: {e}"));
    let mut headers = sign(secret, unix_seconds(SystemTime::now()), &body);
    // An id or a made-up event name that is not a header value is left out.
    for (name, value) in [
        ("x-webhook-id", event.id.as_str()),
        ("x-webhook-event", event.data.name()),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    (headers, body)
}

/// `data` in the docs' envelope: event `evt_a1b2c3d4e5f67890` of workspace
/// `my-team-slug`, at 2026-03-19T10:30:00Z.
pub fn event(data: EventData) -> WebhookEvent {
    let id = decode("webhook event id", json!("evt_a1b2c3d4e5f67890"));
    let created_at = Utc
        .timestamp_opt(1_773_916_200, 0)
        .single()
        .unwrap_or_default();
    WebhookEvent::new(
        id,
        created_at,
        Workspace::new("my-team-slug", "My Team"),
        data,
    )
}

/// The data of a lifecycle event of the first sample CVM (`web-prod`),
/// `running`.
pub fn cvm_event() -> CvmEvent {
    decode(
        "CVM event",
        json!({
            "cvm_id": "c48d9363-21b2-4f4a-87d9-3496623f020d",
            "cvm_name": "web-prod",
            "app_id": "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4",
            "status": "running",
        }),
    )
}

/// The data of the docs' `cvm.update.pending_approval` example, about the
/// first sample CVM, on Base's KMS.
pub fn pending_approval() -> PendingApproval {
    let cvm = cvm_event();
    let compose_hash = "ff22c67f1c8d5e4a9b3d2c1e0f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f90";
    let token = "a5732e36-8f4b-4c1d-9e7a-2b5c8d9e0f1a";
    let uuid = cvm.cvm_id.as_str();
    decode(
        "pending approval",
        json!({
            "cvm_id": uuid,
            "cvm_name": cvm.cvm_name,
            "app_id": cvm.app_id,
            "compose_hash": format!("0x{compose_hash}"),
            "device_id": "0x7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b80",
            "kms": {"chain_id": 8453, "contract_address": "0x2f83172A49584C017F2B256F0FB2Dca14126Ba9C"},
            "onchain_action": {
                "to": format!("0x{}", cvm.app_id),
                "method": "addComposeHash(bytes32)",
                "calldata": format!("0x{compose_hash}"),
            },
            "commit_token": token,
            "commit_url": format!("https://cloud.phala.com/my-team/cvms/{uuid}/confirm-update?token={token}&compose_hash={compose_hash}"),
            "api_commit_url": format!("https://cloud-api.phala.com/api/v1/cvms/{uuid}/commit-update?token={token}"),
            "expires_at": "2026-04-24T12:34:56.789Z",
            "initiated_by": {"user_id": "usr_01HXYZ", "username": "alice"},
        }),
    )
}

/// One event of every type this crate knows ([`EventData::KNOWN`], in that
/// order), each in the envelope of [`event`]: the lifecycle events with
/// [`cvm_event`] (`cvm.create_failed` with the docs' status and error,
/// `cvm.stopped` with the status `stopped`), then [`pending_approval`].
pub fn events() -> Vec<WebhookEvent> {
    let mut all: Vec<WebhookEvent> = EventData::KNOWN
        .iter()
        .filter_map(|name| {
            let mut cvm = cvm_event();
            match *name {
                "cvm.create_failed" => {
                    cvm.status = CvmLifecycleStatus::Other("error".into());
                    cvm.error = Some("CVM 82: Failed to request app keys: ...".into());
                }
                "cvm.stopped" => cvm.status = CvmLifecycleStatus::Stopped,
                _ => {}
            }
            EventData::cvm(name, cvm).map(event)
        })
        .collect();
    all.push(event(EventData::CvmUpdatePendingApproval(Box::new(
        pending_approval(),
    ))));
    all
}
