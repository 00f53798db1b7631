//! Face templates (the sealed descriptor's blob key per case) and active liveness
//! challenges with the digests of the frames they received.

use crate::db::{new_id, Store};
use crate::error::StoreError;
use idgate_core::ChallengeStatus;
use sqlx::Row;

/// A stored face: the blob key of its sealed descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaceTemplate {
    pub id: String,
    pub applicant_id: String,
    pub case_id: String,
    pub blob_key: String,
    pub verified: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LivenessChallenge {
    pub id: String,
    pub case_id: String,
    /// Movement names, in the order asked.
    pub actions: Vec<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub status: ChallengeStatus,
    /// The judgement (JSON), once answered.
    pub result: Option<String>,
    pub answered_at: Option<i64>,
}

fn challenge_from_row(r: &sqlx::any::AnyRow) -> Result<LivenessChallenge, StoreError> {
    let actions: String = r.try_get("actions")?;
    Ok(LivenessChallenge {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        actions: actions.split(',').map(str::to_string).collect(),
        issued_at: r.try_get("issued_at")?,
        expires_at: r.try_get("expires_at")?,
        status: {
            let status: String = r.try_get("status")?;
            ChallengeStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("challenge status {status}")))?
        },
        result: r.try_get("result")?,
        answered_at: r.try_get("answered_at")?,
    })
}

const CHALLENGE_COLUMNS: &str =
    "id, case_id, actions, issued_at, expires_at, status, result, answered_at";

impl Store {
    /// Records (or replaces) the face template of a case's selfie; it counts for duplicate
    /// search once the case is approved. Returns the replaced template's blob key (for the
    /// caller to delete).
    pub async fn put_face_template(
        &self,
        applicant_id: &str,
        case_id: &str,
        blob_key: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let old: Option<String> =
            sqlx::query_scalar("SELECT blob_key FROM face_templates WHERE case_id = $1")
                .bind(case_id)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM face_templates WHERE case_id = $1")
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO face_templates (id, applicant_id, case_id, blob_key, verified, created_at) \
             VALUES ($1, $2, $3, $4, 0, $5)",
        )
        .bind(new_id())
        .bind(applicant_id)
        .bind(case_id)
        .bind(blob_key)
        .bind(self.now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(old)
    }

    /// Verified faces of every applicant but `applicant_id`.
    pub async fn verified_faces_except(
        &self,
        applicant_id: &str,
    ) -> Result<Vec<FaceTemplate>, StoreError> {
        self.face_templates(
            "WHERE verified = 1 AND applicant_id <> $1 ORDER BY created_at, id",
            applicant_id,
        )
        .await
    }

    /// The applicant's own verified faces, newest first (what a new document of theirs must
    /// show).
    pub async fn verified_faces_of(
        &self,
        applicant_id: &str,
    ) -> Result<Vec<FaceTemplate>, StoreError> {
        self.face_templates(
            "WHERE verified = 1 AND applicant_id = $1 ORDER BY created_at DESC, id",
            applicant_id,
        )
        .await
    }

    /// Every stored face but the one of case `case_id`, verified or not, any applicant:
    /// what a new selfie must not be a copy of.
    pub async fn faces_except_case(&self, case_id: &str) -> Result<Vec<FaceTemplate>, StoreError> {
        self.face_templates("WHERE case_id <> $1 ORDER BY created_at, id", case_id)
            .await
    }

