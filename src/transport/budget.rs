//! The client-wide retry budget: a token bucket in the spirit of the AWS
//! SDKs' standard retry mode, so that many calls failing at once do not
//! multiply the load on a server that is already struggling.
//!
//! A retry takes [`RETRY_COST`] tokens ([`TIMEOUT_RETRY_COST`] after a
//! timeout, which holds a connection longer); an answer that is not a
//! transient failure puts back the cost of the call's last retry, or
//! [`SUCCESS_REFILL`] when it needed none. An empty bucket means no retry:
//! the call fails at once with its failure. First attempts never wait for
//! tokens.

use std::sync::atomic::{AtomicU32, Ordering};

/// The tokens one retry takes.
pub(crate) const RETRY_COST: u32 = 5;
/// The tokens one retry after a timeout takes.
pub(crate) const TIMEOUT_RETRY_COST: u32 = 10;
/// The tokens a call that needed no retry puts back.
pub(crate) const SUCCESS_REFILL: u32 = 1;

/// The bucket, shared by every clone of a client.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    tokens: AtomicU32,
    capacity: u32,
}

impl RetryBudget {
    /// A full bucket of `capacity` tokens.
    pub(crate) fn new(capacity: u32) -> Self {
        Self {
            tokens: AtomicU32::new(capacity),
            capacity,
        }
    }

    /// Takes `cost` tokens if the bucket holds that many.
    pub(crate) fn try_spend(&self, cost: u32) -> bool {
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| t.checked_sub(cost))
            .is_ok()
    }

    /// Puts `tokens` back, up to the capacity.
    pub(crate) fn refill(&self, tokens: u32) {
        let capacity = self.capacity;
        // The closure always returns `Some`: the update cannot fail.
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_add(tokens).min(capacity))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_drain_the_bucket_and_successes_fill_it_up_to_its_capacity() {
        let budget = RetryBudget::new(12);
        assert!(budget.try_spend(RETRY_COST));
        assert!(budget.try_spend(RETRY_COST));
        assert!(!budget.try_spend(RETRY_COST), "2 tokens left");
        budget.refill(SUCCESS_REFILL);
        budget.refill(SUCCESS_REFILL);
        budget.refill(SUCCESS_REFILL);
        assert!(budget.try_spend(RETRY_COST));
        budget.refill(100);
        assert!(budget.try_spend(12));
        assert!(!budget.try_spend(1), "never more than the capacity");
        assert!(!RetryBudget::new(5).try_spend(TIMEOUT_RETRY_COST));
    }
}
