//! Retention (the policy's `[retention]`): a worker process erases the images, entered
//! data, kept frames and evidence of cases decided finally more than `images_days` ago,
//! at start and every hour, a batch at a time. Identity keys, decisions and the audit
//! trail stay; each case gets an `images_erased` audit event.

use crate::state::{AppState, Shared};
use std::time::Duration;

/// Cases released per transaction.
const BATCH: i64 = 200;
/// How often a worker process looks for cases past their retention.
const EVERY: Duration = Duration::from_secs(3600);

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub cases: usize,
    pub objects_deleted: usize,
    /// Objects whose deletion failed (the case is marked all the same: retried by nobody,
    /// counted and logged for the operator).
    pub objects_failed: usize,
}

/// Erases what is past its retention now. Nothing when `images_days` is 0.
pub async fn sweep(state: &AppState) -> Result<Swept, idgate_store::StoreError> {
    let mut done = Swept::default();
    let days = state.policy.retention.images_days;
    if days == 0 {
        return Ok(done);
    }
    let before = state.store.now() - i64::from(days) * 86_400_000;
    loop {
        let expired = state.store.expire_cases(before, BATCH).await?;
        if expired.is_empty() {
            return Ok(done);
        }
        for case in &expired {
            let (deleted, failed) = state.blobs.delete_each(&case.objects).await;
            done.objects_deleted += deleted;
            done.objects_failed += failed;
            crate::metrics::inc(&state.metrics.retention_expired);
        }
        done.cases += expired.len();
    }
}

pub async fn run(state: Shared, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        match sweep(&state).await {
            Ok(s) if s.cases > 0 => tracing::info!(
                cases = s.cases,
                objects = s.objects_deleted,
                failed = s.objects_failed,
                "retention: images and entered data erased"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention sweep failed; next round retries"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}
