//! When a request is tried again, and how long the client waits first.

use std::time::Duration;

use reqwest::{Method, StatusCode};

/// The operations that retry a transient conflict (409 without an error
/// code: "another operation in progress"), 429 and 503 although they are
/// POST or PATCH: the CVM lifecycle and update operations, which the server
/// refuses while another one runs and which are safe to repeat. The same set
/// as the official Go SDK's.
const RETRY_ON_CONFLICT: &[&str] = &[
    "provision_cvm",
    "start_cvm",
    "stop_cvm",
    "shutdown_cvm",
    "restart_cvm",
    "delete_cvm",
    "patch_cvm",
    "update_cvm_listed",
    "update_cvm_os_image",
    "update_cvm_envs",
    "refresh_cvm_instance_id",
    "batch_refresh_cvm_instance_ids",
    "provision_for_cvm_compose_file_update",
    "trigger_cvm_compose_file_update",
    "update_docker_compose",
    "update_pre_launch_script",
];

/// How the client retries a request that failed transiently.
///
/// Per request, by method and operation:
/// - GET, HEAD, PUT, DELETE: connection failures, timeouts, 429, 502, 503, 504;
/// - the CVM lifecycle and update operations (`start_cvm`, `patch_cvm`, …):
///   connection failures, 429, 503, and a 409 without an error code;
/// - other POST and PATCH requests (creating, committing): never, unless
///   [`RetryPolicy::retry_non_idempotent`] opts in.
///
/// Waits grow exponentially from `base_delay` up to `max_delay`, with full
/// jitter; a `Retry-After` from the server is honoured up to `max_delay`.
/// Dropping the request's future stops the retries.
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
    retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
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

    /// The longest wait, also the cap on `Retry-After` (default 20 s).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
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

    fn class(&self, operation: &str, method: &Method) -> Class {
        if RETRY_ON_CONFLICT.contains(&operation) {
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
            Class::Idempotent => error.is_connect() || error.is_timeout(),
            // The request never reached the server.
            Class::Lifecycle => error.is_connect(),
            Class::Never => false,
        }
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
    /// jitter over the exponential step, or the server's `Retry-After`.
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let step = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.max_delay);
        step.mul_f64(unit_random())
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
    fn lifecycle_operations_retry_a_bare_conflict_only() {
        let p = RetryPolicy::default();
        assert!(p.retries_status("start_cvm", &Method::POST, StatusCode::CONFLICT, false));
        assert!(!p.retries_status("start_cvm", &Method::POST, StatusCode::CONFLICT, true));
        assert!(!p.retries_status("start_cvm", &Method::POST, StatusCode::BAD_GATEWAY, false));
        assert!(p.reads_conflicts("start_cvm", &Method::POST));
        assert!(!p.reads_conflicts("get_cvm", &Method::GET));
    }

    #[test]
    fn delays_grow_with_jitter_and_respect_the_cap() {
        let p = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(350));
        for _ in 0..100 {
            assert!(p.delay(1, None) <= Duration::from_millis(100));
            assert!(p.delay(3, None) <= Duration::from_millis(350));
            assert!(p.delay(30, None) <= Duration::from_millis(350));
        }
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(1))),
            Duration::from_millis(350)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_millis(20))),
            Duration::from_millis(20)
        );
        assert_eq!(RetryPolicy::none().attempts(), 1);
        assert_eq!(RetryPolicy::default().max_attempts(0).attempts(), 1);
    }

    #[test]
    fn every_conflict_retrying_operation_exists() {
        let hand_written: Vec<_> = phala_cloud_codegen::normalize::HAND_WRITTEN
            .iter()
            .map(|h| h.name)
            .collect();
        for name in RETRY_ON_CONFLICT {
            let generated = crate::OPERATIONS.iter().any(|o| o.name == *name);
            assert!(
                generated || hand_written.contains(name),
                "{name} is not an operation"
            );
        }
    }
}
