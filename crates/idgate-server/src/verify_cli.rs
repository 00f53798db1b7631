//! `idgate verify`: one application decided offline, end to end, with the same engine the
//! service uses. The document images go through the photo checks and MRZ reading, the
//! entered data through the decision engine; duplicates, attempts and verified steps
//! persist in the data directory's SQLite database between calls.
//!
//! APPLICATION.json (paths relative to the file):
//! ```json
//! {"uid": "u-1", "region": "DE", "subdivision": null, "level": "basic",
//!  "nationality": "DE",
//!  "document": {"country": "DE", "type": "passport", "number": "C01X00T47"},
//!  "name": {"given": "Erika", "family": "Mustermann", "local": null},
//!  "birth_date": "1964-08-12", "address": "...",
//!  "images": {"photo_page": "page.jpg"}, "selfie": "selfie.jpg"}
//! ```

use anyhow::Context;
use idgate_core::{Lang, ReasonCode, RejectType};
use idgate_decide::attempts::Attempt;
use idgate_decide::identity::{self, ClaimStatus, KeyKind};
use idgate_decide::{
    Application, DocumentChoice, Extracted, Finding, Inputs, Outcome, Policy, Step, Verdict,
};
use idgate_face::{Descriptor, FaceModels, Thresholds as FaceThresholds};
use idgate_mrz::{Date, Format, Mrz};
use idgate_store::{ClaimChange, DecisionRecord, Store, StoreError};
use idgate_vision::check::{CheckOptions, Report};
use idgate_vision::input::InputLimits;
use idgate_vision::ocr::Ocr;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationFile {
    pub uid: String,
    /// Country of residence chosen at sign-up (alpha-2).
    pub region: String,
    #[serde(default)]
    pub subdivision: Option<String>,
    #[serde(default = "default_level")]
    pub level: String,
    pub nationality: String,
    pub document: DocumentFile,
    pub name: NameFile,
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// Side name → image path.
    #[serde(default)]
    pub images: BTreeMap<String, PathBuf>,
    #[serde(default)]
    pub selfie: Option<PathBuf>,
    #[serde(default)]
    pub proof_of_address: Option<PathBuf>,
}

fn default_level() -> String {
    "basic".into()
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentFile {
    /// Issuing country, alpha-2.
    pub country: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub number: String,
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct NameFile {
    #[serde(default)]
    pub given: String,
    #[serde(default)]
    pub family: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<String>,
}

/// What the applicant entered for a case, as the API takes it (uid, region and level come
/// from the account and the case).
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
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

/// Everything a verification run needs besides the application.
pub struct Verifier<'a> {
    pub policy: &'a Policy,
    pub store: &'a Store,
    pub secret: &'a [u8],
    pub now_ms: i64,
    pub check: CheckOptions,
}

/// Reads and validates an application file; image paths become absolute.
pub fn read_application(path: &Path) -> anyhow::Result<(ApplicationFile, Application)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut file: ApplicationFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid application", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    for p in file
        .images
        .values_mut()
        .chain(file.selfie.iter_mut())
        .chain(file.proof_of_address.iter_mut())
    {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    }
    let entered = EnteredData {
        subdivision: file.subdivision.clone(),
        nationality: file.nationality.clone(),
        document: file.document.clone(),
        name: file.name.clone(),
        birth_date: file.birth_date.clone(),
        address: file.address.clone(),
    };
    let app = entered.application(&file.uid, &file.region, &file.level)?;
    Ok((file, app))
}

/// Is the MRZ's name field filled to its last character (so possibly truncated)?
fn name_field_full(m: &Mrz) -> bool {
    let line = match m.format {
        Format::Td1 => m.lines.get(2),
        _ => m.lines.first(),
    };
    line.and_then(|l| l.chars().last())
        .is_some_and(|c| c != '<')
}

const MRZ_CODES: [ReasonCode; 2] = [ReasonCode::MrzUnreadable, ReasonCode::MrzInvalid];

/// The document images of a submission, side name → bytes, and what else was supplied.
pub struct Submission {
    pub images: Vec<(String, Vec<u8>)>,
    pub selfie: Option<Vec<u8>>,
    pub proof_of_address_supplied: bool,
}

