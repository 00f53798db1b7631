//! The verification policy: levels, the document catalog, consistency rules, retry limits
//! and reject-type overrides, read from TOML. The defaults ship in `data/policy.toml`; a
//! deployment's file is merged over them key by key and the result is checked once.

use crate::business::BusinessPolicy;
use crate::country;
pub use crate::kinds::{DocKind, Side, Step, UploadKind};
use idgate_core::{ReasonCode, RejectType};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

const DEFAULT: &str = include_str!("../data/policy.toml");

/// What a level lets an account do. The platform enforces it; idgate answers the question.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Entitlements {
    #[serde(default)]
    pub deposit: bool,
    #[serde(default)]
    pub trade: bool,
    #[serde(default)]
    pub p2p: bool,
    #[serde(default)]
    pub withdraw: bool,
    #[serde(default)]
    pub withdraw_limit_usd_per_day: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub name: String,
    pub requires: Vec<Step>,
    pub entitlements: Entitlements,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSpec {
    pub sides: Vec<Side>,
    /// The kind carries a machine-readable zone that must be read.
    pub mrz: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
enum Issuers {
    All(String),
    List(Vec<String>),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regions {
    pub unsupported_countries: Vec<String>,
    pub unsupported_subdivisions: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub nationality_matches_document: bool,
    pub issuer_matches_nationality: Vec<DocKind>,
    pub issuer_matches_residence: Vec<DocKind>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttemptPolicy {
    pub window_hours: u32,
    /// Wait after the 1st, 2nd, ... failure in the window; the last value repeats.
    pub cooldown_minutes: Vec<u32>,
    pub escalate_after: u32,
}

/// How long what an applicant gave is kept. Images, entered data, kept liveness frames
/// and the evidence drawn on them are erased `images_days` after a case's final decision
/// (0: kept until the applicant is erased). The applicant's verified data and face
/// template stay while the applicant does (ongoing screening and duplicate search read
/// them); identity keys (keyed hashes), decisions and the audit trail are never erased
/// by retention: they are what the AML record-keeping period asks for.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    pub images_days: u32,
}

/// What happens to a suspicion (a finding that may mean an attack) that would otherwise
/// go back to the applicant as a retake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuspicionAction {
    /// The case goes to a person now.
    Review,
    /// The applicant gets the retake reasons; the account is flagged so that its next
    /// attempt goes to a person.
    Flag,
}

/// How many liveness challenges may be issued: each failed answer also counts as a failed
/// attempt, so cooldowns apply to challenges as to cases.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LivenessLimits {
    /// Challenges per case, in all.
    pub per_case: u32,
    /// Challenges per applicant (over all its cases) in any hour.
    pub per_applicant_per_hour: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuspicion {
    codes: Vec<String>,
    action: SuspicionAction,
}

/// Findings that must reach a person even when a retake is also asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspicion {
    pub codes: Vec<ReasonCode>,
    pub action: SuspicionAction,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    min_age: u8,
    liveness_required: bool,
    levels: Vec<Level>,
    kinds: BTreeMap<DocKind, KindSpec>,
    catalog: BTreeMap<String, toml::Value>,
    regions: Regions,
    rules: Rules,
    attempts: AttemptPolicy,
    liveness: LivenessLimits,
    retention: Retention,
    suspicion: RawSuspicion,
    #[serde(default)]
    reject_types: BTreeMap<String, String>,
    #[serde(default)]
    screening: toml::Table,
    business: toml::Value,
}

/// One accepted document: its kind, issuer and the sides to photograph.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Accepted {
    pub kind: &'static str,
    pub sides: Vec<Side>,
    pub mrz: bool,
}

