//! Ongoing monitoring. A list import that adds or changes entities queues a re-screen
//! (`rescreen_list`, in the import's transaction); a worker screens every applicant who
//! holds verified steps against those entities only, with the identity data of the
//! approval, and opens a review with the match explained for each new match (one a
//! reviewer cleared stays cleared while the entity's record is unchanged). The review's
//! webhooks tell the platform; a reviewer confirming the match rejects the account, which
//! withdraws its entitlements.

use crate::screening::{findings, query, uncleared};
use crate::state::AppState;
use idgate_decide::Extracted;
use idgate_pipeline::PipelineError;
use idgate_screen::{Entity, Index};
use idgate_store::{Monitored, ScreeningAlert};
use std::collections::BTreeSet;

/// What one re-screen did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rescreened {
    /// Applicants screened.
    pub screened: usize,
    /// Reviews opened.
    pub opened: usize,
}

/// Screens the monitored applicants against what list version `subject`
/// (`source:version`) added and changed.
pub async fn rescreen(state: &AppState, subject: &str) -> Result<Rescreened, PipelineError> {
    let checks = |what: String| PipelineError::Checks(what);
    let (source, version) = subject
        .rsplit_once(':')
        .and_then(|(s, v)| Some((s, v.parse::<i64>().ok()?)))
        .ok_or_else(|| {
            checks(format!(
                "re-screen subject {subject:?} is not source:version"
            ))
        })?;
    let Some(listed) = state
        .store
        .list_versions()
        .await?
        .into_iter()
        .find(|v| v.source == source && v.version == version)
    else {
        return Err(checks(format!("list version {subject} is not stored")));
    };
    let wanted: BTreeSet<&String> = listed.added.iter().chain(&listed.changed).collect();
    // The entities as they are now: one changed again by a later version is screened as
    // it stands, and the later version's own re-screen finds nothing new in it.
    let mut entities = Vec::new();
    for row in state.store.source_entities(source).await? {
        if wanted.contains(&row.entity_id) {
            let e: Entity = serde_json::from_str(&row.record)
                .map_err(|e| checks(format!("stored list entity {}: {e}", row.entity_id)))?;
            entities.push(e);
        }
    }
    let mut done = Rescreened::default();
    if entities.is_empty() {
        return Ok(done);
    }
    let index = Index::new(entities);
    for applicant in state.store.monitored_applicants().await? {
        done.screened += 1;
        if screen_one(state, &index, &applicant, source, version).await? {
            done.opened += 1;
        }
    }
    tracing::info!(
        list = subject,
        screened = done.screened,
        opened = done.opened,
        "re-screened the approved applicants"
    );
    Ok(done)
}

/// Screens one applicant; `true` when a review was opened.
async fn screen_one(
    state: &AppState,
    index: &Index,
    applicant: &Monitored,
    source: &str,
    version: i64,
) -> Result<bool, PipelineError> {
    let bytes = state.blobs.get(&applicant.data_key).await?;
    let entered: idgate_pipeline::entered::EnteredData = serde_json::from_slice(&bytes)
        .map_err(|e| PipelineError::Checks(format!("stored entered data unreadable: {e}")))?;
    let app = entered
        .application(&applicant.uid, &applicant.region, &applicant.level)
        .map_err(|e| PipelineError::Checks(format!("stored entered data: {e:#}")))?;
    let mut matches = index.screen(&query(&app, &Extracted::default()), state.screen.settings());
    uncleared(
        &mut matches,
        &state.store.screening_clearances(&applicant.uid).await?,
    );
    let found = findings(&matches);
    if found.is_empty() {
        return Ok(false);
    }
    let reasons: Vec<_> = found.iter().map(|f| f.code).collect();
    let entities: Vec<String> = matches.iter().map(|m| m.entity_id.clone()).collect();
    let opened = state
        .store
        .open_screening_alert(&ScreeningAlert {
            applicant,
            source,
            version,
            reasons: &reasons,
            findings: &idgate_pipeline::record::findings_json(&found),
            entities: &entities,
        })
        .await?;
    Ok(opened.is_some())
}
