//! Change requests to verified data. A request records which fields change; one that
//! changes identity fields waits for a newly uploaded document, is checked by a worker
//! (the job queue, like a case) and needs two different reviewers. Every status change goes
//! through `idgate_core::ChangeStatus::apply`, with an audit event and (outbox on) a
//! webhook in the same transaction. The final approval makes the new data the applicant's
//! verified data and verifies the new identity keys for the account, refused when another
//! account verified the document first.

use crate::db::{
    insert_audit, new_id, reasons_from_text, reasons_to_text, Document, DocumentData, Store,
};
use crate::error::StoreError;
use crate::webhooks::WebhookEvent;
use idgate_core::{ChangeChecks, ChangeEvent, ChangeStatus, IdentityKey, KeyKind, ReasonCode};
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRequest {
    pub id: String,
    pub applicant_id: String,
    pub data_key: String,
    pub reason: String,
    pub status: ChangeStatus,
    /// The fields that change (`name.given`, `birth_date`, `address`...).
    pub changes: Vec<String>,
    /// Two different reviewers must approve (identity fields change).
    pub second_approval: bool,
    pub first_approved_by: Option<String>,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
    /// What the checks found (codes for the platform, findings JSON for reviewers).
    pub reasons: Vec<ReasonCode>,
    pub findings: String,
    /// (kind, hash) identity keys of the new data, verified on final approval.
    pub identity_keys: Vec<IdentityKey>,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

/// A new change request: where it starts and what it needs.
#[derive(Clone, Debug)]
pub struct NewChange<'a> {
    pub applicant_id: &'a str,
    pub data_key: &'a str,
    pub reason: &'a str,
    pub changes: &'a [String],
    /// Identity fields change: a document is needed and two reviewers.
    pub identity: bool,
    /// Findings of the checks that need no document (reviewer JSON) and their codes.
    pub findings: &'a str,
    pub reasons: &'a [ReasonCode],
}

/// What the checks of a change request concluded, stored in one transaction.
#[derive(Clone, Debug)]
pub struct ChangeCheckResult<'a> {
    pub checks: ChangeChecks,
    pub reasons: &'a [ReasonCode],
    pub findings: &'a str,
    pub identity_keys: &'a [IdentityKey],
}

const CR_COLUMNS: &str = "id, applicant_id, data_key, reason, status, changes, second_approval, \
     first_approved_by, decided_by, comment, reasons, findings, identity_keys, created_at, decided_at";

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Identity keys as stored in a text column: `kind:hash`, comma-separated. A key of an
/// unknown kind is corrupt data, not a key to drop.
pub(crate) fn keys_from_text(text: &str) -> Result<Vec<IdentityKey>, StoreError> {
    split_list(text)
        .iter()
        .map(|k| {
            k.split_once(':')
                .and_then(|(kind, hash)| Some(IdentityKey::new(KeyKind::parse(kind)?, hash)))
                .ok_or_else(|| StoreError::Corrupt(format!("identity key {k}")))
        })
        .collect()
}

pub(crate) fn keys_to_text(keys: &[IdentityKey]) -> String {
    keys.iter()
        .map(|k| format!("{}:{}", k.kind.as_str(), k.hash))
        .collect::<Vec<_>>()
        .join(",")
}

fn change_request_from_row(r: &sqlx::any::AnyRow) -> Result<ChangeRequest, StoreError> {
    let status: String = r.try_get("status")?;
    Ok(ChangeRequest {
        id: r.try_get("id")?,
        applicant_id: r.try_get("applicant_id")?,
        data_key: r.try_get("data_key")?,
        reason: r.try_get("reason")?,
        status: ChangeStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("change request status {status}")))?,
        changes: split_list(&r.try_get::<String, _>("changes")?),
        second_approval: r.try_get::<i64, _>("second_approval")? != 0,
        first_approved_by: r.try_get("first_approved_by")?,
        decided_by: r.try_get("decided_by")?,
        comment: r.try_get("comment")?,
        reasons: reasons_from_text(&r.try_get::<String, _>("reasons")?)?,
        findings: r.try_get("findings")?,
        identity_keys: keys_from_text(&r.try_get::<String, _>("identity_keys")?)?,
        created_at: r.try_get("created_at")?,
        decided_at: r.try_get("decided_at")?,
    })
}

