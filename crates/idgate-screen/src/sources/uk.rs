//! The UK's sanctions list as CSV: the FCDO's UK Sanctions List (`Unique ID`, `Designation
//! Type`, `Name 1`–`Name 6`, `D.O.B`, `Nationality(/ies)`, `Passport number`, ...) and
//! OFSI's former consolidated list in the same shape (`Group ID`, `Group Type`, `DOB`,
//! `Nationality`, `Passport Number`, ...). A banner line (the date of the list) may stand
//! above the header. One row per name of a designation, each repeating its other columns.

use crate::entity::{gender_word, Entity, EntityKind, PartialDate};
use crate::sources::table::{values, Gathered, Table};
use crate::sources::ImportError;

pub fn read(prefix: &str, bytes: &[u8]) -> Result<Vec<Entity>, ImportError> {
    let t = Table::read("uk", bytes, b',', "Name 6")?;
    let id = t.required("uk", &["Unique ID", "Group ID"])?;
    let kind_col = t.required(
        "uk",
        &["Designation Type", "Individual, Entity, Ship", "Group Type"],
    )?;
    let col = |names: &[&str]| t.column(names);
    let names: Vec<Option<usize>> = (1..=6).map(|i| col(&[&format!("Name {i}")])).collect();
    let non_latin = col(&["Name non-latin script"]);
    let dob = col(&["D.O.B", "DOB"]);
    let gender = col(&["Gender"]);
    let nationality = col(&["Nationality(/ies)", "Nationality"]);
    let numbers = [
        col(&["Passport number"]),
        col(&[
            "National Identifier number",
            "National Identification Number",
        ]),
    ];
    let regime = col(&["Regime Name", "Regime"]);

    let mut out = Gathered::new(prefix);
    for (line, row) in t.rows() {
        let bad = |why: String| ImportError::Malformed {
            part: "uk",
            line,
            why,
        };
        let key = row.get(Some(id));
        if key.is_empty() {
            return Err(bad("a row without an identifier".into()));
        }
        let kind = match row.get(Some(kind_col)).to_ascii_lowercase().as_str() {
            "individual" => EntityKind::Person,
            "entity" => EntityKind::Organization,
            "ship" => EntityKind::Vessel,
            other => return Err(bad(format!("unknown designation type `{other}`"))),
        };
        let e = out.entity(key, || kind);
        // Name 1 is a given name, Name 6 the family (or organisation) name.
        let name: Vec<&str> = names
            .iter()
            .map(|c| row.get(*c))
            .filter(|p| !p.is_empty())
            .collect();
        e.add_name(&name.join(" "));
        e.add_name(row.get(non_latin));
        for d in values(row.get(dob)) {
            e.add_birth_date(uk_date(d).ok_or_else(|| bad(format!("`{d}` is not a date")))?);
        }
        e.gender = gender_word(row.get(gender)).or(e.gender);
        for n in values(row.get(nationality)) {
            for country in n.split(',') {
                e.add_nationality(country);
            }
        }
        for c in numbers {
            for n in values(row.get(c)) {
                e.add_identifier(n.split('(').next().unwrap_or(n));
            }
        }
        let r = row.get(regime);
        if !r.is_empty() && !e.programs.iter().any(|x| x == r) {
            e.programs.push(r.to_string());
        }
    }
    out.finish("uk")
}

