//! `idgate-eval screening`: sanctions and PEP matching measured on the shared labelled
//! queries (OpenSanctions yente's screening benchmark) against the shared list snapshots
//! (moov-io/watchman's UN consolidated XML, OFAC SDN and consolidated CSV, and OpenSanctions' US Congress
//! PEP records):
//!
//! - recall on the UN list's people as listed (untreated) and with one typing change each
//!   (treated: swapped, doubled or dropped letters, another order, punctuation), each
//!   expected at its own entity;
//! - recall on the US Congress PEPs, each expected at its own record;
//! - false positives on 2 × 1000 synthetic people who are on no list;
//! - time per screened identity.
//!
//! The baseline, measured in the same run, is the screen a platform without one would
//! write: the folded name equal to a listed name.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use idgate_screen::{
    fold, Entity, EntityKind, Files, Format, Index, PartialDate, Query, Settings, Topic,
};
use serde_json::{json, Value};

struct Row {
    full_name: String,
    birth_date: Option<PartialDate>,
    nationality: String,
    gender: Option<char>,
}

fn rows(path: &Path) -> anyhow::Result<Vec<Row>> {
    let mut rd = csv::Reader::from_path(path).with_context(|| path.display().to_string())?;
    let headers = rd.headers()?.clone();
    let col = |n: &str| headers.iter().position(|h| h == n);
    let (name, dob, nat, gender) = (
        col("full_name").context("full_name")?,
        col("date_of_birth"),
        col("nationality"),
        col("gender"),
    );
    let mut out = Vec::new();
    for r in rd.records() {
        let r = r?;
        let get = |c: Option<usize>| c.and_then(|c| r.get(c)).unwrap_or("").trim().to_string();
        out.push(Row {
            full_name: r.get(name).unwrap_or("").to_string(),
            birth_date: PartialDate::parse_iso(&get(dob)),
            nationality: get(nat),
            gender: idgate_screen::entity::gender_word(&get(gender)),
        });
    }
    Ok(out)
}

fn query(r: &Row) -> Query {
    Query {
        names: vec![r.full_name.clone()],
        birth_date: r.birth_date,
        nationalities: if r.nationality.is_empty() {
            Vec::new()
        } else {
            vec![r.nationality.clone()]
        },
        gender: r.gender,
        identifiers: Vec::new(),
    }
}

/// OpenSanctions' Senzing export (one JSON record per line) as entities: eval-only, the
/// product reads FollowTheMoney.
fn senzing(path: &Path) -> anyhow::Result<Vec<Entity>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)?;
        if v["RECORD_TYPE"] != "PERSON" {
            continue;
        }
        let mut e = Entity::new(
            format!("os:{}", v["RECORD_ID"].as_str().unwrap_or("")),
            EntityKind::Person,
            Topic::Pep,
        );
        for n in v["NAMES"].as_array().into_iter().flatten() {
            if let Some(s) = n["NAME_FULL"].as_str() {
                e.add_name(s);
            }
        }
        for d in v["DATES"].as_array().into_iter().flatten() {
            if let Some(d) = d["DATE_OF_BIRTH"].as_str().and_then(PartialDate::parse_iso) {
                e.add_birth_date(d);
            }
        }
        for c in v["COUNTRIES"].as_array().into_iter().flatten() {
            if let Some(c) = c["NATIONALITY"].as_str() {
                e.add_nationality(c);
            }
        }
        out.push(e);
    }
    Ok(out)
}

/// The entity each name is listed under (folded names equal), for the ground truth.
fn by_name(entities: &[Entity]) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for e in entities {
        for n in &e.names {
            let key = fold::name_words(n).join(" ");
            if !key.is_empty() {
                m.entry(key).or_insert_with(|| e.id.clone());
            }
        }
    }
    m
}

struct Tally {
    queries: usize,
    found: usize,
    baseline: usize,
    any_match: usize,
    micros: Vec<f64>,
    /// Matches of queries that expect none: (query name, listed name, score).
    false_matches: Vec<(String, String, f64)>,
}

