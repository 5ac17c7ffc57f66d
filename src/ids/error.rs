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

    /// The input, unchanged.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The input, given back.
    pub fn into_input(self) -> String {
        self.input
    }
}

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = match self.input.char_indices().nth(SHOWN_CHARS) {
            Some((end, _)) => format!("{:?}… ({} bytes)", &self.input[..end], self.input.len()),
            None => format!("{:?}", self.input),
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
    fn control_characters_are_escaped_in_the_message() {
        let err = ParseIdError::new("KMS id", "x", "a\nb");
        assert_eq!(err.to_string(), "invalid KMS id \"a\\nb\": expected x");
    }
}
