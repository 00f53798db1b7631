//! Small domain vocabularies that are stored and sent as words: a reviewer's role, a
//! liveness challenge's status and who may read a comment. Each word is parsed once where it enters (the database or
//! a request); inside idgate it is the enum.

/// What a reviewer account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReviewerRole {
    /// Reads the queue, cases, findings, comments and the audit trail.
    Auditor,
    /// Also claims cases, comments, and decides cases and change requests.
    Reviewer,
    /// Also takes over or releases a case another reviewer holds, and writes to the
    /// applicant on any case.
    Supervisor,
    /// Also invites reviewers and disables their accounts, and reads the security log.
    Admin,
}

impl ReviewerRole {
    pub const ALL: [ReviewerRole; 4] = [
        ReviewerRole::Auditor,
        ReviewerRole::Reviewer,
        ReviewerRole::Supervisor,
        ReviewerRole::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewerRole::Auditor => "auditor",
            ReviewerRole::Reviewer => "reviewer",
            ReviewerRole::Supervisor => "supervisor",
            ReviewerRole::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewerRole> {
        ReviewerRole::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// May change cases (claim, comment, decide); an auditor only reads.
    pub fn may_act(self) -> bool {
        self != ReviewerRole::Auditor
    }

    /// May take over or release a case another reviewer holds.
    pub fn supervises(self) -> bool {
        matches!(self, ReviewerRole::Supervisor | ReviewerRole::Admin)
    }

    /// Invites reviewers, disables accounts and reads the security log.
    pub fn administers(self) -> bool {
        self == ReviewerRole::Admin
    }

    /// Must sign in to the console with a second factor (an auditor only reads and may
    /// sign in with a password alone, though it may enrol one too).
    pub fn needs_second_factor(self) -> bool {
        self != ReviewerRole::Auditor
    }
}

/// Where an active liveness challenge stands: issued and waiting for its one answer, or
/// answered (passed or failed), or answered too late.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChallengeStatus {
    Issued,
    Passed,
    Failed,
    Expired,
}

impl ChallengeStatus {
    pub const ALL: [ChallengeStatus; 4] = [
        ChallengeStatus::Issued,
        ChallengeStatus::Passed,
        ChallengeStatus::Failed,
        ChallengeStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeStatus::Issued => "issued",
            ChallengeStatus::Passed => "passed",
            ChallengeStatus::Failed => "failed",
            ChallengeStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<ChallengeStatus> {
        ChallengeStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Who reads a comment on a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Shown to the applicant with the case's status.
    Applicant,
    /// Reviewers only.
    Internal,
}

impl Visibility {
    pub const ALL: [Visibility; 2] = [Visibility::Applicant, Visibility::Internal];

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Applicant => "applicant",
            Visibility::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<Visibility> {
        Visibility::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_parses_back_and_no_other() {
        for r in ReviewerRole::ALL {
            assert_eq!(ReviewerRole::parse(r.as_str()), Some(r));
        }
        for c in ChallengeStatus::ALL {
            assert_eq!(ChallengeStatus::parse(c.as_str()), Some(c));
        }
        for v in Visibility::ALL {
            assert_eq!(Visibility::parse(v.as_str()), Some(v));
        }
        assert_eq!(Visibility::parse("public"), None);
        assert_eq!(ReviewerRole::parse("root"), None);
        assert_eq!(ReviewerRole::parse("Admin"), None);
        assert_eq!(ChallengeStatus::parse("Issued"), None);
        assert!(!ReviewerRole::Auditor.may_act() && ReviewerRole::Reviewer.may_act());
        assert!(ReviewerRole::Supervisor.supervises() && !ReviewerRole::Reviewer.supervises());
        assert!(ReviewerRole::Admin.supervises() && ReviewerRole::Admin.administers());
        assert!(!ReviewerRole::Supervisor.administers());
        assert!(!ReviewerRole::Auditor.needs_second_factor());
        assert!(
            ReviewerRole::Reviewer.needs_second_factor()
                && ReviewerRole::Admin.needs_second_factor()
        );
    }
}
