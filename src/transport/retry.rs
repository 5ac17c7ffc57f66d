//! When a request is tried again, and how long the client waits first.

use std::time::Duration;

use reqwest::{Method, StatusCode};

/// How the client retries a request that failed transiently, and how long
/// one call may take.
///
/// Per request, by operation and method:
/// - the CVM lifecycle and update operations (`start_cvm`, `delete_cvm`,
///   `patch_cvm`, …, whatever their method): connection failures before
///   the request went out, 429, 503, and a 409 without an error code
///   ("another operation in progress");
/// - other GET, HEAD, PUT, DELETE and OPTIONS requests: connection
///   failures, connections dropped before the answer or during its body,
///   timeouts, 429, 502, 503, 504;
/// - other POST and PATCH requests (creating, committing): never, unless
///   [`RetryPolicy::retry_non_idempotent`] opts in.
///
/// Waits grow exponentially from `base_delay` up to `max_delay`, with full
/// jitter. A `Retry-After` from the server is waited, plus the same jitter
/// so that clients told the same second do not come back together; one
/// longer than `max_delay` ends the retries (the error keeps it, see
/// [`crate::Error::retry_after`]). No retry starts after the call's
/// [`deadline`](RetryPolicy::deadline), which also bounds every attempt and
/// the reading of the answer. Retries draw on the client's
/// [`retry budget`](RetryPolicy::retry_budget). Dropping the request's
/// future stops the retries.
///
/// ```
/// use std::time::Duration;
/// use phala_cloud::{Client, RetryPolicy};
///
/// let client = Client::builder()
///     .api_key("phak_example")
///     .retry_policy(RetryPolicy::default().max_attempts(5).max_delay(Duration::from_secs(10)))
///     .build()?;
/// # Ok::<(), phala_cloud::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    deadline: Duration,
    retry_budget: u32,
    retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            deadline: Duration::from_secs(120),
            retry_budget: 100,
            retry_non_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        Self::default().max_attempts(1)
    }

    /// Attempts in all, first included (default 3; at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry, doubled at each one (default 500 ms).
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest wait between attempts (default 20 s). A `Retry-After`
    /// longer than this is not waited: the call fails with the answer.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// How long one call may take in all, attempts, waits and the reading
    /// of the answer included (default 2 minutes). Past it the call fails
    /// with [`LimitExceeded::Deadline`](crate::error::LimitExceeded::Deadline)
    /// (`is_timeout()`), and a retry whose wait would end after it is not
    /// made. A watch's event stream is bounded by its own
    /// [`deadline`](crate::watch::WatchOptions::deadline) once it is open.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The size of the client's retry budget, in tokens (default 100),
    /// shared by every call and clone of the client: a retry takes 5
    /// tokens (10 after a timeout), an answer that is not a transient
    /// failure gives back the cost of its call's last retry, or 1 token if
    /// it needed none. With the bucket empty a transient failure is not
    /// retried: the call fails at once with
    /// [`Error::RetryBudgetExhausted`](crate::Error::RetryBudgetExhausted).
    /// The default lets 20 retries out in a burst of failures; `u32::MAX`
    /// in effect turns the budget off.
    pub fn retry_budget(mut self, tokens: u32) -> Self {
        self.retry_budget = tokens;
        self
    }

    /// Retry POST and PATCH requests like idempotent ones (default off:
    /// a retried create could create twice).
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }

    /// The number of attempts allowed.
    pub(crate) fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// How long one call may take.
    pub(crate) fn call_deadline(&self) -> Duration {
        self.deadline
    }

    /// The retry budget's size, in tokens.
    pub(crate) fn budget_tokens(&self) -> u32 {
        self.retry_budget
    }

    fn class(&self, operation: &str, method: &Method) -> Class {
        if crate::generated::lifecycle_operation(operation) {
            Class::Lifecycle
        } else if self.retry_non_idempotent
            || matches!(
                *method,
                Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
            )
        {
            Class::Idempotent
        } else {
            Class::Never
        }
    }

    /// Whether a failure to get an answer is worth another attempt.
    pub(crate) fn retries_transport(
        &self,
        operation: &str,
        method: &Method,
        error: &reqwest::Error,
    ) -> bool {
        match self.class(operation, method) {
            // A request that may be repeated is worth another try whatever
            // kept its answer away: reqwest reports each such failure
            // (connection refused or dropped, timeout) as a request error.
            Class::Idempotent => error.is_request(),
            // The request never reached the server.
            Class::Lifecycle => error.is_connect(),
            Class::Never => false,
        }
    }

    /// Whether a success answer whose body broke off (cut short, reset,
    /// timed out) is worth another attempt: as a connection dropped before
    /// the answer, only for a request that may be repeated. A lifecycle
    /// operation's request has reached the server by then.
    pub(crate) fn retries_broken_body(&self, operation: &str, method: &Method) -> bool {
        self.class(operation, method) == Class::Idempotent
    }

    /// Whether an answer's status is worth another attempt. `has_error_code`
    /// is only consulted for a 409 (see [`RetryPolicy::reads_conflicts`]).
    pub(crate) fn retries_status(
        &self,
        operation: &str,
        method: &Method,
        status: StatusCode,
        has_error_code: bool,
    ) -> bool {
        match (self.class(operation, method), status.as_u16()) {
            (Class::Idempotent, 429 | 502 | 503 | 504) => true,
            (Class::Lifecycle, 429 | 503) => true,
            (Class::Lifecycle, 409) => !has_error_code,
            _ => false,
        }
    }

    /// Whether a 409 answer's body must be read to decide.
    pub(crate) fn reads_conflicts(&self, operation: &str, method: &Method) -> bool {
        self.class(operation, method) == Class::Lifecycle
    }

    /// The wait before attempt `attempt + 1` (attempts count from 1): full
    /// jitter over the exponential step, after the server's `Retry-After`
    /// if it sent one; `None` when that is longer than `max_delay`.
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let asked = retry_after.unwrap_or(Duration::ZERO);
        if asked > self.max_delay {
            return None;
        }
        let step = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.max_delay);
        Some(asked.saturating_add(step.mul_f64(unit_random())))
    }
}

