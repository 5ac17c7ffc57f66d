//! Identifiers that are fixed-length hexadecimal: app ids, compose hashes,
//! quote checksums; and the API's way of writing any other 32-byte value
//! (64 hex digits, with or without `0x`: env-encryption public keys).

use super::text::{lower_hex, strip_0x};
use super::{id_common, not_parsed, Parse, ParseIdError};

/// A dstack app id: 40 hexadecimal digits (20 bytes), written with or
/// without `0x`, in any case; kept lower-case without `0x`.
///
/// ```
/// use phala_cloud::ids::AppId;
///
/// let app: AppId = "0x2A7B4D0D0C0883D0D3119C36EB25A1F72122A7C4".parse()?;
/// assert_eq!(app.as_str(), "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4");
/// assert_eq!(app.with_app_prefix(), Some("app_2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4"));
/// assert!("2a7b4d0d".parse::<AppId>().is_err());
/// # Ok::<(), phala_cloud::ids::ParseIdError>(())
/// ```
///
/// An answer's app id of another form is kept as sent (see the
/// [module documentation](crate::ids)); it has no bytes and no `app_` form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppId {
    /// `app_<id>`: the form a CVM reference uses; the id is the part after
    /// `app_`, so both forms borrow from one string.
    prefixed: String,
    /// Whether the id is 40 hex digits, not a value kept as the server sent
    /// it.
    parsed: bool,
}

impl AppId {
    const APP_PREFIX: &'static str = "app_";

    /// The 40 lower-case hex digits (or the value kept as the server sent
    /// it).
    pub fn as_str(&self) -> &str {
        &self.prefixed[Self::APP_PREFIX.len()..]
    }

    /// `app_<hex>`, the form that names the app's CVM in a CVM path; `None`
    /// for a value kept as the server sent it, which has no such form.
    pub fn with_app_prefix(&self) -> Option<&str> {
        self.parsed.then_some(self.prefixed.as_str())
    }

    /// The 20 bytes, as `address` on chain and in signed messages; an error
    /// naming the value for one kept as the server sent it, which has none.
    ///
    /// ```
    /// use phala_cloud::ids::AppId;
    ///
    /// let app = AppId::from([0xab; 20]);
    /// assert_eq!(app.as_str(), "ab".repeat(20));
    /// assert_eq!(app.to_bytes()?, [0xab; 20]);
    /// # Ok::<(), phala_cloud::ids::ParseIdError>(())
    /// ```
    pub fn to_bytes(&self) -> Result<[u8; 20], ParseIdError> {
        hex_bytes::<Self, 20>(self.as_str())
    }

    fn new(id: &str, parsed: bool) -> Self {
        Self {
            prefixed: format!("{}{id}", Self::APP_PREFIX),
            parsed,
        }
    }
}

impl From<[u8; 20]> for AppId {
    fn from(bytes: [u8; 20]) -> Self {
        Self::new(&hex::encode(bytes), true)
    }
}

impl Parse for AppId {
    const KIND: &'static str = "app id";
    const EXPECTED: &'static str = "40 hex digits, optionally prefixed with `0x`";

    fn parse(s: &str) -> Option<Self> {
        lower_hex(strip_0x(s), 40).map(|hex| Self::new(&hex, true))
    }

    fn keep(s: String) -> Self {
        Self::new(&s, false)
    }
}

id_common!(AppId);

/// The `N` bytes of `value`, a `T` in its normal form (exactly `2 N`
/// lower-case hex digits); the `T` error for a value kept as the server sent
/// it.
fn hex_bytes<T: Parse, const N: usize>(value: &str) -> Result<[u8; N], ParseIdError> {
    let mut bytes = [0u8; N];
    hex::decode_to_slice(value, &mut bytes).map_err(|_| not_parsed::<T>(value))?;
    Ok(bytes)
}

/// A compose hash: the SHA-256 of an app's compose file, 64 hexadecimal
/// digits written with or without `0x`, in any case; kept lower-case without
/// `0x`.
///
/// ```
/// use phala_cloud::ids::ComposeHash;
///
/// let hash: ComposeHash = format!("0x{}", "AB".repeat(32)).parse()?;
/// assert_eq!(hash.as_str(), "ab".repeat(32));
/// # Ok::<(), phala_cloud::ids::ParseIdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComposeHash(String);

