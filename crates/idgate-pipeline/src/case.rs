//! Deciding one submitted case: [`Pipeline::decide_case`], the one entry point the service's
//! workers and `idgate verify` share.
//!
//! The steps, in order: the case moves to `processing`; its images are read back and their
//! digests checked; the entered data becomes the engine's application; the cooldown
//! ([`Pipeline::plan`]); the photo checks per side and the face checks, off the async
//! threads; the picture-used-again, copied-face and duplicate-face searches; the liveness
//! challenge's outcome; the identity screens; the decision engine ([`Pipeline::conclude`]);
//! and the decision stored with all its effects at once, approved only if no other account
//! verified the same document meanwhile.

use crate::edges::{Blobs, CaseStore, DocumentChecker, EngineError, FaceEngine};
pub use crate::error::PipelineError;
use crate::faces::{self, FaceCheck};
use crate::photo;
use crate::record::{claim_change, decision_of, findings_json, record_parts};
use crate::EnteredData;
use idgate_core::{CaseEvent, CaseStatus, Clock, Decision, ReasonCode, RejectType};
use idgate_decide::attempts::Attempt;
use idgate_decide::identity;
use idgate_decide::{
    Application, Extracted, Finding, Inputs, Outcome, Policy, Side, Step, UploadKind, Verdict,
};
use idgate_face::hash::Seen;
use idgate_store::{Case, CaseDecision, DecisionRecord, Owner, StoreError};
use idgate_vision::check::CheckOptions;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A check of the identity a case establishes against data from outside the case
/// (sanctions and PEP screening plug in here): its findings join the document's.
/// `cleared`: the (listed entity, digest) pairs a reviewer judged not to be this account's
/// person; a screen reports no match on them while the entity's record is unchanged.
pub trait IdentityScreen: Send + Sync {
    fn screen(
        &self,
        app: &Application,
        extracted: &Extracted,
        cleared: &[(String, String)],
    ) -> Vec<Finding>;
}

/// The claims accounts other than `uid` hold on the identity `keys` (duplicates).
pub async fn other_claims<S: CaseStore>(
    store: &S,
    keys: &[identity::IdentityKey],
    uid: &str,
) -> Result<Vec<identity::Claim>, StoreError> {
    let hashes: Vec<String> = keys.iter().map(|k| k.hash.clone()).collect();
    Ok(store
        .claims_on(&hashes, uid)
        .await?
        .into_iter()
        .map(|c| identity::Claim {
            kind: c.kind,
            status: c.status,
            uid: c.uid,
        })
        .collect())
}

/// The steps an account verified (unknown names from an older policy are skipped).
pub async fn verified_steps<S: CaseStore>(store: &S, uid: &str) -> Result<Vec<Step>, StoreError> {
    Ok(store
        .verified_steps(uid)
        .await?
        .iter()
        .filter_map(|s| Step::parse(s))
        .collect())
}

/// The account's attempts within the policy's window before `now_ms` (cooldowns and
/// escalation are judged on them).
pub async fn attempt_history<S: CaseStore>(
    store: &S,
    policy: &Policy,
    uid: &str,
    now_ms: i64,
) -> Result<Vec<Attempt>, StoreError> {
    let window_ms = i64::from(policy.attempts.window_hours) * 3_600_000;
    Ok(store
        .attempts_since(uid, now_ms - window_ms)
        .await?
        .into_iter()
        .map(|a| Attempt {
            at_ms: a.at,
            failed: Outcome::parse(&a.outcome).is_some_and(Outcome::failed),
        })
        .collect())
}

/// When the account may try again, while a cooldown from its failed attempts applies;
/// `failing_now` counts one more failed attempt made now (a decision being recorded).
pub async fn retry_after<S: CaseStore>(
    store: &S,
    policy: &Policy,
    uid: &str,
    now_ms: i64,
    failing_now: bool,
) -> Result<Option<i64>, StoreError> {
    let mut history = attempt_history(store, policy, uid, now_ms).await?;
    if failing_now {
        history.push(Attempt {
            at_ms: now_ms,
            failed: true,
        });
    }
    Ok(idgate_decide::attempts::retry_after(
        &policy.attempts,
        &history,
        now_ms,
    ))
}

