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
use idgate_core::{Lang, ReasonCode};
use idgate_decide::attempts::Attempt;
use idgate_decide::identity::{self, ClaimStatus, KeyKind};
use idgate_decide::{
    Application, DocumentChoice, Extracted, Finding, Inputs, Outcome, Policy, Step, Verdict,
};
use idgate_mrz::{Date, Format, Mrz};
use idgate_store::{ClaimChange, DecisionRecord, Store, StoreError};
use idgate_vision::check::{CheckOptions, Report};
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentFile {
    /// Issuing country, alpha-2.
    pub country: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub number: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameFile {
    #[serde(default)]
    pub given: String,
    #[serde(default)]
    pub family: String,
    #[serde(default)]
    pub local: Option<String>,
}

/// Everything a verification run needs besides the application.
pub struct Verifier<'a> {
    pub policy: &'a Policy,
    pub store: &'a Store,
    pub ocr: &'a Ocr,
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
    anyhow::ensure!(!file.uid.trim().is_empty(), "uid is empty");
    let birth_date = match &file.birth_date {
        Some(s) if !s.trim().is_empty() => Some(
            Date::parse_iso(s.trim())
                .with_context(|| format!("birth_date {s:?} is not YYYY-MM-DD"))?,
        ),
        _ => None,
    };
    let app = Application {
        uid: file.uid.clone(),
        level: file.level.clone(),
        residence: file.region.clone(),
        subdivision: file.subdivision.clone(),
        nationality: file.nationality.clone(),
        document: DocumentChoice {
            issuer: file.document.country.clone(),
            kind: file.document.kind.clone(),
            number: file.document.number.clone(),
        },
        given_names: file.name.given.clone(),
        family_name: file.name.family.clone(),
        local_name: file.name.local.clone(),
        birth_date,
        address: file.address.clone(),
    };
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

/// Photo checks on every side: findings per side, and the first valid MRZ of any side.
fn check_sides(
    v: &Verifier<'_>,
    file: &ApplicationFile,
    needs_mrz: bool,
) -> anyhow::Result<(Vec<Finding>, Extracted)> {
    let mut findings = Vec::new();
    let mut mrz_findings = Vec::new();
    let mut ex = Extracted::default();
    for (side, path) in &file.images {
        let bytes = std::fs::read(path)
            .with_context(|| format!("reading the {side} image {}", path.display()))?;
        ex.sides.push(side.clone());
        let report: Report = match idgate_vision::check::check(&bytes, v.ocr, &v.check) {
            Ok(r) => r,
            Err(idgate_vision::check::CheckError::Input(e)) => {
                // An image that cannot be read is one to upload again, not a crash.
                let code = ReasonCode::NoDocumentFound;
                findings.push(
                    Finding::new(
                        code,
                        v.policy.reject_type(code),
                        format!("{}: {e}", e.code()),
                    )
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
            let finding = Finding::new(f.code, v.policy.reject_type(f.code), f.detail.to_string())
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

/// Decides one application and records the decision. Also returns the account's verified
/// steps afterwards (what its entitlements follow from).
pub async fn verify(
    v: &Verifier<'_>,
    file: &ApplicationFile,
    app: &Application,
) -> anyhow::Result<(Verdict, Vec<Step>)> {
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
        return Ok((throttled, verified));
    }
    let needs_document = v.policy.level(&app.level).is_some_and(|l| {
        v.policy
            .missing_steps(l, &verified)
            .contains(&Step::IdentityDocument)
    });
    let needs_mrz = idgate_decide::DocKind::parse(&app.document.kind)
        .is_some_and(|k| v.policy.has_mrz(&app.document.issuer, k));
    let (photo_findings, extracted) = if needs_document {
        check_sides(v, file, needs_mrz)?
    } else {
        (Vec::new(), Extracted::default())
    };
    let keys = if needs_document {
        identity::keys(v.secret, app, &extracted)
    } else {
        Vec::new()
    };
    let hashes: Vec<String> = keys.iter().map(|k| k.hash.clone()).collect();
    let claims = v
        .store
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
        .collect();
    let inputs = Inputs {
        app: app.clone(),
        extracted,
        photo_findings,
        claims,
        history,
        verified,
        selfie_supplied: file.selfie.is_some(),
        proof_of_address_supplied: file.proof_of_address.is_some(),
    };
    let mut verdict = idgate_decide::decide(v.policy, &inputs, v.check.today, v.now_ms);
    let key_pairs: Vec<(String, String)> = keys
        .iter()
        .map(|k| (k.kind.as_str().to_string(), k.hash.clone()))
        .collect();
    match record(v.store, uid, &verdict, &key_pairs).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            // Another account was verified with this document since the claims were read.
            let code = ReasonCode::DuplicateIdentity;
            verdict = Verdict {
                outcome: Outcome::Rejected,
                findings: vec![Finding::new(
                    code,
                    v.policy.reject_type(code),
                    "verified on another account meanwhile",
                )
                .about("document")],
                retry_after_ms: None,
                verifies: Vec::new(),
                level: v
                    .policy
                    .reached_level(&inputs.verified)
                    .map(|l| l.name.clone()),
            };
            record(v.store, uid, &verdict, &key_pairs).await?;
        }
        Err(e) => return Err(e.into()),
    }
    let mut after = inputs.verified;
    after.extend(verdict.verifies.iter().copied());
    Ok((verdict, after))
}

/// Stores `verdict` for `uid`: the attempt, what it does to the identity keys, the steps
/// it verified.
async fn record(
    store: &Store,
    uid: &str,
    verdict: &Verdict,
    keys: &[(String, String)],
) -> Result<(), StoreError> {
    let claims = match verdict.outcome {
        Outcome::Approved => ClaimChange::Verified,
        Outcome::InReview => ClaimChange::Pending,
        Outcome::ResubmissionRequested | Outcome::Rejected => ClaimChange::Release,
    };
    let reasons: Vec<ReasonCode> = verdict.findings.iter().map(|f| f.code).collect();
    let steps: Vec<&str> = verdict.verifies.iter().map(|s| s.as_str()).collect();
    store
        .record_decision(&DecisionRecord {
            uid,
            outcome: verdict.outcome.as_str(),
            reasons: &reasons,
            keys,
            claims,
            steps: &steps,
            level: verdict.level.as_deref(),
        })
        .await
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
                r["detail"] = json!(f.detail);
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
    if !path.exists() {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        crate::write_private(path, format!("{}\n", hex::encode(key)).as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
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
