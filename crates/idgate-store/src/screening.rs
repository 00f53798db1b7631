//! Sanctions and PEP list versions. The store keeps each source's latest entities (as
//! opaque records the caller serialised) and every version's diff; a new version replaces
//! the entities in the same transaction that records it, so a screen never sees half a list.

use std::collections::BTreeMap;

use crate::db::Store;
use crate::error::StoreError;
use sqlx::Row;

/// One listed entity as stored: its identifier, digest and serialised record.
#[derive(Clone, PartialEq, Eq)]
pub struct ListEntity {
    pub entity_id: String,
    pub digest: String,
    pub record: String,
}

/// Listed names are public, but keep records out of logs anyway: they sit beside
/// applicants' data in a match.
impl std::fmt::Debug for ListEntity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListEntity")
            .field("entity_id", &self.entity_id)
            .finish_non_exhaustive()
    }
}

/// One import of a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListVersion {
    pub source: String,
    pub version: i64,
    pub format: String,
    pub file_sha256: String,
    pub imported_at: i64,
    pub entities: i64,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// What an import of a list file came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListImport {
    /// A new version, now the source's current list.
    New(ListVersion),
    /// The source's newest version (this number) was made from the same file: nothing was
    /// stored (two workers refreshing the same list import it once).
    Unchanged(i64),
    /// Another import committed a version after the one the diff was computed against:
    /// nothing was stored; read the source again and retry.
    Stale,
}

/// Entities written per statement: one round trip per thousand rows, under both engines'
/// limits on bound parameters (four per row).
const INSERT_BATCH: usize = 1_000;

/// What a version changed, by entity identifier.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListChanges {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

fn entities_of(rows: &[sqlx::any::AnyRow]) -> Result<Vec<ListEntity>, StoreError> {
    rows.iter()
        .map(|r| {
            Ok(ListEntity {
                entity_id: r.try_get("entity_id")?,
                digest: r.try_get("digest")?,
                record: r.try_get("record")?,
            })
        })
        .collect()
}

fn lines(s: &str) -> Vec<String> {
    s.lines().map(str::to_string).collect()
}

