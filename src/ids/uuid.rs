//! UUIDs: how the API names a VM, and one of the ways to name a CVM.

use super::{id_common, Parse};

/// The hex digits of a UUID's five groups.
const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];

/// The 32 lower-case hex digits of `s` when it is a UUID: five groups of
/// 8-4-4-4-12 hex digits in any case, each dash between them optional (the
/// official SDKs' reading). Any UUID version is accepted.
pub(crate) fn uuid_digits(s: &str) -> Option<String> {
    let mut rest = s.as_bytes();
    let mut digits = String::with_capacity(32);
    for (i, len) in GROUPS.into_iter().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix(b"-").unwrap_or(rest);
        }
        let (group, tail) = rest.split_at_checked(len)?;
        if !group.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        digits.extend(group.iter().map(|b| char::from(b.to_ascii_lowercase())));
        rest = tail;
    }
    rest.is_empty().then_some(digits)
}

/// A VM's UUID, as the API's `vm_uuid`: kept lower-case with dashes
/// (`8-4-4-4-12`), parsed from either spelling.
///
/// ```
/// use phala_cloud::ids::VmUuid;
///
/// let uuid: VmUuid = "C48D936321B24F4A87D93496623F020D".parse()?;
/// assert_eq!(uuid.as_str(), "c48d9363-21b2-4f4a-87d9-3496623f020d");
/// assert_eq!(uuid.simple(), Some("c48d936321b24f4a87d93496623f020d"));
/// # Ok::<(), phala_cloud::ids::ParseIdError>(())
/// ```
///
/// An answer's `vm_uuid` of another form is kept as sent (see the
/// [module documentation](crate::ids)); it has no digits to give.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VmUuid {
    /// The hyphenated form, or the value kept as the server sent it.
    hyphenated: String,
    /// The same digits without dashes: the form a CVM reference sends;
    /// `None` for a kept value.
    simple: Option<String>,
}

impl VmUuid {
    /// The UUID in its hyphenated form (or the value kept as the server
    /// sent it).
    pub fn as_str(&self) -> &str {
        &self.hyphenated
    }

    /// The 32 hex digits, without dashes; `None` for a value kept as the
    /// server sent it, which is not a UUID.
    pub fn simple(&self) -> Option<&str> {
        self.simple.as_deref()
    }
}

impl Parse for VmUuid {
    const KIND: &'static str = "VM UUID";
    const EXPECTED: &'static str = "a UUID: 32 hex digits, grouped 8-4-4-4-12 by optional dashes";

    fn parse(s: &str) -> Option<Self> {
        let simple = uuid_digits(s)?;
        let mut hyphenated = String::with_capacity(36);
        let mut at = 0;
        for (i, len) in GROUPS.into_iter().enumerate() {
            if i > 0 {
                hyphenated.push('-');
            }
            hyphenated.push_str(&simple[at..at + len]);
            at += len;
        }
        Some(Self {
            hyphenated,
            simple: Some(simple),
        })
    }

    fn keep(s: String) -> Self {
        Self {
            hyphenated: s,
            simple: None,
        }
    }
}

id_common!(VmUuid);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dash_is_optional() {
        let want = Some("550e8400e29b41d4a716446655440000".to_string());
        for s in [
            "550E8400-E29B-41D4-A716-446655440000",
            "550e8400e29b41d4a716446655440000",
            "550e8400e29b-41d4-a716446655440000",
        ] {
            assert_eq!(uuid_digits(s), want, "{s:?}");
        }
    }

    #[test]
    fn misplaced_or_doubled_dashes_and_wrong_lengths_are_refused() {
        for s in [
            "550e8400-e29b-41d4-a716-44665544000",
            "550e8400-e29b-41d4-a716-4466554400000",
            "550e840-0e29b-41d4-a716-446655440000",
            "550e8400--e29b-41d4-a716-446655440000",
            "-550e8400-e29b-41d4-a716-446655440000",
            "550e8400-e29b-41d4-a716-446655440000-",
            "550e8400-e29b-41d4-a716-44665544000g",
            "",
        ] {
            assert_eq!(uuid_digits(s), None, "{s:?}");
        }
    }
}
