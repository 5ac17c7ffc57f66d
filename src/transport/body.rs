//! Reading an answer's body within the call's limits: at most so many bytes,
//! before the call's deadline, and never compressed.
//!
//! Progenitor reads a success body whole (`ResponseValue::from_response`),
//! and a caller may read a hand-written operation's body as it likes; both
//! read the answer the transport hands back, so the transport hands back
//! one whose body stops with an [`Error`] past a limit. Memory then never
//! holds more than the limit and one chunk.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::header::CONTENT_ENCODING;
use reqwest::{Response, ResponseBuilderExt};
use tokio::time::{Instant, Sleep};

use crate::error::{carried, DecodeError, LimitExceeded};
use crate::Error;

/// How much of an answer's body a call may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyLimit {
    /// At most `limit` bytes; past it, the error names `what` and the
    /// `setting` that raises it.
    Bytes {
        limit: u64,
        what: &'static str,
        setting: &'static str,
    },
    /// A stream whose reader bounds what it keeps (Server-Sent Events): no
    /// total and no deadline, the reader has its own.
    Stream,
}

/// The call's deadline, and how to report it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    pub at: Instant,
    pub after: Duration,
}

impl Deadline {
    pub(crate) fn error(&self) -> Error {
        LimitExceeded::deadline("the call's deadline", self.after, "RetryPolicy::deadline").into()
    }
}

/// `response` with its body read under `limit` and `deadline` (none when
/// the attempt's own timeout ends first). A success body that says it is
/// compressed, or whose `Content-Length` is over the limit, fails at its
/// first read, before anything is read. An error body is only ever read in
/// part (see `error::MAX_ERROR_BODY`), so that the status survives whatever
/// its body claims.
pub(crate) fn guard(
    mut response: Response,
    limit: BodyLimit,
    deadline: Option<Deadline>,
) -> Response {
    let (limit, deadline) = match limit {
        BodyLimit::Bytes {
            limit,
            what,
            setting,
        } => (Some((limit, what, setting)), deadline),
        BodyLimit::Stream => (None, None),
    };
    let length = response.content_length();
    let refused = if response.status().is_success() {
        compressed(&response).or_else(|| {
            let (max, what, setting) = limit?;
            (length? > max).then(|| LimitExceeded::size(what, max, setting).into())
        })
    } else {
        None
    };
    // hyper reads a body framed by `Content-Length` no further than that:
    // one within the limit, with no deadline to watch, needs no guard.
    let within = match limit {
        Some((max, ..)) => length.is_some_and(|length| length <= max),
        None => true,
    };
    if refused.is_none() && deadline.is_none() && within {
        return response;
    }
    let head = Head::take(&mut response);
    let body = Guarded {
        inner: Box::pin(response.bytes_stream()),
        read: 0,
        limit,
        deadline,
        timer: None,
        refused,
        done: false,
    };
    head.with_body(reqwest::Body::wrap_stream(body))
}

/// An answer without its body: what a body read apart, or wrapped, is put
/// back into.
pub(crate) struct Head {
    status: reqwest::StatusCode,
    version: reqwest::Version,
    headers: reqwest::header::HeaderMap,
    /// The URL among them, in the extension reqwest reads it back from.
    extensions: http::Extensions,
}

impl Head {
    /// Takes `response`'s head, leaving its body to be read.
    pub(crate) fn take(response: &mut Response) -> Self {
        let mut extensions = std::mem::take(response.extensions_mut());
        // The URL rides in an extension only reqwest's response builder sets.
        let mut with_url = http::Response::builder().url(response.url().clone());
        if let Some(url) = with_url.extensions_mut() {
            extensions.extend(std::mem::take(url));
        }
        Self {
            status: response.status(),
            version: response.version(),
            headers: std::mem::take(response.headers_mut()),
            extensions,
        }
    }

    /// The answer again, around `body`.
    pub(crate) fn with_body(self, body: impl Into<reqwest::Body>) -> Response {
        let mut rebuilt = http::Response::new(body.into());
        *rebuilt.status_mut() = self.status;
        *rebuilt.version_mut() = self.version;
        *rebuilt.headers_mut() = self.headers;
        *rebuilt.extensions_mut() = self.extensions;
        Response::from(rebuilt)
    }
}

