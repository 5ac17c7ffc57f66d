//! Every request's way out: the client's headers, the retry policy and
//! budget, the deadlines, the body limits and one tracing span, applied to
//! generated and hand-written operations alike.
//!
//! | module        | its job |
//! |---------------|---------|
//! | this one      | progenitor's hooks, the retry loop of one call |
//! | `retry`       | [`RetryPolicy`]: what is retried, and the waits |
//! | `retry_after` | reading the server's `Retry-After` |
//! | `budget`      | the client-wide retry budget (a token bucket) |
//! | `body`        | an answer's body limits and its deadline while reading |
//! | `send`        | hand-written operations' requests, and byte / `HEAD` answers |

use std::time::Duration;

pub(crate) mod body;
mod budget;
mod retry;
mod retry_after;
pub(crate) mod send;

pub(crate) use budget::RetryBudget;
pub use retry::RetryPolicy;
pub(crate) use retry_after::retry_after;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::{Method, Request, Response, StatusCode};
use tokio::time::Instant;
use tracing::Instrument;

use crate::client::{Client, ClientState};
use crate::error::{answer_error, carry, read_bounded, ApiError};
use crate::Error;
use body::{guard, BodyLimit, Deadline, Head};
use budget::{RETRY_COST, SUCCESS_REFILL, TIMEOUT_RETRY_COST};

/// What the generated builders read off their client.
impl ClientInfo<ClientState> for Client {
    fn api_version() -> &'static str {
        crate::API_VERSION
    }

    fn baseurl(&self) -> &str {
        &self.inner.base_url
    }

    fn client(&self) -> &reqwest::Client {
        &self.inner.http
    }

    fn inner(&self) -> &ClientState {
        &self.inner
    }
}

impl ClientHooks<ClientState> for Client {
    /// Adds the credentials, the workspace, the API version, the user agent
    /// and the caller's extra headers (the client's, then the call's), so
    /// they go out whichever `reqwest::Client` sends.
    async fn pre<E>(
        &self,
        request: &mut Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        self.apply_headers(request, info.operation_id)
            .map_err(progenitor_client::Error::InvalidRequest)
    }

    /// A failure the transport reports as a typed [`Error`] (a limit, a
    /// spent budget) comes back as the `reqwest::Error` that carries it;
    /// `crate::error::from_generated` takes it out.
    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        let limit = self.inner.answer_limit(info.operation_id);
        match self.execute(request, info.operation_id, limit).await {
            Ok(response) => Ok(response),
            Err(Failure::Reqwest(error)) => Err(error),
            Err(Failure::Typed(error)) => Err(carry(error).await),
        }
    }
}

/// Why a call got no answer to hand back.
pub(crate) enum Failure {
    /// As reqwest reported it.
    Reqwest(reqwest::Error),
    /// A limit of the client, or a failure not retried for want of budget.
    Typed(Error),
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Reqwest(error) => Error::from_reqwest(error),
            Failure::Typed(error) => error,
        }
    }
}

