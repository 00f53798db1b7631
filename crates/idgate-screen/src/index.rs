//! Screening one identity against the listed entities: candidates by the sound of their
//! words, every name of a candidate scored against every name the identity has, birth date,
//! nationality and gender as qualifiers, passport and identity numbers as exact matches.
//! Each match says why.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::entity::{Entity, EntityKind, PartialDate, Topic};
use crate::{fold, score};

/// Thresholds and weights; a deployment's policy sets them (`[screening]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// A match at or above this score sends the case to a reviewer.
    pub threshold: f64,
    /// Names scoring below this are not considered at all (before qualifiers).
    pub name_floor: f64,
    /// Same day of birth.
    pub birth_date_match: f64,
    /// Same year of birth where one side gives only the year.
    pub birth_year_match: f64,
    /// Years of birth more than a year apart, or two full dates that differ.
    pub birth_date_mismatch: f64,
    pub nationality_match: f64,
    /// Both sides give nationalities and none is shared.
    pub nationality_mismatch: f64,
    pub gender_mismatch: f64,
    /// Most matches returned per identity.
    pub limit: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            threshold: 0.80,
            name_floor: 0.75,
            birth_date_match: 0.08,
            birth_year_match: 0.03,
            birth_date_mismatch: -0.20,
            nationality_match: 0.02,
            nationality_mismatch: -0.10,
            gender_mismatch: -0.15,
            limit: 5,
        }
    }
}

/// The identity to screen: every name it goes by (entered in Latin and local script, the
/// MRZ's), and what qualifies it.
#[derive(Clone, Default)]
pub struct Query {
    pub names: Vec<String>,
    pub birth_date: Option<PartialDate>,
    /// ISO 3166-1 alpha-2 (or anything [`fold::country`] reads).
    pub nationalities: Vec<String>,
    pub gender: Option<char>,
    pub identifiers: Vec<String>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("names", &self.names.len())
            .finish_non_exhaustive()
    }
}

/// What moved a match's score after the names were compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adjustment {
    /// `birth_date_match`, `birth_year_match`, `birth_date_mismatch`, `nationality_match`,
    /// `nationality_mismatch`, `gender_mismatch`.
    pub qualifier: String,
    pub weight: f64,
}

/// One listed entity the identity may be.
#[derive(Clone, Serialize, Deserialize)]
pub struct Match {
    pub entity_id: String,
    pub topic: Topic,
    pub score: f64,
    pub name_score: f64,
    /// Which of the identity's names met which of the entity's.
    pub query_name: String,
    pub listed_name: String,
    pub phonetic: bool,
    pub joined: bool,
    /// A passport or identity number equal to the entity's.
    pub identifier: bool,
    pub adjustments: Vec<Adjustment>,
    /// The entity's record at the time of the match, for the reviewer.
    pub entity_digest: String,
}

impl std::fmt::Debug for Match {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Match")
            .field("entity_id", &self.entity_id)
            .field("score", &self.score)
            .finish_non_exhaustive()
    }
}

struct Listed {
    entity: Entity,
    digest: String,
    names: Vec<(String, Vec<String>)>,
}

/// Every entity of the active list versions, ready to screen against.
pub struct Index {
    listed: Vec<Listed>,
    /// Soundex of a word → the entities with a name holding it.
    by_sound: HashMap<String, Vec<u32>>,
    by_identifier: HashMap<String, Vec<u32>>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("entities", &self.listed.len())
            .finish()
    }
}

/// A sound shared by more entities than this (or a fiftieth of the list) is common.
const COMMON_FLOOR: usize = 40;

/// Words shorter than this say too little to find candidates by.
const MIN_KEY_WORD: usize = 3;

impl Index {
    pub fn new(entities: impl IntoIterator<Item = Entity>) -> Self {
        let mut index = Index {
            listed: Vec::new(),
            by_sound: HashMap::new(),
            by_identifier: HashMap::new(),
        };
        for entity in entities {
            let n = index.listed.len() as u32;
            let names: Vec<(String, Vec<String>)> = entity
                .names
                .iter()
                .map(|name| (name.clone(), fold::name_words(name)))
                .filter(|(_, w)| !w.is_empty())
                .collect();
            let mut keys = BTreeSet::new();
            for (_, words) in &names {
                keys.extend(candidate_keys(words));
            }
            for k in keys {
                index.by_sound.entry(k).or_default().push(n);
            }
            for id in &entity.identifiers {
                index.by_identifier.entry(id.clone()).or_default().push(n);
            }
            let digest = entity.digest();
            index.listed.push(Listed {
                entity,
                digest,
                names,
            });
        }
        index
    }

    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// Entities indexed.
    pub fn len(&self) -> usize {
        self.listed.len()
    }

