//! Attestation quotes: verifying one (a `multipart/form-data` upload), and
//! the raw quote file (bytes, and whether it exists).

use bytes::Bytes;
use progenitor_client::ResponseValue;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::QuoteChecksum;
use crate::multipart::{Form, Part};
use crate::send::build;
use crate::{Client, Error};

impl Client {
    /// Verifies a TDX quote and stores it (`POST /api/v1/attestations/verify`,
    /// a `multipart/form-data` upload): give the quote's bytes
    /// ([`VerifyAttestation::quote`]) or its hex text
    /// ([`VerifyAttestation::quote_hex`], with or without `0x`).
    ///
    /// No official SDK wraps this endpoint.
    ///
    /// ```no_run
    /// # async fn run(client: phala_cloud::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let quote = std::fs::read("quote.bin")?;
    /// let verification = client.verify_attestation().quote(quote).send().await?;
    /// println!("verified: {}", verification.success);
    /// if let Some(checksum) = &verification.checksum {
    ///     println!("stored as {checksum}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn verify_attestation(&self) -> VerifyAttestation {
        VerifyAttestation {
            client: self.clone(),
            quote: None,
        }
    }

    /// Downloads a stored quote's raw bytes
    /// (`GET /api/v1/attestations/raw/{checksum}`, `application/octet-stream`).
    /// The headers of the answer (`content-disposition`, …) come with it.
    ///
    /// ```no_run
    /// # async fn run(client: phala_cloud::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let checksum = "9aa049fb9049d4f582ca316206f7cf34ee185c2b5b63370a518921432385b81a";
    /// let quote = client.download_raw_attestation(checksum).await?;
    /// std::fs::write("quote.bin", quote.into_inner())?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn download_raw_attestation<V>(
        &self,
        checksum: V,
    ) -> Result<ResponseValue<Bytes>, Error>
    where
        V: TryInto<QuoteChecksum>,
        V::Error: std::fmt::Display,
    {
        let request = self.raw_attestation_request(Method::GET, checksum)?;
        let limit = self.inner.quote_limit();
        let response = self
            .send_checked(request, "download_raw_attestation", limit)
            .await?;
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.bytes().await.map_err(Error::from_reqwest)?;
        Ok(ResponseValue::new(body, status, headers))
    }

    /// Whether a raw quote is stored
    /// (`HEAD /api/v1/attestations/raw/{checksum}`): `false` on a 404, an
    /// [`Error`] on any other failure.
    ///
    /// ```no_run
    /// # async fn run(client: phala_cloud::Client) -> Result<(), phala_cloud::Error> {
    /// let checksum = "9aa049fb9049d4f582ca316206f7cf34ee185c2b5b63370a518921432385b81a";
    /// if !client.raw_attestation_exists(checksum).await? {
    ///     println!("upload it first");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn raw_attestation_exists<V>(&self, checksum: V) -> Result<bool, Error>
    where
        V: TryInto<QuoteChecksum>,
        V::Error: std::fmt::Display,
    {
        let request = self.raw_attestation_request(Method::HEAD, checksum)?;
        let limit = self.inner.response_limit();
        match self
            .send_checked(request, "raw_attestation_exists", limit)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn raw_attestation_request<V>(
        &self,
        method: Method,
        checksum: V,
    ) -> Result<reqwest::Request, Error>
    where
        V: TryInto<QuoteChecksum>,
        V::Error: std::fmt::Display,
    {
        let checksum: QuoteChecksum =
            crate::ids::param("checksum", checksum).map_err(Error::InvalidRequest)?;
        let path = format!(
            "/api/v1/attestations/raw/{}",
            progenitor_client::encode_path(checksum.as_str())
        );
        build(
            self.http_request(method, &path)
                .header(ACCEPT, "application/octet-stream"),
        )
    }
}

/// The quote to verify.
#[derive(Debug, Clone)]
enum Quote {
    Bytes(Bytes),
    Hex(String),
}

/// A quote verification request; see [`Client::verify_attestation`].
#[derive(Debug, Clone)]
#[must_use]
pub struct VerifyAttestation {
    client: Client,
    quote: Option<Result<Quote, String>>,
}

crate::options::with_options!(VerifyAttestation);

impl VerifyAttestation {
    /// The quote's bytes, sent as the `file` field (`quote.bin`,
    /// `application/octet-stream`).
    pub fn quote(mut self, quote: impl Into<Bytes>) -> Self {
        self.quote = Some(Ok(Quote::Bytes(quote.into())));
        self
    }

