//! Workers take jobs from the durable queue. A job's lease is extended while it runs;
//! if the process dies, the lease expires and another worker (or this one after a
//! restart) claims the job and carries the case on from where its status says it is.
//!
//! Processing today: every uploaded image is read back, decrypted, and its digest and
//! format are checked against what was recorded at upload. A case without documents
//! is sent back with MISSING_SIDE. The automated document, face and data checks are
//! not part of this build yet, so every other case goes to manual review rather than
//! being approved by default.

use crate::api::Shared;
use crate::metrics::inc;
use idgate_core::{CaseEvent, CaseStatus, Decision, ReasonCode};
use idgate_store::{Job, StoreError};
use sha2::{Digest, Sha256};
use std::time::Duration;

#[derive(Clone, Copy)]
pub struct WorkerConfig {
    pub lease_ms: i64,
    pub max_attempts: i64,
    pub debug_delay_ms: u64,
}

#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored image does not match its recorded digest")]
    DigestMismatch,
}

impl JobError {
    /// A class of failure for the job log: never personal data.
    fn class(&self) -> &'static str {
        match self {
            JobError::Store(StoreError::Decrypt { .. }) => "blob_decrypt",
            JobError::Store(StoreError::Blob(_)) => "blob_unavailable",
            JobError::Store(_) => "store",
            JobError::DigestMismatch => "digest_mismatch",
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
    let result = process_case(state, cfg, &job.case_id).await;
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
            let now = idgate_core::Clock::now_ms(&idgate_core::SystemClock);
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
    for d in &documents {
        let bytes = state.blobs.get(&d.data.blob_key).await?;
        if hex::encode(Sha256::digest(&bytes)) != d.data.sha256 {
            return Err(JobError::DigestMismatch);
        }
    }
    state
        .store
        .transition(case_id, CaseEvent::Decide(Decision::Review), "worker", None)
        .await?;
    Ok(())
}
