//! MRZ layouts (ICAO 9303 parts 4–7 and the pre-2021 French identity card) and strict parsing.

use crate::check::{verifies, verifies_parts};
use crate::country::is_known_code;
use crate::date::Date;
use crate::repair::Correction;
use std::fmt;

/// The MRZ layouts this crate reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// ID-1 cards: 3 lines of 30.
    Td1,
    /// ID-2 cards: 2 lines of 36.
    Td2,
    /// Passports: 2 lines of 44.
    Td3,
    /// Full-page visas: 2 lines of 44.
    MrvA,
    /// Small visas: 2 lines of 36.
    MrvB,
    /// French national identity card issued 1988–2021: 2 lines of 36, own layout.
    FrenchId,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Td1 => "TD1",
            Format::Td2 => "TD2",
            Format::Td3 => "TD3",
            Format::MrvA => "MRVA",
            Format::MrvB => "MRVB",
            Format::FrenchId => "FRENCH_ID",
        }
    }

    /// (number of lines, characters per line)
    pub fn shape(self) -> (usize, usize) {
        match self {
            Format::Td1 => (3, 30),
            Format::Td2 | Format::MrvB | Format::FrenchId => (2, 36),
            Format::Td3 | Format::MrvA => (2, 44),
        }
    }

    /// The layout of lines with this shape, told apart by the document code.
    pub(crate) fn detect(lines: &[&[u8]]) -> Option<Format> {
        let first = *lines.first()?;
        if lines.iter().any(|l| l.len() != first.len()) {
            return None;
        }
        Some(match (lines.len(), first.len()) {
            (3, 30) => Format::Td1,
            (2, 36) if first.starts_with(b"IDFRA") => Format::FrenchId,
            (2, 36) if first.starts_with(b"V") => Format::MrvB,
            (2, 36) => Format::Td2,
            (2, 44) if first.starts_with(b"V") => Format::MrvA,
            (2, 44) => Format::Td3,
            _ => return None,
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Sex as printed: `M`, `F`, `X` (unspecified) or `<` (not given).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
    Unspecified,
    NotGiven,
    /// A character that is not one of the four above.
    Invalid(char),
}

impl Sex {
    fn from_byte(b: u8) -> Sex {
        match b {
            b'M' => Sex::Male,
            b'F' => Sex::Female,
            b'X' => Sex::Unspecified,
            b'<' => Sex::NotGiven,
            other => Sex::Invalid(char::from(other)),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
            Sex::Unspecified => "X",
            Sex::NotGiven => "<",
            Sex::Invalid(_) => "?",
        }
    }
}

/// Everything that depends on the current date is decided relative to `today`.
#[derive(Clone, Copy, Debug)]
pub struct ParseOptions {
    pub today: Date,
}

/// The fields of an MRZ, fillers removed. Personal data: `Debug` shows only the document's
/// type and issuer.
#[derive(Clone, PartialEq, Eq)]
pub struct Fields {
    /// Document code as printed without fillers: `P`, `PO`, `I`, `ID`, `AC`, `V`...
    pub document_type: String,
    pub issuing_country: String,
    /// Primary identifier (family name); spaces where the MRZ had single fillers.
    pub surname: String,
    /// Secondary identifier (given names), space separated.
    pub given_names: String,
    /// Full document number; a TD1/TD2 long number includes its continuation.
    pub document_number: String,
    pub nationality: String,
    /// `None` when the printed date is not a calendar date (or unknown, `<<`).
    pub birth_date: Option<Date>,
    pub birth_date_raw: String,
    pub sex: Sex,
    /// `None` when absent (French ID card) or not a calendar date.
    pub expiry_date: Option<Date>,
    pub expiry_date_raw: String,
    /// First optional data field (TD3 personal number), trailing fillers removed.
    pub optional_data: String,
    /// TD1 second optional field (line 2), trailing fillers removed.
    pub optional_data_2: String,
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fields")
            .field("document_type", &self.document_type)
            .field("issuing_country", &self.issuing_country)
            .finish_non_exhaustive()
    }
}

/// One named check and whether it passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
}