/// Reads the images an application file names; a missing file is an error before anything
/// is looked at or recorded.
pub fn read_submission(file: &ApplicationFile) -> anyhow::Result<Submission> {
    let mut images = Vec::new();
    for (side, path) in &file.images {
        let bytes = std::fs::read(path)
            .with_context(|| format!("reading the {side} image {}", path.display()))?;
        images.push((side.clone(), bytes));
    }
    let selfie = match &file.selfie {
        Some(p) => {
            Some(std::fs::read(p).with_context(|| format!("reading the selfie {}", p.display()))?)
        }
        None => None,
    };
    for p in file.proof_of_address.iter() {
        anyhow::ensure!(p.is_file(), "{} is not a readable file", p.display());
    }
    Ok(Submission {
        images,
        selfie,
        proof_of_address_supplied: file.proof_of_address.is_some(),
    })
}

/// Photo checks on every side: findings per side, and the first valid MRZ of any side.
/// CPU-bound (decoding, OCR): the server runs it off the async threads.
pub fn check_sides(
    policy: &Policy,
    ocr: &Ocr,
    check: &CheckOptions,
    images: &[(String, Vec<u8>)],
    needs_mrz: bool,
) -> anyhow::Result<(Vec<Finding>, Extracted)> {
    let mut findings = Vec::new();
    let mut mrz_findings = Vec::new();
    let mut ex = Extracted::default();
    for (side, bytes) in images {
        ex.sides.push(side.clone());
        let report: Report = match idgate_vision::check::check(bytes, ocr, check) {
            Ok(r) => r,
            Err(idgate_vision::check::CheckError::Input(e)) => {
                // An image that cannot be read is one to upload again, not a crash.
                let code = ReasonCode::NoDocumentFound;
                findings.push(
                    Finding::new(code, policy.reject_type(code), format!("{}: {e}", e.code()))
                        .about(format!("side:{side}")),
                );
                continue;
            }
            Err(e) => return Err(e).context("reading the MRZ"),
        };
        if let Some(m) = report
            .mrz
            .as_ref()
            .and_then(|r| r.parsed.as_ref())
            .filter(|m| m.valid())
        {
            if ex.mrz.is_none() {
                ex.mrz_name_full = name_field_full(m);
                ex.mrz = Some(m.fields.clone());
            }
        }
        for f in report.findings {
            let finding = Finding::new(f.code, policy.reject_type(f.code), f.detail.to_string())
                .about(format!("side:{side}"));
            if MRZ_CODES.contains(&f.code) {
                mrz_findings.push(finding);
            } else {
                findings.push(finding);
            }
        }
    }
    // The MRZ is on one side only (a card's back, a passport's photo page): a side without
    // one is not a failure, and a kind without an MRZ never asks for one.
    if needs_mrz && ex.mrz.is_none() {
        findings.extend(mrz_findings);
    }
    Ok((findings, ex))
}

/// Document sides in the order their portrait is looked for.
const PORTRAIT_SIDES: [&str; 4] = ["photo_page", "front", "page", "face"];

/// The document holder's face: the largest face of the first side (photo page and front
/// first) that shows one. A passport's small ghost image is the same person anyway.
pub fn document_portrait(
    models: &FaceModels,
    limits: InputLimits,
    images: &[(String, Vec<u8>)],
) -> Option<idgate_face::Face> {
    let mut sides: Vec<&(String, Vec<u8>)> = images.iter().collect();
    sides.sort_by_key(|(side, _)| {
        PORTRAIT_SIDES
            .iter()
            .position(|s| s == side)
            .unwrap_or(PORTRAIT_SIDES.len())
    });
    sides.iter().find_map(|(_, bytes)| {
        let img = crate::face_cli::decode_face_image(bytes, limits).ok()?;
        models.faces(&img).into_iter().next()
    })
}

/// What the face checks found, and the selfie's face when it showed one clearly (for the
/// duplicate search).
#[derive(Default)]
pub struct FaceCheck {
    pub findings: Vec<Finding>,
    pub descriptor: Option<Descriptor>,
    /// The selfie face's crop hash (copies of other applicants' pictures).
    pub hash: Option<idgate_face::hash::FaceHash>,
}