impl ComposeHash {
    /// The 64 lower-case hex digits (or the value kept as the server sent
    /// it).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 32 bytes, as `bytes32` on chain; an error naming the value for
    /// one kept as the server sent it, which has none.
    ///
    /// ```
    /// use phala_cloud::ids::ComposeHash;
    ///
    /// let hash = ComposeHash::from([0xab; 32]);
    /// assert_eq!(hash.as_str(), "ab".repeat(32));
    /// assert_eq!(hash.to_bytes()?, [0xab; 32]);
    /// # Ok::<(), phala_cloud::ids::ParseIdError>(())
    /// ```
    pub fn to_bytes(&self) -> Result<[u8; 32], ParseIdError> {
        hex_bytes::<Self, 32>(&self.0)
    }
}

impl From<[u8; 32]> for ComposeHash {
    fn from(bytes: [u8; 32]) -> Self {
        Self(hex::encode(bytes))
    }
}

impl Parse for ComposeHash {
    const KIND: &'static str = "compose hash";
    const EXPECTED: &'static str = "64 hex digits, optionally prefixed with `0x`";

    fn parse(s: &str) -> Option<Self> {
        lower_hex(strip_0x(s), 64).map(Self)
    }

    fn keep(s: String) -> Self {
        Self(s)
    }
}

id_common!(ComposeHash);

/// The checksum naming a stored attestation quote: its SHA-256, 64
/// hexadecimal digits in any case, kept lower-case.
///
/// ```
/// use phala_cloud::ids::QuoteChecksum;
///
/// let checksum: QuoteChecksum =
///     "9aa049fb9049d4f582ca316206f7cf34ee185c2b5b63370a518921432385b81a".parse()?;
/// assert!(format!("0x{checksum}").parse::<QuoteChecksum>().is_err());
/// # Ok::<(), phala_cloud::ids::ParseIdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QuoteChecksum(String);

impl QuoteChecksum {
    /// The 64 lower-case hex digits (or the value kept as the server sent
    /// it).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Parse for QuoteChecksum {
    const KIND: &'static str = "quote checksum";
    const EXPECTED: &'static str = "64 hex digits (the quote's SHA-256)";

    fn parse(s: &str) -> Option<Self> {
        lower_hex(s, 64).map(Self)
    }

    fn keep(s: String) -> Self {
        Self(s)
    }
}

id_common!(QuoteChecksum);

/// Why a string is not the hex of a fixed number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HexBytesError {
    /// Not as many digits as expected (after an optional `0x`).
    Length {
        /// Two per byte.
        expected: usize,
        /// The characters found.
        found: usize,
    },
    /// A character that is not a hex digit.
    NotHex,
}

impl std::fmt::Display for HexBytesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HexBytesError::Length { expected, found } => {
                write!(
                    f,
                    "expected {expected} hex digits, found {found} characters"
                )
            }
            HexBytesError::NotHex => f.write_str("not a hex string"),
        }
    }
}

/// Decodes `N` bytes written as `2 N` hex digits (either case), after an
/// optional `0x` / `0X`: keys, hashes, `mr_config_id`s.
pub(crate) fn parse_hex_bytes<const N: usize>(s: &str) -> Result<[u8; N], HexBytesError> {
    let digits = strip_0x(s);
    if digits.len() != 2 * N {
        return Err(HexBytesError::Length {
            expected: 2 * N,
            found: digits.chars().count(),
        });
    }
    let mut bytes = [0u8; N];
    hex::decode_to_slice(digits, &mut bytes).map_err(|_| HexBytesError::NotHex)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_case_are_optional() {
        let lower = "ab".repeat(32);
        let expected = [0xab; 32];
        assert_eq!(parse_hex_bytes::<32>(&lower), Ok(expected));
        assert_eq!(parse_hex_bytes::<32>(&format!("0x{lower}")), Ok(expected));
        assert_eq!(
            parse_hex_bytes::<32>(&format!("0X{}", lower.to_uppercase())),
            Ok(expected)
        );
    }

    #[test]
    fn wrong_length_or_digits_are_errors() {
        assert_eq!(
            parse_hex_bytes::<32>(""),
            Err(HexBytesError::Length {
                expected: 64,
                found: 0
            })
        );
        assert_eq!(
            parse_hex_bytes::<32>("0x"),
            Err(HexBytesError::Length {
                expected: 64,
                found: 0
            })
        );
        assert_eq!(
            parse_hex_bytes::<32>(&"a".repeat(63)),
            Err(HexBytesError::Length {
                expected: 64,
                found: 63
            })
        );
        assert_eq!(
            parse_hex_bytes::<32>(&"g".repeat(64)),
            Err(HexBytesError::NotHex)
        );
        // 64 bytes of UTF-8 that are not 64 digits.
        assert_eq!(
            parse_hex_bytes::<32>(&"é".repeat(32)),
            Err(HexBytesError::NotHex)
        );
    }
}
