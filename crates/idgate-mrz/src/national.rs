//! National identity numbers in common KYC use: structure and checksum.
//!
//! | kind | rule |
//! |---|---|
//! | China resident identity number | GB 11643-1999: 6-digit region, birth date, order code, ISO 7064 MOD 11-2 check (`X` = 10); 15-digit GB 11643-1989 numbers have no check |
//! | Hong Kong identity card | 1–2 letters, 6 digits, MOD 11 check (`A` = 10) |
//! | India Aadhaar | 12 digits, first not 0/1, Verhoeff check, not a palindrome |
//! | Brazil CPF | 11 digits, two MOD 11 checks, not one repeated digit |
//! | Spain DNI / NIE | 8 digits (NIE: X/Y/Z + 7) and a MOD 23 letter |
//! | Italy codice fiscale | 16 characters, birth date and sex encoded, odd/even check letter |

use crate::date::Date;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    CnResidentId,
    HkIdentityCard,
    InAadhaar,
    BrCpf,
    EsDni,
    EsNie,
    ItCodiceFiscale,
}

impl IdKind {
    pub const ALL: [IdKind; 7] = [
        IdKind::CnResidentId,
        IdKind::HkIdentityCard,
        IdKind::InAadhaar,
        IdKind::BrCpf,
        IdKind::EsDni,
        IdKind::EsNie,
        IdKind::ItCodiceFiscale,
    ];

    /// Stable identifier, e.g. for configuration and APIs.
    pub fn code(self) -> &'static str {
        match self {
            IdKind::CnResidentId => "cn_ric",
            IdKind::HkIdentityCard => "hk_hkid",
            IdKind::InAadhaar => "in_aadhaar",
            IdKind::BrCpf => "br_cpf",
            IdKind::EsDni => "es_dni",
            IdKind::EsNie => "es_nie",
            IdKind::ItCodiceFiscale => "it_codice_fiscale",
        }
    }

    pub fn from_code(code: &str) -> Option<IdKind> {
        IdKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// A valid number, normalised (no spaces or separators, upper case), with what it encodes.
#[derive(Clone, PartialEq, Eq)]
pub struct NationalId {
    pub kind: IdKind,
    pub number: String,
    pub birth_date: Option<Date>,
    /// `Some('M')`/`Some('F')` where the number encodes sex.
    pub sex: Option<char>,
}

impl fmt::Debug for NationalId {
    // The number is personal data: never print it whole.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NationalId")
            .field("kind", &self.kind)
            .field("number", &"<redacted>")
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdError {
    Length,
    Format,
    Checksum,
    /// A part with a meaning is impossible (region, birth date, letter).
    Component(&'static str),
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdError::Length => f.write_str("wrong length"),
            IdError::Format => f.write_str("wrong characters for this kind of number"),
            IdError::Checksum => f.write_str("check digit does not match"),
            IdError::Component(what) => write!(f, "impossible {what}"),
        }
    }
}

impl std::error::Error for IdError {}

/// Validates `input` as a number of `kind`. `today` bounds birth dates and decides the
/// century of two-digit years.
pub fn validate(kind: IdKind, input: &str, today: Date) -> Result<NationalId, IdError> {
    let number: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '/' | '(' | ')'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !number.is_ascii() {
        return Err(IdError::Format);
    }
    let (birth_date, sex) = match kind {
        IdKind::CnResidentId => cn_ric(&number, today)?,
        IdKind::HkIdentityCard => {
            hkid(&number)?;
            (None, None)
        }
        IdKind::InAadhaar => {
            aadhaar(&number)?;
            (None, None)
        }
        IdKind::BrCpf => {
            cpf(&number)?;
            (None, None)
        }
        IdKind::EsDni => {
            dni(&number)?;
            (None, None)
        }
        IdKind::EsNie => {
            nie(&number)?;
            (None, None)
        }
        IdKind::ItCodiceFiscale => codice_fiscale(&number, today)?,
    };
    Ok(NationalId {
        kind,
        number,
        birth_date,
        sex,
    })
}

type Decoded = (Option<Date>, Option<char>);

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

fn digits(s: &str) -> Vec<u32> {
    s.bytes().map(|b| u32::from(b - b'0')).collect()
}

/// Provinces and the residence-permit prefixes of GB/T 2260 (first two digits).
const CN_PROVINCES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82", "83",
];

