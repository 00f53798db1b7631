//! Platform API keys, stored only as SHA-256 digests.

use crate::db::{new_id, Store};
use crate::error::StoreError;
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

impl Store {
    pub async fn create_api_key(&self, name: &str, key_hash: &str) -> Result<ApiKey, StoreError> {
        let k = ApiKey {
            id: new_id(),
            name: name.into(),
            created_at: self.now(),
        };
        sqlx::query(
            "INSERT INTO api_keys (id, name, key_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&k.id)
        .bind(&k.name)
        .bind(key_hash)
        .bind(k.created_at)
        .execute(&self.pool)
        .await?;
        Ok(k)
    }

    /// The active key with this hash.
    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, created_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(ApiKey {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()
    }

    pub async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(self.now())
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn count_api_keys(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