/// The selfie against the document portrait: FACE_NOT_FOUND (selfie or portrait),
/// MULTIPLE_FACES, FACE_OBSTRUCTED, FACE_MISMATCH with the similarity. With no document
/// image in this submission (the document was verified earlier), a reviewer compares.
/// CPU-bound, like [`check_sides`].
pub fn check_faces(
    policy: &Policy,
    models: &FaceModels,
    check: &CheckOptions,
    images: &[(String, Vec<u8>)],
    selfie: &[u8],
) -> FaceCheck {
    let (findings, face) = compare_faces(policy, models, check, images, selfie);
    FaceCheck {
        findings,
        descriptor: face.as_ref().map(|f| f.0.clone()),
        hash: face.and_then(|f| f.1),
    }
}

fn compare_faces(
    policy: &Policy,
    models: &FaceModels,
    check: &CheckOptions,
    images: &[(String, Vec<u8>)],
    selfie: &[u8],
) -> (
    Vec<Finding>,
    Option<(Descriptor, Option<idgate_face::hash::FaceHash>)>,
) {
    let (limits, max_screen_grid) = (check.limits, check.thresholds.min_grid_peak);
    let t = FaceThresholds::default();
    let flag = |code: ReasonCode, detail: String, subject: &str| {
        vec![Finding::new(code, policy.reject_type(code), detail).about(subject)]
    };
    let faces = match crate::face_cli::decode_face_image(selfie, limits) {
        Ok(img) if idgate_vision::check::screen_grid(&img) >= max_screen_grid => {
            let why = "the selfie shows a screen's pixel grid: a photo of a photo";
            return (flag(ReasonCode::LivenessFailed, why.into(), "selfie"), None);
        }
        Ok(img) => models.faces(&img),
        Err(e) => {
            let why = format!("{}: {e}", e.code());
            return (flag(ReasonCode::FaceNotFound, why, "selfie"), None);
        }
    };
    let Some(face) = faces.first() else {
        let why = "no face in the selfie".into();
        return (flag(ReasonCode::FaceNotFound, why, "selfie"), None);
    };
    let counted = idgate_face::counted_faces(&faces, &t);
    if counted > 1 {
        let why = json!({"faces": counted}).to_string();
        return (flag(ReasonCode::MultipleFaces, why, "selfie"), None);
    }
    if let Some(part) = idgate_face::obstruction(face, &t) {
        let why = json!({"covered": part, "eye_to_skin": face.occlusion.eye_to_skin,
                         "mouth_line": face.occlusion.mouth_line})
        .to_string();
        return (flag(ReasonCode::FaceObstructed, why, "selfie"), None);
    }
    let descriptor = Some((face.descriptor.clone(), face.hash));
    if images.is_empty() {
        let finding = Finding::new(
            ReasonCode::ComplianceReview,
            RejectType::Review,
            "selfie: the document was verified earlier; a reviewer compares the faces",
        );
        return (vec![finding.about("selfie")], descriptor);
    }
    let Some(portrait) = document_portrait(models, limits, images) else {
        let why = "no portrait found on the document".into();
        return (flag(ReasonCode::FaceNotFound, why, "document"), descriptor);
    };
    let distance = face.descriptor.distance(&portrait.descriptor);
    if distance > t.same_person_distance {
        let why = json!({"similarity": idgate_face::similarity_of(distance),
                         "threshold": idgate_face::similarity_of(t.same_person_distance)})
        .to_string();
        return (flag(ReasonCode::FaceMismatch, why, "selfie"), descriptor);
    }
    (Vec::new(), descriptor)
}

/// The first half of a decision, before any image is looked at.
pub enum Plan {
    /// Refused by the cooldown; nothing else is done and nothing recorded.
    Throttled(Verdict, Vec<Step>),
    Check(Prepared),
}

pub struct Prepared {
    history: Vec<Attempt>,
    verified: Vec<Step>,
    /// Suspicions an earlier attempt left on the account.
    flags: Vec<ReasonCode>,
    /// The level still needs the identity document (else it is reused).
    pub needs_document: bool,
    /// The level still needs the selfie.
    pub needs_selfie: bool,
    pub needs_mrz: bool,
}

