//! Reviewer accounts for the console: invitations (single use, expiring), passwords (the
//! caller's argon2id PHC strings), a TOTP secret (sealed elsewhere; its blob key here) with
//! the last accepted time step, and recovery codes. Every secret is kept as a digest or a
//! hash computed by the caller; this module never sees one in clear. Sessions, throttling
//! and the security log are in `signins.rs`.

use crate::db::{new_id, Store};
use crate::error::StoreError;
use crate::review::Reviewer;
use idgate_core::ReviewerRole;
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    pub id: String,
    pub name: String,
    pub role: ReviewerRole,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// What a reviewer signs in with. `Debug` shows whether each factor is there, never a
/// hash or a key.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub password_hash: Option<String>,
    /// The blob key of the sealed TOTP secret (pending until `totp_confirmed_at`).
    pub totp_key: Option<String>,
    pub totp_confirmed_at: Option<i64>,
    pub totp_last_step: Option<i64>,
}

impl Credentials {
    pub fn has_totp(&self) -> bool {
        self.totp_key.is_some() && self.totp_confirmed_at.is_some()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("password", &self.password_hash.is_some())
            .field("totp", &self.has_totp())
            .finish()
    }
}

pub(crate) const REVIEWER_COLUMNS: &str = "r.id, r.name, r.role, r.created_at, r.disabled_at";

pub(crate) fn reviewer_of(r: &sqlx::any::AnyRow) -> Result<Reviewer, StoreError> {
    let role: String = r.try_get("role")?;
    Ok(Reviewer {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: ReviewerRole::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("reviewer role {role}")))?,
        created_at: r.try_get("created_at")?,
        disabled_at: r.try_get("disabled_at")?,
    })
}

fn invite_of(r: &sqlx::any::AnyRow) -> Result<Invite, StoreError> {
    let role: String = r.try_get("role")?;
    Ok(Invite {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: ReviewerRole::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("invite role {role}")))?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        used_at: r.try_get("used_at")?,
    })
}

fn unique_name(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict("a reviewer with this name already exists")
        }
        _ => e.into(),
    }
}

impl Store {
    // ---- invitations ----

