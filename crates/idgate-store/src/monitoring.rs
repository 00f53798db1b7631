//! Ongoing monitoring: the approved applicants a list import's re-screen looks at, and the
//! review it opens for one whose identity now matches a listed entity.

use crate::db::{insert_audit, new_id, transition_in, Case, CaseOrigin, Change, Store};
use crate::error::StoreError;
use crate::webhooks::WebhookEvent;
use idgate_core::{CaseEvent, CaseStatus, Decision, ReasonCode};
use sqlx::Row;

/// An applicant who holds verified steps, with the identity data of its approval.
#[derive(Clone, PartialEq, Eq)]
pub struct Monitored {
    pub applicant_id: String,
    pub uid: String,
    pub region: String,
    /// The level of the account's most recent verified step.
    pub level: String,
    /// Blob key of the verified entered data.
    pub data_key: String,
}

impl std::fmt::Debug for Monitored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitored")
            .field("applicant_id", &self.applicant_id)
            .finish_non_exhaustive()
    }
}

/// A match a re-screen found for a monitored applicant.
pub struct ScreeningAlert<'a> {
    pub applicant: &'a Monitored,
    /// The list version whose re-screen found it.
    pub source: &'a str,
    pub version: i64,
    /// SANCTIONS_MATCH and/or PEP_MATCH.
    pub reasons: &'a [ReasonCode],
    /// The findings as JSON, with each match's explanation for the reviewer.
    pub findings: &'a str,
    /// The listed entities matched.
    pub entities: &'a [String],
}

impl Store {
    /// Applicants who hold verified steps (what re-screening protects), oldest first.
    pub async fn monitored_applicants(&self) -> Result<Vec<Monitored>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.uid, a.region, a.verified_data_key, \
             (SELECT v.level FROM verified_steps v WHERE v.uid = a.uid \
              ORDER BY v.at DESC, v.step LIMIT 1) AS level \
             FROM applicants a WHERE a.verified_data_key IS NOT NULL \
             AND EXISTS (SELECT 1 FROM verified_steps v WHERE v.uid = a.uid) \
             ORDER BY a.created_at, a.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Monitored {
                    applicant_id: r.try_get("id")?,
                    uid: r.try_get("uid")?,
                    region: r.try_get("region")?,
                    level: r.try_get::<Option<String>, _>("level")?.unwrap_or_default(),
                    data_key: r.try_get("verified_data_key")?,
                })
            })
            .collect()
    }

    /// Opens a review of the applicant for `alert`: a case with origin `monitoring`, in
    /// review with the match's reasons and findings, its webhooks (`case.status_changed`
    /// and `applicant.screening_match`) in the same transaction. `None` when this list
    /// version's re-screen already opened one for the applicant (a re-run opens nothing).
    pub async fn open_screening_alert(
        &self,
        alert: &ScreeningAlert<'_>,
    ) -> Result<Option<Case>, StoreError> {
        let now = self.now();
        let a = alert.applicant;
        let mut tx = self.pool.begin().await?;
        let done: Option<String> = sqlx::query_scalar(
            "SELECT case_id FROM screening_alerts \
             WHERE applicant_id = $1 AND source = $2 AND version = $3",
        )
        .bind(&a.applicant_id)
        .bind(alert.source)
        .bind(alert.version)
        .fetch_optional(&mut *tx)
        .await?;
        if done.is_some() {
            return Ok(None);
        }
        let id = new_id();
        // The re-screen did the processing; the case starts there and goes to a person.
        sqlx::query(
            "INSERT INTO cases (id, applicant_id, level, status, reasons, data_key, findings, \
             checked, origin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, '', $5, $6, 1, $7, $8, $8)",
        )
        .bind(&id)
        .bind(&a.applicant_id)
        .bind(&a.level)
        .bind(CaseStatus::Processing.as_str())
        .bind(&a.data_key)
        .bind(alert.findings)
        .bind(CaseOrigin::Monitoring.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let actor = "monitoring";
        insert_audit(
            &mut tx,
            &id,
            actor,
            "created",
            None,
            Some(CaseStatus::Processing),
            now,
        )
        .await?;
        let change = Change {
            event: CaseEvent::Decide(Decision::Review),
            actor,
            reasons: Some(alert.reasons),
            retry_after: None,
        };
        let case = transition_in(&mut tx, &id, &change, now, self.webhooks.as_ref()).await?;
        sqlx::query(
            "INSERT INTO screening_alerts (applicant_id, source, version, case_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&a.applicant_id)
        .bind(alert.source)
        .bind(alert.version)
        .bind(&id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if let Some(render) = &self.webhooks {
            let event = WebhookEvent::ScreeningMatch {
                case: &case,
                uid: &a.uid,
                source: alert.source,
                version: alert.version,
                entities: alert.entities,
            };
            crate::webhooks::enqueue_in(&mut tx, render, event, now).await?;
        }
        tx.commit().await?;
        Ok(Some(case))
    }
}
