//! The reviewer console's server time at scale: a database seeded with N cases (a share in
//! review, with findings, entered data and an encrypted document image each; the rest
//! decided), the service's router called in-process as the console calls it (the session
//! cookie, not a token), and the queue, a filtered queue, a case page and a document image
//! timed. The same routes on a database of 100 cases, measured in the same run, are the
//! baseline.

use anyhow::Context;
use axum::body::Body;
use axum::http::Request;
use idgate_core::{CaseEvent, Decision, ReasonCode, ReviewerRole};
use idgate_store::{BlobStore, CaseDecision, DocumentData, MasterKey, Owner, SessionStage, Store};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;

const REGIONS: [&str; 5] = ["CN", "DE", "FR", "US", "BR"];
const REASONS: [ReasonCode; 4] = [
    ReasonCode::FaceMismatch,
    ReasonCode::ComplianceReview,
    ReasonCode::SanctionsMatch,
    ReasonCode::NameMismatch,
];

struct Seeded {
    router: axum::Router,
    cookie: String,
    in_review: Vec<(String, String)>,
    dir: std::path::PathBuf,
}

impl Drop for Seeded {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh database at `url` (SQLite in a temporary folder when `None`) with `n` cases, 40 %
/// of them in review.
async fn seed(url: Option<&str>, n: usize, image: &[u8]) -> anyhow::Result<Seeded> {
    let dir = std::env::temp_dir().join(format!(
        "idgate-console-load-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir)?;
    let url = match url {
        Some(u) => u.to_string(),
        None => format!("sqlite://{}", dir.join("db").display()),
    };
    let store = Store::connect(&url, Arc::new(idgate_core::SystemClock)).await?;
    store.migrate().await?;
    let blobs = BlobStore::local(&dir.join("blobs"), MasterKey::generate())?;
    let entered = json!({
        "nationality": "CN",
        "document": {"country": "CN", "type": "passport", "number": "E12345678"},
        "name": {"given": "Xiaoming", "family": "Zhang"},
        "birth_date": "1995-03-01"
    });
    // One set of objects stands for every seeded case: the system's, not one applicant's.
    let data_key = blobs
        .put(Owner::System, entered.to_string().as_bytes())
        .await?;
    let image_key = blobs.put(Owner::System, image).await?;
    // What the checks saw, as a decided case has it: the page's outline, a glare box, the
    // MRZ read with its fields, the faces compared.
    let seen = json!({
        "sides": [{"side": "photo_page",
                   "outline": [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]],
                   "marks": [{"code": "GLARE", "area": [0.5, 0.3, 0.1, 0.1]}],
                   "mrz": {"format": "TD3", "valid": true, "failed": [],
                           "band": [[0.1, 0.75], [0.9, 0.75], [0.9, 0.9], [0.1, 0.9]],
                           "lines": ["P<CHNZHANG<<XIAOMING<<<<<<<<<<<<<<<<<<<<<<<<", "E12345678<CHN9503016M3506300<<<<<<<<<<<<<<02"],
                           "fields": {"document_type": "P", "issuing_country": "CHN", "surname": "ZHANG",
                                      "given_names": "XIAOMING", "document_number": "E12345678",
                                      "nationality": "CHN", "birth_date": "1995-03-01", "sex": "M",
                                      "expiry_date": "2035-06-30", "optional_data": ""}}}],
        "face": {"portrait": ["photo_page", [0.15, 0.3, 0.2, 0.3]], "selfie": [0.3, 0.2, 0.4, 0.5],
                 "similarity": 0.58, "threshold": 0.725}
    });
    anyhow::ensure!(
        idgate_pipeline::evidence::read(seen.to_string().as_bytes()).is_some(),
        "the seeded evidence has the stored shape"
    );
    let evidence_key = blobs
        .put(Owner::System, seen.to_string().as_bytes())
        .await?;
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(image));
    let mut in_review = Vec::new();
    let run = uuid::Uuid::new_v4().simple().to_string();
    for i in 0..n {
        let region = REGIONS[i % REGIONS.len()];
        let a = store
            .create_applicant(&format!("load-{run}-{i}"), region)
            .await?;
        let c = store.create_case(&a.id, "basic", "api").await?;
        store.set_case_data(&c.id, &data_key, "api").await?;
        let doc = store
            .add_document(
                DocumentData {
                    case_id: c.id.clone(),
                    kind: "passport".into(),
                    side: "photo_page".into(),
                    blob_key: image_key.clone(),
                    content_type: "image/jpeg".into(),
                    size_bytes: image.len() as i64,
                    sha256: digest.clone(),
                    width: Some(1600),
                    height: Some(1200),
                },
                "api",
            )
            .await?;
        store.submit(&c.id, "api").await?;
        store
            .transition(&c.id, CaseEvent::StartProcessing, "worker", None)
            .await?;
        let review = i % 5 < 2;
        let reasons = if review {
            vec![REASONS[i % REASONS.len()]]
        } else {
            Vec::new()
        };
        let findings = json!(reasons
            .iter()
            .map(
                |r| json!({"code": r.as_str(), "reject_type": "REVIEW", "subject": "selfie",
                            "detail": {"similarity": 0.58, "threshold": 0.725}})
            )
            .collect::<Vec<_>>())
        .to_string();
        store
            .decide_case(&CaseDecision {
                case_id: &c.id,
                event: CaseEvent::Decide(if review {
                    Decision::Review
                } else {
                    Decision::Approve
                }),
                actor: "worker",
                reasons: &reasons,
                findings: Some(&findings),
                reviewer_id: None,
                comments: &[],
                record: None,
                checked: true,
                retry_after: None,
                cleared_matches: &[],
            })
            .await?;
        store.put_case_evidence(&c.id, &evidence_key).await?;
        if review {
            in_review.push((c.id.clone(), doc.document.id.clone()));
        }
    }
    // A signed-in reviewer, as the console has one.
    let reviewer = store
        .create_reviewer(&format!("load-{run}"), ReviewerRole::Reviewer, &run)
        .await?;
    let token = format!("idc_{run}");
    store
        .create_console_session(
            &reviewer.id,
            &idgate_server::credentials::hash_token(&token),
            SessionStage::Full,
            "csrf",
            3_600_000,
        )
        .await?;
    let state = Arc::new(idgate_server::state::AppState {
        store,
        blobs,
        metrics: Default::default(),
        limits: idgate_server::config::Limits {
            max_upload_bytes: 15 << 20,
            max_pixels: 50_000_000,
            api_key_per_minute: 0,
            session_per_minute: 0,
            uploads_at_once: idgate_server::config::UPLOADS_AT_ONCE,
        },
        rate: Default::default(),
        jobs_ready: Default::default(),
        live: Default::default(),
        uploads: Default::default(),
        policy: idgate_decide::Policy::default(),
        identity_secret: b"console load".to_vec(),
        models: Arc::new(idgate_pipeline::Models::new(Default::default())),
        screen: Arc::new(idgate_server::screening::ListScreen::new(
            idgate_server::screening::settings(&idgate_decide::Policy::default())?,
        )),
        flow: idgate_server::config::Flow::for_listen(([127, 0, 0, 1], 8080).into()),
        console: idgate_server::config::Console::for_public_url("http://127.0.0.1:8080"),
    });
    Ok(Seeded {
        router: idgate_server::http::app(state),
        cookie: format!("idgate_console={token}"),
        in_review,
        dir,
    })
}

/// Milliseconds of each of `times` GETs of the path `path(i)` (status 200 checked).
async fn timed(
    s: &Seeded,
    times: usize,
    path: impl Fn(usize) -> String,
) -> anyhow::Result<Vec<f64>> {
    let mut out = Vec::with_capacity(times);
    for i in 0..times {
        let req = Request::builder()
            .uri(path(i))
            .header("cookie", &s.cookie)
            .body(Body::empty())?;
        let started = Instant::now();
        let res = s.router.clone().oneshot(req).await?;
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), 64 << 20).await?;
        out.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            status.is_success(),
            "{}: {status}: {}",
            path(i),
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    Ok(out)
}