    /// A new invitation for `name` with `role`, valid for `ttl_ms`. A name an account
    /// already has is refused here rather than when the link is used.
    pub async fn create_invite(
        &self,
        name: &str,
        role: ReviewerRole,
        token_hash: &str,
        created_by: &str,
        ttl_ms: i64,
    ) -> Result<Invite, StoreError> {
        let taken = sqlx::query("SELECT id FROM reviewers WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(
                "a reviewer with this name already exists",
            ));
        }
        let now = self.now();
        let inv = Invite {
            id: new_id(),
            name: name.into(),
            role,
            created_by: created_by.into(),
            created_at: now,
            expires_at: now + ttl_ms,
            used_at: None,
        };
        sqlx::query(
            "INSERT INTO reviewer_invites (id, token_hash, name, role, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&inv.id)
        .bind(token_hash)
        .bind(&inv.name)
        .bind(inv.role.as_str())
        .bind(&inv.created_by)
        .bind(inv.created_at)
        .bind(inv.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(inv)
    }

    /// The invitation with this token digest, used or not (the caller says which).
    pub async fn invite_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<Invite>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, role, created_by, created_at, expires_at, used_at \
             FROM reviewer_invites WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(invite_of).transpose()
    }

    /// Uses an invitation once: the account is created with its password in the same
    /// transaction. `Gone` when the invitation was used or has expired.
    pub async fn accept_invite(
        &self,
        token_hash: &str,
        password_hash: &str,
        unused_token_hash: &str,
    ) -> Result<Reviewer, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT id, name, role, created_by, created_at, expires_at, used_at \
             FROM reviewer_invites WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let inv = row
            .as_ref()
            .map(invite_of)
            .transpose()?
            .ok_or(StoreError::NotFound { what: "invitation" })?;
        let done = sqlx::query(
            "UPDATE reviewer_invites SET used_at = $1 \
             WHERE id = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(&inv.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Gone("the invitation was used or has expired"));
        }
        let r = Reviewer {
            id: new_id(),
            name: inv.name,
            role: inv.role,
            created_at: now,
            disabled_at: None,
        };
        sqlx::query(
            "INSERT INTO reviewers (id, name, role, token_hash, created_at, password_hash) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.id)
        .bind(&r.name)
        .bind(r.role.as_str())
        .bind(unused_token_hash)
        .bind(now)
        .bind(password_hash)
        .execute(&mut *tx)
        .await
        .map_err(unique_name)?;
        sqlx::query("UPDATE reviewer_invites SET reviewer_id = $1 WHERE id = $2")
            .bind(&r.id)
            .bind(&inv.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r)
    }

    // ---- credentials ----

    /// The active reviewer with this name and what they sign in with.
    pub async fn reviewer_by_name(
        &self,
        name: &str,
    ) -> Result<Option<(Reviewer, Credentials)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {REVIEWER_COLUMNS}, r.password_hash, r.totp_key, r.totp_confirmed_at, \
             r.totp_last_step FROM reviewers r WHERE r.name = $1 AND r.disabled_at IS NULL"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((reviewer_of(&r)?, credentials_of(&r)?)))
            .transpose()
    }

    /// The active reviewer with this id.
    pub async fn reviewer_by_id(&self, id: &str) -> Result<Option<Reviewer>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {REVIEWER_COLUMNS} FROM reviewers r WHERE r.id = $1 AND r.disabled_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(reviewer_of).transpose()
    }

    /// A reviewer's name, disabled or not (the holder of a case, an audit line).
    pub async fn reviewer_name(&self, reviewer_id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT name FROM reviewers WHERE id = $1")
            .bind(reviewer_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("name")).transpose()?)
    }

    pub async fn credentials(&self, reviewer_id: &str) -> Result<Credentials, StoreError> {
        let row = sqlx::query(
            "SELECT password_hash, totp_key, totp_confirmed_at, totp_last_step \
             FROM reviewers WHERE id = $1",
        )
        .bind(reviewer_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound { what: "reviewer" })?;
        credentials_of(&row)
    }

    /// Keeps a new, not yet confirmed TOTP secret (its blob key); returns the key of the
    /// pending secret it replaced, for the caller to delete. A confirmed one is refused.
    pub async fn set_pending_totp(
        &self,
        reviewer_id: &str,
        totp_key: &str,
    ) -> Result<Option<String>, StoreError> {
        let creds = self.credentials(reviewer_id).await?;
        if creds.has_totp() {
            return Err(StoreError::Conflict(
                "an authenticator app is already enrolled",
            ));
        }
        let done = sqlx::query(
            "UPDATE reviewers SET totp_key = $1 WHERE id = $2 AND totp_confirmed_at IS NULL",
        )
        .bind(totp_key)
        .bind(reviewer_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "an authenticator app is already enrolled",
            ));
        }
        Ok(creds.totp_key)
    }

    /// Confirms the pending TOTP secret with the step of the first code it produced, and
    /// replaces the recovery codes, in one transaction.
    pub async fn confirm_totp(
        &self,
        reviewer_id: &str,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE reviewers SET totp_confirmed_at = $1, totp_last_step = $2 \
             WHERE id = $3 AND totp_key IS NOT NULL AND totp_confirmed_at IS NULL",
        )
        .bind(now)
        .bind(step)
        .bind(reviewer_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "no authenticator app waits for confirmation",
            ));
        }
        set_recovery_codes(&mut tx, reviewer_id, recovery_hashes).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Accepts a TOTP time step once: true only if it is later than every step accepted
    /// before (a code seen once, even within its window, is not accepted again).
    pub async fn use_totp_step(&self, reviewer_id: &str, step: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE reviewers SET totp_last_step = $1 WHERE id = $2 \
             AND totp_confirmed_at IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(reviewer_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A new list of recovery codes (digests), replacing any earlier one.
    pub async fn replace_recovery_codes(
        &self,
        reviewer_id: &str,
        hashes: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        set_recovery_codes(&mut tx, reviewer_id, hashes).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses a recovery code once.
    pub async fn use_recovery_code(
        &self,
        reviewer_id: &str,
        code_hash: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE reviewer_recovery_codes SET used_at = $1 \
             WHERE reviewer_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(self.now())
        .bind(reviewer_id)
        .bind(code_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn recovery_codes_left(&self, reviewer_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM reviewer_recovery_codes \
             WHERE reviewer_id = $1 AND used_at IS NULL",
        )
        .bind(reviewer_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }
}

/// Replaces a reviewer's recovery codes inside `tx`.
async fn set_recovery_codes(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    reviewer_id: &str,
    hashes: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM reviewer_recovery_codes WHERE reviewer_id = $1")
        .bind(reviewer_id)
        .execute(&mut **tx)
        .await?;
    for h in hashes {
        sqlx::query("INSERT INTO reviewer_recovery_codes (reviewer_id, code_hash) VALUES ($1, $2)")
            .bind(reviewer_id)
            .bind(h)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn credentials_of(r: &sqlx::any::AnyRow) -> Result<Credentials, StoreError> {
    Ok(Credentials {
        password_hash: r.try_get("password_hash")?,
        totp_key: r.try_get("totp_key")?,
        totp_confirmed_at: r.try_get("totp_confirmed_at")?,
        totp_last_step: r.try_get("totp_last_step")?,
    })
}
