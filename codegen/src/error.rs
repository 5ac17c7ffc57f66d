use std::fmt;

/// A spec the normalizer or the generator refuses, with the place it refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// JSON pointer (RFC 6901) into the upstream document; empty for the whole document.
    pub pointer: String,
    /// What is unsupported or inconsistent there.
    pub message: String,
}

impl SpecError {
    /// An error at `pointer` (already escaped, starting with `/` or empty).
    pub fn at(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "openapi.json#{}: {}", self.pointer, self.message)
    }
}

impl std::error::Error for SpecError {}
