//! The UN Security Council consolidated list (XML, `CONSOLIDATED_LIST` of `INDIVIDUAL` and
//! `ENTITY` records). A file that ends before its root element closes is refused.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::entity::{gender_word, Entity, EntityKind, PartialDate, Topic};
use crate::sources::{line_at, ImportError};

#[derive(Default)]
struct Record {
    kind: Option<EntityKind>,
    id: String,
    name_parts: Vec<String>,
    original: String,
    aliases: Vec<String>,
    gender: Option<char>,
    program: String,
    nationalities: Vec<String>,
    dates: Vec<PartialDate>,
    documents: Vec<String>,
    // The birth date element being read: YEAR, DATE, FROM_YEAR, TO_YEAR.
    dob: Dob,
}

#[derive(Default)]
struct Dob {
    date: Option<PartialDate>,
    year: Option<u16>,
    from: Option<u16>,
    to: Option<u16>,
}

impl Record {
    fn finish_dob(&mut self) {
        let dob = std::mem::take(&mut self.dob);
        if let Some(d) = dob.date {
            self.dates.push(d);
        } else if let Some(y) = dob.year {
            self.dates.push(PartialDate::year(y));
        } else if let (Some(a), Some(b)) = (dob.from, dob.to) {
            if a <= b && b - a <= 10 {
                self.dates.extend((a..=b).map(PartialDate::year));
            }
        }
    }

    fn into_entity(self) -> Entity {
        let kind = self.kind.unwrap_or(EntityKind::Other);
        let mut e = Entity::new(format!("un:{}", self.id), kind, Topic::Sanction);
        e.add_name(&self.name_parts.join(" "));
        e.add_name(&self.original);
        for a in &self.aliases {
            e.add_name(a);
        }
        e.gender = self.gender;
        if !self.program.is_empty() {
            e.programs.push(self.program);
        }
        for n in &self.nationalities {
            e.add_nationality(n);
        }
        for d in self.dates {
            e.add_birth_date(d);
        }
        for d in &self.documents {
            e.add_identifier(d);
        }
        e
    }
}

pub fn read(xml: &[u8]) -> Result<Vec<Entity>, ImportError> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut record: Option<Record> = None;
    let mut out = Vec::new();
    let mut root_closed = false;
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| ImportError::Malformed {
                part: "xml",
                line: line_at(xml, position as usize),
                why: e.to_string(),
            })?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if name == "INDIVIDUAL" || name == "ENTITY" {
                    record = Some(Record {
                        kind: Some(if name == "INDIVIDUAL" {
                            EntityKind::Person
                        } else {
                            EntityKind::Organization
                        }),
                        ..Record::default()
                    });
                }
                path.push(name);
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                if name == "INDIVIDUAL_DATE_OF_BIRTH" {
                    if let Some(r) = record.as_mut() {
                        r.finish_dob();
                    }
                }
                if name == "INDIVIDUAL" || name == "ENTITY" {
                    if let Some(r) = record.take() {
                        if r.id.is_empty() || r.name_parts.is_empty() {
                            return Err(ImportError::Malformed {
                                part: "xml",
                                line: line_at(xml, reader.buffer_position() as usize),
                                why: "a record without DATAID or name".into(),
                            });
                        }
                        out.push(r.into_entity());
                    }
                }
                if path.is_empty() && name == "CONSOLIDATED_LIST" {
                    root_closed = true;
                }
            }
            Event::Text(t) => {
                let text = t
                    .unescape()
                    .map_err(|e| ImportError::Malformed {
                        part: "xml",
                        line: line_at(xml, position as usize),
                        why: e.to_string(),
                    })?
                    .trim()
                    .to_string();
                if let Some(r) = record.as_mut() {
                    take_text(r, &path, text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !root_closed {
        return Err(ImportError::Truncated);
    }
    if out.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(out)
}

fn take_text(r: &mut Record, path: &[String], text: String) {
    if text.is_empty() {
        return;
    }
    let n = path.len();
    let last = path[n - 1].as_str();
    let parent = if n >= 2 { path[n - 2].as_str() } else { "" };
    match (parent, last) {
        ("INDIVIDUAL" | "ENTITY", "DATAID") => r.id = text,
        ("INDIVIDUAL" | "ENTITY", "FIRST_NAME" | "SECOND_NAME" | "THIRD_NAME" | "FOURTH_NAME") => {
            r.name_parts.push(text)
        }
        ("INDIVIDUAL" | "ENTITY", "NAME_ORIGINAL_SCRIPT") => r.original = text,
        ("INDIVIDUAL" | "ENTITY", "UN_LIST_TYPE") => r.program = text,
        ("INDIVIDUAL", "GENDER") => r.gender = gender_word(&text),
        ("NATIONALITY", "VALUE") => r.nationalities.push(text),
        ("INDIVIDUAL_ALIAS" | "ENTITY_ALIAS", "ALIAS_NAME") => r.aliases.push(text),
        ("INDIVIDUAL_DATE_OF_BIRTH", "DATE") => r.dob.date = PartialDate::parse_iso(&text),
        ("INDIVIDUAL_DATE_OF_BIRTH", "YEAR") => r.dob.year = text.parse().ok(),
        ("INDIVIDUAL_DATE_OF_BIRTH", "FROM_YEAR") => r.dob.from = text.parse().ok(),
        ("INDIVIDUAL_DATE_OF_BIRTH", "TO_YEAR") => r.dob.to = text.parse().ok(),
        ("INDIVIDUAL_DOCUMENT", "NUMBER") => r.documents.push(text),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST>
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>6907993</DATAID>
      <FIRST_NAME>ERIC</FIRST_NAME>
      <SECOND_NAME>BADEGE</SECOND_NAME>
      <UN_LIST_TYPE>DRC</UN_LIST_TYPE>
      <GENDER>Male</GENDER>
      <NATIONALITY><VALUE>Democratic Republic of the Congo</VALUE></NATIONALITY>
      <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Eric Badeghe</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><YEAR>1971</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1972</FROM_YEAR><TO_YEAR>1973</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>OB 0123456</NUMBER></INDIVIDUAL_DOCUMENT>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY><DATAID>1</DATAID><FIRST_NAME>SOME FRONT &amp; CO</FIRST_NAME></ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>
"#;

    #[test]
    fn individuals_and_entities_with_what_qualifies_them() {
        let e = read(SAMPLE.as_bytes()).unwrap();
        assert_eq!(e.len(), 2);
        let p = &e[0];
        assert_eq!(p.id, "un:6907993");
        assert_eq!(p.names, ["ERIC BADEGE", "Eric Badeghe"]);
        assert_eq!(p.nationalities, ["CD"]);
        assert_eq!(p.gender, Some('M'));
        assert_eq!(p.programs, ["DRC"]);
        let years: Vec<u16> = p.birth_dates.iter().map(|d| d.year).collect();
        assert_eq!(years, [1971, 1972, 1973]);
        assert_eq!(p.identifiers, ["OB0123456"]);
        assert_eq!(e[1].kind, EntityKind::Organization);
        assert_eq!(e[1].names, ["SOME FRONT & CO"]);
    }

    #[test]
    fn a_file_cut_short_is_refused() {
        let cut = &SAMPLE[..SAMPLE.find("<ENTITIES>").unwrap()];
        assert!(matches!(read(cut.as_bytes()), Err(ImportError::Truncated)));
        assert!(read(b"<CONSOLIDATED_LIST><INDIVIDUAL></CONSOLIDATED_LIST>").is_err());
    }
}
