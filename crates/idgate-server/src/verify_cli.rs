//! `idgate verify`: one application decided offline, end to end, by the service's own
//! pipeline. The application is stored as a submitted case of the uid's applicant in the
//! configured store (by default the data directory's SQLite database and encrypted blobs,
//! the same ones `idgate serve` uses), then [`idgate_pipeline::Pipeline::decide_case`]
//! decides it exactly as a worker would; duplicates, attempts and verified steps persist
//! between calls.
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
//! A selfie file proves nothing about who held the camera, and an offline run answers no
//! liveness challenge: under a policy that requires active liveness the selfie step fails
//! with LIVENESS_FAILED, as it does in the service for a case whose challenge was never
//! answered.

use anyhow::Context;
use idgate_core::Lang;
use idgate_decide::{Application, Policy, Step, Verdict};
pub use idgate_pipeline::record::{claim_change, detail_object, outcome_of};
use idgate_pipeline::Decided;
pub use idgate_pipeline::{DocumentFile, EnteredData, NameFile};
use idgate_store::{BlobStore, DocumentData, Store};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An application as `idgate verify` reads it. Personal data: no `Debug`.
#[derive(Deserialize)]
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

impl ApplicationFile {
    /// What the applicant entered, as the API takes it.
    pub fn entered(&self) -> EnteredData {
        EnteredData {
            subdivision: self.subdivision.clone(),
            nationality: self.nationality.clone(),
            document: self.document.clone(),
            name: self.name.clone(),
            birth_date: self.birth_date.clone(),
            address: self.address.clone(),
        }
    }
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
    let app = file
        .entered()
        .application(&file.uid, &file.region, &file.level)?;
    Ok((file, app))
}

/// The files of an application, read before anything is stored: (kind, side, bytes).
pub struct Files(Vec<(String, String, Vec<u8>)>);

/// Reads the images an application file names; a missing file is an error before anything
/// is looked at or recorded.
pub fn read_files(file: &ApplicationFile) -> anyhow::Result<Files> {
    let read = |what: &str, path: &Path| {
        std::fs::read(path).with_context(|| format!("reading the {what} {}", path.display()))
    };
    let mut out = Vec::new();
    for (side, path) in &file.images {
        let bytes = read(&format!("{side} image"), path)?;
        out.push((file.document.kind.clone(), side.clone(), bytes));
    }
    if let Some(p) = &file.selfie {
        out.push(("selfie".into(), "face".into(), read("selfie", p)?));
    }
    if let Some(p) = &file.proof_of_address {
        let bytes = read("proof of address", p)?;
        out.push(("proof_of_address".into(), "page".into(), bytes));
    }
    Ok(Files(out))
}

/// Everything a verification run needs besides the application.
pub struct Verifier<'a> {
    pub policy: &'a Policy,
    pub store: &'a Store,
    pub blobs: &'a BlobStore,
    pub secret: &'a [u8],
    pub models: std::sync::Arc<idgate_pipeline::Models>,
    pub check: idgate_vision::check::CheckOptions,
}

/// Stores the application as a submitted case of the uid's applicant (created on first
/// use) and decides it with the service's pipeline. Returns the decision.
pub async fn verify(
    v: &Verifier<'_>,
    file: &ApplicationFile,
    files: Files,
) -> anyhow::Result<Decided> {
    let store = v.store;
    let applicant = match store.applicant_by_uid(&file.uid).await? {
        Some(a) => a,
        None => store.create_applicant(&file.uid, &file.region).await?,
    };
    let case = store.create_case(&applicant.id, &file.level, "cli").await?;
    let data = serde_json::to_vec(&file.entered())?;
    let key = v.blobs.put(&data).await?;
    store.set_case_data(&case.id, &key, "cli").await?;
    for (kind, side, bytes) in files.0 {
        let content_type = idgate_vision::probe::sniff(&bytes)
            .map(|f| f.content_type())
            .unwrap_or("application/octet-stream");
        let blob_key = v.blobs.put(&bytes).await?;
        let doc = DocumentData {
            case_id: case.id.clone(),
            kind,
            side,
            blob_key,
            content_type: content_type.into(),
            size_bytes: bytes.len() as i64,
            sha256: hex::encode(Sha256::digest(&bytes)),
            width: None,
            height: None,
        };
        store.add_document(doc, "cli").await?;
    }
    // Submitted as the API submits (with its job, so a case is never stranded), then
    // decided here; the job is closed once the decision is stored.
    store.submit(&case.id, "cli").await?;
    let pipeline = idgate_pipeline::Pipeline {
        policy: v.policy,
        secret: v.secret,
        store,
        blobs: v.blobs,
        documents: v.models.clone(),
        faces: v.models.clone(),
        clock: store.clock(),
        check: v.check,
        actor: "cli",
        screens: &[],
    };
    let decided = pipeline
        .decide_case(&case.id)
        .await?
        .context("the case was decided by a worker meanwhile")?;
    store.complete_queued_jobs_of(&case.id).await?;
    Ok(decided)
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
pub use idgate_core::rfc3339;

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
