//! The failure stories of ../shared/seeds, each decided by the engine from what an
//! applicant entered and what their document's MRZ says. (The same stories with real
//! photos and the persistent state run end to end in idgate-server's tests/verify.rs.)

use idgate_core::{ReasonCode, RejectType};
use idgate_decide::attempts::Attempt;
use idgate_decide::identity::{Claim, ClaimStatus, KeyKind};
use idgate_decide::{
    decide, throttle, Application, DocumentChoice, Extracted, Finding, Inputs, Outcome, Policy,
    Step,
};
use idgate_mrz::{Date, Format, ParseOptions, Specimen};
use ReasonCode::*;

const TODAY: (i32, u8, u8) = (2026, 11, 24);
const NOW: i64 = 1_795_500_000_000;
const MIN: i64 = 60_000;

fn today() -> Date {
    Date::new(TODAY.0, TODAY.1, TODAY.2).unwrap()
}

/// A policy whose single level needs only the identity document, so that a clean
/// application can be approved without a selfie reviewer.
fn id_only() -> Policy {
    Policy::from_toml(
        r#"
        [[levels]]
        name = "id"
        requires = ["identity_document"]
        entitlements = { deposit = true, withdraw = true, withdraw_limit_usd_per_day = 1000 }
        "#,
    )
    .unwrap()
}

struct Doc {
    format: Format,
    code: &'static str,
    issuer: &'static str,
    surname: &'static str,
    given: &'static str,
    number: &'static str,
    nationality: &'static str,
    birth: &'static str,
    optional: &'static str,
}

const ERIKA: Doc = Doc {
    format: Format::Td3,
    code: "P",
    issuer: "D",
    surname: "MUSTERMANN",
    given: "ERIKA",
    number: "C01X00T47",
    nationality: "D",
    birth: "640812",
    optional: "",
};

const ZHANG: Doc = Doc {
    format: Format::Td3,
    code: "P",
    issuer: "CHN",
    surname: "ZHANG",
    given: "XIAOMING",
    number: "E12345678",
    nationality: "CHN",
    birth: "950301",
    optional: "",
};

fn extracted(d: &Doc, sides: &[&str]) -> Extracted {
    let s = Specimen {
        document_code: d.code.into(),
        issuing_country: d.issuer.into(),
        surname: d.surname.into(),
        given_names: d.given.into(),
        document_number: d.number.into(),
        nationality: d.nationality.into(),
        birth_date: d.birth.into(),
        sex: 'F',
        expiry_date: "310101".into(),
        optional_data: d.optional.into(),
    };
    let lines = idgate_mrz::render(d.format, &s).unwrap();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mrz = idgate_mrz::parse(&refs, &ParseOptions { today: today() }).unwrap();
    assert!(mrz.valid(), "{lines:?}");
    Extracted {
        sides: sides
            .iter()
            .map(|s| idgate_decide::Side::parse(s).unwrap())
            .collect(),
        mrz: Some(mrz.fields),
        mrz_name_full: false,
    }
}

fn erika() -> Application {
    Application {
        uid: "erika".into(),
        level: "id".into(),
        residence: "DE".into(),
        nationality: "DE".into(),
        document: DocumentChoice {
            issuer: "DE".into(),
            kind: "passport".into(),
            number: "C01X00T47".into(),
        },
        given_names: "Erika".into(),
        family_name: "Mustermann".into(),
        birth_date: Date::new(1964, 8, 12),
        ..Default::default()
    }
}

fn zhang() -> Application {
    Application {
        uid: "zhang".into(),
        level: "id".into(),
        residence: "CN".into(),
        nationality: "CN".into(),
        document: DocumentChoice {
            issuer: "CN".into(),
            kind: "passport".into(),
            number: "E12345678".into(),
        },
        given_names: "Xiaoming".into(),
        family_name: "Zhang".into(),
        local_name: Some("张晓明".into()),
        birth_date: Date::new(1995, 3, 1),
        ..Default::default()
    }
}

fn run(policy: &Policy, app: Application, ex: Extracted) -> idgate_decide::Verdict {
    let inputs = Inputs {
        app,
        extracted: ex,
        ..Default::default()
    };
    decide(policy, &inputs, today(), NOW)
}

