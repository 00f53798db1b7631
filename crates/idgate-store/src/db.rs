//! The SQL store. One implementation for SQLite and PostgreSQL: queries use `$n`
//! placeholders and types both accept (TEXT, BIGINT); the few dialect differences
//! (`FOR UPDATE SKIP LOCKED`, pool size, pragmas) are chosen by [`Dialect`].

use crate::error::StoreError;
use crate::webhooks::{RenderWebhook, WebhookEvent};
use idgate_core::{CaseEvent, CaseStatus, Clock, ReasonCode};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) dialect: Dialect,
    clock: Arc<dyn Clock>,
    /// Status changes also write a webhook delivery (the outbox), with the body this
    /// renderer writes, when set.
    pub(crate) webhooks: Option<RenderWebhook>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applicant {
    pub id: String,
    pub uid: String,
    pub region: String,
    pub created_at: i64,
    /// When the applicant was erased (their data gone, the row kept for the audit trail).
    pub erased_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub id: String,
    pub applicant_id: String,
    pub level: String,
    pub status: CaseStatus,
    pub reasons: Vec<ReasonCode>,
    /// Blob key of the applicant's entered data (encrypted), once given.
    pub data_key: Option<String>,
    /// The reviewer holding the case while it is in review, and since when.
    pub claimed_by: Option<String>,
    pub claimed_at: Option<i64>,
    /// The automated pipeline stored its decision (every check the level requires ran).
    pub checked: bool,
    /// When the applicant may try again, while a cooldown applies (ms).
    pub retry_after: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Who opened the case: the applicant, or ongoing monitoring (a list import's re-screen).
    pub origin: CaseOrigin,
}

/// Who opened a case.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CaseOrigin {
    /// The applicant, through the API or the hosted page.
    #[default]
    Applicant,
    /// A re-screen of an approved applicant after a sanctions or PEP list changed.
    Monitoring,
}

impl CaseOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseOrigin::Applicant => "applicant",
            CaseOrigin::Monitoring => "monitoring",
        }
    }

    pub fn parse(s: &str) -> Option<CaseOrigin> {
        [CaseOrigin::Applicant, CaseOrigin::Monitoring]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// What an upload records about a document image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentData {
    pub case_id: String,
    pub kind: String,
    pub side: String,
    pub blob_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

/// A document recorded, and the ones of the same kind and side it replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Added {
    pub document: Document,
    pub replaced: Vec<Document>,
}

/// A stored document: what the uploader gave plus what the store assigned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub id: String,
    pub created_at: i64,
    pub data: DocumentData,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub seq: i64,
    pub case_id: String,
    pub actor: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub at: i64,
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) fn reasons_to_text(reasons: &[ReasonCode]) -> String {
    reasons
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn reasons_from_text(text: &str) -> Result<Vec<ReasonCode>, StoreError> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| ReasonCode::parse(s).ok_or_else(|| StoreError::Corrupt(format!("reason {s}"))))
        .collect()
}

pub(crate) fn case_from_row(row: &AnyRow) -> Result<Case, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(Case {
        id: row.try_get("id")?,
        applicant_id: row.try_get("applicant_id")?,
        level: row.try_get("level")?,
        status: CaseStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
        reasons: reasons_from_text(&row.try_get::<String, _>("reasons")?)?,
        data_key: row.try_get("data_key")?,
        claimed_by: row.try_get("claimed_by")?,
        claimed_at: row.try_get("claimed_at")?,
        checked: row.try_get::<i64, _>("checked")? != 0,
        retry_after: row.try_get("retry_after")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        origin: {
            let origin: String = row.try_get("origin")?;
            CaseOrigin::parse(&origin)
                .ok_or_else(|| StoreError::Corrupt(format!("origin {origin}")))?
        },
    })
}

pub(crate) const CASE_COLUMNS: &str = "id, applicant_id, level, status, reasons, data_key, claimed_by, claimed_at, checked, retry_after, created_at, updated_at, origin";

impl Store {
    /// Connects to `sqlite://PATH` (created if missing) or `postgres://...`.
    pub async fn connect(url: &str, clock: Arc<dyn Clock>) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let pool = match dialect {
            // SQLite has one writer at a time; one connection avoids SQLITE_BUSY on
            // read-then-write transactions and is plenty for the embedded default.
            Dialect::Sqlite => {
                let url = if url.contains('?') {
                    url.to_string()
                } else {
                    format!("{url}?mode=rwc")
                };
                AnyPoolOptions::new()
                    .max_connections(1)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            for pragma in [
                                "PRAGMA journal_mode = WAL",
                                "PRAGMA foreign_keys = ON",
                                "PRAGMA busy_timeout = 5000",
                                "PRAGMA synchronous = NORMAL",
                            ] {
                                sqlx::query(pragma).execute(&mut *conn).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Dialect::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?
            }
        };
        Ok(Store {
            pool,
            dialect,
            clock,
            webhooks: None,
        })
    }