/// A checked policy, ready to use.
#[derive(Clone, Debug)]
pub struct Policy {
    pub min_age: u8,
    /// The selfie step needs a passed active liveness challenge, not just a photo.
    pub liveness_required: bool,
    pub levels: Vec<Level>,
    pub kinds: BTreeMap<DocKind, KindSpec>,
    /// Issuing country (alpha-2) → accepted kinds.
    catalog: BTreeMap<&'static str, Vec<DocKind>>,
    /// "CC:kind" → sides, where a country's document differs from its kind.
    sides: HashMap<String, Vec<Side>>,
    /// "CC:kind" of documents printed without an MRZ although their kind has one.
    without_mrz: Vec<String>,
    pub regions: Regions,
    pub rules: Rules,
    pub attempts: AttemptPolicy,
    pub liveness: LivenessLimits,
    pub retention: Retention,
    pub suspicion: Suspicion,
    reject_types: HashMap<ReasonCode, RejectType>,
    /// Sanctions and PEP screening thresholds and weights, as written: the screening
    /// crate reads and checks them when the service starts.
    pub screening: toml::Table,
    /// Business applicants: entity kinds, their documents, the beneficial-owner threshold.
    pub business: BusinessPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("policy: {0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> PolicyError {
    PolicyError::Invalid(msg.into())
}

/// Tables merge key by key; anything else in `over` replaces what `base` had.
fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::from_toml("").expect("the shipped policy is valid")
    }
}

impl Policy {
    /// The shipped defaults with `overrides` (a TOML document, possibly empty) merged over.
    pub fn from_toml(overrides: &str) -> Result<Policy, PolicyError> {
        let mut value: toml::Value = toml::from_str(DEFAULT)?;
        merge(&mut value, toml::from_str(overrides)?);
        let raw: RawPolicy = value.try_into()?;
        Policy::check(raw)
    }

