//! The idgate domain: applicants, verification cases and change requests with their state
//! machines, the reason catalog, audit events, the clock port and redaction of personal data.
//!
//! Architecture invariant: this crate does no I/O and knows nothing about HTTP, SQL or
//! JSON. It depends on no other idgate crate.

pub mod business;
pub mod case;
pub mod change;
pub mod clock;
pub mod identity;
pub mod pii;
pub mod reason;
pub mod words;

pub use business::{BusinessEvent, BusinessStatus, BusinessTransitionError, Evaluation};
pub use case::{CaseEvent, CaseStatus, Decision, TransitionError};
pub use change::{ChangeChecks, ChangeEvent, ChangeStatus, ChangeTransitionError};
pub use clock::{rfc3339, Clock, FixedClock, SystemClock};
pub use identity::{ClaimStatus, IdentityKey, KeyKind};
pub use pii::Redacted;
pub use reason::{Lang, ReasonCode, RejectType};
pub use words::{ChallengeStatus, ReviewerRole, Visibility};
