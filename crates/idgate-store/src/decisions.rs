//! What decisions leave behind: the identity keys each account holds (duplicates), every
//! attempt (cooldowns, escalation) and the verified steps (levels, entitlements).

use crate::db::{new_id, reasons_from_text, reasons_to_text, Store};
use crate::error::StoreError;
use idgate_core::{ClaimStatus, IdentityKey, KeyKind, ReasonCode};
use sqlx::Row;

/// An identity key held by an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub key_hash: String,
    pub kind: KeyKind,
    pub uid: String,
    pub status: ClaimStatus,
}

/// What a decision does to the account's identity keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimChange {
    /// Undecided or in review: the keys block other accounts' approval until decided.
    Pending,
    /// Approved: the keys belong to this account.
    Verified,
    /// Sent back or rejected: this account's pending keys are released.
    Release,
}

#[derive(Clone, Debug)]
pub struct DecisionRecord<'a> {
    pub uid: &'a str,
    /// `approved`, `resubmission_requested`, `rejected` or `in_review`.
    pub outcome: &'a str,
    pub reasons: &'a [ReasonCode],
    pub keys: &'a [IdentityKey],
    pub claims: ClaimChange,
    /// Steps verified by this decision and the level they complete.
    pub steps: &'a [&'a str],
    pub level: Option<&'a str>,
    /// Suspicions to keep on the account (the decision did not send them to a person).
    pub raise: &'a [ReasonCode],
    /// The case decided, when there is one (the offline `idgate verify` has none).
    pub case_id: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRow {
    pub at: i64,
    pub outcome: String,
    pub reasons: Vec<ReasonCode>,
}

impl Store {
    /// Claims other accounts than `except_uid` hold on any of `hashes`.
    pub async fn claims_on(
        &self,
        hashes: &[String],
        except_uid: &str,
    ) -> Result<Vec<Claim>, StoreError> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (2..hashes.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT key_hash, kind, uid, status FROM identity_claims \
             WHERE uid <> $1 AND key_hash IN ({}) ORDER BY uid, kind",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(except_uid);
        for h in hashes {
            q = q.bind(h);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let status: String = r.try_get("status")?;
                Ok(Claim {
                    key_hash: r.try_get("key_hash")?,
                    kind: KeyKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("claim kind {kind}")))?,
                    uid: r.try_get("uid")?,
                    status: ClaimStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("claim status {status}")))?,
                })
            })
            .collect()
    }

    /// Records a decision, its effect on the account's identity keys and the steps it
    /// verified, in one transaction. Verifying a document another account verified first
    /// fails with a conflict and records nothing.
    pub async fn record_decision(&self, rec: &DecisionRecord<'_>) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        record_in(&mut tx, rec, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records an attempt that is not a case decision (a failed liveness answer): it counts
    /// for the cooldowns and the escalation like any other.
    pub async fn record_attempt(
        &self,
        uid: &str,
        outcome: &str,
        reasons: &[ReasonCode],
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO attempts (id, uid, at, outcome, reasons) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new_id())
        .bind(uid)
        .bind(self.now())
        .bind(outcome)
        .bind(reasons_to_text(reasons))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The account's attempts at or after `since` (ms), oldest first.
    pub async fn attempts_since(
        &self,
        uid: &str,
        since: i64,
    ) -> Result<Vec<AttemptRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, outcome, reasons FROM attempts WHERE uid = $1 AND at >= $2 ORDER BY at, id",
        )
        .bind(uid)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AttemptRow {
                    at: r.try_get("at")?,
                    outcome: r.try_get("outcome")?,
                    reasons: reasons_from_text(&r.try_get::<String, _>("reasons")?)?,
                })
            })
            .collect()
    }

    /// Suspicions raised on the account that no person has looked at yet, each code once.
    pub async fn open_flags(&self, uid: &str) -> Result<Vec<ReasonCode>, StoreError> {
        let codes: Vec<String> = sqlx::query_scalar(
            "SELECT code FROM account_flags WHERE uid = $1 AND cleared_at IS NULL \
             ORDER BY raised_at, code",
        )
        .bind(uid)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<ReasonCode> = Vec::new();
        for c in reasons_from_text(&codes.join(","))? {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Steps the account verified, sorted.
    pub async fn verified_steps(&self, uid: &str) -> Result<Vec<String>, StoreError> {
        let steps =
            sqlx::query_scalar("SELECT step FROM verified_steps WHERE uid = $1 ORDER BY step")
                .bind(uid)
                .fetch_all(&self.pool)
                .await?;
        Ok(steps)
    }
}

/// [`Store::record_decision`] inside a caller's transaction.
pub(crate) async fn record_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    rec: &DecisionRecord<'_>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO attempts (id, uid, at, outcome, reasons) VALUES ($1, $2, $3, $4, $5)")
        .bind(new_id())
        .bind(rec.uid)
        .bind(now)
        .bind(rec.outcome)
        .bind(reasons_to_text(rec.reasons))
        .execute(&mut **tx)
        .await?;
    match rec.claims {
        ClaimChange::Release => {
            sqlx::query("DELETE FROM identity_claims WHERE uid = $1 AND status = 'pending'")
                .bind(rec.uid)
                .execute(&mut **tx)
                .await?;
        }
        change => {
            let status = if change == ClaimChange::Verified {
                ClaimStatus::Verified
            } else {
                ClaimStatus::Pending
            };
            upsert_keys_in(tx, rec.uid, rec.keys, status, now).await?;
        }
    }
    for code in rec.raise {
        sqlx::query(
            "INSERT INTO account_flags (uid, code, case_id, raised_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(rec.uid)
        .bind(code.as_str())
        .bind(rec.case_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    for step in rec.steps {
        sqlx::query(
            "INSERT INTO verified_steps (uid, step, level, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (uid, step) DO UPDATE SET level = $3, at = $4",
        )
        .bind(rec.uid)
        .bind(*step)
        .bind(rec.level.unwrap_or(""))
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    if rec.outcome == "rejected" {
        // Rejected for good (a confirmed sanctions match that monitoring found after the
        // approval, a forgery): the account keeps no entitlement it had.
        sqlx::query("DELETE FROM verified_steps WHERE uid = $1")
            .bind(rec.uid)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Sets the account's claims on `keys` to `status`; a document another account verified
/// first is [`StoreError::DuplicateDocument`].
async fn upsert_keys_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    uid: &str,
    keys: &[IdentityKey],
    status: ClaimStatus,
    now: i64,
) -> Result<(), StoreError> {
    for key in keys {
        let done = sqlx::query(
            "INSERT INTO identity_claims (key_hash, kind, uid, status, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (key_hash, uid) DO UPDATE SET kind = $2, status = $4, updated_at = $5",
        )
        .bind(&key.hash)
        .bind(key.kind.as_str())
        .bind(uid)
        .bind(status.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await;
        match done {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::DuplicateDocument)
            }
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// Verifies `keys` for the account `uid` (an approved change of identity data).
pub(crate) async fn verify_keys_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    uid: &str,
    keys: &[IdentityKey],
    now: i64,
) -> Result<(), StoreError> {
    upsert_keys_in(tx, uid, keys, ClaimStatus::Verified, now).await
}
