//! OFAC's legacy CSV files: the SDN list (`sdn.csv`, `alt.csv`, `add.csv`,
//! `sdn_comments.csv`) and the consolidated non-SDN list in the same layout (`cons_prim.csv`,
//! `cons_alt.csv`, ...). No header; `-0- ` stands for empty. Birth dates, nationalities,
//! gender and document numbers are written in the remarks (`DOB 10 Dec 1948; nationality
//! Iran; Passport 1084010 (Egypt)`), continued in the comments file when long.

use std::collections::HashMap;

use crate::entity::{gender_word, Entity, EntityKind, PartialDate, Topic};
use crate::sources::ImportError;

/// The main file's rows have exactly this many fields.
const SDN_FIELDS: usize = 12;

fn field(s: &str) -> Option<&str> {
    let t = s.trim();
    (t != "-0-" && !t.is_empty()).then_some(t)
}

fn reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
}

/// The names OFAC gives the alias and comment files published beside a main file:
/// `alt.csv` and `sdn_comments.csv` beside `sdn.csv`, `cons_alt.csv` and
/// `cons_comments.csv` beside the consolidated list's `cons_prim.csv`.
pub fn companion_names(main_name: &str) -> (&'static str, &'static str) {
    if main_name.starts_with("cons_") {
        ("cons_alt.csv", "cons_comments.csv")
    } else {
        ("alt.csv", "sdn_comments.csv")
    }
}

/// Reads a main file (`sdn.csv` or `cons_prim.csv`) with its alias and comment files;
/// `prefix` names the list in the entity identifiers (`ofac_sdn`).
pub fn read(
    prefix: &str,
    main: &[u8],
    alt: Option<&[u8]>,
    comments: Option<&[u8]>,
) -> Result<Vec<Entity>, ImportError> {
    let mut more: HashMap<String, String> = HashMap::new();
    if let Some(bytes) = comments {
        for (n, row) in reader(bytes).records().enumerate() {
            let row = row.map_err(|e| ImportError::malformed("comments", n + 1, e))?;
            if let (Some(id), Some(text)) = (row.get(0).and_then(field), row.get(1)) {
                more.entry(id.to_string())
                    .or_default()
                    .push_str(&format!(" {text}"));
            }
        }
    }
    let mut out: Vec<Entity> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for (n, row) in reader(main).records().enumerate() {
        let row = row.map_err(|e| ImportError::malformed("main", n + 1, e))?;
        if row.len() == 1
            && row
                .get(0)
                .is_some_and(|s| s.trim().is_empty() || s == "\u{1a}")
        {
            continue; // the end-of-file marker OFAC's files carry
        }
        if row.len() != SDN_FIELDS {
            return Err(ImportError::Malformed {
                part: "main",
                line: n + 1,
                why: format!("{} fields, expected {SDN_FIELDS}", row.len()),
            });
        }
        let id = row[0].trim();
        if id.parse::<u64>().is_err() {
            return Err(ImportError::Malformed {
                part: "main",
                line: n + 1,
                why: "the entry number is not a number".into(),
            });
        }
        let kind = match field(&row[2]).map(str::to_ascii_lowercase).as_deref() {
            Some("individual") => EntityKind::Person,
            Some("vessel") => EntityKind::Vessel,
            Some("aircraft") => EntityKind::Aircraft,
            _ => EntityKind::Organization,
        };
        let mut e = Entity::new(format!("{prefix}:{id}"), kind, Topic::Sanction);
        let name = field(&row[1]).ok_or_else(|| ImportError::Malformed {
            part: "main",
            line: n + 1,
            why: "no name".into(),
        })?;
        e.add_name(&reorder(name, kind));
        if let Some(p) = field(&row[3]) {
            e.programs = p
                .split(']')
                .map(|s| s.trim_matches(|c: char| c == '[' || c.is_whitespace()))
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
        }
        let mut remarks = field(&row[11]).unwrap_or("").to_string();
        if let Some(m) = more.get(id) {
            remarks.push_str(m);
        }
        read_remarks(&mut e, &remarks);
        at.insert(id.to_string(), out.len());
        out.push(e);
    }
    if let Some(bytes) = alt {
        for (n, row) in reader(bytes).records().enumerate() {
            let row = row.map_err(|e| ImportError::malformed("alt", n + 1, e))?;
            if row.len() == 1 {
                continue;
            }
            if row.len() != 5 {
                return Err(ImportError::Malformed {
                    part: "alt",
                    line: n + 1,
                    why: format!("{} fields, expected 5", row.len()),
                });
            }
            let Some(&i) = at.get(row[0].trim()) else {
                continue; // an alias of an entry the main file no longer has
            };
            if let Some(name) = field(&row[3]) {
                let kind = out[i].kind;
                out[i].add_name(&reorder(name, kind));
            }
        }
    }
    if out.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(out)
}