fn cn_ric(n: &str, today: Date) -> Result<Decoded, IdError> {
    let (birth, order) = match n.len() {
        18 => {
            if !all_digits(&n[..17]) || !matches!(n.as_bytes()[17], b'0'..=b'9' | b'X') {
                return Err(IdError::Format);
            }
            (&n[6..14], &n[14..17])
        }
        15 => {
            if !all_digits(n) {
                return Err(IdError::Format);
            }
            (&n[6..12], &n[12..15])
        }
        _ => return Err(IdError::Length),
    };
    if !CN_PROVINCES.contains(&&n[..2]) {
        return Err(IdError::Component("region code"));
    }
    let birth = if birth.len() == 8 {
        Date::new(
            birth[..4].parse().unwrap_or(0),
            birth[4..6].parse().unwrap_or(0),
            birth[6..8].parse().unwrap_or(0),
        )
    } else {
        Date::new(
            1900 + birth[..2].parse::<i32>().unwrap_or(0),
            birth[2..4].parse().unwrap_or(0),
            birth[4..6].parse().unwrap_or(0),
        )
    };
    let birth = birth
        .filter(|d| *d <= today && d.year() >= 1800)
        .ok_or(IdError::Component("birth date"))?;
    if n.len() == 18 {
        let sum: u32 = digits(&n[..17])
            .iter()
            .enumerate()
            .map(|(i, d)| d * ((1u32 << (17 - i)) % 11))
            .sum();
        let expected = b"10X98765432"[(sum % 11) as usize];
        if n.as_bytes()[17] != expected {
            return Err(IdError::Checksum);
        }
    }
    let sex = if digits(order)[2] % 2 == 1 { 'M' } else { 'F' };
    Ok((Some(birth), Some(sex)))
}

