//! The collateral's validity window, checked before the quote so that an
//! expired collateral is told apart from a quote that does not verify.

use chrono::DateTime;
use serde::Deserialize;

use super::{AttestationError, Collateral};

/// The dates of a TCB info or QE identity document.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Dates {
    issue_date: String,
    next_update: String,
}

/// Both documents must be issued at or before `now` and not past their
/// `nextUpdate` (the same bounds `dcap-qvl` applies).
pub(super) fn check_validity(collateral: &Collateral, now: u64) -> Result<(), AttestationError> {
    for (what, document) in [
        ("TCB info", &collateral.tcb_info),
        ("QE identity", &collateral.qe_identity),
    ] {
        let malformed = |e: String| AttestationError::MalformedCollateral(format!("{what}: {e}"));
        let dates: Dates = serde_json::from_str(document).map_err(|e| malformed(e.to_string()))?;
        let unix = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.timestamp())
                .map_err(|e| malformed(format!("date {text:?}: {e}")))
        };
        let (issued, next_update) = (unix(&dates.issue_date)?, unix(&dates.next_update)?);
        let now_signed = i64::try_from(now).unwrap_or(i64::MAX);
        if now_signed < issued {
            return Err(AttestationError::CollateralNotYetValid { what, issued, now });
        }
        if now_signed > next_update {
            return Err(AttestationError::CollateralExpired {
                what,
                next_update,
                now,
            });
        }
    }
    Ok(())
}
