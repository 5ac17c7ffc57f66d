//! How hand-written operations go out: like generated ones, with the
//! client's headers, its retry policy, deadlines, body limits and tracing
//! span, and the one error type.

use bytes::Bytes;
use progenitor_client::ResponseValue;
use reqwest::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;

use crate::body::BodyLimit;
use crate::{Client, Error};

impl Client {
    /// Sends `request` as the operation `operation`, its answer's body to be
    /// read within `limit`; an answer with an error status is an [`Error`].
    pub(crate) async fn send_checked(
        &self,
        mut request: Request,
        operation: &str,
        limit: BodyLimit,
    ) -> Result<Response, Error> {
        self.apply_headers(&mut request)
            .map_err(Error::InvalidRequest)?;
        match self.execute(request, operation, limit).await {
            Ok(response) => crate::error::checked(Ok(response)).await,
            Err(failure) => Err(failure.into()),
        }
    }

    /// Sends `request` and decodes the JSON answer.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        request: Request,
        operation: &str,
    ) -> Result<ResponseValue<T>, Error> {
        let limit = self.inner.response_limit();
        let response = self.send_checked(request, operation, limit).await?;
        crate::error::from_generated(ResponseValue::from_response(response).await).await
    }

    /// A request builder for `path` (which starts with `/api/v1`).
    pub(crate) fn http_request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.inner
            .http
            .request(method, format!("{}{path}", self.inner.base_url))
    }
}

/// Decodes a JSON payload that arrived outside a response body (an SSE
/// event's data), saying where it fails as a response body's decode error
/// does.
pub(crate) async fn decode_json<T: DeserializeOwned>(data: String) -> Result<T, Error> {
    match serde_json::from_str(&data) {
        Ok(value) => Ok(value),
        Err(e) => crate::error::from_generated(Err(
            progenitor_client::Error::InvalidResponsePayload(Bytes::from(data), e),
        ))
        .await
        .map(ResponseValue::into_inner),
    }
}

/// Builds a hand-written request: what reqwest refuses is an invalid request.
pub(crate) fn build(builder: RequestBuilder) -> Result<Request, Error> {
    builder
        .build()
        .map_err(|e| Error::InvalidRequest(format!("cannot build the request: {e}")))
}
