//! The API's prefixed hashids, one type per kind: the spec's
//! `HashedId[<table>]` schemas (`format: hashid`, `pattern: ^<prefix>_.+`).
//! The kinds are listed once, in codegen's `ID_TYPES`
//! (`codegen/src/normalize/id_formats.rs`): the generator maps each
//! `hashid:<prefix>` format to its type and defines the types with
//! [`hashid_types!`].

/// Whether `s` is `<prefix>_` followed by one or more ASCII letters and
/// digits (the hashid alphabet).
pub(crate) fn is_hashid(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|body| !body.is_empty() && body.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Defines one type per hashid kind, and `HASHID_KINDS`. The generator
/// invokes it with the hashid rows of codegen's `ID_TYPES`; `crate::ids`
/// re-exports what it defines.
macro_rules! hashid_types {
    ($($name:ident, $kind:literal, $prefix:literal, $table:literal;)*) => {
        $(
            #[doc = concat!("A ", $kind, ": `", $prefix, "_` followed by letters and digits, e.g. `",
                $prefix, "_0123abcd` (the spec's `HashedId[", $table, "]`).")]
            ///
            /// Parsing is strict; decoding a server answer is lenient (see the
            /// [module documentation](crate::ids)).
            #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub struct $name(String);

            impl $name {
                /// The prefix before the `_`.
                pub const PREFIX: &'static str = $prefix;
                /// The server table this kind identifies rows of.
                pub const TABLE: &'static str = $table;

                /// The id as text.
                pub fn as_str(&self) -> &str {
                    &self.0
                }
            }

            impl $crate::ids::Parse for $name {
                const KIND: &'static str = $kind;
                const EXPECTED: &'static str =
                    concat!("`", $prefix, "_` followed by letters and digits");

                fn parse(s: &str) -> Option<Self> {
                    $crate::ids::hashid::is_hashid(s, $prefix).then(|| Self(s.to_owned()))
                }

                fn keep(s: String) -> Self {
                    Self(s)
                }
            }

            $crate::ids::id_common!($name);
        )*

        /// Every hashid kind as `(prefix, table)`, in the order the types
        /// are listed: what the spec's `HashedId[<table>]` schemas name.
        pub const HASHID_KINDS: &[(&str, &str)] = &[$(($prefix, $table)),*];
    };
}

pub(crate) use hashid_types;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::decode_id;

    // A kind of the tests' own, so that its constructor is in reach.
    hashid_types! {
        KmsId, "KMS id", "kms", "kms";
    }

    #[test]
    fn a_hashid_is_its_prefix_an_underscore_and_alphanumerics() {
        assert!(is_hashid("kms_0123abcD", "kms"));
        for bad in [
            "kms_", "kms0123", "kmsx_01", "kms_01-2", "kms_01_2", "_kms_01", "kms_é",
        ] {
            assert!(!is_hashid(bad, "kms"), "{bad:?}");
        }
        // `in` must not accept `ini_` ids, nor the other way round.
        assert!(!is_hashid("ini_01", "in"));
        assert!(!is_hashid("in_01", "ini"));
    }

    #[test]
    fn decoding_keeps_unexpected_safe_values_and_refuses_unsafe_ones() {
        assert_eq!(decode_id::<KmsId>("kms_01".into()).unwrap(), "kms_01");
        assert_eq!(decode_id::<KmsId>("kc_abc".into()).unwrap(), "kc_abc");
        let err = decode_id::<KmsId>("../x".into()).unwrap_err();
        assert_eq!(
            err,
            "invalid KMS id \"../x\": an id must be one URL path segment"
        );
        let long = format!("kms_{}", "a".repeat(1 << 20));
        let err = decode_id::<KmsId>(long).unwrap_err();
        assert!(err.len() < 200, "{err}");
        assert_eq!(HASHID_KINDS, [(KmsId::PREFIX, KmsId::TABLE)]);
        assert_eq!("kms_01".parse::<KmsId>().unwrap().as_str(), "kms_01");
    }
}
