//! An answer with an error status, as the client reads it: the body's
//! structured error (code, message, details, suggestions, links), FastAPI's
//! validation items, and the status text when the body says nothing.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;

use super::{ValidationError, MAX_ERROR_BODY};
use crate::types::{ApiErrorBody, ApiErrorBodyDetailsItem, ApiErrorBodyLinksItem};

/// At most this many characters of a body appear in messages.
pub(super) const EXCERPT_CHARS: usize = 300;

/// An answer with an error status: status, headers and the body, parsed when
/// it is JSON.
#[derive(Clone)]
pub struct ApiError {
    status: StatusCode,
    headers: HeaderMap,
    body: Option<ApiErrorBody>,
    structured: Option<ApiErrorBody>,
    validation: Vec<ValidationError>,
    raw: Bytes,
}

impl ApiError {
    /// The error an answer with this status, headers and body gives, as the
    /// client reads it (the body's first [`MAX_ERROR_BODY`] bytes) — for
    /// testing code that handles errors.
    ///
    /// ```
    /// use phala_cloud::error::ApiError;
    /// use phala_cloud::reqwest::{header::HeaderMap, StatusCode};
    ///
    /// let e = ApiError::from_parts(StatusCode::NOT_FOUND, HeaderMap::new(), br#"{"detail": "CVM not found"}"#);
    /// assert_eq!(e.to_string(), "HTTP 404: CVM not found");
    /// ```
    pub fn from_parts(status: StatusCode, headers: HeaderMap, body: &[u8]) -> Self {
        let kept = &body[..body.len().min(MAX_ERROR_BODY)];
        Self::new(status, headers, Bytes::copy_from_slice(kept))
    }