fn summary(mut v: Vec<f64>) -> Value {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    json!({"median_ms": (at(0.5) * 100.0).round() / 100.0, "p99_ms": (at(0.99) * 100.0).round() / 100.0, "n": v.len()})
}

async fn measure(s: &Seeded, requests: usize) -> anyhow::Result<Value> {
    let cases = &s.in_review;
    Ok(json!({
        "cases_in_review": cases.len(),
        "queue": summary(timed(s, requests, |_| "/v1/review/queue".into()).await?),
        "queue_filtered": summary(timed(s, requests, |i| format!(
            "/v1/review/queue?country={}&reason={}&sort=newest",
            REGIONS[i % REGIONS.len()], REASONS[i % REASONS.len()].as_str())).await?),
        "case": summary(timed(s, requests, |i| format!("/v1/review/cases/{}", cases[(i * 7919) % cases.len()].0)).await?),
        "document_image": summary(timed(s, requests, |i| {
            let (c, d) = &cases[(i * 7919) % cases.len()];
            format!("/v1/review/cases/{c}/documents/{d}/image")
        }).await?),
    }))
}

/// Seeds `n` cases (and 100 for the baseline) and times the console's routes.
pub fn evaluate(
    database: Option<&str>,
    n: usize,
    requests: usize,
    image: &[u8],
) -> anyhow::Result<Value> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    rt.block_on(async {
        let seeding = Instant::now();
        let big = seed(database, n, image).await?;
        let seed_secs = seeding.elapsed().as_secs_f64();
        let measured = measure(&big, requests).await?;
        let small = seed(None, 100, image).await?;
        let baseline = measure(&small, requests).await?;
        let ratio = |k: &str| {
            let a = measured[k]["median_ms"].as_f64().unwrap_or(0.0);
            let b = baseline[k]["median_ms"].as_f64().unwrap_or(1.0).max(0.01);
            ((a / b) * 100.0).round() / 100.0
        };
        Ok(json!({
            "database": database.map(|u| u.split('@').next_back().unwrap_or("postgres").to_string()).unwrap_or_else(|| "sqlite".into()),
            "cases": n,
            "seed_secs": (seed_secs * 10.0).round() / 10.0,
            "measured": measured,
            "baseline_100_cases_sqlite": baseline,
            "median_ratio": {"queue": ratio("queue"), "queue_filtered": ratio("queue_filtered"), "case": ratio("case"), "document_image": ratio("document_image")},
        }))
    })
}
