//! The API's way of writing a 32-byte value: 64 hex digits, with or without
//! `0x`, decoded to bytes (env-encryption public keys).

use std::fmt;

/// Why a string is not 32 bytes of hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hex32Error {
    /// Not 64 digits (after an optional `0x`); the number found.
    Length(usize),
    /// A character that is not a hex digit.
    NotHex,
}

impl fmt::Display for Hex32Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hex32Error::Length(n) => write!(f, "expected 64 hex digits, found {n} characters"),
            Hex32Error::NotHex => f.write_str("not a hex string"),
        }
    }
}

/// Decodes 64 hex digits (either case), after an optional `0x` / `0X`.
pub(crate) fn parse(s: &str) -> Result<[u8; 32], Hex32Error> {
    let digits = crate::ids::strip_0x(s);
    if digits.len() != 64 {
        return Err(Hex32Error::Length(digits.chars().count()));
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(digits, &mut bytes).map_err(|_| Hex32Error::NotHex)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_case_are_optional() {
        let lower = "ab".repeat(32);
        let expected = [0xab; 32];
        assert_eq!(parse(&lower), Ok(expected));
        assert_eq!(parse(&format!("0x{lower}")), Ok(expected));
        assert_eq!(parse(&format!("0X{}", lower.to_uppercase())), Ok(expected));
    }

    #[test]
    fn wrong_length_or_digits_are_errors() {
        assert_eq!(parse(""), Err(Hex32Error::Length(0)));
        assert_eq!(parse("0x"), Err(Hex32Error::Length(0)));
        assert_eq!(parse(&"a".repeat(63)), Err(Hex32Error::Length(63)));
        assert_eq!(parse(&"g".repeat(64)), Err(Hex32Error::NotHex));
        // 64 bytes of UTF-8 that are not 64 digits.
        assert_eq!(parse(&"é".repeat(32)), Err(Hex32Error::NotHex));
    }
}