fn screen_all(
    index: &Index,
    settings: &Settings,
    names: &HashMap<String, String>,
    queries: &[(Query, Option<String>)],
) -> Tally {
    let mut t = Tally {
        queries: queries.len(),
        found: 0,
        baseline: 0,
        any_match: 0,
        micros: Vec::new(),
        false_matches: Vec::new(),
    };
    for (q, expected) in queries {
        let started = Instant::now();
        let matches = index.screen(q, settings);
        t.micros.push(started.elapsed().as_secs_f64() * 1e6);
        if !matches.is_empty() {
            t.any_match += 1;
            if expected.is_none() {
                let m = &matches[0];
                t.false_matches
                    .push((m.query_name.clone(), m.listed_name.clone(), m.score));
            }
        }
        let exact = q
            .names
            .iter()
            .find_map(|n| names.get(&fold::name_words(n).join(" ")));
        match expected {
            Some(id) => {
                if matches.iter().any(|m| &m.entity_id == id) {
                    t.found += 1;
                }
                if exact == Some(id) {
                    t.baseline += 1;
                }
            }
            None => {
                if exact.is_some() {
                    t.baseline += 1;
                }
            }
        }
    }
    t
}

fn ratio(a: usize, b: usize) -> f64 {
    (a as f64 / b.max(1) as f64 * 1000.0).round() / 1000.0
}

/// The `q`-th quantile of `v` (sorted: `median` sorted it already).
fn percentile(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 * q) as usize).min(v.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
}

/// Queries with the entity each expects (none: a person on no list).
type Labelled = Vec<(Query, Option<String>)>;

