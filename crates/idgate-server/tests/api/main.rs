//! The router in-process (`tower::ServiceExt::oneshot`, no socket), on a real SQLite
//! store and encrypted blob directory. One module per resource, as in `src/http/`; the
//! service under test and the request helpers are here.

mod access;
mod backpressure;
mod businesses;
mod catalog;
mod console;
mod documents;
mod faults;
mod follow;
mod lifecycle;
mod liveness;
mod matrix;
mod review;
mod screening;
mod sessions;
mod webhooks;

#[path = "../support/base32.rs"]
mod base32;
#[path = "../../../face_models.rs"]
mod face_models;
#[path = "../../../testdata.rs"]
mod testdata;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use idgate_core::SystemClock;
use idgate_server::config::Limits;
use idgate_server::credentials::{generate_api_key, hash_api_key};
use idgate_server::http::app;
use idgate_server::state::AppState;
use idgate_store::{BlobStore, MasterKey, Store};
use image::RgbImage;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

struct T {
    router: axum::Router,
    key: String,
    state: Arc<AppState>,
    /// The store's clock: fixed, moved on by the tests (cooldowns, limits, expiry).
    clock: Arc<idgate_core::FixedClock>,
    _dir: tempfile::TempDir,
}

/// A service on a fixed clock set to now.
async fn setup(limits: Limits) -> T {
    let now = idgate_core::Clock::now_ms(&SystemClock);
    let clock = Arc::new(idgate_core::FixedClock::new(now));
    setup_with_clock(limits, clock.clone(), clock).await
}

async fn setup_with_clock(
    limits: Limits,
    fixed: Arc<idgate_core::FixedClock>,
    clock: Arc<dyn idgate_core::Clock>,
) -> T {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db").display());
    let store = Store::connect(&url, clock).await.unwrap();
    store.migrate().await.unwrap();
    let key = generate_api_key();
    store
        .create_api_key("test", &hash_api_key(&key))
        .await
        .unwrap();
    let blobs = BlobStore::local(&dir.path().join("blobs"), MasterKey::generate()).unwrap();
    let state = Arc::new(AppState {
        store,
        blobs,
        metrics: Default::default(),
        limits,
        rate: Default::default(),
        jobs_ready: Default::default(),
        live: Default::default(),
        uploads: Default::default(),
        policy: idgate_decide::Policy::default(),
        identity_secret: b"test identity secret".to_vec(),
        models: Arc::new(idgate_pipeline::Models::new(
            std::env::var("IDGATE_MODELS_DIR")
                .unwrap_or_default()
                .into(),
        )),
        screen: t_screen(),
        flow: idgate_server::config::Flow::for_listen(([127, 0, 0, 1], 8080).into()),
        console: idgate_server::config::Console::for_public_url("http://127.0.0.1:8080"),
    });
    T {
        router: app(state.clone()),
        key,
        state,
        clock: fixed,
        _dir: dir,
    }
}

fn limits() -> Limits {
    Limits {
        max_upload_bytes: 200_000,
        max_pixels: 20_000_000,
        api_key_per_minute: 0,
        session_per_minute: 0,
        uploads_at_once: idgate_server::config::UPLOADS_AT_ONCE,
    }
}

impl T {
    /// The same service with its blobs in `blobs` (an object store that is down).
    fn with_blobs(&mut self, blobs: BlobStore) {
        let s = &self.state;
        let state = Arc::new(AppState {
            store: s.store.clone(),
            blobs,
            metrics: Default::default(),
            limits: s.limits.clone(),
            rate: Default::default(),
            jobs_ready: Default::default(),
            live: Default::default(),
            uploads: Default::default(),
            policy: idgate_decide::Policy::default(),
            identity_secret: s.identity_secret.clone(),
            models: s.models.clone(),
            screen: s.screen.clone(),
            flow: s.flow.clone(),
            console: s.console.clone(),
        });
        self.router = app(state.clone());
        self.state = state;
    }