/// A decision made, with what recording it needs.
pub struct Decided {
    pub verdict: Verdict,
    /// (kind, key hash) identity keys.
    pub keys: Vec<(String, String)>,
    /// Steps verified before this decision.
    pub verified_before: Vec<Step>,
}

impl Decided {
    /// Steps verified once this decision is recorded (what entitlements follow from).
    pub fn verified_after(&self) -> Vec<Step> {
        let mut after = self.verified_before.clone();
        after.extend(self.verdict.verifies.iter().copied());
        after
    }

    /// The store's record of this decision (of `case_id`, when it decides a case).
    pub fn record<'a>(
        &'a self,
        uid: &'a str,
        case_id: Option<&'a str>,
        reasons: &'a [ReasonCode],
        steps: &'a [&'a str],
    ) -> DecisionRecord<'a> {
        DecisionRecord {
            uid,
            outcome: self.verdict.outcome.as_str(),
            reasons,
            keys: &self.keys,
            claims: claim_change(self.verdict.outcome),
            steps,
            level: self.verdict.level.as_deref(),
            raise: &self.verdict.raises,
            case_id,
        }
    }

    /// The decision when the document was verified on another account after the claims were
    /// read (the store refused the approval).
    pub fn lost_race(&mut self, policy: &Policy) {
        let code = ReasonCode::DuplicateIdentity;
        self.verdict = Verdict {
            outcome: Outcome::Rejected,
            findings: vec![Finding::new(
                code,
                policy.reject_type(code),
                "verified on another account meanwhile",
            )
            .about("document")],
            retry_after_ms: None,
            verifies: Vec::new(),
            level: policy
                .reached_level(&self.verified_before)
                .map(|l| l.name.clone()),
            raises: Vec::new(),
        };
    }
}

/// What an outcome does to the account's identity keys.
pub fn claim_change(outcome: Outcome) -> ClaimChange {
    match outcome {
        Outcome::Approved => ClaimChange::Verified,
        Outcome::InReview => ClaimChange::Pending,
        Outcome::ResubmissionRequested | Outcome::Rejected => ClaimChange::Release,
    }
}

/// The case event's decision for an engine outcome, and back.
pub fn decision_of(outcome: Outcome) -> idgate_core::Decision {
    use idgate_core::Decision;
    match outcome {
        Outcome::Approved => Decision::Approve,
        Outcome::ResubmissionRequested => Decision::Retry,
        Outcome::Rejected => Decision::Reject,
        Outcome::InReview => Decision::Review,
    }
}

pub fn outcome_of(decision: idgate_core::Decision) -> Outcome {
    use idgate_core::Decision;
    match decision {
        Decision::Approve => Outcome::Approved,
        Decision::Retry => Outcome::ResubmissionRequested,
        Decision::Reject => Outcome::Rejected,
        Decision::Review => Outcome::InReview,
    }
}

/// Reasons (each code once) and verified step names of a verdict, as the store takes them.
pub fn record_parts(verdict: &Verdict) -> (Vec<ReasonCode>, Vec<&'static str>) {
    (
        idgate_decide::unique_codes(&verdict.findings),
        verdict.verifies.iter().map(|s| s.as_str()).collect(),
    )
}

/// The claims accounts other than `uid` hold on the identity `keys` (duplicates).
pub async fn other_claims(
    store: &Store,
    keys: &[identity::IdentityKey],
    uid: &str,
) -> Result<Vec<identity::Claim>, StoreError> {
    let hashes: Vec<String> = keys.iter().map(|k| k.hash.clone()).collect();
    Ok(store
        .claims_on(&hashes, uid)
        .await?
        .into_iter()
        .filter_map(|c| {
            Some(identity::Claim {
                kind: KeyKind::parse(&c.kind)?,
                status: ClaimStatus::parse(&c.status)?,
                uid: c.uid,
            })
        })
        .collect())
}