/// A parsed MRZ with every check it was put through. Its `Debug` leaves out the text.
#[derive(Clone)]
pub struct Mrz {
    pub format: Format,
    /// The lines that were parsed (after repair, for [`crate::read`]).
    pub lines: Vec<String>,
    pub fields: Fields,
    pub checks: Vec<Check>,
    /// What [`crate::read`] changed in the raw text to get `lines`; empty for [`parse`].
    pub corrections: Vec<Correction>,
    /// A check fails where the reader was unsure of a character ([`crate::read_ocr`]):
    /// the failure may be a misreading rather than the document's. `false` when every
    /// check passes, for [`parse`] and for typed text ([`crate::read`]).
    pub doubtful: bool,
}

impl fmt::Debug for Mrz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mrz")
            .field("format", &self.format)
            .field("lines", &self.lines.len())
            .field("fields", &self.fields)
            .field("failed_checks", &self.failed_checks().collect::<Vec<_>>())
            .field("corrections", &self.corrections.len())
            .field("doubtful", &self.doubtful)
            .finish()
    }
}

impl Mrz {
    /// All check digits pass, dates are calendar dates, codes are known and the layout fits.
    pub fn valid(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// Some character was changed to get `lines` (see [`Mrz::corrections`]): the reading
    /// is not the text as given.
    pub fn repaired(&self) -> bool {
        !self.corrections.is_empty()
    }

    /// Only the check digits (the part OCR repair relies on).
    pub fn check_digits_ok(&self) -> bool {
        self.checks
            .iter()
            .filter(|c| CHECK_DIGIT_NAMES.contains(&c.name))
            .all(|c| c.ok)
    }

    pub fn check(&self, name: &str) -> Option<bool> {
        self.checks.iter().find(|c| c.name == name).map(|c| c.ok)
    }

    /// Names of the checks that failed, for reports.
    pub fn failed_checks(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.checks.iter().filter(|c| !c.ok).map(|c| c.name)
    }

    /// Expired on `today` (the expiry day itself is still valid).
    pub fn is_expired(&self, today: Date) -> bool {
        self.fields.expiry_date.is_some_and(|e| e < today)
    }
}

/// Check names that are check digits (the rest are format and plausibility checks).
pub(crate) const CHECK_DIGIT_NAMES: &[&str] = &[
    "document_number_check",
    "birth_date_check",
    "expiry_date_check",
    "optional_data_check",
    "composite_check",
];

/// Why lines could not be parsed as an MRZ at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MrzError {
    /// No layout has this number of lines and line length.
    UnknownLayout { lines: usize, lengths: Vec<usize> },
    /// A character outside `A`–`Z`, `0`–`9` and `<`.
    InvalidCharacter {
        line: usize,
        column: usize,
        found: char,
    },
}

impl fmt::Display for MrzError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MrzError::UnknownLayout { lines, lengths } => write!(
                f,
                "no MRZ layout has {lines} line(s) of length {lengths:?} (TD1 3x30, TD2/MRV-B 2x36, TD3/MRV-A 2x44)"
            ),
            MrzError::InvalidCharacter { line, column, found } => write!(
                f,
                "line {} column {}: {found:?} is not an MRZ character (A-Z, 0-9, <)",
                line + 1,
                column + 1
            ),
        }
    }
}

impl std::error::Error for MrzError {}

