//! The one error every ID parser returns.

use std::fmt;

/// At most this many characters of the input are shown in a message; the
/// whole input stays available through [`ParseIdError::input`].
const SHOWN_CHARS: usize = 80;

/// A string that is not a valid ID of the kind asked for.
///
/// Its message names the kind, the forms accepted and the input:
///
/// ```
/// let err = "kms-0123".parse::<phala_cloud::ids::KmsId>().unwrap_err();
/// assert_eq!(err.kind(), "KMS id");
/// assert_eq!(err.input(), "kms-0123");
/// assert_eq!(
///     err.to_string(),
///     "invalid KMS id \"kms-0123\": expected `kms_` followed by letters and digits"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIdError {
    kind: &'static str,
    expected: &'static str,
    input: String,
    /// The input's length, when it was over [`super::MAX_ID_LEN`] and only
    /// its start is kept.
    too_long: Option<usize>,
}

impl ParseIdError {
    pub(crate) fn new(
        kind: &'static str,
        expected: &'static str,
        input: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            expected,
            input: input.into(),
            too_long: None,
        }
    }

    /// The error for an input over [`super::MAX_ID_LEN`] bytes: it keeps
    /// the input's start only, so that neither it nor its message grows
    /// with the input.
    pub(crate) fn too_long(kind: &'static str, input: &str) -> Self {
        Self {
            kind,
            expected: "at most 256 bytes",
            input: start(input).to_string(),
            too_long: Some(input.len()),
        }
    }

    /// What was being parsed: "KMS id", "CVM reference", "app id", ….
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The forms that kind accepts, in words.
    pub fn expected(&self) -> &'static str {
        self.expected
    }

    /// The input, unchanged; for an input over
    /// [`MAX_ID_LEN`](super::MAX_ID_LEN) bytes, only its first 80
    /// characters.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The input, given back (as [`ParseIdError::input`] has it).
    pub fn into_input(self) -> String {
        self.input
    }

    /// Whether the input was refused for its length alone.
    pub fn is_too_long(&self) -> bool {
        self.too_long.is_some()
    }
}

/// The first [`SHOWN_CHARS`] characters of `s`.
fn start(s: &str) -> &str {
    s.char_indices()
        .nth(SHOWN_CHARS)
        .map_or(s, |(end, _)| &s[..end])
}

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let length = self.too_long.unwrap_or(self.input.len());
        let shown = start(&self.input);
        let shown = if shown.len() < length {
            format!("{shown:?}… ({length} bytes)")
        } else {
            format!("{shown:?}")
        };
        write!(
            f,
            "invalid {} {shown}: expected {}",
            self.kind, self.expected
        )
    }
}

impl std::error::Error for ParseIdError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_input_is_shortened_in_the_message_only() {
        let input = "é".repeat(100);
        let err = ParseIdError::new("app id", "40 hex digits", input.clone());
        let message = err.to_string();
        assert!(
            message.starts_with(&format!(
                "invalid app id \"{}\"… (200 bytes)",
                "é".repeat(80)
            )),
            "{message}"
        );
        assert_eq!(err.into_input(), input);
    }

    #[test]
    fn an_input_over_the_length_limit_is_kept_short() {
        let input = format!("kms_{}", "a".repeat(10 * 1024 * 1024));
        let err = ParseIdError::too_long("KMS id", &input);
        assert!(err.is_too_long());
        assert_eq!(err.input().len(), SHOWN_CHARS);
        let message = err.to_string();
        assert!(message.len() < 200, "{message}");
        assert!(
            message.ends_with(&format!(
                "… (10485764 bytes): expected at most {} bytes",
                super::super::MAX_ID_LEN
            )),
            "{message}"
        );
    }

    #[test]
    fn control_characters_are_escaped_in_the_message() {
        let err = ParseIdError::new("KMS id", "x", "a\nb");
        assert_eq!(err.to_string(), "invalid KMS id \"a\\nb\": expected x");
    }
}
