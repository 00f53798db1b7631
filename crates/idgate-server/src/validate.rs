//! Every value a client sends is checked against its domain before anything is stored: a
//! wrong value is refused with a 400 that names the field and says what is expected, so a
//! client's mistake never turns into a stored case that the checks later judge with a
//! misleading reason.

use idgate_mrz::Date;
use idgate_pipeline::EnteredData;

/// A value outside its domain: a stable code and a message that names the field and says
/// what is expected (the API answers it with a 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

pub type Checked = Result<(), Invalid>;

/// Longest name part, in characters (ICAO 9303 leaves 39 in a TD3's name field; the printed
/// name in the visual zone is longer, but not this long).
pub const MAX_NAME_CHARS: usize = 100;
/// Longest document number, in characters (the longest national numbers have 20).
pub const MAX_DOCUMENT_NUMBER_CHARS: usize = 40;
pub const MAX_ADDRESS_CHARS: usize = 500;
/// Oldest birth date taken: earlier ones are typing mistakes.
pub const MIN_BIRTH_YEAR: i32 = 1900;

fn invalid(code: &'static str, message: String) -> Invalid {
    Invalid { code, message }
}

/// An identifier a platform gives (a uid, a reviewer's name): 1-128 characters of letters,
/// digits and `- _ . : @`.
pub fn identifier(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:@".contains(&b))
}

/// Free text (a reason, a comment, an address): 1 to `max` characters, no control
/// characters but line breaks and tabs; refused with `code`.
pub fn text(code: &'static str, field: &str, value: &str, max: usize) -> Checked {
    let n = value.trim().chars().count();
    if n == 0 || n > max {
        return Err(invalid(code, format!("{field}: 1-{max} characters")));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(
            code,
            format!("{field}: control characters are not allowed"),
        ));
    }
    Ok(())
}

/// A name part as printed: letters of any script, with spaces, hyphens, apostrophes,
/// periods and commas between them; empty is allowed (a mononym has no given name).
fn name(field: &str, value: &str) -> Checked {
    let v = value.trim();
    if v.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(
            "invalid_name",
            format!("{field}: at most {MAX_NAME_CHARS} characters"),
        ));
    }
    let allowed = |c: char| c.is_alphabetic() || " -'.,\u{2019}\u{b7}".contains(c);
    if let Some(c) = v.chars().find(|&c| !allowed(c)) {
        let what = if c.is_control() {
            "control characters".to_string()
        } else if c.is_ascii_digit() {
            "digits".to_string()
        } else {
            format!("the character {c:?}")
        };
        return Err(invalid(
            "invalid_name",
            format!("{field}: enter the name as printed on the document, without {what}"),
        ));
    }
    Ok(())
}

fn document_number(value: &str) -> Checked {
    let v = value.trim();
    let n = v.chars().count();
    if n == 0 || n > MAX_DOCUMENT_NUMBER_CHARS {
        return Err(invalid(
            "invalid_document_number",
            format!(
                "document.number: 1-{MAX_DOCUMENT_NUMBER_CHARS} characters, exactly as printed"
            ),
        ));
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " -/.".contains(c))
    {
        return Err(invalid(
            "invalid_document_number",
            "document.number: letters, digits, spaces, hyphens, slashes and dots only".into(),
        ));
    }
    Ok(())
}

/// A person's name part as printed (see `name`), for data entered outside a case.
pub fn person_name(field: &str, value: &str) -> Checked {
    name(field, value)
}

/// A birth date: a real calendar date, not before 1900 and not after `today`.
pub fn birth_date(value: &str, today: Date) -> Result<Date, Invalid> {
    let bad = |why: &str| invalid("invalid_birth_date", format!("birth_date: {why}"));
    let d = Date::parse_iso(value.trim()).ok_or_else(|| bad("a date as YYYY-MM-DD"))?;
    if d.year() < MIN_BIRTH_YEAR {
        return Err(bad("not before 1900-01-01"));
    }
    if d > today {
        return Err(bad("a date in the past"));
    }
    Ok(d)
}

/// An ISO 3166-2 subdivision code of `country`: `DE-BY`, `CN-11`, `UA-09`.
fn subdivision(value: &str, country: &str) -> Checked {
    let ok = value.split_once('-').is_some_and(|(c, s)| {
        c == country
            && (1..=3).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    });
    if !ok {
        return Err(invalid(
            "invalid_subdivision",
            format!(
                "subdivision: an ISO 3166-2 code of the country of residence ({country}-...), such as {country}-01"
            ),
        ));
    }
    Ok(())
}

fn country(field: &str, code: &str) -> Checked {
    if idgate_decide::country::by_alpha2(code).is_none() {
        return Err(invalid(
            "invalid_country",
            format!("{field}: an ISO 3166-1 alpha-2 code such as DE or CN"),
        ));
    }
    Ok(())
}