fn hkid(n: &str) -> Result<(), IdError> {
    if !(8..=9).contains(&n.len()) {
        return Err(IdError::Length);
    }
    let b = n.as_bytes();
    let letters = n.len() - 7;
    let check = b[n.len() - 1];
    if !b[..letters].iter().all(u8::is_ascii_uppercase)
        || !all_digits(&n[letters..n.len() - 1])
        || !(check.is_ascii_digit() || check == b'A')
    {
        return Err(IdError::Format);
    }
    // A single letter is preceded by a space, valued 36.
    let mut values: Vec<u32> = if letters == 1 { vec![36] } else { Vec::new() };
    values.extend(b[..letters].iter().map(|c| u32::from(c - b'A') + 10));
    values.extend(digits(&n[letters..n.len() - 1]));
    let sum: u32 = values.iter().zip((2..=9).rev()).map(|(v, w)| v * w).sum();
    let expected = match (11 - sum % 11) % 11 {
        10 => b'A',
        d => b'0' + d as u8,
    };
    if check != expected {
        return Err(IdError::Checksum);
    }
    Ok(())
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Verhoeff check over a digit string that ends in its check digit.
pub fn verhoeff_valid(number: &str) -> bool {
    all_digits(number)
        && number.bytes().rev().enumerate().fold(0u8, |c, (i, b)| {
            VERHOEFF_D[c as usize][VERHOEFF_P[i % 8][(b - b'0') as usize] as usize]
        }) == 0
}

fn aadhaar(n: &str) -> Result<(), IdError> {
    if n.len() != 12 {
        return Err(IdError::Length);
    }
    if !all_digits(n) || n.starts_with(['0', '1']) {
        return Err(IdError::Format);
    }
    if n.bytes().eq(n.bytes().rev()) {
        return Err(IdError::Format);
    }
    if !verhoeff_valid(n) {
        return Err(IdError::Checksum);
    }
    Ok(())
}

fn cpf(n: &str) -> Result<(), IdError> {
    if n.len() != 11 {
        return Err(IdError::Length);
    }
    if !all_digits(n) {
        return Err(IdError::Format);
    }
    let d = digits(n);
    if d.iter().all(|x| *x == d[0]) {
        return Err(IdError::Component("repeated digits"));
    }
    let check = |len: usize| {
        let sum: u32 = d[..len]
            .iter()
            .zip((2..=len as u32 + 1).rev())
            .map(|(a, w)| a * w)
            .sum();
        (sum * 10 % 11) % 10
    };
    if check(9) != d[9] || check(10) != d[10] {
        return Err(IdError::Checksum);
    }
    Ok(())
}

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

fn dni_letter(number: &str) -> Result<(), IdError> {
    let (body, letter) = number.split_at(number.len() - 1);
    if !all_digits(body) || !letter.as_bytes()[0].is_ascii_uppercase() {
        return Err(IdError::Format);
    }
    let value: u64 = body.parse().map_err(|_| IdError::Format)?;
    if DNI_LETTERS[(value % 23) as usize] != letter.as_bytes()[0] {
        return Err(IdError::Checksum);
    }
    Ok(())
}

fn dni(n: &str) -> Result<(), IdError> {
    if n.len() != 9 {
        return Err(IdError::Length);
    }
    dni_letter(n)
}

fn nie(n: &str) -> Result<(), IdError> {
    if n.len() != 9 {
        return Err(IdError::Length);
    }
    let prefix = match n.as_bytes()[0] {
        b'X' => '0',
        b'Y' => '1',
        b'Z' => '2',
        _ => return Err(IdError::Format),
    };
    dni_letter(&format!("{prefix}{}", &n[1..]))
}

const CF_ODD: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];
const CF_MONTHS: &[u8; 12] = b"ABCDEHLMPRST";
/// Letters that replace digits in numbers re-issued to resolve collisions (omocodia).
const CF_OMOCODE: &[u8; 10] = b"LMNPQRSTUV";

fn codice_fiscale(n: &str, today: Date) -> Result<Decoded, IdError> {
    if n.len() != 16 {
        return Err(IdError::Length);
    }
    let b = n.as_bytes();
    let digit_positions = [6, 7, 9, 10, 12, 13, 14];
    let letter_ok = |i: usize| b[i].is_ascii_uppercase();
    let digitish = |i: usize| b[i].is_ascii_digit() || CF_OMOCODE.contains(&b[i]);
    if !(0..6).all(letter_ok)
        || !digit_positions.iter().all(|&i| digitish(i))
        || !CF_MONTHS.contains(&b[8])
        || !letter_ok(11)
        || !letter_ok(15)
    {
        return Err(IdError::Format);
    }
    let value = |c: u8| -> u32 {
        if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A')
        }
    };
    let sum: u32 = b[..15]
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i % 2 == 0 {
                CF_ODD[value(c) as usize]
            } else {
                value(c)
            }
        })
        .sum();
    if b[15] != b'A' + (sum % 26) as u8 {
        return Err(IdError::Checksum);
    }
    let num = |i: usize| -> u32 {
        match CF_OMOCODE.iter().position(|c| *c == b[i]) {
            Some(d) => d as u32,
            None => u32::from(b[i] - b'0'),
        }
    };
    let yy = (num(6) * 10 + num(7)) as i32;
    let month = CF_MONTHS
        .iter()
        .position(|c| *c == b[8])
        .ok_or(IdError::Component("birth month"))? as u8
        + 1;
    let mut day = num(9) * 10 + num(10);
    let sex = if day > 40 {
        day -= 40;
        'F'
    } else {
        'M'
    };
    let year = if 2000 + yy > today.year() {
        1900 + yy
    } else {
        2000 + yy
    };
    let birth = Date::new(year, month, day as u8).ok_or(IdError::Component("birth date"))?;
    Ok((Some(birth), Some(sex)))
}
