//! From what progenitor and reqwest report to [`Error`]: generated and
//! hand-written operations' failures, an error body read within its limit,
//! a decode failure located in its type, and an [`Error`] carried through
//! code that can only pass a `reqwest::Error` on.

use std::fmt;
use std::sync::Mutex;

use bytes::Bytes;
use futures::TryStreamExt;
use progenitor_client::{ByteStream, ResponseValue};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use super::excerpt;
use super::{ApiError, DecodeError, Error, MAX_ERROR_BODY};

/// An [`Error`] on its way through code that can only pass a
/// `reqwest::Error` on: progenitor's `exec` hook and a body stream. It rides
/// as the `reqwest::Error`'s source, and [`Error::from_reqwest`] takes it
/// out again, once.
#[derive(Debug)]
struct Carried(Mutex<Option<Error>>);

impl Carried {
    fn take(&self) -> Option<Error> {
        self.0.lock().ok()?.take()
    }
}

impl fmt::Display for Carried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.lock().ok().as_deref() {
            Some(Some(error)) => error.fmt(f),
            _ => f.write_str("a client error, already reported"),
        }
    }
}

impl std::error::Error for Carried {}

/// `error` as a body stream's error: reqwest reports it as the source of
/// the `reqwest::Error` reading the body fails with.
pub(crate) fn carried(error: Error) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(Carried(Mutex::new(Some(error))))
}

/// A `reqwest::Error` that carries `error`, for the `exec` hook to return.
/// reqwest makes its errors itself: this one comes from reading a body
/// whose only item is `error`.
pub(crate) async fn carry(error: Error) -> reqwest::Error {
    let item = futures::stream::iter([Err::<Bytes, _>(carried(error))]);
    let response = reqwest::Response::from(http::Response::new(reqwest::Body::wrap_stream(item)));
    match response.bytes().await {
        Err(error) => error,
        Ok(_) => unreachable!("a body made of one error read as bytes"),
    }
}

/// Maps what a generated `send_unmapped` returns to [`Error`], reading the
/// body of an error answer and locating a decode failure.
pub(crate) async fn from_generated<T: DeserializeOwned>(
    result: Result<ResponseValue<T>, progenitor_client::Error<ByteStream>>,
) -> Result<ResponseValue<T>, Error> {
    match result {
        Ok(value) => Ok(value),
        Err(err) => Err(generated_error::<T>(err).await),
    }
}

/// A generated operation's failure as an [`Error`]; an answer that does not
/// decode is located in `T`.
pub(crate) async fn generated_error<T: DeserializeOwned>(
    err: progenitor_client::Error<ByteStream>,
) -> Error {
    use progenitor_client::Error as E;
    match err {
        E::ErrorResponse(response) => {
            let (status, headers) = (response.status(), response.headers().clone());
            let body = response.into_inner().into_inner();
            answer(status, headers, body)
                .await
                .map_or_else(Error::from_reqwest, |a| Error::Api(Box::new(a)))
        }
        E::UnexpectedResponse(response) => answer_error(response).await,
        E::InvalidResponsePayload(bytes, e) => Error::Decode(Box::new(locate::<T>(&bytes, e))),
        E::CommunicationError(e) | E::InvalidUpgrade(e) | E::ResponseBodyError(e) => {
            Error::from_reqwest(e)
        }
        E::InvalidRequest(message) | E::Custom(message) => Error::InvalidRequest(message),
    }
}

/// A hand-written operation's answer: a success answer as it came, an error
/// status (its body read, bounded) or no answer as an [`Error`], mapped as
/// [`from_generated`] maps a generated operation's.
pub(crate) async fn checked(
    result: reqwest::Result<reqwest::Response>,
) -> Result<reqwest::Response, Error> {
    let response = result.map_err(Error::from_reqwest)?;
    if response.status().is_success() {
        return Ok(response);
    }
    Err(answer_error(response).await)
}

/// The error an answer that is not a success gives, its body read (bounded):
/// [`Error::Api`] for 4xx and 5xx, else [`Error::Unexpected`].
pub(crate) async fn answer_error(response: reqwest::Response) -> Error {
    let (status, headers) = (response.status(), response.headers().clone());
    match answer(status, headers, Box::pin(response.bytes_stream())).await {
        Ok(api) => Error::classify(api),
        Err(e) => Error::from_reqwest(e),
    }
}

/// Decodes `bytes` again, tracking the path, to say where it failed.
fn locate<T: DeserializeOwned>(bytes: &[u8], original: serde_json::Error) -> DecodeError {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let (path, message) = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(e) => (e.path().to_string(), e.into_inner().to_string()),
        Ok(_) => (".".to_string(), original.to_string()),
    };
    DecodeError {
        path,
        message,
        excerpt: excerpt(bytes),
    }
}

type Chunks = std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<Bytes>> + Send + Sync>>;

/// Reads an answer's body (bounded) into an [`ApiError`].
async fn answer(
    status: StatusCode,
    headers: HeaderMap,
    body: Chunks,
) -> Result<ApiError, reqwest::Error> {
    Ok(ApiError::new(status, headers, read_bounded(body).await?))
}

/// At most [`MAX_ERROR_BODY`] bytes of `stream`; the rest is not read.
pub(crate) async fn read_bounded(mut stream: Chunks) -> Result<Bytes, reqwest::Error> {
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

impl Error {
    /// `error` as the client reports it: the error it carries through
    /// reqwest (a limit, a spent budget, see [`carry`]), else
    /// [`Error::Transport`].
    pub(crate) fn from_reqwest(error: reqwest::Error) -> Error {
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            if let Some(carried) = cause.downcast_ref::<Carried>()
                && let Some(inner) = carried.take()
            {
                return inner;
            }
            source = cause.source();
        }
        Error::Transport(error)
    }
}
