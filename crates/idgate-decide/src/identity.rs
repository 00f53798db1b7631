//! One identity document verifies one account. Identities are remembered as keyed hashes
//! (HMAC-SHA256 with a server secret), never as the numbers and names themselves: one key
//! for the document (issuer, kind, number) and one for the person (name, birth date,
//! nationality), so that a second passport of someone already verified is noticed too.

use crate::assess::{normalise_number, Application, Extracted};
use crate::finding::Finding;
use crate::names;
use crate::policy::Policy;
use hmac::{Hmac, Mac};
use idgate_core::{ReasonCode, RejectType};
use sha2::Sha256;

pub use idgate_core::{ClaimStatus, IdentityKey, KeyKind};

fn hmac(secret: &[u8], parts: &[&str]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p.as_bytes());
        mac.update(&[0]);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// The keys of an application. Document values come from the MRZ when it was read (what is
/// printed is what identifies), else from what was entered.
pub fn keys(secret: &[u8], app: &Application, ex: &Extracted) -> Vec<IdentityKey> {
    let mut out = Vec::new();
    let issuer = app.document.issuer.to_ascii_uppercase();
    let number = match &ex.mrz {
        Some(m) => normalise_number(&m.document_number),
        None => normalise_number(&app.document.number),
    };
    if !number.is_empty() {
        out.push(IdentityKey {
            kind: KeyKind::Document,
            hash: hmac(secret, &["document", &issuer, &app.document.kind, &number]),
        });
    }
    let name = match &ex.mrz {
        Some(m) => canonical_name(&m.surname, &m.given_names),
        None => canonical_name(&app.family_name, &app.given_names),
    };
    if let (Some(name), Some(birth)) = (name, app.birth_date) {
        let birth = format!(
            "{:04}-{:02}-{:02}",
            birth.year(),
            birth.month(),
            birth.day()
        );
        out.push(IdentityKey {
            kind: KeyKind::Person,
            hash: hmac(
                secret,
                &[
                    "person",
                    &name,
                    &birth,
                    &app.nationality.to_ascii_uppercase(),
                ],
            ),
        });
    }
    out
}

/// Name words in MRZ spelling, sorted, so order and spacing do not split one person in two.
fn canonical_name(family: &str, given: &str) -> Option<String> {
    let spelled = names::spellings(&format!("{family} {given}")).swap_remove(0);
    let mut words: Vec<&str> = spelled.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    words.sort_unstable();
    Some(words.join(" "))
}

/// Another account holding one of this application's keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub kind: KeyKind,
    pub status: ClaimStatus,
    /// The other account's UID: for the reviewer and support, never shown to the applicant.
    pub uid: String,
}

/// Findings for keys other accounts hold. The same document verified elsewhere is final
/// (the applicant is sent to recover that account); a document still pending elsewhere, or
/// the same person verified with another document, goes to a reviewer.
pub fn duplicate_findings(policy: &Policy, claims: &[Claim]) -> Vec<Finding> {
    let code = ReasonCode::DuplicateIdentity;
    claims
        .iter()
        .map(|c| {
            let (ty, what) = match (c.kind, c.status) {
                (KeyKind::Document, ClaimStatus::Verified) => {
                    (policy.reject_type(code), "this document is verified")
                }
                (KeyKind::Document, ClaimStatus::Pending) => {
                    (RejectType::Review, "this document is pending")
                }
                (KeyKind::Person, ClaimStatus::Verified) => (
                    RejectType::Review,
                    "the same name, birth date and nationality are verified",
                ),
                (KeyKind::Person, ClaimStatus::Pending) => (
                    RejectType::Review,
                    "the same name, birth date and nationality are pending",
                ),
            };
            // The reviewer follows the account to its cases.
            let detail = serde_json::json!({ "note": what, "account": c.uid });
            Finding::new(code, ty, detail.to_string()).about("document")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::DocumentChoice;
    use idgate_mrz::Date;

    fn app(number: &str, family: &str, given: &str) -> Application {
        Application {
            uid: "u1".into(),
            nationality: "DE".into(),
            document: DocumentChoice {
                issuer: "DE".into(),
                kind: "passport".into(),
                number: number.into(),
            },
            family_name: family.into(),
            given_names: given.into(),
            birth_date: Date::new(1990, 5, 1),
            ..Default::default()
        }
    }

    #[test]
    fn keys_ignore_formatting_but_not_substance() {
        let secret = b"server secret";
        let base = keys(
            secret,
            &app("C01X00T47", "Müller", "Anna Lena"),
            &Extracted::default(),
        );
        assert_eq!(base.len(), 2);
        // Spacing, case and name order do not make another identity.
        let same = keys(
            secret,
            &app("c01x 00t47", "MUELLER", "Lena Anna"),
            &Extracted::default(),
        );
        assert_eq!(base, same);
        // Another number is another document, the same person.
        let other = keys(
            secret,
            &app("C01X00T48", "Müller", "Anna Lena"),
            &Extracted::default(),
        );
        assert_ne!(base[0], other[0]);
        assert_eq!(base[1], other[1]);
        // Another secret gives unrelated keys: they mean nothing outside the deployment.
        let foreign = keys(
            b"other",
            &app("C01X00T47", "Müller", "Anna Lena"),
            &Extracted::default(),
        );
        assert_ne!(base[0].hash, foreign[0].hash);
        assert!(!base[0].hash.contains("C01X"));
    }

    #[test]
    fn a_verified_document_elsewhere_is_final_the_rest_goes_to_review() {
        let p = Policy::default();
        let claim = |kind, status| Claim {
            kind,
            status,
            uid: "other".into(),
        };
        let f = duplicate_findings(&p, &[claim(KeyKind::Document, ClaimStatus::Verified)]);
        assert_eq!(
            (f[0].code, f[0].reject_type),
            (ReasonCode::DuplicateIdentity, RejectType::Final)
        );
        for (k, s) in [
            (KeyKind::Document, ClaimStatus::Pending),
            (KeyKind::Person, ClaimStatus::Verified),
        ] {
            assert_eq!(
                duplicate_findings(&p, &[claim(k, s)])[0].reject_type,
                RejectType::Review
            );
        }
    }
}
