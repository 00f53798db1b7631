//! What a list says about one listed party, whatever list it came from.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why a party is listed: a sanction forbids onboarding, a politically exposed person needs
/// enhanced due diligence. Both send the case to a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Sanction,
    Pep,
}

/// People are screened against people; organisations, vessels and aircraft are kept (a
/// business screening needs them) but never match a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Person,
    Organization,
    Vessel,
    Aircraft,
    Other,
}

/// A sex as lists write it in words (`Male`, `female`): `M` or `F`; anything else `None`.
pub fn gender_word(word: &str) -> Option<char> {
    match word.trim().to_ascii_lowercase().as_str() {
        "male" => Some('M'),
        "female" => Some('F'),
        _ => None,
    }
}

/// A birth date as lists give it: a year, a year and month, or a day; lists also give
/// ranges ("1960 to 1965"), kept as every year of the range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PartialDate {
    pub year: u16,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

impl PartialDate {
    pub fn year(year: u16) -> Self {
        PartialDate {
            year,
            month: None,
            day: None,
        }
    }

    /// `1970`, `1970-03`, `1970-03-21`; anything else is `None`.
    pub fn parse_iso(s: &str) -> Option<Self> {
        let mut parts = s.trim().splitn(3, '-');
        let year: u16 = parts.next()?.parse().ok()?;
        if !(1800..=2200).contains(&year) {
            return None;
        }
        let month = match parts.next() {
            Some(m) => Some(m.parse::<u8>().ok().filter(|m| (1..=12).contains(m))?),
            None => None,
        };
        let day = match parts.next() {
            Some(d) => Some(
                d.get(..2)
                    .unwrap_or(d)
                    .parse::<u8>()
                    .ok()
                    .filter(|d| (1..=31).contains(d))?,
            ),
            None => None,
        };
        Some(PartialDate { year, month, day })
    }
}

impl std::fmt::Display for PartialDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
            if let Some(d) = self.day {
                write!(f, "-{d:02}")?;
            }
        }
        Ok(())
    }
}

/// One listed party. `id` is stable across versions of its list (the list's own number,
/// prefixed by the source), so a version's diff and a reviewer's clearance can name it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    pub id: String,
    pub kind: EntityKind,
    pub topic: Topic,
    /// The list's main name first, then every alias, as the list writes them.
    pub names: Vec<String>,
    pub birth_dates: Vec<PartialDate>,
    /// ISO 3166-1 alpha-2, upper case; names the list gave that are no country are dropped.
    pub nationalities: Vec<String>,
    /// `M` or `F` where the list says.
    pub gender: Option<char>,
    /// Passport and national identity numbers, upper case, letters and digits only.
    pub identifiers: Vec<String>,
    /// Programmes or regimes (e.g. `SDGT`, `DRC`), for the reviewer.
    pub programs: Vec<String>,
}

/// Listed names and dates are public, but what they are compared with is not: keep `Debug`
/// to the identifier so that a match in a log never carries the applicant's name beside it.
impl std::fmt::Debug for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entity")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("topic", &self.topic)
            .field("names", &self.names.len())
            .finish_non_exhaustive()
    }
}

impl Entity {
    pub fn new(id: String, kind: EntityKind, topic: Topic) -> Self {
        Entity {
            id,
            kind,
            topic,
            names: Vec::new(),
            birth_dates: Vec::new(),
            nationalities: Vec::new(),
            gender: None,
            identifiers: Vec::new(),
            programs: Vec::new(),
        }
    }

    /// Adds a name unless empty or already there.
    pub fn add_name(&mut self, name: &str) {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        if !name.is_empty() && !self.names.contains(&name) {
            self.names.push(name);
        }
    }

    pub fn add_birth_date(&mut self, d: PartialDate) {
        if !self.birth_dates.contains(&d) {
            self.birth_dates.push(d);
        }
    }

    /// A country as a list names it (alpha-2, alpha-3 or its English name).
    pub fn add_nationality(&mut self, country: &str) {
        if let Some(c) = crate::fold::country(country) {
            if !self.nationalities.iter().any(|n| n == c) {
                self.nationalities.push(c.to_string());
            }
        }
    }

    pub fn add_identifier(&mut self, number: &str) {
        let n = crate::fold::identifier(number);
        if n.len() >= 5 && !self.identifiers.contains(&n) {
            self.identifiers.push(n);
        }
    }

    /// A digest of everything that is matched on: a reviewer's clearance of this entity
    /// holds until the digest changes, and a list version's diff compares digests.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        let canonical = serde_json::to_vec(self).expect("an entity serialises");
        h.update(&canonical);
        hex::encode(h.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates_parse_what_lists_write() {
        assert_eq!(
            PartialDate::parse_iso("1971"),
            Some(PartialDate::year(1971))
        );
        assert_eq!(
            PartialDate::parse_iso("1960-06-29").map(|d| d.to_string()),
            Some("1960-06-29".to_string())
        );
        assert_eq!(
            PartialDate::parse_iso("1960-06-29T00:00:00").map(|d| d.day),
            Some(Some(29))
        );
        assert_eq!(PartialDate::parse_iso("1960-13"), None);
        assert_eq!(PartialDate::parse_iso("circa"), None);
    }

    #[test]
    fn the_digest_changes_with_what_is_matched_on() {
        let mut a = Entity::new("un:1".into(), EntityKind::Person, Topic::Sanction);
        a.add_name("ERIC BADEGE");
        let before = a.digest();
        assert_eq!(before, a.clone().digest());
        a.add_birth_date(PartialDate::year(1971));
        assert_ne!(before, a.digest());
        assert!(!format!("{a:?}").contains("BADEGE"));
    }
}
