//! From findings to a decision. Pure: the caller gathers the photo checks, the claims other
//! accounts hold on this identity and the account's attempt history, and stores what comes
//! back.
//!
//! Precedence: any FINAL reason rejects; otherwise any RETRY reason asks for a resubmission
//! (a person need not look at a photo the applicant can retake); otherwise any REVIEW
//! reason sends the case to a reviewer; otherwise it is approved.

use crate::assess::{self, Application, Extracted};
use crate::attempts::{self, Attempt};
use crate::finding::Finding;
use crate::identity::{self, Claim};
use crate::policy::{Policy, Step};
use idgate_core::{Decision, ReasonCode, RejectType};
use idgate_mrz::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Approved,
    ResubmissionRequested,
    Rejected,
    InReview,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::ResubmissionRequested => "resubmission_requested",
            Outcome::Rejected => "rejected",
            Outcome::InReview => "in_review",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [
            Outcome::Approved,
            Outcome::ResubmissionRequested,
            Outcome::Rejected,
            Outcome::InReview,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }

    /// The case state machine's event for this outcome.
    pub fn decision(self) -> Decision {
        match self {
            Outcome::Approved => Decision::Approve,
            Outcome::ResubmissionRequested => Decision::Retry,
            Outcome::Rejected => Decision::Reject,
            Outcome::InReview => Decision::Review,
        }
    }

    pub fn failed(self) -> bool {
        matches!(self, Outcome::ResubmissionRequested | Outcome::Rejected)
    }
}

pub fn outcome(findings: &[Finding]) -> Outcome {
    let has = |t: RejectType| findings.iter().any(|f| f.reject_type == t);
    if has(RejectType::Final) {
        Outcome::Rejected
    } else if has(RejectType::Retry) {
        Outcome::ResubmissionRequested
    } else if has(RejectType::Review) {
        Outcome::InReview
    } else {
        Outcome::Approved
    }
}

/// Everything a decision is made from.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub app: Application,
    pub extracted: Extracted,
    /// Findings of the photo checks on every uploaded side.
    pub photo_findings: Vec<Finding>,
    /// Other accounts holding this application's identity keys.
    pub claims: Vec<Claim>,
    /// This account's earlier attempts.
    pub history: Vec<Attempt>,
    /// Steps this account verified before (reused, not asked again).
    pub verified: Vec<Step>,
    pub selfie_supplied: bool,
    /// Findings of the face checks on the selfie (none: it matches the document).
    pub face_findings: Vec<Finding>,
    pub proof_of_address_supplied: bool,
    /// Suspicions an earlier attempt of this account raised that no person has looked at
    /// yet (policy `suspicion.action = "flag"`).
    pub flags: Vec<ReasonCode>,
}

#[derive(Clone, Debug)]
pub struct Verdict {
    pub outcome: Outcome,
    pub findings: Vec<Finding>,
    /// When the applicant may try again (RETRY outcomes and throttled attempts).
    pub retry_after_ms: Option<i64>,
    /// Steps this decision verifies (all the level's steps, if approved).
    pub verifies: Vec<Step>,
    /// The level the account holds after this decision.
    pub level: Option<String>,
    /// Suspicions to keep on the account because this decision did not send them to a
    /// person (policy `suspicion.action = "flag"`).
    pub raises: Vec<ReasonCode>,
}

/// Refuses an attempt that comes before its cooldown ended, before any image is looked at.
pub fn throttle(policy: &Policy, history: &[Attempt], now_ms: i64) -> Option<Verdict> {
    let at = attempts::retry_after(&policy.attempts, history, now_ms)?;
    let code = ReasonCode::TooManyAttempts;
    Some(Verdict {
        outcome: Outcome::ResubmissionRequested,
        findings: vec![Finding::new(
            code,
            policy.reject_type(code),
            format!("next attempt allowed in {} s", (at - now_ms + 999) / 1000),
        )],
        retry_after_ms: Some(at),
        verifies: Vec::new(),
        level: None,
        raises: Vec::new(),
    })
}