/// OFAC writes people `FAMILY, Given`; the given name goes first again.
fn reorder(name: &str, kind: EntityKind) -> String {
    match (kind, name.split_once(", ")) {
        (EntityKind::Person, Some((family, given))) if !given.contains(',') => {
            format!("{given} {family}")
        }
        _ => name.to_string(),
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// `10 Dec 1948`, `Dec 1948`, `1948`, `circa 1948`, `1960 to 1962`.
pub(crate) fn ofac_dates(s: &str) -> Vec<PartialDate> {
    let words: Vec<&str> = s
        .split_whitespace()
        .filter(|w| !w.eq_ignore_ascii_case("circa"))
        .collect();
    let year = |w: &str| {
        w.trim_end_matches('.')
            .parse::<u16>()
            .ok()
            .filter(|y| (1800..=2200).contains(y))
    };
    let month = |w: &str| {
        MONTHS
            .iter()
            .position(|m| w.to_ascii_lowercase().starts_with(m))
            .map(|i| i as u8 + 1)
    };
    match words.as_slice() {
        [a, to, b] if to.eq_ignore_ascii_case("to") => match (year(a), year(b)) {
            (Some(a), Some(b)) if a <= b && b - a <= 10 => (a..=b).map(PartialDate::year).collect(),
            _ => Vec::new(),
        },
        [d, m, y] => match (d.parse::<u8>().ok(), month(m), year(y)) {
            (Some(d), Some(m), Some(y)) if (1..=31).contains(&d) => vec![PartialDate {
                year: y,
                month: Some(m),
                day: Some(d),
            }],
            _ => Vec::new(),
        },
        [m, y] => match (month(m), year(y)) {
            (Some(m), Some(y)) => vec![PartialDate {
                year: y,
                month: Some(m),
                day: None,
            }],
            _ => Vec::new(),
        },
        [y] => year(y).map(PartialDate::year).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// The number before an optional `(Country)`.
fn number(s: &str) -> &str {
    s.split('(').next().unwrap_or("").trim()
}

fn read_remarks(e: &mut Entity, remarks: &str) {
    for part in remarks.split(';').map(|p| p.trim().trim_end_matches('.')) {
        let (head, rest) = part.split_once(' ').unwrap_or((part, ""));
        match head {
            "DOB" => {
                for d in ofac_dates(rest) {
                    e.add_birth_date(d);
                }
            }
            "nationality" | "citizen" => e.add_nationality(rest.trim()),
            "Gender" => e.gender = gender_word(rest).or(e.gender),
            "Passport" => e.add_identifier(number(rest)),
            "National" if rest.starts_with("ID No. ") => {
                e.add_identifier(number(&rest["ID No. ".len()..]))
            }
            "Cedula" if rest.starts_with("No. ") => e.add_identifier(number(&rest["No. ".len()..])),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remarks_give_dates_nationality_gender_and_numbers() {
        let mut e = Entity::new("x".into(), EntityKind::Person, Topic::Sanction);
        read_remarks(
            &mut e,
            "DOB 10 Dec 1948; DOB 1950 to 1951; POB Cairo, Egypt; nationality Egypt; Gender Male; Passport 1084010 (Egypt); National ID No. 781005202108 (Syria).",
        );
        let dates: Vec<String> = e.birth_dates.iter().map(|d| d.to_string()).collect();
        assert_eq!(dates, ["1948-12-10", "1950", "1951"]);
        assert_eq!(e.nationalities, ["EG"]);
        assert_eq!(e.gender, Some('M'));
        assert_eq!(e.identifiers, ["1084010", "781005202108"]);
    }

    #[test]
    fn people_get_their_given_name_first_and_aliases_join() {
        let main = b"587,\"CRUZ, Juan M. de la\",\"individual\",\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 1950.\"\n306,\"BANCO NACIONAL DE CUBA\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n";
        let alt = b"306,220,\"aka\",\"NATIONAL BANK OF CUBA\",-0- \n587,221,\"aka\",\"CRUZ, Juanito\",-0- \n";
        let e = read("ofac_sdn", main, Some(alt), None).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].id, "ofac_sdn:587");
        assert_eq!(e[0].names, ["Juan M. de la CRUZ", "Juanito CRUZ"]);
        assert_eq!(e[0].kind, EntityKind::Person);
        assert_eq!(e[1].kind, EntityKind::Organization);
        assert_eq!(
            e[1].names,
            ["BANCO NACIONAL DE CUBA", "NATIONAL BANK OF CUBA"]
        );
    }

    #[test]
    fn a_cut_or_misshapen_file_is_refused_whole() {
        let cut = b"587,\"CRUZ, Juan\",\"individual\",\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n899,\"GUTIERREZ";
        assert!(read("ofac_sdn", cut, None, None).is_err());
        let short = b"587,\"CRUZ, Juan\",\"individual\"\n";
        assert!(matches!(
            read("ofac_sdn", short, None, None),
            Err(ImportError::Malformed { line: 1, .. })
        ));
        assert!(matches!(
            read("ofac_sdn", b"", None, None),
            Err(ImportError::Empty)
        ));
    }
}
