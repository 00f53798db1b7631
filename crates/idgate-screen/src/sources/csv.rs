//! A deployment's own list as CSV with a header: `id` and `name` are required; `aliases`
//! (separated by `;`), `birth_date` (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`), `nationality`,
//! `gender` (`M`/`F`), `identifiers` (`;`) and `topic` (`pep`, the default, or `sanction`)
//! are read when present. For PEP lists a deployment keeps itself.

use crate::entity::{Entity, EntityKind, PartialDate, Topic};
use crate::sources::ImportError;

pub fn read(prefix: &str, bytes: &[u8]) -> Result<Vec<Entity>, ImportError> {
    let mut rd = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = rd
        .headers()
        .map_err(|e| ImportError::malformed("csv", 1, e))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(id_col), Some(name_col)) = (col("id"), col("name")) else {
        return Err(ImportError::Malformed {
            part: "csv",
            line: 1,
            why: "the header needs `id` and `name`".into(),
        });
    };
    let optional = [
        "aliases",
        "birth_date",
        "nationality",
        "gender",
        "identifiers",
        "topic",
    ]
    .map(col);
    let mut out = Vec::new();
    for (n, row) in rd.records().enumerate() {
        let line = n + 2;
        let row = row.map_err(|e| ImportError::malformed("csv", line, e))?;
        if row.len() != headers.len() {
            return Err(ImportError::Malformed {
                part: "csv",
                line,
                why: format!("{} fields, the header has {}", row.len(), headers.len()),
            });
        }
        let get = |c: Option<usize>| c.and_then(|c| row.get(c)).map(str::trim).unwrap_or("");
        let bad = |why: &str| ImportError::Malformed {
            part: "csv",
            line,
            why: why.to_string(),
        };
        let id = get(Some(id_col));
        let name = get(Some(name_col));
        if id.is_empty() || name.is_empty() {
            return Err(bad("an empty `id` or `name`"));
        }
        let topic = match get(optional[5]) {
            "" | "pep" => Topic::Pep,
            "sanction" => Topic::Sanction,
            _ => return Err(bad("`topic` is `pep` or `sanction`")),
        };
        let mut e = Entity::new(format!("{prefix}:{id}"), EntityKind::Person, topic);
        e.add_name(name);
        for a in get(optional[0]).split(';') {
            e.add_name(a);
        }
        match get(optional[1]) {
            "" => {}
            d => e.add_birth_date(PartialDate::parse_iso(d).ok_or_else(|| bad("`birth_date`"))?),
        }
        for c in get(optional[2]).split(';').filter(|c| !c.trim().is_empty()) {
            e.add_nationality(c);
        }
        e.gender = match get(optional[3]) {
            "" => None,
            "M" | "m" => Some('M'),
            "F" | "f" => Some('F'),
            _ => return Err(bad("`gender` is M or F")),
        };
        for i in get(optional[4]).split(';') {
            e.add_identifier(i);
        }
        out.push(e);
    }
    if out.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_list_with_aliases_and_qualifiers() {
        let text = "id,name,aliases,birth_date,nationality,gender\n7,Jan Kowalski,Jan Kovalsky;J. Kowalski,1961-05-02,POL,M\n";
        let e = read("peps", text.as_bytes()).unwrap();
        assert_eq!(e[0].id, "peps:7");
        assert_eq!(e[0].topic, Topic::Pep);
        assert_eq!(e[0].names.len(), 3);
        assert_eq!(e[0].nationalities, ["PL"]);
        let bad = "id,name,birth_date\n7,Jan Kowalski,last spring\n";
        assert!(matches!(
            read("peps", bad.as_bytes()),
            Err(ImportError::Malformed { line: 2, .. })
        ));
        assert!(read("peps", b"name\nJan\n").is_err());
    }
}
