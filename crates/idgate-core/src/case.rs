//! A case is one verification attempt of an applicant for a level. Its status changes
//! only through [`CaseStatus::apply`]; the store persists the result together with an
//! audit event.
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> draft
//!     draft --> submitted: submit
//!     submitted --> processing: processing started
//!     processing --> approved: decide(approve)
//!     processing --> resubmission_requested: decide(retry)
//!     processing --> rejected: decide(final)
//!     processing --> in_review: decide(review)
//!     in_review --> approved: reviewer decides
//!     in_review --> resubmission_requested: reviewer decides
//!     in_review --> rejected: reviewer decides
//! ```
//!
//! `approved`, `resubmission_requested` and `rejected` are terminal for the case; a
//! retry is a new case. A worker that crashes while `processing` leaves the status as
//! it is: the job queue hands the case to another worker, which carries on.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaseStatus {
    Draft,
    Submitted,
    Processing,
    Approved,
    ResubmissionRequested,
    Rejected,
    InReview,
}

/// The outcome of automated checks or of a reviewer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    /// The applicant may try again (RETRY reasons).
    Retry,
    /// Final rejection (FINAL reasons).
    Reject,
    /// A human must decide.
    Review,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseEvent {
    Submit,
    StartProcessing,
    /// Automated decision at the end of processing.
    Decide(Decision),
    /// A reviewer's decision on a case in review (`Review` is not allowed).
    ReviewerDecide(Decision),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a case that is {from} cannot take the event {event:?}")]
pub struct TransitionError {
    pub from: CaseStatus,
    pub event: CaseEvent,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 7] = [
        CaseStatus::Draft,
        CaseStatus::Submitted,
        CaseStatus::Processing,
        CaseStatus::Approved,
        CaseStatus::ResubmissionRequested,
        CaseStatus::Rejected,
        CaseStatus::InReview,
    ];

    /// Stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Draft => "draft",
            CaseStatus::Submitted => "submitted",
            CaseStatus::Processing => "processing",
            CaseStatus::Approved => "approved",
            CaseStatus::ResubmissionRequested => "resubmission_requested",
            CaseStatus::Rejected => "rejected",
            CaseStatus::InReview => "in_review",
        }
    }

    pub fn parse(s: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            CaseStatus::Approved | CaseStatus::ResubmissionRequested | CaseStatus::Rejected
        )
    }

    /// The one place where a status changes.
    pub fn apply(self, event: CaseEvent) -> Result<CaseStatus, TransitionError> {
        use CaseEvent::*;
        use CaseStatus::*;
        let decided = |d: Decision| match d {
            Decision::Approve => Approved,
            Decision::Retry => ResubmissionRequested,
            Decision::Reject => Rejected,
            Decision::Review => InReview,
        };
        match (self, event) {
            (Draft, Submit) => Ok(Submitted),
            (Submitted, StartProcessing) => Ok(Processing),
            (Processing, Decide(d)) => Ok(decided(d)),
            (InReview, ReviewerDecide(d)) if d != Decision::Review => Ok(decided(d)),
            (from, event) => Err(TransitionError { from, event }),
        }
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseEvent::*;
    use CaseStatus::*;
    use Decision::*;

    #[test]
    fn allowed_transitions() {
        for (from, event, to) in [
            (Draft, Submit, Submitted),
            (Submitted, StartProcessing, Processing),
            (Processing, Decide(Approve), Approved),
            (Processing, Decide(Retry), ResubmissionRequested),
            (Processing, Decide(Reject), Rejected),
            (Processing, Decide(Review), InReview),
            (InReview, ReviewerDecide(Approve), Approved),
            (InReview, ReviewerDecide(Retry), ResubmissionRequested),
            (InReview, ReviewerDecide(Reject), Rejected),
        ] {
            assert_eq!(from.apply(event), Ok(to), "{from} --{event:?}-->");
        }
    }

    #[test]
    fn everything_else_is_refused() {
        let events = [
            Submit,
            StartProcessing,
            Decide(Approve),
            Decide(Review),
            ReviewerDecide(Approve),
            ReviewerDecide(Review),
        ];
        let mut refused = 0;
        for from in CaseStatus::ALL {
            for event in events {
                let allowed = matches!(
                    (from, event),
                    (Draft, Submit)
                        | (Submitted, StartProcessing)
                        | (Processing, Decide(_))
                        | (InReview, ReviewerDecide(Approve))
                );
                if !allowed {
                    assert_eq!(from.apply(event), Err(TransitionError { from, event }));
                    refused += 1;
                }
            }
        }
        assert!(refused > 30);
        // Terminal states take no event at all.
        for from in CaseStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            assert!(events.iter().all(|e| from.apply(*e).is_err()), "{from}");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(CaseStatus::parse("done"), None);
    }
}