/// The images and data of a submission.
#[derive(Default)]
pub struct Submission {
    /// Document sides: (side, image bytes).
    pub images: Vec<(Side, Vec<u8>)>,
    pub selfie: Option<Vec<u8>>,
    pub proof_of_address_supplied: bool,
}

/// The first half of a decision, before any image is looked at.
pub enum Plan {
    /// Refused by the cooldown; nothing else is done and no attempt recorded.
    Throttled(Verdict, Vec<Step>),
    Check(Prepared),
}

pub struct Prepared {
    history: Vec<Attempt>,
    verified: Vec<Step>,
    /// Suspicions an earlier attempt left on the account.
    flags: Vec<ReasonCode>,
    /// The level still needs the identity document (else it is reused).
    pub needs_document: bool,
    /// The level still needs the selfie.
    pub needs_selfie: bool,
    pub needs_mrz: bool,
}

/// A decision made, with what recording it needs.
#[derive(Debug)]
pub struct Decided {
    pub verdict: Verdict,
    /// (kind, key hash) identity keys.
    pub keys: Vec<identity::IdentityKey>,
    /// Steps verified before this decision.
    pub verified_before: Vec<Step>,
}

impl Decided {
    /// Steps verified once this decision is recorded (what entitlements follow from).
    pub fn verified_after(&self) -> Vec<Step> {
        let mut after = self.verified_before.clone();
        after.extend(self.verdict.verifies.iter().copied());
        after
    }

    /// The store's record of this decision of `case_id`.
    fn record<'a>(
        &'a self,
        uid: &'a str,
        case_id: &'a str,
        reasons: &'a [ReasonCode],
        steps: &'a [&'a str],
    ) -> DecisionRecord<'a> {
        DecisionRecord {
            uid,
            outcome: self.verdict.outcome.as_str(),
            reasons,
            keys: &self.keys,
            claims: claim_change(self.verdict.outcome),
            steps,
            level: self.verdict.level.as_deref(),
            raise: &self.verdict.raises,
            case_id: Some(case_id),
        }
    }

    /// The decision when the document was verified on another account after the claims
    /// were read (the store refused the approval).
    fn lost_race(&mut self, policy: &Policy) {
        let code = ReasonCode::DuplicateIdentity;
        self.verdict = Verdict {
            outcome: Outcome::Rejected,
            findings: vec![Finding::new(
                code,
                policy.reject_type(code),
                "verified on another account meanwhile",
            )
            .about("document")],
            retry_after_ms: None,
            verifies: Vec::new(),
            level: policy
                .reached_level(&self.verified_before)
                .map(|l| l.name.clone()),
            raises: Vec::new(),
        };
    }
}

/// Everything deciding a case needs: the policy, the identity secret and the edges.
pub struct Pipeline<'a, S, B> {
    pub policy: &'a Policy,
    /// The key identity keys are made under (duplicates match only under the same one).
    pub secret: &'a [u8],
    pub store: &'a S,
    pub blobs: &'a B,
    pub documents: Arc<dyn DocumentChecker>,
    pub faces: Arc<dyn FaceEngine>,
    pub clock: &'a dyn Clock,
    /// Photo-check options (limits, thresholds); `today` is taken from the clock per case.
    pub check: CheckOptions,
    /// Who the audit trail names for the pipeline's changes.
    pub actor: &'a str,
    pub screens: Vec<&'a dyn IdentityScreen>,
}

