//! What the applicant entered for a case, as the API and `idgate verify` take it, and the
//! engine's [`Application`] made from it. Every field is personal data: `Debug` says which
//! fields are filled, never what they hold.

use anyhow::Context;
use idgate_decide::{Application, DocumentChoice};
use idgate_mrz::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The identity document the applicant chose.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentFile {
    /// Issuing country, alpha-2.
    pub country: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub number: String,
}

#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NameFile {
    #[serde(default)]
    pub given: String,
    #[serde(default)]
    pub family: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<String>,
}

/// What the applicant entered for a case (uid, region and level come from the account and
/// the case).
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnteredData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdivision: Option<String>,
    pub nationality: String,
    pub document: DocumentFile,
    pub name: NameFile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl EnteredData {
    /// The engine's view of this data; a malformed birth date is refused with the reason.
    pub fn application(&self, uid: &str, region: &str, level: &str) -> anyhow::Result<Application> {
        anyhow::ensure!(!uid.trim().is_empty(), "uid is empty");
        let birth_date = match &self.birth_date {
            Some(s) if !s.trim().is_empty() => Some(
                Date::parse_iso(s.trim())
                    .with_context(|| format!("birth_date {s:?} is not YYYY-MM-DD"))?,
            ),
            _ => None,
        };
        Ok(Application {
            uid: uid.into(),
            level: level.into(),
            residence: region.into(),
            subdivision: self.subdivision.clone(),
            nationality: self.nationality.clone(),
            document: DocumentChoice {
                issuer: self.document.country.clone(),
                kind: self.document.kind.clone(),
                number: self.document.number.clone(),
            },
            given_names: self.name.given.clone(),
            family_name: self.name.family.clone(),
            local_name: self.name.local.clone(),
            birth_date,
            address: self.address.clone(),
        })
    }
}

/// "set" or "empty": what `Debug` shows of a personal value.
fn filled(value: &str) -> &'static str {
    if value.trim().is_empty() {
        "empty"
    } else {
        "set"
    }
}

impl fmt::Debug for DocumentFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The kind is a catalogue word, not personal; the country and number identify.
        f.debug_struct("DocumentFile")
            .field("kind", &self.kind)
            .field("country", &filled(&self.country))
            .field("number", &filled(&self.number))
            .finish()
    }
}

impl fmt::Debug for NameFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NameFile")
            .field("given", &filled(&self.given))
            .field("family", &filled(&self.family))
            .field("local", &self.local.as_deref().map(filled))
            .finish()
    }
}

impl fmt::Debug for EnteredData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnteredData")
            .field("subdivision", &self.subdivision.as_deref().map(filled))
            .field("nationality", &filled(&self.nationality))
            .field("document", &self.document)
            .field("name", &self.name)
            .field("birth_date", &self.birth_date.as_deref().map(filled))
            .field("address", &self.address.as_deref().map(filled))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_personal_value() {
        let data = EnteredData {
            subdivision: Some("BY".into()),
            nationality: "DE".into(),
            document: DocumentFile {
                country: "DE".into(),
                kind: "passport".into(),
                number: "C01X00T47".into(),
            },
            name: NameFile {
                given: "Erika".into(),
                family: "Mustermann".into(),
                local: Some("Erika Mustermann".into()),
            },
            birth_date: Some("1964-08-12".into()),
            address: Some("Heidestrasse 17, Koeln".into()),
        };
        let shown = format!("{data:?} {data:#?}");
        for personal in [
            "BY",
            "DE",
            "C01X00T47",
            "Erika",
            "Mustermann",
            "1964",
            "Heide",
        ] {
            assert!(!shown.contains(personal), "{personal} in {shown}");
        }
        assert!(shown.contains("passport"), "{shown}");
    }
}
