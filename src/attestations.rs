//! Attestation quotes: what the hand-written layer adds to the generated
//! operations — a quote to verify given as bytes or as hex, and the raw
//! quote file by its checksum (bytes, and whether it exists).

use bytes::Bytes;
use progenitor_client::ResponseValue;

use crate::ids::QuoteChecksum;
use crate::{builder, Client, Error};

/// The answer of [`Client::verify_attestation`].
pub type AttestationVerification = crate::types::VerificationResponse;

impl Client {
    /// Downloads a stored quote's raw bytes
    /// (`GET /api/v1/attestations/raw/{checksum}`, `application/octet-stream`,
    /// the generated [`Client::get_raw_attestation`]), at most
    /// [`max_quote_size`](crate::ClientBuilder::max_quote_size) bytes. The
    /// headers of the answer (`content-disposition`, …) come with it.
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
        self.get_raw_attestation().checksum(checksum).send().await
    }

    /// Whether a raw quote is stored
    /// (`HEAD /api/v1/attestations/raw/{checksum}`, the generated
    /// [`Client::check_raw_attestation`]): `false` on a 404, an [`Error`] on
    /// any other failure.
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
        self.check_raw_attestation()
            .checksum(checksum)
            .exists()
            .await
    }
}

/// A quote in hex, with or without `0x`, as [`builder::VerifyAttestation::hex`]
/// takes it: checked, and sent without `0x`.
#[derive(Debug, Clone)]
struct QuoteHex<'a>(&'a str);

impl TryFrom<QuoteHex<'_>> for String {
    type Error = String;

    fn try_from(hex: QuoteHex<'_>) -> Result<Self, Self::Error> {
        normalize_hex(hex.0)
    }
}

impl builder::VerifyAttestation {
    /// The quote's bytes, sent as the `file` field (`quote.bin`,
    /// `application/octet-stream`). An empty quote fails at `send()`,
    /// before anything is sent (as any empty file does).
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
    pub fn quote(self, quote: impl Into<Bytes>) -> Self {
        self.file(quote, "quote.bin", "application/octet-stream")
    }

    /// The quote as hex text, with or without `0x`, sent as the `hex` field
    /// (without `0x`). Text that is not hex fails at `send()`, before
    /// anything is sent.
    pub fn quote_hex(self, hex: impl AsRef<str>) -> Self {
        self.hex(QuoteHex(hex.as_ref()))
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
