//! Business applicants (KYB): the entity kinds a deployment accepts and the entity documents
//! each asks for (`[business]` in the policy, extendable by a deployment), the roles a key
//! party holds, and the Legal Entity Identifier's check digits (ISO 17442).

use crate::country;
use crate::policy::{Entitlements, PolicyError};
use serde::Deserialize;
use std::collections::BTreeMap;

/// What a key party is to an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Director,
    /// Holds a share of the entity (the relation carries the percentage).
    Shareholder,
    /// May act for the entity, under a board resolution or a power of attorney.
    AuthorisedSignatory,
    Trustee,
    Settlor,
    Protector,
    Beneficiary,
    FundManager,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Director,
        Role::Shareholder,
        Role::AuthorisedSignatory,
        Role::Trustee,
        Role::Settlor,
        Role::Protector,
        Role::Beneficiary,
        Role::FundManager,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Director => "director",
            Role::Shareholder => "shareholder",
            Role::AuthorisedSignatory => "authorised_signatory",
            Role::Trustee => "trustee",
            Role::Settlor => "settlor",
            Role::Protector => "protector",
            Role::Beneficiary => "beneficiary",
            Role::FundManager => "fund_manager",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// A party of a trust: a beneficial owner of it whatever its share.
    pub fn of_trust(self) -> bool {
        matches!(
            self,
            Role::Trustee | Role::Settlor | Role::Protector | Role::Beneficiary
        )
    }
}

/// One entity document kind: how recent a copy must be (0: any date, e.g. a certificate of
/// incorporation; registers and extracts go stale).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityDocSpec {
    pub max_age_days: u32,
}