/// A region of residence: an ISO 3166-1 country.
pub fn region(value: &str) -> Checked {
    if idgate_decide::country::by_alpha2(value).is_none_or(|c| c.alpha2 != value) {
        return Err(invalid(
            "invalid_region",
            "region: an ISO 3166-1 alpha-2 country code such as DE or CN".into(),
        ));
    }
    Ok(())
}

/// The applicant's entered data, for a resident of `region`, on `today`.
pub fn entered(data: &EnteredData, region: &str, today: Date) -> Checked {
    country("nationality", &data.nationality)?;
    country("document.country", &data.document.country)?;
    if idgate_decide::DocKind::parse(&data.document.kind).is_none() {
        return Err(invalid(
            "invalid_kind",
            format!(
                "document.type must be one of {}",
                idgate_decide::DocKind::ALL.map(|k| k.as_str()).join(", ")
            ),
        ));
    }
    document_number(&data.document.number)?;
    name("name.given", &data.name.given)?;
    name("name.family", &data.name.family)?;
    if let Some(local) = &data.name.local {
        name("name.local", local)?;
    }
    if data.name.given.trim().is_empty() && data.name.family.trim().is_empty() {
        return Err(invalid("missing_name", "name: enter the full name".into()));
    }
    if let Some(b) = data.birth_date.as_deref().filter(|b| !b.trim().is_empty()) {
        birth_date(b, today)?;
    }
    if let Some(a) = &data.address {
        text("invalid_address", "address", a, MAX_ADDRESS_CHARS)?;
    }
    if let Some(s) = &data.subdivision {
        subdivision(s, region)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use idgate_pipeline::{DocumentFile, NameFile};

    fn erika() -> EnteredData {
        EnteredData {
            subdivision: None,
            nationality: "DE".into(),
            document: DocumentFile {
                country: "DE".into(),
                kind: "passport".into(),
                number: "C01X00T47".into(),
            },
            name: NameFile {
                given: "Erika".into(),
                family: "Mustermann".into(),
                local: None,
            },
            birth_date: Some("1964-08-12".into()),
            address: None,
        }
    }

    #[test]
    fn entered_data_is_checked_field_by_field() {
        let today = Date::new(2026, 12, 4).unwrap();
        assert!(entered(&erika(), "DE", today).is_ok());
        type Change = fn(&mut EnteredData);
        let cases: Vec<(Change, &str)> = vec![
            (
                |d| d.document.number = String::new(),
                "invalid_document_number",
            ),
            (
                |d| d.document.number = "A".repeat(41),
                "invalid_document_number",
            ),
            (
                |d| d.document.number = "C01X\u{0}".into(),
                "invalid_document_number",
            ),
            (|d| d.name.given = "Er\nika".into(), "invalid_name"),
            (|d| d.name.family = "Muster\u{0}mann".into(), "invalid_name"),
            (|d| d.name.family = "x".repeat(101), "invalid_name"),
            (|d| d.name.family = "Mustermann2".into(), "invalid_name"),
            (
                |d| d.birth_date = Some("2099-01-01".into()),
                "invalid_birth_date",
            ),
            (
                |d| d.birth_date = Some("1850-01-01".into()),
                "invalid_birth_date",
            ),
            (
                |d| d.birth_date = Some("1964-02-30".into()),
                "invalid_birth_date",
            ),
            (
                |d| d.subdivision = Some("FR-75".into()),
                "invalid_subdivision",
            ),
            (
                |d| d.subdivision = Some("DE-BAYERN".into()),
                "invalid_subdivision",
            ),
            (|d| d.address = Some("x".repeat(501)), "invalid_address"),
            (
                |d| d.address = Some("Str. 1\u{0}".into()),
                "invalid_address",
            ),
            (|d| d.nationality = "XX".into(), "invalid_country"),
            (|d| d.document.kind = "library_card".into(), "invalid_kind"),
        ];
        for (change, code) in cases {
            let mut d = erika();
            change(&mut d);
            let e = entered(&d, "DE", today).unwrap_err();
            assert_eq!(e.code, code);
        }
        // What real people enter passes: other scripts, hyphens, apostrophes, a subdivision
        // of their country, a two-line address.
        let mut d = erika();
        d.name.given = "Anne-Marie O\u{2019}Neil".into();
        d.name.local = Some("张晓明".into());
        d.subdivision = Some("DE-BY".into());
        d.address = Some("Unter den Linden 1\n10117 Berlin".into());
        d.document.number = "AB 123-45/6".into();
        assert!(entered(&d, "DE", today).is_ok());
    }

    #[test]
    fn regions_are_real_countries() {
        assert!(region("DE").is_ok());
        assert_eq!(region("XX").unwrap_err().code, "invalid_region");
        assert_eq!(region("de").unwrap_err().code, "invalid_region");
    }
}
