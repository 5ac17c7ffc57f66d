//! `CvmRef`: the ways a CVM can be named in a path (`/cvms/{cvm_id}`).

use super::hex::AppId;
use super::uuid::VmUuid;
use super::CvmId;
use super::{eq_by_path, id_common, Parse};

/// How a path names a CVM: what the official SDKs accept for `cvm_id`, each
/// kept in the form they send.
///
/// Parsing tries, in order:
///
/// | input | variant | sent as |
/// |---|---|---|
/// | `cvm_` hashid | [`CvmRef::Id`] | as is |
/// | UUID, dashes optional, any case | [`CvmRef::Uuid`] | 32 lower-case hex digits, no dashes |
/// | 40 hex digits | [`CvmRef::AppId`] | `app_<hex>`, lower-case |
/// | `app_` and 40 hex digits | [`CvmRef::AppId`] | as is, lower-case |
/// | decimal digits | [`CvmRef::Legacy`] | the number, without leading zeros |
/// | a name (see [`CvmName`]) | [`CvmRef::Name`] | as is |
///
/// Anything else is refused. The official SDKs only strip dashes from v4
/// UUIDs and send other inputs unchecked; here any UUID is read as one, and
/// nothing unchecked reaches the URL.
///
/// Two references are equal (and hash alike) when they go into the path the
/// same way, however they were written: a UUID dashed or not, in any case,
/// an app id with `0x`, `app_` or neither. A reference equals the
/// [`CvmId`], [`VmUuid`] or [`AppId`] it names, and a string it is compared
/// with is read as a reference first; a value kept as the server sent it
/// compares by its text.
///
/// ```
/// use phala_cloud::ids::{AppId, CvmRef, VmUuid};
///
/// // One CVM as a deploy's `cvm_id`, an answer's `vm_uuid` and a webhook's `cvm_id`.
/// let from_deploy: CvmRef = "0b6f2c4e5a1d4e8f9c3b7d2a1e6f4b80".parse()?;
/// let from_answer: VmUuid = serde_json::from_str(r#""0b6f2c4e-5a1d-4e8f-9c3b-7d2a1e6f4b80""#)?;
/// let from_webhook: VmUuid = "0B6F2C4E-5A1D-4E8F-9C3B-7D2A1E6F4B80".parse()?;
/// assert_eq!(from_deploy, from_answer);
/// assert_eq!(from_answer, from_webhook);
/// // A string is read as an ID, not compared byte for byte.
/// assert_eq!(from_deploy, "0b6f2c4e-5a1d-4e8f-9c3b-7d2a1e6f4b80");
/// let app: AppId = "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4".parse()?;
/// assert_eq!(app, "0x2A7B4D0D0C0883D0D3119C36EB25A1F72122A7C4");
/// assert_eq!(CvmRef::from(&app), app);
/// assert_ne!(from_deploy, app);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ```
/// use phala_cloud::ids::CvmRef;
///
/// let by_app: CvmRef = "2A7B4D0D0C0883D0D3119C36EB25A1F72122A7C4".parse()?;
/// assert!(matches!(by_app, CvmRef::AppId(_)));
/// assert_eq!(by_app.as_str(), "app_2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4");
///
/// let by_name: CvmRef = "my-cvm-01".parse()?;
/// assert!(matches!(by_name, CvmRef::Name(_)));
/// assert!("my cvm".parse::<CvmRef>().is_err());
/// # Ok::<(), phala_cloud::ids::ParseIdError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CvmRef {
    /// The CVM's hashid, `cvm_…`.
    Id(CvmId),
    /// The CVM's VM UUID; sent as 32 hex digits without dashes.
    Uuid(VmUuid),
    /// The app whose CVM is meant; sent as `app_<hex>`.
    AppId(AppId),
    /// A legacy numeric CVM id.
    Legacy(LegacyCvmId),
    /// The CVM's name.
    Name(CvmName),
}