fn codes(v: &idgate_decide::Verdict) -> Vec<ReasonCode> {
    v.findings.iter().map(|f| f.code).collect()
}

#[test]
fn a_clean_application_is_approved_and_unlocks_its_level() {
    let p = id_only();
    let v = run(&p, erika(), extracted(&ERIKA, &["photo_page"]));
    assert_eq!((v.outcome, codes(&v)), (Outcome::Approved, vec![]));
    assert_eq!(v.verifies, [Step::IdentityDocument]);
    assert_eq!(v.level.as_deref(), Some("id"));
    assert!(p.entitlements(&v.verifies).withdraw);
    assert_eq!(v.retry_after_ms, None);
}

#[test]
fn the_selfie_step_follows_the_face_checks_or_asks_for_a_selfie() {
    let p = Policy::default();
    let mut app = erika();
    app.level = "basic".into();
    let matched = Inputs {
        app: app.clone(),
        extracted: extracted(&ERIKA, &["photo_page"]),
        selfie_supplied: true,
        ..Default::default()
    };
    let v = decide(&p, &matched, today(), NOW);
    assert_eq!((v.outcome, codes(&v)), (Outcome::Approved, vec![]));
    assert_eq!(v.verifies, [Step::IdentityDocument, Step::Selfie]);
    let mismatch = Inputs {
        face_findings: vec![Finding::new(
            FaceMismatch,
            p.reject_type(FaceMismatch),
            "similarity 0.5",
        )
        .about("selfie")],
        ..matched.clone()
    };
    let v = decide(&p, &mismatch, today(), NOW);
    assert_eq!(v.outcome, Outcome::ResubmissionRequested);
    assert_eq!(codes(&v), vec![FaceMismatch]);
    assert!(v.verifies.is_empty());
    let without = Inputs {
        selfie_supplied: false,
        ..mismatch
    };
    let v = decide(&p, &without, today(), NOW);
    assert_eq!(
        (v.outcome, codes(&v)),
        (Outcome::ResubmissionRequested, vec![FaceNotFound])
    );
}

#[test]
fn entered_data_must_match_the_document_character_by_character() {
    let p = id_only();
    let ex = || extracted(&ERIKA, &["photo_page"]);
    type Change = Box<dyn Fn(&mut Application)>;
    let cases: Vec<(&str, Change, Vec<ReasonCode>)> = vec![
        (
            "number typo",
            Box::new(|a| a.document.number = "C01X00T74".into()),
            vec![DocumentNumberMismatch],
        ),
        (
            "number with spaces",
            Box::new(|a| a.document.number = "c01x 00t47".into()),
            vec![],
        ),
        (
            "birth date",
            Box::new(|a| a.birth_date = Date::new(1964, 12, 8)),
            vec![BirthDateMismatch],
        ),
        (
            "no birth date",
            Box::new(|a| a.birth_date = None),
            vec![MissingDateOfBirth],
        ),
        (
            "another surname",
            Box::new(|a| a.family_name = "Musterfrau".into()),
            vec![NameMismatch],
        ),
        (
            "names swapped",
            Box::new(|a| {
                a.family_name = "Erika".into();
                a.given_names = "Mustermann".into();
            }),
            vec![],
        ),
        (
            "upper case",
            Box::new(|a| a.family_name = "MUSTERMANN".into()),
            vec![],
        ),
    ];
    for (story, change, want) in cases {
        let mut app = erika();
        change(&mut app);
        let v = run(&p, app, ex());
        assert_eq!(codes(&v), want, "{story}");
        let expect = if want.is_empty() {
            Outcome::Approved
        } else {
            Outcome::ResubmissionRequested
        };
        assert_eq!(v.outcome, expect, "{story}");
        // Every reason says which field to fix.
        assert!(v.findings.iter().all(|f| f.subject.is_some()), "{story}");
    }
}