    /// Makes every status change also enqueue a webhook delivery, in the same transaction,
    /// its body written by `render` (`None`: no webhooks).
    pub fn with_webhooks(mut self, render: Option<RenderWebhook>) -> Store {
        self.webhooks = render;
        self
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Applies the embedded migrations of this dialect.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.dialect {
            Dialect::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await?,
            Dialect::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// Writes a consistent copy of a SQLite database to `path` (a new file) while it is
    /// in use (`VACUUM INTO`). A PostgreSQL database is backed up with `pg_dump`.
    pub async fn backup_into(&self, path: &std::path::Path) -> Result<(), StoreError> {
        if self.dialect != Dialect::Sqlite {
            return Err(StoreError::Conflict(
                "a PostgreSQL database is backed up with pg_dump (see the README)",
            ));
        }
        let path = path
            .to_str()
            .ok_or(StoreError::Conflict("the backup path is not valid UTF-8"))?;
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Runs one statement as is; for administration (e.g. creating a test schema).
    pub async fn execute_raw(&self, sql: &str) -> Result<(), StoreError> {
        sqlx::raw_sql(sql).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The store's clock (what every stored time is read from).
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The clock itself, for work that must agree with the stored times.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    // ---- applicants ----

    /// Creates the applicant for a platform UID; a UID has one applicant.
    pub async fn create_applicant(&self, uid: &str, region: &str) -> Result<Applicant, StoreError> {
        if self.applicant_by_uid(uid).await?.is_some() {
            return Err(StoreError::Conflict(
                "an applicant for this uid already exists",
            ));
        }
        let a = Applicant {
            id: new_id(),
            uid: uid.into(),
            region: region.into(),
            created_at: self.now(),
            erased_at: None,
        };
        sqlx::query("INSERT INTO applicants (id, uid, region, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&a.id)
            .bind(&a.uid)
            .bind(&a.region)
            .bind(a.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    StoreError::Conflict("an applicant for this uid already exists")
                }
                _ => e.into(),
            })?;
        Ok(a)
    }

    async fn applicant_where(
        &self,
        column: &str,
        value: &str,
    ) -> Result<Option<Applicant>, StoreError> {
        let sql = format!(
            "SELECT id, uid, region, created_at, erased_at FROM applicants WHERE {column} = $1"
        );
        let row = sqlx::query(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Applicant {
                id: r.try_get("id")?,
                uid: r.try_get("uid")?,
                region: r.try_get("region")?,
                created_at: r.try_get("created_at")?,
                erased_at: r.try_get("erased_at")?,
            })
        })
        .transpose()
    }

    pub async fn applicant(&self, id: &str) -> Result<Option<Applicant>, StoreError> {
        self.applicant_where("id", id).await
    }

    pub async fn applicant_by_uid(&self, uid: &str) -> Result<Option<Applicant>, StoreError> {
        self.applicant_where("uid", uid).await
    }

    // ---- cases ----

    pub async fn create_case(
        &self,
        applicant_id: &str,
        level: &str,
        actor: &str,
    ) -> Result<Case, StoreError> {
        if self.applicant(applicant_id).await?.is_none() {
            return Err(StoreError::NotFound { what: "applicant" });
        }
        let now = self.now();
        let case = Case {
            id: new_id(),
            applicant_id: applicant_id.into(),
            level: level.into(),
            status: CaseStatus::Draft,
            reasons: Vec::new(),
            data_key: None,
            claimed_by: None,
            claimed_at: None,
            checked: false,
            retry_after: None,
            created_at: now,
            updated_at: now,
            origin: CaseOrigin::Applicant,
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO cases (id, applicant_id, level, status, reasons, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, '', $5, $5)",
        )
        .bind(&case.id)
        .bind(&case.applicant_id)
        .bind(&case.level)
        .bind(case.status.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_audit(
            &mut tx,
            &case.id,
            actor,
            "created",
            None,
            Some(CaseStatus::Draft),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(case)
    }

    pub async fn case(&self, id: &str) -> Result<Option<Case>, StoreError> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(case_from_row).transpose()
    }

    pub async fn cases_of_applicant(&self, applicant_id: &str) -> Result<Vec<Case>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE applicant_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(applicant_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(case_from_row).collect()
    }

    /// Applies `event` to the case through the core state machine, stores the new status
    /// (and `reasons`, when given) with an audit event, all in one transaction. A
    /// concurrent change makes this fail with a conflict instead of overwriting it.
    pub async fn transition(
        &self,
        case_id: &str,
        event: CaseEvent,
        actor: &str,
        reasons: Option<&[ReasonCode]>,
    ) -> Result<Case, StoreError> {
        let mut tx = self.pool.begin().await?;
        let change = Change {
            event,
            actor,
            reasons,
            retry_after: None,
        };
        let case = transition_in(
            &mut tx,
            case_id,
            &change,
            self.now(),
            self.webhooks.as_ref(),
        )
        .await?;
        tx.commit().await?;
        Ok(case)
    }

    /// Submits a draft case and enqueues its processing job atomically, so a submitted
    /// case always has a job.
    pub async fn submit(&self, case_id: &str, actor: &str) -> Result<Case, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let change = Change {
            event: CaseEvent::Submit,
            actor,
            reasons: None,
            retry_after: None,
        };
        let case = transition_in(&mut tx, case_id, &change, now, self.webhooks.as_ref()).await?;
        crate::jobs::enqueue_in(&mut tx, crate::jobs::JobKind::ProcessCase, case_id, now).await?;
        tx.commit().await?;
        Ok(case)
    }

    pub async fn audit_events(&self, case_id: &str) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, case_id, actor, action, from_status, to_status, at FROM audit_events \
             WHERE case_id = $1 ORDER BY seq",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEvent {
                    seq: r.try_get("seq")?,
                    case_id: r.try_get("case_id")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    from_status: r.try_get("from_status")?,
                    to_status: r.try_get("to_status")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }
}