/// Attempt history and verified steps of the account; the cooldown.
pub async fn plan(v: &Verifier<'_>, app: &Application) -> anyhow::Result<Plan> {
    let uid = app.uid.as_str();
    let window_ms = i64::from(v.policy.attempts.window_hours) * 3_600_000;
    let history: Vec<Attempt> = v
        .store
        .attempts_since(uid, v.now_ms - window_ms)
        .await?
        .into_iter()
        .map(|a| Attempt {
            at_ms: a.at,
            failed: Outcome::parse(&a.outcome).is_some_and(Outcome::failed),
        })
        .collect();
    let verified = crate::verified_steps(v.store, uid).await?;
    if let Some(mut throttled) = idgate_decide::throttle(v.policy, &history, v.now_ms) {
        // Refused before anything is looked at; not an attempt of its own.
        throttled.level = v.policy.reached_level(&verified).map(|l| l.name.clone());
        return Ok(Plan::Throttled(throttled, verified));
    }
    let needs = |step: Step| {
        v.policy
            .level(&app.level)
            .is_some_and(|l| v.policy.missing_steps(l, &verified).contains(&step))
    };
    let (needs_document, needs_selfie) = (needs(Step::IdentityDocument), needs(Step::Selfie));
    let needs_mrz = idgate_decide::DocKind::parse(&app.document.kind)
        .is_some_and(|k| v.policy.has_mrz(&app.document.issuer, k));
    let flags = v.store.open_flags(uid).await?;
    Ok(Plan::Check(Prepared {
        history,
        verified,
        flags,
        needs_document,
        needs_selfie,
        needs_mrz,
    }))
}

/// The second half: identity keys, duplicates and the engine, given the photo checks'
/// findings and extraction (empty when the document is reused) and the face checks'.
pub async fn conclude(
    v: &Verifier<'_>,
    app: &Application,
    sub: &Submission,
    prepared: Prepared,
    photo: (Vec<Finding>, Extracted),
    face_findings: Vec<Finding>,
) -> anyhow::Result<Decided> {
    let (photo_findings, extracted) = photo;
    let keys = if prepared.needs_document {
        identity::keys(v.secret, app, &extracted)
    } else {
        Vec::new()
    };
    let claims = other_claims(v.store, &keys, &app.uid).await?;
    let inputs = Inputs {
        app: app.clone(),
        extracted,
        photo_findings,
        claims,
        history: prepared.history,
        verified: prepared.verified,
        selfie_supplied: sub.selfie.is_some(),
        face_findings,
        proof_of_address_supplied: sub.proof_of_address_supplied,
        flags: prepared.flags,
    };
    let verdict = idgate_decide::decide(v.policy, &inputs, v.check.today, v.now_ms);
    Ok(Decided {
        verdict,
        keys: keys
            .iter()
            .map(|k| (k.kind.as_str().to_string(), k.hash.clone()))
            .collect(),
        verified_before: inputs.verified,
    })
}

/// Decides one application offline and records the decision. Also returns the account's
/// verified steps afterwards (what its entitlements follow from).
pub async fn verify(
    v: &Verifier<'_>,
    ocr: &Ocr,
    faces: &FaceModels,
    sub: &Submission,
    app: &Application,
) -> anyhow::Result<(Verdict, Vec<Step>)> {
    let prepared = match plan(v, app).await? {
        Plan::Throttled(verdict, verified) => return Ok((verdict, verified)),
        Plan::Check(p) => p,
    };
    let photo = if prepared.needs_document {
        check_sides(v.policy, ocr, &v.check, &sub.images, prepared.needs_mrz)?
    } else {
        (Vec::new(), Extracted::default())
    };
    let mut face_findings = match &sub.selfie {
        Some(selfie) if prepared.needs_selfie => {
            check_faces(v.policy, faces, &v.check, &sub.images, selfie).findings
        }
        _ => Vec::new(),
    };
    if prepared.needs_selfie && sub.selfie.is_some() && v.policy.liveness_required {
        // A selfie file proves nothing about who held the camera, and an offline run
        // cannot issue a challenge: the service's liveness API can.
        let code = ReasonCode::LivenessFailed;
        face_findings.push(
            Finding::new(
                code,
                v.policy.reject_type(code),
                "the policy requires active liveness; an offline verification has none",
            )
            .about("selfie"),
        );
    }
    let mut decided = conclude(v, app, sub, prepared, photo, face_findings).await?;
    match record(v.store, &app.uid, &decided).await {
        Ok(()) => {}
        Err(StoreError::DuplicateDocument) => {
            decided.lost_race(v.policy);
            record(v.store, &app.uid, &decided).await?;
        }
        Err(e) => return Err(e.into()),
    }
    let after = decided.verified_after();
    Ok((decided.verdict, after))
}

