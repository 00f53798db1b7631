//! OpenSanctions FollowTheMoney entities, one JSON object per line (`entities.ftm.json`),
//! for operators who hold its licence. Entities topped `sanction` are sanctions, those
//! topped `role.pep` or `role.rca` politically exposed; others (debarments, crime, ...)
//! are not screened for. A line that is no JSON object (a file cut short) refuses the file.

use serde::Deserialize;
use std::collections::HashMap;

use crate::entity::{gender_word, Entity, EntityKind, PartialDate, Topic};
use crate::sources::ImportError;

#[derive(Deserialize)]
struct Line {
    id: String,
    schema: String,
    #[serde(default)]
    properties: HashMap<String, Vec<serde_json::Value>>,
}

pub fn read(bytes: &[u8]) -> Result<Vec<Entity>, ImportError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ImportError::Malformed {
        part: "jsonl",
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
        why: "not UTF-8".into(),
    })?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let l: Line = serde_json::from_str(line).map_err(|e| ImportError::Malformed {
            part: "jsonl",
            line: n + 1,
            why: e.to_string(),
        })?;
        let values = |key: &str| -> Vec<String> {
            l.properties
                .get(key)
                .map(|v| {
                    v.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let topics = values("topics");
        let topic = if topics.iter().any(|t| t == "sanction") {
            Topic::Sanction
        } else if topics.iter().any(|t| t == "role.pep" || t == "role.rca") {
            Topic::Pep
        } else {
            continue;
        };
        let kind = match l.schema.as_str() {
            "Person" => EntityKind::Person,
            "Organization" | "Company" | "LegalEntity" | "PublicBody" => EntityKind::Organization,
            "Vessel" => EntityKind::Vessel,
            "Airplane" => EntityKind::Aircraft,
            _ => EntityKind::Other,
        };
        let mut e = Entity::new(format!("ftm:{}", l.id), kind, topic);
        for key in ["name", "alias", "previousName"] {
            for n in values(key) {
                e.add_name(&n);
            }
        }
        if e.names.is_empty() {
            continue;
        }
        for d in values("birthDate") {
            if let Some(d) = PartialDate::parse_iso(&d) {
                e.add_birth_date(d);
            }
        }
        for c in values("nationality").iter().chain(&values("citizenship")) {
            e.add_nationality(c);
        }
        e.gender = values("gender").first().and_then(|g| gender_word(g));
        for key in ["passportNumber", "idNumber"] {
            for n in values(key) {
                e.add_identifier(&n);
            }
        }
        e.programs = values("program");
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
    fn sanctions_and_peps_are_kept_with_their_names_and_dates() {
        let lines = concat!(
            r#"{"id": "a", "schema": "Person", "properties": {"name": ["Maria OSETROVA"], "alias": ["Мария Осетрова"], "birthDate": ["1988-01-07"], "nationality": ["ru"], "gender": ["female"], "topics": ["sanction"]}}"#,
            "\n",
            r#"{"id": "b", "schema": "Person", "properties": {"name": ["Some Minister"], "topics": ["role.pep"]}}"#,
            "\n",
            r#"{"id": "c", "schema": "Person", "properties": {"name": ["Only Debarred"], "topics": ["debarment"]}}"#,
            "\n"
        );
        let e = read(lines.as_bytes()).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].id, "ftm:a");
        assert_eq!(e[0].names, ["Maria OSETROVA", "Мария Осетрова"]);
        assert_eq!(e[0].nationalities, ["RU"]);
        assert_eq!(e[0].gender, Some('F'));
        assert_eq!(e[1].topic, Topic::Pep);
        let cut = &lines[..lines.len() - 20];
        assert!(matches!(
            read(cut.as_bytes()),
            Err(ImportError::Malformed { line: 3, .. })
        ));
    }
}
