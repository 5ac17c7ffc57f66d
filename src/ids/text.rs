//! The character rules the ID parsers share.

/// Whether `s` can stand as exactly one URL path segment once
/// percent-encoded: not empty, not `.`, free of `..` (a URL resolves `.` and
/// `..` segments), of `/` and `\` (separators), `?` and `#` (which end the
/// path), `%` (which would smuggle an encoded separator), whitespace and
/// control characters.
pub(crate) fn is_safe_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && !s.contains("..")
        && !s.chars().any(|c| {
            matches!(c, '/' | '\\' | '?' | '#' | '%') || c.is_whitespace() || c.is_control()
        })
}

/// `s` without a leading `0x` or `0X`.
pub(crate) fn strip_0x(s: &str) -> &str {
    s.strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s)
}

/// `s` lower-cased when it is exactly `len` hexadecimal digits.
pub(crate) fn lower_hex(s: &str, len: usize) -> Option<String> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_segments() {
        for ok in ["a", "kms_1", "a.b", ".a", "é", "a:b"] {
            assert!(is_safe_segment(ok), "{ok:?}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "a?b",
            "a#b",
            "a%2Fb",
            "a b",
            "a\tb",
            "a\u{0}b",
            "a\u{85}b",
            "a\u{2028}b",
        ] {
            assert!(!is_safe_segment(bad), "{bad:?}");
        }
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(strip_0x("0xAb"), "Ab");
        assert_eq!(strip_0x("0XAb"), "Ab");
        assert_eq!(strip_0x("Ab"), "Ab");
        assert_eq!(lower_hex("AbC1", 4).as_deref(), Some("abc1"));
        assert_eq!(lower_hex("AbC1", 3), None);
        assert_eq!(lower_hex("AbCg", 4), None);
    }
}