    /// Reads an error answer's parts (`raw` already bounded).
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, raw: Bytes) -> Self {
        let body: Option<ApiErrorBody> = serde_json::from_slice(&raw).ok();
        let structured = body.as_ref().and_then(|b| {
            if b.error_code.is_some() {
                return Some(b.clone());
            }
            let nested = b.detail.as_ref()?;
            let has_code = nested.get("error_code").is_some_and(Value::is_string);
            has_code
                .then(|| serde_json::from_value(nested.clone()).ok())
                .flatten()
        });
        let validation = body
            .as_ref()
            .and_then(|b| b.detail.as_ref()?.as_array())
            .map(|items| items.iter().filter_map(validation_error).collect())
            .unwrap_or_default();
        Self {
            status,
            headers,
            body,
            structured,
            validation,
            raw,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body, when it is a JSON object.
    pub fn body(&self) -> Option<&ApiErrorBody> {
        self.body.as_ref()
    }

    /// The raw body (at most its first 64 KiB).
    pub fn raw_body(&self) -> &[u8] {
        &self.raw
    }

    /// A bounded excerpt of a body that is not JSON (an HTML error page from
    /// a proxy, plain text), for messages and logs.
    pub fn body_excerpt(&self) -> Option<String> {
        if self.body.is_some() || self.raw.is_empty() {
            return None;
        }
        Some(excerpt(&self.raw))
    }

    /// The structured error (`error_code`, `message`, `details`,
    /// `suggestions`, `links`), found at the top level or under `detail`.
    pub fn structured(&self) -> Option<&ApiErrorBody> {
        self.structured.as_ref()
    }

    /// The structured error code, `ERR-xx-yyy`.
    pub fn error_code(&self) -> Option<&str> {
        self.structured.as_ref()?.error_code.as_deref()
    }

    /// The failed fields of a 422 answer; empty otherwise.
    pub fn validation_errors(&self) -> &[ValidationError] {
        &self.validation
    }

    /// The structured error's details (`field`, `value`, `message`).
    pub fn details(&self) -> &[ApiErrorBodyDetailsItem] {
        self.structured
            .as_ref()
            .and_then(|s| s.details.as_deref())
            .unwrap_or_default()
    }

    /// The structured error's suggestions.
    pub fn suggestions(&self) -> &[String] {
        self.structured
            .as_ref()
            .and_then(|s| s.suggestions.as_deref())
            .unwrap_or_default()
    }

    /// The structured error's documentation links.
    pub fn links(&self) -> &[ApiErrorBodyLinksItem] {
        self.structured
            .as_ref()
            .and_then(|s| s.links.as_deref())
            .unwrap_or_default()
    }

    /// The request id: the body's `request_id`, else the `X-Request-ID` header.
    pub fn request_id(&self) -> Option<&str> {
        [&self.structured, &self.body]
            .into_iter()
            .find_map(|b| b.as_ref()?.request_id.as_deref())
            .or_else(|| self.headers.get("x-request-id")?.to_str().ok())
    }

    /// How long the server asks to wait (`Retry-After`, in seconds or as an
    /// HTTP date; a date in the past is zero), at most [`MAX_RETRY_AFTER`](super::MAX_RETRY_AFTER).
    pub fn retry_after(&self) -> Option<Duration> {
        crate::transport::retry_after(&self.headers)
    }

    /// The most specific message the answer offers: a structured error's
    /// `message`, the body's `message` or string `detail`, a validation
    /// summary, the start of a non-JSON body, or the HTTP reason. A blank
    /// message counts as none.
    pub fn message(&self) -> String {
        let text = |b: &Option<ApiErrorBody>| {
            let b = b.as_ref()?;
            let detail = || b.detail.as_ref()?.as_str();
            [b.message.as_deref(), detail()]
                .into_iter()
                .flatten()
                .find(|m| !m.trim().is_empty())
                .map(str::to_string)
        };
        if let Some(message) = text(&self.structured).or_else(|| text(&self.body)) {
            return message;
        }
        match self.validation.as_slice() {
            [] => {}
            [one] => return format!("Validation failed: {}: {}", one.field, one.message),
            many => return format!("Validation failed ({} issues)", many.len()),
        }
        self.body_excerpt()
            .map(|e| {
                e.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| {
                self.status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_string()
            })
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("error_code", &self.error_code())
            .field("message", &self.message())
            .field("request_id", &self.request_id())
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status.as_u16())?;
        if let Some(code) = self.error_code() {
            write!(f, " [{code}]")?;
        }
        write!(f, ": {}", self.message())?;
        if !f.alternate() {
            return Ok(());
        }
        if !self.details().is_empty() {
            write!(f, "\nDetails:")?;
            for d in self.details() {
                write!(
                    f,
                    "\n  - {}",
                    d.message.as_deref().unwrap_or("(no message)")
                )?;
                match (&d.field, &d.value) {
                    (Some(field), Some(value)) => write!(f, " (field: {field}, value: {value})")?,
                    (Some(field), None) => write!(f, " (field: {field})")?,
                    (None, Some(value)) => write!(f, " (value: {value})")?,
                    (None, None) => {}
                }
            }
        }
        if self.validation.len() > 1 {
            write!(f, "\nValidation errors:")?;
            for (i, v) in self.validation.iter().enumerate() {
                write!(f, "\n  {}. {}: {}", i + 1, v.field, v.message)?;
            }
        }
        if !self.suggestions().is_empty() {
            write!(f, "\nSuggestions:")?;
            for s in self.suggestions() {
                write!(f, "\n  - {s}")?;
            }
        }
        if !self.links().is_empty() {
            write!(f, "\nLearn more:")?;
            for l in self.links() {
                match &l.label {
                    Some(label) => write!(f, "\n  - {label}: {}", l.url)?,
                    None => write!(f, "\n  - {}", l.url)?,
                }
            }
        }
        if let Some(id) = self.request_id() {
            write!(f, "\nRequest ID: {id}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// One FastAPI validation item: `{loc, msg, type, ctx?}`.
fn validation_error(item: &Value) -> Option<ValidationError> {
    let loc = item.get("loc")?.as_array()?;
    let field = loc
        .iter()
        .filter(|part| !matches!(part.as_str(), Some("body" | "query" | "path" | "header")))
        .map(|part| match part {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".");
    Some(ValidationError {
        field: if field.is_empty() {
            "unknown".to_string()
        } else {
            field
        },
        message: item.get("msg")?.as_str()?.to_string(),
        kind: item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        context: item.get("ctx").cloned(),
    })
}

/// The first [`EXCERPT_CHARS`] characters of `bytes`, decoding only as many
/// bytes as they can take (a character is at most 4), so that a large body
/// is not copied to show its start.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(EXCERPT_CHARS * 4)]);
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(status: u16, body: Value) -> ApiError {
        let raw = Bytes::from(serde_json::to_vec(&body).unwrap());
        ApiError::new(StatusCode::from_u16(status).unwrap(), HeaderMap::new(), raw)
    }

    #[test]
    fn validation_paths_drop_the_location_and_keep_indexes() {
        let e = api(
            422,
            json!({"detail": [
                {"loc": ["body", "resources", "compute", "memory"], "msg": "too small", "type": "greater_than", "ctx": {"gt": 0}},
                {"loc": ["query", "items", 0, "name"], "msg": "Field required", "type": "missing"},
                {"loc": [], "msg": "bad", "type": "value_error"}
            ]}),
        );
        let fields: Vec<_> = e
            .validation_errors()
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(
            fields,
            ["resources.compute.memory", "items.0.name", "unknown"]
        );
        assert_eq!(e.validation_errors()[0].context, Some(json!({"gt": 0})));
        assert_eq!(e.message(), "Validation failed (3 issues)");
    }

    #[test]
    fn a_blank_message_gives_way_to_the_detail_summary_or_status() {
        let validation = api(
            422,
            json!({"message": "", "detail": [{"loc": ["body", "name"], "msg": "too short", "type": "string_too_short"}]}),
        );
        assert_eq!(validation.message(), "Validation failed: name: too short");
        let detail = api(400, json!({"message": " ", "detail": "bad name"}));
        assert_eq!(detail.message(), "bad name");
        let bare = api(500, json!({"message": "", "error_code": "ERR-9"}));
        assert_eq!(bare.to_string(), "HTTP 500 [ERR-9]: Internal Server Error");
    }

    #[test]
    fn from_parts_keeps_at_most_the_error_limit() {
        let body = vec![b'x'; MAX_ERROR_BODY + 10];
        let e = ApiError::from_parts(StatusCode::BAD_GATEWAY, HeaderMap::new(), &body);
        assert_eq!(e.raw_body().len(), MAX_ERROR_BODY);
        assert_eq!(e.message().chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn structured_errors_are_found_at_the_top_and_under_detail() {
        let top = api(
            465,
            json!({"error_code": "ERR-01-005", "message": "register it", "request_id": "r1"}),
        );
        let nested = api(
            403,
            json!({"detail": {"error_code": "ERR-03-003", "message": "not yours"}}),
        );
        assert_eq!(
            (top.error_code(), top.message().as_str()),
            (Some("ERR-01-005"), "register it")
        );
        assert_eq!(top.request_id(), Some("r1"));
        assert_eq!(
            (nested.error_code(), nested.message().as_str()),
            (Some("ERR-03-003"), "not yours")
        );
    }

    #[test]
    fn excerpts_are_bounded_on_char_boundaries() {
        let long = "é".repeat(1000);
        let e = excerpt(long.as_bytes());
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
    }
}
