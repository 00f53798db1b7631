//! A business applicant judged as a whole: its structure as the domain sees it, its
//! beneficial owners under this deployment's policy, where each person among its parties
//! stands in their own verification, and the evaluation of a submission
//! (`idgate_decide::onboarding`). The API's submit, the reviewer's approval and the
//! `evaluate_business` job (a person among the parties was decided) all go through here.

use crate::state::AppState;
use idgate_core::{BusinessEvent, BusinessStatus, CaseStatus, Evaluation, ReasonCode};
use idgate_decide::business::Role;
use idgate_decide::onboarding::{self, DocState, EntityDocument, PersonCheck, Submission};
use idgate_decide::ownership::{self, Ownership, Structure, StructureError};
use idgate_decide::Finding;
use idgate_store::{Business, BusinessDocument, BusinessParty, BusinessRelation, StoreError};
use serde_json::{json, Value};

/// What a business declares about a person among its key parties; sealed under that
/// person's applicant key, so erasing the person erases it too.
#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredPerson {
    pub given_names: String,
    pub surname: String,
    pub birth_date: String,
    pub nationality: String,
}

/// Where what the business declared about a verified person differs from what that
/// person's own verification established: the fields (`name`, `birth_date`,
/// `nationality`).
fn differences(
    declared: &DeclaredPerson,
    verified: &idgate_pipeline::EnteredData,
) -> Vec<&'static str> {
    let mut out = Vec::new();
    let same_name = idgate_decide::names::latin_match(
        &declared.given_names,
        &declared.surname,
        &verified.name.family,
        &verified.name.given,
        false,
    )
    .is_some();
    if !same_name {
        out.push("name");
    }
    if verified.birth_date.as_deref().map(str::trim) != Some(declared.birth_date.as_str()) {
        out.push("birth_date");
    }
    if !verified
        .nationality
        .eq_ignore_ascii_case(&declared.nationality)
    {
        out.push("nationality");
    }
    out
}

/// The structure the domain judges, from the stored rows.
pub fn structure(
    kind: &str,
    parties: &[BusinessParty],
    relations: &[BusinessRelation],
) -> Structure {
    Structure {
        kind: kind.to_string(),
        parties: parties
            .iter()
            .map(|p| ownership::Party {
                id: p.id.clone(),
                entity_kind: p.entity.as_ref().map(|e| e.kind.clone()),
            })
            .collect(),
        relations: relations
            .iter()
            .filter_map(|r| {
                Some(ownership::Relation {
                    party: r.party_id.clone(),
                    role: Role::parse(&r.role)?,
                    of: r.of_party_id.clone(),
                    share: r.share_ppm.and_then(|s| u32::try_from(s).ok()),
                })
            })
            .collect(),
    }
}

/// Who the business's beneficial owners are, as this deployment's policy counts them.
pub fn beneficial_owners(
    s: &AppState,
    kind: &str,
    parties: &[BusinessParty],
    relations: &[BusinessRelation],
) -> Result<Ownership, StructureError> {
    let required: &[Role] = s
        .policy
        .business
        .kind(kind)
        .map_or(&[], |spec| spec.parties.as_slice());
    let declares = |k: &str| s.policy.business.kind(k).is_some_and(|spec| spec.holdings);
    let rules = ownership::Rules {
        threshold_percent: s.policy.business.beneficial_owner_percent,
        declares_holdings: &declares,
        required_roles: required,
    };
    structure(kind, parties, relations).beneficial_owners(&rules)
}