impl<S: CaseStore, B: Blobs> Pipeline<'_, S, B> {
    /// Decides a submitted case (or carries on one a stopped worker left `processing`)
    /// and stores the decision. `None` when there was nothing to decide (the case is gone
    /// or already decided).
    pub async fn decide_case(&self, case_id: &str) -> Result<Option<Decided>, PipelineError> {
        let Some(case) = self.start(case_id).await? else {
            return Ok(None);
        };
        let applicant = self
            .store
            .applicant(&case.applicant_id)
            .await?
            .ok_or(StoreError::NotFound { what: "applicant" })?;
        let documents = self.store.documents(case_id).await?;
        if documents.is_empty() {
            return self
                .without_checks(
                    &case,
                    &applicant.uid,
                    Decision::Retry,
                    ReasonCode::MissingSide,
                )
                .await
                .map(Some);
        }
        let mut sub = Submission::default();
        for d in &documents {
            let bytes = self.blobs.get(&d.data.blob_key).await?;
            if hex::encode(Sha256::digest(&bytes)) != d.data.sha256 {
                return Err(PipelineError::DigestMismatch);
            }
            match crate::record::kind_and_side(&d.data) {
                Some((UploadKind::Selfie, _)) => sub.selfie = Some(bytes),
                Some((UploadKind::ProofOfAddress, _)) => sub.proof_of_address_supplied = true,
                Some((UploadKind::Identity(_), side)) => sub.images.push((side, bytes)),
                None => {
                    return Err(PipelineError::Checks(
                        "a stored document of unknown kind".into(),
                    ))
                }
            }
        }
        // Submitting needs entered data; a case from before that rule, or data the engine
        // cannot read, goes to a person.
        let app = match &case.data_key {
            Some(key) => serde_json::from_slice::<EnteredData>(&self.blobs.get(key).await?)
                .ok()
                .and_then(|e| {
                    e.application(&applicant.uid, &applicant.region, &case.level)
                        .ok()
                }),
            None => None,
        };
        let Some(app) = app else {
            let (decision, code) = (Decision::Review, ReasonCode::ComplianceReview);
            return self
                .without_checks(&case, &applicant.uid, decision, code)
                .await
                .map(Some);
        };
        self.decide(&case, &app, sub).await.map(Some)
    }

    /// Moves a submitted case to `processing` (a case a stopped worker left there stays);
    /// `None` when the case is gone or already decided.
    pub async fn start(&self, case_id: &str) -> Result<Option<Case>, StoreError> {
        let Some(case) = self.store.case(case_id).await? else {
            return Ok(None);
        };
        match case.status {
            CaseStatus::Submitted => Ok(Some(
                self.store
                    .transition(case_id, CaseEvent::StartProcessing, self.actor, None)
                    .await?,
            )),
            CaseStatus::Processing => Ok(Some(case)), // a stopped worker's case: carry on
            _ => Ok(None),                            // already decided
        }
    }

    /// A decision the checks did not make (nothing to check, data unreadable): the case
    /// moves with the reason, and no attempt is recorded.
    async fn without_checks(
        &self,
        case: &Case,
        uid: &str,
        decision: Decision,
        code: ReasonCode,
    ) -> Result<Decided, PipelineError> {
        let reasons = [code];
        self.store
            .transition(
                &case.id,
                CaseEvent::Decide(decision),
                self.actor,
                Some(&reasons),
            )
            .await?;
        let verified = verified_steps(self.store, uid).await?;
        let reject_type = if decision == Decision::Review {
            RejectType::Review
        } else {
            self.policy.reject_type(code)
        };
        Ok(Decided {
            verdict: Verdict {
                outcome: crate::record::outcome_of(decision),
                findings: vec![Finding::new(code, reject_type, "")],
                retry_after_ms: None,
                verifies: Vec::new(),
                level: self.policy.reached_level(&verified).map(|l| l.name.clone()),
                raises: Vec::new(),
            },
            keys: Vec::new(),
            verified_before: verified,
        })
    }

    /// Attempt history and verified steps of the account; the cooldown.
    pub async fn plan(&self, app: &Application, now_ms: i64) -> Result<Plan, StoreError> {
        let uid = app.uid.as_str();
        let history = attempt_history(self.store, self.policy, uid, now_ms).await?;
        let verified = verified_steps(self.store, uid).await?;
        if let Some(mut throttled) = idgate_decide::throttle(self.policy, &history, now_ms) {
            // Refused before anything is looked at; not an attempt of its own.
            throttled.level = self.policy.reached_level(&verified).map(|l| l.name.clone());
            return Ok(Plan::Throttled(throttled, verified));
        }
        let needs = |step: Step| {
            self.policy
                .level(&app.level)
                .is_some_and(|l| self.policy.missing_steps(l, &verified).contains(&step))
        };
        let (needs_document, needs_selfie) = (needs(Step::IdentityDocument), needs(Step::Selfie));
        let needs_mrz = idgate_decide::DocKind::parse(&app.document.kind)
            .is_some_and(|k| self.policy.has_mrz(&app.document.issuer, k));
        let flags = self.store.open_flags(uid).await?;
        Ok(Plan::Check(Prepared {
            history,
            verified,
            flags,
            needs_document,
            needs_selfie,
            needs_mrz,
        }))
    }

    /// The second half: identity keys, duplicates, the identity screens and the engine,
    /// given the photo checks' findings and extraction (empty when the document is reused)
    /// and the face checks'.
    pub async fn conclude(
        &self,
        app: &Application,
        sub: &Submission,
        prepared: Prepared,
        photo: (Vec<Finding>, Extracted),
        face_findings: Vec<Finding>,
        now_ms: i64,
    ) -> Result<Decided, StoreError> {
        let (mut photo_findings, extracted) = photo;
        let keys = if prepared.needs_document {
            if !self.screens.is_empty() {
                let cleared = self.store.screening_clearances(&app.uid).await?;
                for screen in &self.screens {
                    photo_findings.extend(screen.screen(app, &extracted, &cleared));
                }
            }
            identity::keys(self.secret, app, &extracted)
        } else {
            Vec::new()
        };
        let claims = other_claims(self.store, &keys, &app.uid).await?;
        let inputs = Inputs {
            app: app.clone(),
            extracted,
            photo_findings,
            claims,
            history: prepared.history,
            verified: prepared.verified,
            selfie_supplied: sub.selfie.is_some(),
            face_findings,
            proof_of_address_supplied: sub.proof_of_address_supplied,
            flags: prepared.flags,
        };
        let verdict = idgate_decide::decide(self.policy, &inputs, self.today(now_ms), now_ms);
        Ok(Decided {
            verdict,
            keys,
            verified_before: inputs.verified,
        })
    }

    pub(crate) fn today(&self, now_ms: i64) -> idgate_mrz::Date {
        idgate_mrz::Date::from_unix_days(now_ms.div_euclid(86_400_000))
    }

    /// The checks, the engine and the stored decision of a case in `processing`.
    async fn decide(
        &self,
        case: &Case,
        app: &Application,
        mut sub: Submission,
    ) -> Result<Decided, PipelineError> {
        let now_ms = self.clock.now_ms();
        let prepared = match self.plan(app, now_ms).await? {
            Plan::Throttled(verdict, verified) => {
                // A cooldown is not an attempt of its own: nothing but the case is recorded.
                let (reasons, _) = record_parts(&verdict);
                self.store
                    .decide_case(&CaseDecision {
                        case_id: &case.id,
                        event: CaseEvent::Decide(Decision::Retry),
                        actor: self.actor,
                        reasons: &reasons,
                        findings: Some(&findings_json(&verdict.findings)),
                        reviewer_id: None,
                        comments: &[],
                        record: None,
                        checked: false,
                        retry_after: verdict.retry_after_ms,
                        cleared_matches: &[],
                    })
                    .await?;
                return Ok(Decided {
                    verdict,
                    keys: Vec::new(),
                    verified_before: verified,
                });
            }
            Plan::Check(p) => p,
        };
        let mut check = self.check;
        check.today = self.today(now_ms);
        // The image checks are CPU-bound: off the async threads.
        let images = std::mem::take(&mut sub.images);
        let selfie = sub.selfie.take();
        let (documents, engine, policy) = (
            self.documents.clone(),
            self.faces.clone(),
            self.policy.clone(),
        );
        let (needs_document, needs_mrz, needs_selfie) = (
            prepared.needs_document,
            prepared.needs_mrz,
            prepared.needs_selfie,
        );
        let (photo, face, images, selfie) = tokio::task::spawn_blocking(move || {
            let photo = if needs_document {
                photo::check_sides_seen(&policy, &*documents, &check, &images, needs_mrz)?
            } else {
                ((Vec::new(), Extracted::default()), Vec::new())
            };
            let face = match &selfie {
                Some(bytes) if needs_selfie => {
                    faces::check_faces(&policy, &*engine, &check, &images, bytes)?
                }
                _ => FaceCheck::default(),
            };
            Ok::<_, EngineError>((photo, face, images, selfie))
        })
        .await
        .map_err(|e| PipelineError::Checks(format!("check task: {e}")))??;
        (sub.images, sub.selfie) = (images, selfie);
        let (photo, sides) = photo;
        let seen = crate::Evidence {
            sides,
            face: face.seen,
        };
        crate::evidence::keep(self.store, self.blobs, case, &seen).await?;
        let mut face_findings = face.findings;
        if let Some(descriptor) = &face.descriptor {
            face_findings.extend(self.searches(case, descriptor, face.hash).await?);
        }
        if needs_selfie && self.policy.liveness_required {
            face_findings
                .extend(faces::liveness_findings(self.policy, self.store, &case.id, now_ms).await?);
        }
        let decided = self
            .conclude(app, &sub, prepared, photo, face_findings, now_ms)
            .await?;
        self.store_decision(case, app, decided, now_ms).await
    }

    /// The selfie's face against every face kept: a picture used again (this applicant's
    /// earlier case or anyone's), a copy of another applicant's picture, and a face verified
    /// on another account. The face is kept for later searches.
    async fn searches(
        &self,
        case: &Case,
        face: &idgate_face::Descriptor,
        hash: Option<idgate_face::hash::FaceHash>,
    ) -> Result<Vec<Finding>, StoreError> {
        let (store, blobs, policy) = (self.store, self.blobs, self.policy);
        let mut findings = faces::replayed_face(policy, store, blobs, &case.id, face).await?;
        if let Some(hash) = hash {
            let seen = [Seen {
                hash,
                descriptor: face.clone(),
            }];
            if faces::copies_elsewhere(store, blobs, &case.applicant_id, &seen).await? > 0 {
                let detail = serde_json::json!({"copy_of_another_applicants_picture": true});
                findings.push(faces::selfie_finding(
                    policy,
                    ReasonCode::LivenessFailed,
                    detail.to_string(),
                ));
            }
            let key = blobs
                .put(Owner::Applicant(&case.applicant_id), &Seen::encode(&seen))
                .await?;
            store
                .put_frame_set(&case.applicant_id, &case.id, None, &key)
                .await?;
        }
        findings
            .extend(faces::duplicate_faces(policy, store, blobs, &case.applicant_id, face).await?);
        let key = blobs
            .put(Owner::Applicant(&case.applicant_id), &face.to_bytes())
            .await?;
        if let Some(old) = store
            .put_face_template(&case.applicant_id, &case.id, &key)
            .await?
        {
            blobs.delete(&old).await?;
        }
        Ok(findings)
    }

    /// Stores the decision with all its effects; an approval that lost the race for its
    /// document to another account is stored as that rejection instead.
    async fn store_decision(
        &self,
        case: &Case,
        app: &Application,
        mut decided: Decided,
        now_ms: i64,
    ) -> Result<Decided, PipelineError> {
        // Every check the level requires ran (an unknown level, from a policy changed since
        // the case was opened, ran none: such a case goes to a person, who cannot approve it).
        let checked = self.policy.level(&case.level).is_some();
        loop {
            let (reasons, steps) = record_parts(&decided.verdict);
            let result = self
                .store
                .decide_case(&CaseDecision {
                    case_id: &case.id,
                    event: CaseEvent::Decide(decision_of(decided.verdict.outcome)),
                    actor: self.actor,
                    reasons: &reasons,
                    findings: Some(&findings_json(&decided.verdict.findings)),
                    reviewer_id: None,
                    comments: &[],
                    record: Some(decided.record(&app.uid, &case.id, &reasons, &steps)),
                    checked,
                    retry_after: decided.verdict.retry_after_ms.filter(|&at| at > now_ms),
                    cleared_matches: &[],
                })
                .await;
            match result {
                Err(StoreError::DuplicateDocument)
                    if decided.verdict.outcome == Outcome::Approved =>
                {
                    decided.lost_race(self.policy);
                }
                other => {
                    other?;
                    return Ok(decided);
                }
            }
        }
    }
}