const CR_DOCUMENT_COLUMNS: &str =
    "id, change_request_id, kind, side, blob_key, content_type, size_bytes, sha256, width, height, created_at";

fn cr_document_from_row(row: &sqlx::any::AnyRow) -> Result<Document, StoreError> {
    crate::documents::document_from_row(row, "change_request_id")
}

async fn load_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
) -> Result<ChangeRequest, StoreError> {
    let sql = format!("SELECT {CR_COLUMNS} FROM change_requests WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound {
            what: "change request",
        })?;
    change_request_from_row(&row)
}

impl Store {
    /// Asks for a change to verified data. Needs verified data; one open request (not yet
    /// approved or rejected) at a time. An identity change starts waiting for its document,
    /// any other goes to the reviewers.
    pub async fn create_change_request(
        &self,
        new: &NewChange<'_>,
        actor: &str,
    ) -> Result<ChangeRequest, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let verified: Option<Option<String>> =
            sqlx::query_scalar("SELECT verified_data_key FROM applicants WHERE id = $1")
                .bind(new.applicant_id)
                .fetch_optional(&mut *tx)
                .await?;
        match verified {
            None => return Err(StoreError::NotFound { what: "applicant" }),
            Some(None) => {
                return Err(StoreError::Conflict(
                    "nothing is verified yet: correct the data in a new case instead",
                ))
            }
            Some(Some(_)) => {}
        }
        let open: Option<String> = sqlx::query_scalar(
            "SELECT id FROM change_requests WHERE applicant_id = $1 \
             AND status NOT IN ('approved', 'rejected')",
        )
        .bind(new.applicant_id)
        .fetch_optional(&mut *tx)
        .await?;
        if open.is_some() {
            return Err(StoreError::Conflict(
                "a change request for this applicant is already open",
            ));
        }
        let status = if new.identity {
            ChangeStatus::AwaitingDocuments
        } else {
            ChangeStatus::Pending
        };
        let id = new_id();
        sqlx::query(
            "INSERT INTO change_requests (id, applicant_id, data_key, reason, status, changes, \
             second_approval, reasons, findings, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(&id)
        .bind(new.applicant_id)
        .bind(new.data_key)
        .bind(new.reason)
        .bind(status.as_str())
        .bind(new.changes.join(","))
        .bind(i64::from(new.identity))
        .bind(reasons_to_text(new.reasons))
        .bind(new.findings)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, &id, actor, "change_requested", None, None, now).await?;
        let cr = load_in(&mut tx, &id).await?;
        self.change_request_event(&mut tx, &cr, now).await?;
        tx.commit().await?;
        Ok(cr)
    }

    async fn change_request_event(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        cr: &ChangeRequest,
        now: i64,
    ) -> Result<(), StoreError> {
        let Some(render) = &self.webhooks else {
            return Ok(());
        };
        let uid: String = sqlx::query_scalar("SELECT uid FROM applicants WHERE id = $1")
            .bind(&cr.applicant_id)
            .fetch_one(&mut **tx)
            .await?;
        let event = WebhookEvent::ChangeRequestStatusChanged {
            request: cr,
            uid: &uid,
        };
        crate::webhooks::enqueue_in(tx, render, event, now).await
    }

    /// Moves a change request through its state machine, with its audit event (the caller
    /// writes the webhook once the other columns are set, in the same transaction).
    async fn change_transition(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: &str,
        event: ChangeEvent,
        actor: &str,
        action: &str,
        now: i64,
    ) -> Result<ChangeRequest, StoreError> {
        let cr = load_in(tx, id).await?;
        let to = cr.status.apply(event).map_err(|_| {
            StoreError::Conflict("the change request cannot take this step in its current status")
        })?;
        let done = sqlx::query(
            "UPDATE change_requests SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .bind(cr.status.as_str())
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(
                "the change request changed concurrently",
            ));
        }
        insert_audit(tx, id, actor, action, None, None, now).await?;
        Ok(ChangeRequest { status: to, ..cr })
    }

    pub async fn change_request(&self, id: &str) -> Result<Option<ChangeRequest>, StoreError> {
        let sql = format!("SELECT {CR_COLUMNS} FROM change_requests WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(change_request_from_row).transpose()
    }

    /// Change requests waiting for a reviewer, oldest first.
    pub async fn change_requests_for_review(&self) -> Result<Vec<ChangeRequest>, StoreError> {
        let sql = format!(
            "SELECT {CR_COLUMNS} FROM change_requests \
             WHERE status IN ('pending', 'awaiting_second_approval') ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(change_request_from_row).collect()
    }

    /// Adds the new document's image to a change request waiting for it; an earlier image of
    /// the same kind and side is replaced and returned (the caller deletes its blob).
    pub async fn add_change_document(
        &self,
        doc: DocumentData,
        actor: &str,
    ) -> Result<crate::Added, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let cr = load_in(&mut tx, &doc.case_id).await?;
        if cr.status != ChangeStatus::AwaitingDocuments {
            return Err(StoreError::Conflict(
                "documents are added to a change request only while it waits for them",
            ));
        }
        let sql = format!(
            "SELECT {CR_DOCUMENT_COLUMNS} FROM change_request_documents \
             WHERE change_request_id = $1 AND kind = $2 AND side = $3"
        );
        let replaced: Vec<Document> = sqlx::query(&sql)
            .bind(&doc.case_id)
            .bind(&doc.kind)
            .bind(&doc.side)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(cr_document_from_row)
            .collect::<Result<_, _>>()?;
        for old in &replaced {
            sqlx::query("DELETE FROM change_request_documents WHERE id = $1")
                .bind(&old.id)
                .execute(&mut *tx)
                .await?;
        }
        let id = crate::documents::insert_document_in(
            &mut tx,
            "change_request_documents",
            "change_request_id",
            &doc,
            now,
        )
        .await?;
        insert_audit(
            &mut tx,
            &doc.case_id,
            actor,
            "document_added",
            None,
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(crate::Added {
            document: Document {
                id,
                created_at: now,
                data: doc,
            },
            replaced,
        })
    }

    /// The images uploaded for a change request (`data.case_id` is the request's id).
    pub async fn change_documents(&self, id: &str) -> Result<Vec<Document>, StoreError> {
        let sql = format!(
            "SELECT {CR_DOCUMENT_COLUMNS} FROM change_request_documents \
             WHERE change_request_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql).bind(id).fetch_all(&self.pool).await?;
        rows.iter().map(cr_document_from_row).collect()
    }

    /// Hands a change request with its document to the checks (a job, in the same
    /// transaction as the status change).
    pub async fn submit_change_request(
        &self,
        id: &str,
        actor: &str,
    ) -> Result<ChangeRequest, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        load_in(&mut tx, id).await?;
        let has_document: Option<String> = sqlx::query_scalar(
            "SELECT id FROM change_request_documents WHERE change_request_id = $1 LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if has_document.is_none() {
            return Err(StoreError::Conflict(
                "upload the new document before submitting the change request",
            ));
        }
        let cr = self
            .change_transition(
                &mut tx,
                id,
                ChangeEvent::Submit,
                actor,
                "change_submitted",
                now,
            )
            .await?;
        crate::jobs::enqueue_in(&mut tx, crate::jobs::JobKind::CheckChangeRequest, id, now).await?;
        self.change_request_event(&mut tx, &cr, now).await?;
        tx.commit().await?;
        Ok(cr)
    }

    /// Stores what the checks of a change request concluded.
    pub async fn record_change_checks(
        &self,
        id: &str,
        result: &ChangeCheckResult<'_>,
    ) -> Result<ChangeRequest, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let mut cr = self
            .change_transition(
                &mut tx,
                id,
                ChangeEvent::Checked(result.checks),
                "worker",
                "change_checked",
                now,
            )
            .await?;
        let decided_at = (cr.status == ChangeStatus::Rejected).then_some(now);
        sqlx::query(
            "UPDATE change_requests SET reasons = $1, findings = $2, identity_keys = $3, \
             decided_at = $4 WHERE id = $5",
        )
        .bind(reasons_to_text(result.reasons))
        .bind(result.findings)
        .bind(keys_to_text(result.identity_keys))
        .bind(decided_at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        cr.reasons = result.reasons.to_vec();
        cr.findings = result.findings.to_string();
        cr.identity_keys = result.identity_keys.to_vec();
        cr.decided_at = decided_at;
        self.change_request_event(&mut tx, &cr, now).await?;
        tx.commit().await?;
        Ok(cr)
    }

    /// A reviewer's decision on a change request waiting for one. A change of identity
    /// fields needs two different reviewers: the first approval waits for the second. The
    /// final approval makes the request's data the applicant's verified data and verifies
    /// its identity keys for the account (the earlier ones stay bound to it too); a document
    /// another account verified first is refused with [`StoreError::DuplicateDocument`] and
    /// nothing changes.
    pub async fn decide_change_request(
        &self,
        id: &str,
        approve: bool,
        reviewer_id: &str,
        actor: &str,
        comment: Option<&str>,
    ) -> Result<ChangeRequest, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let before = load_in(&mut tx, id).await?;
        if !before.status.awaits_reviewer() {
            return Err(StoreError::Conflict(
                "the change request is not waiting for a reviewer",
            ));
        }
        let event = if approve {
            let second_needed = before.second_approval && before.status == ChangeStatus::Pending;
            if before.status == ChangeStatus::AwaitingSecondApproval
                && before.first_approved_by.as_deref() == Some(reviewer_id)
            {
                return Err(StoreError::SecondReviewerRequired);
            }
            ChangeEvent::Approve { second_needed }
        } else {
            ChangeEvent::Reject
        };
        let action = match (approve, before.status) {
            (false, _) => "change_rejected",
            (true, ChangeStatus::Pending) if before.second_approval => "change_first_approved",
            (true, _) => "change_approved",
        };
        let mut cr = self
            .change_transition(&mut tx, id, event, actor, action, now)
            .await?;
        match cr.status {
            ChangeStatus::AwaitingSecondApproval => {
                sqlx::query(
                    "UPDATE change_requests SET first_approved_by = $1, first_approved_at = $2 \
                     WHERE id = $3",
                )
                .bind(reviewer_id)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                cr.first_approved_by = Some(reviewer_id.into());
            }
            ChangeStatus::Approved | ChangeStatus::Rejected => {
                sqlx::query(
                    "UPDATE change_requests SET decided_by = $1, comment = $2, decided_at = $3 \
                     WHERE id = $4",
                )
                .bind(reviewer_id)
                .bind(comment)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                cr.decided_by = Some(reviewer_id.into());
                cr.comment = comment.map(str::to_string);
                cr.decided_at = Some(now);
            }
            _ => {}
        }
        if cr.status == ChangeStatus::Approved {
            sqlx::query("UPDATE applicants SET verified_data_key = $1 WHERE id = $2")
                .bind(&cr.data_key)
                .bind(&cr.applicant_id)
                .execute(&mut *tx)
                .await?;
            let uid: String = sqlx::query_scalar("SELECT uid FROM applicants WHERE id = $1")
                .bind(&cr.applicant_id)
                .fetch_one(&mut *tx)
                .await?;
            crate::decisions::verify_keys_in(&mut tx, &uid, &cr.identity_keys, now).await?;
        }
        self.change_request_event(&mut tx, &cr, now).await?;
        tx.commit().await?;
        Ok(cr)
    }
}