/// Everything a business's evaluation reads, gathered once.
pub struct Snapshot {
    pub business: Business,
    pub parties: Vec<BusinessParty>,
    pub relations: Vec<BusinessRelation>,
    pub documents: Vec<BusinessDocument>,
    pub ownership: Ownership,
    /// Per person party: (party id, verified, refused, where the declared data differs
    /// from the verified).
    pub persons: Vec<(String, bool, bool, Vec<&'static str>)>,
}

/// Why a business could not be judged.
#[derive(Debug, thiserror::Error)]
pub enum KybError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored structure the domain refuses (it was checked when written).
    #[error("a stored structure is invalid: {0}")]
    Structure(#[from] StructureError),
}

pub async fn snapshot(s: &AppState, id: &str) -> Result<Snapshot, KybError> {
    let business = s
        .store
        .business(id)
        .await?
        .ok_or(StoreError::NotFound { what: "business" })?;
    let parties = s.store.parties_of(id).await?;
    let relations = s.store.relations_of(id).await?;
    let documents = s.store.business_documents(id).await?;
    let ownership = beneficial_owners(s, &business.data.kind, &parties, &relations)?;
    let mut persons = Vec::new();
    for p in &parties {
        let Some(applicant_id) = &p.applicant_id else {
            continue;
        };
        let Some(a) = s.store.applicant(applicant_id).await? else {
            continue;
        };
        let steps = idgate_pipeline::case::verified_steps(&s.store, &a.uid).await?;
        let verified = a.erased_at.is_none() && s.policy.reached_level(&steps).is_some();
        let latest = s.store.cases_of_applicant(&a.id).await?.pop();
        let refused = latest.is_some_and(|c| c.status == CaseStatus::Rejected);
        let mut differs = Vec::new();
        if let (true, Some(declared), Some(key)) = (
            verified,
            &p.declared_blob,
            s.store.verified_data_key(&a.id).await?,
        ) {
            let unreadable = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
            let declared: DeclaredPerson =
                serde_json::from_slice(&s.blobs.get(declared).await?).map_err(unreadable)?;
            let known: idgate_pipeline::EnteredData =
                serde_json::from_slice(&s.blobs.get(&key).await?).map_err(unreadable)?;
            differs = differences(&declared, &known);
        }
        persons.push((p.id.clone(), verified, refused, differs));
    }
    Ok(Snapshot {
        business,
        parties,
        relations,
        documents,
        ownership,
        persons,
    })
}

impl Snapshot {
    fn judged<T>(&self, s: &AppState, f: impl FnOnce(&Submission) -> T) -> T {
        let documents: Vec<EntityDocument> = self
            .documents
            .iter()
            .map(|d| EntityDocument {
                kind: &d.kind,
                issued_on: d.issued_on.as_deref().and_then(idgate_mrz::Date::parse_iso),
                state: DocState::parse(&d.state).unwrap_or(DocState::Pending),
            })
            .collect();
        let roles: Vec<Role> = self
            .relations
            .iter()
            .filter(|r| r.of_party_id.is_none())
            .filter_map(|r| Role::parse(&r.role))
            .collect();
        let persons: Vec<PersonCheck> = self
            .persons
            .iter()
            .map(|(party, verified, refused, differs)| PersonCheck {
                party,
                verified: *verified,
                refused: *refused,
                differs,
            })
            .collect();
        let empty = idgate_decide::business::EntityKindSpec {
            documents: Vec::new(),
            parties: Vec::new(),
            holdings: false,
        };
        let submission = Submission {
            spec: s
                .policy
                .business
                .kind(&self.business.data.kind)
                .unwrap_or(&empty),
            documents: &documents,
            ownership: &self.ownership,
            roles: &roles,
            persons: &persons,
            today: s.today(),
        };
        f(&submission)
    }

    /// What the submission lacks, and where it goes.
    pub fn evaluate(&self, s: &AppState) -> (Vec<Finding>, Evaluation) {
        self.judged(s, |sub| onboarding::evaluate(&s.policy.business, sub))
    }

    /// Whether a reviewer may approve it now (every needed document accepted, every person
    /// verified, the ownership complete), and if not, why.
    pub fn approvable(&self, s: &AppState) -> Result<(), Vec<ReasonCode>> {
        self.judged(s, |sub| onboarding::approvable(&s.policy.business, sub))
    }
}

/// Findings as the API shows them and the business row keeps them.
pub fn findings_json(findings: &[Finding]) -> Value {
    findings
        .iter()
        .map(|f| {
            json!({
                "code": f.code.as_str(),
                "type": f.reject_type.as_str(),
                "subject": f.subject,
                "message": f.code.message(),
                "fix": f.code.fix(),
                "detail": serde_json::from_str::<Value>(&f.detail).unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// Submits a business: evaluated, then moved (refused if anything changed meanwhile).
pub async fn submit(s: &AppState, id: &str, actor: &str) -> Result<Business, KybError> {
    let snap = snapshot(s, id).await?;
    let (findings, evaluation) = snap.evaluate(s);
    Ok(s.store
        .transition_business(
            id,
            BusinessEvent::Submit(evaluation),
            actor,
            &findings_json(&findings).to_string(),
            Some(snap.business.updated_at),
        )
        .await?)
}

/// The `evaluate_business` job: a business still waiting for its people moves on once
/// every person is verified (or one was refused).
pub async fn reevaluate(s: &AppState, id: &str) -> Result<(), idgate_pipeline::PipelineError> {
    let snap = match snapshot(s, id).await {
        Ok(snap) => snap,
        Err(KybError::Store(e)) => return Err(e.into()),
        Err(KybError::Structure(e)) => {
            return Err(idgate_pipeline::PipelineError::Checks(e.to_string()))
        }
    };
    if snap.business.status != BusinessStatus::AwaitingParties {
        return Ok(());
    }
    let (findings, evaluation) = snap.evaluate(s);
    if evaluation == Evaluation::AwaitParties {
        return Ok(());
    }
    s.store
        .transition_business(
            id,
            BusinessEvent::PartiesChanged(evaluation),
            "worker",
            &findings_json(&findings).to_string(),
            None,
        )
        .await?;
    Ok(())
}
