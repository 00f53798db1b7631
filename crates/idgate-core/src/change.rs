//! A change request asks to change an applicant's verified data after approval. Its status
//! changes only through [`ChangeStatus::apply`].
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> awaiting_documents: identity fields change
//!     [*] --> pending: other fields change
//!     awaiting_documents --> checking: submit
//!     checking --> awaiting_documents: checks ask for a retake (RETRY)
//!     checking --> rejected: checks refuse (FINAL)
//!     checking --> pending: checks pass (or need a person)
//!     pending --> awaiting_second_approval: approve (identity change)
//!     pending --> approved: approve (other change)
//!     awaiting_second_approval --> approved: approve by another reviewer
//!     pending --> rejected: reject
//!     awaiting_second_approval --> rejected: reject
//! ```
//!
//! Identity fields (name, birth date, nationality, document) change only with a newly
//! uploaded document that the checks hold the new data against, and with two reviewers.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeStatus {
    AwaitingDocuments,
    Checking,
    Pending,
    AwaitingSecondApproval,
    Approved,
    Rejected,
}

/// What the checks of a change concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeChecks {
    /// Nothing stands against it (or only what a reviewer decides).
    Passed,
    /// The document must be uploaded again (RETRY reasons).
    Retake,
    /// Refused for good (FINAL reasons).
    Refused,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeEvent {
    /// The document for an identity change is uploaded; the checks run.
    Submit,
    Checked(ChangeChecks),
    /// A reviewer approves; `second_needed` when the change needs two reviewers and this is
    /// the first approval.
    Approve {
        second_needed: bool,
    },
    Reject,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a change request that is {from} cannot take the event {event:?}")]
pub struct ChangeTransitionError {
    pub from: ChangeStatus,
    pub event: ChangeEvent,
}

impl ChangeStatus {
    pub const ALL: [ChangeStatus; 6] = [
        ChangeStatus::AwaitingDocuments,
        ChangeStatus::Checking,
        ChangeStatus::Pending,
        ChangeStatus::AwaitingSecondApproval,
        ChangeStatus::Approved,
        ChangeStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeStatus::AwaitingDocuments => "awaiting_documents",
            ChangeStatus::Checking => "checking",
            ChangeStatus::Pending => "pending",
            ChangeStatus::AwaitingSecondApproval => "awaiting_second_approval",
            ChangeStatus::Approved => "approved",
            ChangeStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeStatus> {
        ChangeStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Decided: nothing changes it any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, ChangeStatus::Approved | ChangeStatus::Rejected)
    }

    /// Waiting for a reviewer.
    pub fn awaits_reviewer(self) -> bool {
        matches!(
            self,
            ChangeStatus::Pending | ChangeStatus::AwaitingSecondApproval
        )
    }

    /// The one place where a change request's status changes.
    pub fn apply(self, event: ChangeEvent) -> Result<ChangeStatus, ChangeTransitionError> {
        use ChangeEvent::*;
        use ChangeStatus::*;
        match (self, event) {
            (AwaitingDocuments, Submit) => Ok(Checking),
            (Checking, Checked(ChangeChecks::Passed)) => Ok(Pending),
            (Checking, Checked(ChangeChecks::Retake)) => Ok(AwaitingDocuments),
            (Checking, Checked(ChangeChecks::Refused)) => Ok(Rejected),
            (
                Pending,
                Approve {
                    second_needed: true,
                },
            ) => Ok(AwaitingSecondApproval),
            (
                Pending,
                Approve {
                    second_needed: false,
                },
            ) => Ok(Approved),
            (
                AwaitingSecondApproval,
                Approve {
                    second_needed: false,
                },
            ) => Ok(Approved),
            (Pending | AwaitingSecondApproval, Reject) => Ok(Rejected),
            (from, event) => Err(ChangeTransitionError { from, event }),
        }
    }
}

impl fmt::Display for ChangeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChangeEvent::*;
    use ChangeStatus::*;

    #[test]
    fn an_identity_change_needs_its_checks_and_two_approvals() {
        let mut s = AwaitingDocuments;
        for (event, next) in [
            (Submit, Checking),
            (Checked(ChangeChecks::Retake), AwaitingDocuments),
            (Submit, Checking),
            (Checked(ChangeChecks::Passed), Pending),
            (
                Approve {
                    second_needed: true,
                },
                AwaitingSecondApproval,
            ),
            (
                Approve {
                    second_needed: false,
                },
                Approved,
            ),
        ] {
            s = s.apply(event).unwrap();
            assert_eq!(s, next);
        }
        assert!(s.is_terminal());
    }

    #[test]
    fn nothing_is_approved_before_its_checks_or_after_a_decision() {
        let approve = Approve {
            second_needed: false,
        };
        for (from, event) in [
            (AwaitingDocuments, approve),
            (Checking, approve),
            (Checking, Reject),
            (Pending, Submit),
            (Approved, Reject),
            (Rejected, approve),
            (AwaitingSecondApproval, Checked(ChangeChecks::Passed)),
        ] {
            assert_eq!(
                from.apply(event),
                Err(ChangeTransitionError { from, event }),
                "{from} {event:?}"
            );
        }
        assert_eq!(Checking.apply(Checked(ChangeChecks::Refused)), Ok(Rejected));
        for s in ChangeStatus::ALL {
            assert_eq!(ChangeStatus::parse(s.as_str()), Some(s));
        }
    }
}