/// A uniform number in `[0, 1)` from the OS generator (already used for the
/// env-var encryption). Without one, no jitter: the full step.
fn unit_random() -> f64 {
    getrandom::u64().map_or(1.0, |bits| (bits >> 11) as f64 / (1u64 << 53) as f64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Idempotent,
    Lifecycle,
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotent_methods_retry_gateway_and_rate_limit_statuses() {
        let p = RetryPolicy::default();
        for status in [429, 502, 503, 504] {
            assert!(p.retries_status(
                "get_cvm",
                &Method::GET,
                StatusCode::from_u16(status).unwrap(),
                false
            ));
        }
        assert!(!p.retries_status(
            "get_cvm",
            &Method::GET,
            StatusCode::INTERNAL_SERVER_ERROR,
            false
        ));
        assert!(!p.retries_status("get_cvm", &Method::GET, StatusCode::CONFLICT, false));
    }

    #[test]
    fn creates_and_commits_are_not_retried_unless_opted_in() {
        let p = RetryPolicy::default();
        assert!(!p.retries_status(
            "commit_cvm_provision",
            &Method::POST,
            StatusCode::SERVICE_UNAVAILABLE,
            false
        ));
        let opted = p.retry_non_idempotent(true);
        assert!(opted.retries_status(
            "commit_cvm_provision",
            &Method::POST,
            StatusCode::SERVICE_UNAVAILABLE,
            false
        ));
    }

    #[test]
    fn retry_after_jitter_spreads_clients_told_the_same_second() {
        let p = RetryPolicy::default();
        let waits: Vec<_> = (0..200)
            .map(|_| p.delay(1, Some(Duration::from_secs(1))).unwrap())
            .collect();
        let (min, max) = (waits.iter().min().unwrap(), waits.iter().max().unwrap());
        assert!(*min >= Duration::from_secs(1));
        assert!(*max - *min > Duration::from_millis(250), "{min:?}..{max:?}");
    }

    #[test]
    fn lifecycle_operations_retry_a_bare_conflict_only() {
        let p = RetryPolicy::default();
        assert!(p.retries_status("start_cvm", &Method::POST, StatusCode::CONFLICT, false));
        assert!(!p.retries_status("start_cvm", &Method::POST, StatusCode::CONFLICT, true));
        assert!(!p.retries_status("start_cvm", &Method::POST, StatusCode::BAD_GATEWAY, false));
        assert!(p.reads_conflicts("start_cvm", &Method::POST));
        assert!(!p.reads_conflicts("get_cvm", &Method::GET));
        // `delete_cvm` is a lifecycle operation before it is a DELETE.
        assert!(p.retries_status("delete_cvm", &Method::DELETE, StatusCode::CONFLICT, false));
        assert!(!p.retries_status(
            "delete_cvm",
            &Method::DELETE,
            StatusCode::BAD_GATEWAY,
            false
        ));
        assert!(p.retries_status(
            "delete_ssh_key",
            &Method::DELETE,
            StatusCode::BAD_GATEWAY,
            false
        ));
    }

    #[test]
    fn delays_grow_with_jitter_and_respect_the_cap() {
        let p = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(350));
        let ms = Duration::from_millis;
        for _ in 0..100 {
            assert!(p.delay(1, None).unwrap() <= ms(100));
            assert!(p.delay(3, None).unwrap() <= ms(350));
            assert!(p.delay(30, None).unwrap() <= ms(350));
            let after = p.delay(1, Some(ms(20))).unwrap();
            assert!(after >= ms(20) && after <= ms(120), "{after:?}");
        }
        assert_eq!(p.delay(1, Some(Duration::from_secs(1))), None);
        assert_eq!(RetryPolicy::none().attempts(), 1);
        assert_eq!(RetryPolicy::default().max_attempts(0).attempts(), 1);
    }
}