    /// The service again over the same store, blobs, models and lists, as `serve` builds
    /// it from other settings (an outbox, the flow's or the console's configuration).
    fn rebuild(
        &mut self,
        store: Store,
        flow: idgate_server::config::Flow,
        console: idgate_server::config::Console,
    ) {
        let state = Arc::new(AppState {
            store,
            blobs: self.state.blobs.clone(),
            metrics: Default::default(),
            limits: self.state.limits.clone(),
            rate: Default::default(),
            jobs_ready: Default::default(),
            live: Default::default(),
            uploads: Default::default(),
            policy: idgate_decide::Policy::default(),
            identity_secret: self.state.identity_secret.clone(),
            models: self.state.models.clone(),
            screen: self.state.screen.clone(),
            flow,
            console,
        });
        self.router = app(state.clone());
        self.state = state;
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, Value) {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    fn req(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {}", self.key))
    }

    async fn post_json(&self, uri: &str, body: Value) -> (StatusCode, Value) {
        self.call(
            self.req("POST", uri)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    async fn send_json(&self, method: &str, uri: &str, body: Value) -> (StatusCode, Value) {
        self.call(
            self.req(method, uri)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    /// The service again with the webhook outbox on, as `serve` builds it when a webhook
    /// URL is set.
    fn with_outbox(&mut self) {
        let store = self
            .state
            .store
            .clone()
            .with_webhooks(Some(idgate_server::webhooks::renderer()));
        let (flow, console) = (self.state.flow.clone(), self.state.console.clone());
        self.rebuild(store, flow, console);
    }

    /// The `/metrics` text (it needs no credential).
    async fn metrics(&self) -> String {
        let res = self
            .router
            .clone()
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }

    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.call(self.req("GET", uri).body(Body::empty()).unwrap())
            .await
    }

    /// A request as a reviewer (bearer token instead of the API key).
    async fn as_reviewer(
        &self,
        token: &str,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json");
        let body = body.map_or(Body::empty(), |b| Body::from(b.to_string()));
        self.call(req.body(body).unwrap()).await
    }

    /// A reviewer's GET of an image route: the response as sent (headers and body).
    async fn reviewer_image(&self, token: &str, uri: &str) -> axum::response::Response {
        let req = Request::get(uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        self.router.clone().oneshot(req).await.unwrap()
    }

    async fn reviewer(&self, name: &str, role: &str) -> String {
        let (s, r) = self
            .post_json("/v1/reviewers", json!({"name": name, "role": role}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        r["token"].as_str().unwrap().to_string()
    }

    async fn draft_case(&self, uid: &str) -> String {
        self.post_json("/v1/applicants", json!({"uid": uid, "region": "DE"}))
            .await;
        // The applicant may have been made before (as a business's party).
        let a = self
            .state
            .store
            .applicant_by_uid(uid)
            .await
            .unwrap()
            .unwrap();
        let (s, c) = self
            .post_json(&format!("/v1/applicants/{}/cases", a.id), json!({}))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        c["id"].as_str().unwrap().to_string()
    }

    async fn upload(&self, case: &str, fields: &[(&str, &[u8])]) -> (StatusCode, Value) {
        self.multipart(&format!("/v1/cases/{case}/documents"), fields)
            .await
    }

    async fn multipart(&self, uri: &str, fields: &[(&str, &[u8])]) -> (StatusCode, Value) {
        self.multipart_as(&self.key, uri, fields).await
    }

    /// A multipart POST with `bearer` as the credential (an API key or a session token).
    async fn multipart_as(
        &self,
        bearer: &str,
        uri: &str,
        fields: &[(&str, &[u8])],
    ) -> (StatusCode, Value) {
        self.call(multipart_request(bearer, uri, fields)).await
    }
}

fn erika() -> Value {
    json!({
        "nationality": "DE",
        "document": {"country": "DE", "type": "passport", "number": "C01X00T47"},
        "name": {"given": "Erika", "family": "Mustermann"},
        "birth_date": "1964-08-12",
        "address": "Heidestrasse 17, 51147 Koeln"
    })
}

fn specimen_jpeg() -> Vec<u8> {
    testdata::read("fastmrz/data/td3.jpg")
}

fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend(w.to_be_bytes());
    b.extend(h.to_be_bytes());
    b.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
    b
}

/// A submitted case with Erika's data and a passport photo, moved to review as the
/// pipeline does when a person must decide: its decision is stored with `checked` and the
/// identity keys of the data (the worker's own path is in tests/e2e.rs).
async fn case_in_review(t: &T, uid: &str) -> String {
    case_decided(t, uid, idgate_core::Decision::Review).await
}

/// A submitted case decided by the pipeline's path as `decision` (review, or a final
/// rejection: a compliance note as its reason; or an approval verifying the basic level).
async fn case_decided(t: &T, uid: &str, decision: idgate_core::Decision) -> String {
    let case = submitted_case(t, uid).await;
    use idgate_core::{CaseEvent, Decision, ReasonCode};
    t.state
        .store
        .transition(&case, CaseEvent::StartProcessing, "worker", None)
        .await
        .unwrap();
    let app = idgate_pipeline::EnteredData::deserialize(erika())
        .unwrap()
        .application(uid, "DE", "basic")
        .unwrap();
    let keys = idgate_decide::identity::keys(
        &t.state.identity_secret,
        &app,
        &idgate_decide::Extracted::default(),
    );
    let approved = decision == Decision::Approve;
    let reasons: &[ReasonCode] = if approved {
        &[]
    } else {
        &[ReasonCode::ComplianceReview]
    };
    let outcome = match decision {
        Decision::Review => "in_review",
        Decision::Reject => "rejected",
        Decision::Approve => "approved",
        Decision::Retry => unreachable!("review, rejection or approval"),
    };
    let steps = ["identity_document", "selfie"];
    t.state
        .store
        .decide_case(&idgate_store::CaseDecision {
            case_id: &case,
            event: CaseEvent::Decide(decision),
            actor: "worker",
            reasons,
            findings: Some(if approved {
                "[]"
            } else {
                r#"[{"code":"COMPLIANCE_REVIEW","reject_type":"REVIEW","subject":null,"detail":"a note"}]"#
            }),
            reviewer_id: None,
            comments: &[],
            record: Some(idgate_store::DecisionRecord {
                uid,
                outcome,
                reasons,
                keys: &keys,
                claims: if approved {
                    idgate_store::ClaimChange::Verified
                } else {
                    idgate_store::ClaimChange::Pending
                },
                steps: if approved { &steps } else { &[] },
                level: approved.then_some("basic"),
                raise: &[],
                case_id: Some(&case),
            }),
            checked: true,
            retry_after: None,
            cleared_matches: &[],
        })
        .await
        .unwrap();
    case
}

/// A multipart POST of `fields` to `uri` with `bearer` as the credential; `file` and
/// `frame` fields go as JPEG files.
fn multipart_request(bearer: &str, uri: &str, fields: &[(&str, &[u8])]) -> Request<Body> {
    let boundary = "XBOUNDARYX";
    let mut body = Vec::new();
    for (name, data) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes(),
        );
        if *name == "file" || *name == "frame" {
            body.extend(b"; filename=\"photo.jpg\"\r\nContent-Type: image/jpeg");
        }
        body.extend(b"\r\n\r\n");
        body.extend(*data);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    Request::builder()
        .method("POST")
        .uri(uri)
        .header("authorization", format!("Bearer {bearer}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap()
}

/// A case with Erika's passport photo, a selfie and her data, submitted.
async fn submitted_case(t: &T, uid: &str) -> String {
    let case = t.draft_case(uid).await;
    t.upload(&case, &[("kind", b"passport"), ("file", &specimen_jpeg())])
        .await;
    t.upload(&case, &[("kind", b"selfie"), ("file", &specimen_jpeg())])
        .await;
    let (s, _) = t
        .send_json("PUT", &format!("/v1/cases/{case}/data"), erika())
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t
        .post_json(&format!("/v1/cases/{case}/submit"), json!(null))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    case
}

/// A list screen with no lists imported (the service's state before any `lists import`).
pub fn t_screen() -> Arc<idgate_server::screening::ListScreen> {
    Arc::new(idgate_server::screening::ListScreen::new(
        idgate_screen::Settings::default(),
    ))
}