impl Store {
    /// The digests of a source's current entities (empty before its first import).
    pub async fn list_digests(&self, source: &str) -> Result<BTreeMap<String, String>, StoreError> {
        let rows =
            sqlx::query("SELECT entity_id, digest FROM screening_entities WHERE source = $1")
                .bind(source)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("entity_id")?, r.try_get("digest")?)))
            .collect()
    }

    /// The source's newest version and the SHA-256 of the file it was made from (`None`
    /// before its first import): what a diff is computed against.
    pub async fn list_head(&self, source: &str) -> Result<Option<(i64, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT version, file_sha256 FROM screening_versions WHERE source = $1 \
             ORDER BY version DESC LIMIT 1",
        )
        .bind(source)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("version")?, r.try_get("file_sha256")?)))
            .transpose()
    }

    /// Records a new version of `source` and makes `entities` its current list, in one
    /// transaction. `base` is the version the diff in `changes` was computed against (from
    /// [`Store::list_head`]); imports of one source run one after the other, and one whose
    /// base is no longer the newest version stores nothing and answers
    /// [`ListImport::Stale`].
    pub async fn import_list(
        &self,
        source: &str,
        format: &str,
        file_sha256: &str,
        base: Option<i64>,
        entities: &[ListEntity],
        changes: &ListChanges,
    ) -> Result<ListImport, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The newest version's row is written first: PostgreSQL locks it until commit, and
        // SQLite takes its write lock, so a second import of the source waits here.
        sqlx::query(
            "UPDATE screening_versions SET format = format WHERE source = $1 AND version = \
             (SELECT MAX(version) FROM screening_versions WHERE source = $1)",
        )
        .bind(source)
        .execute(&mut *tx)
        .await?;
        let head = sqlx::query(
            "SELECT version, file_sha256 FROM screening_versions WHERE source = $1 \
             ORDER BY version DESC LIMIT 1",
        )
        .bind(source)
        .fetch_optional(&mut *tx)
        .await?;
        let head: Option<(i64, String)> = head
            .map(|r| Ok::<_, StoreError>((r.try_get("version")?, r.try_get("file_sha256")?)))
            .transpose()?;
        match &head {
            Some((v, sha)) if sha == file_sha256 => return Ok(ListImport::Unchanged(*v)),
            _ if head.as_ref().map(|h| h.0) != base => return Ok(ListImport::Stale),
            _ => {}
        }
        let v = ListVersion {
            source: source.to_string(),
            version: base.unwrap_or(0) + 1,
            format: format.to_string(),
            file_sha256: file_sha256.to_string(),
            imported_at: self.now(),
            entities: entities.len() as i64,
            added: changes.added.clone(),
            changed: changes.changed.clone(),
            removed: changes.removed.clone(),
        };
        let inserted = sqlx::query(
            "INSERT INTO screening_versions (source, version, format, file_sha256, imported_at, \
             entities, added, changed, removed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&v.source)
        .bind(v.version)
        .bind(&v.format)
        .bind(&v.file_sha256)
        .bind(v.imported_at)
        .bind(v.entities)
        .bind(v.added.join("\n"))
        .bind(v.changed.join("\n"))
        .bind(v.removed.join("\n"))
        .execute(&mut *tx)
        .await;
        // Two first imports of a source both find no version to lock: the second meets the
        // first's version number, and is stale.
        match inserted {
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                return Ok(ListImport::Stale)
            }
            r => r?,
        };
        sqlx::query("DELETE FROM screening_entities WHERE source = $1")
            .bind(source)
            .execute(&mut *tx)
            .await?;
        for batch in entities.chunks(INSERT_BATCH) {
            let mut sql = String::from(
                "INSERT INTO screening_entities (source, entity_id, digest, record) VALUES ",
            );
            for i in 0..batch.len() {
                let n = i * 4;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("(${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4));
            }
            let mut q = sqlx::query(&sql);
            for e in batch {
                q = q
                    .bind(source)
                    .bind(&e.entity_id)
                    .bind(&e.digest)
                    .bind(&e.record);
            }
            q.execute(&mut *tx).await?;
        }
        if !v.added.is_empty() || !v.changed.is_empty() {
            // Ongoing monitoring: the approved applicants are screened against what this
            // version added and changed, by a worker, once the version is committed.
            crate::jobs::enqueue_in(
                &mut tx,
                crate::jobs::JobKind::RescreenList,
                &format!("{}:{}", v.source, v.version),
                v.imported_at,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(ListImport::New(v))
    }

    /// Every version of every source, newest first.
    pub async fn list_versions(&self) -> Result<Vec<ListVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT source, version, format, file_sha256, imported_at, entities, added, changed, \
             removed FROM screening_versions ORDER BY imported_at DESC, source, version DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ListVersion {
                    source: r.try_get("source")?,
                    version: r.try_get("version")?,
                    format: r.try_get("format")?,
                    file_sha256: r.try_get("file_sha256")?,
                    imported_at: r.try_get("imported_at")?,
                    entities: r.try_get("entities")?,
                    added: lines(&r.try_get::<String, _>("added")?),
                    changed: lines(&r.try_get::<String, _>("changed")?),
                    removed: lines(&r.try_get::<String, _>("removed")?),
                })
            })
            .collect()
    }

    /// The entities of every source's current version.
    pub async fn screening_entities(&self) -> Result<Vec<ListEntity>, StoreError> {
        let rows = sqlx::query(
            "SELECT entity_id, digest, record FROM screening_entities ORDER BY source, entity_id",
        )
        .fetch_all(&self.pool)
        .await?;
        entities_of(&rows)
    }

    /// The current entities of one source.
    pub async fn source_entities(&self, source: &str) -> Result<Vec<ListEntity>, StoreError> {
        let rows = sqlx::query(
            "SELECT entity_id, digest, record FROM screening_entities WHERE source = $1 \
             ORDER BY entity_id",
        )
        .bind(source)
        .fetch_all(&self.pool)
        .await?;
        entities_of(&rows)
    }

    /// How many versions were imported in all: a screen reloads its lists when it grows.
    pub async fn screening_generation(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM screening_versions")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

/// Records (or renews) a clearance inside a reviewer's decision.
pub(crate) async fn clear_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    applicant_id: &str,
    entity_id: &str,
    digest: &str,
    case_id: &str,
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM screening_clearances WHERE applicant_id = $1 AND entity_id = $2")
        .bind(applicant_id)
        .bind(entity_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO screening_clearances (applicant_id, entity_id, digest, case_id, \
         cleared_by, cleared_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(applicant_id)
    .bind(entity_id)
    .bind(digest)
    .bind(case_id)
    .bind(actor)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The (entity id, digest) pairs reviewers cleared for the applicant with this uid.
    pub async fn screening_clearances(
        &self,
        uid: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.entity_id, c.digest FROM screening_clearances c \
             JOIN applicants a ON a.id = c.applicant_id WHERE a.uid = $1 ORDER BY c.entity_id",
        )
        .bind(uid)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("entity_id")?, r.try_get("digest")?)))
            .collect()
    }
}