impl Client {
    /// Sends `request` (headers already applied) under the retry policy,
    /// inside a `phala_cloud.request` span; the answer's body then reads
    /// within `limit` and the call's deadline.
    pub(crate) async fn execute(
        &self,
        request: Request,
        operation: &str,
        limit: BodyLimit,
    ) -> Result<Response, Failure> {
        let template = Template {
            operation,
            path: request.url().path(),
        };
        let span = tracing::info_span!(
            "phala_cloud.request",
            operation,
            method = %request.method(),
            path = %template,
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        self.execute_with_retries(request, operation, limit)
            .instrument(span)
            .await
    }

    async fn execute_with_retries(
        &self,
        mut request: Request,
        operation: &str,
        limit: BodyLimit,
    ) -> Result<Response, Failure> {
        let state = &*self.inner;
        let options = self.options();
        let policy = options
            .and_then(|o| o.retry_override())
            .unwrap_or(&state.retry);
        let method = request.method().clone();
        let started = Instant::now();
        let after = policy.call_deadline();
        let deadline = started.checked_add(after).map(|at| Deadline { at, after });
        let timeout = *request.timeout_mut().get_or_insert(
            options
                .and_then(|o| o.timeout_override())
                .unwrap_or(state.timeout),
        );
        let mut attempt = 1;
        // What the call's last retry cost: given back if it succeeds.
        let mut spent = None;
        loop {
            let next = (attempt < policy.attempts())
                .then(|| request.try_clone())
                .flatten();
            let more = next.is_some();
            #[cfg(feature = "mock")]
            let target = state.mock_server.then(|| request.url().clone());
            let attempt_done = async {
                let result = state.http.execute(request).await;
                #[cfg(feature = "mock")]
                let result = mock_unmatched(target, &method, result).await?;
                Attempted::read(result, policy, operation, &method, limit, more).await
            };
            // The deadline needs a timer of its own only when the attempt's
            // timeout (which covers the body too) would end after it.
            let binding = deadline.filter(|d| !ends_before(timeout, d.at));
            let attempted = match binding {
                Some(deadline) => match tokio::time::timeout_at(deadline.at, attempt_done).await {
                    Ok(attempted) => attempted,
                    Err(_elapsed) => Err(Failure::Typed(deadline.error())),
                },
                None => attempt_done.await,
            };
            let attempted = match attempted {
                Ok(attempted) => attempted,
                Err(failure) => {
                    record(attempt, started, None);
                    return Err(failure);
                }
            };
            let wait = attempted
                .wait(policy, attempt)
                .filter(|wait| deadline.is_none_or(|d| ends_before(*wait, d.at)));
            let (Some(wait), Some(next)) = (wait, next) else {
                return self.finish(attempted, spent, attempt, started, limit, binding);
            };
            let cost = attempted.cost();
            if !state.budget.try_spend(cost) {
                tracing::debug!(attempt, "retry budget spent");
                let last = attempted.into_error().await;
                record(attempt, started, last.status());
                return Err(Failure::Typed(Error::RetryBudgetExhausted(Box::new(last))));
            }
            spent = Some(cost);
            tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
            request = next;
            attempt += 1;
        }
    }

    /// Hands back the call's last outcome: records it, refills the budget
    /// for an answer that is not a transient failure, and bounds the body.
    fn finish(
        &self,
        attempted: Attempted,
        spent: Option<u32>,
        attempt: u32,
        started: Instant,
        limit: BodyLimit,
        deadline: Option<Deadline>,
    ) -> Result<Response, Failure> {
        let status = attempted.outcome.as_ref().ok().map(Response::status);
        record(attempt, started, status);
        let response = attempted.outcome.map_err(Failure::Reqwest)?;
        if !is_transient(response.status()) {
            self.inner.budget.refill(spent.unwrap_or(SUCCESS_REFILL));
        }
        Ok(guard(response, limit, deadline))
    }
}

/// An operation's path template, for the span: looked up only when a
/// subscriber records it.
struct Template<'a> {
    operation: &'a str,
    /// The request's path, for an operation not in the tables.
    path: &'a str,
}

impl std::fmt::Display for Template<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let known = crate::generated::OPERATIONS
            .iter()
            .chain(crate::generated::HAND_WRITTEN_OPERATIONS)
            .find(|o| o.name == self.operation);
        f.write_str(known.map_or(self.path, |o| o.path))
    }
}

/// Records the call's end on its span.
fn record(attempt: u32, started: Instant, status: Option<StatusCode>) {
    let span = tracing::Span::current();
    span.record("attempt", attempt);
    span.record("latency_ms", started.elapsed().as_millis() as u64);
    if let Some(status) = status {
        span.record("status", status.as_u16());
    }
    tracing::debug!("request finished");
}

/// Whether a wait of `wait` from now ends before `at`.
fn ends_before(wait: Duration, at: Instant) -> bool {
    Instant::now().checked_add(wait).is_some_and(|end| end < at)
}

