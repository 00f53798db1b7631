//! Applicant sessions: the hosted flow's credential, bound to one applicant, stored only as
//! the SHA-256 of its token, usable until it expires or is revoked.

use crate::db::{new_id, Store};
use crate::error::StoreError;
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicantSession {
    pub id: String,
    pub applicant_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// Where the page sends the applicant when done (the platform's own page).
    pub redirect_url: Option<String>,
    /// The level the platform asked for: the page's cases are opened at it.
    pub level: Option<String>,
}

impl ApplicantSession {
    /// Neither expired nor revoked at `now`.
    pub fn usable_at(&self, now: i64) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

const COLUMNS: &str = "id, applicant_id, created_at, expires_at, revoked_at, redirect_url, level";

fn from_row(r: &sqlx::any::AnyRow) -> Result<ApplicantSession, StoreError> {
    Ok(ApplicantSession {
        id: r.try_get("id")?,
        applicant_id: r.try_get("applicant_id")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        redirect_url: r.try_get("redirect_url")?,
        level: r.try_get("level")?,
    })
}

impl Store {
    /// A new session for an existing applicant, valid for `ttl_ms` from now.
    pub async fn create_session(
        &self,
        applicant_id: &str,
        token_hash: &str,
        ttl_ms: i64,
        redirect_url: Option<&str>,
        level: Option<&str>,
    ) -> Result<ApplicantSession, StoreError> {
        if self.applicant(applicant_id).await?.is_none() {
            return Err(StoreError::NotFound { what: "applicant" });
        }
        let now = self.now();
        let s = ApplicantSession {
            id: new_id(),
            applicant_id: applicant_id.into(),
            created_at: now,
            expires_at: now + ttl_ms,
            revoked_at: None,
            redirect_url: redirect_url.map(str::to_string),
            level: level.map(str::to_string),
        };
        sqlx::query(
            "INSERT INTO applicant_sessions \
             (id, applicant_id, token_hash, created_at, expires_at, redirect_url, level) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&s.id)
        .bind(&s.applicant_id)
        .bind(token_hash)
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(&s.redirect_url)
        .bind(&s.level)
        .execute(&self.pool)
        .await?;
        Ok(s)
    }

    /// The session with this token hash, whatever its state (the caller tells an expired
    /// session from an unknown one).
    pub async fn session_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<ApplicantSession>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM applicant_sessions WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every session of an applicant, newest first.
    pub async fn sessions_of(
        &self,
        applicant_id: &str,
    ) -> Result<Vec<ApplicantSession>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM applicant_sessions WHERE applicant_id = $1 \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(applicant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Revokes a session of this applicant; false when there is no such usable session.
    pub async fn revoke_session(&self, applicant_id: &str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE applicant_sessions SET revoked_at = $1 \
             WHERE id = $2 AND applicant_id = $3 AND revoked_at IS NULL",
        )
        .bind(self.now())
        .bind(id)
        .bind(applicant_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The applicant's latest case, the only one a session may work on.
    pub async fn current_case(
        &self,
        applicant_id: &str,
    ) -> Result<Option<crate::Case>, StoreError> {
        Ok(self.cases_of_applicant(applicant_id).await?.pop())
    }
}
