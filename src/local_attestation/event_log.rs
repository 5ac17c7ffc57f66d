//! A CVM's event log: parsing it, replaying it into RTMR0–3, and reading
//! the identity dstack records in it (app id, compose hash, instance id,
//! key provider).
//!
//! Replay follows dstack's verifier: every register starts at 48 zero
//! bytes and is extended as `RTMR = SHA-384(RTMR ‖ digest)`. Boot events
//! (RTMR0–2) are replayed from their `digest` fields, which only the quote
//! can vouch for. dstack runtime events (type `0x08000001`, RTMR3) are
//! replayed from a digest recomputed from their name and payload, never
//! from the `digest` field, so what the report shows is what was measured:
//! version 1 is `SHA-384(u32_le(0x08000001) ‖ ":" ‖ name ‖ ":" ‖ payload)`,
//! version 2 the SHA-384 of the canonical JSON
//! `{"name":…,"payload":"<hex>","type":134217729}`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha384};

use super::AttestationError;
use crate::ids::{AppId, ComposeHash};
use crate::mr_config::InstanceId;
use crate::types;

/// The event type of every dstack runtime event.
pub const RUNTIME_EVENT_TYPE: u32 = 0x0800_0001;
/// The runtime event after which events are the app's, not the system's.
const SYSTEM_READY: &str = "system-ready";

/// One entry of an event log, bytes decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventLogEntry {
    /// The register it extends (0–3).
    pub imr: u32,
    /// Its event type; [`RUNTIME_EVENT_TYPE`] for dstack's own events.
    pub event_type: u32,
    /// The digest the log states (empty in stripped logs).
    pub digest: Vec<u8>,
    /// The event's name (runtime events).
    pub event: String,
    /// The event's payload.
    pub event_payload: Vec<u8>,
    /// The digest scheme of a runtime event: 1, or 2 (canonical JSON).
    pub version: u8,
}

/// A runtime event, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeEvent {
    /// Its name (`app-id`, `compose-hash`, … or an app's own).
    pub name: String,
    /// Its payload.
    pub payload: Vec<u8>,
}

/// The key provider a CVM booted with, from its `key-provider` event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct KeyProviderEvent {
    /// `kms`, `local-sgx`, `tpm` or `none`.
    pub name: String,
    /// Its id: for `kms`, the KMS CA public key (DER).
    #[serde(deserialize_with = "hex_bytes")]
    pub id: Vec<u8>,
}

/// A CVM's event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLog {
    entries: Vec<EventLogEntry>,
}

/// One entry as dstack's JSON writes it.
#[derive(Deserialize, Serialize)]
struct RawEntry {
    imr: u32,
    event_type: u32,
    digest: String,
    event: String,
    event_payload: String,
    #[serde(default)]
    version: Option<u8>,
    #[serde(default)]
    preimage: Option<String>,
}

/// What the identity events say.
#[derive(Debug, Default)]
pub(super) struct Identity {
    pub(super) app_id: Option<AppId>,
    pub(super) compose_hash: Option<ComposeHash>,
    pub(super) instance_id: Option<InstanceId>,
    pub(super) key_provider: Option<KeyProviderEvent>,
    pub(super) os_image_hash: Option<[u8; 32]>,
}

impl EventLog {
    /// A log from its entries.
    pub fn new(entries: Vec<EventLogEntry>) -> Self {
        Self { entries }
    }

    /// Parses dstack's JSON event log: an array of
    /// `{imr, event_type, digest, event, event_payload}` with hex bytes, and
    /// `version: 2` plus `preimage` for version-2 runtime events.
    pub fn from_json(text: &str) -> Result<Self, AttestationError> {
        let raw: Vec<RawEntry> = serde_json::from_str(text)
            .map_err(|e| AttestationError::MalformedEventLog(format!("not an event log: {e}")))?;
        raw.into_iter()
            .enumerate()
            .map(|(i, entry)| entry_from_raw(i, entry))
            .collect::<Result<_, _>>()
            .map(Self::new)
    }

