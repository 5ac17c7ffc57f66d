//! `PathSegment`: a path parameter whose form the spec does not document.

use super::{id_common, Parse};

/// A value for a path parameter the spec leaves as a plain string (webhook
/// and event ids, revision ids, SSH key ids, chain and family names): only
/// checked to stay one URL path segment.
///
/// It is made of ASCII letters, digits, `-`, `_`, `.` and `~` (the
/// characters a URL never reinterprets), is not `.` and holds no `..`.
///
/// ```
/// use phala_cloud::ids::PathSegment;
///
/// assert!("evt_a1b2c3d4e5f67890".parse::<PathSegment>().is_ok());
/// for bad in ["", "..", "a/b", "a?b", "a#b", "a%2F", "a b"] {
///     assert!(bad.parse::<PathSegment>().is_err());
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PathSegment(String);

impl PathSegment {
    /// The segment.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Parse for PathSegment {
    const KIND: &'static str = "path segment";
    const EXPECTED: &'static str =
        "ASCII letters, digits, `-`, `_`, `.` and `~`, other than `.` and without `..`";

    fn parse(s: &str) -> Option<Self> {
        let valid = !s.is_empty()
            && s != "."
            && !s.contains("..")
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
        valid.then(|| Self(s.to_owned()))
    }

    fn keep(s: String) -> Self {
        Self(s)
    }
}

id_common!(PathSegment);
