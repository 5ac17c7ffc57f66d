//! Every request's way out: the client's headers, the retry policy and one
//! tracing span, applied to generated and hand-written operations alike.

use std::time::Instant;

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::{Request, Response, StatusCode};
use tracing::Instrument;

use crate::client::{Client, ClientState};
use crate::error::{retry_after, ApiError};

impl ClientHooks<ClientState> for Client {
    /// Adds the API key, the API version, the user agent and the caller's
    /// extra headers, so they go out whichever `reqwest::Client` sends.
    async fn pre<E>(
        &self,
        request: &mut Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        self.inner().apply_headers(request);
        Ok(())
    }

    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        self.execute(request, info.operation_id).await
    }
}

impl Client {
    /// Sends `request` (headers already applied) under the retry policy,
    /// inside a `phala_cloud.request` span.
    pub(crate) async fn execute(
        &self,
        request: Request,
        operation: &str,
    ) -> reqwest::Result<Response> {
        let template = crate::OPERATIONS
            .iter()
            .chain(crate::HAND_WRITTEN_OPERATIONS)
            .find(|o| o.name == operation)
            .map_or_else(|| request.url().path().to_string(), |o| o.path.to_string());
        let span = tracing::info_span!(
            "phala_cloud.request",
            operation,
            method = %request.method(),
            path = %template,
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        self.execute_with_retries(request, operation)
            .instrument(span)
            .await
    }

    async fn execute_with_retries(
        &self,
        mut request: Request,
        operation: &str,
    ) -> reqwest::Result<Response> {
        let policy = &self.inner().retry;
        let method = request.method().clone();
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            let next = (attempt < policy.attempts())
                .then(|| request.try_clone())
                .flatten();
            let (outcome, wait) = match self.client().execute(request).await {
                Err(error) => {
                    let retry =
                        next.is_some() && policy.retries_transport(operation, &method, &error);
                    tracing::debug!(%error, attempt, retry, "no answer");
                    (Err(error), retry.then(|| policy.delay(attempt, None)))
                }
                Ok(response) => {
                    let status = response.status();
                    let (response, has_error_code) = if status == StatusCode::CONFLICT
                        && next.is_some()
                        && policy.reads_conflicts(operation, &method)
                    {
                        read_conflict(response).await?
                    } else {
                        (response, false)
                    };
                    let retry = next.is_some()
                        && policy.retries_status(operation, &method, status, has_error_code);
                    let wait =
                        retry.then(|| policy.delay(attempt, retry_after(response.headers())));
                    (Ok(response), wait)
                }
            };
            match (wait, next) {
                (Some(wait), Some(next)) => {
                    tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                    request = next;
                    attempt += 1;
                }
                _ => {
                    let span = tracing::Span::current();
                    span.record("attempt", attempt);
                    span.record("latency_ms", started.elapsed().as_millis() as u64);
                    if let Ok(response) = &outcome {
                        span.record("status", response.status().as_u16());
                    }
                    tracing::debug!("request finished");
                    return outcome;
                }
            }
        }
    }
}

/// Reads a 409 answer to see whether it carries an error code (a real
/// conflict) or not (another operation in progress), and gives the answer
/// back with its body intact.
async fn read_conflict(response: Response) -> reqwest::Result<(Response, bool)> {
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let body: Bytes = response.bytes().await?;
    let has_error_code = ApiError::new(status, headers.clone(), body.clone())
        .error_code()
        .is_some();
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok((Response::from(rebuilt), has_error_code))
}
