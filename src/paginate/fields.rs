//! Reading a page position or page size back out of a request builder.
//!
//! The generated builders keep their fields private and have setters only,
//! yet a stream must know whether the caller chose a page size (else it uses
//! the operation's maximum) and where the caller wants the listing to start.
//! The code generator gives every builder with paging parameters a
//! crate-private [`PagingFields`] implementation that reads them.

use std::num::NonZeroU64;

use crate::Error;

/// A builder's paging parameters (`page`, `page_size`, `limit`, `offset`,
/// `skip`), as the caller set them. Implemented by the generated code.
pub trait PagingFields {
    /// `None` when the builder has no parameter `field`; else the value set
    /// (`Ok(None)` when unset), or the builder's own message for a value it
    /// refused.
    fn paging_number(&self, field: &str) -> Option<Result<Option<u64>, String>>;
}

/// A paging parameter's value type.
pub trait PagingNumber: Copy {
    /// The value as a page position or size; `None` when negative.
    fn to_u64(self) -> Option<u64>;
}

impl PagingNumber for NonZeroU64 {
    fn to_u64(self) -> Option<u64> {
        Some(self.get())
    }
}

impl PagingNumber for u64 {
    fn to_u64(self) -> Option<u64> {
        Some(self)
    }
}

impl PagingNumber for i64 {
    fn to_u64(self) -> Option<u64> {
        u64::try_from(self).ok()
    }
}

/// What the generated [`PagingFields`] implementations return for one field.
pub(crate) fn paging_number<T: PagingNumber>(
    field: &str,
    value: &Result<Option<T>, String>,
) -> Result<Option<u64>, String> {
    match value {
        Ok(Some(n)) => n
            .to_u64()
            .map(Some)
            .ok_or_else(|| format!("{field}: a negative value cannot place or size a page")),
        Ok(None) => Ok(None),
        Err(message) => Err(message.clone()),
    }
}

/// The whole number the builder holds for `field`: `None` when it is unset,
/// an error when the caller's value is not valid (the builder's own message
/// included) or the builder has no such parameter.
pub(crate) fn number(
    builder: &impl PagingFields,
    operation: &str,
    field: &str,
) -> Result<Option<u64>, Error> {
    builder
        .paging_number(field)
        .ok_or_else(|| {
            Error::InvalidRequest(format!(
                "{operation}: the request builder has no `{field}` to page with"
            ))
        })?
        .map_err(Error::InvalidRequest)
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
        let builder = client.list_apps().search("page_size: 7").page(2);
        assert_eq!(number(&builder, "list_apps", "page_size").unwrap(), None);
        assert_eq!(number(&builder, "list_apps", "page").unwrap(), Some(2));
    }

    #[test]
    fn an_invalid_or_negative_value_is_an_error_that_keeps_the_builders_message() {
        let client = client();
        let zero = client.list_kms().page_size(0u64);
        let err = number(&zero, "list_kms", "page_size").unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest(m) if m.starts_with("page_size:")),
            "{err}"
        );
        let negative = client.list_webhook_deliveries().offset(-3);
        let err = number(&negative, "list_webhook_deliveries", "offset").unwrap_err();
        assert!(err.to_string().contains("negative"), "{err}");
    }

    #[test]
    fn a_missing_field_is_an_error() {
        let client = client();
        let err = number(&client.list_kms(), "list_kms", "cursor").unwrap_err();
        assert!(err.to_string().contains("no `cursor`"), "{err}");
    }
}
