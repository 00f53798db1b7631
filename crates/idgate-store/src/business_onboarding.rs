//! A business's onboarding: its entity documents (pages sealed in the blob store, each
//! document judged by a reviewer), its status moved only by
//! `idgate_core::BusinessStatus::apply` with an audit event and a webhook in the same
//! transaction, and the evaluations a person's decision sets off: when a case of an
//! applicant who is a party of a business waiting for its people is decided, an
//! `evaluate_business` job is queued in the deciding transaction.

use crate::businesses::{lock_business, lock_editable, Business};
use crate::db::{new_id, Store};
use crate::error::StoreError;
use crate::jobs::JobKind;
use crate::webhooks::WebhookEvent;
use idgate_core::{BusinessEvent, BusinessStatus};
use sqlx::Row;

/// One page of an entity document, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentPage {
    pub page: i64,
    pub blob_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// An entity document and a reviewer's judgement of it (`state`: pending, accepted,
/// rejected).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessDocument {
    pub id: String,
    pub business_id: String,
    pub kind: String,
    /// YYYY-MM-DD, as the business declared it.
    pub issued_on: Option<String>,
    pub state: String,
    pub judged_by: Option<String>,
    pub judged_at: Option<i64>,
    /// The reviewer's note to the business.
    pub note: Option<String>,
    pub created_at: i64,
    pub pages: Vec<DocumentPage>,
}

const DOCUMENT: &str =
    "id, business_id, kind, issued_on, state, judged_by, judged_at, note, created_at";

fn document_from(r: &sqlx::any::AnyRow) -> Result<BusinessDocument, StoreError> {
    Ok(BusinessDocument {
        id: r.try_get("id")?,
        business_id: r.try_get("business_id")?,
        kind: r.try_get("kind")?,
        issued_on: r.try_get("issued_on")?,
        state: r.try_get("state")?,
        judged_by: r.try_get("judged_by")?,
        judged_at: r.try_get("judged_at")?,
        note: r.try_get("note")?,
        created_at: r.try_get("created_at")?,
        pages: Vec::new(),
    })
}

/// Queues an evaluation of every business waiting for its people of which `applicant_id`
/// is a party (inside the transaction that decided one of that applicant's cases).
pub(crate) async fn enqueue_evaluations_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    applicant_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT b.id FROM business_parties p JOIN businesses b ON b.id = p.business_id \
         WHERE p.applicant_id = $1 AND b.status = 'awaiting_parties'",
    )
    .bind(applicant_id)
    .fetch_all(&mut **tx)
    .await?;
    for id in ids {
        crate::jobs::enqueue_in(tx, JobKind::EvaluateBusiness, &id, now).await?;
    }
    Ok(())
}