    fn check(raw: RawPolicy) -> Result<Policy, PolicyError> {
        if raw.levels.is_empty() {
            return Err(invalid("at least one level is needed"));
        }
        for (i, l) in raw.levels.iter().enumerate() {
            if raw.levels[..i].iter().any(|p| p.name == l.name) {
                return Err(invalid(format!("level {} is listed twice", l.name)));
            }
            if l.requires.is_empty() {
                return Err(invalid(format!("level {} requires no step", l.name)));
            }
        }
        for kind in DocKind::ALL {
            match raw.kinds.get(&kind) {
                Some(k) if !k.sides.is_empty() => {}
                _ => return Err(invalid(format!("kind {} needs sides", kind.as_str()))),
            }
        }
        let country = |code: &str| {
            country::by_alpha2(code)
                .map(|c| c.alpha2)
                .ok_or_else(|| invalid(format!("unknown country code {code}")))
        };
        let mut catalog: BTreeMap<&'static str, Vec<DocKind>> = BTreeMap::new();
        let mut sides = HashMap::new();
        let mut without_mrz = Vec::new();
        for (key, value) in raw.catalog {
            if key == "without_mrz" {
                let table: BTreeMap<String, Vec<String>> = value.try_into()?;
                for (kind, issuers) in table {
                    let kind = DocKind::parse(&kind).ok_or_else(|| {
                        invalid(format!("catalog.without_mrz: unknown kind {kind}"))
                    })?;
                    for cc in issuers {
                        without_mrz.push(format!("{}:{}", country(&cc)?, kind.as_str()));
                    }
                }
                continue;
            }
            if key == "sides" {
                let table: BTreeMap<String, Vec<Side>> = value.try_into()?;
                for (k, v) in table {
                    let (cc, kind) = k
                        .split_once(':')
                        .ok_or_else(|| invalid(format!("catalog.sides key {k}: use CC:kind")))?;
                    let kind = DocKind::parse(kind)
                        .ok_or_else(|| invalid(format!("catalog.sides key {k}: unknown kind")))?;
                    if v.is_empty() {
                        return Err(invalid(format!("catalog.sides {k} is empty")));
                    }
                    sides.insert(format!("{}:{}", country(cc)?, kind.as_str()), v);
                }
                continue;
            }
            let kind = DocKind::parse(&key)
                .ok_or_else(|| invalid(format!("catalog: unknown document kind {key}")))?;
            let issuers: Issuers = value.try_into()?;
            let codes: Vec<&'static str> = match issuers {
                Issuers::All(s) if s == "all" => country::all().iter().map(|c| c.alpha2).collect(),
                Issuers::All(s) => return Err(invalid(format!("catalog.{key} = {s:?}"))),
                Issuers::List(list) => list.iter().map(|c| country(c)).collect::<Result<_, _>>()?,
            };
            for c in codes {
                catalog.entry(c).or_default().push(kind);
            }
        }
        for kinds in catalog.values_mut() {
            kinds.sort();
            kinds.dedup();
        }
        for c in raw
            .regions
            .unsupported_countries
            .iter()
            .map(String::as_str)
            .chain(
                raw.regions
                    .unsupported_subdivisions
                    .iter()
                    .map(|s| s.split('-').next().unwrap_or("")),
            )
        {
            country(c)?;
        }
        let a = &raw.attempts;
        if a.cooldown_minutes.is_empty() || a.window_hours == 0 || a.escalate_after == 0 {
            return Err(invalid(
                "attempts need a window, cooldowns and an escalation count",
            ));
        }
        if raw.liveness.per_case == 0 || raw.liveness.per_applicant_per_hour == 0 {
            return Err(invalid("liveness limits must allow at least one challenge"));
        }
        let suspicion = Suspicion {
            codes: raw
                .suspicion
                .codes
                .iter()
                .map(|c| {
                    ReasonCode::parse(c)
                        .ok_or_else(|| invalid(format!("suspicion.codes: unknown code {c}")))
                })
                .collect::<Result<_, _>>()?,
            action: raw.suspicion.action,
        };
        let mut reject_types = HashMap::new();
        for (code, ty) in raw.reject_types {
            let c = ReasonCode::parse(&code)
                .ok_or_else(|| invalid(format!("reject_types: unknown code {code}")))?;
            let t = RejectType::parse(&ty).ok_or_else(|| {
                invalid(format!("reject_types.{code}: use RETRY, FINAL or REVIEW"))
            })?;
            reject_types.insert(c, t);
        }
        let business = BusinessPolicy::from_value(raw.business)?;
        Ok(Policy {
            min_age: raw.min_age,
            liveness_required: raw.liveness_required,
            levels: raw.levels,
            kinds: raw.kinds,
            catalog,
            sides,
            without_mrz,
            regions: raw.regions,
            rules: raw.rules,
            attempts: raw.attempts,
            liveness: raw.liveness,
            retention: raw.retention,
            suspicion,
            reject_types,
            screening: raw.screening,
            business,
        })
    }

    /// The reject type of `code` in this deployment.
    pub fn reject_type(&self, code: ReasonCode) -> RejectType {
        self.reject_types
            .get(&code)
            .copied()
            .unwrap_or(code.default_type())
    }

    /// The documents accepted from an issuing country, for the applicant UI's dropdown.
    pub fn accepted(&self, issuer: &str) -> Vec<Accepted> {
        let Some(c) = country::by_alpha2(issuer) else {
            return Vec::new();
        };
        self.catalog
            .get(c.alpha2)
            .into_iter()
            .flatten()
            .map(|&kind| Accepted {
                kind: kind.as_str(),
                sides: self.sides(c.alpha2, kind),
                mrz: self.has_mrz(c.alpha2, kind),
            })
            .collect()
    }

    pub fn accepts(&self, issuer: &str, kind: DocKind) -> bool {
        country::by_alpha2(issuer)
            .and_then(|c| self.catalog.get(c.alpha2))
            .is_some_and(|kinds| kinds.contains(&kind))
    }

    /// Does `kind` from `issuer` carry a machine-readable zone to read?
    pub fn has_mrz(&self, issuer: &str, kind: DocKind) -> bool {
        self.kinds[&kind].mrz
            && !self.without_mrz.contains(&format!(
                "{}:{}",
                issuer.to_ascii_uppercase(),
                kind.as_str()
            ))
    }

    /// The sides an upload of `kind` may be, whatever its issuer, the usual one first: a
    /// kind's sides and those of any country's variant of it.
    pub fn upload_sides(&self, kind: UploadKind) -> Vec<Side> {
        let kind = match kind {
            UploadKind::Identity(k) => k,
            UploadKind::Selfie => return vec![Side::Face],
            UploadKind::ProofOfAddress => return vec![Side::Page],
        };
        let mut out = self.kinds[&kind].sides.clone();
        let suffix = format!(":{}", kind.as_str());
        let mut variants: Vec<(&String, &Vec<Side>)> = self
            .sides
            .iter()
            .filter(|(k, _)| k.ends_with(&suffix))
            .collect();
        variants.sort();
        for side in variants.into_iter().flat_map(|(_, v)| v) {
            if !out.contains(side) {
                out.push(*side);
            }
        }
        out
    }

    /// The sides to photograph of `kind` from `issuer`.
    pub fn sides(&self, issuer: &str, kind: DocKind) -> Vec<Side> {
        self.sides
            .get(&format!(
                "{}:{}",
                issuer.to_ascii_uppercase(),
                kind.as_str()
            ))
            .unwrap_or(&self.kinds[&kind].sides)
            .clone()
    }

    /// Is verification offered to residents of `country` (alpha-2), in `subdivision`
    /// (ISO 3166-2, e.g. `UA-43`) if given?
    pub fn region_supported(&self, country: &str, subdivision: Option<&str>) -> bool {
        let r = &self.regions;
        !r.unsupported_countries
            .iter()
            .any(|c| c.eq_ignore_ascii_case(country))
            && !subdivision.is_some_and(|s| {
                r.unsupported_subdivisions
                    .iter()
                    .any(|u| u.eq_ignore_ascii_case(s))
            })
    }

    pub fn level(&self, name: &str) -> Option<&Level> {
        self.levels.iter().find(|l| l.name == name)
    }

    /// The highest level whose every step is in `verified`, if any.
    pub fn reached_level(&self, verified: &[Step]) -> Option<&Level> {
        self.levels
            .iter()
            .rev()
            .find(|l| l.requires.iter().all(|s| verified.contains(s)))
    }

    /// What an account with `verified` steps may do now.
    pub fn entitlements(&self, verified: &[Step]) -> Entitlements {
        self.reached_level(verified)
            .map(|l| l.entitlements.clone())
            .unwrap_or_default()
    }

    /// Steps `level` still needs once `verified` is reused.
    pub fn missing_steps(&self, level: &Level, verified: &[Step]) -> Vec<Step> {
        level
            .requires
            .iter()
            .copied()
            .filter(|s| !verified.contains(s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalog_lists_a_passport_for_every_country() {
        let p = Policy::default();
        for c in country::all() {
            let docs = p.accepted(c.alpha2);
            assert_eq!(docs[0].kind, "passport", "{}", c.alpha2);
            assert_eq!(docs[0].sides, [Side::PhotoPage]);
        }
        let cn: Vec<_> = p.accepted("CN").into_iter().map(|a| a.kind).collect();
        assert_eq!(cn, ["passport", "national_id"]);
        assert_eq!(
            p.sides("CN", DocKind::NationalId),
            [Side::Front, Side::Back]
        );
        assert_eq!(p.sides("HK", DocKind::NationalId), [Side::Front]);
        // An upload's side is checked against every variant of its kind, usual one first.
        let id = UploadKind::Identity(DocKind::NationalId);
        assert_eq!(p.upload_sides(id), [Side::Front, Side::Back]);
        let passport = UploadKind::Identity(DocKind::Passport);
        assert_eq!(p.upload_sides(passport), [Side::PhotoPage]);
        assert_eq!(p.upload_sides(UploadKind::Selfie), [Side::Face]);
        for k in UploadKind::all() {
            assert_eq!(UploadKind::parse(k.as_str()), Some(k));
        }
        assert!(UploadKind::ProofOfAddress.accepts_pdf() && !passport.accepts_pdf());
        assert!(!p.accepts("CN", DocKind::DriversLicense));
        assert!(p.accepts("us", DocKind::DriversLicense));
        assert!(p.accepted("XX").is_empty());
        // The Mainland China card has no MRZ; Germany's has one.
        assert!(!p.has_mrz("CN", DocKind::NationalId) && p.has_mrz("DE", DocKind::NationalId));
        assert!(p.has_mrz("CN", DocKind::Passport));
    }

    #[test]
    fn overrides_merge_over_the_defaults_key_by_key() {
        let p = Policy::from_toml(
            r#"
            min_age = 21
            [catalog]
            drivers_license = ["CN"]
            [regions]
            unsupported_countries = ["US"]
            [reject_types]
            PHOTOCOPY = "FINAL"
            "#,
        )
        .unwrap();
        assert_eq!(p.min_age, 21);
        assert!(p.accepts("CN", DocKind::DriversLicense));
        assert!(!p.accepts("US", DocKind::DriversLicense));
        // Untouched keys keep their defaults.
        assert!(p.accepts("DE", DocKind::NationalId));
        assert_eq!(p.attempts.escalate_after, 5);
        assert_eq!(p.retention.images_days, 1825);
        assert!(!p.region_supported("US", None));
        assert!(p.region_supported("IR", None));
        assert_eq!(p.reject_type(ReasonCode::Photocopy), RejectType::Final);
        assert_eq!(p.reject_type(ReasonCode::Glare), RejectType::Retry);
    }

    #[test]
    fn a_broken_policy_is_refused_with_the_reason() {
        for (toml, says) in [
            (
                "[catalog]\nnational_id = [\"XX\"]",
                "unknown country code XX",
            ),
            (
                "[catalog]\nhovercraft_licence = [\"DE\"]",
                "unknown document kind",
            ),
            ("[reject_types]\nGLARE = \"MAYBE\"", "use RETRY"),
            ("[reject_types]\nNOT_A_CODE = \"FINAL\"", "unknown code"),
            ("levels = []", "at least one level"),
            ("min_age = \"old\"", "invalid type"),
        ] {
            let err = Policy::from_toml(toml).unwrap_err().to_string();
            assert!(err.contains(says), "{toml}: {err}");
        }
    }

    #[test]
    fn levels_reuse_verified_steps_and_grant_entitlements() {
        let p = Policy::default();
        use Step::*;
        assert_eq!(p.entitlements(&[]), Entitlements::default());
        assert_eq!(p.entitlements(&[IdentityDocument]), Entitlements::default());
        let basic = p.entitlements(&[IdentityDocument, Selfie]);
        assert!(basic.withdraw && basic.deposit && basic.p2p);
        let advanced = p.level("advanced").unwrap();
        assert_eq!(
            p.missing_steps(advanced, &[IdentityDocument, Selfie]),
            [ProofOfAddress]
        );
        let all = p.entitlements(&[IdentityDocument, Selfie, ProofOfAddress]);
        assert!(all.withdraw_limit_usd_per_day > basic.withdraw_limit_usd_per_day);
        assert_eq!(
            p.reached_level(&[Selfie, IdentityDocument])
                .map(|l| &l.name[..]),
            Some("basic")
        );
    }

    #[test]
    fn unsupported_regions_by_country_and_subdivision() {
        let p = Policy::default();
        assert!(!p.region_supported("KP", None));
        assert!(!p.region_supported("UA", Some("UA-43")));
        assert!(p.region_supported("UA", Some("UA-30")));
        assert!(p.region_supported("FR", None));
    }
}
