//! A case's uploaded documents: added (replacing the same side's earlier upload) and
//! removed only while the case is a draft.

use crate::db::{insert_audit, new_id, Added, Document, DocumentData, Store, DOCUMENT_COLUMNS};
use crate::error::StoreError;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A document row of a case (`owner` = `case_id`) or of a change request
/// (`owner` = `change_request_id`): the same columns but the owner's.
pub(crate) fn document_from_row(row: &AnyRow, owner: &str) -> Result<Document, StoreError> {
    Ok(Document {
        id: row.try_get("id")?,
        created_at: row.try_get("created_at")?,
        data: DocumentData {
            case_id: row.try_get(owner)?,
            kind: row.try_get("kind")?,
            side: row.try_get("side")?,
            blob_key: row.try_get("blob_key")?,
            content_type: row.try_get("content_type")?,
            size_bytes: row.try_get("size_bytes")?,
            sha256: row.try_get("sha256")?,
            width: row.try_get("width")?,
            height: row.try_get("height")?,
        },
    })
}

impl Store {
    /// Records an uploaded document on a draft case. An earlier document of the same kind
    /// and side is replaced (a retaken photo): it is returned so the caller deletes its
    /// blob once this has committed.
    pub async fn add_document(&self, doc: DocumentData, actor: &str) -> Result<Added, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        draft_in(
            &mut tx,
            &doc.case_id,
            "documents can only be added to a draft case",
        )
        .await?;
        let replaced = documents_where(
            &mut tx,
            "case_id = $1 AND kind = $2 AND side = $3",
            &[&doc.case_id, &doc.kind, &doc.side],
        )
        .await?;
        for old in &replaced {
            sqlx::query("DELETE FROM documents WHERE id = $1")
                .bind(&old.id)
                .execute(&mut *tx)
                .await?;
        }
        let id = insert_document_in(&mut tx, "documents", "case_id", &doc, now).await?;
        let action = if replaced.is_empty() {
            "document_added"
        } else {
            "document_replaced"
        };
        insert_audit(&mut tx, &doc.case_id, actor, action, None, None, now).await?;
        tx.commit().await?;
        Ok(Added {
            document: Document {
                id,
                created_at: now,
                data: doc,
            },
            replaced,
        })
    }

    /// Removes a document from a draft case (a wrong upload); returns it so the caller
    /// deletes its blob.
    pub async fn delete_document(
        &self,
        case_id: &str,
        document_id: &str,
        actor: &str,
    ) -> Result<Document, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        draft_in(
            &mut tx,
            case_id,
            "documents can only be removed from a draft case",
        )
        .await?;
        let doc = documents_where(&mut tx, "case_id = $1 AND id = $2", &[case_id, document_id])
            .await?
            .pop()
            .ok_or(StoreError::NotFound { what: "document" })?;
        sqlx::query("DELETE FROM documents WHERE id = $1")
            .bind(document_id)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, case_id, actor, "document_deleted", None, None, now).await?;
        tx.commit().await?;
        Ok(doc)
    }

    pub async fn documents(&self, case_id: &str) -> Result<Vec<Document>, StoreError> {
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE case_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(case_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| document_from_row(r, "case_id"))
            .collect()
    }
}

/// Documents matching `filter` (with `$1`.. bound to `args`), inside a transaction.
async fn documents_where(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    filter: &str,
    args: &[&str],
) -> Result<Vec<Document>, StoreError> {
    let sql =
        format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE {filter} ORDER BY created_at, id");
    let mut q = sqlx::query(&sql);
    for a in args {
        q = q.bind(*a);
    }
    let rows = q.fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|r| document_from_row(r, "case_id"))
        .collect()
}

/// Inserts `doc` (its `case_id` is the owner's id) into `table`, whose owner column is
/// `owner_column`; returns the new document's id.
pub(crate) async fn insert_document_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &str,
    owner_column: &str,
    doc: &DocumentData,
    now: i64,
) -> Result<String, StoreError> {
    let id = new_id();
    let sql = format!(
        "INSERT INTO {table} (id, {owner_column}, kind, side, blob_key, content_type, size_bytes, \
         sha256, width, height, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    sqlx::query(&sql)
        .bind(&id)
        .bind(&doc.case_id)
        .bind(&doc.kind)
        .bind(&doc.side)
        .bind(&doc.blob_key)
        .bind(&doc.content_type)
        .bind(doc.size_bytes)
        .bind(&doc.sha256)
        .bind(doc.width)
        .bind(doc.height)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

/// Fails unless the case exists and is a draft (`why_not` is the conflict's message).
async fn draft_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    case_id: &str,
    why_not: &'static str,
) -> Result<(), StoreError> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_optional(&mut **tx)
        .await?;
    match status.as_deref() {
        None => Err(StoreError::NotFound { what: "case" }),
        Some("draft") => Ok(()),
        Some(_) => Err(StoreError::Conflict(why_not)),
    }
}

impl Store {
    /// Records the blob key of what the checks saw on case `case_id`'s images (one record
    /// per case; a case decided again replaces it). Returns the replaced key, for the caller
    /// to delete.
    pub async fn put_case_evidence(
        &self,
        case_id: &str,
        blob_key: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let old: Option<String> =
            sqlx::query_scalar("SELECT blob_key FROM case_evidence WHERE case_id = $1")
                .bind(case_id)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM case_evidence WHERE case_id = $1")
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO case_evidence (case_id, blob_key, created_at) VALUES ($1, $2, $3)",
        )
        .bind(case_id)
        .bind(blob_key)
        .bind(self.now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(old)
    }

    /// The blob key of case `case_id`'s evidence, once the checks ran on it.
    pub async fn case_evidence(&self, case_id: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT blob_key FROM case_evidence WHERE case_id = $1")
                .bind(case_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
