//! Signing in to the console: cookie sessions (found by token digest, with their stage,
//! idle and absolute expiry; ended on sign-out, a stage change or a disabled account),
//! failed sign-ins counted per account and per address for throttling, and the security
//! log of every sign-in, failure, enrolment and admin action.

use crate::accounts::{reviewer_of, REVIEWER_COLUMNS};
use crate::db::{new_id, Store};
use crate::error::StoreError;
use crate::review::Reviewer;
use sqlx::Row;

/// Where a console session stands: between the password and the second factor, obliged to
/// enrol one first, or fully signed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStage {
    SecondFactor,
    Enrol,
    Full,
}

impl SessionStage {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStage::SecondFactor => "second_factor",
            SessionStage::Enrol => "enrol",
            SessionStage::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<SessionStage> {
        [
            SessionStage::SecondFactor,
            SessionStage::Enrol,
            SessionStage::Full,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub id: String,
    pub reviewer: Reviewer,
    pub stage: SessionStage,
    /// The token the page sends back in `X-CSRF-Token` with every state-changing request.
    pub csrf: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub fresh_at: i64,
    pub expires_at: i64,
}

impl std::fmt::Debug for ConsoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSession")
            .field("id", &self.id)
            .field("reviewer", &self.reviewer.id)
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityEvent {
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    pub account: String,
    pub reviewer_id: Option<String>,
    pub address: String,
    pub detail: String,
}

impl Store {
    // ---- console sessions ----

    /// A new session at `stage`, ending no later than `lifetime_ms` from now.
    pub async fn create_console_session(
        &self,
        reviewer_id: &str,
        token_hash: &str,
        stage: SessionStage,
        csrf: &str,
        lifetime_ms: i64,
    ) -> Result<(), StoreError> {
        let now = self.now();
        sqlx::query(
            "INSERT INTO console_sessions \
             (id, token_hash, reviewer_id, stage, csrf, created_at, last_seen_at, fresh_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $6, $7)",
        )
        .bind(new_id())
        .bind(token_hash)
        .bind(reviewer_id)
        .bind(stage.as_str())
        .bind(csrf)
        .bind(now)
        .bind(now + lifetime_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live session with this token digest: not ended, within its absolute lifetime,
    /// seen less than `idle_ms` ago, its reviewer active. Finding it counts as activity.
    pub async fn console_session(
        &self,
        token_hash: &str,
        idle_ms: i64,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let now = self.now();
        let row = sqlx::query(&format!(
            "SELECT s.id AS session_id, s.stage, s.csrf, s.created_at AS s_created, \
             s.last_seen_at, s.fresh_at, s.expires_at, {REVIEWER_COLUMNS} \
             FROM console_sessions s JOIN reviewers r ON r.id = s.reviewer_id \
             WHERE s.token_hash = $1 AND s.ended_at IS NULL AND r.disabled_at IS NULL"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let stage: String = row.try_get("stage")?;
        let s = ConsoleSession {
            id: row.try_get("session_id")?,
            reviewer: reviewer_of(&row)?,
            stage: SessionStage::parse(&stage)
                .ok_or_else(|| StoreError::Corrupt(format!("session stage {stage}")))?,
            csrf: row.try_get("csrf")?,
            created_at: row.try_get("s_created")?,
            last_seen_at: row.try_get("last_seen_at")?,
            fresh_at: row.try_get("fresh_at")?,
            expires_at: row.try_get("expires_at")?,
        };
        if now >= s.expires_at || now - s.last_seen_at >= idle_ms {
            self.end_console_session(&s.id).await?;
            return Ok(None);
        }
        sqlx::query("UPDATE console_sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&s.id)
            .execute(&self.pool)
            .await?;
        Ok(Some(ConsoleSession {
            last_seen_at: now,
            ..s
        }))
    }

    pub async fn end_console_session(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE console_sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
            .bind(self.now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends every session of a reviewer (password reset, account disabled).
    pub async fn end_console_sessions_of(&self, reviewer_id: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE console_sessions SET ended_at = $1 WHERE reviewer_id = $2 AND ended_at IS NULL",
        )
        .bind(self.now())
        .bind(reviewer_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The reviewer has just proved who they are again.
    pub async fn refresh_console_session(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE console_sessions SET fresh_at = $1 WHERE id = $2")
            .bind(self.now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- throttling ----

    pub async fn record_signin_failure(
        &self,
        account: &str,
        address: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO signin_failures (id, account, address, at) VALUES ($1, $2, $3, $4)",
        )
        .bind(new_id())
        .bind(account)
        .bind(address)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Failures after `since` for this account and from this address, each with the
    /// oldest one's time (when the window starts to free up).
    pub async fn signin_failures_since(
        &self,
        account: &str,
        address: &str,
        since: i64,
    ) -> Result<[(i64, Option<i64>); 2], StoreError> {
        let mut out = [(0, None); 2];
        for (i, (cond, v)) in [
            ("account = $1 AND cleared_at IS NULL", account),
            ("address = $1", address),
        ]
        .iter()
        .enumerate()
        {
            let row = sqlx::query(&format!(
                "SELECT COUNT(*) AS n, MIN(at) AS first FROM signin_failures WHERE {cond} AND at > $2"
            ))
            .bind(*v)
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
            out[i] = (row.try_get("n")?, row.try_get("first")?);
        }
        Ok(out)
    }

    /// A successful sign-in forgets the account's failures (not the address's).
    pub async fn clear_signin_failures(&self, account: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE signin_failures SET cleared_at = $1 WHERE account = $2 AND cleared_at IS NULL",
        )
        .bind(self.now())
        .bind(account)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    // ---- the security log ----

    pub async fn security_event(
        &self,
        kind: &str,
        account: &str,
        reviewer_id: Option<&str>,
        address: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO security_events (at, kind, account, reviewer_id, address, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(self.now())
        .bind(kind)
        .bind(account)
        .bind(reviewer_id)
        .bind(address)
        .bind(detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The latest `limit` events, newest first.
    pub async fn security_events(&self, limit: i64) -> Result<Vec<SecurityEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, kind, account, reviewer_id, address, detail FROM security_events \
             ORDER BY seq DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SecurityEvent {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    kind: r.try_get("kind")?,
                    account: r.try_get("account")?,
                    reviewer_id: r.try_get("reviewer_id")?,
                    address: r.try_get("address")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}