/// Parses MRZ lines exactly as printed (`A`–`Z`, `0`–`9`, `<`; no repair).
///
/// Structural problems (wrong shape, foreign characters) are errors; field problems
/// (a failed check digit, an unknown country) are failed [`Check`]s on the result.
pub fn parse(lines: &[&str], opts: &ParseOptions) -> Result<Mrz, MrzError> {
    let bytes: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    for (i, line) in bytes.iter().enumerate() {
        if let Some(col) = line
            .iter()
            .position(|c| crate::check::char_value(*c).is_none())
        {
            let found = lines[i][col..].chars().next().unwrap_or('?');
            return Err(MrzError::InvalidCharacter {
                line: i,
                column: col,
                found,
            });
        }
    }
    let format = Format::detect(&bytes).ok_or_else(|| MrzError::UnknownLayout {
        lines: lines.len(),
        lengths: lines.iter().map(|l| l.len()).collect(),
    })?;
    let mrz = parse_as(format, &bytes, lines, opts);
    // France also issues TD2 documents: `IDFRA` in 2x36 is the old identity card only
    // when its check digits say so.
    if format == Format::FrenchId && !mrz.check_digits_ok() {
        let td2 = parse_as(Format::Td2, &bytes, lines, opts);
        if td2.check_digits_ok() {
            return Ok(td2);
        }
    }
    Ok(mrz)
}

fn parse_as(format: Format, bytes: &[&[u8]], lines: &[&str], opts: &ParseOptions) -> Mrz {
    let mut p = Parser {
        checks: Vec::with_capacity(12),
    };
    let fields = match format {
        Format::Td1 => p.td1(bytes[0], bytes[1], bytes[2], opts),
        Format::Td2 | Format::MrvB => p.two_line(format, bytes[0], bytes[1], opts),
        Format::Td3 | Format::MrvA => p.two_line(format, bytes[0], bytes[1], opts),
        Format::FrenchId => p.french_id(bytes[0], bytes[1], opts),
    };
    Mrz {
        format,
        lines: lines.iter().map(|l| l.to_string()).collect(),
        fields,
        checks: p.checks,
        corrections: Vec::new(),
        doubtful: false,
    }
}

struct Parser {
    checks: Vec<Check>,
}

impl Parser {
    fn push(&mut self, name: &'static str, ok: bool) {
        self.checks.push(Check { name, ok });
    }

    fn check_digit(&mut self, name: &'static str, data: &[u8], printed: u8) {
        self.push(name, verifies(data, printed));
    }

    fn composite(&mut self, parts: &[&[u8]], printed: u8) {
        self.push("composite_check", verifies_parts(parts, printed));
    }

    fn document_type(&mut self, code: &[u8], allowed_first: &[u8]) -> String {
        let ok =
            allowed_first.contains(&code[0]) && (code[1].is_ascii_alphabetic() || code[1] == b'<');
        self.push("document_type", ok);
        text(code)
    }

    fn country(&mut self, name: &'static str, code: &[u8]) -> String {
        let code = text(code);
        self.push(name, is_known_code(&code));
        code
    }

    fn sex(&mut self, b: u8) -> Sex {
        let sex = Sex::from_byte(b);
        self.push("sex", !matches!(sex, Sex::Invalid(_)));
        sex
    }

    /// Birth and expiry dates with centuries inferred: birth is the latest century that
    /// is not in the future (nor after expiry); expiry is 20xx unless that is more than
    /// 20 years ahead of today.
    fn dates(
        &mut self,
        birth: &[u8],
        expiry: Option<&[u8]>,
        opts: &ParseOptions,
    ) -> (Option<Date>, Option<Date>) {
        let today = opts.today;
        let expiry_date = expiry.map(|raw| {
            let d = yymmdd(raw, |yy| {
                let y = 2000 + yy;
                if y > today.year() + 20 {
                    y - 100
                } else {
                    y
                }
            });
            self.push("expiry_date", d.is_some());
            d
        });
        let expiry_date = expiry_date.flatten();
        let birth_date = yymmdd(birth, |yy| {
            let y = 2000 + yy;
            let d = date_or_first(birth, y);
            if d > today || expiry_date.is_some_and(|e| d >= e) {
                y - 100
            } else {
                y
            }
        });
        self.push("birth_date", birth_date.is_some_and(|d| d <= today));
        (birth_date, expiry_date)
    }

