//! Reading a page position or page size back out of a request builder.
//!
//! The generated builders keep their fields private and have setters only,
//! yet a stream must know whether the caller chose a page size (else it uses
//! the operation's maximum) and where the caller wants the listing to start.
//! Their derived `Debug` form is the one public view of those fields: in the
//! alternate form (`{:#?}`) every field of the builder starts a line indented
//! by exactly four spaces, and nothing nested does (nested values are indented
//! further and strings escape their newlines), so a field is found without
//! being confused with text inside another one.

use std::fmt::Debug;

use crate::Error;

/// The whole number the builder holds for `field`: `None` when it is unset,
/// an error when the caller's value is not valid (the builder's own message
/// included) or the field cannot be found.
pub(crate) fn number(
    builder: &impl Debug,
    operation: &str,
    field: &str,
) -> Result<Option<u64>, Error> {
    let text = format!("{builder:#?}");
    let prefix = format!("    {field}: ");
    let mut lines = text.lines().skip_while(|line| !line.starts_with(&prefix));
    let first = lines.next().ok_or_else(|| {
        Error::InvalidRequest(format!(
            "{operation}: the request builder has no `{field}` to page with"
        ))
    })?;
    let mut value: String = first[prefix.len()..].to_string();
    for line in lines.take_while(|line| line.starts_with("        ")) {
        value.push_str(line.trim());
    }
    // `Ok(\n Some(\n 50,\n ),\n` read without its punctuation: `Ok(Some(50`.
    value.retain(|c| c != ',' && c != ')');
    if value == "Ok(None" {
        return Ok(None);
    }
    value
        .strip_prefix("Ok(Some(")
        .and_then(|digits| digits.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| {
            Error::InvalidRequest(format!(
                "{operation}: `{field}` must be a whole number a stream can page from, not {value}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Client;

    fn client() -> Client {
        Client::builder().api_key("phak_test").build().unwrap()
    }

    #[test]
    fn reads_set_and_unset_numbers() {
        let client = client();
        let builder = client.list_kms().page_size(50);
        assert_eq!(number(&builder, "list_kms", "page_size").unwrap(), Some(50));
        assert_eq!(number(&builder, "list_kms", "page").unwrap(), None);
        let builder = client.list_webhook_deliveries().offset(7);
        assert_eq!(
            number(&builder, "list_webhook_deliveries", "offset").unwrap(),
            Some(7)
        );
    }

    #[test]
    fn text_inside_another_field_is_not_read() {
        let client = client();
        let builder = client
            .list_apps()
            .search("x\n    page_size: Ok(Some(7)),\n")
            .page(2);
        assert_eq!(number(&builder, "list_apps", "page_size").unwrap(), None);
        assert_eq!(number(&builder, "list_apps", "page").unwrap(), Some(2));
    }

    #[test]
    fn an_invalid_or_negative_value_is_an_error_that_keeps_the_builders_message() {
        let client = client();
        let zero = client.list_kms().page_size(0u64);
        let err = number(&zero, "list_kms", "page_size").unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest(m) if m.contains("conversion")),
            "{err}"
        );
        let negative = client.list_webhook_deliveries().offset(-3);
        assert!(number(&negative, "list_webhook_deliveries", "offset").is_err());
    }

    #[test]
    fn a_missing_field_is_an_error() {
        let client = client();
        let err = number(&client.list_kms(), "list_kms", "cursor").unwrap_err();
        assert!(err.to_string().contains("no `cursor`"), "{err}");
    }
}
