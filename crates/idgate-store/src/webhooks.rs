//! Webhook outbox and delivery log. A status change writes its delivery in the same
//! transaction ([`enqueue_in`]), so a change is never lost between the database and the
//! platform; a dispatcher claims due deliveries with a lease, like jobs, and records every
//! attempt.

use crate::changes::ChangeRequest;
use crate::db::{new_id, Case, Dialect, Store};
use crate::error::StoreError;
use idgate_core::CaseStatus;
use sqlx::Row;
use std::sync::Arc;

/// A delivery to send: the body is exactly what was stored, so every retry of it carries
/// the same signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub event_type: String,
    /// The case or change request the event is about, and the event's place among that
    /// subject's events (1, 2, ...).
    pub subject: String,
    pub seq: i64,
    pub body: String,
    /// `pending`, `delivered` or `failed` (gave up).
    pub status: String,
    /// Attempts made before this claim.
    pub attempts: i64,
    pub next_at: i64,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub attempt: i64,
    pub at: i64,
    pub status_code: Option<i64>,
    /// A class of failure (`timeout`, `connect`, `http_status`...), never a body.
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// What one attempt led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptResult {
    Delivered,
    /// Failed; try again at this time (ms).
    RetryAt(i64),
    /// Failed for the last time.
    GiveUp,
}

/// What a webhook tells the platform, typed. The store records it in the transaction that
/// makes the change; the renderer the service gives ([`Store::with_webhooks`]) writes the
/// body, so the store knows no JSON.
#[derive(Clone, Copy, Debug)]
pub enum WebhookEvent<'a> {
    /// A case moved from `previous` to `case.status`.
    CaseStatusChanged {
        case: &'a Case,
        uid: &'a str,
        previous: CaseStatus,
    },
    /// A change request was opened or moved to `request.status`.
    ChangeRequestStatusChanged {
        request: &'a ChangeRequest,
        uid: &'a str,
    },
    /// Ongoing monitoring found an approved applicant on a list: `case` is the review it
    /// opened, `entities` the listed entities matched in `source`'s `version`.
    ScreeningMatch {
        case: &'a Case,
        uid: &'a str,
        source: &'a str,
        version: i64,
        entities: &'a [String],
    },
    /// A business applicant moved from `previous` to `business.status`.
    BusinessStatusChanged {
        business: &'a crate::Business,
        previous: idgate_core::BusinessStatus,
    },
}

impl WebhookEvent<'_> {
    /// The event's type, as the platform filters on it.
    pub fn event_type(&self) -> &'static str {
        match self {
            WebhookEvent::CaseStatusChanged { .. } => "case.status_changed",
            WebhookEvent::ChangeRequestStatusChanged { .. } => "change_request.status_changed",
            WebhookEvent::ScreeningMatch { .. } => "applicant.screening_match",
            WebhookEvent::BusinessStatusChanged { .. } => "business.status_changed",
        }
    }

    /// The case or change request the event is about (its events are delivered in order).
    pub fn subject(&self) -> &str {
        match self {
            WebhookEvent::CaseStatusChanged { case, .. }
            | WebhookEvent::ScreeningMatch { case, .. } => &case.id,
            WebhookEvent::ChangeRequestStatusChanged { request, .. } => &request.id,
            WebhookEvent::BusinessStatusChanged { business, .. } => &business.id,
        }
    }
}

/// One delivery's own facts: its id, its place among its subject's events (1, 2, ...) and
/// when it was made (ms).
#[derive(Clone, Copy, Debug)]
pub struct Envelope<'a> {
    pub id: &'a str,
    pub sequence: i64,
    pub created_at: i64,
}

/// Writes a delivery's body from its envelope and event (the service's renderer).
pub type RenderWebhook =
    Arc<dyn Fn(&Envelope<'_>, &WebhookEvent<'_>) -> String + Send + Sync + 'static>;

/// Inserts a delivery of `event` inside the caller's transaction, numbered after its
/// subject's earlier events, with the body `render` writes.
pub(crate) async fn enqueue_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    render: &RenderWebhook,
    event: WebhookEvent<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let (event_type, subject) = (event.event_type(), event.subject());
    let id = new_id();
    let seq: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM webhook_deliveries WHERE subject = $1",
    )
    .bind(subject)
    .fetch_one(&mut **tx)
    .await?;
    let body = render(
        &Envelope {
            id: &id,
            sequence: seq,
            created_at: now,
        },
        &event,
    );
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, event_type, subject, seq, body, status, attempts, next_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
    )
    .bind(&id)
    .bind(event_type)
    .bind(subject)
    .bind(seq)
    .bind(&body)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const DELIVERY_COLUMNS: &str =
    "id, event_type, subject, seq, body, status, attempts, next_at, created_at, delivered_at";

