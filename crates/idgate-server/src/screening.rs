//! Sanctions and PEP screening in the service: importing a list file as a new version
//! (`idgate lists import`), the index of every source's current entities (rebuilt when the
//! store holds a new version, so an import by another process takes effect at the next
//! case), and the identity screen the pipeline runs at decision time.

use std::sync::{Arc, RwLock};

use anyhow::Context;
use idgate_core::{ReasonCode, RejectType};
use idgate_decide::{Application, Extracted, Finding};
use idgate_screen::{Entity, Files, Format, Index, PartialDate, Query, Settings, Topic};
use idgate_store::{ListChanges, ListEntity, ListImport, ListVersion, Store};
use sha2::{Digest, Sha256};

/// The screening settings of the policy's `[screening]` table over the defaults.
pub fn settings(policy: &idgate_decide::Policy) -> anyhow::Result<Settings> {
    let s: Settings = toml::Value::Table(policy.screening.clone())
        .try_into()
        .context("policy [screening]")?;
    if !(0.0..=1.0).contains(&s.threshold) || !(0.0..=1.0).contains(&s.name_floor) {
        anyhow::bail!("policy [screening]: threshold and name_floor lie between 0 and 1");
    }
    if s.limit == 0 || s.candidates == 0 {
        anyhow::bail!("policy [screening]: limit and candidates must be at least 1");
    }
    Ok(s)
}

/// The SHA-256 a version records of its file (and OFAC's alias and comment files).
pub fn files_sha256(files: Files<'_>) -> String {
    let mut sha = Sha256::new();
    for part in [Some(files.main), files.alt, files.comments]
        .into_iter()
        .flatten()
    {
        sha.update(part);
    }
    hex::encode(sha.finalize())
}

/// What importing a list file came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Imported {
    /// The next version of its source.
    New(ListVersion),
    /// The source's newest version (this number) came from the same file: nothing stored.
    Unchanged(i64),
}

/// Imports racing each other on one source (two workers refreshing the same list) are
/// stored one after the other; one that lost more than this many times gives up.
const IMPORT_TRIES: usize = 5;

