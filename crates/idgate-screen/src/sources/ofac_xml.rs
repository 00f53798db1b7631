//! OFAC's SDN list as XML (`sdn.xml`, and the consolidated list's `consolidated.xml` in the
//! same schema): `sdnList` of `sdnEntry`, each with its names, `akaList`, `idList`,
//! `nationalityList`, `citizenshipList` and `dateOfBirthList`. An entry's `uid` is the entry
//! number of the CSV files, so a source can move from one format to the other and keep its
//! entities (and a reviewer's clearances). A file whose root does not close, or that holds
//! fewer entries than its `Record_Count`, is refused.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::entity::{gender_word, Entity, EntityKind, Topic};
use crate::sources::{line_at, ofac, ImportError};

#[derive(Default)]
struct Name {
    first: String,
    last: String,
}

impl Name {
    fn whole(&self) -> String {
        format!("{} {}", self.first, self.last).trim().to_string()
    }
}

#[derive(Default)]
struct Id {
    kind: String,
    number: String,
}

#[derive(Default)]
struct Record {
    uid: String,
    kind: String,
    name: Name,
    aliases: Vec<Name>,
    alias: Option<Name>,
    programs: Vec<String>,
    ids: Vec<Id>,
    id: Option<Id>,
    countries: Vec<String>,
    dates: Vec<String>,
}

/// The `idType`s that are a person's document or national number.
const PERSONAL_NUMBERS: [&str; 8] = [
    "passport",
    "national id no.",
    "cedula no.",
    "identification number",
    "d.n.i.",
    "c.u.r.p.",
    "personal id card",
    "ssn",
];

impl Record {
    fn into_entity(self, prefix: &str) -> Entity {
        let kind = match self.kind.to_ascii_lowercase().as_str() {
            "individual" => EntityKind::Person,
            "vessel" => EntityKind::Vessel,
            "aircraft" => EntityKind::Aircraft,
            _ => EntityKind::Organization,
        };
        let mut e = Entity::new(format!("{prefix}:{}", self.uid), kind, Topic::Sanction);
        e.add_name(&self.name.whole());
        for a in &self.aliases {
            e.add_name(&a.whole());
        }
        e.programs = self.programs;
        for c in &self.countries {
            e.add_nationality(c);
        }
        for d in &self.dates {
            for d in ofac::ofac_dates(d) {
                e.add_birth_date(d);
            }
        }
        for id in &self.ids {
            let kind = id.kind.to_ascii_lowercase();
            if kind == "gender" {
                e.gender = gender_word(&id.number).or(e.gender);
            } else if PERSONAL_NUMBERS.iter().any(|k| kind.starts_with(k)) {
                e.add_identifier(&id.number);
            }
        }
        e
    }
}