impl Store {
    /// Adds an entity document of one or more pages (their blobs already sealed).
    pub async fn add_business_document(
        &self,
        business_id: &str,
        kind: &str,
        issued_on: Option<&str>,
        pages: Vec<DocumentPage>,
    ) -> Result<BusinessDocument, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        lock_editable(&mut tx, business_id, now).await?;
        let d = BusinessDocument {
            id: new_id(),
            business_id: business_id.into(),
            kind: kind.into(),
            issued_on: issued_on.map(str::to_string),
            state: "pending".into(),
            judged_by: None,
            judged_at: None,
            note: None,
            created_at: now,
            pages,
        };
        sqlx::query(&format!(
            "INSERT INTO business_documents ({DOCUMENT}, seq) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, $9, (SELECT COALESCE(MAX(seq), 0) + 1 FROM business_documents \
             WHERE business_id = $2))"
        ))
        .bind(&d.id)
        .bind(&d.business_id)
        .bind(&d.kind)
        .bind(&d.issued_on)
        .bind(&d.state)
        .bind(&d.judged_by)
        .bind(d.judged_at)
        .bind(&d.note)
        .bind(d.created_at)
        .execute(&mut *tx)
        .await?;
        for p in &d.pages {
            sqlx::query(
                "INSERT INTO business_document_pages \
                 (document_id, page, blob_key, content_type, size_bytes, sha256) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&d.id)
            .bind(p.page)
            .bind(&p.blob_key)
            .bind(&p.content_type)
            .bind(p.size_bytes)
            .bind(&p.sha256)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(d)
    }

    /// The business's entity documents with their pages, in the order they were added.
    pub async fn business_documents(
        &self,
        business_id: &str,
    ) -> Result<Vec<BusinessDocument>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DOCUMENT} FROM business_documents WHERE business_id = $1 ORDER BY seq"
        ))
        .bind(business_id)
        .fetch_all(&self.pool)
        .await?;
        let mut docs: Vec<BusinessDocument> =
            rows.iter().map(document_from).collect::<Result<_, _>>()?;
        let pages = sqlx::query(
            "SELECT p.document_id, p.page, p.blob_key, p.content_type, p.size_bytes, p.sha256 \
             FROM business_document_pages p JOIN business_documents d ON d.id = p.document_id \
             WHERE d.business_id = $1 ORDER BY p.page",
        )
        .bind(business_id)
        .fetch_all(&self.pool)
        .await?;
        for r in &pages {
            let id: String = r.try_get("document_id")?;
            if let Some(d) = docs.iter_mut().find(|d| d.id == id) {
                d.pages.push(DocumentPage {
                    page: r.try_get("page")?,
                    blob_key: r.try_get("blob_key")?,
                    content_type: r.try_get("content_type")?,
                    size_bytes: r.try_get("size_bytes")?,
                    sha256: r.try_get("sha256")?,
                });
            }
        }
        Ok(docs)
    }

    /// A reviewer accepts or rejects an entity document of a business in review.
    pub async fn judge_business_document(
        &self,
        business_id: &str,
        document_id: &str,
        accepted: bool,
        reviewer: &str,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        if lock_business(&mut tx, business_id, now).await? != BusinessStatus::InReview {
            return Err(StoreError::Conflict(
                "entity documents are judged while the business is in review",
            ));
        }
        let done = sqlx::query(
            "UPDATE business_documents SET state = $1, judged_by = $2, judged_at = $3, \
             note = $4 WHERE id = $5 AND business_id = $6",
        )
        .bind(if accepted { "accepted" } else { "rejected" })
        .bind(reviewer)
        .bind(now)
        .bind(note)
        .bind(document_id)
        .bind(business_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "document" });
        }
        sqlx::query(
            "INSERT INTO audit_events (case_id, actor, action, from_status, to_status, at) \
             VALUES ($1, $2, $3, NULL, NULL, $4)",
        )
        .bind(business_id)
        .bind(reviewer)
        .bind(if accepted {
            "document_accepted"
        } else {
            "document_rejected"
        })
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves a business by `event`, with the evaluation's `findings`, an audit event and
    /// its webhook. `seen_at` is the `updated_at` the caller judged the business at: when
    /// anything changed since (a party, a relation, a document), nothing moves and the
    /// caller evaluates again (409).
    pub async fn transition_business(
        &self,
        id: &str,
        event: BusinessEvent,
        actor: &str,
        findings: &str,
        seen_at: Option<i64>,
    ) -> Result<Business, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        if let Some(seen) = seen_at {
            let same: Option<String> =
                sqlx::query_scalar("SELECT id FROM businesses WHERE id = $1 AND updated_at = $2")
                    .bind(id)
                    .bind(seen)
                    .fetch_optional(&mut *tx)
                    .await?;
            if same.is_none() {
                return Err(StoreError::Conflict(
                    "the business changed while it was being evaluated; submit again",
                ));
            }
        }
        let from = lock_business(&mut tx, id, now).await?;
        let to = from.apply(event)?;
        sqlx::query("UPDATE businesses SET status = $1, findings = $2 WHERE id = $3")
            .bind(to.as_str())
            .bind(findings)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO audit_events (case_id, actor, action, from_status, to_status, at) \
             VALUES ($1, $2, 'status_changed', $3, $4, $5)",
        )
        .bind(id)
        .bind(actor)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {} FROM businesses WHERE id = $1",
            crate::businesses::BUSINESS
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let business = crate::businesses::business_from(&row)?;
        if let Some(render) = &self.webhooks {
            crate::webhooks::enqueue_in(
                &mut tx,
                render,
                WebhookEvent::BusinessStatusChanged {
                    business: &business,
                    previous: from,
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(business)
    }
}