/// `dd/mm/yyyy` with `00` (or `dd`, `mm`) for what is unknown, or `yyyy`.
fn uk_date(s: &str) -> Option<PartialDate> {
    let parts: Vec<&str> = s.split('/').map(str::trim).collect();
    let known = |p: &str| p.parse::<u8>().ok().filter(|&v| v != 0);
    let (day, month, year) = match parts.as_slice() {
        [d, m, y] => (known(d), known(m), y),
        [m, y] => (None, known(m), y),
        [y] => (None, None, y),
        _ => return None,
    };
    let year: u16 = year.parse().ok().filter(|y| (1800..=2200).contains(y))?;
    let month = month.filter(|m| (1..=12).contains(m));
    Some(PartialDate {
        year,
        month,
        day: day.filter(|d| month.is_some() && (1..=31).contains(d)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FCDO: &str = "\"Report Date: 01-Dec-2026\"
\"Last Updated\",\"Unique ID\",\"OFSI Group ID\",\"UN Reference Number\",\"Name 6\",\"Name 1\",\"Name 2\",\"Name 3\",\"Name 4\",\"Name 5\",\"Name type\",\"Alias strength\",\"Title\",\"Name non-latin script\",\"Non-latin script type\",\"Non-latin script language\",\"Regime Name\",\"Designation Type\",\"D.O.B\",\"Gender\",\"Nationality(/ies)\",\"Passport number\",\"National Identifier number\"
\"01/12/2026\",\"RUS0001\",\"14001\",\"\",\"IVANOV\",\"Ivan\",\"Petrovich\",\"\",\"\",\"\",\"Primary name\",\"\",\"\",\"Иван Петрович Иванов\",\"Cyrillic\",\"Russian\",\"Russia\",\"Individual\",\"00/00/1962\",\"Male\",\"Russia\",\"(1) 753000111 (2) 650123456 (issued 2010)\",\"\"
\"01/12/2026\",\"RUS0001\",\"14001\",\"\",\"IVANOFF\",\"Ivan\",\"\",\"\",\"\",\"\",\"Alias\",\"Weak\",\"\",\"\",\"\",\"\",\"Russia\",\"Individual\",\"14/03/1963\",\"Male\",\"Russia\",\"\",\"\"
\"01/12/2026\",\"IRN0002\",\"\",\"\",\"SOME FRONT CO\",\"\",\"\",\"\",\"\",\"\",\"Primary name\",\"\",\"\",\"\",\"\",\"\",\"Iran\",\"Entity\",\"\",\"\",\"\",\"\",\"\"
";

    #[test]
    fn the_fcdo_list_with_its_names_dates_and_numbers() {
        let e = read("uk", FCDO.as_bytes()).unwrap();
        assert_eq!(e.len(), 2);
        let p = &e[0];
        assert_eq!(p.id, "uk:RUS0001");
        assert_eq!(p.kind, EntityKind::Person);
        assert_eq!(
            p.names,
            [
                "Ivan Petrovich IVANOV",
                "Иван Петрович Иванов",
                "Ivan IVANOFF"
            ]
        );
        let dates: Vec<String> = p.birth_dates.iter().map(|d| d.to_string()).collect();
        assert_eq!(dates, ["1962", "1963-03-14"]);
        assert_eq!(p.gender, Some('M'));
        assert_eq!(p.nationalities, ["RU"]);
        assert_eq!(p.identifiers, ["753000111", "650123456"]);
        assert_eq!(p.programs, ["Russia"]);
        assert_eq!(e[1].kind, EntityKind::Organization);
    }

    #[test]
    fn the_former_ofsi_layout_reads_the_same() {
        let ofsi = "Last Updated,01/12/2026
Name 6,Name 1,Name 2,Name 3,Name 4,Name 5,Title,Name Non-Latin Script,Non-Latin Script Type,Non-Latin Script Language,DOB,Town of Birth,Country of Birth,Nationality,Passport Number,Passport Details,National Identification Number,National Identification Details,Position,Group Type,Alias Type,Regime,Listed On,Group ID
IVANOV,Ivan,Petrovich,,,,,,,,00/00/1962,,,Russia,753000111,,,,,Individual,Primary name,Russia,01/03/2022,14001
";
        let e = read("uk", ofsi.as_bytes()).unwrap();
        assert_eq!(e[0].id, "uk:14001");
        assert_eq!(e[0].names, ["Ivan Petrovich IVANOV"]);
        assert_eq!(e[0].identifiers, ["753000111"]);
        assert_eq!(e[0].nationalities, ["RU"]);
    }

    #[test]
    fn a_cut_or_misshapen_file_is_refused_whole() {
        let cut = &FCDO[..FCDO.rfind("\"Iran\"").unwrap()];
        assert!(matches!(
            read("uk", cut.as_bytes()),
            Err(ImportError::Malformed { .. })
        ));
        let bad_date = FCDO.replace("14/03/1963", "spring 1963");
        assert!(read("uk", bad_date.as_bytes()).is_err());
        let bad_type = FCDO.replace("\"Entity\"", "\"Planet\"");
        assert!(read("uk", bad_type.as_bytes()).is_err());
        assert!(read("uk", b"name,id\nSomeone,1\n").is_err());
        assert_eq!(uk_date("00/00/1962"), Some(PartialDate::year(1962)));
        assert_eq!(uk_date("dd/mm/1962"), Some(PartialDate::year(1962)));
        assert_eq!(uk_date("1962/03"), None);
    }
}