fn delivery_from_row(r: &sqlx::any::AnyRow) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: r.try_get("id")?,
        event_type: r.try_get("event_type")?,
        subject: r.try_get("subject")?,
        seq: r.try_get("seq")?,
        body: r.try_get("body")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_at: r.try_get("next_at")?,
        created_at: r.try_get("created_at")?,
        delivered_at: r.try_get("delivered_at")?,
    })
}

impl Store {
    /// Claims the oldest due pending delivery for `lease_ms`: another dispatcher (another
    /// process on the same database) skips it until the lease runs out. A delivery waits
    /// while an earlier one of its subject is still pending (being sent, or waiting for
    /// its retry): each subject's events arrive in order.
    pub async fn claim_webhook(&self, lease_ms: i64) -> Result<Option<Delivery>, StoreError> {
        let lock = match self.dialect() {
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let now = self.now();
        let sql = format!(
            "UPDATE webhook_deliveries SET next_at = $1 \
             WHERE id = (SELECT d.id FROM webhook_deliveries d \
                         WHERE d.status = 'pending' AND d.next_at <= $2 \
                         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
                                         WHERE e.subject = d.subject AND e.subject <> '' \
                                         AND e.seq < d.seq AND e.status = 'pending') \
                         ORDER BY d.next_at, d.created_at, d.seq, d.id LIMIT 1 {lock}) \
             RETURNING {DELIVERY_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(now + lease_ms)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(delivery_from_row).transpose()
    }

    /// Logs one attempt at a claimed delivery and what follows from it.
    pub async fn record_webhook_attempt(
        &self,
        delivery_id: &str,
        status_code: Option<u16>,
        error: Option<&str>,
        duration_ms: i64,
        result: AttemptResult,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let attempts: i64 =
            sqlx::query_scalar("SELECT attempts FROM webhook_deliveries WHERE id = $1")
                .bind(delivery_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound { what: "delivery" })?;
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(delivery_id)
        .bind(attempts + 1)
        .bind(now)
        .bind(status_code.map(i64::from))
        .bind(error)
        .bind(duration_ms)
        .execute(&mut *tx)
        .await?;
        let (status, next_at, delivered_at) = match result {
            AttemptResult::Delivered => ("delivered", now, Some(now)),
            AttemptResult::RetryAt(at) => ("pending", at, None),
            AttemptResult::GiveUp => ("failed", now, None),
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, status = $1, next_at = $2, delivered_at = $3 \
             WHERE id = $4",
        )
        .bind(status)
        .bind(next_at)
        .bind(delivered_at)
        .bind(delivery_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest deliveries first, at most `limit`.
    pub async fn webhook_deliveries(&self, limit: i64) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries ORDER BY created_at DESC, seq DESC, id LIMIT $1"
        );
        let rows = sqlx::query(&sql).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(delivery_from_row).collect()
    }

    pub async fn webhook_delivery(&self, id: &str) -> Result<Option<Delivery>, StoreError> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(delivery_from_row).transpose()
    }

    /// The delivery log of one delivery, first attempt first.
    pub async fn webhook_attempts(
        &self,
        delivery_id: &str,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        let rows = sqlx::query(
            "SELECT attempt, at, status_code, error, duration_ms FROM webhook_attempts \
             WHERE delivery_id = $1 ORDER BY attempt",
        )
        .bind(delivery_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeliveryAttempt {
                    attempt: r.try_get("attempt")?,
                    at: r.try_get("at")?,
                    status_code: r.try_get("status_code")?,
                    error: r.try_get("error")?,
                    duration_ms: r.try_get("duration_ms")?,
                })
            })
            .collect()
    }

    /// Sends a delivery again now (after the platform fixed its endpoint).
    pub async fn redeliver_webhook(&self, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_at = $1 WHERE id = $2",
        )
        .bind(self.now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "delivery" });
        }
        Ok(())
    }
}