/// Reads a list file (with OFAC's alias and comment files) and stores it as the next
/// version of `source`, with what it added, changed and removed. Nothing is stored when
/// any part of the file is malformed, or when the newest version came from the same file.
pub async fn import(
    store: &Store,
    source: &str,
    format: Format,
    files: Files<'_>,
) -> anyhow::Result<Imported> {
    if !crate::config::valid_source(source) {
        anyhow::bail!("a source name is lower-case letters, digits and _ (e.g. ofac_sdn)");
    }
    let sha = files_sha256(files);
    if let Some((version, file)) = store.list_head(source).await? {
        if file == sha {
            return Ok(Imported::Unchanged(version));
        }
    }
    let entities = idgate_screen::sources::read(source, format, files)
        .with_context(|| format!("{source}: the file was refused; the current version stays"))?;
    let rows: Vec<ListEntity> = entities
        .iter()
        .map(|e| {
            Ok(ListEntity {
                entity_id: e.id.clone(),
                digest: e.digest(),
                record: serde_json::to_string(e)?,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    for _ in 0..IMPORT_TRIES {
        // The head first: digests read after it are at least as new, and an import that
        // commits in between makes this one stale rather than wrong.
        let head = store.list_head(source).await?;
        if let Some((version, file)) = &head {
            if *file == sha {
                return Ok(Imported::Unchanged(*version));
            }
        }
        let before = store.list_digests(source).await?;
        let diff = idgate_screen::diff(&before, &entities);
        let changes = ListChanges {
            added: diff.added,
            changed: diff.changed,
            removed: diff.removed,
        };
        let base = head.map(|(v, _)| v);
        match store
            .import_list(source, format.as_str(), &sha, base, &rows, &changes)
            .await?
        {
            ListImport::New(v) => return Ok(Imported::New(v)),
            ListImport::Unchanged(v) => return Ok(Imported::Unchanged(v)),
            ListImport::Stale => continue,
        }
    }
    anyhow::bail!("{source}: other imports of the source kept coming first; try again")
}

/// The identity screen over the store's current lists.
pub struct ListScreen {
    settings: Settings,
    current: RwLock<(i64, Arc<Index>)>,
}

impl ListScreen {
    /// The policy's screen over the store's current lists, loaded: what `serve` and
    /// `idgate verify` screen with.
    pub async fn open(policy: &idgate_decide::Policy, store: &Store) -> anyhow::Result<Arc<Self>> {
        let screen = Arc::new(ListScreen::new(settings(policy)?));
        screen
            .reload(store)
            .await
            .context("loading the screening lists")?;
        Ok(screen)
    }

    pub fn new(settings: Settings) -> Self {
        ListScreen {
            settings,
            current: RwLock::new((-1, Arc::new(Index::new(Vec::new())))),
        }
    }

    /// Rebuilds the index when the store holds versions it has not seen; `true` when it did.
    pub async fn reload(&self, store: &Store) -> anyhow::Result<bool> {
        let generation = store.screening_generation().await?;
        if self.current.read().map(|c| c.0).unwrap_or(-1) == generation {
            return Ok(false);
        }
        let entities: Vec<Entity> = store
            .screening_entities()
            .await?
            .iter()
            .map(|e| {
                serde_json::from_str(&e.record)
                    .with_context(|| format!("stored list entity {}", e.entity_id))
            })
            .collect::<anyhow::Result<_>>()?;
        let index = Arc::new(tokio::task::spawn_blocking(move || Index::new(entities)).await?);
        if let Ok(mut c) = self.current.write() {
            *c = (generation, index);
        }
        Ok(true)
    }

    pub fn index(&self) -> Arc<Index> {
        self.current
            .read()
            .map(|c| c.1.clone())
            .unwrap_or_else(|p| p.into_inner().1.clone())
    }

    /// A screen over these entities, as if they were the store's lists.
    pub fn over(settings: Settings, entities: Vec<Entity>) -> Self {
        ListScreen {
            settings,
            current: RwLock::new((0, Arc::new(Index::new(entities)))),
        }
    }
}

/// Every name the identity goes by (entered, in Latin and local script, and the MRZ's),
/// its birth date, nationalities, sex and document number.
pub fn query(app: &Application, extracted: &Extracted) -> Query {
    let mut q = Query::default();
    let entered = format!("{} {}", app.given_names, app.family_name);
    if !entered.trim().is_empty() {
        q.names.push(entered.trim().to_string());
    }
    if let Some(local) = app.local_name.as_deref().filter(|s| !s.trim().is_empty()) {
        q.names.push(local.to_string());
    }
    let date = |d: idgate_mrz::Date| PartialDate {
        year: u16::try_from(d.year()).unwrap_or(0),
        month: Some(d.month()),
        day: Some(d.day()),
    };
    q.birth_date = app.birth_date.map(date);
    if !app.nationality.is_empty() {
        q.nationalities.push(app.nationality.clone());
    }
    if !app.document.number.is_empty() {
        q.identifiers.push(app.document.number.clone());
    }
    if let Some(m) = &extracted.mrz {
        let mrz_name = format!("{} {}", m.given_names, m.surname);
        if !mrz_name.trim().is_empty() && !q.names.contains(&mrz_name) {
            q.names.push(mrz_name);
        }
        if let Some(d) = m.birth_date {
            q.birth_date = Some(date(d));
        }
        if !m.nationality.is_empty() && !q.nationalities.contains(&m.nationality) {
            q.nationalities.push(m.nationality.clone());
        }
        q.gender = match m.sex {
            idgate_mrz::Sex::Male => Some('M'),
            idgate_mrz::Sex::Female => Some('F'),
            _ => None,
        };
        if !q.identifiers.contains(&m.document_number) {
            q.identifiers.push(m.document_number.clone());
        }
    }
    q
}

impl idgate_pipeline::IdentityScreen for ListScreen {
    fn screen(
        &self,
        app: &Application,
        extracted: &Extracted,
        cleared: &[(String, String)],
    ) -> Vec<Finding> {
        let index = self.index();
        if index.is_empty() {
            return Vec::new();
        }
        let mut matches = index.screen(&query(app, extracted), &self.settings);
        // A reviewer found this entity is not this person; its record has not changed since.
        uncleared(&mut matches, cleared);
        findings(&matches)
    }
}

impl ListScreen {
    /// The policy's screening settings (threshold, weights, limit).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}

/// Drops the matches a reviewer cleared for this applicant, while the listed entity's
/// record is unchanged (the same digest).
pub fn uncleared(matches: &mut Vec<idgate_screen::Match>, cleared: &[(String, String)]) {
    matches.retain(|m| {
        !cleared
            .iter()
            .any(|(id, digest)| *id == m.entity_id && *digest == m.entity_digest)
    });
}

/// One finding per topic with matches (SANCTIONS_MATCH, PEP_MATCH), for a reviewer: its
/// detail holds every match with the names that met, the score and what moved it.
pub fn findings(matches: &[idgate_screen::Match]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (topic, code) in [
        (Topic::Sanction, ReasonCode::SanctionsMatch),
        (Topic::Pep, ReasonCode::PepMatch),
    ] {
        let these: Vec<&idgate_screen::Match> =
            matches.iter().filter(|m| m.topic == topic).collect();
        if these.is_empty() {
            continue;
        }
        let detail = serde_json::json!({ "matches": these }).to_string();
        out.push(Finding::new(code, RejectType::Review, detail).about("identity"));
    }
    out
}

/// The screening matches among a case's stored findings (JSON): (entity id, digest) of
/// every SANCTIONS_MATCH and PEP_MATCH match, which a reviewer's approval clears.
pub fn matches_in(findings: &str) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Array(all)) = serde_json::from_str(findings) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in all {
        if !matches!(f["code"].as_str(), Some("SANCTIONS_MATCH" | "PEP_MATCH")) {
            continue;
        }
        let detail = match &f["detail"] {
            serde_json::Value::String(s) => idgate_pipeline::record::detail_object(s),
            other => other.clone(),
        };
        for m in detail["matches"].as_array().into_iter().flatten() {
            if let (Some(id), Some(digest)) = (m["entity_id"].as_str(), m["entity_digest"].as_str())
            {
                let pair = (id.to_string(), digest.to_string());
                if !out.contains(&pair) {
                    out.push(pair);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use idgate_pipeline::IdentityScreen;
    use idgate_screen::EntityKind;

    fn listed(id: &str, name: &str, topic: Topic) -> Entity {
        let mut e = Entity::new(id.into(), EntityKind::Person, topic);
        e.add_name(name);
        e
    }

    #[test]
    fn matches_become_findings_by_topic_and_a_clearance_holds_until_the_record_changes() {
        let sanctioned = listed("un:1", "ERIC BADEGE", Topic::Sanction);
        let pep = listed("peps:1", "Eric Badege", Topic::Pep);
        let digest = sanctioned.digest();
        let screen = ListScreen::over(Settings::default(), vec![sanctioned.clone(), pep]);
        let app = Application {
            given_names: "Eric".into(),
            family_name: "Badege".into(),
            ..Application::default()
        };
        let findings = screen.screen(&app, &Extracted::default(), &[]);
        let codes: Vec<ReasonCode> = findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, [ReasonCode::SanctionsMatch, ReasonCode::PepMatch]);
        assert!(findings.iter().all(|f| f.reject_type == RejectType::Review));
        // The stored findings name what a reviewer's approval clears.
        let stored = idgate_pipeline::record::findings_json(&findings);
        let cleared = matches_in(&stored);
        assert_eq!(cleared.len(), 2);
        assert!(cleared.contains(&("un:1".to_string(), digest.clone())));
        let after = screen.screen(&app, &Extracted::default(), &cleared);
        assert!(after.is_empty(), "cleared matches are not raised again");
        // The listed record changes: the clearance no longer holds.
        let mut changed = sanctioned;
        changed.add_birth_date(PartialDate::year(1971));
        let screen = ListScreen::over(Settings::default(), vec![changed]);
        let again = screen.screen(&app, &Extracted::default(), &cleared);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].code, ReasonCode::SanctionsMatch);
    }

    #[test]
    fn the_query_holds_every_name_and_the_mrz_qualifiers() {
        let app = Application {
            given_names: "Xiaoming".into(),
            family_name: "Zhang".into(),
            local_name: Some("张晓明".into()),
            nationality: "CN".into(),
            ..Application::default()
        };
        let q = query(&app, &Extracted::default());
        assert_eq!(q.names, ["Xiaoming Zhang", "张晓明"]);
        assert_eq!(q.nationalities, ["CN"]);
        assert!(q.identifiers.is_empty() && q.birth_date.is_none());
    }
}
