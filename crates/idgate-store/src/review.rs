//! Manual review and what follows approval: reviewer accounts, the applicant's entered data
//! per case, claiming cases in review, comments, decisions (automated or a reviewer's)
//! recorded in one transaction with their effects, and change requests to verified data.

use crate::db::{
    case_from_row, insert_audit, new_id, transition_in, Case, Change, Store, CASE_COLUMNS,
};
use crate::decisions::{record_in, DecisionRecord};
use crate::error::StoreError;
use idgate_core::{
    CaseEvent, CaseStatus, Decision, IdentityKey, ReasonCode, ReviewerRole, Visibility,
};
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reviewer {
    pub id: String,
    pub name: String,
    pub role: ReviewerRole,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub id: String,
    pub case_id: String,
    pub author: String,
    pub visibility: Visibility,
    pub body: String,
    pub at: i64,
}

/// Which cases in review the queue shows.
#[derive(Clone, Debug)]
pub struct QueueFilter<'a> {
    pub level: Option<&'a str>,
    pub reason: Option<ReasonCode>,
    /// The applicant's region (ISO 3166-1 alpha-2).
    pub region: Option<&'a str>,
    pub holder: Holder<'a>,
    /// Only cases waiting at least this long (ms).
    pub waited_at_least_ms: Option<i64>,
    pub newest_first: bool,
    pub limit: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder<'a> {
    Any,
    Unclaimed,
    Reviewer(&'a str),
}

#[derive(Clone, Debug)]
pub struct QueueEntry {
    pub case: Case,
    pub uid: String,
    pub region: String,
    /// The name of the reviewer holding the case.
    pub holder_name: Option<String>,
}

/// A decision on a case with everything it changes, stored in one transaction.
#[derive(Clone, Debug)]
pub struct CaseDecision<'a> {
    pub case_id: &'a str,
    /// `Decide(..)` for the automated checks, `ReviewerDecide(..)` for a reviewer.
    pub event: CaseEvent,
    pub actor: &'a str,
    pub reasons: &'a [ReasonCode],
    /// Findings for reviewers (JSON); `None` keeps the ones stored.
    pub findings: Option<&'a str>,
    /// A reviewer's decision needs the reviewer to hold the case.
    pub reviewer_id: Option<&'a str>,
    /// (visibility, body) comments stored with the decision.
    pub comments: &'a [(Visibility, &'a str)],
    /// Attempts, identity keys and verified steps; `None` for a refusal that is not an
    /// attempt of its own (a cooldown).
    pub record: Option<DecisionRecord<'a>>,
    /// The automated pipeline made this decision after running every check the case's
    /// level requires; only such a case can later be approved by a reviewer.
    pub checked: bool,
    /// When the applicant may try again (a cooldown), shown on the case and the webhook.
    pub retry_after: Option<i64>,
    /// Screening matches a reviewer's approval judged false: (entity id, digest), cleared
    /// for the case's applicant in the same transaction.
    pub cleared_matches: &'a [(String, String)],
}

fn reviewer_from_row(r: &sqlx::any::AnyRow) -> Result<Reviewer, StoreError> {
    Ok(Reviewer {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: {
            let role: String = r.try_get("role")?;
            ReviewerRole::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("reviewer role {role}")))?
        },
        created_at: r.try_get("created_at")?,
        disabled_at: r.try_get("disabled_at")?,
    })
}

