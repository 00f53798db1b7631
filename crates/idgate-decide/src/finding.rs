//! A finding: one reason code with the reject type it has in this deployment, what it is
//! about (a field or a side) and reviewer-only detail, kept apart from what the applicant
//! is shown.

use idgate_core::{ReasonCode, RejectType};

#[derive(Clone, PartialEq)]
pub struct Finding {
    pub code: ReasonCode,
    pub reject_type: RejectType,
    /// The entered field or the document side it is about, e.g. `name`, `side:back`.
    pub subject: Option<String>,
    /// Measured values and rules, for reviewers only: may hold personal data, never logged.
    pub detail: String,
}

/// The detail may hold personal data: `Debug` shows its length only.
impl std::fmt::Debug for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finding")
            .field("code", &self.code)
            .field("reject_type", &self.reject_type)
            .field("subject", &self.subject)
            .field("detail_chars", &self.detail.chars().count())
            .finish()
    }
}

impl Finding {
    pub fn new(code: ReasonCode, reject_type: RejectType, detail: impl Into<String>) -> Self {
        Finding {
            code,
            reject_type,
            subject: None,
            detail: detail.into(),
        }
    }

    pub fn about(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }
}

/// The codes of `findings`, each once, in the order first found: two subjects with the same
/// problem (the given and the family name) are one reason for the applicant.
pub fn unique_codes(findings: &[Finding]) -> Vec<ReasonCode> {
    let mut out: Vec<ReasonCode> = Vec::with_capacity(findings.len());
    for f in findings {
        if !out.contains(&f.code) {
            out.push(f.code);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_names_the_problem_but_not_the_data() {
        let f = Finding::new(
            ReasonCode::NameMismatch,
            RejectType::Retry,
            r#"{"entered":"ANNA ERIKSSON","document":"ANNA ERIKSON"}"#,
        )
        .about("name");
        let shown = format!("{f:?}");
        assert!(!shown.contains("ERIKS"), "{shown}");
        assert!(
            shown.contains("NameMismatch") && shown.contains("\"name\""),
            "{shown}"
        );
    }
}
