//! Rendering fields into MRZ lines: the inverse of [`crate::parse`], used by property
//! tests and by the specimen generator. Check digits are computed, never supplied.

use crate::check::check_digit_char;
use crate::format::Format;

/// What a document holder's MRZ says, before layout. Text must already be in the MRZ
/// alphabet (upper-case Latin letters, digits); names use spaces between words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Specimen {
    pub document_code: String,
    pub issuing_country: String,
    pub surname: String,
    pub given_names: String,
    /// Up to 9 characters (TD1/TD2 longer numbers are not rendered).
    pub document_number: String,
    pub nationality: String,
    /// YYMMDD
    pub birth_date: String,
    pub sex: char,
    /// YYMMDD
    pub expiry_date: String,
    pub optional_data: String,
}

fn pad(s: &str, len: usize) -> String {
    let mut out: String = s.replace(' ', "<").chars().take(len).collect();
    while out.len() < len {
        out.push('<');
    }
    out
}

fn digit(s: &str) -> char {
    char::from(check_digit_char(s.as_bytes()).expect("MRZ alphabet"))
}

/// Name field: primary `<<` secondary, truncated to `len`.
fn name_field(surname: &str, given: &str, len: usize) -> String {
    pad(&format!("{}<<{}", surname, given), len)
}

/// Renders `s` in `format`; `None` for layouts other than TD1, TD2 and TD3.
pub fn render(format: Format, s: &Specimen) -> Option<Vec<String>> {
    let doc = pad(&s.document_number, 9);
    let doc_cd = digit(&doc);
    let birth_cd = digit(&s.birth_date);
    let expiry_cd = digit(&s.expiry_date);
    let code = pad(&s.document_code, 2);
    let issuer = pad(&s.issuing_country, 3);
    let nat = pad(&s.nationality, 3);
    match format {
        Format::Td1 => {
            let opt1 = pad(&s.optional_data, 15);
            let l1 = format!("{code}{issuer}{doc}{doc_cd}{opt1}");
            let l2a = format!(
                "{}{birth_cd}{}{}{expiry_cd}{nat}{}",
                s.birth_date,
                s.sex,
                s.expiry_date,
                pad("", 11)
            );
            let composite = format!(
                "{}{}{}{}",
                &l1[5..30],
                &l2a[0..7],
                &l2a[8..15],
                &l2a[18..29]
            );
            let l2 = format!("{l2a}{}", digit(&composite));
            Some(vec![l1, l2, name_field(&s.surname, &s.given_names, 30)])
        }
        Format::Td2 | Format::Td3 => {
            let (len, opt_len) = if format == Format::Td3 {
                (44, 14)
            } else {
                (36, 7)
            };
            let l1 = format!(
                "{code}{issuer}{}",
                name_field(&s.surname, &s.given_names, len - 5)
            );
            let opt = pad(&s.optional_data, opt_len);
            let mut l2 = format!(
                "{doc}{doc_cd}{nat}{}{birth_cd}{}{}{expiry_cd}{opt}",
                s.birth_date, s.sex, s.expiry_date
            );
            if format == Format::Td3 {
                l2.push(digit(&opt));
            }
            let composite = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..]);
            l2.push(digit(&composite));
            Some(vec![l1, l2])
        }
        _ => None,
    }
}