/// One status change: the event, who caused it, the reasons it carries (`None` keeps the
/// stored ones) and when the applicant may try again.
pub(crate) struct Change<'a> {
    pub event: CaseEvent,
    pub actor: &'a str,
    pub reasons: Option<&'a [ReasonCode]>,
    pub retry_after: Option<i64>,
}

pub(crate) async fn transition_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    case_id: &str,
    change: &Change<'_>,
    now: i64,
    webhooks: Option<&RenderWebhook>,
) -> Result<Case, StoreError> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(case_id)
        .fetch_optional(&mut **tx)
        .await?;
    let mut case = case_from_row(&row.ok_or(StoreError::NotFound { what: "case" })?)?;
    let from = case.status;
    let to = from.apply(change.event)?;
    if let Some(r) = change.reasons {
        case.reasons = dedup_reasons(r);
    }
    case.retry_after = change.retry_after;
    let updated = sqlx::query(
        "UPDATE cases SET status = $1, reasons = $2, updated_at = $3, claimed_by = NULL, claimed_at = NULL, \
         retry_after = $4 WHERE id = $5 AND status = $6",
    )
    .bind(to.as_str())
    .bind(reasons_to_text(&case.reasons))
    .bind(now)
    .bind(change.retry_after)
    .bind(case_id)
    .bind(from.as_str())
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(StoreError::Conflict("the case changed concurrently"));
    }
    let action = match change.event {
        CaseEvent::Submit => "submitted",
        CaseEvent::StartProcessing => "processing_started",
        CaseEvent::Decide(_) => "decided",
        CaseEvent::ReviewerDecide(_) => "reviewer_decided",
    };
    insert_audit(tx, case_id, change.actor, action, Some(from), Some(to), now).await?;
    case.status = to;
    case.updated_at = now;
    case.claimed_by = None;
    case.claimed_at = None;
    if let Some(render) = webhooks {
        let uid: String = sqlx::query_scalar("SELECT uid FROM applicants WHERE id = $1")
            .bind(&case.applicant_id)
            .fetch_one(&mut **tx)
            .await?;
        let event = WebhookEvent::CaseStatusChanged {
            case: &case,
            uid: &uid,
            previous: from,
        };
        crate::webhooks::enqueue_in(tx, render, event, now).await?;
    }
    Ok(case)
}

/// Each code once, in the order first given: two subjects with the same problem (the
/// given and the family name) are one reason for the applicant.
pub(crate) fn dedup_reasons(reasons: &[ReasonCode]) -> Vec<ReasonCode> {
    let mut out: Vec<ReasonCode> = Vec::with_capacity(reasons.len());
    for r in reasons {
        if !out.contains(r) {
            out.push(*r);
        }
    }
    out
}

pub(crate) const DOCUMENT_COLUMNS: &str =
    "id, case_id, kind, side, blob_key, content_type, size_bytes, sha256, width, height, created_at";

pub(crate) async fn insert_audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    case_id: &str,
    actor: &str,
    action: &str,
    from: Option<CaseStatus>,
    to: Option<CaseStatus>,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (case_id, actor, action, from_status, to_status, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(case_id)
    .bind(actor)
    .bind(action)
    .bind(from.map(CaseStatus::as_str))
    .bind(to.map(CaseStatus::as_str))
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
