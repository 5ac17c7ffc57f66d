//! The error-body reader on arbitrary answers: whatever the status, the
//! headers and the body, it never panics, keeps at most the error limit,
//! always has a message, and reports a bounded `Retry-After`.
//!
//! The first two bytes pick the status, the next one the headers, the rest
//! is the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use phala_cloud::error::{ApiError, MAX_ERROR_BODY, MAX_RETRY_AFTER};
use phala_cloud::reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use phala_cloud::reqwest::StatusCode;

fuzz_target!(|data: &[u8]| {
    let [high, low, flags, body @ ..] = data else {
        return;
    };
    let code = 400 + u16::from_be_bytes([*high, *low]) % 200;
    let Ok(status) = StatusCode::from_u16(code) else {
        return;
    };
    let mut headers = HeaderMap::new();
    if flags & 1 != 0 {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if flags & 2 != 0 {
        let seconds = u64::from(*flags).pow(5).to_string();
        if let Ok(value) = HeaderValue::from_str(&seconds) {
            headers.insert(RETRY_AFTER, value);
        }
    }
    let error = ApiError::from_parts(status, headers, body);
    assert!(error.raw_body().len() <= MAX_ERROR_BODY);
    assert!(!error.message().trim().is_empty(), "{error:?}");
    assert!(error.retry_after().is_none_or(|wait| wait <= MAX_RETRY_AFTER));
    let _ = format!("{error} {error:#} {error:?}");
    let _ = (
        error.error_code(),
        error.validation_errors(),
        error.details(),
        error.suggestions(),
        error.links(),
        error.request_id(),
        error.body_excerpt(),
    );
});
