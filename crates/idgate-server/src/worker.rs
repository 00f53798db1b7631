//! Workers take jobs from the durable queue. A job's lease is extended while it runs;
//! if the process dies, the lease expires and another worker (or this one after a
//! restart) claims the job and carries the case on from where its status says it is.
//!
//! Processing: every uploaded image is read back, decrypted and its digest checked against
//! the one recorded at upload; then the same pipeline as `idgate verify` runs (cooldown,
//! photo checks and MRZ per document side off the async threads, identity keys and
//! duplicates, the decision engine) and the decision is stored with all its effects in one
//! transaction ([`idgate_store::Store::decide_case`]), which also writes the webhook.
//! A case without documents is sent back with MISSING_SIDE.

use crate::api::Shared;
use crate::metrics::inc;
use crate::verify_cli::{self, EnteredData, Plan, Submission, Verifier};
use idgate_core::{CaseEvent, CaseStatus, Decision, ReasonCode};
use idgate_decide::{Extracted, Outcome};
use idgate_store::{CaseDecision, Job, StoreError};
use sha2::{Digest, Sha256};
use std::time::Duration;

#[derive(Clone, Copy)]
pub struct WorkerConfig {
    pub lease_ms: i64,
    pub max_attempts: i64,
    pub debug_delay_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored image does not match its recorded digest")]
    DigestMismatch,
    /// The checks could not run (models missing, a task panicked): retried, then review.
    #[error("checks failed: {0}")]
    Checks(String),
}

impl JobError {
    /// A class of failure for the job log: never personal data.
    fn class(&self) -> &'static str {
        match self {
            JobError::Store(StoreError::Decrypt { .. }) => "blob_decrypt",
            JobError::Store(StoreError::Blob(_)) => "blob_unavailable",
            JobError::Store(_) => "store",
            JobError::DigestMismatch => "digest_mismatch",
            JobError::Checks(_) => "checks_failed",
        }
    }
}