#[test]
fn chinese_characters_are_compared_with_the_passports_pinyin() {
    let p = id_only();
    let ex = || extracted(&ZHANG, &["photo_page"]);
    assert_eq!(run(&p, zhang(), ex()).outcome, Outcome::Approved);
    // Only the characters, no pinyin typed: still compared, still fine.
    let mut only_local = zhang();
    only_local.given_names.clear();
    only_local.family_name.clear();
    assert_eq!(run(&p, only_local, ex()).outcome, Outcome::Approved);
    // Pinyin typed in the local-name box is not a Chinese name.
    let mut pinyin_as_local = zhang();
    pinyin_as_local.local_name = Some("Zhang Xiaoming".into());
    let v = run(&p, pinyin_as_local, ex());
    assert_eq!(codes(&v), [NameMismatch]);
    assert_eq!(v.findings[0].subject.as_deref(), Some("local_name"));
    // Other characters are another person.
    let mut other = zhang();
    other.local_name = Some("张小红".into());
    assert_eq!(codes(&run(&p, other, ex())), [NameMismatch]);
    // Given and family name in the other order, pinyin run together: a convention.
    let mut order = zhang();
    order.given_names = "Zhang".into();
    order.family_name = "Xiao Ming".into();
    assert_eq!(run(&p, order, ex()).outcome, Outcome::Approved);
}

