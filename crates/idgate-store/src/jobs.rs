//! The durable job queue: a submitted case's job, claimed with a lease that a dead
//! worker's lease running out hands to another, retried with backoff, completed once.

use crate::db::{Dialect, Store};
use crate::error::StoreError;
use sqlx::Row;

/// What a job does with its subject (`case_id` names a case or a change request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// Decide a submitted case.
    ProcessCase,
    /// Check a submitted change request's documents.
    CheckChangeRequest,
    /// Screen the approved applicants against what a list version added and changed
    /// (`case_id` is `source:version`).
    RescreenList,
    /// Evaluate a business waiting for its people again, after one of them was decided
    /// (`case_id` is the business's id).
    EvaluateBusiness,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::ProcessCase => "process_case",
            JobKind::CheckChangeRequest => "check_change_request",
            JobKind::RescreenList => "rescreen_list",
            JobKind::EvaluateBusiness => "evaluate_business",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        [
            JobKind::ProcessCase,
            JobKind::CheckChangeRequest,
            JobKind::RescreenList,
            JobKind::EvaluateBusiness,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub kind: JobKind,
    pub case_id: String,
    /// Including this claim.
    pub attempts: i64,
}

/// A waiting job's place: `ahead` jobs go before it (those running included; 0 when it
/// is running itself, `started`), and `running` jobs are being worked on now, by as many
/// workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuePlace {
    pub ahead: i64,
    pub running: i64,
    pub started: bool,
}

impl QueuePlace {
    /// Seconds until the job is done, from how long recent jobs took (`durations_ms`)
    /// and the workers now busy: the jobs ahead are shared among them, then this one
    /// takes as long again. `None` before any job has been timed.
    pub fn estimate_secs(&self, durations_ms: &[i64]) -> Option<i64> {
        if durations_ms.is_empty() {
            return None;
        }
        let mean = durations_ms.iter().sum::<i64>() as f64 / durations_ms.len() as f64;
        let rounds = self.ahead as f64 / self.running.max(1) as f64 + 1.0;
        Some((rounds * mean / 1000.0).ceil() as i64)
    }
}

/// Queues a job of `kind` on `subject`, due now, inside the caller's transaction (the
/// submission that creates the work and its job commit together).
pub(crate) async fn enqueue_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    kind: JobKind,
    subject: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO jobs (id, kind, case_id, status, attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, 'queued', 0, $4, $4, $4)",
    )
    .bind(crate::db::new_id())
    .bind(kind.as_str())
    .bind(subject)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Claims the next due job, or a running one whose lease has expired (its worker
    /// died), for `lease_ms`. On PostgreSQL concurrent workers skip each other's rows.
    pub async fn claim_job(&self, lease_ms: i64) -> Result<Option<Job>, StoreError> {
        let lock = match self.dialect {
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = $1, started_at = $2, updated_at = $2 \
             WHERE id = (SELECT id FROM jobs \
                         WHERE (status = 'queued' AND run_at <= $2) OR (status = 'running' AND lease_until < $2) \
                         ORDER BY run_at, id LIMIT 1 {lock}) \
             RETURNING id, kind, case_id, attempts"
        );
        let now = self.now();
        let row = sqlx::query(&sql)
            .bind(now + lease_ms)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(Job {
                id: r.try_get("id")?,
                kind: JobKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("job kind {kind}")))?,
                case_id: r.try_get("case_id")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .transpose()
    }

    /// Keeps a claimed job's lease alive while its worker is busy.
    pub async fn extend_lease(&self, job_id: &str, lease_ms: i64) -> Result<(), StoreError> {
        let now = self.now();
        sqlx::query("UPDATE jobs SET lease_until = $1, updated_at = $2 WHERE id = $3 AND status = 'running'")
            .bind(now + lease_ms)
            .bind(now)
            .bind(job_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn complete_job(&self, job_id: &str) -> Result<(), StoreError> {
        self.finish_job(job_id, "done", None, None).await
    }

    /// Marks the waiting jobs of a case done: its submitter decided it in-process
    /// (`idgate verify`). A job already running stays with its worker, which will find the
    /// case decided.
    pub async fn complete_queued_jobs_of(&self, case_id: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET status = 'done', updated_at = $1 WHERE case_id = $2 AND status = 'queued'",
        )
        .bind(self.now())
        .bind(case_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a failed job back in the queue at `retry_at`, or gives up (`None`).
    /// `error` is a class of failure, never personal data.
    pub async fn fail_job(
        &self,
        job_id: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<(), StoreError> {
        match retry_at {
            Some(at) => {
                self.finish_job(job_id, "queued", Some(error), Some(at))
                    .await
            }
            None => self.finish_job(job_id, "failed", Some(error), None).await,
        }
    }

    async fn finish_job(
        &self,
        job_id: &str,
        status: &str,
        error: Option<&str>,
        run_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let now = self.now();
        sqlx::query(
            "UPDATE jobs SET status = $1, last_error = $2, run_at = COALESCE($3, run_at), lease_until = NULL, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(status)
        .bind(error)
        .bind(run_at)
        .bind(now)
        .bind(job_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Where the newest unfinished job of `kind` on `subject` stands: `None` when it has
    /// none (not submitted, or done).
    pub async fn queue_place(
        &self,
        kind: JobKind,
        subject: &str,
    ) -> Result<Option<QueuePlace>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT id, status, run_at FROM jobs WHERE kind = $1 AND case_id = $2 \
             AND status IN ('queued', 'running') ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(kind.as_str())
        .bind(subject)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let (id, status, run_at): (String, String, i64) = (
            row.try_get("id")?,
            row.try_get("status")?,
            row.try_get("run_at")?,
        );
        let running: i64 = sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE status = 'running'")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        if status == "running" {
            return Ok(Some(QueuePlace {
                ahead: 0,
                running,
                started: true,
            }));
        }
        // Claimed in (run_at, id) order: those before it in that order go first.
        let before: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued' \
             AND (run_at < $1 OR (run_at = $1 AND id < $2))",
        )
        .bind(run_at)
        .bind(&id)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        Ok(Some(QueuePlace {
            ahead: before + running,
            running,
            started: false,
        }))
    }

    /// How long the last `n` jobs workers finished took each (ms), newest first.
    pub async fn recent_job_durations(&self, n: i64) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT updated_at - started_at AS took FROM jobs \
             WHERE status = 'done' AND started_at IS NOT NULL ORDER BY updated_at DESC LIMIT $1",
        )
        .bind(n)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<i64, _>("took")?.max(0)))
            .collect()
    }

    /// Jobs not yet done: (queued, running).
    pub async fn queue_depth(&self) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), 0) AS queued, \
                    COALESCE(SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END), 0) AS running FROM jobs",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("queued")?, row.try_get("running")?))
    }
}
