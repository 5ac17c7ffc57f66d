//! The contract every ID type keeps on any input, shared by the property
//! tests (`tests/ids.rs`) and the fuzz target (`fuzz/`).

use std::fmt::{Debug, Display};
use std::str::FromStr;

use phala_cloud::ids::ParseIdError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Calls `$callback! { module_name: Type = "a valid example"; … }` with
/// every ID type.
macro_rules! for_each_id_type {
    ($callback:ident) => {
        $callback! {
            credit_id: CreditId = "crd_0123abcd";
            credit_transaction_id: CreditTransactionId = "crt_0123abcd";
            cvm_id: CvmId = "cvm_ykL5lbAn";
            gpu_rental_order_id: GpuRentalOrderId = "gord_0123abcd";
            invoice_id: InvoiceId = "in_0123abcd";
            invoice_item_id: InvoiceItemId = "ini_0123abcd";
            kms_id: KmsId = "kms_0123abcd";
            order_id: OrderId = "ord_0123abcd";
            port_mapping_id: PortMappingId = "pm_0123abcd";
            project_id: ProjectId = "prj_A6eez86X";
            user_id: UserId = "usr_8fk2L0aa";
            workspace_id: WorkspaceId = "wks_3kd9a0Qz";
            app_id: AppId = "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4";
            compose_hash: ComposeHash =
                "0xff22c67f1c8d5e4a9b3d2c1e0f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a";
            quote_checksum: QuoteChecksum =
                "9aa049fb9049d4f582ca316206f7cf34ee185c2b5b63370a518921432385b81a";
            vm_uuid: VmUuid = "c48d9363-21b2-4f4a-87d9-3496623f020d";
            cvm_ref: CvmRef = "my-cvm-01";
            cvm_name: CvmName = "my-cvm-01";
            legacy_cvm_id: LegacyCvmId = "123";
            kms_ref: KmsRef = "phala-prod3";
            kms_slug: KmsSlug = "dstack-0.5.9-bd369a8c";
            path_segment: PathSegment = "evt_a1b2c3d4e5f67890";
        }
    };
}
pub(crate) use for_each_id_type;

/// Checks `T` on `s`:
/// - a parsed value shows as it serializes, stays one URL path segment and
///   parses back to itself, from `&str` and `String` alike;
/// - a refusal keeps the input (its start, for one over `MAX_ID_LEN` bytes)
///   and names the kind and the expected form;
/// - a decoded value (lenient, for every kind) is the parsed one or `s` kept as
///   is, and stays one URL path segment.
pub fn check_contract<T>(s: &str) -> Result<(), String>
where
    T: FromStr<Err = ParseIdError> + Display + AsRef<str> + Serialize + DeserializeOwned,
    T: PartialEq + Debug + TryFrom<String, Error = ParseIdError>,
{
    let parsed = s.parse::<T>();
    match &parsed {
        Ok(id) => {
            let shown = id.to_string();
            ensure(shown == id.as_ref(), || {
                format!("{id:?}: Display is not as_str")
            })?;
            one_segment(&shown)?;
            let reparsed = shown.parse::<T>();
            ensure(reparsed.as_ref() == Ok(id), || {
                format!("{s:?} → {shown:?} → {reparsed:?}")
            })?;
            let owned = T::try_from(s.to_string());
            ensure(owned.as_ref() == Ok(id), || {
                format!("TryFrom<String>: {owned:?}")
            })?;
            let json = serde_json::to_value(id).map_err(|e| e.to_string())?;
            ensure(json == Value::String(shown), || {
                format!("serialized as {json}")
            })?;
        }
        Err(err) => {
            let message = err.to_string();
            let kept = if err.is_too_long() {
                s.len() > phala_cloud::ids::MAX_ID_LEN && s.starts_with(err.input())
            } else {
                err.input() == s
            };
            ensure(kept, || format!("{s:?}: input became {:?}", err.input()))?;
            ensure(
                message.starts_with(&format!("invalid {} ", err.kind()))
                    && message.ends_with(&format!(": expected {}", err.expected())),
                || format!("message {message:?}"),
            )?;
        }
    }
    if let Ok(decoded) = serde_json::from_value::<T>(Value::String(s.to_string())) {
        let as_parsed = parsed.as_ref() == Ok(&decoded);
        ensure(as_parsed || decoded.as_ref() == s, || {
            format!("{s:?} decoded as {decoded:?}")
        })?;
        one_segment(decoded.as_ref())?;
    } else {
        ensure(parsed.is_err(), || {
            format!("{s:?} parses but does not decode")
        })?;
    }
    Ok(())
}

/// Whether `value`, put in a path the way the generated client does it,
/// lands as exactly one segment, unchanged.
pub fn one_segment(value: &str) -> Result<(), String> {
    let encoded = progenitor_client::encode_path(value);
    let url = reqwest::Url::parse(&format!("http://h/a/{encoded}/b")).map_err(|e| e.to_string())?;
    let segments: Vec<_> = url.path_segments().into_iter().flatten().collect();
    match segments.as_slice() {
        ["a", seg, "b"] if *seg == encoded => Ok(()),
        _ => Err(format!("{value:?} became the path {}", url.path())),
    }
}

fn ensure(ok: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(message())
    }
}