/// Reads `sdn.xml`; `prefix` names the list in the entity identifiers (`ofac_sdn`).
pub fn read(prefix: &str, xml: &[u8]) -> Result<Vec<Entity>, ImportError> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut record: Option<Record> = None;
    let mut out = Vec::new();
    let mut declared: Option<usize> = None;
    let mut root_closed = false;
    let malformed = |at: u64, why: String| ImportError::Malformed {
        part: "xml",
        line: line_at(xml, at as usize),
        why,
    };
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| malformed(position, e.to_string()))?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                match (name.as_str(), record.as_mut()) {
                    ("sdnEntry", _) => record = Some(Record::default()),
                    ("aka", Some(r)) => r.alias = Some(Name::default()),
                    ("id", Some(r)) => r.id = Some(Id::default()),
                    _ => {}
                }
                path.push(name);
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                match (name.as_str(), record.as_mut()) {
                    ("aka", Some(r)) => r.aliases.extend(r.alias.take()),
                    ("id", Some(r)) => r.ids.extend(r.id.take()),
                    ("sdnEntry", _) => {
                        let r = record.take().unwrap_or_default();
                        if r.uid.is_empty() || r.name.last.is_empty() {
                            return Err(malformed(
                                reader.buffer_position(),
                                "an entry without uid or lastName".into(),
                            ));
                        }
                        out.push(r.into_entity(prefix));
                    }
                    ("sdnList", _) if path.is_empty() => root_closed = true,
                    _ => {}
                }
            }
            Event::Text(t) => {
                let text = t
                    .unescape()
                    .map_err(|e| malformed(position, e.to_string()))?
                    .trim()
                    .to_string();
                if text.is_empty() {
                } else if let Some(r) = record.as_mut() {
                    take_text(r, &path, text);
                } else if path.last().is_some_and(|p| p == "Record_Count") {
                    declared = Some(text.parse().map_err(|_| {
                        malformed(position, format!("Record_Count `{text}` is not a number"))
                    })?);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !root_closed || declared.is_some_and(|n| n > out.len()) {
        return Err(ImportError::Truncated);
    }
    if out.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(out)
}

fn take_text(r: &mut Record, path: &[String], text: String) {
    let n = path.len();
    let last = path[n - 1].as_str();
    let parent = if n >= 2 { path[n - 2].as_str() } else { "" };
    match (parent, last) {
        ("sdnEntry", "uid") => r.uid = text,
        ("sdnEntry", "firstName") => r.name.first = text,
        ("sdnEntry", "lastName") => r.name.last = text,
        ("sdnEntry", "sdnType") => r.kind = text,
        ("programList", "program") => r.programs.push(text),
        ("aka", "firstName") => r.alias.get_or_insert_with(Name::default).first = text,
        ("aka", "lastName") => r.alias.get_or_insert_with(Name::default).last = text,
        ("id", "idType") => r.id.get_or_insert_with(Id::default).kind = text,
        ("id", "idNumber") => r.id.get_or_insert_with(Id::default).number = text,
        ("nationality" | "citizenship", "country") => r.countries.push(text),
        ("dateOfBirthItem", "dateOfBirth") => r.dates.push(text),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" standalone="yes"?>
<sdnList xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://tempuri.org/sdnList.xsd">
  <publshInformation><Publish_Date>12/01/2026</Publish_Date><Record_Count>2</Record_Count></publshInformation>
  <sdnEntry>
    <uid>587</uid><firstName>Juan M. de la</firstName><lastName>CRUZ</lastName>
    <sdnType>Individual</sdnType>
    <programList><program>CUBA</program></programList>
    <idList>
      <id><uid>1</uid><idType>Passport</idType><idNumber>A 1084010</idNumber><idCountry>Cuba</idCountry></id>
      <id><uid>2</uid><idType>Gender</idType><idNumber>Male</idNumber></id>
      <id><uid>3</uid><idType>Tax ID No.</idType><idNumber>99887766</idNumber></id>
    </idList>
    <akaList><aka><uid>221</uid><type>a.k.a.</type><category>strong</category><firstName>Juanito</firstName><lastName>CRUZ</lastName></aka></akaList>
    <nationalityList><nationality><uid>5</uid><country>Cuba</country><mainEntry>true</mainEntry></nationality></nationalityList>
    <dateOfBirthList>
      <dateOfBirthItem><uid>6</uid><dateOfBirth>10 Dec 1948</dateOfBirth><mainEntry>true</mainEntry></dateOfBirthItem>
      <dateOfBirthItem><uid>7</uid><dateOfBirth>1950 to 1951</dateOfBirth><mainEntry>false</mainEntry></dateOfBirthItem>
    </dateOfBirthList>
  </sdnEntry>
  <sdnEntry>
    <uid>306</uid><lastName>BANCO NACIONAL DE CUBA</lastName><sdnType>Entity</sdnType>
    <akaList><aka><uid>220</uid><type>a.k.a.</type><lastName>NATIONAL BANK OF CUBA</lastName></aka></akaList>
  </sdnEntry>
</sdnList>
"#;

    #[test]
    fn entries_with_aliases_numbers_dates_and_nationality() {
        let e = read("ofac_sdn", SAMPLE.as_bytes()).unwrap();
        assert_eq!(e.len(), 2);
        let p = &e[0];
        assert_eq!(p.id, "ofac_sdn:587");
        assert_eq!(p.kind, EntityKind::Person);
        assert_eq!(p.names, ["Juan M. de la CRUZ", "Juanito CRUZ"]);
        assert_eq!(p.programs, ["CUBA"]);
        assert_eq!(p.gender, Some('M'));
        assert_eq!(
            p.identifiers,
            ["A1084010"],
            "a tax number is not a person's document"
        );
        assert_eq!(p.nationalities, ["CU"]);
        let dates: Vec<String> = p.birth_dates.iter().map(|d| d.to_string()).collect();
        assert_eq!(dates, ["1948-12-10", "1950", "1951"]);
        assert_eq!(e[1].kind, EntityKind::Organization);
        assert_eq!(
            e[1].names,
            ["BANCO NACIONAL DE CUBA", "NATIONAL BANK OF CUBA"]
        );
    }

    #[test]
    fn a_file_cut_short_or_short_of_its_count_is_refused() {
        let cut = &SAMPLE[..SAMPLE.rfind("<sdnEntry>").unwrap()];
        assert!(read("ofac_sdn", cut.as_bytes()).is_err());
        let fewer = SAMPLE.replace("<Record_Count>2<", "<Record_Count>3<");
        assert_eq!(
            read("ofac_sdn", fewer.as_bytes()).unwrap_err(),
            ImportError::Truncated
        );
        let nameless = SAMPLE.replace("<lastName>BANCO NACIONAL DE CUBA</lastName>", "");
        assert!(matches!(
            read("ofac_sdn", nameless.as_bytes()),
            Err(ImportError::Malformed { .. })
        ));
    }
}