    fn td1(&mut self, l1: &[u8], l2: &[u8], l3: &[u8], opts: &ParseOptions) -> Fields {
        let document_type = self.document_type(&l1[0..2], b"ACI");
        let issuing_country = self.country("issuing_country", &l1[2..5]);
        let (document_number, optional_data) =
            self.document_number(&l1[5..14], l1[14], &l1[15..30]);
        self.check_digit("birth_date_check", &l2[0..6], l2[6]);
        let sex = self.sex(l2[7]);
        self.check_digit("expiry_date_check", &l2[8..14], l2[14]);
        let nationality = self.country("nationality", &l2[15..18]);
        self.composite(&[&l1[5..30], &l2[0..7], &l2[8..15], &l2[18..29]], l2[29]);
        let (birth_date, expiry_date) = self.dates(&l2[0..6], Some(&l2[8..14]), opts);
        let (surname, given_names) = names(l3);
        Fields {
            document_type,
            issuing_country,
            surname,
            given_names,
            document_number,
            nationality,
            birth_date,
            birth_date_raw: raw(&l2[0..6]),
            sex,
            expiry_date,
            expiry_date_raw: raw(&l2[8..14]),
            optional_data,
            optional_data_2: text(&l2[18..29]),
        }
    }

    /// TD2, TD3 and both visa layouts share line 1 and the first 28 characters of line 2.
    fn two_line(&mut self, format: Format, l1: &[u8], l2: &[u8], opts: &ParseOptions) -> Fields {
        let n = l2.len();
        let allowed: &[u8] = match format {
            Format::Td3 => b"P",
            Format::MrvA | Format::MrvB => b"V",
            _ => b"ACI",
        };
        let document_type = self.document_type(&l1[0..2], allowed);
        let issuing_country = self.country("issuing_country", &l1[2..5]);
        let (surname, given_names) = names(&l1[5..]);
        let optional_end = match format {
            Format::Td3 => 42,
            Format::Td2 => 35,
            _ => n,
        };
        let (document_number, optional_data) = if format == Format::Td2 {
            self.document_number(&l2[0..9], l2[9], &l2[28..optional_end])
        } else {
            self.check_digit("document_number_check", &l2[0..9], l2[9]);
            (text(&l2[0..9]), text(&l2[28..optional_end]))
        };
        let nationality = self.country("nationality", &l2[10..13]);
        self.check_digit("birth_date_check", &l2[13..19], l2[19]);
        let sex = self.sex(l2[20]);
        self.check_digit("expiry_date_check", &l2[21..27], l2[27]);
        match format {
            Format::Td3 => {
                // An empty personal number may carry `<` or `0` as its check digit.
                self.check_digit("optional_data_check", &l2[28..42], l2[42]);
                self.composite(&[&l2[0..10], &l2[13..20], &l2[21..43]], l2[43]);
            }
            Format::Td2 => {
                self.composite(&[&l2[0..10], &l2[13..20], &l2[21..35]], l2[35]);
            }
            _ => {}
        }
        let (birth_date, expiry_date) = self.dates(&l2[13..19], Some(&l2[21..27]), opts);
        Fields {
            document_type,
            issuing_country,
            surname,
            given_names,
            document_number,
            nationality,
            birth_date,
            birth_date_raw: raw(&l2[13..19]),
            sex,
            expiry_date,
            expiry_date_raw: raw(&l2[21..27]),
            optional_data,
            optional_data_2: String::new(),
        }
    }

