//! Checking a change request to verified data: [`Pipeline::check_change_request`], a
//! worker's job once the applicant submitted the new document.
//!
//! The checks are those the new data needs: the photo checks and the MRZ on the new
//! document, the new data against it (names, dates, numbers, nationality rules, the
//! catalog, the minimum age), the new identity keys against other accounts, and the new
//! document's portrait against the face the account verified. RETRY findings send the
//! request back for another document, FINAL ones refuse it; otherwise two different
//! reviewers must approve it.

use crate::case::{other_claims, Pipeline, PipelineError};
use crate::edges::{Blobs, FaceEngine};
use crate::EnteredData;
use idgate_core::{ChangeChecks, ChangeStatus, ReasonCode, RejectType};
use idgate_decide::{identity, Finding, Outcome, Policy, Side, UploadKind};
use idgate_store::{ChangeCheckResult, Store, StoreError};
use idgate_vision::input::InputLimits;
use serde_json::json;
use sha2::{Digest, Sha256};

impl<B: Blobs> Pipeline<'_, Store, B> {
    /// Runs the checks of a submitted change request and stores their outcome with its
    /// findings and the new identity keys. A request no longer `checking` (a repeated job)
    /// or gone is left alone.
    pub async fn check_change_request(&self, id: &str) -> Result<(), PipelineError> {
        let Some(cr) = self.store.change_request(id).await? else {
            return Ok(());
        };
        if cr.status != ChangeStatus::Checking {
            return Ok(());
        }
        let applicant = self
            .store
            .applicant(&cr.applicant_id)
            .await?
            .ok_or(StoreError::NotFound { what: "applicant" })?;
        let new: EnteredData = serde_json::from_slice(&self.blobs.get(&cr.data_key).await?)
            .map_err(|_| PipelineError::Checks("stored change data unreadable".into()))?;
        let app = new
            .application(&applicant.uid, &applicant.region, "basic")
            .map_err(|e| PipelineError::Checks(format!("{e:#}")))?;
        let mut images = Vec::new();
        for d in self.store.change_documents(id).await? {
            let bytes = self.blobs.get(&d.data.blob_key).await?;
            if hex::encode(Sha256::digest(&bytes)) != d.data.sha256 {
                return Err(PipelineError::DigestMismatch);
            }
            let Some((UploadKind::Identity(_), side)) = crate::record::kind_and_side(&d.data)
            else {
                return Err(PipelineError::Checks(
                    "a change document of unknown kind".into(),
                ));
            };
            images.push((side, bytes));
        }
        let mut face = None;
        for t in self.store.verified_faces_of(&cr.applicant_id).await? {
            let bytes = self.blobs.get(&t.blob_key).await?;
            if let Ok(d) = idgate_face::Descriptor::from_bytes(&bytes) {
                face = Some(d);
                break;
            }
        }
        let today = self.today(self.clock.now_ms());
        let mut opts = self.check;
        opts.today = today;
        let needs_mrz = idgate_decide::DocKind::parse(&app.document.kind)
            .is_some_and(|k| self.policy.has_mrz(&app.document.issuer, k));
        let (policy, documents, faces) = (
            self.policy.clone(),
            self.documents.clone(),
            self.faces.clone(),
        );
        let (photo, portrait_findings) = tokio::task::spawn_blocking(move || {
            let photo = crate::photo::check_sides(&policy, &*documents, &opts, &images, needs_mrz)?;
            let faces = portrait_against(&policy, &*faces, opts.limits, &images, face.as_ref())?;
            Ok::<_, crate::EngineError>((photo, faces))
        })
        .await
        .map_err(|e| PipelineError::Checks(format!("check task: {e}")))??;
        let (mut findings, extracted) = photo;
        findings.extend(idgate_decide::assess::assess(
            self.policy,
            &app,
            &extracted,
            today,
        ));
        findings.extend(portrait_findings);
        let keys = identity::keys(self.secret, &app, &extracted);
        let claims = other_claims(self.store, &keys, &applicant.uid).await?;
        findings.extend(identity::duplicate_findings(self.policy, &claims));
        let checks = match idgate_decide::engine::outcome(&findings) {
            Outcome::Rejected => ChangeChecks::Refused,
            // A suspicion is never answered with a mere retake: a person sees it.
            Outcome::ResubmissionRequested
                if !findings
                    .iter()
                    .any(|f| self.policy.suspicion.codes.contains(&f.code)) =>
            {
                ChangeChecks::Retake
            }
            _ => ChangeChecks::Passed,
        };
        let reasons = idgate_decide::unique_codes(&findings);
        self.store
            .record_change_checks(
                id,
                &ChangeCheckResult {
                    checks,
                    reasons: &reasons,
                    findings: &crate::record::findings_json(&findings),
                    identity_keys: &keys,
                },
            )
            .await?;
        Ok(())
    }
}

/// The new document's portrait against the face the account verified: a new identity
/// document must show the same person.
fn portrait_against(
    policy: &Policy,
    engine: &dyn FaceEngine,
    limits: InputLimits,
    images: &[(Side, Vec<u8>)],
    verified: Option<&idgate_face::Descriptor>,
) -> Result<Vec<Finding>, crate::EngineError> {
    let Some(verified) = verified else {
        // No face was verified on this account (a level without a selfie): a reviewer
        // compares the documents.
        return Ok(vec![Finding::new(
            ReasonCode::ComplianceReview,
            RejectType::Review,
            "no verified face on the account to hold the new document's portrait against",
        )
        .about("document")]);
    };
    let flag = |code: ReasonCode, detail: String| {
        vec![Finding::new(code, policy.reject_type(code), detail).about("document")]
    };
    let Some(portrait) = crate::faces::document_portrait(engine, limits, images)? else {
        return Ok(flag(
            ReasonCode::FaceNotFound,
            "no portrait found on the new document".into(),
        ));
    };
    let t = idgate_face::Thresholds::default();
    let distance = portrait.descriptor.distance(verified);
    if distance > t.same_person_distance {
        let detail = json!({"similarity": idgate_face::similarity_of(distance),
                            "threshold": idgate_face::similarity_of(t.same_person_distance),
                            "against": "the face verified on this account"});
        return Ok(flag(ReasonCode::FaceMismatch, detail.to_string()));
    }
    Ok(Vec::new())
}
