//! The rules that need no image: is the region served, is the document in the catalog,
//! do residence, nationality and issuer line up, is everything required there, and does
//! what the applicant typed agree with what the document says (MRZ, national number).

use crate::country;
use crate::finding::Finding;
use crate::names::{self, NameMatch};
use crate::policy::{DocKind, Policy};
use idgate_core::{ReasonCode, RejectType};
use idgate_mrz::national::{self, IdKind};
use idgate_mrz::{Date, Fields};

/// What the applicant entered and chose. Personal data: `Debug` shows the level and the
/// document kind, and of everything else only whether it is filled.
#[derive(Clone, Default)]
pub struct Application {
    pub uid: String,
    pub level: String,
    /// Country of residence chosen at sign-up (alpha-2) and, where known, its ISO 3166-2
    /// subdivision.
    pub residence: String,
    pub subdivision: Option<String>,
    pub nationality: String,
    pub document: DocumentChoice,
    pub given_names: String,
    pub family_name: String,
    /// The name in the document's own script, e.g. Chinese characters.
    pub local_name: Option<String>,
    pub birth_date: Option<Date>,
    pub address: Option<String>,
}

#[derive(Clone, Default)]
pub struct DocumentChoice {
    /// Issuing country, alpha-2.
    pub issuer: String,
    /// A catalog kind name (`passport`, `national_id`...).
    pub kind: String,
    pub number: String,
}

/// "set" or "empty": what `Debug` shows of a personal value.
fn filled(value: &str) -> &'static str {
    if value.trim().is_empty() {
        "empty"
    } else {
        "set"
    }
}

impl std::fmt::Debug for DocumentChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentChoice")
            .field("kind", &self.kind)
            .field("issuer", &filled(&self.issuer))
            .field("number", &filled(&self.number))
            .finish()
    }
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("uid", &filled(&self.uid))
            .field("level", &self.level)
            .field("residence", &filled(&self.residence))
            .field("subdivision", &self.subdivision.as_deref().map(filled))
            .field("nationality", &filled(&self.nationality))
            .field("document", &self.document)
            .field("given_names", &filled(&self.given_names))
            .field("family_name", &filled(&self.family_name))
            .field("local_name", &self.local_name.as_deref().map(filled))
            .field("birth_date", &self.birth_date.map(|_| "set"))
            .field("address", &self.address.as_deref().map(filled))
            .finish()
    }
}

/// What the document images gave.
#[derive(Clone, Debug, Default)]
pub struct Extracted {
    /// The sides that were uploaded.
    pub sides: Vec<crate::Side>,
    /// The MRZ, if one was read with valid check digits.
    pub mrz: Option<Fields>,
    /// The MRZ's name field was filled to its end, so the name may be truncated.
    pub mrz_name_full: bool,
}

struct Ctx<'a> {
    policy: &'a Policy,
    out: Vec<Finding>,
}

impl Ctx<'_> {
    fn add(&mut self, code: ReasonCode, subject: &str, detail: String) {
        let ty = self.policy.reject_type(code);
        self.out.push(Finding::new(code, ty, detail).about(subject));
    }
    fn review(&mut self, code: ReasonCode, subject: &str, detail: String) {
        self.out
            .push(Finding::new(code, RejectType::Review, detail).about(subject));
    }
}

