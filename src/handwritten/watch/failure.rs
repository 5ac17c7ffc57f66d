//! When waiting for a CVM is pointless: it reported a boot error, or a
//! state it does not leave by itself.

use super::CvmState;

/// The statuses a CVM does not leave by itself, whatever is waited for:
/// `deleting` is in the API's lifecycle vocabulary, the others are what the
/// CVM events and the official SDKs call a failed creation.
const TERMINAL: [&str; 5] = ["deleting", "deleted", "error", "failed", "create_failed"];

/// A CVM reported a boot error, or a status it does not leave by itself
/// (`deleting`, `deleted`, `error`, `failed`, `create_failed`, and
/// `exited` while `running` is waited for; never the status waited for),
/// while
/// [`Client::wait_for_cvm_state`](crate::Client::wait_for_cvm_state) or a
/// deploy waited for another: waiting longer would not change it.
///
/// ```
/// # fn show(err: phala_cloud::Error) {
/// if let Some(failure) = err.cvm_failure() {
///     println!("{} ({:?})", failure.state.status, failure.state.boot_error);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the CVM will not reach `{target}`: {reason}")]
#[non_exhaustive]
pub struct CvmFailure {
    /// The status waited for.
    pub target: String,
    /// What the CVM reported, in a few words.
    pub reason: String,
    /// The CVM's last state, as it reported it.
    pub state: CvmState,
}

impl CvmFailure {
    /// The failure `state` shows while waiting for `target`, if any.
    pub(crate) fn of(state: &CvmState, target: &str) -> Option<Self> {
        let reason = match state.boot_error.as_deref().map(str::trim) {
            Some(error) if !error.is_empty() => format!("boot error: {error}"),
            _ if terminal(&state.status.to_string(), target) => {
                format!("it is `{}`", state.status)
            }
            _ => return None,
        };
        Some(Self {
            target: target.to_string(),
            reason,
            state: state.clone(),
        })
    }
}

/// Whether `status` ends a wait for `target`: an app that exited does not
/// come back to `running` by itself, but `exited` may be where a stop ends.
fn terminal(status: &str, target: &str) -> bool {
    status != target && (TERMINAL.contains(&status) || (status == "exited" && target == "running"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: &str, boot_error: Option<&str>) -> CvmState {
        let state = CvmState::builder().name("app").status(status);
        match boot_error {
            Some(error) => state.boot_error(error),
            None => state,
        }
        .try_into()
        .unwrap()
    }

    #[test]
    fn a_boot_error_or_a_terminal_status_is_a_failure() {
        let failure = CvmFailure::of(&state("starting", Some("image pull failed")), "running");
        assert_eq!(
            failure.unwrap().to_string(),
            "the CVM will not reach `running`: boot error: image pull failed"
        );
        let failure = CvmFailure::of(&state("exited", None), "running").unwrap();
        assert_eq!(failure.reason, "it is `exited`");
        for (status, boot_error, target) in [
            ("starting", None, "running"),
            ("starting", Some(" "), "running"),
            ("exited", None, "exited"),
            ("exited", None, "stopped"),
            ("stopped", None, "running"),
        ] {
            assert_eq!(CvmFailure::of(&state(status, boot_error), target), None);
        }
    }
}