    /// The log of a CVM attestation answer (`tcb_info.event_log`). The API
    /// schema has no `version` field, so its runtime events are read as
    /// version 1.
    pub fn from_api(entries: &[types::EventLog]) -> Result<Self, AttestationError> {
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let number = |what: &str, n: i64| {
                    u32::try_from(n).map_err(|_| {
                        AttestationError::MalformedEventLog(format!("entry {i}: {what} {n}"))
                    })
                };
                entry_from_raw(
                    i,
                    RawEntry {
                        imr: number("imr", e.imr)?,
                        event_type: number("event type", e.event_type)?,
                        digest: e.digest.clone(),
                        event: e.event.clone(),
                        event_payload: e.event_payload.clone(),
                        version: None,
                        preimage: None,
                    },
                )
            })
            .collect::<Result<_, _>>()
            .map(Self::new)
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[EventLogEntry] {
        &self.entries
    }

    /// RTMR0–3 as the log replays them.
    pub fn replay(&self) -> Result<[[u8; 48]; 4], AttestationError> {
        let mut registers = [[0u8; 48]; 4];
        for (i, entry) in self.entries.iter().enumerate() {
            let malformed =
                |what: String| AttestationError::MalformedEventLog(format!("entry {i}: {what}"));
            let digest: [u8; 48] = if entry.event_type == RUNTIME_EVENT_TYPE {
                if entry.imr != 3 {
                    return Err(malformed(format!("a runtime event for RTMR{}", entry.imr)));
                }
                runtime_digest(entry)
            } else if entry.imr < 3 {
                entry.digest.as_slice().try_into().map_err(|_| {
                    malformed(format!("a {}-byte digest, not 48", entry.digest.len()))
                })?
            } else {
                return Err(malformed(format!(
                    "event type {:#x} for RTMR{}, which only dstack runtime events extend",
                    entry.event_type, entry.imr
                )));
            };
            let register = &mut registers[entry.imr as usize];
            *register = Sha384::new()
                .chain_update(*register)
                .chain_update(digest)
                .finalize()
                .into();
        }
        Ok(registers)
    }

    /// The runtime events, in order.
    pub fn runtime_events(&self) -> Vec<RuntimeEvent> {
        self.runtime()
            .map(|e| RuntimeEvent {
                name: e.event.clone(),
                payload: e.event_payload.clone(),
            })
            .collect()
    }

    fn runtime(&self) -> impl Iterator<Item = &EventLogEntry> {
        self.entries
            .iter()
            .filter(|e| e.event_type == RUNTIME_EVENT_TYPE)
    }

    /// The identity events: the first of each name before `system-ready`
    /// (what follows is the app's to write).
    pub(super) fn identity(&self) -> Result<Identity, AttestationError> {
        let system = || self.runtime().take_while(|e| e.event != SYSTEM_READY);
        let first = |name: &str| system().find(|e| e.event == name).map(|e| &e.event_payload);
        let sized = |name: &str, payload: &Vec<u8>, len: usize| {
            if payload.len() == len {
                Ok(())
            } else {
                Err(AttestationError::MalformedEventLog(format!(
                    "`{name}` has {} bytes, not {len}",
                    payload.len()
                )))
            }
        };
        let mut identity = Identity::default();
        if let Some(payload) = first("app-id") {
            sized("app-id", payload, 20)?;
            identity.app_id = Some(AppId::from(array(payload)));
        }
        if let Some(payload) = first("compose-hash") {
            sized("compose-hash", payload, 32)?;
            identity.compose_hash = Some(ComposeHash::from(array(payload)));
        }
        if let Some(payload) = first("instance-id").filter(|p| !p.is_empty()) {
            sized("instance-id", payload, 20)?;
            identity.instance_id = Some(InstanceId::from(array(payload)));
        }
        if let Some(payload) = first("os-image-hash") {
            sized("os-image-hash", payload, 32)?;
            identity.os_image_hash = Some(array(payload));
        }
        if let Some(payload) = first("key-provider") {
            identity.key_provider = Some(serde_json::from_slice(payload).map_err(|e| {
                AttestationError::MalformedEventLog(format!(
                    "`key-provider` is not {{name, id}}: {e}"
                ))
            })?);
        }
        Ok(identity)
    }
}

fn array<const N: usize>(payload: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(payload);
    out
}

fn entry_from_raw(index: usize, raw: RawEntry) -> Result<EventLogEntry, AttestationError> {
    let bytes = |what: &str, text: &str| {
        hex::decode(crate::ids::strip_0x(text)).map_err(|e| {
            AttestationError::MalformedEventLog(format!("entry {index}: {what} is not hex: {e}"))
        })
    };
    let version = raw.version.unwrap_or(1);
    let entry = EventLogEntry {
        imr: raw.imr,
        event_type: raw.event_type,
        digest: bytes("digest", &raw.digest)?,
        event: raw.event,
        event_payload: bytes("event_payload", &raw.event_payload)?,
        version,
    };
    match (version, &raw.preimage) {
        (1, _) => {}
        (2, preimage) => {
            // dstack requires the stated preimage to be the canonical text.
            let canonical = canonical_v2(&entry);
            let stated = preimage
                .as_deref()
                .map(|p| bytes("preimage", p))
                .transpose()?;
            if stated.is_some_and(|p| p != canonical.as_bytes()) {
                return Err(AttestationError::MalformedEventLog(format!(
                    "entry {index}: the preimage is not {canonical}"
                )));
            }
        }
        (other, _) => {
            return Err(AttestationError::MalformedEventLog(format!(
                "entry {index}: unknown event version {other}"
            )))
        }
    }
    Ok(entry)
}

