//! Fetching a CVM's evidence through the API: its quote and event log
//! (`GET /api/v1/cvms/{cvm_id}/attestation`) and the quote's collateral
//! (`GET /api/v1/attestations/collateral/{sha256}`, after uploading the
//! quote if the API has not stored it yet).

use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{AttestationError, AttestationReport, Collateral, EventLog, LocalVerifier};
use crate::ids::CvmRef;
use crate::{Client, Error};

impl LocalVerifier {
    /// Fetches a CVM's quote, event log and collateral through the API and
    /// verifies them here ([`LocalVerifier::verify`]). `cvm` is any CVM
    /// reference: a `cvm_` id, a UUID, or `app_<app id>`.
    pub async fn verify_cvm<C>(
        &self,
        client: &Client,
        cvm: C,
    ) -> Result<AttestationReport, AttestationError>
    where
        C: TryInto<CvmRef>,
        C::Error: std::fmt::Display,
    {
        let cvm: CvmRef = crate::ids::param("cvm_id", cvm).map_err(Error::InvalidRequest)?;
        let attestation = client
            .get_cvm_attestation()
            .cvm_id(cvm)
            .send()
            .await?
            .into_inner();
        let tcb_info = attestation.tcb_info.as_ref().ok_or_else(|| {
            AttestationError::NoQuote(
                attestation
                    .error
                    .clone()
                    .unwrap_or_else(|| "the answer has no tcb_info".into()),
            )
        })?;
        let event_log = EventLog::from_api(&tcb_info.event_log)?;
        let quote_hex = attestation
            .app_certificates
            .iter()
            .flatten()
            .find_map(|c| c.quote.as_deref().filter(|q| !q.trim().is_empty()))
            .ok_or_else(|| AttestationError::NoQuote("no certificate carries a quote".into()))?;
        let quote = hex::decode(crate::ids::strip_0x(quote_hex.trim()))
            .map_err(|e| AttestationError::NoQuote(format!("the quote is not hex: {e}")))?;
        let collateral = fetch_collateral(client, &quote).await?;
        self.verify(&quote, &collateral, &event_log)
    }
}

/// The quote's collateral by its checksum; a quote the API has not stored
/// is uploaded first, and its answer's collateral used.
async fn fetch_collateral(client: &Client, quote: &[u8]) -> Result<Collateral, AttestationError> {
    let checksum = hex::encode(Sha256::digest(quote));
    let collateral = match client
        .get_attestation_collateral()
        .checksum(checksum.clone())
        .send()
        .await
    {
        Ok(collateral) => collateral.into_inner(),
        Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => {
            let uploaded = client
                .verify_attestation()
                .quote(quote.to_vec())
                .send()
                .await?
                .into_inner();
            match uploaded.quote_collateral {
                Some(collateral) => return parse_collateral(collateral),
                None => client
                    .get_attestation_collateral()
                    .checksum(checksum)
                    .send()
                    .await?
                    .into_inner(),
            }
        }
        Err(e) => return Err(e.into()),
    };
    // The typed answer keeps every field it was sent (unknown ones in
    // `extra`), so its JSON is the collateral as the API gave it.
    let value = serde_json::to_value(&collateral)
        .map_err(|e| AttestationError::MalformedCollateral(e.to_string()))?;
    parse_collateral(value)
}

fn parse_collateral(value: Value) -> Result<Collateral, AttestationError> {
    serde_json::from_value(value).map_err(|e| AttestationError::MalformedCollateral(e.to_string()))
}
