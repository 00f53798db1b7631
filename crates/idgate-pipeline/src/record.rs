//! How a decision is stored: outcome words, identity-claim changes and the reviewers'
//! findings.

use idgate_core::{Decision, ReasonCode};
use idgate_decide::{Finding, Outcome, Side, UploadKind, Verdict};
use idgate_store::ClaimChange;
use idgate_vision::detail::{Detail, Measure};
use serde_json::{json, Value};

/// What an outcome does to the account's identity keys.
pub fn claim_change(outcome: Outcome) -> ClaimChange {
    match outcome {
        Outcome::Approved => ClaimChange::Verified,
        Outcome::InReview => ClaimChange::Pending,
        Outcome::ResubmissionRequested | Outcome::Rejected => ClaimChange::Release,
    }
}

/// The case event's decision for an engine outcome.
pub fn decision_of(outcome: Outcome) -> Decision {
    match outcome {
        Outcome::Approved => Decision::Approve,
        Outcome::ResubmissionRequested => Decision::Retry,
        Outcome::Rejected => Decision::Reject,
        Outcome::InReview => Decision::Review,
    }
}

/// The engine outcome of a case event's decision.
pub fn outcome_of(decision: Decision) -> Outcome {
    match decision {
        Decision::Approve => Outcome::Approved,
        Decision::Retry => Outcome::ResubmissionRequested,
        Decision::Reject => Outcome::Rejected,
        Decision::Review => Outcome::InReview,
    }
}

/// A stored document's kind and side as domain words; `None` for words this version does
/// not know (a row no API call of it could have written).
pub fn kind_and_side(d: &idgate_store::DocumentData) -> Option<(UploadKind, Side)> {
    Some((UploadKind::parse(&d.kind)?, Side::parse(&d.side)?))
}

/// Reasons (each code once) and verified step names of a verdict, as the store takes them.
pub fn record_parts(verdict: &Verdict) -> (Vec<ReasonCode>, Vec<&'static str>) {
    (
        idgate_decide::unique_codes(&verdict.findings),
        verdict.verifies.iter().map(|s| s.as_str()).collect(),
    )
}

/// A photo finding's typed detail as a JSON object: each measure under its name.
pub fn photo_detail_json(detail: &Detail) -> Value {
    Value::Object(
        detail
            .0
            .iter()
            .map(|(name, m)| {
                let v = match m {
                    Measure::Real(x) => json!(x),
                    Measure::Count(n) => json!(n),
                    Measure::Flag(b) => json!(b),
                    Measure::Text(t) => json!(t),
                    Measure::Texts(list) => json!(list),
                    Measure::Absent => Value::Null,
                };
                (name.to_string(), v)
            })
            .collect(),
    )
}

/// A finding's reviewer-only detail as a JSON object: the checks write measures as JSON
/// objects and notes as text; text becomes `{"note": text}`.
pub fn detail_object(detail: &str) -> Value {
    match serde_json::from_str::<Value>(detail) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({ "note": detail }),
    }
}

/// The findings as stored for reviewers (JSON): code, type, subject and the detail object.
pub fn findings_json(findings: &[Finding]) -> String {
    Value::Array(
        findings
            .iter()
            .map(|f| {
                json!({
                    "code": f.code.as_str(),
                    "reject_type": f.reject_type.as_str(),
                    "subject": f.subject,
                    "detail": detail_object(&f.detail),
                })
            })
            .collect(),
    )
    .to_string()
}
