//! The EU's consolidated list of persons, groups and entities subject to financial
//! sanctions, as CSV (the Financial Sanctions Files' format 1.1: `;`-separated, one row per
//! name, birth date, citizenship or document of an entity, each repeating the entity's
//! columns, keyed by `Entity_LogicalId`).

use crate::entity::{Entity, EntityKind, PartialDate};
use crate::sources::table::{values, Gathered, Table};
use crate::sources::ImportError;

/// Document types (`Identification_TypeCode`) that are a person's own number.
const PERSONAL_NUMBERS: [&str; 3] = ["passport", "id", "ssn"];

pub fn read(prefix: &str, bytes: &[u8]) -> Result<Vec<Entity>, ImportError> {
    let t = Table::read("eu", bytes, b';', "Entity_LogicalId")?;
    let id = t.required("eu", &["Entity_LogicalId"])?;
    let subject = t.required(
        "eu",
        &[
            "Entity_SubjectType_ClassificationCode",
            "Entity_SubjectType",
        ],
    )?;
    let col = |names: &[&str]| t.column(names);
    let whole = col(&["NameAlias_WholeName"]);
    let parts = [
        col(&["NameAlias_FirstName"]),
        col(&["NameAlias_MiddleName"]),
        col(&["NameAlias_LastName"]),
    ];
    if whole.is_none() && parts[2].is_none() {
        return Err(t.required("eu", &["NameAlias_WholeName"]).unwrap_err());
    }
    let gender = col(&["NameAlias_Gender"]);
    let programme = col(&["Entity_Regulation_Programme"]);
    let dob = col(&["BirthDate_BirthDate"]);
    let (year, month, day) = (
        col(&["BirthDate_Year"]),
        col(&["BirthDate_Month"]),
        col(&["BirthDate_Day"]),
    );
    let (from, to) = (
        col(&["BirthDate_YearRangeFrom"]),
        col(&["BirthDate_YearRangeTo"]),
    );
    let citizenship = [
        col(&["Citizenship_CountryIso2Code"]),
        col(&["Citizenship_CountryDescription"]),
    ];
    let number = col(&["Identification_Number"]);
    let number_type = col(&["Identification_TypeCode"]);

    let mut out = Gathered::new(prefix);
    for (line, row) in t.rows() {
        let bad = |why: &str| ImportError::Malformed {
            part: "eu",
            line,
            why: why.to_string(),
        };
        let key = row.get(Some(id));
        if key.is_empty() {
            return Err(bad("a row without `Entity_LogicalId`"));
        }
        let e = out.entity(key, || {
            match row.get(Some(subject)).to_ascii_lowercase().as_str() {
                "person" | "p" => EntityKind::Person,
                _ => EntityKind::Organization,
            }
        });
        let name = match row.get(whole) {
            "" => parts
                .iter()
                .map(|c| row.get(*c))
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
            w => w.to_string(),
        };
        e.add_name(&name);
        match row.get(gender) {
            "M" => e.gender = Some('M'),
            "F" => e.gender = Some('F'),
            _ => {}
        }
        let p = row.get(programme);
        if !p.is_empty() && !e.programs.iter().any(|x| x == p) {
            e.programs.push(p.to_string());
        }
        match row.get(dob) {
            "" => {}
            d => e.add_birth_date(
                PartialDate::parse_iso(d)
                    .ok_or_else(|| bad("`BirthDate_BirthDate` is not a date"))?,
            ),
        }
        if row.get(dob).is_empty() {
            if let Ok(y) = row.get(year).parse::<u16>() {
                let m = row
                    .get(month)
                    .parse::<u8>()
                    .ok()
                    .filter(|m| (1..=12).contains(m));
                let d = row
                    .get(day)
                    .parse::<u8>()
                    .ok()
                    .filter(|d| (1..=31).contains(d));
                e.add_birth_date(PartialDate {
                    year: y,
                    month: m,
                    day: d.filter(|_| m.is_some()),
                });
            } else if let (Ok(a), Ok(b)) =
                (row.get(from).parse::<u16>(), row.get(to).parse::<u16>())
            {
                if a <= b && b - a <= 10 {
                    for y in a..=b {
                        e.add_birth_date(PartialDate::year(y));
                    }
                }
            }
        }
        for c in citizenship {
            for v in values(row.get(c)) {
                e.add_nationality(v);
            }
        }
        let kind = row.get(number_type).to_ascii_lowercase();
        if number_type.is_none() || PERSONAL_NUMBERS.contains(&kind.as_str()) {
            for n in values(row.get(number)) {
                e.add_identifier(n.split('(').next().unwrap_or(n));
            }
        }
    }
    out.finish("eu")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "fileGenerationDate;Entity_LogicalId;Entity_EU_ReferenceNumber;Entity_SubjectType;Entity_SubjectType_ClassificationCode;Entity_Regulation_Programme;NameAlias_LastName;NameAlias_FirstName;NameAlias_MiddleName;NameAlias_WholeName;NameAlias_NameLanguage;NameAlias_Gender;BirthDate_BirthDate;BirthDate_Day;BirthDate_Month;BirthDate_Year;Citizenship_CountryIso2Code;Citizenship_CountryDescription;Identification_TypeCode;Identification_Number";

    fn sample() -> String {
        [
            HEADER,
            "2026-12-01;13;EU.27.28;P;person;COD;BADEGE;Eric;;Eric BADEGE;EN;M;;;;;;;;",
            "2026-12-01;13;EU.27.28;P;person;COD;;;;Эрик Бадеге;RU;M;;;;;;;;",
            "2026-12-01;13;EU.27.28;P;person;COD;;;;;;;1971-03-02;2;3;1971;;;;",
            "2026-12-01;13;EU.27.28;P;person;COD;;;;;;;;;;1972;;;;",
            "2026-12-01;13;EU.27.28;P;person;COD;;;;;;;;;;;CD;CONGO, Democratic Republic of (was Zaire);;",
            "2026-12-01;13;EU.27.28;P;person;COD;;;;;;;;;;;;;passport;OB 0123456",
            "2026-12-01;13;EU.27.28;P;person;COD;;;;;;;;;;;;;regnumber;77665544",
            "2026-12-01;20;EU.1.2;E;enterprise;IRN;;;;SOME FRONT CO;;;;;;;;;;",
            ";;;;;;;;;;;;;;;;;;;",
        ]
        .join("\n")
    }

    #[test]
    fn an_entity_is_gathered_from_its_rows() {
        let e = read("eu", sample().as_bytes()).unwrap();
        assert_eq!(e.len(), 2);
        let p = &e[0];
        assert_eq!(p.id, "eu:13");
        assert_eq!(p.kind, EntityKind::Person);
        assert_eq!(p.names, ["Eric BADEGE", "Эрик Бадеге"]);
        assert_eq!(p.gender, Some('M'));
        assert_eq!(p.programs, ["COD"]);
        let dates: Vec<String> = p.birth_dates.iter().map(|d| d.to_string()).collect();
        assert_eq!(dates, ["1971-03-02", "1972"]);
        assert_eq!(p.nationalities, ["CD"]);
        assert_eq!(
            p.identifiers,
            ["OB0123456"],
            "a register number is not a person's"
        );
        assert_eq!(e[1].kind, EntityKind::Organization);
        assert_eq!(e[1].names, ["SOME FRONT CO"]);
    }

    #[test]
    fn a_cut_or_misshapen_file_is_refused_whole() {
        let s = sample();
        let cut = &s[..s.find("regnumber").unwrap()];
        assert!(matches!(
            read("eu", cut.as_bytes()),
            Err(ImportError::Malformed { line: 8, .. })
        ));
        let no_id = s.replace("2026-12-01;20;", "2026-12-01;;");
        assert!(read("eu", no_id.as_bytes()).is_err());
        let bad_date = s.replace("1971-03-02", "spring 1971");
        assert!(read("eu", bad_date.as_bytes()).is_err());
        assert!(read("eu", b"Id;Name\n1;Someone\n").is_err());
        assert_eq!(
            read("eu", HEADER.as_bytes()).unwrap_err(),
            ImportError::Empty
        );
    }
}