pub fn decide(policy: &Policy, inputs: &Inputs, today: Date, now_ms: i64) -> Verdict {
    let current = |verified: &[Step]| policy.reached_level(verified).map(|l| l.name.clone());
    let Some(level) = policy.level(&inputs.app.level) else {
        let code = ReasonCode::ComplianceReview;
        return Verdict {
            outcome: Outcome::InReview,
            findings: vec![Finding::new(
                code,
                RejectType::Review,
                format!("unknown level {:?}", inputs.app.level),
            )],
            retry_after_ms: None,
            verifies: Vec::new(),
            level: current(&inputs.verified),
            raises: Vec::new(),
        };
    };
    let needed = policy.missing_steps(level, &inputs.verified);
    let mut findings = Vec::new();
    if needed.contains(&Step::IdentityDocument) {
        findings.extend(inputs.photo_findings.iter().cloned());
        findings.extend(assess::assess(
            policy,
            &inputs.app,
            &inputs.extracted,
            today,
        ));
        findings.extend(identity::duplicate_findings(policy, &inputs.claims));
    }
    if needed.contains(&Step::Selfie) {
        if inputs.selfie_supplied {
            findings.extend(inputs.face_findings.iter().cloned());
        } else {
            let code = ReasonCode::FaceNotFound;
            findings.push(
                Finding::new(code, policy.reject_type(code), "no selfie was supplied")
                    .about("selfie"),
            );
        }
    }
    if needed.contains(&Step::ProofOfAddress) {
        let finding = if inputs.proof_of_address_supplied {
            Finding::new(
                ReasonCode::ComplianceReview,
                RejectType::Review,
                "proof of address: checked by a reviewer",
            )
        } else {
            let code = ReasonCode::MissingSide;
            Finding::new(
                code,
                policy.reject_type(code),
                "no proof of address was supplied",
            )
        };
        findings.push(finding.about("proof_of_address"));
    }
    dedup(&mut findings);
    let mut out = outcome(&findings);
    let mut history = inputs.history.clone();
    history.push(Attempt {
        at_ms: now_ms,
        failed: out.failed(),
    });
    if out == Outcome::ResubmissionRequested
        && attempts::escalate(&policy.attempts, &history, now_ms)
    {
        findings.push(Finding::new(
            ReasonCode::ComplianceReview,
            RejectType::Review,
            format!(
                "{} failed attempts in {} h: a person helps from here",
                policy.attempts.escalate_after, policy.attempts.window_hours
            ),
        ));
        out = Outcome::InReview;
    }
    let (out, raises) = suspicions(policy, &mut findings, out, &inputs.flags);
    let retry_after_ms = match out {
        Outcome::ResubmissionRequested => {
            Some(attempts::retry_after(&policy.attempts, &history, now_ms).unwrap_or(now_ms))
        }
        _ => None,
    };
    let mut verified = inputs.verified.clone();
    let verifies = if out == Outcome::Approved {
        verified.extend(needed.iter().copied());
        needed
    } else {
        Vec::new()
    };
    Verdict {
        outcome: out,
        findings,
        retry_after_ms,
        verifies,
        level: current(&verified),
        raises,
    }
}

/// A suspicion is never lost behind a retake request: with the policy's `review` the case
/// goes to a person now, with `flag` the suspicion stays on the account (returned) for the
/// next attempt. An account already flagged goes to a person whatever this attempt found,
/// unless it is refused for good anyway.
fn suspicions(
    policy: &Policy,
    findings: &mut Vec<Finding>,
    out: Outcome,
    flags: &[ReasonCode],
) -> (Outcome, Vec<ReasonCode>) {
    use crate::policy::SuspicionAction;
    let mut raised: Vec<ReasonCode> = Vec::new();
    for f in findings.iter() {
        if policy.suspicion.codes.contains(&f.code) && !raised.contains(&f.code) {
            raised.push(f.code);
        }
    }
    let names = |codes: &[ReasonCode]| {
        codes
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !flags.is_empty() && matches!(out, Outcome::Approved | Outcome::ResubmissionRequested) {
        findings.push(Finding::new(
            ReasonCode::ComplianceReview,
            RejectType::Review,
            format!(
                "an earlier attempt raised {} that no person has looked at yet",
                names(flags)
            ),
        ));
        return (Outcome::InReview, Vec::new());
    }
    if out != Outcome::ResubmissionRequested || raised.is_empty() {
        return (out, Vec::new());
    }
    match policy.suspicion.action {
        SuspicionAction::Review => {
            findings.push(Finding::new(
                ReasonCode::ComplianceReview,
                RejectType::Review,
                format!(
                    "{} found beside retake reasons: a person looks before the applicant retries",
                    names(&raised)
                ),
            ));
            (Outcome::InReview, Vec::new())
        }
        SuspicionAction::Flag => (out, raised),
    }
}

/// One finding per code and subject, the most severe kept: two keys of one duplicate are
/// one duplicate, and a final refusal outweighs a review of the same thing.
fn dedup(findings: &mut Vec<Finding>) {
    let severity = |t: RejectType| match t {
        RejectType::Final => 2,
        RejectType::Retry => 1,
        RejectType::Review => 0,
    };
    let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings.drain(..) {
        match kept
            .iter_mut()
            .find(|k| k.code == f.code && k.subject == f.subject)
        {
            Some(k) if severity(f.reject_type) > severity(k.reject_type) => *k = f,
            Some(_) => {}
            None => kept.push(f),
        }
    }
    *findings = kept;
}
