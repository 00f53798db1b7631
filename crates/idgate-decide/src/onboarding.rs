//! A business's submission judged: every document its kind needs (any one of a choice),
//! recent enough, not refused by a reviewer; a mandate for every authorised signatory; an
//! ownership structure that names its beneficial owners and the roles the kind needs; and
//! every person among the parties verified as an individual. What the business must fix is
//! a RETRY finding; people still verifying make it wait; otherwise it goes to a reviewer,
//! who judges the documents themselves.

use crate::business::{BusinessPolicy, EntityKindSpec, Role};
use crate::finding::Finding;
use crate::ownership::Ownership;
use idgate_core::{Evaluation, ReasonCode, RejectType};
use idgate_mrz::Date;
use serde_json::json;

/// The documents that make an authorised signatory's mandate.
pub const MANDATES: [&str; 2] = ["board_resolution", "power_of_attorney"];

/// A reviewer's judgement of an entity document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocState {
    Pending,
    Accepted,
    Rejected,
}

impl DocState {
    pub fn as_str(self) -> &'static str {
        match self {
            DocState::Pending => "pending",
            DocState::Accepted => "accepted",
            DocState::Rejected => "rejected",
        }
    }
    pub fn parse(s: &str) -> Option<DocState> {
        [DocState::Pending, DocState::Accepted, DocState::Rejected]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// An uploaded entity document.
#[derive(Clone, Debug)]
pub struct EntityDocument<'a> {
    pub kind: &'a str,
    /// When it was issued (registers and extracts go stale).
    pub issued_on: Option<Date>,
    pub state: DocState,
}

/// A person among the parties and where their own verification stands.
#[derive(Clone, Debug)]
pub struct PersonCheck<'a> {
    pub party: &'a str,
    /// Reached the level the policy asks of key parties.
    pub verified: bool,
    /// Their latest case was refused for good.
    pub refused: bool,
    /// Where what the business declared about them (`name`, `birth_date`,
    /// `nationality`) differs from what their own verification established.
    pub differs: &'a [&'static str],
}

#[derive(Clone, Copy)]
pub struct Submission<'a> {
    pub spec: &'a EntityKindSpec,
    pub documents: &'a [EntityDocument<'a>],
    pub ownership: &'a Ownership,
    /// Roles held towards the business itself.
    pub roles: &'a [Role],
    pub persons: &'a [PersonCheck<'a>],
    pub today: Date,
}

