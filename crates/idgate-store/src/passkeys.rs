//! Reviewers' passkeys and the WebAuthn ceremonies in progress. The store keeps the
//! relying party's records as the caller serialises them (it knows no WebAuthn); a ceremony
//! is taken once, and not after it expires.

use crate::db::{new_id, Store};
use crate::error::StoreError;
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPasskey {
    /// The credential id, base64url.
    pub id: String,
    pub reviewer_id: String,
    pub name: String,
    /// The relying party's record (public key, counter), serialised by the caller.
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

fn passkey_of(r: &sqlx::any::AnyRow) -> Result<StoredPasskey, StoreError> {
    Ok(StoredPasskey {
        id: r.try_get("id")?,
        reviewer_id: r.try_get("reviewer_id")?,
        name: r.try_get("name")?,
        passkey: r.try_get("passkey")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

const COLUMNS: &str = "id, reviewer_id, name, passkey, created_at, last_used_at";

impl Store {
    pub async fn add_passkey(
        &self,
        reviewer_id: &str,
        credential_id: &str,
        name: &str,
        passkey: &str,
    ) -> Result<StoredPasskey, StoreError> {
        let p = StoredPasskey {
            id: credential_id.into(),
            reviewer_id: reviewer_id.into(),
            name: name.into(),
            passkey: passkey.into(),
            created_at: self.now(),
            last_used_at: None,
        };
        sqlx::query(&format!(
            "INSERT INTO reviewer_passkeys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL)"
        ))
        .bind(&p.id)
        .bind(&p.reviewer_id)
        .bind(&p.name)
        .bind(&p.passkey)
        .bind(p.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict("this passkey is already registered")
            }
            _ => e.into(),
        })?;
        Ok(p)
    }

    pub async fn passkeys_of(&self, reviewer_id: &str) -> Result<Vec<StoredPasskey>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM reviewer_passkeys WHERE reviewer_id = $1 ORDER BY created_at, id"
        ))
        .bind(reviewer_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(passkey_of).collect()
    }

    /// The passkey with this credential id, of an active reviewer.
    pub async fn passkey(&self, credential_id: &str) -> Result<Option<StoredPasskey>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM reviewer_passkeys p JOIN reviewers r ON r.id = p.reviewer_id \
             WHERE p.id = $1 AND r.disabled_at IS NULL",
            COLUMNS
                .split(", ")
                .map(|c| format!("p.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(passkey_of).transpose()
    }

    /// After a use: the updated record (its counter) and the time.
    pub async fn passkey_used(&self, credential_id: &str, passkey: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE reviewer_passkeys SET passkey = $1, last_used_at = $2 WHERE id = $3")
            .bind(passkey)
            .bind(self.now())
            .bind(credential_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_passkey(
        &self,
        reviewer_id: &str,
        credential_id: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM reviewer_passkeys WHERE id = $1 AND reviewer_id = $2")
            .bind(credential_id)
            .bind(reviewer_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps a ceremony's state for `ttl_ms`; answers its id.
    pub async fn start_ceremony(
        &self,
        kind: &str,
        reviewer_id: Option<&str>,
        state: &str,
        ttl_ms: i64,
    ) -> Result<String, StoreError> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (id, kind, reviewer_id, state, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(kind)
        .bind(reviewer_id)
        .bind(state)
        .bind(self.now() + ttl_ms)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Takes a ceremony of `kind` once: (reviewer, state), or `None` when unknown, of
    /// another kind, already taken or expired.
    pub async fn take_ceremony(
        &self,
        id: &str,
        kind: &str,
    ) -> Result<Option<(Option<String>, String)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT reviewer_id, state, expires_at FROM webauthn_ceremonies WHERE id = $1 AND kind = $2",
        )
        .bind(id)
        .bind(kind)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let done = sqlx::query("DELETE FROM webauthn_ceremonies WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let expires_at: i64 = row.try_get("expires_at")?;
        if done.rows_affected() == 0 || self.now() >= expires_at {
            return Ok(None);
        }
        Ok(Some((row.try_get("reviewer_id")?, row.try_get("state")?)))
    }
}