async fn insert_comment(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    case_id: &str,
    author: &str,
    visibility: Visibility,
    body: &str,
    now: i64,
) -> Result<Comment, StoreError> {
    let c = Comment {
        id: new_id(),
        case_id: case_id.into(),
        author: author.into(),
        visibility,
        body: body.into(),
        at: now,
    };
    sqlx::query(
        "INSERT INTO case_comments (id, case_id, author, visibility, body, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&c.id)
    .bind(&c.case_id)
    .bind(&c.author)
    .bind(c.visibility.as_str())
    .bind(&c.body)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let action = format!("comment_{}", visibility.as_str());
    insert_audit(tx, case_id, author, &action, None, None, now).await?;
    Ok(c)
}

impl Store {
    // ---- reviewers ----

    pub async fn create_reviewer(
        &self,
        name: &str,
        role: ReviewerRole,
        token_hash: &str,
    ) -> Result<Reviewer, StoreError> {
        let r = Reviewer {
            id: new_id(),
            name: name.into(),
            role,
            created_at: self.now(),
            disabled_at: None,
        };
        sqlx::query(
            "INSERT INTO reviewers (id, name, role, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&r.id)
        .bind(&r.name)
        .bind(r.role.as_str())
        .bind(token_hash)
        .bind(r.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict("a reviewer with this name already exists")
            }
            _ => e.into(),
        })?;
        Ok(r)
    }

    /// The active reviewer with this token hash.
    pub async fn reviewer_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<Reviewer>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, role, created_at, disabled_at FROM reviewers \
             WHERE token_hash = $1 AND disabled_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(reviewer_from_row).transpose()
    }

    pub async fn reviewers(&self) -> Result<Vec<Reviewer>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, role, created_at, disabled_at FROM reviewers ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(reviewer_from_row).collect()
    }

    /// Disables a reviewer account; its cases in review are released.
    pub async fn disable_reviewer(&self, id: &str) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE reviewers SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "reviewer" });
        }
        sqlx::query("UPDATE cases SET claimed_by = NULL, claimed_at = NULL WHERE claimed_by = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- the applicant's data on a case ----

    /// Sets the (encrypted) entered data of a draft case; returns the key it replaced.
    pub async fn set_case_data(
        &self,
        case_id: &str,
        data_key: &str,
        actor: &str,
    ) -> Result<Option<String>, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT status, data_key FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound { what: "case" })?;
        let status: String = row.try_get("status")?;
        if status != CaseStatus::Draft.as_str() {
            return Err(StoreError::Conflict(
                "the entered data can only change before submitting",
            ));
        }
        let old: Option<String> = row.try_get("data_key")?;
        sqlx::query("UPDATE cases SET data_key = $1, updated_at = $2 WHERE id = $3")
            .bind(data_key)
            .bind(now)
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, case_id, actor, "data_entered", None, None, now).await?;
        tx.commit().await?;
        Ok(old)
    }

    /// The findings stored for reviewers (JSON) and the identity keys (kind, keyed hash)
    /// the automated checks found.
    pub async fn case_findings(
        &self,
        case_id: &str,
    ) -> Result<(String, Vec<IdentityKey>), StoreError> {
        let row = sqlx::query("SELECT findings, identity_keys FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound { what: "case" })?;
        let keys: String = row.try_get("identity_keys")?;
        Ok((
            row.try_get("findings")?,
            crate::changes::keys_from_text(&keys)?,
        ))
    }

    /// Stores a decision on a case and everything it changes in one transaction: the status
    /// (through the state machine, with its audit event and webhook), the findings, the
    /// attempt, identity keys and verified steps, comments, and on approval the applicant's
    /// verified data. A reviewer's decision needs the reviewer to hold the case. Approving
    /// a document verified on another account fails with a conflict and changes nothing.
    pub async fn decide_case(&self, d: &CaseDecision<'_>) -> Result<Case, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        if let Some(reviewer) = d.reviewer_id {
            let row = sqlx::query("SELECT claimed_by, checked FROM cases WHERE id = $1")
                .bind(d.case_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound { what: "case" })?;
            let holder: Option<String> = row.try_get("claimed_by")?;
            if holder.as_deref() != Some(reviewer) {
                return Err(StoreError::Conflict("claim the case before deciding it"));
            }
            let checked: i64 = row.try_get("checked")?;
            if d.event == CaseEvent::ReviewerDecide(Decision::Approve) && checked == 0 {
                return Err(StoreError::Unchecked);
            }
        }
        let change = Change {
            event: d.event,
            actor: d.actor,
            reasons: Some(d.reasons),
            retry_after: d.retry_after,
        };
        let case = transition_in(&mut tx, d.case_id, &change, now, self.webhooks.as_ref()).await?;
        let keys = crate::changes::keys_to_text(d.record.as_ref().map_or(&[][..], |r| r.keys));
        sqlx::query(
            "UPDATE cases SET findings = COALESCE($1, findings), \
             identity_keys = CASE WHEN $2 = '' THEN identity_keys ELSE $2 END, \
             checked = CASE WHEN $3 = 1 THEN 1 ELSE checked END WHERE id = $4",
        )
        .bind(d.findings)
        .bind(keys)
        .bind(i64::from(d.checked))
        .bind(d.case_id)
        .execute(&mut *tx)
        .await?;
        for (visibility, body) in d.comments {
            insert_comment(&mut tx, d.case_id, d.actor, *visibility, body, now).await?;
        }
        if let Some(rec) = &d.record {
            record_in(&mut tx, rec, now).await?;
        }
        if d.reviewer_id.is_some() {
            // A person has now seen the account: its open suspicions are dealt with.
            sqlx::query(
                "UPDATE account_flags SET cleared_at = $1, cleared_by = $2 \
                 WHERE cleared_at IS NULL AND uid = (SELECT uid FROM applicants WHERE id = $3)",
            )
            .bind(now)
            .bind(d.actor)
            .bind(&case.applicant_id)
            .execute(&mut *tx)
            .await?;
        }
        if case.status == CaseStatus::Approved && d.reviewer_id.is_some() {
            for (entity_id, digest) in d.cleared_matches {
                crate::screening::clear_in(
                    &mut tx,
                    &case.applicant_id,
                    entity_id,
                    digest,
                    d.case_id,
                    d.actor,
                    now,
                )
                .await?;
            }
        }
        if case.status != CaseStatus::InReview {
            // A person among a business's parties was decided: the business waiting for
            // its people is evaluated again.
            crate::business_onboarding::enqueue_evaluations_in(&mut tx, &case.applicant_id, now)
                .await?;
        }
        if case.status == CaseStatus::Approved {
            // The approved selfie's face joins the faces new selfies are searched against.
            sqlx::query("UPDATE face_templates SET verified = 1 WHERE case_id = $1")
                .bind(d.case_id)
                .execute(&mut *tx)
                .await?;
            if let Some(key) = &case.data_key {
                sqlx::query("UPDATE applicants SET verified_data_key = $1 WHERE id = $2")
                    .bind(key)
                    .bind(&case.applicant_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(case)
    }

    // ---- the review queue ----

    /// Cases waiting for a reviewer, longest waiting first.
    pub async fn review_queue(&self, limit: i64) -> Result<Vec<Case>, StoreError> {
        let all = QueueFilter {
            level: None,
            reason: None,
            region: None,
            holder: Holder::Any,
            waited_at_least_ms: None,
            newest_first: false,
            limit,
        };
        let entries = self.review_queue_filtered(&all).await?;
        Ok(entries.into_iter().map(|e| e.case).collect())
    }

    /// The review queue as the console filters and sorts it, with each case's applicant
    /// (uid, region) and the name of the reviewer holding it, in one query.
    pub async fn review_queue_filtered(
        &self,
        f: &QueueFilter<'_>,
    ) -> Result<Vec<QueueEntry>, StoreError> {
        let cols: Vec<String> = CASE_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect();
        let mut sql = format!(
            "SELECT {}, a.uid AS a_uid, a.region AS a_region, r.name AS holder_name \
             FROM cases c JOIN applicants a ON a.id = c.applicant_id \
             LEFT JOIN reviewers r ON r.id = c.claimed_by WHERE c.status = 'in_review'",
            cols.join(", ")
        );
        let mut binds: Vec<String> = Vec::new();
        let mut param = |sql: &mut String, cond: &str, v: String| {
            binds.push(v);
            sql.push_str(&cond.replace('?', &format!("${}", binds.len())));
        };
        if let Some(level) = f.level {
            param(&mut sql, " AND c.level = ?", level.to_string());
        }
        if let Some(reason) = f.reason {
            param(
                &mut sql,
                " AND (',' || c.reasons || ',') LIKE ?",
                format!("%,{},%", reason.as_str()),
            );
        }
        if let Some(region) = f.region {
            param(&mut sql, " AND a.region = ?", region.to_string());
        }
        match f.holder {
            Holder::Any => {}
            Holder::Unclaimed => sql.push_str(" AND c.claimed_by IS NULL"),
            Holder::Reviewer(id) => param(&mut sql, " AND c.claimed_by = ?", id.to_string()),
        }
        let mut q_until = None;
        if let Some(ms) = f.waited_at_least_ms {
            q_until = Some(self.now() - ms);
        }
        if q_until.is_some() {
            sql.push_str(&format!(" AND c.updated_at <= ${}", binds.len() + 1));
        }
        sql.push_str(if f.newest_first {
            " ORDER BY c.updated_at DESC, c.id DESC"
        } else {
            " ORDER BY c.updated_at, c.id"
        });
        let limit_at = binds.len() + 1 + usize::from(q_until.is_some());
        sql.push_str(&format!(" LIMIT ${limit_at}"));
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        if let Some(until) = q_until {
            q = q.bind(until);
        }
        let rows = q.bind(f.limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(QueueEntry {
                    case: case_from_row(row)?,
                    uid: row.try_get("a_uid")?,
                    region: row.try_get("a_region")?,
                    holder_name: row.try_get("holder_name")?,
                })
            })
            .collect()
    }

    /// Takes a case in review for `reviewer_id`. Held by another reviewer → conflict,
    /// unless `take_over` (a supervisor).
    pub async fn claim_case(
        &self,
        case_id: &str,
        reviewer_id: &str,
        actor: &str,
        take_over: bool,
    ) -> Result<Case, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(case_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound { what: "case" })?;
        let mut case = case_from_row(&row)?;
        if case.status != CaseStatus::InReview {
            return Err(StoreError::Conflict("only a case in review can be claimed"));
        }
        match &case.claimed_by {
            Some(h) if h == reviewer_id => return Ok(case),
            Some(_) if !take_over => {
                return Err(StoreError::Conflict("another reviewer holds this case"))
            }
            _ => {}
        }
        let done = sqlx::query(
            "UPDATE cases SET claimed_by = $1, claimed_at = $2 WHERE id = $3 AND status = 'in_review' \
             AND (claimed_by IS NULL OR claimed_by = $4)",
        )
        .bind(reviewer_id)
        .bind(now)
        .bind(case_id)
        .bind(case.claimed_by.as_deref().unwrap_or(""))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("the case changed concurrently"));
        }
        let action = if case.claimed_by.is_some() {
            "taken_over"
        } else {
            "claimed"
        };
        insert_audit(&mut tx, case_id, actor, action, None, None, now).await?;
        tx.commit().await?;
        case.claimed_by = Some(reviewer_id.into());
        case.claimed_at = Some(now);
        Ok(case)
    }

    /// Gives a claimed case back to the queue. Only its holder may, or anyone when `any`.
    pub async fn release_case(
        &self,
        case_id: &str,
        reviewer_id: &str,
        actor: &str,
        any: bool,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE cases SET claimed_by = NULL, claimed_at = NULL \
             WHERE id = $1 AND claimed_by IS NOT NULL AND (claimed_by = $2 OR $3 = 1)",
        )
        .bind(case_id)
        .bind(reviewer_id)
        .bind(i64::from(any))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("you do not hold this case"));
        }
        insert_audit(&mut tx, case_id, actor, "released", None, None, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An audit entry without a status change (a reviewer opened an image...).
    pub async fn log_action(
        &self,
        case_id: &str,
        actor: &str,
        action: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        insert_audit(&mut tx, case_id, actor, action, None, None, now).await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- comments ----

    pub async fn add_comment(
        &self,
        case_id: &str,
        author: &str,
        visibility: Visibility,
        body: &str,
    ) -> Result<Comment, StoreError> {
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound { what: "case" });
        }
        let c = insert_comment(&mut tx, case_id, author, visibility, body, now).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// A case's comments, oldest first; internal ones only when asked for.
    pub async fn comments(
        &self,
        case_id: &str,
        include_internal: bool,
    ) -> Result<Vec<Comment>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, case_id, author, visibility, body, at FROM case_comments \
             WHERE case_id = $1 AND (visibility = 'applicant' OR $2 = 1) ORDER BY at, id",
        )
        .bind(case_id)
        .bind(i64::from(include_internal))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Comment {
                    id: r.try_get("id")?,
                    case_id: r.try_get("case_id")?,
                    author: r.try_get("author")?,
                    visibility: {
                        let v: String = r.try_get("visibility")?;
                        Visibility::parse(&v)
                            .ok_or_else(|| StoreError::Corrupt(format!("comment visibility {v}")))?
                    },
                    body: r.try_get("body")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    // ---- verified data and change requests ----

    /// Blob key of the applicant's verified data, once a case was approved.
    pub async fn verified_data_key(
        &self,
        applicant_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let key: Option<Option<String>> =
            sqlx::query_scalar("SELECT verified_data_key FROM applicants WHERE id = $1")
                .bind(applicant_id)
                .fetch_optional(&self.pool)
                .await?;
        key.ok_or(StoreError::NotFound { what: "applicant" })
    }
}