/// Document numbers compare without spaces, hyphens, fillers or case.
pub fn normalise_number(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The national number scheme idgate can check for a national ID of `issuer`.
fn national_scheme(issuer: &str, number: &str) -> Option<IdKind> {
    match issuer {
        "CN" => Some(IdKind::CnResidentId),
        "HK" => Some(IdKind::HkIdentityCard),
        "IN" => Some(IdKind::InAadhaar),
        "BR" => Some(IdKind::BrCpf),
        "ES" if number.starts_with(['X', 'Y', 'Z']) => Some(IdKind::EsNie),
        "ES" => Some(IdKind::EsDni),
        _ => None,
    }
}

/// Every finding about the application's data, given what the images yielded.
pub fn assess(policy: &Policy, app: &Application, ex: &Extracted, today: Date) -> Vec<Finding> {
    let mut c = Ctx {
        policy,
        out: Vec::new(),
    };
    let residence = app.residence.to_ascii_uppercase();
    let nationality = app.nationality.to_ascii_uppercase();
    let issuer = app.document.issuer.to_ascii_uppercase();

    // Where the applicant lives decides whether we serve them at all.
    if country::by_alpha2(&residence).is_none() {
        c.add(
            ReasonCode::RegionNotSupported,
            "residence",
            format!("unknown country of residence {residence:?}"),
        );
    } else if !policy.region_supported(&residence, app.subdivision.as_deref()) {
        c.add(
            ReasonCode::RegionNotSupported,
            "residence",
            format!(
                "residence {residence}{} is not served",
                app.subdivision
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default()
            ),
        );
    }

    // The document must be one the catalog lists for its issuer.
    let kind = DocKind::parse(&app.document.kind);
    let Some(kind) = kind.filter(|k| policy.accepts(&issuer, *k)) else {
        c.add(
            ReasonCode::UnsupportedDocument,
            "document.kind",
            format!("{} from {issuer} is not in the catalog", app.document.kind),
        );
        return c.out;
    };

    // Residence, nationality and issuer, under the configured rules.
    let rules = &policy.rules;
    if rules.issuer_matches_nationality.contains(&kind) && issuer != nationality {
        c.add(
            ReasonCode::NationalityMismatch,
            "nationality",
            format!(
                "rule issuer_matches_nationality: a {} from {issuer} with nationality {nationality}",
                kind.as_str()
            ),
        );
    }
    if rules.issuer_matches_residence.contains(&kind) && issuer != residence {
        c.add(
            ReasonCode::RegionMismatch,
            "residence",
            format!(
                "rule issuer_matches_residence: a {} from {issuer} with residence {residence}",
                kind.as_str()
            ),
        );
    }

    // Every side the document needs.
    let missing: Vec<crate::Side> = policy
        .sides(&issuer, kind)
        .into_iter()
        .filter(|s| !ex.sides.contains(s))
        .collect();
    for side in &missing {
        c.add(
            ReasonCode::MissingSide,
            &format!("side:{side}"),
            format!("{} from {issuer} needs the {side}", kind.as_str()),
        );
    }

    // The entered data on its own.
    let number = normalise_number(&app.document.number);
    if number.is_empty() {
        c.add(
            ReasonCode::DocumentNumberInvalid,
            "document.number",
            "no document number entered".into(),
        );
    }
    let mut encoded_birth = None;
    if kind == DocKind::NationalId && !number.is_empty() {
        if let Some(scheme) = national_scheme(&issuer, &number) {
            match national::validate(scheme, &number, today) {
                Ok(id) => encoded_birth = id.birth_date,
                Err(e) => c.add(
                    ReasonCode::DocumentNumberInvalid,
                    "document.number",
                    format!("not a valid {} number: {e}", scheme.code()),
                ),
            }
        }
    }
    let latin_name = !(app.given_names.trim().is_empty() && app.family_name.trim().is_empty());
    if !latin_name
        && app
            .local_name
            .as_deref()
            .is_none_or(|n| n.trim().is_empty())
    {
        c.add(ReasonCode::NameMismatch, "name", "no name entered".into());
    }
    match app.birth_date {
        None => c.add(
            ReasonCode::MissingDateOfBirth,
            "birth_date",
            "no date of birth entered".into(),
        ),
        Some(b) => {
            let age = b.years_until(today);
            if age < i32::from(policy.min_age) {
                c.add(
                    ReasonCode::Underage,
                    "birth_date",
                    format!("age {age}, minimum {}", policy.min_age),
                );
            }
            if encoded_birth.is_some_and(|e| e != b) {
                c.add(
                    ReasonCode::BirthDateMismatch,
                    "birth_date",
                    "the national number encodes another birth date".into(),
                );
            }
        }
    }

    // Against the document's MRZ.
    let needs_mrz = policy.has_mrz(&issuer, kind);
    let Some(mrz) = &ex.mrz else {
        // An MRZ that should be there and was not read is the photo checks' finding
        // (MRZ_UNREADABLE or MRZ_INVALID); without one, a person compares the data.
        if !needs_mrz {
            c.review(
                ReasonCode::ComplianceReview,
                "document",
                format!(
                    "a {} has no machine-readable zone: a reviewer compares the data",
                    kind.as_str()
                ),
            );
        }
        return c.out;
    };
    let mrz_issuer = country::by_mrz_code(&mrz.issuing_country).map(|c| c.alpha2);
    if mrz_issuer != Some(issuer.as_str()) {
        c.add(
            ReasonCode::RegionMismatch,
            "document.issuer",
            format!(
                "selected issuer {issuer}, the MRZ says {}",
                mrz.issuing_country
            ),
        );
    }
    let mrz_nationality = country::by_mrz_code(&mrz.nationality).map(|c| c.alpha2);
    if rules.nationality_matches_document && mrz_nationality != Some(nationality.as_str()) {
        c.add(
            ReasonCode::NationalityMismatch,
            "nationality",
            format!(
                "selected nationality {nationality}, the MRZ says {}",
                mrz.nationality
            ),
        );
    }
    let printed = normalise_number(&mrz.document_number);
    let personal = normalise_number(&mrz.optional_data);
    // National ID cards print the card number in the MRZ and the personal number beside it:
    // either is what an applicant may call their ID number.
    let number_ok = number == printed
        || (kind == DocKind::NationalId && !personal.is_empty() && number == personal);
    if !number.is_empty() && !number_ok {
        c.add(
            ReasonCode::DocumentNumberMismatch,
            "document.number",
            format!(
                "entered {} characters, not the printed number",
                number.len()
            ),
        );
    }
    match (mrz.birth_date, app.birth_date) {
        (None, _) => c.add(
            ReasonCode::MissingDateOfBirth,
            "birth_date",
            format!("the MRZ birth date is {:?}", mrz.birth_date_raw),
        ),
        (Some(printed), Some(entered)) if printed != entered => c.add(
            ReasonCode::BirthDateMismatch,
            "birth_date",
            "entered date differs from the MRZ".into(),
        ),
        _ => {}
    }
    // Accepted spelling conventions are not findings; `name_note` tells a reviewer which.
    if latin_name && name_note(app, ex).is_none() {
        c.add(
            ReasonCode::NameMismatch,
            "name",
            "entered name differs from the MRZ after transliteration".into(),
        );
    }
    if let Some(local) = app.local_name.as_deref().filter(|n| !n.trim().is_empty()) {
        // Pinyin is how Mainland China documents spell a Chinese name; Hong Kong, Macao and
        // Taiwan romanise differently, so there the local name is left to a reviewer.
        if mrz_issuer == Some("CN") {
            match names::han_match(local, &mrz.surname, &mrz.given_names) {
                Some(true) => {}
                Some(false) => c.add(
                    ReasonCode::NameMismatch,
                    "local_name",
                    "the characters do not read as the MRZ's pinyin".into(),
                ),
                None => c.add(
                    ReasonCode::NameMismatch,
                    "local_name",
                    "a Mainland China document's local name is written in Chinese characters"
                        .into(),
                ),
            }
        }
    }
    c.out
}

/// How the entered name was accepted, for the reviewer.
pub fn name_note(app: &Application, ex: &Extracted) -> Option<&'static str> {
    let mrz = ex.mrz.as_ref()?;
    names::latin_match(
        &app.given_names,
        &app.family_name,
        &mrz.surname,
        &mrz.given_names,
        ex.mrz_name_full,
    )
    .map(NameMatch::as_str)
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn an_application_debug_shows_no_personal_value() {
        let app = Application {
            uid: "acct-7731".into(),
            level: "basic".into(),
            residence: "DE".into(),
            subdivision: Some("DE-BY".into()),
            nationality: "DE".into(),
            document: DocumentChoice {
                issuer: "DE".into(),
                kind: "passport".into(),
                number: "C01X00T47".into(),
            },
            given_names: "Erika".into(),
            family_name: "Mustermann".into(),
            local_name: Some("Эрика".into()),
            birth_date: Date::new(1964, 8, 12),
            address: Some("Heidestrasse 17".into()),
        };
        let shown = format!("{app:?} {app:#?}");
        for personal in [
            "acct-7731",
            "DE",
            "C01X00T47",
            "Erika",
            "Mustermann",
            "Эрика",
            "1964",
            "Heide",
        ] {
            assert!(!shown.contains(personal), "{personal} in {shown}");
        }
        assert!(
            shown.contains("basic") && shown.contains("passport"),
            "{shown}"
        );
    }
}
