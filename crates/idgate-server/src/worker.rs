//! Workers take jobs from the durable queue. A job's lease is extended while it runs;
//! if the process dies, the lease expires and another worker (or this one after a
//! restart) claims the job and carries the case on from where its status says it is.
//!
//! Processing is [`idgate_pipeline::Pipeline::decide_case`], the entry point `idgate verify`
//! calls too; a worker adds only the lease, its heartbeat, retries with backoff and, after
//! too many attempts, a person.

use crate::metrics::inc;
use crate::state::Shared;
use idgate_core::{CaseEvent, CaseStatus, Decision, ReasonCode};
use idgate_pipeline::PipelineError;
use idgate_store::{Job, JobKind, StoreError};
use std::time::Duration;

#[derive(Clone, Copy)]
pub struct WorkerConfig {
    pub lease_ms: i64,
    pub max_attempts: i64,
    pub debug_delay_ms: u64,
}

/// Why a job failed this time (it is retried with backoff, then goes to a person).
pub type JobError = PipelineError;

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

/// One job, then a word to whoever follows its case (the applicant's page).
async fn handle(state: &Shared, cfg: WorkerConfig, job: Job) {
    let id = job.case_id.clone();
    run_job(state, cfg, job).await;
    state.live.touch(&id);
}

async fn run_job(state: &Shared, cfg: WorkerConfig, job: Job) {
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
    let result = match job.kind {
        JobKind::CheckChangeRequest => state.pipeline().check_change_request(&job.case_id).await,
        JobKind::ProcessCase => process_case(state, cfg, &job.case_id).await,
        JobKind::RescreenList => crate::monitoring::rescreen(state, &job.case_id)
            .await
            .map(|_| ()),
        JobKind::EvaluateBusiness => crate::kyb::reevaluate(state, &job.case_id).await,
    };
    heartbeat.abort();
    let outcome = match result {
        Ok(()) => {
            inc(&state.metrics.jobs_completed);
            state.store.complete_job(&job.id).await
        }
        Err(e) if e.is_integrity() => {
            // A changed image is an alert, not a bad moment: the case goes to a person at
            // once (retrying would read the same bytes) and the metric is there to page on.
            tracing::error!(job = %job.id, case = %job.case_id, error = e.class(),
                "a stored image failed its integrity check; sending the case to review");
            inc(&state.metrics.blob_integrity_failures);
            give_up(state, &job).await;
            return;
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

/// After too many attempts, or a failure no retry can mend, the case goes to a human
/// instead of looping forever.
async fn give_up(state: &Shared, job: &Job) {
    inc(&state.metrics.jobs_failed);
    match job.kind {
        // The import stays; an operator sees the failure and imports the list again.
        JobKind::RescreenList => {
            tracing::error!(job = %job.id, list = %job.case_id, "re-screening after a list import failed for good");
        }
        // The business stays waiting for its people; the next decision of one of them
        // queues another evaluation.
        JobKind::EvaluateBusiness => {
            tracing::error!(job = %job.id, business = %job.case_id, "evaluating a business failed for good");
        }
        // Checks that cannot run never let a change through: it goes back for its
        // document to be submitted again.
        JobKind::CheckChangeRequest => {
            tracing::error!(job = %job.id, change_request = %job.case_id, "job exceeded its attempts; the change request waits for a new submission");
            let note =
                r#"[{"code":null,"detail":{"note":"the checks could not run; submit again"}}]"#;
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
        }
        JobKind::ProcessCase => {
            tracing::error!(job = %job.id, case = %job.case_id, "job exceeded its attempts; sending the case to review");
            to_review(state, &job.case_id).await;
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

/// A case its checks could not decide, to a person (COMPLIANCE_REVIEW).
async fn to_review(state: &Shared, case_id: &str) {
    let Ok(Some(c)) = state.store.case(case_id).await else {
        return;
    };
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

/// One case through the verification pipeline (the same entry point as `idgate verify`).
async fn process_case(state: &Shared, cfg: WorkerConfig, case_id: &str) -> Result<(), JobError> {
    // A list version imported since the last case (by `idgate lists import`, maybe from
    // another process) is screened against from this case on.
    state
        .screen
        .reload(&state.store)
        .await
        .map_err(|e| JobError::Checks(format!("screening lists: {e:#}")))?;
    let pipeline = state.pipeline();
    if cfg.debug_delay_ms > 0 {
        // Fault injection: hold the case in `processing` before the checks run.
        if pipeline.start(case_id).await?.is_none() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(cfg.debug_delay_ms)).await;
    }
    pipeline.decide_case(case_id).await?;
    Ok(())
}