pub async fn run(
    state: Shared,
    cfg: WorkerConfig,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match state.store.claim_job(cfg.lease_ms).await {
            Ok(Some(job)) => handle(&state, cfg, job).await,
            Ok(None) => {
                tokio::select! {
                    _ = state.jobs_ready.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "claiming a job failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Runs every job that is due now, one after another, and returns how many ran (tests and
/// maintenance; the service's workers loop in [`run`]).
pub async fn drain(state: &Shared, cfg: WorkerConfig) -> Result<usize, StoreError> {
    let mut n = 0;
    while let Some(job) = state.store.claim_job(cfg.lease_ms).await? {
        handle(state, cfg, job).await;
        n += 1;
    }
    Ok(n)
}

async fn handle(state: &Shared, cfg: WorkerConfig, job: Job) {
    tracing::info!(job = %job.id, case = %job.case_id, attempt = job.attempts, "processing");
    if job.attempts > cfg.max_attempts {
        give_up(state, &job).await;
        return;
    }
    let heartbeat = {
        let (state, id) = (state.clone(), job.id.clone());
        tokio::spawn(async move {
            let every = Duration::from_millis((cfg.lease_ms / 3).max(100) as u64);
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = state.store.extend_lease(&id, cfg.lease_ms).await {
                    tracing::warn!(error = %e, "extending a job lease failed");
                }
            }
        })
    };
    let result = match job.kind.as_str() {
        "check_change_request" => crate::changes::check(state, &job.case_id).await,
        _ => process_case(state, cfg, &job.case_id).await,
    };
    heartbeat.abort();
    let outcome = match result {
        Ok(()) => {
            inc(&state.metrics.jobs_completed);
            state.store.complete_job(&job.id).await
        }
        Err(e) => {
            tracing::warn!(job = %job.id, error = e.class(), attempt = job.attempts, "job failed; will retry");
            inc(&state.metrics.jobs_retried);
            let backoff = 1000i64 << job.attempts.clamp(0, 10);
            let now = state.store.now();
            state
                .store
                .fail_job(&job.id, e.class(), Some(now + backoff))
                .await
        }
    };
    if let Err(e) = outcome {
        tracing::error!(error = %e, "recording a job outcome failed");
    }
}

/// After too many attempts the case goes to a human instead of looping forever.
async fn give_up(state: &Shared, job: &Job) {
    inc(&state.metrics.jobs_failed);
    if job.kind == "check_change_request" {
        // Checks that cannot run never let a change through: it goes back for its document
        // to be submitted again.
        tracing::error!(job = %job.id, change_request = %job.case_id, "job exceeded its attempts; the change request waits for a new submission");
        let note = r#"[{"code":null,"detail":{"note":"the checks could not run; submit again"}}]"#;
        let _ = state
            .store
            .record_change_checks(
                &job.case_id,
                &idgate_store::ChangeCheckResult {
                    checks: idgate_core::ChangeChecks::Retake,
                    reasons: &[],
                    findings: note,
                    identity_keys: &[],
                },
            )
            .await;
        if let Err(e) = state
            .store
            .fail_job(&job.id, "attempts_exhausted", None)
            .await
        {
            tracing::error!(error = %e, "recording a failed job failed");
        }
        return;
    }
    tracing::error!(job = %job.id, case = %job.case_id, "job exceeded its attempts; sending the case to review");
    let case = state.store.case(&job.case_id).await;
    if let Ok(Some(c)) = case {
        let mut status = c.status;
        if status == CaseStatus::Submitted {
            if let Ok(c) = state
                .store
                .transition(&c.id, CaseEvent::StartProcessing, "worker", None)
                .await
            {
                status = c.status;
            }
        }
        if status == CaseStatus::Processing {
            let reasons = [ReasonCode::ComplianceReview];
            let _ = state
                .store
                .transition(
                    &c.id,
                    CaseEvent::Decide(Decision::Review),
                    "worker",
                    Some(&reasons),
                )
                .await;
        }
    }
    if let Err(e) = state
        .store
        .fail_job(&job.id, "attempts_exhausted", None)
        .await
    {
        tracing::error!(error = %e, "recording a failed job failed");
    }
}

async fn process_case(state: &Shared, cfg: WorkerConfig, case_id: &str) -> Result<(), JobError> {
    let Some(case) = state.store.case(case_id).await? else {
        return Ok(()); // deleted: nothing to do
    };
    match case.status {
        CaseStatus::Submitted => {
            state
                .store
                .transition(case_id, CaseEvent::StartProcessing, "worker", None)
                .await?;
        }
        CaseStatus::Processing => {} // a crashed worker's case: carry on
        _ => return Ok(()),          // already decided
    }
    if cfg.debug_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(cfg.debug_delay_ms)).await;
    }
    let documents = state.store.documents(case_id).await?;
    if documents.is_empty() {
        let reasons = [ReasonCode::MissingSide];
        state
            .store
            .transition(
                case_id,
                CaseEvent::Decide(Decision::Retry),
                "worker",
                Some(&reasons),
            )
            .await?;
        return Ok(());
    }
    let mut images = Vec::new();
    let (mut selfie, mut proof_of_address) = (None, false);
    for d in &documents {
        let bytes = state.blobs.get(&d.data.blob_key).await?;
        if hex::encode(Sha256::digest(&bytes)) != d.data.sha256 {
            return Err(JobError::DigestMismatch);
        }
        match d.data.kind.as_str() {
            "selfie" => selfie = Some(bytes),
            "proof_of_address" => proof_of_address = true,
            _ => images.push((d.data.side.clone(), bytes)),
        }
    }
    let sub = Submission {
        images,
        selfie,
        proof_of_address_supplied: proof_of_address,
    };
    decide(state, &case, sub).await
}

/// The `idgate verify` pipeline on a stored case.
async fn decide(
    state: &Shared,
    case: &idgate_store::Case,
    mut sub: Submission,
) -> Result<(), JobError> {
    let review = |reasons: Vec<ReasonCode>| async move {
        state
            .store
            .transition(
                &case.id,
                CaseEvent::Decide(Decision::Review),
                "worker",
                Some(&reasons),
            )
            .await
            .map(|_| ())
            .map_err(JobError::from)
    };
    let applicant = state
        .store
        .applicant(&case.applicant_id)
        .await?
        .ok_or(StoreError::NotFound { what: "applicant" })?;
    // Submitting needs entered data; a case from before that rule goes to a person.
    let Some(data_key) = &case.data_key else {
        return review(vec![ReasonCode::ComplianceReview]).await;
    };
    let entered: EnteredData = match serde_json::from_slice(&state.blobs.get(data_key).await?) {
        Ok(e) => e,
        Err(_) => return review(vec![ReasonCode::ComplianceReview]).await,
    };
    let Ok(app) = entered.application(&applicant.uid, &applicant.region, &case.level) else {
        return review(vec![ReasonCode::ComplianceReview]).await;
    };
    let now_ms = state.store.now();
    let check = state.check_options(idgate_mrz::Date::from_unix_days(
        now_ms.div_euclid(86_400_000),
    ));
    let v = Verifier {
        policy: &state.policy,
        store: &state.store,
        secret: &state.identity_secret,
        now_ms,
        check,
    };
    let check_err = |e: anyhow::Error| JobError::Checks(format!("{e:#}"));
    let prepared = match verify_cli::plan(&v, &app).await.map_err(check_err)? {
        Plan::Throttled(verdict, _) => {
            // A cooldown is not an attempt of its own: nothing but the case is recorded.
            let (reasons, _) = verify_cli::record_parts(&verdict);
            state
                .store
                .decide_case(&CaseDecision {
                    case_id: &case.id,
                    event: CaseEvent::Decide(Decision::Retry),
                    actor: "worker",
                    reasons: &reasons,
                    findings: Some(&verify_cli::findings_json(&verdict.findings)),
                    reviewer_id: None,
                    comments: &[],
                    record: None,
                    checked: false,
                    retry_after: verdict.retry_after_ms,
                })
                .await?;
            return Ok(());
        }
        Plan::Check(p) => p,
    };
    // The image checks are CPU-bound: off the async threads.
    let images = std::mem::take(&mut sub.images);
    let selfie = sub.selfie.take();
    let (st, needs_document, needs_mrz) =
        (state.clone(), prepared.needs_document, prepared.needs_mrz);
    let needs_selfie = prepared.needs_selfie;
    let (photo, face_findings, selfie) = tokio::task::spawn_blocking(move || {
        let photo = if needs_document {
            verify_cli::check_sides(&st.policy, st.ocr()?, &check, &images, needs_mrz)?
        } else {
            (Vec::new(), Extracted::default())
        };
        let faces = match &selfie {
            Some(bytes) if needs_selfie => {
                verify_cli::check_faces(&st.policy, st.faces()?, &check, &images, bytes)
            }
            _ => verify_cli::FaceCheck::default(),
        };
        anyhow::Ok((photo, faces, selfie))
    })
    .await
    .map_err(|e| JobError::Checks(format!("check task: {e}")))?
    .map_err(check_err)?;
    sub.selfie = selfie;
    let faces_descriptor = face_findings.descriptor;
    let selfie_hash = face_findings.hash;
    let mut face_findings = face_findings.findings;
    if let Some(face) = &faces_descriptor {
        face_findings.extend(replayed_face(state, &case.id, face).await?);
        if let Some(hash) = selfie_hash {
            let seen = [idgate_face::hash::Seen {
                hash,
                descriptor: face.clone(),
            }];
            let copies = crate::liveness::copies_elsewhere(state, &case.applicant_id, &seen)
                .await
                .map_err(|e| JobError::Checks(e.message().to_string()))?;
            if copies > 0 {
                let detail = serde_json::json!({"copy_of_another_applicants_picture": true});
                face_findings.push(selfie_finding(
                    state,
                    ReasonCode::LivenessFailed,
                    detail.to_string(),
                ));
            }
            let key = state
                .blobs
                .put(&idgate_face::hash::Seen::encode(&seen))
                .await?;
            state
                .store
                .put_frame_set(&case.applicant_id, &case.id, None, &key)
                .await?;
        }
        face_findings.extend(duplicate_faces(state, &case.applicant_id, face).await?);
        let key = state.blobs.put(&face.to_bytes()).await?;
        let old = state
            .store
            .put_face_template(&case.applicant_id, &case.id, &key)
            .await?;
        if let Some(old) = old {
            state.blobs.delete(&old).await?;
        }
    }
    if needs_selfie && state.policy.liveness_required {
        face_findings.extend(liveness_findings(state, &case.id, now_ms).await?);
    }
    let mut decided = verify_cli::conclude(&v, &app, &sub, prepared, photo, face_findings)
        .await
        .map_err(check_err)?;
    // Every check the level requires ran (an unknown level, from a policy changed since the
    // case was opened, ran none: such a case goes to a person, who cannot approve it).
    let checked = state.policy.level(&case.level).is_some();
    loop {
        let (reasons, steps) = verify_cli::record_parts(&decided.verdict);
        let result = state
            .store
            .decide_case(&CaseDecision {
                case_id: &case.id,
                event: CaseEvent::Decide(verify_cli::decision_of(decided.verdict.outcome)),
                actor: "worker",
                reasons: &reasons,
                findings: Some(&verify_cli::findings_json(&decided.verdict.findings)),
                reviewer_id: None,
                comments: &[],
                record: Some(decided.record(&app.uid, Some(&case.id), &reasons, &steps)),
                checked,
                retry_after: decided.verdict.retry_after_ms.filter(|&at| at > now_ms),
            })
            .await;
        match result {
            Err(StoreError::DuplicateDocument) if decided.verdict.outcome == Outcome::Approved => {
                decided.lost_race(&state.policy);
            }
            other => {
                other?;
                return Ok(());
            }
        }
    }
}

/// The first of `templates` (decrypted one by one) within `within` of `face`, and its
/// distance. A linear search: fine for the thousands of accounts a self-hosted gate serves
/// first (an index is the next step at scale).
async fn face_within(
    state: &Shared,
    templates: Vec<idgate_store::FaceTemplate>,
    face: &idgate_face::Descriptor,
    within: f32,
) -> Result<Option<(idgate_store::FaceTemplate, f32)>, JobError> {
    for template in templates {
        let bytes = state.blobs.get(&template.blob_key).await?;
        let Ok(other) = idgate_face::Descriptor::from_bytes(&bytes) else {
            tracing::warn!(template = %template.id, "a stored face template is not 512 bytes");
            continue;
        };
        let distance = face.distance(&other);
        if distance <= within {
            return Ok(Some((template, distance)));
        }
    }
    Ok(None)
}

/// A finding about the selfie, with the policy's reject type for `code`.
fn selfie_finding(state: &Shared, code: ReasonCode, detail: String) -> idgate_decide::Finding {
    idgate_decide::Finding::new(code, state.policy.reject_type(code), detail).about("selfie")
}

/// DUPLICATE_FACE when the selfie's face is a face verified on another account.
async fn duplicate_faces(
    state: &Shared,
    applicant_id: &str,
    face: &idgate_face::Descriptor,
) -> Result<Vec<idgate_decide::Finding>, JobError> {
    let t = idgate_face::Thresholds::default();
    let verified = state.store.verified_faces_except(applicant_id).await?;
    Ok(face_within(state, verified, face, t.duplicate_distance)
        .await?
        .map(|(template, distance)| {
            let detail = serde_json::json!({
                "case": template.case_id,
                "similarity": idgate_face::similarity_of(distance),
            });
            selfie_finding(state, ReasonCode::DuplicateFace, detail.to_string())
        })
        .into_iter()
        .collect())
}

/// LIVENESS_FAILED when the selfie's face is, to within re-encoding, a face stored from
/// another case (this applicant's earlier session or anyone's): a picture used again.
async fn replayed_face(
    state: &Shared,
    case_id: &str,
    face: &idgate_face::Descriptor,
) -> Result<Vec<idgate_decide::Finding>, JobError> {
    let t = idgate_face::Thresholds::default();
    let stored = state.store.faces_except_case(case_id).await?;
    Ok(face_within(state, stored, face, t.replay_distance)
        .await?
        .map(|(template, distance)| {
            let detail = serde_json::json!({
                "replay_of_case": template.case_id,
                "distance": distance,
            });
            selfie_finding(state, ReasonCode::LivenessFailed, detail.to_string())
        })
        .into_iter()
        .collect())
}

/// The case's liveness: its latest challenge must have passed.
async fn liveness_findings(
    state: &Shared,
    case_id: &str,
    now_ms: i64,
) -> Result<Vec<idgate_decide::Finding>, JobError> {
    let challenge = state.store.latest_challenge(case_id).await?;
    let (code, detail) = match challenge {
        Some(c) if c.status == "passed" => return Ok(Vec::new()),
        None => (
            ReasonCode::LivenessFailed,
            "no liveness challenge was answered".to_string(),
        ),
        Some(c) if c.status == "expired" || (c.status == "issued" && now_ms > c.expires_at) => (
            ReasonCode::LivenessTimeout,
            "the liveness challenge expired before it was answered".to_string(),
        ),
        Some(c) if c.status == "issued" => (
            ReasonCode::LivenessFailed,
            "the liveness challenge was not answered".to_string(),
        ),
        Some(c) => (
            ReasonCode::LivenessFailed,
            c.result.unwrap_or_else(|| "failed".into()),
        ),
    };
    Ok(vec![selfie_finding(state, code, detail)])
}