/// The lists and every labelled query set, by name: positives carry the entity expected.
struct Bench {
    un: usize,
    ofac: usize,
    ofac_cons: usize,
    peps: usize,
    read_ms: f64,
    entities: Vec<Entity>,
    un_names: HashMap<String, String>,
    pep_names: HashMap<String, String>,
    all_names: HashMap<String, String>,
    unlabelled_un: usize,
    sets: Vec<(&'static str, Labelled)>,
}

fn load(testdata: &Path) -> anyhow::Result<Bench> {
    let lists = testdata.join("watchman_sanctions/test/testdata");
    let bench = testdata.join("yente_screening_benchmark/contrib");
    let read = |p: &Path| std::fs::read(p).with_context(|| p.display().to_string());
    let started = Instant::now();
    let un = idgate_screen::sources::read(
        "un",
        Format::UnXml,
        Files {
            main: &read(&lists.join("UN_consolidated.xml"))?,
            ..Files::default()
        },
    )?;
    let (sdn, alt, comments) = (
        read(&lists.join("sdn.csv"))?,
        read(&lists.join("alt.csv"))?,
        read(&lists.join("sdn_comments.csv"))?,
    );
    let ofac = idgate_screen::sources::read(
        "ofac_sdn",
        Format::OfacCsv,
        Files {
            main: &sdn,
            alt: Some(&alt),
            comments: Some(&comments),
        },
    )?;
    let (cons, cons_alt, cons_comments) = (
        read(&lists.join("cons_prim.csv"))?,
        read(&lists.join("cons_alt.csv"))?,
        read(&lists.join("cons_comments.csv"))?,
    );
    let ofac_cons = idgate_screen::sources::read(
        "ofac_cons",
        Format::OfacCsv,
        Files {
            main: &cons,
            alt: Some(&cons_alt),
            comments: Some(&cons_comments),
        },
    )?;
    let peps = senzing(&lists.join("opensanctions/us_congress_senzing.json"))?;
    let read_ms = started.elapsed().as_secs_f64() * 1000.0;
    let un_names = by_name(&un);
    let pep_names = by_name(&peps);
    let mut entities: Vec<Entity> = Vec::new();
    entities.extend(un.iter().cloned());
    entities.extend(ofac.iter().cloned());
    entities.extend(ofac_cons.iter().cloned());
    entities.extend(peps.iter().cloned());
    let all_names = by_name(&entities);

    let fixtures = bench.join("candidate_generation_benchmark/fixtures");
    let untreated = rows(&fixtures.join("positives_un_untreated.csv"))?;
    let treated = rows(&fixtures.join("positives_un_treated.csv"))?;
    // Ground truth: the UN entity whose listed name the untreated row is; rows whose name
    // the snapshot does not hold are left out (and counted).
    let truth: Vec<Option<String>> = untreated
        .iter()
        .map(|r| {
            un_names
                .get(&fold::name_words(&r.full_name).join(" "))
                .cloned()
        })
        .collect();
    let labelled = |rows: &[Row]| -> Labelled {
        rows.iter()
            .zip(&truth)
            .filter_map(|(r, t)| t.clone().map(|t| (query(r), Some(t))))
            .collect()
    };
    let mut sets = vec![
        ("un_untreated", labelled(&untreated)),
        ("un_treated", labelled(&treated)),
    ];
    // The treated rows by what the treatment changed: the name (with or without more), or
    // only the birth date.
    let changed = |pick: &dyn Fn(&Row, &Row) -> bool| -> Labelled {
        untreated
            .iter()
            .zip(&treated)
            .zip(&truth)
            .filter(|((u, t), _)| pick(u, t))
            .filter_map(|((_, t), truth)| truth.clone().map(|id| (query(t), Some(id))))
            .collect()
    };
    sets.push((
        "un_treated_name_changed",
        changed(&|u, t| u.full_name != t.full_name),
    ));
    sets.push((
        "un_treated_birth_date_only",
        changed(&|u, t| {
            u.full_name == t.full_name
                && u.birth_date != t.birth_date
                && u.nationality == t.nationality
        }),
    ));
    let congress = rows(&fixtures.join("positives_us_congress_untreated.csv"))?;
    sets.push((
        "us_congress_pep",
        congress
            .iter()
            .filter_map(|r| {
                pep_names
                    .get(&fold::name_words(&r.full_name).join(" "))
                    .map(|id| (query(r), Some(id.clone())))
            })
            .collect(),
    ));
    for (name, file) in [
        ("negatives_global", "negatives_global.csv"),
        ("negatives_us", "negatives_us.csv"),
    ] {
        let neg = rows(&bench.join("validation_report/fixtures").join(file))?;
        sets.push((name, neg.iter().map(|r| (query(r), None)).collect()));
    }
    Ok(Bench {
        un: un.len(),
        ofac: ofac.len(),
        ofac_cons: ofac_cons.len(),
        peps: peps.len(),
        read_ms,
        entities,
        un_names,
        pep_names,
        all_names,
        unlabelled_un: truth.iter().filter(|t| t.is_none()).count(),
        sets,
    })
}

pub fn evaluate(testdata: &Path, settings: &Settings) -> anyhow::Result<Value> {
    let b = load(testdata)?;
    let started = Instant::now();
    let index = Index::new(b.entities.clone());
    let index_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut out = BTreeMap::new();
    let mut pooled = Vec::new();
    for (name, queries) in &b.sets {
        let positives = !name.starts_with("negatives");
        let names = if name.starts_with("un_") {
            &b.un_names
        } else if positives {
            &b.pep_names
        } else {
            &b.all_names
        };
        let mut t = screen_all(&index, settings, names, queries);
        // Every query once: the split of the treated set repeats some.
        if !name.starts_with("un_treated_") {
            pooled.extend(&t.micros);
        }
        let mut v = json!({
            "queries": t.queries,
            "median_us": (crate::median(&mut t.micros) * 10.0).round() / 10.0,
            "p99_us": (percentile(&t.micros, 0.99) * 10.0).round() / 10.0,
        });
        if positives {
            v["recall"] = json!(ratio(t.found, t.queries));
            v["baseline_exact_name_recall"] = json!(ratio(t.baseline, t.queries));
        } else {
            v["false_positive_rate"] = json!(ratio(t.any_match, t.queries));
            v["false_positives"] = json!(t.any_match);
            // Synthetic people on no list: their names are no one's data.
            v["false_matches"] = json!(t.false_matches);
            v["baseline_exact_name_false_positive_rate"] = json!(ratio(t.baseline, t.queries));
        }
        out.insert(name.to_string(), v);
    }
    Ok(json!({
        "lists": {
            "un_entities": b.un,
            "ofac_sdn_entities": b.ofac,
            "ofac_consolidated_entities": b.ofac_cons,
            "entities": b.entities.len(),
            "us_congress_peps": b.peps,
            "read_ms": b.read_ms.round(),
            "index_ms": index_ms.round(),
        },
        "un_positives_without_a_listed_name": b.unlabelled_un,
        "settings": serde_json::to_value(settings)?,
        "watchman_cases": crate::watchman::evaluate(testdata, settings.threshold)?,
        "all_queries": {
            "queries": pooled.len(),
            "median_us": (crate::median(&mut pooled) * 10.0).round() / 10.0,
            "p99_us": (percentile(&pooled, 0.99) * 10.0).round() / 10.0,
        },
        "results": out,
    }))
}

/// Writes `entities.jsonl` (every entity as the index holds it) and `queries.jsonl` (every
/// labelled query: its set, names, birth date, nationality, gender, expected entity).
pub fn export(testdata: &Path, dir: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    let b = load(testdata)?;
    std::fs::create_dir_all(dir)?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("entities.jsonl"))?);
    for e in &b.entities {
        writeln!(f, "{}", serde_json::to_string(e)?)?;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("queries.jsonl"))?);
    for (set, queries) in &b.sets {
        for (q, expected) in queries {
            let line = json!({
                "set": set,
                "names": q.names,
                "birth_date": q.birth_date,
                "nationalities": q.nationalities,
                "gender": q.gender.map(String::from),
                "expected": expected,
            });
            writeln!(f, "{line}")?;
        }
    }
    Ok(())
}

