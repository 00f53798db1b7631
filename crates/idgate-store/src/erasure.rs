//! The data lifecycle in the database: an applicant erased on request, and cases whose
//! images and entered data retention removes a set time after their final decision.
//!
//! Neither deletes objects itself: each answers the object names it released, and the
//! caller deletes them from the blob store (for an erasure, after destroying the
//! applicant's key, which already makes every one of them unreadable). Identity keys
//! (keyed hashes of documents and persons), attempts, decisions and the audit trail stay
//! for the AML period.

use crate::db::{insert_audit, Store};
use crate::error::StoreError;
use idgate_core::CaseStatus;
use sqlx::Row;

/// What an erasure released.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erasure {
    pub applicant_id: String,
    pub at: i64,
    /// Names of the objects that were the applicant's (to delete from the blob store).
    pub objects: Vec<String>,
    /// False when the applicant had been erased before (the objects are answered again,
    /// so that a deletion that failed can be retried).
    pub first: bool,
}

/// A case whose images and entered data retention released.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expired {
    pub case_id: String,
    pub objects: Vec<String>,
}

/// Every object an applicant's rows name: documents, entered and verified data, face
/// templates, recordings' faces, kept frames, evidence, change requests and theirs.
const APPLICANT_OBJECTS: &str = "\
    SELECT d.blob_key AS k FROM documents d JOIN cases c ON c.id = d.case_id WHERE c.applicant_id = $1 \
    UNION SELECT c.data_key FROM cases c WHERE c.applicant_id = $1 AND c.data_key IS NOT NULL \
    UNION SELECT a.verified_data_key FROM applicants a WHERE a.id = $1 AND a.verified_data_key IS NOT NULL \
    UNION SELECT f.blob_key FROM face_templates f WHERE f.applicant_id = $1 \
    UNION SELECT f.blob_key FROM frame_sets f WHERE f.applicant_id = $1 \
    UNION SELECT e.blob_key FROM case_evidence e JOIN cases c ON c.id = e.case_id WHERE c.applicant_id = $1 \
    UNION SELECT s.blob_key FROM liveness_shots s JOIN liveness_challenges l ON l.id = s.challenge_id \
          JOIN cases c ON c.id = l.case_id WHERE c.applicant_id = $1 \
    UNION SELECT r.data_key FROM change_requests r WHERE r.applicant_id = $1 \
    UNION SELECT d.blob_key FROM change_request_documents d JOIN change_requests r \
          ON r.id = d.change_request_id WHERE r.applicant_id = $1";

/// The objects of one case that retention releases: its images, its entered data, its
/// recordings' kept frames and the evidence drawn on them. The applicant's verified data
/// (what ongoing screening reads) and face templates (duplicate search) are not the
/// case's and stay while the applicant does.
const CASE_OBJECTS: &str = "\
    SELECT d.blob_key AS k FROM documents d WHERE d.case_id = $1 \
    UNION SELECT c.data_key FROM cases c WHERE c.id = $1 AND c.data_key IS NOT NULL \
          AND NOT EXISTS (SELECT 1 FROM applicants a WHERE a.verified_data_key = c.data_key) \
    UNION SELECT e.blob_key FROM case_evidence e WHERE e.case_id = $1 \
    UNION SELECT s.blob_key FROM liveness_shots s JOIN liveness_challenges l \
          ON l.id = s.challenge_id WHERE l.case_id = $1";

fn status_of(row: &sqlx::any::AnyRow) -> Result<CaseStatus, StoreError> {
    let status: String = row.try_get("status")?;
    CaseStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("case status {status:?}")))
}

