//! Validated identifiers: the API's prefixed hashids, app ids, UUIDs, compose
//! hashes, quote checksums, and the references path parameters take.
//!
//! Every path parameter of the client takes one of these types, and every
//! response field the spec marks as a `HashedId[...]` decodes into one, so a
//! typo in an ID is an error on your side before any request is sent, and no
//! value can change which URL a request goes to.
//!
//! ```
//! use phala_cloud::ids::{AppId, CvmRef, KmsId};
//!
//! let kms: KmsId = "kms_0123abcd".parse()?;
//! assert_eq!(kms.as_str(), "kms_0123abcd");
//!
//! // A CVM is named in a path by its id, UUID, app id, legacy number or name.
//! let cvm: CvmRef = "550E8400-E29B-41D4-A716-446655440000".parse()?;
//! assert!(matches!(cvm, CvmRef::Uuid(_)));
//! assert_eq!(cvm.to_string(), "550e8400e29b41d4a716446655440000");
//!
//! let app: AppId = "0x2A7B4D0D0C0883D0D3119C36EB25A1F72122A7C4".parse()?;
//! assert_eq!(app.as_str(), "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4");
//!
//! let err = "not a valid/id".parse::<CvmRef>().unwrap_err();
//! assert_eq!(err.input(), "not a valid/id");
//! # Ok::<(), phala_cloud::ids::ParseIdError>(())
//! ```
//!
//! Each type parses strictly ([`FromStr`](std::str::FromStr), `TryFrom<&str>`,
//! `TryFrom<String>`), normalizes what has several spellings (hex is
//! lower-cased, `0x` and UUID dashes dropped), and shows and serializes as
//! that normal form. A refusal is one [`ParseIdError`] naming the kind, the
//! form expected and the input. No ID is longer than [`MAX_ID_LEN`] bytes:
//! a longer input is refused before it is looked at, with a short message,
//! from the caller and from the server alike.
//!
//! Every kind is strict when parsed and lenient when decoded. What a user
//! writes (`FromStr`, `TryFrom`, the client's setters) must have the
//! documented form. What an answer carries (serde `Deserialize`) is read the
//! same way, but a value of another form is kept as the server sent it (and
//! logged at debug level), so one odd `app_id` or `vm_uuid`, or a hashid
//! prefix this crate does not know yet, does not fail a whole answer. Only
//! values that could not stand as one URL path segment (empty, `.`, holding
//! `..`, `/`, `\`, `?`, `#`, `%`, whitespace or control characters, or over
//! [`MAX_ID_LEN`] bytes) are refused, so a kept value is still safe to send
//! back. A kept value shows and serializes exactly as it came; what only the
//! documented form has (the bytes of [`AppId::to_bytes`] and
//! [`ComposeHash::to_bytes`], [`AppId::with_app_prefix`], [`VmUuid::simple`],
//! [`LegacyCvmId::get`]) is an error or `None` for it. A kept [`CvmRef`] is a
//! [`CvmRef::Name`], a kept [`KmsRef`] a [`KmsRef::Slug`].
//!
//! ```
//! use phala_cloud::ids::{AppId, VmUuid};
//!
//! let app: AppId = serde_json::from_str(r#""app-1""#)?;
//! assert_eq!(app.as_str(), "app-1");
//! assert_eq!(serde_json::to_string(&app)?, r#""app-1""#);
//! assert!(app.to_bytes().is_err());
//! assert!("app-1".parse::<AppId>().is_err());
//!
//! let uuid: VmUuid = serde_json::from_str(r#""uuid-1""#)?;
//! assert_eq!(uuid.simple(), None);
//! assert!(serde_json::from_str::<VmUuid>(r#""../admin""#).is_err());
//! # Ok::<(), serde_json::Error>(())
//! ```

mod cvm_ref;
mod error;
pub(crate) mod hashid;
mod hex;
mod kms_ref;
mod segment;
mod text;
mod uuid;

pub use crate::generated::hashids::*;
pub use cvm_ref::{CvmName, CvmRef, LegacyCvmId};
pub use error::ParseIdError;
pub use hex::{AppId, ComposeHash, QuoteChecksum};
pub use kms_ref::{KmsRef, KmsSlug};
pub use segment::PathSegment;
pub use uuid::VmUuid;

pub(crate) use hex::parse_hex_bytes;
pub(crate) use text::strip_0x;

/// The longest ID of any kind, in bytes (256). Hashids, hashes and UUIDs are
/// far shorter, CVM names at most 63.
pub const MAX_ID_LEN: usize = 256;

/// `s` parsed strictly as a `T`; the one reading behind every `FromStr`
/// and `TryFrom`. `input` gives the input back for the error.
pub(crate) fn parse_id<T: Parse, S: AsRef<str> + Into<String>>(
    input: S,
) -> Result<T, ParseIdError> {
    let s = input.as_ref();
    if s.len() > MAX_ID_LEN {
        return Err(ParseIdError::too_long(T::KIND, s));
    }
    T::parse(s).ok_or_else(|| ParseIdError::new(T::KIND, T::EXPECTED, input))
}