/// A small deterministic generator (xorshift), so that a grown list is the same each run.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The lists grown to `target` entities: each new person is made of the words of listed
/// people's names (each word taken from another person, one letter of one word changed),
/// with another listed person's birth dates and nationalities, so that the grown list has
/// the vocabulary and the name shapes of the real ones without repeating any person.
fn grow(entities: &[Entity], target: usize) -> Vec<Entity> {
    let people: Vec<&Entity> = entities
        .iter()
        .filter(|e| e.kind == EntityKind::Person && !e.names.is_empty())
        .collect();
    // Each person's first name's words, and how many words each of its names has.
    let first: Vec<Vec<String>> = people
        .iter()
        .map(|p| fold::name_words(&p.names[0]))
        .collect();
    let shapes: Vec<Vec<usize>> = people
        .iter()
        .map(|p| p.names.iter().map(|n| fold::name_words(n).len()).collect())
        .collect();
    let mut out = entities.to_vec();
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let letters = b"ABCDEFGHIJKLMNOPRSTUVWYZ";
    while out.len() < target && !people.is_empty() {
        let shape = rng.below(people.len());
        let mut e = Entity::new(
            format!("grown:{}", out.len()),
            EntityKind::Person,
            people[shape].topic,
        );
        for &len in &shapes[shape] {
            let mut words: Vec<String> = (0..len)
                .filter_map(|_| {
                    let w = &first[rng.below(first.len())];
                    w.get(rng.below(w.len().max(1))).cloned()
                })
                .collect();
            if let Some(w) = words.last_mut() {
                let mut b = std::mem::take(w).into_bytes();
                let at = rng.below(b.len());
                b[at] = letters[rng.below(letters.len())];
                *w = String::from_utf8(b).unwrap_or_default();
            }
            e.add_name(&words.join(" "));
        }
        let q = people[rng.below(people.len())];
        for d in &q.birth_dates {
            e.add_birth_date(*d);
        }
        for n in &q.nationalities {
            e.add_nationality(n);
        }
        e.gender = q.gender;
        out.push(e);
    }
    out
}

/// The resident memory of this process, in MB (Linux; 0 elsewhere).
fn resident_mb() -> f64 {
    crate::status_mb("self", "VmRSS")
}

/// How screening time grows with the lists: the lists grown to each size, the index built
/// and every labelled query screened; the real lists' own size is the baseline.
pub fn growth(testdata: &Path, settings: &Settings, sizes: &[usize]) -> anyhow::Result<Value> {
    let b = load(testdata)?;
    let mut sizes = sizes.to_vec();
    sizes.insert(0, b.entities.len());
    let mut out = Vec::new();
    for n in sizes {
        let entities = grow(&b.entities, n);
        let before = resident_mb();
        let started = Instant::now();
        let index = Index::new(entities);
        let index_s = started.elapsed().as_secs_f64();
        let index_mb = resident_mb() - before;
        let mut micros = Vec::new();
        let mut recall = BTreeMap::new();
        for (name, queries) in &b.sets {
            let names = if name.starts_with("un_") {
                &b.un_names
            } else {
                &b.pep_names
            };
            let t = screen_all(&index, settings, names, queries);
            micros.extend(&t.micros);
            if name.starts_with("negatives") {
                recall.insert(format!("{name}_false_positives"), json!(t.any_match));
            } else {
                recall.insert(format!("{name}_recall"), json!(ratio(t.found, t.queries)));
            }
        }
        out.push(json!({
            "entities": index.len(),
            "index_s": (index_s * 100.0).round() / 100.0,
            "index_mb": index_mb,
            "queries": micros.len(),
            "median_us": (crate::median(&mut micros) * 10.0).round() / 10.0,
            "p99_us": (percentile(&micros, 0.99) * 10.0).round() / 10.0,
            "results": recall,
        }));
    }
    Ok(json!({ "candidates": settings.candidates, "growth": out }))
}