    /// The quote as hex text, with or without `0x`, sent as the `hex` field
    /// (without `0x`). Text that is not hex fails at `send()`, before
    /// anything is sent.
    pub fn quote_hex(mut self, hex: impl AsRef<str>) -> Self {
        self.quote = Some(normalize_hex(hex.as_ref()).map(Quote::Hex));
        self
    }

    /// Sends the quote and decodes the verification.
    pub async fn send(self) -> Result<ResponseValue<AttestationVerification>, Error> {
        let part = match self.quote {
            None => {
                return Err(Error::InvalidRequest(
                    "no quote: set quote or quote_hex".into(),
                ))
            }
            Some(Err(message)) => return Err(Error::InvalidRequest(message)),
            Some(Ok(Quote::Bytes(bytes))) if bytes.is_empty() => {
                return Err(Error::InvalidRequest("the quote is empty".into()))
            }
            Some(Ok(Quote::Bytes(bytes))) => Part {
                name: "file",
                file: Some(("quote.bin", "application/octet-stream")),
                body: bytes,
            },
            Some(Ok(Quote::Hex(hex))) => Part {
                name: "hex",
                file: None,
                body: Bytes::from(hex),
            },
        };
        let form = Form::new(&[part]);
        let request = build(
            self.client
                .http_request(Method::POST, "/api/v1/attestations/verify")
                .header(ACCEPT, "application/json")
                .header(CONTENT_TYPE, form.content_type)
                .body(form.body),
        )?;
        self.client.send_json(request, "verify_attestation").await
    }
}

/// `hex` without surrounding whitespace and `0x`, or why it is not a quote
/// in hex.
fn normalize_hex(hex: &str) -> Result<String, String> {
    let trimmed = hex.trim();
    let digits = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    if digits.is_empty() {
        return Err("the quote's hex is empty".into());
    }
    if let Some((at, c)) = digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "the quote's hex has {c:?} at offset {at}, which is not a hex digit"
        ));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "the quote's hex has an odd number of digits ({})",
            digits.len()
        ));
    }
    Ok(digits.to_string())
}

/// The answer of [`Client::verify_attestation`] (the spec's
/// `VerificationResponse`).
///
/// Only `success` is required: the API's documentation shows answers without
/// `id` and `proof_of_cloud`, which the spec marks required. The parsed quote,
/// its collateral and the node provider are kept as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AttestationVerification {
    /// Whether the quote verified.
    pub success: bool,
    /// The quote's checksum identifier.
    #[serde(default)]
    pub id: Option<String>,
    /// Whether the quote comes from a Phala Cloud TEE.
    #[serde(default)]
    pub proof_of_cloud: Option<bool>,
    /// The parsed quote (`header`, `body`, `cert_data`, `verified`).
    #[serde(default)]
    pub quote: Option<Value>,
    /// SHA-256 of the quote bytes, the key of the other attestation
    /// operations.
    #[serde(default)]
    pub checksum: Option<String>,
    /// Whether the raw quote can be downloaded
    /// ([`Client::download_raw_attestation`]).
    #[serde(default)]
    pub can_download: Option<bool>,
    /// When the quote was uploaded (ISO 8601).
    #[serde(default)]
    pub uploaded_at: Option<String>,
    /// When the verification was computed (ISO 8601).
    #[serde(default)]
    pub verified_at: Option<String>,
    /// The TCB collateral.
    #[serde(default)]
    pub quote_collateral: Option<Value>,
    /// The node provider.
    #[serde(default)]
    pub node_provider: Option<Value>,
    /// Fields this version of the client does not know.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_trimmed_unprefixed_and_checked() {
        assert_eq!(normalize_hex(" 0xAbCd\n").unwrap(), "AbCd");
        assert_eq!(normalize_hex("0Xabcd").unwrap(), "abcd");
        assert_eq!(normalize_hex("abcd").unwrap(), "abcd");
        assert_eq!(normalize_hex("0x").unwrap_err(), "the quote's hex is empty");
        assert_eq!(
            normalize_hex("0xabzz").unwrap_err(),
            "the quote's hex has 'z' at offset 2, which is not a hex digit"
        );
        assert_eq!(
            normalize_hex("abc").unwrap_err(),
            "the quote's hex has an odd number of digits (3)"
        );
    }
}