    async fn face_templates(
        &self,
        filter: &str,
        arg: &str,
    ) -> Result<Vec<FaceTemplate>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT id, applicant_id, case_id, blob_key, verified FROM face_templates {filter}"
        ))
        .bind(arg)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FaceTemplate {
                    id: r.try_get("id")?,
                    applicant_id: r.try_get("applicant_id")?,
                    case_id: r.try_get("case_id")?,
                    blob_key: r.try_get("blob_key")?,
                    verified: r.try_get::<i64, _>("verified")? == 1,
                })
            })
            .collect()
    }

    /// Records the sealed faces of an answered liveness sequence (or a selfie) of a case.
    pub async fn put_frame_set(
        &self,
        applicant_id: &str,
        case_id: &str,
        challenge_id: Option<&str>,
        blob_key: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO frame_sets (id, applicant_id, case_id, challenge_id, blob_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(applicant_id)
        .bind(case_id)
        .bind(challenge_id)
        .bind(blob_key)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// (case id, blob key) of every frame set of applicants other than `applicant_id`.
    pub async fn frame_sets_except_applicant(
        &self,
        applicant_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT case_id, blob_key FROM frame_sets WHERE applicant_id <> $1 ORDER BY created_at, id",
        )
        .bind(applicant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("case_id")?, r.try_get("blob_key")?)))
            .collect()
    }

    /// How many challenges were issued for the case, and for any case of its applicant at
    /// or after `since` (ms).
    pub async fn challenge_counts(
        &self,
        case_id: &str,
        since: i64,
    ) -> Result<(i64, i64), StoreError> {
        let of_case: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM liveness_challenges WHERE case_id = $1")
                .bind(case_id)
                .fetch_one(&self.pool)
                .await?;
        let of_applicant: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM liveness_challenges l JOIN cases c ON c.id = l.case_id \
             WHERE c.applicant_id = (SELECT applicant_id FROM cases WHERE id = $1) \
             AND l.issued_at >= $2",
        )
        .bind(case_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok((of_case, of_applicant))
    }

    /// When the applicant's oldest challenge issued at or after `since` was issued (the
    /// hourly limit frees a place an hour after it).
    pub async fn oldest_challenge_since(
        &self,
        case_id: &str,
        since: i64,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(l.issued_at) FROM liveness_challenges l JOIN cases c ON c.id = l.case_id \
             WHERE c.applicant_id = (SELECT applicant_id FROM cases WHERE id = $1) \
             AND l.issued_at >= $2",
        )
        .bind(case_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Issues a challenge for a case.
    pub async fn create_challenge(
        &self,
        case_id: &str,
        actions: &[&str],
        ttl_ms: i64,
    ) -> Result<LivenessChallenge, StoreError> {
        let now = self.now();
        let c = LivenessChallenge {
            id: new_id(),
            case_id: case_id.to_string(),
            actions: actions.iter().map(|a| a.to_string()).collect(),
            issued_at: now,
            expires_at: now + ttl_ms,
            status: ChallengeStatus::Issued,
            result: None,
            answered_at: None,
        };
        sqlx::query(
            "INSERT INTO liveness_challenges (id, case_id, actions, issued_at, expires_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&c.id)
        .bind(&c.case_id)
        .bind(c.actions.join(","))
        .bind(c.issued_at)
        .bind(c.expires_at)
        .bind(c.status.as_str())
        .execute(&self.pool)
        .await?;
        Ok(c)
    }

    pub async fn challenge(&self, id: &str) -> Result<Option<LivenessChallenge>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CHALLENGE_COLUMNS} FROM liveness_challenges WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(challenge_from_row).transpose()
    }

    /// The case's latest challenge.
    pub async fn latest_challenge(
        &self,
        case_id: &str,
    ) -> Result<Option<LivenessChallenge>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CHALLENGE_COLUMNS} FROM liveness_challenges WHERE case_id = $1 \
             ORDER BY issued_at DESC, id DESC LIMIT 1"
        ))
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(challenge_from_row).transpose()
    }

    /// Answers an issued challenge once: records its status and judgement and the digests
    /// of its frames. Fails with `Conflict` when it was answered already, or when one of
    /// the frames was received before (by any challenge, or twice in this one): a replay.
    pub async fn answer_challenge(
        &self,
        id: &str,
        status: ChallengeStatus,
        result: &str,
        frame_digests: &[String],
    ) -> Result<LivenessChallenge, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE liveness_challenges SET status = $1, result = $2, answered_at = $3 \
             WHERE id = $4 AND status = 'issued'",
        )
        .bind(status.as_str())
        .bind(result)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict("the challenge was answered already"));
        }
        let mut this_batch = std::collections::HashSet::new();
        for d in frame_digests {
            if !this_batch.insert(d) {
                return Err(StoreError::Conflict("a frame was sent twice"));
            }
            let seen: Option<String> =
                sqlx::query_scalar("SELECT challenge_id FROM liveness_frames WHERE sha256 = $1")
                    .bind(d)
                    .fetch_optional(&mut *tx)
                    .await?;
            if seen.is_some() {
                return Err(StoreError::Conflict("a frame was sent before"));
            }
            sqlx::query("INSERT INTO liveness_frames (sha256, challenge_id) VALUES ($1, $2)")
                .bind(d)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.challenge(id)
            .await?
            .ok_or(StoreError::NotFound { what: "challenge" })
    }
}

/// A frame of a liveness recording kept for the reviewer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LivenessShot {
    pub id: String,
    pub challenge_id: String,
    /// The challenge's status when the frames were kept (`passed`, `failed`).
    pub status: String,
    /// Which frame: `first`, `last`, `best` or the movement seen in it.
    pub label: String,
    /// Its index in the recording.
    pub frame: i64,
    pub blob_key: String,
    pub content_type: String,
    pub created_at: i64,
}

impl Store {
    /// Keeps frames of an answered challenge: (label, index, blob key, content type).
    pub async fn add_liveness_shots(
        &self,
        challenge_id: &str,
        shots: &[(&str, i64, String, &str)],
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        for (label, frame, key, content_type) in shots {
            sqlx::query(
                "INSERT INTO liveness_shots (id, challenge_id, label, frame, blob_key, content_type, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(new_id())
            .bind(challenge_id)
            .bind(*label)
            .bind(*frame)
            .bind(key)
            .bind(*content_type)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The frames kept from every answered challenge of case `case_id`, oldest challenge
    /// first, each in recording order.
    pub async fn liveness_shots(&self, case_id: &str) -> Result<Vec<LivenessShot>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.id, s.challenge_id, c.status, s.label, s.frame, s.blob_key, s.content_type, s.created_at \
             FROM liveness_shots s JOIN liveness_challenges c ON c.id = s.challenge_id \
             WHERE c.case_id = $1 ORDER BY c.issued_at, c.id, s.frame, s.label",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LivenessShot {
                    id: r.try_get("id")?,
                    challenge_id: r.try_get("challenge_id")?,
                    status: r.try_get("status")?,
                    label: r.try_get("label")?,
                    frame: r.try_get("frame")?,
                    blob_key: r.try_get("blob_key")?,
                    content_type: r.try_get("content_type")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }
}
