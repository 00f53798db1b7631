//! Screening one identity against the listed entities: candidates by the sound of their
//! words, every name of a candidate scored against every name the identity has, birth date,
//! nationality and gender as qualifiers, passport and identity numbers as exact matches.
//! Each match says why.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::entity::{Entity, EntityKind, PartialDate, Topic};

mod words;
use crate::{fold, score};
use words::{Listed, ListedName, NumberMap, QueryName, QueryWord, Scores, Word};

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
    /// Candidates scored per name of the identity: the people who share the most of its
    /// sounds, each sound weighed by its rarity (as a blocking index hands a matcher its
    /// best candidates). More finds more misspelt names among many namesakes, slower.
    pub candidates: usize,
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
            candidates: 50,
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

/// Every entity of the active list versions, ready to screen against.
pub struct Index {
    listed: Vec<Listed>,
    words: Vec<Word>,
    /// Soundex of a word → the people with a name holding it, in ascending order.
    by_sound: HashMap<[u8; 4], Vec<u32>>,
    by_identifier: HashMap<String, Vec<u32>>,
    people: usize,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("entities", &self.listed.len())
            .finish()
    }
}

/// A sound shared by more people than this (or a fiftieth of the list) is common: it
/// brings no candidates of its own, it only ranks those the rarer sounds brought.
const COMMON_FLOOR: usize = 40;

/// However long the lists, a sound shared by more people than this is common.
const COMMON_CEILING: usize = 2_000;

/// Words shorter than this say too little to find candidates by.
const MIN_KEY_WORD: usize = 3;