/// `s` read as an answer's `T`: the parsed value when `s` has a documented
/// form, else `s` kept as sent (and logged), unless it could not stand as
/// one URL path segment; the one reading behind every `Deserialize`.
pub(crate) fn decode_id<T: Parse>(s: String) -> Result<T, String> {
    if s.len() > MAX_ID_LEN {
        return Err(ParseIdError::too_long(T::KIND, &s).to_string());
    }
    if let Some(id) = T::parse(&s) {
        return Ok(id);
    }
    if !text::is_safe_segment(&s) {
        return Err(format!(
            "invalid {} {s:?}: an id must be one URL path segment",
            T::KIND
        ));
    }
    tracing::debug!(kind = T::KIND, value = %s, "id of an unexpected form kept as sent");
    Ok(T::keep(s))
}

/// The error for `value`, a kept `T`, where only a parsed one will do.
pub(crate) fn not_parsed<T: Parse>(value: &str) -> ParseIdError {
    ParseIdError::new(T::KIND, T::EXPECTED, value)
}

/// Reads a hand-written operation's parameter as the generated setters do:
/// a refusal names the parameter and says what is wrong, and is reported as
/// [`crate::Error::InvalidRequest`] before anything is sent.
pub(crate) fn param<T, V>(name: &str, value: V) -> Result<T, String>
where
    V: TryInto<T>,
    V::Error: std::fmt::Display,
{
    value.try_into().map_err(|e| format!("{name}: {e}"))
}

/// How an ID type is read: strictly behind `FromStr`, leniently behind
/// `Deserialize` (see [`decode_id`]).
pub(crate) trait Parse: Sized {
    /// What the value is, for messages: "KMS id", "CVM reference".
    const KIND: &'static str;
    /// The accepted forms, for messages.
    const EXPECTED: &'static str;
    /// The value, normalized, or `None` when `s` is not one.
    fn parse(s: &str) -> Option<Self>;
    /// `s`, which [`Parse::parse`] refused but is safe as a path segment,
    /// kept as the server sent it.
    fn keep(s: String) -> Self;
}

/// Whether `id` is the ID `text` names: `text` read as a `T` (so
/// `"0xAB…"` equals the app id `ab…`, a dashed UUID the plain one), or, when
/// it is not one, compared as text with a value kept as the server sent it.
/// `id_text` is `id.as_str()`.
pub(crate) fn eq_text<T: Parse + PartialEq>(id: &T, id_text: &str, text: &str) -> bool {
    match T::parse(text) {
        Some(parsed) => *id == parsed,
        None => id_text == text,
    }
}

/// `FromStr`, `TryFrom<&str | &String | String>` (strict), `From<&Self>`
/// (a clone, so that every setter takes `&id` as well as `id`), `Display`,
/// `AsRef<str>`, comparison with strings (which are parsed, see
/// [`eq_text`]), transparent `Serialize` and lenient `Deserialize` for a
/// type that implements [`Parse`] and has an inherent `as_str`.
macro_rules! id_common {
    ($ty:ty) => {
        impl ::std::str::FromStr for $ty {
            type Err = $crate::ids::ParseIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::ids::parse_id(s)
            }
        }

        impl ::std::convert::TryFrom<&str> for $ty {
            type Error = $crate::ids::ParseIdError;

            fn try_from(s: &str) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl ::std::convert::TryFrom<&String> for $ty {
            type Error = $crate::ids::ParseIdError;

            fn try_from(s: &String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl ::std::convert::TryFrom<String> for $ty {
            type Error = $crate::ids::ParseIdError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                $crate::ids::parse_id(s)
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::convert::From<&$ty> for $ty {
            fn from(id: &$ty) -> Self {
                id.clone()
            }
        }

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                $crate::ids::eq_text(self, self.as_str(), other)
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                $crate::ids::eq_text(self, self.as_str(), other)
            }
        }

        impl PartialEq<String> for $ty {
            fn eq(&self, other: &String) -> bool {
                $crate::ids::eq_text(self, self.as_str(), other)
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                $crate::ids::decode_id(s).map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use id_common;

/// `PartialEq`, `Eq` and `Hash` by the path form (`as_str`) for a reference
/// enum: every spelling of one reference has the same path form, and two
/// references that put the same text in the path name the same thing for
/// the server, whichever variant holds them.
macro_rules! eq_by_path {
    ($ty:ty) => {
        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $ty {}

        impl ::std::hash::Hash for $ty {
            fn hash<H: ::std::hash::Hasher>(&self, state: &mut H) {
                self.as_str().hash(state);
            }
        }
    };
}

pub(crate) use eq_by_path;
