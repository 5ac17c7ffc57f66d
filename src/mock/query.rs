//! Query parameters matched in their wire form.

use httpmock::When;
use progenitor_client::QueryParam;
use serde::Serialize;

/// Requires the query parameter `name` to carry `value` as the client sends
/// it: the same serializer, so a timestamp is RFC 3339, an enum its serde
/// name, and an array one `name=…` pair per element (each must be present).
///
/// The generated matchers call it with the spec's query parameter types
/// (strings, numbers, booleans, enums, timestamps and arrays of them), which
/// always encode.
pub(super) fn query_param<T: Serialize>(when: When, name: &str, value: &T) -> When {
    wire_pairs(name, value)
        .into_iter()
        .fold(when, |when, (name, value)| when.query_param(name, value))
}

/// The decoded `(name, value)` pairs of `value` in a query string.
fn wire_pairs<T: Serialize>(name: &str, value: &T) -> Vec<(String, String)> {
    let encoded = serde_urlencoded::to_string(QueryParam::new(name, value))
        .unwrap_or_else(|e| panic!("query parameter {name:?} does not encode: {e}"));
    serde_urlencoded::from_str(&encoded)
        .unwrap_or_else(|e| panic!("query parameter {name:?} does not decode: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs<T: Serialize>(name: &str, value: &T) -> Vec<(String, String)> {
        wire_pairs(name, value)
    }

    #[test]
    fn scalars_encode_as_the_client_sends_them() {
        assert_eq!(pairs("page", &2u64), [("page".into(), "2".into())]);
        assert_eq!(pairs("listed", &true), [("listed".into(), "true".into())]);
        assert_eq!(
            pairs("search", &"a b&c"),
            [("search".into(), "a b&c".into())]
        );
    }

    #[test]
    fn arrays_are_one_pair_per_element() {
        let status = vec!["running".to_string(), "stopped".to_string()];
        assert_eq!(
            pairs("status", &&status),
            [
                ("status".into(), "running".into()),
                ("status".into(), "stopped".into())
            ]
        );
    }

    #[test]
    fn timestamps_are_rfc3339() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-21T08:30:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            pairs("end_time", &&t),
            [("end_time".into(), "2026-01-21T08:30:00Z".into())]
        );
    }
}