impl Index {
    pub fn new(entities: impl IntoIterator<Item = Entity>) -> Self {
        let mut index = Index {
            listed: Vec::new(),
            words: Vec::new(),
            by_sound: HashMap::new(),
            by_identifier: HashMap::new(),
            people: 0,
        };
        let mut word_at: HashMap<String, u32> = HashMap::new();
        for entity in entities {
            let n = index.listed.len() as u32;
            let mut names = Vec::new();
            let mut keys = BTreeSet::new();
            for name in &entity.names {
                let words = fold::name_words(name);
                if words.is_empty() {
                    continue;
                }
                keys.extend(candidate_keys(&words));
                let joined = words.concat().into_boxed_str();
                let ids: Vec<u32> = words
                    .into_iter()
                    .map(|w| {
                        *word_at.entry(w).or_insert_with_key(|w| {
                            index.words.push(Word {
                                text: w.clone().into_boxed_str(),
                                sound: score::sound(w),
                                letters: score::letters(w),
                                weight: score::weight(w),
                            });
                            (index.words.len() - 1) as u32
                        })
                    })
                    .collect();
                let weights = ids
                    .iter()
                    .map(|&w: &u32| index.words[w as usize].weight)
                    .collect();
                names.push(ListedName {
                    name: name.clone(),
                    words: ids,
                    weights,
                    joined_letters: score::letters(&joined),
                    joined,
                });
            }
            // Only people are screened against (an identity is a person).
            if entity.kind == EntityKind::Person {
                index.people += 1;
                for k in keys {
                    index.by_sound.entry(k).or_default().push(n);
                }
                for id in &entity.identifiers {
                    index.by_identifier.entry(id.clone()).or_default().push(n);
                }
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

    /// The people a name's sounds lead to, the best `max` of them: each shared
    /// sound counts by its rarity. Sounds shared by many people only rank the people the
    /// rarer ones brought; a name whose every sound is common takes the people of its
    /// rarest sound, ranked by the others.
    fn block(&self, words: &[QueryWord], max: usize, out: &mut NumberMap<f64>) {
        let common = (self.people / 50).clamp(COMMON_FLOOR, COMMON_CEILING);
        let mut postings: Vec<&Vec<u32>> = candidate_sounds(words)
            .iter()
            .filter_map(|k| self.by_sound.get(k))
            .collect();
        postings.sort_by_key(|p| p.len());
        postings.dedup_by(|a, b| std::ptr::eq(*a, *b));
        let rarity = |p: &Vec<u32>| ((self.people as f64 + 1.0) / p.len() as f64).ln();
        let rare = postings.iter().take_while(|p| p.len() <= common).count();
        // The people the rare sounds bring (or the rarest common one), each with the sum of
        // its sounds' rarities: postings are sorted, so runs of one person add up.
        let bringing = &postings[..rare.max(1).min(postings.len())];
        let mut brought: Vec<(u32, f64)> =
            Vec::with_capacity(bringing.iter().map(|p| p.len()).sum());
        for p in bringing {
            let w = rarity(p);
            brought.extend(p.iter().map(|&n| (n, w)));
        }
        brought.sort_unstable_by_key(|&(n, _)| n);
        let mut ranked: Vec<(u32, f64)> = Vec::with_capacity(brought.len());
        for (n, w) in brought {
            match ranked.last_mut() {
                Some(last) if last.0 == n => last.1 += w,
                _ => ranked.push((n, w)),
            }
        }
        for p in postings.iter().skip(rare.max(1)) {
            let w = rarity(p);
            for (n, t) in ranked.iter_mut() {
                if p.binary_search(n).is_ok() {
                    *t += w;
                }
            }
        }
        if ranked.len() > max.max(1) {
            let order = |a: &(u32, f64), b: &(u32, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
            ranked.select_nth_unstable_by(max.max(1) - 1, order);
            ranked.truncate(max.max(1));
        }
        for (n, w) in ranked {
            let t = out.entry(n).or_default();
            *t = t.max(w);
        }
    }

    /// Every candidate whose best name reached the name floor, scored, best first (the
    /// evaluation reads scores below the threshold too).
    pub fn candidates(&self, q: &Query, s: &Settings) -> Vec<Match> {
        let mut flat: Vec<QueryWord> = Vec::new();
        let mut names: Vec<(QueryName<'_>, std::ops::Range<usize>)> = Vec::new();
        for n in &q.names {
            let words = fold::name_words(n);
            if words.is_empty() {
                continue;
            }
            let joined = words.concat();
            let start = flat.len();
            let qw: Vec<QueryWord> = words
                .into_iter()
                .map(|w| QueryWord {
                    sound: score::sound(&w),
                    letters: score::letters(&w),
                    weight: score::weight(&w),
                    text: w,
                })
                .collect();
            flat.extend(qw.iter().map(|w| QueryWord {
                text: w.text.clone(),
                sound: w.sound,
                letters: w.letters,
                weight: w.weight,
            }));
            names.push((
                QueryName {
                    name: n,
                    words: qw,
                    joined_letters: score::letters(&joined),
                    joined,
                },
                start..flat.len(),
            ));
        }
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
        let mut ids: NumberMap<f64> = NumberMap::default();
        for (name, _) in &names {
            self.block(&name.words, s.candidates, &mut ids);
        }
        let mut by_number: BTreeSet<u32> = BTreeSet::new();
        for i in &identifiers {
            if let Some(v) = self.by_identifier.get(i) {
                by_number.extend(v);
            }
        }
        let mut ids: Vec<u32> = ids.into_keys().chain(by_number.iter().copied()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut scores = Scores::new(&self.words, &flat);
        let q_weights: Vec<Vec<usize>> = names
            .iter()
            .map(|(n, _)| n.words.iter().map(|w| w.weight).collect())
            .collect();
        let mut rows: Vec<usize> = Vec::new();
        let mut out = Vec::new();
        for n in ids {
            let l = &self.listed[n as usize];
            let mut best: Option<(score::NameScore, &str, &str)> = None;
            for ((qn, range), qw) in names.iter().zip(&q_weights) {
                for ln in &l.names {
                    rows.clear();
                    rows.extend(ln.words.iter().map(|&w| scores.row(w)));
                    // No pair of words alike: nothing to pair.
                    let any = rows.iter().any(|&r| {
                        scores.rows[r + range.start..r + range.end]
                            .iter()
                            .any(|p| p.0 > 0.0)
                    });
                    let (paired, phonetic) = if any {
                        score::best_pairs(qw, &ln.weights, |i, j| {
                            scores.rows[rows[j] + range.start + i]
                        })
                    } else {
                        (0.0, false)
                    };
                    let joined = if qn.words.len() != ln.words.len() {
                        score::joined_counted(
                            &qn.joined,
                            &ln.joined,
                            &qn.joined_letters,
                            &ln.joined_letters,
                        )
                    } else {
                        0.0
                    };
                    let sc = score::choose(paired, phonetic, joined);
                    if best.as_ref().is_none_or(|b| sc.score > b.0.score) {
                        best = Some((sc, qn.name, &ln.name));
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

/// The sounds of a name that find candidates: the Soundex of each word long enough to
/// mean something, and of the name written together (for other spacing).
fn candidate_keys(words: &[String]) -> Vec<[u8; 4]> {
    let mut keys: Vec<[u8; 4]> = words
        .iter()
        .filter(|w| w.len() >= MIN_KEY_WORD)
        .map(|w| score::sound(w))
        .collect();
    if words.len() > 1 {
        keys.push(score::sound(&words.concat()));
    }
    keys.retain(|k| k[0] != 0);
    keys
}

/// [`candidate_keys`] of a query's words.
fn candidate_sounds(words: &[QueryWord]) -> Vec<[u8; 4]> {
    let mut keys: Vec<[u8; 4]> = words
        .iter()
        .filter(|w| w.text.len() >= MIN_KEY_WORD)
        .map(|w| w.sound)
        .collect();
    if words.len() > 1 {
        let joined: String = words.iter().map(|w| w.text.as_str()).collect();
        keys.push(score::sound(&joined));
    }
    keys.retain(|k| k[0] != 0);
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
mod tests;