/// What an entity kind must provide.
#[derive(Clone, Debug, PartialEq)]
pub struct EntityKindSpec {
    /// Each entry is satisfied by any one of its document kinds (a certificate of
    /// incorporation or a registry extract).
    pub documents: Vec<Vec<String>>,
    /// Roles at least one party must hold towards the entity.
    pub parties: Vec<Role>,
    /// Whether the entity's shareholders are declared: where they are, shares nobody is
    /// declared for could hide a beneficial owner. A trust, a fund with many small
    /// investors, a state enterprise or a non-profit has owners of another kind.
    pub holdings: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRequirement {
    One(String),
    AnyOf(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKind {
    documents: Vec<RawRequirement>,
    parties: Vec<Role>,
    holdings: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBusiness {
    beneficial_owner_percent: f64,
    entitlements: Entitlements,
    documents: BTreeMap<String, EntityDocSpec>,
    kinds: BTreeMap<String, RawKind>,
}

/// The checked `[business]` part of the policy.
#[derive(Clone, Debug, PartialEq)]
pub struct BusinessPolicy {
    /// A natural person holding more than this share, directly or through other entities,
    /// is a beneficial owner.
    pub beneficial_owner_percent: f64,
    /// What an approved business may do.
    pub entitlements: Entitlements,
    documents: BTreeMap<String, EntityDocSpec>,
    kinds: BTreeMap<String, EntityKindSpec>,
}

fn invalid(msg: String) -> PolicyError {
    PolicyError::Invalid(msg)
}

/// A word a deployment may name a kind or a document with: lower case, digits, `_`.
fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl BusinessPolicy {
    pub(crate) fn from_value(value: toml::Value) -> Result<BusinessPolicy, PolicyError> {
        let raw: RawBusiness = value.try_into()?;
        let p = raw.beneficial_owner_percent;
        if !(p > 0.0 && p < 100.0) {
            return Err(invalid(format!(
                "business.beneficial_owner_percent = {p}: between 0 and 100"
            )));
        }
        for name in raw.documents.keys() {
            if !is_word(name) {
                return Err(invalid(format!(
                    "business.documents: {name:?} is not a word"
                )));
            }
        }
        if raw.kinds.is_empty() {
            return Err(invalid("business.kinds: at least one entity kind".into()));
        }
        let mut kinds = BTreeMap::new();
        for (name, kind) in raw.kinds {
            if !is_word(&name) {
                return Err(invalid(format!("business.kinds: {name:?} is not a word")));
            }
            let mut documents = Vec::new();
            for req in kind.documents {
                let any_of = match req {
                    RawRequirement::One(d) => vec![d],
                    RawRequirement::AnyOf(ds) => ds,
                };
                if any_of.is_empty() {
                    return Err(invalid(format!("business.kinds.{name}: an empty choice")));
                }
                for d in &any_of {
                    if !raw.documents.contains_key(d) {
                        return Err(invalid(format!(
                            "business.kinds.{name}: unknown document {d}"
                        )));
                    }
                }
                documents.push(any_of);
            }
            kinds.insert(
                name,
                EntityKindSpec {
                    documents,
                    parties: kind.parties,
                    holdings: kind.holdings,
                },
            );
        }
        Ok(BusinessPolicy {
            beneficial_owner_percent: p,
            entitlements: raw.entitlements,
            documents: raw.documents,
            kinds,
        })
    }

    pub fn kind(&self, name: &str) -> Option<&EntityKindSpec> {
        self.kinds.get(name)
    }

    /// Every entity kind, by name.
    pub fn kinds(&self) -> impl Iterator<Item = (&str, &EntityKindSpec)> {
        self.kinds.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn document(&self, name: &str) -> Option<&EntityDocSpec> {
        self.documents.get(name)
    }

    /// Every entity document kind, by name.
    pub fn documents(&self) -> impl Iterator<Item = (&str, &EntityDocSpec)> {
        self.documents.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// An ISO 17442 Legal Entity Identifier: 18 letters and digits and two check digits that
/// make the whole, letters counted as 10 to 35, equal to 1 modulo 97 (ISO 7064 MOD 97-10).
pub fn lei_valid(lei: &str) -> bool {
    let b = lei.as_bytes();
    if b.len() != 20
        || !b[..18]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        || !b[18..].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let mut rest: u32 = 0;
    for &c in b {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rest = if v >= 10 {
            (rest * 100 + v) % 97
        } else {
            (rest * 10 + v) % 97
        };
    }
    rest == 1
}

/// A jurisdiction: a country (ISO 3166-1 alpha-2) or one of its subdivisions (ISO 3166-2,
/// e.g. `US-DE`, where companies are registered by state). Answers the canonical form.
pub fn jurisdiction(code: &str) -> Option<String> {
    let (cc, sub) = match code.split_once('-') {
        Some((cc, sub)) => (cc, Some(sub)),
        None => (code, None),
    };
    let c = country::by_alpha2(&cc.to_ascii_uppercase())?;
    match sub {
        None => Some(c.alpha2.to_string()),
        Some(s) if (1..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Some(format!("{}-{}", c.alpha2, s.to_ascii_uppercase()))
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    #[test]
    fn lei_check_digits_follow_iso_7064() {
        for (lei, ok) in [
            // GLEIF's own LEI and published ones.
            ("506700GE1G29325QX363", true),
            ("529900T8BM49AURSDO55", true),
            ("5493001KJTIIGC8Y1R12", true),
            // One digit changed, two swapped, a letter in the check digits, short, lower case.
            ("506700GE1G29325QX364", false),
            ("529900T8BM49AURSDO5", false),
            ("5299009TBM49AURSDO55", false),
            ("5493001KJTIIGC8Y1RA2", false),
            ("5493001kjtiigc8y1r12", false),
            ("", false),
        ] {
            assert_eq!(lei_valid(lei), ok, "{lei}");
        }
    }

    #[test]
    fn jurisdictions_are_countries_or_their_subdivisions() {
        assert_eq!(jurisdiction("gb").as_deref(), Some("GB"));
        assert_eq!(jurisdiction("US-de").as_deref(), Some("US-DE"));
        assert_eq!(jurisdiction("XX"), None);
        assert_eq!(jurisdiction("US-"), None);
        assert_eq!(jurisdiction("US-DELA"), None);
    }

    #[test]
    fn the_shipped_catalogue_has_the_five_kinds_and_checks_a_deployments_additions() {
        let p = Policy::default();
        for kind in [
            "private_company",
            "trust",
            "fund",
            "government_owned_enterprise",
            "non_profit",
        ] {
            let spec = p.business.kind(kind).expect(kind);
            assert!(!spec.documents.is_empty(), "{kind}");
        }
        assert!(p
            .business
            .kind("trust")
            .unwrap()
            .parties
            .contains(&Role::Trustee));
        assert!(p.business.kind("private_company").unwrap().holdings);
        assert_eq!(p.business.beneficial_owner_percent, 25.0);

        let extended = Policy::from_toml(
            "[business.documents]\ncooperative_rules = { max_age_days = 0 }\n\
             [business.kinds.cooperative]\ndocuments = [\"cooperative_rules\", \
             [\"registry_extract\", \"certificate_of_incorporation\"]]\n\
             parties = [\"director\"]\nholdings = false\n",
        )
        .unwrap();
        let coop = extended.business.kind("cooperative").unwrap();
        assert_eq!(coop.documents.len(), 2);
        assert!(
            extended.business.kind("trust").is_some(),
            "the defaults stay"
        );

        for bad in [
            "[business.kinds.cooperative]\ndocuments = [\"rules\"]\nparties = []\nholdings = false\n",
            "[business.kinds.cooperative]\ndocuments = [[]]\nparties = []\nholdings = false\n",
            "[business.kinds.cooperative]\ndocuments = []\nparties = [\"king\"]\nholdings = false\n",
            "[business]\nbeneficial_owner_percent = 100.0\n",
            "[business.kinds.\"Co-op\"]\ndocuments = []\nparties = []\nholdings = false\n",
        ] {
            assert!(Policy::from_toml(bad).is_err(), "{bad}");
        }
    }
}