    /// The listed entity `id` and its digest (a reviewer follows a match to its record).
    pub fn entity(&self, id: &str) -> Option<(&Entity, &str)> {
        self.listed
            .iter()
            .find(|l| l.entity.id == id)
            .map(|l| (&l.entity, l.digest.as_str()))
    }

    /// The person's matches at or above the threshold, best first, at most `limit`.
    pub fn screen(&self, q: &Query, s: &Settings) -> Vec<Match> {
        let mut all = self.candidates(q, s);
        all.retain(|m| m.score >= s.threshold);
        all.truncate(s.limit);
        all
    }

    /// Every candidate whose best name reached the name floor, scored, best first (the
    /// evaluation reads scores below the threshold too).
    pub fn candidates(&self, q: &Query, s: &Settings) -> Vec<Match> {
        let folded: Vec<(String, Vec<String>)> = q
            .names
            .iter()
            .map(|n| (n.clone(), fold::name_words(n)))
            .filter(|(_, w)| !w.is_empty())
            .collect();
        let identifiers: Vec<String> = q
            .identifiers
            .iter()
            .map(|i| fold::identifier(i))
            .filter(|i| i.len() >= 5)
            .collect();
        let nationalities: Vec<&str> = q
            .nationalities
            .iter()
            .filter_map(|n| fold::country(n))
            .collect();
        // Candidates come by the rarer sounds of a name: a word as common as `MOHAMMED`
        // would bring a tenth of a list along. A name whose every word is common keeps its
        // rarest one.
        let common = (self.listed.len() / 50).max(COMMON_FLOOR);
        let mut ids: BTreeSet<u32> = BTreeSet::new();
        for (_, words) in &folded {
            let postings: Vec<&Vec<u32>> = candidate_keys(words)
                .iter()
                .filter_map(|k| self.by_sound.get(k))
                .collect();
            let rare: Vec<&&Vec<u32>> = postings.iter().filter(|v| v.len() <= common).collect();
            if rare.is_empty() {
                if let Some(v) = postings.iter().min_by_key(|v| v.len()) {
                    ids.extend(*v);
                }
            } else {
                for v in rare {
                    ids.extend(*v);
                }
            }
        }
        let mut by_number: BTreeSet<u32> = BTreeSet::new();
        for i in &identifiers {
            if let Some(v) = self.by_identifier.get(i) {
                by_number.extend(v);
            }
        }
        ids.extend(&by_number);
        let mut out = Vec::new();
        for n in ids {
            let l = &self.listed[n as usize];
            if l.entity.kind != EntityKind::Person {
                continue;
            }
            let mut best: Option<(score::NameScore, &str, &str)> = None;
            for (qn, qw) in &folded {
                for (ln, lw) in &l.names {
                    let sc = score::names(qw, lw);
                    if best.as_ref().is_none_or(|b| sc.score > b.0.score) {
                        best = Some((sc, qn, ln));
                    }
                }
            }
            let identifier = by_number.contains(&n);
            let Some((name, query_name, listed_name)) = best else {
                continue;
            };
            if name.score < s.name_floor && !identifier {
                continue;
            }
            let adjustments = qualify(q, &nationalities, &l.entity, s);
            let total: f64 = name.score + adjustments.iter().map(|a| a.weight).sum::<f64>();
            let score = if identifier {
                1.0
            } else {
                total.clamp(0.0, 1.0)
            };
            out.push(Match {
                entity_id: l.entity.id.clone(),
                topic: l.entity.topic,
                score: (score * 1000.0).round() / 1000.0,
                name_score: (name.score * 1000.0).round() / 1000.0,
                query_name: query_name.to_string(),
                listed_name: listed_name.to_string(),
                phonetic: name.phonetic,
                joined: name.joined,
                identifier,
                adjustments,
                entity_digest: l.digest.clone(),
            });
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out
    }
}

/// The words of a name that find candidates: the Soundex of each word long enough to
/// mean something, and of the name written together (for other spacing).
fn candidate_keys(words: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = words
        .iter()
        .filter(|w| w.len() >= MIN_KEY_WORD)
        .map(|w| score::soundex(w))
        .collect();
    if words.len() > 1 {
        keys.push(score::soundex(&words.concat()));
    }
    keys
}

fn qualify(q: &Query, nationalities: &[&str], e: &Entity, s: &Settings) -> Vec<Adjustment> {
    let mut out = Vec::new();
    let mut add = |qualifier: &str, weight: f64| {
        if weight != 0.0 {
            out.push(Adjustment {
                qualifier: qualifier.to_string(),
                weight,
            });
        }
    };
    if let (Some(d), false) = (q.birth_date, e.birth_dates.is_empty()) {
        let full = |x: &PartialDate| x.month.is_some() && x.day.is_some();
        if e.birth_dates.iter().any(|x| full(x) && full(&d) && *x == d) {
            add("birth_date_match", s.birth_date_match);
        } else if e
            .birth_dates
            .iter()
            .any(|x| x.year == d.year && !(full(x) && full(&d)))
        {
            add("birth_year_match", s.birth_year_match);
        } else if e.birth_dates.iter().all(|x| x.year.abs_diff(d.year) > 1)
            || e.birth_dates.iter().all(|x| full(x) && full(&d) && *x != d)
        {
            add("birth_date_mismatch", s.birth_date_mismatch);
        }
    }
    if !nationalities.is_empty() && !e.nationalities.is_empty() {
        if nationalities
            .iter()
            .any(|n| e.nationalities.iter().any(|x| x == n))
        {
            add("nationality_match", s.nationality_match);
        } else {
            add("nationality_mismatch", s.nationality_mismatch);
        }
    }
    if let (Some(a), Some(b)) = (q.gender, e.gender) {
        if a != b {
            add("gender_mismatch", s.gender_mismatch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, names: &[&str]) -> Entity {
        let mut e = Entity::new(id.into(), EntityKind::Person, Topic::Sanction);
        for n in names {
            e.add_name(n);
        }
        e
    }

    fn query(name: &str) -> Query {
        Query {
            names: vec![name.to_string()],
            ..Query::default()
        }
    }

    #[test]
    fn the_listed_person_is_found_by_an_alias_and_says_which() {
        let mut e = person("un:1", &["ERIC BADEGE", "Eric Badeghe"]);
        e.add_birth_date(PartialDate::year(1971));
        let idx = Index::new([e, person("un:2", &["FRANK KAKOLELE BWAMBALE"])]);
        let s = Settings::default();
        let m = idx.screen(&query("Eric Badeghe"), &s);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].entity_id, "un:1");
        assert_eq!(m[0].listed_name, "Eric Badeghe");
        assert_eq!(m[0].score, 1.0);
        assert!(idx.screen(&query("Patricia Wheeler"), &s).is_empty());
    }

    #[test]
    fn qualifiers_move_the_score_and_are_named() {
        let mut e = person("un:1", &["ERIC BADEGE"]);
        e.add_birth_date(PartialDate::parse_iso("1971-03-02").unwrap());
        e.add_nationality("Democratic Republic of the Congo");
        e.gender = Some('M');
        let idx = Index::new([e]);
        let s = Settings::default();
        let mut q = query("Eric Badege");
        let plain = idx.candidates(&q, &s)[0].score;
        q.birth_date = PartialDate::parse_iso("1985-01-01");
        q.nationalities = vec!["FR".into()];
        let m = &idx.candidates(&q, &s)[0];
        let named: Vec<&str> = m.adjustments.iter().map(|a| a.qualifier.as_str()).collect();
        assert_eq!(named, ["birth_date_mismatch", "nationality_mismatch"]);
        assert!(m.score < plain && m.score < s.threshold);
        q.birth_date = PartialDate::parse_iso("1971-03-02");
        q.nationalities = vec!["COD".into()];
        let m = &idx.candidates(&q, &s)[0];
        assert!(m.score >= plain, "{:?}", m.adjustments);
        q.gender = Some('F');
        assert!(idx.candidates(&q, &s)[0].score < m.score);
    }

    #[test]
    fn an_identifier_matches_whatever_the_name() {
        let mut e = person("ofac:1", &["SOMEONE ELSE"]);
        e.add_identifier("A1234567");
        let idx = Index::new([e]);
        let mut q = query("Totally Different");
        q.identifiers = vec!["a 123 4567".into()];
        let m = idx.screen(&q, &Settings::default());
        assert_eq!(m.len(), 1);
        assert!(m[0].identifier);
    }

    #[test]
    fn organisations_never_match_a_person() {
        let mut org = person("ofac:2", &["ERIC BADEGE"]);
        org.kind = EntityKind::Organization;
        let idx = Index::new([org]);
        assert!(idx
            .screen(&query("Eric Badege"), &Settings::default())
            .is_empty());
    }
}