#[test]
fn residence_nationality_and_issuer_must_line_up() {
    let p = id_only();
    // Nationality picked differently from the passport.
    let mut app = erika();
    app.nationality = "AT".into();
    let v = run(&p, app, extracted(&ERIKA, &["photo_page"]));
    assert_eq!(codes(&v), [NationalityMismatch]);
    assert_eq!(v.outcome, Outcome::ResubmissionRequested);
    // A German passport holder living in France: passports travel.
    let mut app = erika();
    app.residence = "FR".into();
    assert_eq!(
        run(&p, app, extracted(&ERIKA, &["photo_page"])).outcome,
        Outcome::Approved
    );
    // A Hong Kong resident with a Mainland China resident ID card: not their region's
    // document. (The card has no MRZ; its number is checked and a reviewer reads the rest.)
    let mut app = zhang();
    app.residence = "HK".into();
    app.document.kind = "national_id".into();
    app.document.number = "11010519491231002X".into();
    app.birth_date = Date::new(1949, 12, 31);
    let card = || Extracted {
        sides: vec![idgate_decide::Side::Front, idgate_decide::Side::Back],
        ..Default::default()
    };
    let v = run(&p, app.clone(), card());
    assert_eq!(codes(&v), [RegionMismatch, ComplianceReview]);
    assert_eq!(v.outcome, Outcome::ResubmissionRequested);
    // The same card from a Mainland resident: only the reviewer's reading is left.
    app.residence = "CN".into();
    let v = run(&p, app.clone(), card());
    assert_eq!(
        (v.outcome, codes(&v)),
        (Outcome::InReview, vec![ComplianceReview])
    );
    // The number encodes the birth date: a different one entered is caught without OCR.
    app.birth_date = Date::new(1949, 12, 30);
    assert_eq!(
        codes(&run(&p, app, card())),
        [BirthDateMismatch, ComplianceReview]
    );
    // The document says another issuer than the one picked.
    let mut app = erika();
    app.document.issuer = "AT".into();
    app.nationality = "AT".into();
    let v = run(&p, app, extracted(&ERIKA, &["photo_page"]));
    assert!(
        codes(&v).contains(&RegionMismatch) && codes(&v).contains(&NationalityMismatch),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn the_catalog_decides_which_documents_and_sides() {
    let p = id_only();
    let mut app = zhang();
    app.document.kind = "drivers_license".into();
    let v = run(&p, app, extracted(&ZHANG, &["front", "back"]));
    assert_eq!(
        (v.outcome, codes(&v)),
        (Outcome::ResubmissionRequested, vec![UnsupportedDocument])
    );
    // A national ID card needs its back (where the MRZ is).
    let mut app = erika();
    app.document.kind = "national_id".into();
    let card = Doc {
        format: Format::Td1,
        code: "ID",
        ..ERIKA
    };
    let v = run(&p, app, extracted(&card, &["front"]));
    assert_eq!(codes(&v), [MissingSide]);
    assert_eq!(v.findings[0].subject.as_deref(), Some("side:back"));
}

#[test]
fn checksums_and_age_are_checked_on_entered_data() {
    let p = id_only();
    let mut app = zhang();
    app.document.kind = "national_id".into();
    app.document.number = "110105194912310021".into(); // wrong check character
    app.birth_date = Date::new(1949, 12, 31);
    let v = run(
        &p,
        app,
        Extracted {
            sides: vec![idgate_decide::Side::Front, idgate_decide::Side::Back],
            ..Default::default()
        },
    );
    assert!(
        codes(&v).contains(&DocumentNumberInvalid),
        "{:?}",
        codes(&v)
    );
    // Under 18 today: final, not a retry.
    let mut young = erika();
    young.birth_date = Date::new(2010, 1, 1);
    let kid = Doc {
        birth: "100101",
        ..ERIKA
    };
    let v = run(&p, young, extracted(&kid, &["photo_page"]));
    assert_eq!((v.outcome, codes(&v)), (Outcome::Rejected, vec![Underage]));
    assert_eq!(v.findings[0].reject_type, RejectType::Final);
}

#[test]
fn unsupported_regions_are_refused_for_good() {
    let p = id_only();
    let mut app = erika();
    app.residence = "KP".into();
    let v = run(&p, app, extracted(&ERIKA, &["photo_page"]));
    assert_eq!(
        (v.outcome, codes(&v)),
        (Outcome::Rejected, vec![RegionNotSupported])
    );
    let mut app = erika();
    app.residence = "UA".into();
    app.subdivision = Some("UA-43".into());
    assert_eq!(
        run(&p, app, extracted(&ERIKA, &["photo_page"])).outcome,
        Outcome::Rejected
    );
}

#[test]
fn a_document_verified_on_another_account_is_refused_with_the_support_route() {
    let p = id_only();
    let claim = |kind, status| Claim {
        kind,
        status,
        uid: "first-account".into(),
    };
    let inputs = |claims| Inputs {
        app: erika(),
        extracted: extracted(&ERIKA, &["photo_page"]),
        claims,
        ..Default::default()
    };
    let v = decide(
        &p,
        &inputs(vec![claim(KeyKind::Document, ClaimStatus::Verified)]),
        today(),
        NOW,
    );
    assert_eq!(
        (v.outcome, codes(&v)),
        (Outcome::Rejected, vec![DuplicateIdentity])
    );
    assert!(DuplicateIdentity.fix().contains("contact support"));
    assert!(v.verifies.is_empty() && v.retry_after_ms.is_none());
    // Still being decided on the other account: a person sorts it out.
    let v = decide(
        &p,
        &inputs(vec![claim(KeyKind::Document, ClaimStatus::Pending)]),
        today(),
        NOW,
    );
    assert_eq!(v.outcome, Outcome::InReview);
    // The same person verified elsewhere with another passport: review, not refusal.
    let v = decide(
        &p,
        &inputs(vec![claim(KeyKind::Person, ClaimStatus::Verified)]),
        today(),
        NOW,
    );
    assert_eq!(v.outcome, Outcome::InReview);
}

#[test]
fn blind_retries_are_slowed_down_then_handed_to_a_person() {
    let p = id_only();
    let mut history: Vec<Attempt> = Vec::new();
    let mut now = NOW;
    let mut bad = erika();
    bad.document.number = "C01X00T74".into();
    let mut waits = Vec::new();
    loop {
        if let Some(t) = throttle(&p, &history, now) {
            // Coming back early is refused without looking, and says when to come back.
            assert_eq!(codes(&t), [TooManyAttempts]);
            assert_eq!(t.outcome, Outcome::ResubmissionRequested);
            now = t.retry_after_ms.unwrap();
            continue;
        }
        let inputs = Inputs {
            app: bad.clone(),
            extracted: extracted(&ERIKA, &["photo_page"]),
            history: history.clone(),
            ..Default::default()
        };
        let v = decide(&p, &inputs, today(), now);
        if v.outcome == Outcome::InReview {
            assert!(
                codes(&v).contains(&ComplianceReview)
                    && codes(&v).contains(&DocumentNumberMismatch)
            );
            break;
        }
        assert_eq!(v.outcome, Outcome::ResubmissionRequested);
        let at = v.retry_after_ms.unwrap();
        waits.push((at - now) / MIN);
        history.push(Attempt {
            at_ms: now,
            failed: true,
        });
        // The applicant retries a second after being allowed to... or too early.
        now += MIN / 2;
    }
    // 0, 1, 5, 30 minutes of waiting, then the fifth failure goes to a reviewer.
    assert_eq!(waits, [0, 1, 5, 30]);
    assert_eq!(history.len(), 4);
}

#[test]
fn an_upgrade_reuses_the_verified_document() {
    let p = Policy::default();
    let mut app = erika();
    app.level = "advanced".into();
    // Nothing about the document is looked at again: a broken one would not matter.
    let inputs = Inputs {
        app,
        extracted: Extracted::default(),
        verified: vec![Step::IdentityDocument, Step::Selfie],
        proof_of_address_supplied: true,
        ..Default::default()
    };
    let v = decide(&p, &inputs, today(), NOW);
    assert_eq!(
        (v.outcome, codes(&v)),
        (Outcome::InReview, vec![ComplianceReview])
    );
    assert_eq!(v.findings[0].subject.as_deref(), Some("proof_of_address"));
    assert_eq!(v.level.as_deref(), Some("basic"));
    let without = Inputs {
        proof_of_address_supplied: false,
        ..inputs
    };
    assert_eq!(codes(&decide(&p, &without, today(), NOW)), [MissingSide]);
}

/// A tampered MRZ (MRZ_INVALID) on a photo that also has a retake reason (GLARE): the retake
/// request must not hide the suspicion. By default the case goes to a person at once; with
/// `suspicion.action = "flag"` the applicant gets the retake and the account's next attempt
/// goes to a person, even a clean one.
#[test]
fn a_suspicion_is_never_hidden_behind_a_retake_request() {
    let photo = |p: &Policy| {
        vec![
            Finding::new(MrzInvalid, p.reject_type(MrzInvalid), "check digits fail")
                .about("side:photo_page"),
            Finding::new(Glare, p.reject_type(Glare), "area 0.02").about("side:photo_page"),
        ]
    };
    let p = id_only();
    let inputs = Inputs {
        app: erika(),
        extracted: extracted(&ERIKA, &["photo_page"]),
        photo_findings: photo(&p),
        ..Default::default()
    };
    let v = decide(&p, &inputs, today(), NOW);
    assert_eq!(v.outcome, Outcome::InReview);
    assert_eq!(codes(&v), vec![MrzInvalid, Glare, ComplianceReview]);
    assert!(v.raises.is_empty() && v.retry_after_ms.is_none());

    // A retake alone (no suspicion) still goes back to the applicant.
    let glare_only = Inputs {
        photo_findings: photo(&p).split_off(1),
        ..inputs.clone()
    };
    let v = decide(&p, &glare_only, today(), NOW);
    assert_eq!(
        (v.outcome, codes(&v)),
        (Outcome::ResubmissionRequested, vec![Glare])
    );

    let flag = Policy::from_toml(
        r#"
        [[levels]]
        name = "id"
        requires = ["identity_document"]
        entitlements = { deposit = true }
        [suspicion]
        action = "flag"
        "#,
    )
    .unwrap();
    let v = decide(&flag, &inputs, today(), NOW);
    assert_eq!(v.outcome, Outcome::ResubmissionRequested);
    assert_eq!(v.raises, vec![MrzInvalid]);
    // The next attempt, clean as it may be, goes to a person while the flag is open.
    let next = Inputs {
        photo_findings: Vec::new(),
        flags: v.raises.clone(),
        ..inputs.clone()
    };
    let v = decide(&flag, &next, today(), NOW);
    assert_eq!(
        (v.outcome, codes(&v)),
        (Outcome::InReview, vec![ComplianceReview])
    );
    assert!(v.findings[0].detail.contains("MRZ_INVALID"));
    assert!(v.verifies.is_empty());
    // A final refusal stays final.
    let underage = Inputs {
        app: Application {
            birth_date: Date::new(2015, 1, 1),
            ..erika()
        },
        ..next
    };
    assert_eq!(
        decide(&flag, &underage, today(), NOW).outcome,
        Outcome::Rejected
    );
    // Unknown codes in the policy are refused when it is loaded.
    assert!(Policy::from_toml("[suspicion]\ncodes = [\"NOPE\"]").is_err());
}
