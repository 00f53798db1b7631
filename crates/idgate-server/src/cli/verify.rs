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
use idgate_decide::{Application, Policy, Side, UploadKind};
use idgate_pipeline::Decided;
use idgate_pipeline::{DocumentFile, EnteredData, NameFile};
use idgate_store::{BlobStore, DocumentData, Store};
use serde::Deserialize;
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
pub struct Files(Vec<(UploadKind, Side, Vec<u8>)>);

/// Reads the images an application file names; a missing file or a side the policy does
/// not know for the document is an error before anything is looked at or recorded.
pub fn read_files(policy: &Policy, file: &ApplicationFile) -> anyhow::Result<Files> {
    let read = |what: &str, path: &Path| {
        std::fs::read(path).with_context(|| format!("reading the {what} {}", path.display()))
    };
    let kind = idgate_decide::DocKind::parse(&file.document.kind)
        .map(UploadKind::Identity)
        .with_context(|| {
            format!(
                "document.type {:?} is not a catalog kind",
                file.document.kind
            )
        })?;
    let allowed = policy.upload_sides(kind);
    let mut out = Vec::new();
    for (side, path) in &file.images {
        let Some(s) = Side::parse(side).filter(|s| allowed.contains(s)) else {
            let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
            anyhow::bail!(
                "images: side {side:?} of a {} must be one of {}",
                kind.as_str(),
                names.join(", ")
            );
        };
        out.push((kind, s, read(&format!("{side} image"), path)?));
    }
    if let Some(p) = &file.selfie {
        out.push((UploadKind::Selfie, Side::Face, read("selfie", p)?));
    }
    if let Some(p) = &file.proof_of_address {
        let bytes = read("proof of address", p)?;
        out.push((UploadKind::ProofOfAddress, Side::Page, bytes));
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
    /// The list screen the service runs (sanctions and PEP lists of the same store).
    pub screen: std::sync::Arc<crate::screening::ListScreen>,
}

/// Stores the application as a submitted case of the uid's applicant (created on first
/// use) and decides it with the service's pipeline. Returns the decision.
pub async fn verify(
    v: &Verifier<'_>,
    file: &ApplicationFile,
    files: Files,
) -> anyhow::Result<Decided> {
    let store = v.store;
    // Refused before anything is stored, as the API refuses to submit it (422
    // `missing_step`): a level that needs a face step the account has not verified, with no
    // selfie, could only be answered FACE_NOT_FOUND, which tells the applicant the wrong thing.
    let verified = idgate_pipeline::case::verified_steps(store, &file.uid).await?;
    let needs_face = v.policy.level(&file.level).is_some_and(|l| {
        v.policy
            .missing_steps(l, &verified)
            .contains(&idgate_decide::Step::Selfie)
    });
    if needs_face && file.selfie.is_none() {
        anyhow::bail!(
            "missing_step: the {} level needs the face step, and this account has not verified \
             one: give a `selfie` file",
            file.level
        );
    }
    let applicant = match store.applicant_by_uid(&file.uid).await? {
        Some(a) => a,
        None => store.create_applicant(&file.uid, &file.region).await?,
    };
    let case = store.create_case(&applicant.id, &file.level, "cli").await?;
    let data = serde_json::to_vec(&file.entered())?;
    let key = v
        .blobs
        .put(idgate_store::Owner::Applicant(&applicant.id), &data)
        .await?;
    store.set_case_data(&case.id, &key, "cli").await?;
    for (kind, side, bytes) in files.0 {
        let content_type = idgate_vision::probe::sniff(&bytes)
            .map(|f| f.content_type())
            .unwrap_or("application/octet-stream");
        let blob_key = v
            .blobs
            .put(idgate_store::Owner::Applicant(&applicant.id), &bytes)
            .await?;
        let doc = DocumentData {
            case_id: case.id.clone(),
            kind: kind.as_str().into(),
            side: side.as_str().into(),
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
        screens: vec![&*v.screen],
    };
    let decided = pipeline
        .decide_case(&case.id)
        .await?
        .context("the case was decided by a worker meanwhile")?;
    store.complete_queued_jobs_of(&case.id).await?;
    Ok(decided)
}

/// What `idgate verify` is told on its command line.
pub struct Args<'a> {
    pub policy: Option<&'a Path>,
    pub lang: &'a str,
    pub internal: bool,
    pub now_ms: Option<i64>,
    pub models_dir: &'a Path,
    pub application: &'a Path,
}

/// `idgate verify`: reads the application, checks the models are there before anything is
/// stored, decides it in the configured store and prints the verdict. True when approved.
pub fn run(
    cfg: &crate::config::Config,
    args: &Args<'_>,
    rt: &tokio::runtime::Runtime,
) -> anyhow::Result<bool> {
    use idgate_core::Clock;
    use std::sync::Arc;
    let policy = crate::read_policy(args.policy.or(cfg.policy_file.as_deref()))?;
    let (file, _) = read_application(args.application)?;
    let files = read_files(&policy, &file)?;
    let clock: Arc<dyn Clock> = match args.now_ms {
        Some(ms) => Arc::new(idgate_core::FixedClock::new(ms)),
        None => Arc::new(idgate_core::SystemClock),
    };
    let models = Arc::new(idgate_pipeline::Models::new(args.models_dir.to_path_buf()));
    models.ocr()?;
    models.face_models()?;
    let (store, blobs) = rt.block_on(crate::open_with_clock(cfg, clock))?;
    let secret = crate::files::identity_secret(&cfg.data_dir.join("identity.key"))?;
    let mut check = idgate_vision::check::CheckOptions::new(idgate_mrz::Date::from_unix_days(
        store.now().div_euclid(86_400_000),
    ));
    check.limits = cfg.limits.input();
    let screen = rt.block_on(crate::screening::ListScreen::open(&policy, &store))?;
    let v = Verifier {
        policy: &policy,
        store: &store,
        blobs: &blobs,
        secret: &secret,
        models,
        check,
        screen,
    };
    let decided = rt.block_on(verify(&v, &file, files))?;
    let after = decided.verified_after();
    println!(
        "{}",
        crate::report::verdict_json(
            &policy,
            &decided.verdict,
            &after,
            idgate_core::Lang::from_tag(args.lang),
            args.internal
        )
    );
    rt.block_on(store.close());
    Ok(decided.verdict.outcome == idgate_decide::Outcome::Approved)
}
