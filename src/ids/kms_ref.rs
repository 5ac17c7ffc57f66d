//! `KmsRef`: the ways a KMS can be named in a path (`/kms/{kms_id}`).

use super::KmsId;
use super::{eq_by_path, id_common, Parse};

/// How a path names a KMS: its `kms_` hashid or its slug.
///
/// ```
/// use phala_cloud::ids::KmsRef;
///
/// assert!(matches!("kms_0123abcd".parse()?, KmsRef::Id(_)));
/// assert!(matches!("phala-prod3".parse()?, KmsRef::Slug(_)));
/// assert!("../kms".parse::<KmsRef>().is_err());
/// # Ok::<(), phala_cloud::ids::ParseIdError>(())
/// ```
///
/// Two references are equal (and hash alike) when they put the same text in
/// the path, as a value kept as the server sent it does whichever variant
/// holds it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum KmsRef {
    /// The KMS's hashid, `kms_…`.
    Id(KmsId),
    /// The KMS's slug.
    Slug(KmsSlug),
}

impl KmsRef {
    /// The reference as it goes into the path.
    pub fn as_str(&self) -> &str {
        match self {
            KmsRef::Id(id) => id.as_str(),
            KmsRef::Slug(slug) => slug.as_str(),
        }
    }
}

impl Parse for KmsRef {
    const KIND: &'static str = "KMS reference";
    const EXPECTED: &'static str =
        "a `kms_` id or a KMS slug (lower-case letters, digits, `-` and `.`)";

    fn parse(s: &str) -> Option<Self> {
        KmsId::parse(s)
            .map(KmsRef::Id)
            .or_else(|| KmsSlug::parse(s).map(KmsRef::Slug))
    }

    /// A kept value is a slug: sent back as is, like a slug.
    fn keep(s: String) -> Self {
        KmsRef::Slug(KmsSlug::keep(s))
    }
}

id_common!(KmsRef);

impl From<KmsId> for KmsRef {
    fn from(id: KmsId) -> Self {
        KmsRef::Id(id)
    }
}

impl From<&KmsId> for KmsRef {
    fn from(id: &KmsId) -> Self {
        KmsRef::Id(id.clone())
    }
}

impl From<KmsSlug> for KmsRef {
    fn from(slug: KmsSlug) -> Self {
        KmsRef::Slug(slug)
    }
}

impl From<&KmsSlug> for KmsRef {
    fn from(slug: &KmsSlug) -> Self {
        KmsRef::Slug(slug.clone())
    }
}

eq_by_path!(KmsRef);

/// A KMS slug such as `phala-prod3` or `dstack-0.5.9-bd369a8c`: lower-case
/// ASCII letters, digits, `-` and `.`, starting and ending with a letter or
/// digit, without `..`.
///
/// ```
/// assert!("dstack-0.5.9-bd369a8c".parse::<phala_cloud::ids::KmsSlug>().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KmsSlug(String);

impl KmsSlug {
    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Parse for KmsSlug {
    const KIND: &'static str = "KMS slug";
    const EXPECTED: &'static str =
        "lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit, \
         without `..`";

    fn parse(s: &str) -> Option<Self> {
        let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let bytes = s.as_bytes();
        let valid = bytes.first().is_some_and(edge)
            && bytes.last().is_some_and(edge)
            && bytes.iter().all(|b| edge(b) || matches!(b, b'-' | b'.'))
            && !s.contains("..");
        valid.then(|| Self(s.to_owned()))
    }

    fn keep(s: String) -> Self {
        Self(s)
    }
}

id_common!(KmsSlug);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["phala", "a", "phala-prod3", "dstack-0.5.9-bd369a8c", "1"] {
            assert!(KmsSlug::parse(ok).is_some(), "{ok:?}");
        }
        for bad in [
            "", "-a", "a-", ".", "..", "a.", "Phala", "kms_01", "a b", "a/b",
        ] {
            assert!(KmsSlug::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_malformed_kms_id_is_not_a_slug() {
        assert!(KmsRef::parse("kms_").is_none());
        assert!(KmsRef::parse("kms_a-b").is_none());
    }
}