impl Store {
    /// Erases an applicant: refused (`Conflict`) while one of their cases is being
    /// decided (submitted, processing, or in review: a reviewer decides first). Marks the
    /// applicant erased, removes their face templates and recordings' faces (nothing can
    /// match against them any more), their verified steps (the entitlements), revokes
    /// their sessions, and records the erasure and an `erased` audit event on each case,
    /// in one transaction. Answers the objects to delete. Erasing again answers them again.
    pub async fn erase_applicant(&self, id: &str, actor: &str) -> Result<Erasure, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT uid, erased_at FROM applicants WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound { what: "applicant" })?;
        let uid: String = row.try_get("uid")?;
        let erased_at: Option<i64> = row.try_get("erased_at")?;
        let objects: Vec<String> = sqlx::query(APPLICANT_OBJECTS)
            .bind(id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("k"))
            .collect::<Result<_, _>>()?;
        if let Some(at) = erased_at {
            return Ok(Erasure {
                applicant_id: id.into(),
                at,
                objects,
                first: false,
            });
        }
        let cases = sqlx::query("SELECT id, status FROM cases WHERE applicant_id = $1")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
        let mut statuses = Vec::with_capacity(cases.len());
        for r in &cases {
            let status = status_of(r)?;
            if matches!(
                status,
                CaseStatus::Submitted | CaseStatus::Processing | CaseStatus::InReview
            ) {
                return Err(StoreError::Conflict(
                    "a case of this applicant is being decided; erase it once it is decided",
                ));
            }
            statuses.push((r.try_get::<String, _>("id")?, status));
        }
        for sql in [
            "UPDATE applicants SET erased_at = $2 WHERE id = $1",
            "UPDATE applicant_sessions SET revoked_at = $2 WHERE applicant_id = $1 AND revoked_at IS NULL",
        ] {
            sqlx::query(sql).bind(id).bind(now).execute(&mut *tx).await?;
        }
        for sql in [
            "DELETE FROM face_templates WHERE applicant_id = $1",
            "DELETE FROM frame_sets WHERE applicant_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM verified_steps WHERE uid = $1")
            .bind(&uid)
            .execute(&mut *tx)
            .await?;
        for (case_id, status) in &statuses {
            insert_audit(
                &mut tx,
                case_id,
                actor,
                "erased",
                Some(*status),
                Some(*status),
                now,
            )
            .await?;
        }
        sqlx::query(
            "INSERT INTO erasures (applicant_id, actor, at, objects) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(actor)
        .bind(now)
        .bind(objects.len() as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Erasure {
            applicant_id: id.into(),
            at: now,
            objects,
            first: true,
        })
    }

    /// The applicants erased so far (a key rotation erases their keys again).
    pub async fn erased_applicants(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT id FROM applicants WHERE erased_at IS NOT NULL ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get("id").map_err(Into::into))
            .collect()
    }

    /// Up to `limit` cases decided finally (approved, rejected, resubmission requested)
    /// before `decided_before` whose objects retention has not yet released, oldest
    /// first, each marked released with an `images_erased` audit event; their document
    /// and evidence rows stay (names of objects no longer there). A case of an erased
    /// applicant is skipped: its erasure released everything.
    pub async fn expire_cases(
        &self,
        decided_before: i64,
        limit: i64,
    ) -> Result<Vec<Expired>, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let due = sqlx::query(
            "SELECT c.id, c.status FROM cases c JOIN applicants a ON a.id = c.applicant_id \
             WHERE c.erased_at IS NULL AND a.erased_at IS NULL AND c.updated_at < $1 \
             AND c.status IN ('approved', 'rejected', 'resubmission_requested') \
             ORDER BY c.updated_at, c.id LIMIT $2",
        )
        .bind(decided_before)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(due.len());
        for r in &due {
            let case_id: String = r.try_get("id")?;
            let status = status_of(r)?;
            let objects: Vec<String> = sqlx::query(CASE_OBJECTS)
                .bind(&case_id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get("k"))
                .collect::<Result<_, _>>()?;
            let marked =
                sqlx::query("UPDATE cases SET erased_at = $2 WHERE id = $1 AND erased_at IS NULL")
                    .bind(&case_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            if marked.rows_affected() == 0 {
                continue;
            }
            insert_audit(
                &mut tx,
                &case_id,
                "retention",
                "images_erased",
                Some(status),
                Some(status),
                now,
            )
            .await?;
            out.push(Expired { case_id, objects });
        }
        tx.commit().await?;
        Ok(out)
    }
}