impl CvmRef {
    /// The reference as it goes into the path.
    pub fn as_str(&self) -> &str {
        match self {
            CvmRef::Id(id) => id.as_str(),
            // A kept UUID or app id is sent as the server sent it, as the
            // official SDKs send what they do not recognize.
            CvmRef::Uuid(uuid) => uuid_path(uuid),
            CvmRef::AppId(app) => app_path(app),
            CvmRef::Legacy(number) => number.as_str(),
            CvmRef::Name(name) => name.as_str(),
        }
    }
}

impl Parse for CvmRef {
    const KIND: &'static str = "CVM reference";
    const EXPECTED: &'static str =
        "a `cvm_` id, a UUID, a 40-hex app id (optionally `app_`-prefixed), \
        a numeric legacy id, or a CVM name (5-63 letters, digits and single hyphens, \
        starting with a letter)";

    fn parse(s: &str) -> Option<Self> {
        if s.starts_with("cvm_") {
            return CvmId::parse(s).map(CvmRef::Id);
        }
        if let Some(uuid) = VmUuid::parse(s) {
            return Some(CvmRef::Uuid(uuid));
        }
        // 40 digits exactly: `AppId` alone would also take a `0x` prefix.
        let hex = s.strip_prefix("app_").unwrap_or(s);
        if hex.len() == 40
            && let Some(app) = AppId::parse(hex)
        {
            return Some(CvmRef::AppId(app));
        }
        LegacyCvmId::parse(s)
            .map(CvmRef::Legacy)
            .or_else(|| CvmName::parse(s).map(CvmRef::Name))
    }

    /// A kept value is a name: sent back as is, like a name.
    fn keep(s: String) -> Self {
        CvmRef::Name(CvmName::keep(s))
    }
}

id_common!(CvmRef);

/// `From<T>` and `From<&T>` (a clone) for each ID kind a variant holds.
macro_rules! from_variants {
    ($($ty:ty => $variant:ident;)*) => {$(
        impl From<$ty> for CvmRef {
            fn from(id: $ty) -> Self {
                CvmRef::$variant(id)
            }
        }

        impl From<&$ty> for CvmRef {
            fn from(id: &$ty) -> Self {
                CvmRef::$variant(id.clone())
            }
        }
    )*};
}

from_variants! {
    CvmId => Id;
    VmUuid => Uuid;
    AppId => AppId;
    LegacyCvmId => Legacy;
    CvmName => Name;
}

eq_by_path!(CvmRef);

/// Equality between a [`CvmRef`] and an ID kind it can hold: the ID as a
/// reference would put it in the path, compared with the reference's.
macro_rules! eq_named {
    ($($ty:ty => $path_form:expr;)*) => {$(
        impl PartialEq<$ty> for CvmRef {
            fn eq(&self, other: &$ty) -> bool {
                let path_form: fn(&$ty) -> &str = $path_form;
                self.as_str() == path_form(other)
            }
        }

        impl PartialEq<CvmRef> for $ty {
            fn eq(&self, other: &CvmRef) -> bool {
                other == self
            }
        }
    )*};
}

eq_named! {
    CvmId => CvmId::as_str;
    VmUuid => uuid_path;
    AppId => app_path;
}

/// How a reference to `uuid` goes into the path.
fn uuid_path(uuid: &VmUuid) -> &str {
    uuid.simple().unwrap_or(uuid.as_str())
}

/// How a reference to `app` goes into the path.
fn app_path(app: &AppId) -> &str {
    app.with_app_prefix().unwrap_or(app.as_str())
}

/// A legacy numeric CVM id (`"123"`), kept without leading zeros.
///
/// ```
/// let id: phala_cloud::ids::LegacyCvmId = "0042".parse()?;
/// assert_eq!((id.get(), id.as_str()), (Some(42), "42"));
/// # Ok::<(), phala_cloud::ids::ParseIdError>(())
/// ```
///
/// A decoded value of another form is kept as sent (see the
/// [module documentation](crate::ids)); it has no number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegacyCvmId {
    /// `None` for a value kept as the server sent it.
    number: Option<u64>,
    text: String,
}

impl LegacyCvmId {
    /// The number; `None` for a value kept as the server sent it, which is
    /// not one.
    pub fn get(&self) -> Option<u64> {
        self.number
    }