    /// A 9-character document number and its check digit; when the check digit position
    /// holds `<`, the number continues in `optional` up to the character before the first
    /// filler, which is the check digit (ICAO 9303 part 5, note j).
    ///
    /// Issuers disagree on whether the `<` at the check position takes part in the check
    /// (Belgium BEL-BO-03003 includes it, BEL-BO-11005 does not; the npm `mrz` tests pin
    /// both), so either reading is accepted.
    fn document_number(&mut self, field: &[u8], check: u8, optional: &[u8]) -> (String, String) {
        if check == b'<' && optional.first().is_some_and(|c| *c != b'<') {
            let end = optional
                .iter()
                .position(|c| *c == b'<')
                .unwrap_or(optional.len());
            let (ext, check) = (&optional[..end - 1], optional[end - 1]);
            let without = [field, ext].concat();
            let with = [field, b"<", ext].concat();
            self.push(
                "document_number_check",
                verifies(&without, check) || verifies(&with, check),
            );
            (text(&without), text(&optional[end..]))
        } else {
            self.check_digit("document_number_check", field, check);
            (text(field), text(optional))
        }
    }

    fn french_id(&mut self, l1: &[u8], l2: &[u8], opts: &ParseOptions) -> Fields {
        let document_type = self.document_type(&l1[0..2], b"I");
        let issuing_country = self.country("issuing_country", &l1[2..5]);
        self.check_digit("document_number_check", &l2[0..12], l2[12]);
        self.check_digit("birth_date_check", &l2[27..33], l2[33]);
        let sex = self.sex(l2[34]);
        self.composite(&[l1, &l2[0..35]], l2[35]);
        let (birth_date, _) = self.dates(&l2[27..33], None, opts);
        Fields {
            document_type,
            nationality: issuing_country.clone(),
            issuing_country,
            surname: words(&l1[5..30]),
            given_names: words(&l2[13..27]),
            document_number: text(&l2[0..12]),
            birth_date,
            birth_date_raw: raw(&l2[27..33]),
            sex,
            expiry_date: None,
            expiry_date_raw: String::new(),
            optional_data: text(&l1[30..36]),
            optional_data_2: String::new(),
        }
    }
}

fn raw(b: &[u8]) -> String {
    // Lines are checked to hold only MRZ characters (ASCII) before any field is cut, so
    // the lossy path never replaces anything; `from_utf8` is just the fast route for ASCII.
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// The field without trailing fillers (inner fillers kept: they are part of the value).
fn text(b: &[u8]) -> String {
    let end = b.iter().rposition(|c| *c != b'<').map_or(0, |i| i + 1);
    raw(&b[..end])
}

/// Fillers to single spaces, trimmed.
fn words(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for word in b.split(|c| *c == b'<').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.iter().map(|c| char::from(*c)));
    }
    out
}

/// Splits a name field at the first `<<` into primary and secondary identifiers.
fn names(field: &[u8]) -> (String, String) {
    match field.windows(2).position(|w| w[0] == b'<' && w[1] == b'<') {
        Some(i) => (words(&field[..i]), words(&field[i + 2..])),
        None => (words(field), String::new()),
    }
}

fn two_digits(b: &[u8]) -> Option<u8> {
    match b {
        [a @ b'0'..=b'9', c @ b'0'..=b'9'] => Some((a - b'0') * 10 + (c - b'0')),
        _ => None,
    }
}

fn yymmdd(raw: &[u8], century: impl FnOnce(i32) -> i32) -> Option<Date> {
    let yy = two_digits(&raw[0..2])?;
    let mm = two_digits(&raw[2..4])?;
    let dd = two_digits(&raw[4..6])?;
    Date::new(century(i32::from(yy)), mm, dd)
}

/// The date for a century guess; an impossible day (29 Feb in a non-leap century)
/// falls back to the first of the month so the comparison still orders sensibly.
fn date_or_first(raw: &[u8], year: i32) -> Date {
    let mm = two_digits(&raw[2..4]).unwrap_or(1).clamp(1, 12);
    let dd = two_digits(&raw[4..6]).unwrap_or(1);
    Date::new(year, mm, dd)
        .or_else(|| Date::new(year, mm, 1))
        .unwrap_or_else(|| Date::from_unix_days(0))
}