/// A status that says the server is struggling, not that it answered.
fn is_transient(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// One attempt's outcome, and whether the policy would try again after it.
struct Attempted {
    outcome: reqwest::Result<Response>,
    retry: bool,
    retry_after: Option<Duration>,
    timed_out: bool,
}

impl Attempted {
    /// Classifies `result`, an answer to be read within `limit`; `more`
    /// says whether another attempt is allowed at all (a 409, or a success
    /// body, is only read then).
    async fn read(
        result: reqwest::Result<Response>,
        policy: &crate::RetryPolicy,
        operation: &str,
        method: &Method,
        limit: BodyLimit,
        more: bool,
    ) -> Result<Self, Failure> {
        let response = match result {
            Err(error) => {
                let retry = more && policy.retries_transport(operation, method, &error);
                tracing::debug!(%error, retry, "no answer");
                return Ok(Self::failed(error, retry));
            }
            Ok(response) => response,
        };
        let status = response.status();
        // Progenitor reads a success body after the `exec` hook has
        // returned, too late for a retry: one whose breaking off would be
        // retried is read here. An event stream is never read whole.
        let response = if more
            && status.is_success()
            && matches!(limit, BodyLimit::Bytes { .. })
            && policy.retries_broken_body(operation, method)
        {
            match read_whole(response, limit).await? {
                Ok(response) => response,
                Err(error) => {
                    tracing::debug!(%error, "the body broke off");
                    return Ok(Self::failed(error, true));
                }
            }
        } else {
            response
        };
        let (response, has_error_code) = if status == StatusCode::CONFLICT
            && more
            && policy.reads_conflicts(operation, method)
        {
            read_conflict(response).await.map_err(Failure::Reqwest)?
        } else {
            (response, false)
        };
        Ok(Self {
            retry: more && policy.retries_status(operation, method, status, has_error_code),
            retry_after: retry_after(response.headers()),
            outcome: Ok(response),
            timed_out: false,
        })
    }

    /// No answer, or not all of it.
    fn failed(error: reqwest::Error, retry: bool) -> Self {
        Self {
            timed_out: error.is_timeout(),
            outcome: Err(error),
            retry,
            retry_after: None,
        }
    }

    /// The wait before the next attempt, if the policy makes one.
    fn wait(&self, policy: &crate::RetryPolicy, attempt: u32) -> Option<Duration> {
        self.retry
            .then(|| policy.delay(attempt, self.retry_after))
            .flatten()
    }

    /// What retrying after it takes from the budget.
    fn cost(&self) -> u32 {
        if self.timed_out {
            TIMEOUT_RETRY_COST
        } else {
            RETRY_COST
        }
    }

    /// The failure as the caller sees it.
    async fn into_error(self) -> Error {
        match self.outcome {
            Err(error) => Error::from_reqwest(error),
            Ok(response) => answer_error(response).await,
        }
    }
}

/// Reads a 409 answer to see whether it carries an error code (a real
/// conflict) or not (another operation in progress), and gives the answer
/// back with its body (at most the error body limit) intact.
async fn read_conflict(response: Response) -> reqwest::Result<(Response, bool)> {
    let (response, body) = with_error_body(response).await?;
    let has_error_code = ApiError::new(response.status(), response.headers().clone(), body)
        .error_code()
        .is_some();
    Ok((response, has_error_code))
}

/// An error answer's body (at most the error body limit), and the answer
/// rebuilt around it, so that it reads the same once more.
async fn with_error_body(mut response: Response) -> reqwest::Result<(Response, bytes::Bytes)> {
    let head = Head::take(&mut response);
    let body = read_bounded(Box::pin(response.bytes_stream())).await?;
    Ok((head.with_body(body.clone()), body))
}

/// A success answer read whole within `limit`, and rebuilt around its
/// bytes: a body that breaks off is the attempt's failure (`Ok(Err)`),
/// retried as a connection dropped before the answer would be; one past
/// the limit, or refused, the call's. The call's deadline already bounds
/// the attempt, so the read needs none of its own.
async fn read_whole(
    response: Response,
    limit: BodyLimit,
) -> Result<reqwest::Result<Response>, Failure> {
    let mut response = guard(response, limit, None);
    let head = Head::take(&mut response);
    match response.bytes().await {
        Ok(body) => Ok(Ok(head.with_body(body))),
        Err(error) => match Error::from_reqwest(error) {
            Error::Transport(error) => Ok(Err(error)),
            limit => Err(Failure::Typed(limit)),
        },
    }
}

/// For a client of [`crate::mock`] (`target` is then the request's URL):
/// httpmock's answer to a request that no mock matched, as
/// [`Error::MockUnmatched`] rather than a 404 the code under test could
/// take for the API's.
#[cfg(feature = "mock")]
async fn mock_unmatched(
    target: Option<reqwest::Url>,
    method: &Method,
    result: reqwest::Result<Response>,
) -> Result<reqwest::Result<Response>, Failure> {
    let (Some(url), Ok(response)) = (target, &result) else {
        return Ok(result);
    };
    if response.status() != StatusCode::NOT_FOUND {
        return Ok(result);
    }
    let Ok(response) = result else {
        return Ok(result);
    };
    let (response, body) = with_error_body(response).await.map_err(Failure::Reqwest)?;
    if !crate::mock::is_unmatched_answer(&body) {
        return Ok(Ok(response));
    }
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    Err(Failure::Typed(Error::MockUnmatched {
        method: method.to_string(),
        path,
    }))
}
