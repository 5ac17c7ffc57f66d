//! The one error type every call returns.

use std::fmt;

use bytes::Bytes;
use futures::TryStreamExt;
use progenitor_client::{ByteStream, ResponseValue};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::types::ApiErrorBody;

/// At most this much of an error body is kept.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Everything that can go wrong calling the API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The request did not get an answer: DNS, connection, TLS, timeout, or
    /// the body broke off.
    #[error("request failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// The answer's body does not decode into the documented type.
    #[error("the answer does not decode: {message}")]
    Decode {
        /// What serde said, with the place in the body.
        message: String,
        /// The start of the body.
        excerpt: String,
    },
    /// An answer with a status the API does not use (1xx, 3xx): redirects are
    /// not followed, so that the API key never travels to another host.
    #[error("unexpected HTTP {status} answer")]
    Unexpected {
        /// The status.
        status: StatusCode,
        /// The answer's headers (`Location` for a redirect).
        headers: HeaderMap,
    },
    /// The request could not be built from the values given.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client's configuration is not valid.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// An error answer: status, headers and the body, parsed when it is JSON.
#[derive(Clone)]
pub struct ApiError {
    status: StatusCode,
    headers: HeaderMap,
    body: Option<ApiErrorBody>,
    raw: Bytes,
}

impl ApiError {
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

    /// The raw body (at most 64 KiB of it).
    pub fn raw_body(&self) -> &[u8] {
        &self.raw
    }

    /// The best message the body offers: `message`, or `detail` when it is
    /// a string, or the HTTP reason.
    pub fn message(&self) -> String {
        let body = self.body.as_ref();
        body.and_then(|b| b.message.clone())
            .or_else(|| body.and_then(|b| b.detail.as_ref()?.as_str().map(str::to_string)))
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
            .field("body", &self.body)
            .field("raw", &String::from_utf8_lossy(&self.raw))
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}: {}", self.status.as_u16(), self.message())
    }
}

impl Error {
    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Unexpected { status, .. } => Some(*status),
            Error::Transport(e) => e.status(),
            _ => None,
        }
    }

    /// The error answer, when the server gave one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// HTTP 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }
}

fn excerpt(bytes: &[u8]) -> String {
    let end = bytes.len().min(512);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Maps what a generated `send_unmapped` returns to [`Error`], reading the
/// body of an error answer.
pub(crate) async fn from_generated<T>(
    result: Result<ResponseValue<T>, progenitor_client::Error<ByteStream>>,
) -> Result<ResponseValue<T>, Error> {
    use progenitor_client::Error as E;
    let err = match result {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };
    Err(match err {
        E::ErrorResponse(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            match read_bounded(response.into_inner()).await {
                Ok(raw) => Error::Api(Box::new(ApiError {
                    status,
                    headers,
                    body: serde_json::from_slice(&raw).ok(),
                    raw,
                })),
                Err(e) => Error::Transport(e),
            }
        }
        E::CommunicationError(e) | E::InvalidUpgrade(e) | E::ResponseBodyError(e) => {
            Error::Transport(e)
        }
        E::InvalidResponsePayload(bytes, e) => Error::Decode {
            message: e.to_string(),
            excerpt: excerpt(&bytes),
        },
        E::UnexpectedResponse(response) => Error::Unexpected {
            status: response.status(),
            headers: response.headers().clone(),
        },
        E::InvalidRequest(message) | E::Custom(message) => Error::InvalidRequest(message),
    })
}

async fn read_bounded(stream: ByteStream) -> Result<Bytes, reqwest::Error> {
    let mut stream = stream.into_inner();
    let mut body = Vec::new();
    while let Some(chunk) = stream.try_next().await? {
        let room = MAX_ERROR_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_ERROR_BODY {
            break;
        }
    }
    Ok(Bytes::from(body))
}
