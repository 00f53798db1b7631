//! A business applicant's onboarding (KYB). Its status changes only through
//! [`BusinessStatus::apply`]; the store persists the result with an audit event.
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> draft
//!     draft --> resubmission_requested: submit, something to fix
//!     draft --> awaiting_parties: submit, people still to verify
//!     draft --> in_review: submit, complete
//!     resubmission_requested --> ...: submit again (as from draft)
//!     awaiting_parties --> in_review: every person verified (or one refused)
//!     in_review --> approved: reviewer approves
//!     in_review --> resubmission_requested: reviewer asks for more
//!     in_review --> rejected: reviewer rejects
//! ```
//!
//! The business edits its documents, parties and relations only while it is `draft` or
//! `resubmission_requested`; entity documents are accepted or rejected by reviewers, so
//! every complete submission reaches a person before approval. `approved` and `rejected`
//! are final.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BusinessStatus {
    Draft,
    ResubmissionRequested,
    AwaitingParties,
    InReview,
    Approved,
    Rejected,
}

/// Where the automated evaluation of a submitted business leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evaluation {
    /// Something the business must fix (a missing document, undeclared ownership).
    Fix,
    /// Complete on paper; people among its parties are still verifying.
    AwaitParties,
    /// Complete: a reviewer judges the documents and decides.
    Review,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusinessEvent {
    Submit(Evaluation),
    /// A person among the parties was decided: the business is evaluated again.
    PartiesChanged(Evaluation),
    /// A reviewer's decision: approve, ask for more, reject.
    Approve,
    RequestResubmission,
    Reject,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a business that is {from} cannot take the event {event:?}")]
pub struct BusinessTransitionError {
    pub from: BusinessStatus,
    pub event: BusinessEvent,
}

impl BusinessStatus {
    pub const ALL: [BusinessStatus; 6] = [
        BusinessStatus::Draft,
        BusinessStatus::ResubmissionRequested,
        BusinessStatus::AwaitingParties,
        BusinessStatus::InReview,
        BusinessStatus::Approved,
        BusinessStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BusinessStatus::Draft => "draft",
            BusinessStatus::ResubmissionRequested => "resubmission_requested",
            BusinessStatus::AwaitingParties => "awaiting_parties",
            BusinessStatus::InReview => "in_review",
            BusinessStatus::Approved => "approved",
            BusinessStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<BusinessStatus> {
        BusinessStatus::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// The business may change its documents, parties and relations.
    pub fn editable(self) -> bool {
        matches!(
            self,
            BusinessStatus::Draft | BusinessStatus::ResubmissionRequested
        )
    }

    /// The one place where a business's status changes.
    pub fn apply(self, event: BusinessEvent) -> Result<BusinessStatus, BusinessTransitionError> {
        use BusinessEvent::*;
        use BusinessStatus::*;
        let evaluated = |e: Evaluation| match e {
            Evaluation::Fix => ResubmissionRequested,
            Evaluation::AwaitParties => AwaitingParties,
            Evaluation::Review => InReview,
        };
        match (self, event) {
            (Draft | ResubmissionRequested, Submit(e)) => Ok(evaluated(e)),
            // Once submitted the business cannot fix anything itself: a refused person
            // goes to a reviewer rather than back to the business.
            (AwaitingParties, PartiesChanged(Evaluation::AwaitParties)) => Ok(AwaitingParties),
            (AwaitingParties, PartiesChanged(_)) => Ok(InReview),
            (InReview, Approve) => Ok(Approved),
            (InReview, RequestResubmission) => Ok(ResubmissionRequested),
            (InReview, Reject) => Ok(Rejected),
            (from, event) => Err(BusinessTransitionError { from, event }),
        }
    }
}

impl fmt::Display for BusinessStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BusinessEvent::*;
    use BusinessStatus::*;

    #[test]
    fn a_business_reaches_approval_only_through_a_reviewer() {
        let s = Draft.apply(Submit(Evaluation::AwaitParties)).unwrap();
        assert_eq!(s, AwaitingParties);
        assert!(!s.editable());
        let s = s.apply(PartiesChanged(Evaluation::AwaitParties)).unwrap();
        let s = s.apply(PartiesChanged(Evaluation::Review)).unwrap();
        assert_eq!(s, InReview);
        assert_eq!(s.apply(Approve), Ok(Approved));
        assert_eq!(s.apply(Reject), Ok(Rejected));
        let back = s.apply(RequestResubmission).unwrap();
        assert!(back.editable());
        assert_eq!(back.apply(Submit(Evaluation::Review)), Ok(InReview));
    }

    #[test]
    fn nothing_else_moves_a_business() {
        let allowed = |from: BusinessStatus, e: BusinessEvent| from.apply(e).is_ok();
        for from in BusinessStatus::ALL {
            assert_eq!(allowed(from, Approve), from == InReview, "{from}");
            assert_eq!(
                allowed(from, Submit(Evaluation::Review)),
                from.editable(),
                "{from}"
            );
            assert_eq!(
                allowed(from, PartiesChanged(Evaluation::Review)),
                from == AwaitingParties,
                "{from}"
            );
        }
        // A fix asked while people verify still goes to a person.
        assert_eq!(
            AwaitingParties.apply(PartiesChanged(Evaluation::Fix)),
            Ok(InReview)
        );
        for s in BusinessStatus::ALL {
            assert_eq!(BusinessStatus::parse(s.as_str()), Some(s));
        }
    }
}
