//! The contract every ID type keeps on any input, shared by the property
//! tests (`tests/ids.rs`) and the fuzz target (`fuzz/`).

use std::fmt::{Debug, Display};
use std::str::FromStr;

use phala_cloud::ids::ParseIdError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Calls `$callback! { module_name: Type; … }` with every ID type.
macro_rules! for_each_id_type {
    ($callback:ident) => {
        $callback! {
            credit_id: CreditId;
            credit_transaction_id: CreditTransactionId;
            cvm_id: CvmId;
            gpu_rental_order_id: GpuRentalOrderId;
            invoice_id: InvoiceId;
            invoice_item_id: InvoiceItemId;
            kms_id: KmsId;
            order_id: OrderId;
            port_mapping_id: PortMappingId;
            project_id: ProjectId;
            user_id: UserId;
            workspace_id: WorkspaceId;
            app_id: AppId;
            compose_hash: ComposeHash;
            quote_checksum: QuoteChecksum;
            vm_uuid: VmUuid;
            cvm_ref: CvmRef;
            cvm_name: CvmName;
            legacy_cvm_id: LegacyCvmId;
            kms_ref: KmsRef;
            kms_slug: KmsSlug;
            path_segment: PathSegment;
        }
    };
}
pub(crate) use for_each_id_type;

/// Checks `T` on `s`:
/// - a parsed value shows as it serializes, stays one URL path segment and
///   parses back to itself, from `&str` and `String` alike;
/// - a refusal keeps the input and names the kind and the expected form;
/// - a decoded value (lenient for hashids) is the parsed one or `s` kept as
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
            ensure(err.input() == s, || {
                format!("{s:?}: input became {:?}", err.input())
            })?;
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