/// Percent to four decimals, as shares are kept.
pub fn percent(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// What the ownership leaves unknown, for the business to fix: shares nobody is declared
/// for that could hide an owner, no beneficial owner at all, roles nobody holds.
pub fn ownership_findings(o: &Ownership) -> Vec<Finding> {
    let retry = |code: ReasonCode, detail: serde_json::Value| {
        Finding::new(code, RejectType::Retry, detail.to_string())
    };
    let mut findings = Vec::new();
    for g in &o.gaps {
        findings.push(retry(
            ReasonCode::OwnershipIncomplete,
            json!({"entity": g.entity, "undeclared_percent": percent(g.undeclared_percent),
                   "effective_percent": percent(g.effective_percent)}),
        ));
    }
    if o.owners.is_empty() {
        findings.push(retry(
            ReasonCode::OwnershipIncomplete,
            json!({"beneficial_owners": 0}),
        ));
    }
    for role in &o.missing_roles {
        findings.push(retry(
            ReasonCode::KeyPartyMissing,
            json!({"role": role.as_str()}),
        ));
    }
    findings
}

/// What the submission lacks, and where it goes.
pub fn evaluate(policy: &BusinessPolicy, s: &Submission) -> (Vec<Finding>, Evaluation) {
    let mut findings = Vec::new();
    let retry = |code: ReasonCode, detail: serde_json::Value| {
        Finding::new(code, RejectType::Retry, detail.to_string())
    };
    let mut needs: Vec<Vec<String>> = s.spec.documents.clone();
    if s.roles.contains(&Role::AuthorisedSignatory) {
        needs.push(MANDATES.iter().map(|m| m.to_string()).collect());
    }
    for any_of in &needs {
        let usable: Vec<&EntityDocument> = s
            .documents
            .iter()
            .filter(|d| any_of.iter().any(|k| k == d.kind) && d.state != DocState::Rejected)
            .collect();
        if usable.is_empty() {
            findings.push(
                retry(
                    ReasonCode::MissingEntityDocument,
                    json!({ "documents": any_of }),
                )
                .about(format!("document:{}", any_of.join("|"))),
            );
            continue;
        }
        let fresh = usable.iter().any(|d| {
            let max = policy.document(d.kind).map_or(0, |spec| spec.max_age_days);
            max == 0
                || d.issued_on
                    .is_some_and(|at| s.today.unix_days() - at.unix_days() <= i64::from(max))
        });
        if !fresh {
            let d = usable[0];
            findings.push(
                retry(
                    ReasonCode::EntityDocumentOutdated,
                    json!({
                        "document": d.kind,
                        "issued_on": d.issued_on.map(|at| at.to_string()),
                        "max_age_days": policy.document(d.kind).map(|spec| spec.max_age_days),
                    }),
                )
                .about(format!("document:{}", d.kind)),
            );
        }
    }
    findings.extend(ownership_findings(s.ownership));
    for p in s.persons {
        for field in p.differs {
            let code = match *field {
                "name" => ReasonCode::NameMismatch,
                "birth_date" => ReasonCode::BirthDateMismatch,
                _ => ReasonCode::NationalityMismatch,
            };
            findings.push(
                retry(code, json!({"party": p.party, "field": field}))
                    .about(format!("party:{}", p.party)),
            );
        }
    }
    let waiting: Vec<&str> = s
        .persons
        .iter()
        .filter(|p| !p.verified)
        .map(|p| p.party)
        .collect();
    let refused: Vec<&str> = s
        .persons
        .iter()
        .filter(|p| p.refused && !p.verified)
        .map(|p| p.party)
        .collect();
    if !waiting.is_empty() {
        // Not something the business fixes: each person verifies, or a reviewer looks at
        // a person who was refused.
        findings.push(Finding::new(
            ReasonCode::BeneficialOwnerNotVerified,
            RejectType::Review,
            json!({"parties": waiting, "refused": refused}).to_string(),
        ));
    }
    let evaluation = if findings.iter().any(|f| f.reject_type == RejectType::Retry) {
        Evaluation::Fix
    } else if waiting.len() > refused.len() {
        Evaluation::AwaitParties
    } else {
        Evaluation::Review
    };
    (findings, evaluation)
}

/// Whether a reviewer may approve: every needed document accepted (not just uploaded),
/// every person verified, the ownership complete. Answers what still stands in the way.
pub fn approvable(policy: &BusinessPolicy, s: &Submission) -> Result<(), Vec<ReasonCode>> {
    let accepted: Vec<EntityDocument> = s
        .documents
        .iter()
        .filter(|d| d.state == DocState::Accepted)
        .cloned()
        .collect();
    let only_accepted = Submission {
        documents: &accepted,
        ..*s
    };
    let (findings, _) = evaluate(policy, &only_accepted);
    if findings.is_empty() {
        Ok(())
    } else {
        Err(crate::finding::unique_codes(&findings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ownership::{BeneficialOwner, Ground};
    use crate::Policy;

    fn owner() -> Ownership {
        Ownership {
            owners: vec![BeneficialOwner {
                party: "ann".into(),
                percent: 100.0,
                direct_percent: 100.0,
                grounds: vec![Ground::Ownership],
            }],
            gaps: vec![],
            missing_roles: vec![],
        }
    }

    fn doc<'a>(kind: &'a str, issued: &str, state: DocState) -> EntityDocument<'a> {
        EntityDocument {
            kind,
            issued_on: Date::parse_iso(issued),
            state,
        }
    }

    fn codes(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn a_company_needs_each_document_a_mandate_and_its_people_verified() {
        let p = Policy::default();
        let spec = p.business.kind("private_company").unwrap();
        let today = Date::parse_iso("2026-12-01").unwrap();
        let docs = vec![
            doc("registry_extract", "2026-10-01", DocState::Pending),
            doc("articles", "2001-01-01", DocState::Accepted),
            doc("register_of_directors", "2026-09-01", DocState::Pending),
            doc("register_of_shareholders", "2025-01-01", DocState::Pending),
            doc("proof_of_address", "2026-11-01", DocState::Rejected),
        ];
        let o = owner();
        let ann = [PersonCheck {
            party: "ann",
            verified: false,
            refused: false,
            differs: &[],
        }];
        let roles = [Role::Director, Role::AuthorisedSignatory];
        let s = Submission {
            spec,
            documents: &docs,
            ownership: &o,
            roles: &roles,
            persons: &ann,
            today,
        };
        let (f, e) = evaluate(&p.business, &s);
        assert_eq!(
            codes(&f),
            [
                "ENTITY_DOCUMENT_OUTDATED",
                "MISSING_ENTITY_DOCUMENT",
                "MISSING_ENTITY_DOCUMENT",
                "BENEFICIAL_OWNER_NOT_VERIFIED"
            ]
        );
        assert_eq!(
            f[0].subject.as_deref(),
            Some("document:register_of_shareholders")
        );
        assert_eq!(f[1].subject.as_deref(), Some("document:proof_of_address"));
        assert_eq!(
            f[2].subject.as_deref(),
            Some("document:board_resolution|power_of_attorney")
        );
        assert_eq!(e, Evaluation::Fix);

        let mut fixed = docs.clone();
        fixed[3] = doc("register_of_shareholders", "2026-08-01", DocState::Pending);
        fixed[4] = doc("proof_of_address", "2026-11-01", DocState::Pending);
        fixed.push(doc("power_of_attorney", "2020-01-01", DocState::Pending));
        let s = Submission {
            documents: &fixed,
            ..s
        };
        let (f, e) = evaluate(&p.business, &s);
        assert_eq!(codes(&f), ["BENEFICIAL_OWNER_NOT_VERIFIED"]);
        assert_eq!(e, Evaluation::AwaitParties);
        let refused = [PersonCheck {
            party: "ann",
            verified: false,
            refused: true,
            differs: &[],
        }];
        let (_, e) = evaluate(
            &p.business,
            &Submission {
                persons: &refused,
                ..s
            },
        );
        assert_eq!(e, Evaluation::Review, "a refused person goes to a reviewer");

        let ann_ok = [PersonCheck {
            party: "ann",
            verified: true,
            refused: false,
            differs: &[],
        }];
        // The business declared another birth date than Ann's own verification shows: a
        // fix for the business (it replaces the party).
        let ann_differs = [PersonCheck {
            party: "ann",
            verified: true,
            refused: false,
            differs: &["birth_date"],
        }];
        let (f, e) = evaluate(
            &p.business,
            &Submission {
                persons: &ann_differs,
                ..s
            },
        );
        assert_eq!(codes(&f), ["BIRTH_DATE_MISMATCH"]);
        assert_eq!(f[0].subject.as_deref(), Some("party:ann"));
        assert_eq!(e, Evaluation::Fix);
        let s = Submission {
            persons: &ann_ok,
            ..s
        };
        assert_eq!(evaluate(&p.business, &s), (vec![], Evaluation::Review));
        // Approval needs the reviewer to have accepted every needed document.
        assert_eq!(
            approvable(&p.business, &s),
            Err(vec![ReasonCode::MissingEntityDocument])
        );
        let mut accepted = fixed.clone();
        for d in &mut accepted {
            d.state = DocState::Accepted;
        }
        assert_eq!(
            approvable(
                &p.business,
                &Submission {
                    documents: &accepted,
                    ..s
                }
            ),
            Ok(())
        );
    }

    #[test]
    fn ownership_gaps_and_missing_roles_are_for_the_business_to_fix() {
        let p = Policy::default();
        let spec = p.business.kind("trust").unwrap();
        let docs = [
            doc("trust_deed", "1999-01-01", DocState::Pending),
            doc("proof_of_address", "2026-11-20", DocState::Pending),
        ];
        let mut o = owner();
        o.missing_roles = vec![Role::Settlor];
        let s = Submission {
            spec,
            documents: &docs,
            ownership: &o,
            roles: &[Role::Trustee],
            persons: &[],
            today: Date::parse_iso("2026-12-01").unwrap(),
        };
        let (f, e) = evaluate(&p.business, &s);
        assert_eq!(codes(&f), ["KEY_PARTY_MISSING"]);
        assert_eq!(e, Evaluation::Fix);
        let none = Ownership::default();
        let (f, _) = evaluate(
            &p.business,
            &Submission {
                ownership: &none,
                ..s
            },
        );
        assert_eq!(codes(&f), ["OWNERSHIP_INCOMPLETE"]);
    }
}