    /// The number in decimal (or the value kept as the server sent it).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<u64> for LegacyCvmId {
    fn from(number: u64) -> Self {
        Self {
            number: Some(number),
            text: number.to_string(),
        }
    }
}

impl Parse for LegacyCvmId {
    const KIND: &'static str = "legacy CVM id";
    const EXPECTED: &'static str = "a decimal number below 2^64";

    fn parse(s: &str) -> Option<Self> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse::<u64>().ok().map(Self::from)
    }

    fn keep(s: String) -> Self {
        Self {
            number: None,
            text: s,
        }
    }
}

id_common!(LegacyCvmId);

/// A CVM name, by the official SDKs' hostname rule: 5 to 63 ASCII letters,
/// digits and hyphens, starting with a letter, ending with a letter or
/// digit, with no `--`. Case is kept.
///
/// ```
/// use phala_cloud::ids::CvmName;
///
/// assert!("my-cvm-01".parse::<CvmName>().is_ok());
/// assert!("my--cvm".parse::<CvmName>().is_err());
/// assert!("1-cvm".parse::<CvmName>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CvmName(String);

impl CvmName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Parse for CvmName {
    const KIND: &'static str = "CVM name";
    const EXPECTED: &'static str = "5-63 letters, digits and single hyphens, starting with a \
        letter and ending with a letter or digit";

    fn parse(s: &str) -> Option<Self> {
        let bytes = s.as_bytes();
        let valid = (5..=63).contains(&bytes.len())
            && bytes[0].is_ascii_alphabetic()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && !s.contains("--");
        valid.then(|| Self(s.to_owned()))
    }

    fn keep(s: String) -> Self {
        Self(s)
    }
}

id_common!(CvmName);

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(s: &str) -> Option<&'static str> {
        Some(match CvmRef::parse(s)? {
            CvmRef::Id(_) => "id",
            CvmRef::Uuid(_) => "uuid",
            CvmRef::AppId(_) => "app",
            CvmRef::Legacy(_) => "legacy",
            CvmRef::Name(_) => "name",
        })
    }

    #[test]
    fn the_readings_are_tried_in_order() {
        let hex40 = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
        let uuid32 = "abcdefabcdefabcdefabcdefabcdefab";
        assert_eq!(variant("cvm_ykL5lbAn"), Some("id"));
        // Both are also valid names; the SDKs read them as UUID and app id.
        assert_eq!(variant(uuid32), Some("uuid"));
        assert_eq!(variant(hex40), Some("app"));
        assert_eq!(variant(&format!("app_{hex40}")), Some("app"));
        assert_eq!(variant("123"), Some("legacy"));
        assert_eq!(variant("my-cvm"), Some("name"));
    }

    #[test]
    fn near_misses_are_refused() {
        let hex40 = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
        for s in [
            "cvm_",
            "cvm_a-b",
            &format!("0x{hex40}"),
            &format!("app_0x{hex40}"),
            &format!("app_{}", &hex40[1..]),
            "+123",
            "-123",
            "18446744073709551616",
            "abcd",
            "a-b-",
        ] {
            assert_eq!(variant(s), None, "{s:?}");
        }
    }

    #[test]
    fn legacy_ids_drop_leading_zeros() {
        let id = LegacyCvmId::parse("007").unwrap();
        assert_eq!((id.get(), id.as_str()), (Some(7), "7"));
        assert_eq!(
            LegacyCvmId::parse("18446744073709551615").unwrap().get(),
            Some(u64::MAX)
        );
    }

    #[test]
    fn names_follow_the_hostname_rule() {
        for ok in ["abcde", "a-b-c", "A1234", &format!("a{}", "b".repeat(62))] {
            assert!(CvmName::parse(ok).is_some(), "{ok:?}");
        }
        for bad in [
            "abcd",
            &format!("a{}", "b".repeat(63)),
            "1abcd",
            "abcd-",
            "ab--cd",
            "ab_cd",
            "abcdé",
        ] {
            assert!(CvmName::parse(bad).is_none(), "{bad:?}");
        }
    }
}