async fn record(store: &Store, uid: &str, decided: &Decided) -> Result<(), StoreError> {
    let (reasons, steps) = record_parts(&decided.verdict);
    store
        .record_decision(&decided.record(uid, None, &reasons, &steps))
        .await
}

/// A finding's reviewer-only detail as a JSON object: the checks write measures as JSON
/// objects and notes as text; text becomes `{"note": text}`.
pub fn detail_object(detail: &str) -> Value {
    match serde_json::from_str::<Value>(detail) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({ "note": detail }),
    }
}

/// The findings as reviewers see them (JSON): code, type, subject and the detail object.
pub fn findings_json(findings: &[Finding]) -> String {
    Value::Array(
        findings
            .iter()
            .map(|f| {
                json!({
                    "code": f.code.as_str(),
                    "reject_type": f.reject_type.as_str(),
                    "subject": f.subject,
                    "detail": detail_object(&f.detail),
                })
            })
            .collect(),
    )
    .to_string()
}

/// Stored findings for a reviewer, every `detail` an object (findings stored before details
/// were objects carry text, possibly JSON text).
pub fn findings_for_review(stored: &str) -> Value {
    let mut v: Value = serde_json::from_str(stored).unwrap_or(Value::Array(Vec::new()));
    if let Some(list) = v.as_array_mut() {
        for f in list {
            if let Some(Value::String(d)) = f.get("detail").cloned() {
                f["detail"] = detail_object(&d);
            }
        }
    }
    v
}

/// RFC 3339 UTC time of a Unix time in milliseconds.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let d = Date::from_unix_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year(),
        d.month(),
        d.day(),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The decision as the applicant's side sees it; `internal` adds reviewer-only detail.
pub fn verdict_json(
    policy: &Policy,
    verdict: &Verdict,
    verified_after: &[Step],
    lang: Lang,
    internal: bool,
) -> Value {
    let reasons: Vec<Value> = verdict
        .findings
        .iter()
        .map(|f| {
            let mut r = json!({
                "code": f.code.as_str(),
                "reject_type": f.reject_type.as_str(),
                "message": f.code.message_in(lang),
                "fix": f.code.fix_in(lang),
            });
            if let Some(s) = &f.subject {
                r["subject"] = json!(s);
            }
            if internal {
                r["detail"] = detail_object(&f.detail);
            }
            r
        })
        .collect();
    let mut out = json!({
        "decision": verdict.outcome.as_str(),
        "reasons": reasons,
        "level": verdict.level,
        "entitlements": policy.entitlements(verified_after),
    });
    if let Some(at) = verdict.retry_after_ms {
        out["retry_after"] = json!(rfc3339(at));
    }
    out
}

/// The identity secret of a data directory: 32 random bytes in `identity.key` (0600),
/// created on first use. Keys made under another secret never match.
pub fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = crate::secret_file(path)?;
    let key = hex::decode(text.trim()).with_context(|| format!("{} is not hex", path.display()))?;
    anyhow::ensure!(
        key.len() >= 16,
        "{} holds fewer than 16 bytes",
        path.display()
    );
    Ok(key)
}

/// Opens (creating) the data directory's SQLite store.
pub async fn open_store(dir: &Path, now_ms: Option<i64>) -> anyhow::Result<Store> {
    crate::create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    let clock: std::sync::Arc<dyn idgate_core::Clock> = match now_ms {
        Some(ms) => std::sync::Arc::new(idgate_core::FixedClock::new(ms)),
        None => std::sync::Arc::new(idgate_core::SystemClock),
    };
    let url = format!("sqlite://{}", dir.join("idgate.db").display());
    let store = Store::connect(&url, clock)
        .await
        .context("opening the database")?;
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}