/// The error for an answer in a `Content-Encoding` other than `identity`:
/// the client asks for none (`Accept-Encoding: identity`) and never
/// decompresses, so that a small answer cannot inflate past the limits.
fn compressed(response: &Response) -> Option<Error> {
    let encoding = response.headers().get(CONTENT_ENCODING)?;
    let name = encoding.to_str().unwrap_or("(not text)").trim();
    (!name.eq_ignore_ascii_case("identity")).then(|| {
        Error::Decode(Box::new(DecodeError {
            path: ".".into(),
            message: format!(
                "the answer is compressed (Content-Encoding: {name}); \
                 the client asked for none and does not decompress"
            ),
            excerpt: String::new(),
        }))
    })
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A body that stops with an error past its limit or its deadline.
struct Guarded {
    inner: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send + Sync>>,
    read: u64,
    limit: Option<(u64, &'static str, &'static str)>,
    deadline: Option<Deadline>,
    /// Made the first time the body keeps the reader waiting: a body that
    /// has already arrived needs no timer.
    timer: Option<Pin<Box<Sleep>>>,
    /// Reported at the first read instead of the body.
    refused: Option<Error>,
    done: bool,
}

impl Guarded {
    fn stop(&mut self, error: Error) -> Poll<Option<Result<Bytes, BoxError>>> {
        self.done = true;
        Poll::Ready(Some(Err(carried(error))))
    }
}

impl Stream for Guarded {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(error) = this.refused.take() {
            return this.stop(error);
        }
        match this.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.read = this.read.saturating_add(chunk.len() as u64);
                match this.limit {
                    Some((limit, what, setting)) if this.read > limit => {
                        this.stop(LimitExceeded::size(what, limit, setting).into())
                    }
                    _ => Poll::Ready(Some(Ok(chunk))),
                }
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error.into()))),
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let Some(deadline) = this.deadline else {
                    return Poll::Pending;
                };
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline.at)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => this.stop(deadline.error()),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(headers: &[(&str, &str)], chunks: Vec<&'static [u8]>) -> Response {
        let mut builder = http::Response::builder().status(200);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
        Response::from(builder.body(reqwest::Body::wrap_stream(body)).unwrap())
    }

    const LIMIT: BodyLimit = BodyLimit::Bytes {
        limit: 8,
        what: "the response body",
        setting: "ClientBuilder::max_response_size",
    };

    async fn read(response: Response) -> Result<Bytes, Error> {
        response.bytes().await.map_err(Error::from_reqwest)
    }

    #[tokio::test]
    async fn a_body_within_the_limit_reads_whole_and_keeps_its_parts() {
        let response = guard(
            answer(&[("x-request-id", "r1")], vec![b"1234", b"5678"]),
            LIMIT,
            None,
        );
        assert_eq!(response.headers()["x-request-id"], "r1");
        assert_eq!(read(response).await.unwrap(), "12345678");
    }

    #[tokio::test]
    async fn past_the_limit_the_read_stops_with_a_typed_error() {
        let response = guard(
            answer(&[], vec![b"1234", b"56789", b"never read"]),
            LIMIT,
            None,
        );
        let err = read(response).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "the response body is larger than the limit of 8 bytes \
             (raise it with ClientBuilder::max_response_size)"
        );
        let promised = answer(&[("content-length", "9")], vec![b"123456789"]);
        assert!(matches!(
            read(guard(promised, LIMIT, None)).await,
            Err(Error::Limit(LimitExceeded::Size { limit: 8, .. }))
        ));
    }

    #[tokio::test]
    async fn a_compressed_body_is_refused_even_as_a_stream() {
        let response = guard(
            answer(&[("content-encoding", "gzip")], vec![b"\x1f\x8b"]),
            BodyLimit::Stream,
            None,
        );
        let err = read(response).await.unwrap_err();
        assert!(err.to_string().contains("Content-Encoding: gzip"), "{err}");
        let identity = answer(&[("content-encoding", "identity")], vec![b"ok"]);
        assert_eq!(read(guard(identity, LIMIT, None)).await.unwrap(), "ok");
    }

    #[tokio::test]
    async fn a_body_that_outlasts_the_deadline_is_a_timeout() {
        let slow = futures::stream::pending::<Result<Bytes, std::io::Error>>();
        let response = Response::from(http::Response::new(reqwest::Body::wrap_stream(slow)));
        let deadline = Deadline {
            at: Instant::now() + Duration::from_millis(20),
            after: Duration::from_millis(20),
        };
        let err = read(guard(response, LIMIT, Some(deadline)))
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert_eq!(
            err.to_string(),
            "the call's deadline of 20ms passed (change it with RetryPolicy::deadline)"
        );
    }
}