/// The digest of a runtime event, recomputed from its name and payload.
fn runtime_digest(entry: &EventLogEntry) -> [u8; 48] {
    if entry.version == 2 {
        return Sha384::digest(canonical_v2(entry).as_bytes()).into();
    }
    Sha384::new()
        .chain_update(RUNTIME_EVENT_TYPE.to_le_bytes())
        .chain_update(b":")
        .chain_update(entry.event.as_bytes())
        .chain_update(b":")
        .chain_update(&entry.event_payload)
        .finalize()
        .into()
}

/// `{"name":…,"payload":"<hex>","type":134217729}` in RFC 8785 form.
fn canonical_v2(entry: &EventLogEntry) -> String {
    #[derive(Serialize)]
    struct Preimage<'a> {
        name: &'a str,
        payload: String,
        #[serde(rename = "type")]
        event_type: u32,
    }
    // A string, a hex string and a number: JCS cannot fail on them.
    serde_jcs::to_string(&Preimage {
        name: &entry.event,
        payload: hex::encode(&entry.event_payload),
        event_type: RUNTIME_EVENT_TYPE,
    })
    .expect("the v2 preimage serializes")
}

fn hex_bytes<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(deserializer)?;
    hex::decode(crate::ids::strip_0x(&text)).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(event: &str, payload: &str, version: u8) -> EventLogEntry {
        EventLogEntry {
            imr: 3,
            event_type: RUNTIME_EVENT_TYPE,
            digest: Vec::new(),
            event: event.into(),
            event_payload: hex::decode(payload).unwrap(),
            version,
        }
    }

    /// `tests/fixtures/attestation/runtime_event_digest.json`, computed by
    /// the collector for the inputs of dstack's own unit tests.
    #[test]
    fn digests_and_a_mixed_replay_match_the_vectors() {
        let vectors: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/attestation/runtime_event_digest.json"
        ))
        .unwrap();
        for v in vectors["vectors"].as_array().unwrap() {
            let entry = runtime(
                v["event"].as_str().unwrap(),
                v["payload_hex"].as_str().unwrap(),
                v["version"].as_u64().unwrap() as u8,
            );
            assert_eq!(
                hex::encode(runtime_digest(&entry)),
                v["sha384_digest"],
                "{v}"
            );
            if let Some(json) = v["canonical_json"].as_str() {
                assert_eq!(canonical_v2(&entry), json);
            }
        }
        let replay = &vectors["mixed_v1_v2_replay"];
        let log = EventLog::new(
            replay["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    runtime(
                        s["event"].as_str().unwrap(),
                        s["payload_hex"].as_str().unwrap(),
                        s["version"].as_u64().unwrap() as u8,
                    )
                })
                .collect(),
        );
        let registers = log.replay().unwrap();
        assert_eq!(hex::encode(registers[3]), replay["final_rtmr3"]);
        assert_eq!(registers[0], [0; 48]);
    }

    #[test]
    fn a_v2_entry_must_state_the_canonical_preimage() {
        let text = |preimage: &str| {
            format!(
                r#"[{{"imr":3,"event_type":134217729,"digest":"","event":"compose-hash","event_payload":"abcd","version":2,"preimage":"{preimage}"}}]"#
            )
        };
        let canonical = hex::encode(r#"{"name":"compose-hash","payload":"abcd","type":134217729}"#);
        assert!(EventLog::from_json(&text(&canonical)).is_ok());
        let other = hex::encode(r#"{"name":"compose-hash","payload":"ABCD","type":134217729}"#);
        assert!(matches!(
            EventLog::from_json(&text(&other)),
            Err(AttestationError::MalformedEventLog(_))
        ));
    }

    #[test]
    fn misplaced_events_are_refused() {
        let mut boot = runtime("x", "", 1);
        boot.event_type = 1;
        boot.digest = vec![0; 47];
        boot.imr = 0;
        assert!(EventLog::new(vec![boot.clone()]).replay().is_err());
        boot.digest = vec![0; 48];
        assert!(EventLog::new(vec![boot.clone()]).replay().is_ok());
        boot.imr = 3;
        assert!(EventLog::new(vec![boot]).replay().is_err());
        let mut misfiled = runtime("app-id", "00", 1);
        misfiled.imr = 2;
        assert!(EventLog::new(vec![misfiled]).replay().is_err());
    }

    #[test]
    fn identity_comes_from_before_system_ready() {
        let log = EventLog::new(vec![
            runtime("app-id", &"11".repeat(20), 1),
            runtime("system-ready", "", 1),
            runtime("compose-hash", &"22".repeat(32), 1),
        ]);
        let identity = log.identity().unwrap();
        assert_eq!(identity.app_id, Some(AppId::from([0x11; 20])));
        assert_eq!(identity.compose_hash, None);
        assert_eq!(log.runtime_events().len(), 3);
        let short = EventLog::new(vec![runtime("compose-hash", "22", 1)]);
        assert!(short.identity().is_err());
    }
}
