//! The router in-process (`tower::ServiceExt::oneshot`, no socket), on a real SQLite
//! store and encrypted blob directory.

#[path = "../../face_models.rs"]
mod face_models;
#[path = "../../testdata.rs"]
mod testdata;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use idgate_core::SystemClock;
use idgate_server::api::{app, generate_api_key, hash_api_key, AppState};
use idgate_server::config::Limits;
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
        jobs_ready: Default::default(),
        policy: idgate_decide::Policy::default(),
        identity_secret: b"test identity secret".to_vec(),
        models: Arc::new(idgate_pipeline::Models::new(
            std::env::var("IDGATE_MODELS_DIR")
                .unwrap_or_default()
                .into(),
        )),
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
    }
}

impl T {
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

    async fn reviewer(&self, name: &str, role: &str) -> String {
        let (s, r) = self
            .post_json("/v1/reviewers", json!({"name": name, "role": role}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        r["token"].as_str().unwrap().to_string()
    }

    async fn draft_case(&self, uid: &str) -> String {
        let (_, a) = self
            .post_json("/v1/applicants", json!({"uid": uid, "region": "DE"}))
            .await;
        let (s, c) = self
            .post_json(
                &format!("/v1/applicants/{}/cases", a["id"].as_str().unwrap()),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        c["id"].as_str().unwrap().to_string()
    }

    async fn upload(&self, case: &str, fields: &[(&str, &[u8])]) -> (StatusCode, Value) {
        self.multipart(&format!("/v1/cases/{case}/documents"), fields)
            .await
    }

    async fn multipart(&self, uri: &str, fields: &[(&str, &[u8])]) -> (StatusCode, Value) {
        let boundary = "XBOUNDARYX";
        let mut body = Vec::new();
        for (name, data) in fields {
            body.extend(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"")
                    .as_bytes(),
            );
            if *name == "file" || *name == "frame" {
                body.extend(b"; filename=\"photo.jpg\"\r\nContent-Type: image/jpeg");
            }
            body.extend(b"\r\n\r\n");
            body.extend(*data);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        let req = self
            .req("POST", uri)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.call(req).await
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

#[tokio::test]
async fn the_api_refuses_requests_without_a_valid_key() {
    let t = setup(limits()).await;
    for auth in [None, Some("Bearer idg_wrong"), Some("Basic abc")] {
        let mut req = Request::builder()
            .method("POST")
            .uri("/v1/applicants")
            .header("content-type", "application/json");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let (s, body) = t
            .call(
                req.body(Body::from(r#"{"uid":"u","region":"DE"}"#))
                    .unwrap(),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    // Health, metrics and the API description need no key.
    for uri in ["/healthz", "/openapi.json"] {
        let (s, _) = t.call(Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
    }
}

#[tokio::test]
async fn applicant_input_is_validated_with_clear_errors() {
    let t = setup(limits()).await;
    for (body, code) in [
        (json!({"uid": "", "region": "DE"}), "invalid_uid"),
        (json!({"uid": "a b", "region": "DE"}), "invalid_uid"),
        (json!({"uid": "u1", "region": "Germany"}), "invalid_region"),
        (json!({"uid": "u1"}), "invalid_json"),
        (
            json!({"uid": "u1", "region": "DE", "extra": 1}),
            "invalid_json",
        ),
    ] {
        let (s, v) = t.post_json("/v1/applicants", body.clone()).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{body}"
        );
    }
    let (s, a) = t
        .post_json("/v1/applicants", json!({"uid": "u1", "region": "DE"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = t
        .post_json("/v1/applicants", json!({"uid": "u1", "region": "FR"}))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    let (s, got) = t
        .call(
            t.req(
                "GET",
                &format!("/v1/applicants/{}", a["id"].as_str().unwrap()),
            )
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    let mut want = a.clone();
    want["verified_data"] = Value::Null; // nothing approved yet
    assert_eq!((s, got), (StatusCode::OK, want));
    let (s, _) = t
        .call(
            t.req("GET", "/v1/applicants/nope")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn uploads_are_checked_by_content_size_and_pixels_and_lose_nothing() {
    let t = setup(limits()).await;
    let case = t.draft_case("u2").await;
    let jpeg = specimen_jpeg();
    let big = vec![0xFFu8; 250_000];
    let truncated_jpeg = &jpeg[..40];
    let bomb = png_header(100_000, 100_000);
    for (fields, status, code) in [
        (
            vec![("kind", &b"passport"[..]), ("file", b"just text")],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
        ),
        (
            vec![("kind", &b"passport"[..]), ("file", &big[..])],
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
        ),
        (
            vec![("kind", &b"passport"[..]), ("file", &bomb[..])],
            StatusCode::UNPROCESSABLE_ENTITY,
            "image_too_large",
        ),
        (
            vec![("kind", &b"passport"[..]), ("file", truncated_jpeg)],
            StatusCode::UNPROCESSABLE_ENTITY,
            "unreadable_image",
        ),
        (
            vec![("kind", &b"passport"[..]), ("file", b"")],
            StatusCode::BAD_REQUEST,
            "empty_file",
        ),
        (
            vec![("kind", &b"library_card"[..]), ("file", &jpeg[..])],
            StatusCode::BAD_REQUEST,
            "invalid_kind",
        ),
        (
            vec![
                ("kind", &b"national_id"[..]),
                ("side", b"top"),
                ("file", &jpeg[..]),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_side",
        ),
        (
            vec![("file", &jpeg[..])],
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            vec![("kind", &b"passport"[..]), ("photo", &jpeg[..])],
            StatusCode::BAD_REQUEST,
            "unknown_field",
        ),
    ] {
        let (s, v) = t.upload(&case, &fields).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (status, Some(code)),
            "{:?}",
            fields.iter().map(|f| f.0).collect::<Vec<_>>()
        );
    }
    let (s, doc) = t
        .upload(&case, &[("kind", b"passport"), ("file", &jpeg)])
        .await;
    assert_eq!(s, StatusCode::CREATED, "{doc}");
    assert_eq!(
        (doc["content_type"].as_str(), doc["side"].as_str()),
        (Some("image/jpeg"), Some("photo_page"))
    );
    assert!(doc["width"].as_i64().unwrap() > 100);
    // The stored bytes decrypt to exactly what was sent.
    let stored = t.state.store.documents(&case).await.unwrap();
    assert_eq!(stored.len(), 1, "refused uploads left nothing behind");
    assert_eq!(
        t.state.blobs.get(&stored[0].data.blob_key).await.unwrap(),
        jpeg
    );
    assert_ne!(
        t.state
            .blobs
            .get_raw(&stored[0].data.blob_key)
            .await
            .unwrap(),
        jpeg
    );
}

#[tokio::test]
async fn submitting_needs_documents_and_happens_once() {
    let t = setup(limits()).await;
    let case = t.draft_case("u3").await;
    let submit = |c: &str| {
        t.req("POST", &format!("/v1/cases/{c}/submit"))
            .body(Body::empty())
            .unwrap()
    };
    let (s, v) = t.call(submit(&case)).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("no_documents"))
    );
    t.upload(&case, &[("kind", b"passport"), ("file", &specimen_jpeg())])
        .await;
    let (s, v) = t.call(submit(&case)).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("no_applicant_data"))
    );
    let data_uri = format!("/v1/cases/{case}/data");
    for (bad, code) in [
        (json!({"nationality": "DE"}), "invalid_json"),
        (
            json!({"nationality": "XX", "document": {"country": "DE", "type": "passport", "number": "C01X00T47"},
                   "name": {"given": "Erika", "family": "Mustermann"}}),
            "invalid_country",
        ),
        (
            json!({"nationality": "DE", "document": {"country": "DE", "type": "library_card", "number": "1"},
                   "name": {"given": "Erika", "family": "Mustermann"}}),
            "invalid_kind",
        ),
        (
            json!({"nationality": "DE", "document": {"country": "DE", "type": "passport", "number": "C01X00T47"},
                   "name": {"given": "Erika", "family": "Mustermann"}, "birth_date": "12.08.1964"}),
            "invalid_birth_date",
        ),
    ] {
        let (s, v) = t.send_json("PUT", &data_uri, bad).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code))
        );
    }
    let (s, _) = t.send_json("PUT", &data_uri, erika()).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = t.call(submit(&case)).await;
    assert_eq!(
        (s, v["status"].as_str(), v["data_entered"].as_bool()),
        (StatusCode::ACCEPTED, Some("submitted"), Some(true))
    );
    // Entered data is frozen once submitted.
    let (s, _) = t.send_json("PUT", &data_uri, erika()).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v) = t.call(submit(&case)).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
    let (s, v) = t
        .upload(&case, &[("kind", b"passport"), ("file", &specimen_jpeg())])
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
    let (s, v) = t
        .call(
            t.req("GET", &format!("/v1/cases/{case}/events"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let actions: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["created", "document_added", "data_entered", "submitted"]
    );
    let (s, _) = t.call(submit("missing")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_count_responses_and_queue() {
    let t = setup(limits()).await;
    let case = t.draft_case("u4").await;
    t.upload(&case, &[("kind", b"passport"), ("file", b"nope")])
        .await;
    let res = t
        .router
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(text.contains("idgate_uploads_rejected_total 1"), "{text}");
    assert!(
        text.contains("idgate_http_responses_total{class=\"4xx\"} 1"),
        "{text}"
    );
    assert!(text.contains("idgate_jobs{state=\"queued\"} 0"), "{text}");
}

#[test]
fn committed_openapi_matches_the_generated_document() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json");
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        committed,
        idgate_server::openapi::document(),
        "openapi.json is stale: run `cargo run -p idgate-server -- openapi > openapi.json`"
    );
}

/// The applicant app's pre-check: a glare photo comes back as retry with the region to
/// fix, a clean one passes, junk is refused with a clear code, and nothing is stored.
#[tokio::test]
async fn precheck_answers_with_reasons_and_stores_nothing() {
    let t = setup(Limits {
        max_upload_bytes: 8_000_000,
        max_pixels: 20_000_000,
    })
    .await;
    let fonts = idgate_specimen::Fonts::system().unwrap();
    let opts = idgate_specimen::Options::default();
    let post = |bytes: Vec<u8>| {
        t.req("POST", "/v1/precheck")
            .header("content-type", "application/octet-stream")
            .body(Body::from(bytes))
            .unwrap()
    };
    let glare = idgate_specimen::generate(&fonts, idgate_specimen::Defect::Glare, 42, &opts);
    let (s, r) = t.call(post(glare.bytes)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["verdict"], "retry", "{r}");
    let reason = r["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "GLARE")
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(reason["region"].as_array().unwrap().len(), 4);
    assert!(r.get("file").is_none());

    let clean = idgate_specimen::generate(&fonts, idgate_specimen::Defect::Clean, 42, &opts);
    let (s, r) = t.call(post(clean.bytes)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["verdict"], "pass", "{r}");
    assert_eq!(r["document"]["corners"].as_array().unwrap().len(), 4);

    let (s, r) = t.call(post(b"GIF89a not really".to_vec())).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{r}");
    assert_eq!(r["error"]["code"], "unsupported_file_type");

    let (s, _) = t
        .call(
            Request::builder()
                .method("POST")
                .uri("/v1/precheck")
                .body(Body::from(vec![0u8; 10]))
                .unwrap(),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "the pre-check needs the API key"
    );
    fn files(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        files(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    assert_eq!(
        files(&t._dir.path().join("blobs")),
        0,
        "a pre-check stores no image"
    );
}

#[tokio::test]
async fn the_catalog_follows_the_chosen_country() {
    let t = setup(limits()).await;
    let get = |uri: &str| t.req("GET", uri).body(Body::empty()).unwrap();
    let (s, cn) = t.call(get("/v1/catalog/cn")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (cn["code"].as_str(), cn["supported"].as_bool()),
        (Some("CN"), Some(true))
    );
    let kinds: Vec<&str> = cn["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["passport", "national_id"]);
    // The Mainland card: both sides, no MRZ.
    assert_eq!(cn["documents"][1]["sides"], json!(["front", "back"]));
    assert_eq!(cn["documents"][1]["mrz"], false);
    let (_, ua) = t.call(get("/v1/catalog/UA")).await;
    assert!(ua["unsupported_subdivisions"]
        .as_array()
        .unwrap()
        .contains(&json!("UA-43")));
    let (_, kp) = t.call(get("/v1/catalog/KP")).await;
    assert_eq!(kp["supported"], false);
    let (s, body) = t.call(get("/v1/catalog/XX")).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (_, all) = t.call(get("/v1/catalog")).await;
    assert_eq!(all["countries"].as_array().unwrap().len(), 249);
}

#[tokio::test]
async fn entitlements_follow_the_verified_steps() {
    let t = setup(limits()).await;
    let get = |uri: &str| t.req("GET", uri).body(Body::empty()).unwrap();
    let (s, none) = t.call(get("/v1/entitlements/u-42")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(none["level"], Value::Null);
    assert_eq!(none["entitlements"]["withdraw"], false);
    let steps = ["identity_document", "selfie"];
    t.state
        .store
        .record_decision(&idgate_store::DecisionRecord {
            uid: "u-42",
            outcome: "approved",
            reasons: &[],
            keys: &[],
            claims: idgate_store::ClaimChange::Verified,
            steps: &steps,
            level: Some("basic"),
            raise: &[],
            case_id: None,
        })
        .await
        .unwrap();
    let (_, basic) = t.call(get("/v1/entitlements/u-42")).await;
    assert_eq!(basic["level"], "basic");
    assert_eq!(
        basic["verified_steps"],
        json!(["identity_document", "selfie"])
    );
    assert_eq!(basic["entitlements"]["withdraw"], true);
    assert_eq!(basic["entitlements"]["p2p"], true);
}

/// A submitted case with Erika's data and a passport photo, moved to review as the
/// pipeline does when a person must decide: its decision is stored with `checked` and the
/// identity keys of the data (the worker's own path is in tests/e2e.rs).
async fn case_in_review(t: &T, uid: &str) -> String {
    let case = submitted_case(t, uid).await;
    use idgate_core::{CaseEvent, Decision, ReasonCode};
    t.state
        .store
        .transition(&case, CaseEvent::StartProcessing, "worker", None)
        .await
        .unwrap();
    let app = idgate_server::verify_cli::EnteredData::deserialize(erika())
        .unwrap()
        .application(uid, "DE", "basic")
        .unwrap();
    let keys: Vec<(String, String)> = idgate_decide::identity::keys(
        &t.state.identity_secret,
        &app,
        &idgate_decide::Extracted::default(),
    )
    .into_iter()
    .map(|k| (k.kind.as_str().to_string(), k.hash))
    .collect();
    let reasons = [ReasonCode::ComplianceReview];
    t.state
        .store
        .decide_case(&idgate_store::CaseDecision {
            case_id: &case,
            event: CaseEvent::Decide(Decision::Review),
            actor: "worker",
            reasons: &reasons,
            findings: Some(
                r#"[{"code":"COMPLIANCE_REVIEW","reject_type":"REVIEW","subject":null,"detail":"a note"}]"#,
            ),
            reviewer_id: None,
            comments: &[],
            record: Some(idgate_store::DecisionRecord {
                uid,
                outcome: "in_review",
                reasons: &reasons,
                keys: &keys,
                claims: idgate_store::ClaimChange::Pending,
                steps: &[],
                level: None,
                raise: &[],
                case_id: Some(&case),
            }),
            checked: true,
            retry_after: None,
        })
        .await
        .unwrap();
    case
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

#[tokio::test]
async fn reviewers_claim_comment_and_decide_under_their_roles() {
    let t = setup(limits()).await;
    let alice = t.reviewer("alice", "reviewer").await;
    let bob = t.reviewer("bob", "reviewer").await;
    let carl = t.reviewer("carl", "auditor").await;
    let sue = t.reviewer("sue", "supervisor").await;
    let (s, v) = t
        .post_json(
            "/v1/reviewers",
            json!({"name": "alice", "role": "reviewer"}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    let (s, v) = t
        .post_json("/v1/reviewers", json!({"name": "x", "role": "boss"}))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_role"))
    );
    // The platform's API key is not a reviewer token, nor the other way round.
    let (s, _) = t.as_reviewer(&t.key, "GET", "/v1/review/queue", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = t.as_reviewer(&alice, "GET", "/v1/applicants/x", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let case = case_in_review(&t, "erika-1").await;
    let (s, q) = t.as_reviewer(&carl, "GET", "/v1/review/queue", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(q["cases"][0]["case_id"], case.as_str());
    assert_eq!(q["cases"][0]["reasons"], json!(["COMPLIANCE_REVIEW"]));
    let at = |what: &str| format!("/v1/review/cases/{case}/{what}");
    // An auditor reads but does not act.
    let (s, _) = t.as_reviewer(&carl, "POST", &at("claim"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, detail) = t
        .as_reviewer(&carl, "GET", &format!("/v1/review/cases/{case}"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(detail["entered"]["name"]["family"], "Mustermann");
    assert_eq!(detail["documents"].as_array().unwrap().len(), 2);
    // The image as uploaded, decrypted for the reviewer.
    let doc = detail["documents"][0]["id"].as_str().unwrap();
    let res = t
        .router
        .clone()
        .oneshot(
            Request::get(format!("/v1/review/cases/{case}/documents/{doc}/image"))
                .header("authorization", format!("Bearer {carl}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(bytes.as_ref(), specimen_jpeg().as_slice());

    // One holder at a time; deciding needs the claim.
    let (s, v) = t.as_reviewer(&alice, "POST", &at("claim"), None).await;
    assert_eq!((s, v["claimed_by"].is_string()), (StatusCode::OK, true));
    let (s, _) = t.as_reviewer(&bob, "POST", &at("claim"), None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let approve = json!({"decision": "approve"});
    let (s, _) = t
        .as_reviewer(&bob, "POST", &at("decision"), Some(approve.clone()))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = t
        .as_reviewer(&bob, "POST", &at("claim"), Some(json!({"take_over": true})))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "only a supervisor takes over");
    let (s, _) = t
        .as_reviewer(&sue, "POST", &at("claim"), Some(json!({"take_over": true})))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = t
        .as_reviewer(&alice, "POST", &at("decision"), Some(approve.clone()))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "alice no longer holds the case");
    // Decisions say why; codes are the catalog's.
    for (body, code) in [
        (json!({"decision": "retry"}), "missing_reason"),
        (
            json!({"decision": "reject", "reasons": ["NOPE"]}),
            "invalid_reason",
        ),
        (
            json!({"decision": "approve", "reasons": ["GLARE"]}),
            "invalid_reason",
        ),
        (json!({"decision": "maybe"}), "invalid_decision"),
    ] {
        let (s, v) = t
            .as_reviewer(&sue, "POST", &at("decision"), Some(body))
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code))
        );
    }
    let (s, _) = t
        .as_reviewer(
            &sue,
            "POST",
            &at("comments"),
            Some(json!({"visibility": "internal", "body": "photo matches"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = t
        .as_reviewer(
            &sue,
            "POST",
            &at("decision"),
            Some(
                json!({"decision": "approve", "applicant_comment": "Welcome aboard",
                        "internal_comment": "checked against the register"}),
            ),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{v}"
    );

    // The platform sees the status and the applicant comment, never internal ones.
    let (_, c) = t.get(&format!("/v1/cases/{case}")).await;
    assert_eq!(c["status"], "approved");
    assert_eq!(c["comments"].as_array().unwrap().len(), 1);
    assert_eq!(c["comments"][0]["body"], "Welcome aboard");
    let (_, detail) = t
        .as_reviewer(&carl, "GET", &format!("/v1/review/cases/{case}"), None)
        .await;
    assert_eq!(detail["comments"].as_array().unwrap().len(), 3);
    let actions: Vec<(String, String)> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .skip(6) // created, 2 × document_added, data_entered, submitted, processing_started
        .map(|e| {
            (
                e["actor"].as_str().unwrap().into(),
                e["action"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        ("worker", "decided"),
        ("reviewer:carl", "document_viewed"),
        ("reviewer:alice", "claimed"),
        ("reviewer:sue", "taken_over"),
        ("reviewer:sue", "comment_internal"),
        ("reviewer:sue", "reviewer_decided"),
        ("reviewer:sue", "comment_applicant"),
        ("reviewer:sue", "comment_internal"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(actions, want);
    // The approval verified the level's steps and the entered data.
    let (_, e) = t.get("/v1/entitlements/erika-1").await;
    assert_eq!(e["level"], "basic");
    let applicant = c["applicant_id"].as_str().unwrap();
    let (_, a) = t.get(&format!("/v1/applicants/{applicant}")).await;
    assert_eq!(a["verified_data"], erika());

    // Verified data changes only through a change request a reviewer approves.
    let mut moved = erika();
    moved["address"] = json!("Unter den Linden 1, 10117 Berlin");
    let cr_uri = format!("/v1/applicants/{applicant}/change-requests");
    let (s, cr) = t
        .post_json(&cr_uri, json!({"data": moved, "reason": "moved house"}))
        .await;
    assert_eq!(
        (s, cr["status"].as_str()),
        (StatusCode::CREATED, Some("pending"))
    );
    let (s, _) = t
        .post_json(&cr_uri, json!({"data": moved, "reason": "again"}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "one pending request at a time");
    let (_, a) = t.get(&format!("/v1/applicants/{applicant}")).await;
    assert_eq!(a["verified_data"], erika(), "unchanged until approved");
    let (_, list) = t
        .as_reviewer(&bob, "GET", "/v1/review/change-requests", None)
        .await;
    assert_eq!(list["change_requests"][0]["current"], erika());
    assert_eq!(list["change_requests"][0]["requested"], moved);
    let cr_id = cr["id"].as_str().unwrap();
    let decide = format!("/v1/review/change-requests/{cr_id}/decision");
    let (s, _) = t
        .as_reviewer(&carl, "POST", &decide, Some(json!({"decision": "approve"})))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = t
        .as_reviewer(
            &bob,
            "POST",
            &decide,
            Some(json!({"decision": "approve", "comment": "utility bill seen"})),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("approved"))
    );
    let (_, a) = t.get(&format!("/v1/applicants/{applicant}")).await;
    assert_eq!(a["verified_data"], moved);
    let (_, v) = t.get(&format!("/v1/change-requests/{cr_id}")).await;
    assert_eq!(v["status"], "approved");

    // A disabled reviewer's token stops working.
    let (_, list) = t.get("/v1/reviewers").await;
    let bob_id = list["reviewers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "bob")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = t
        .call(
            t.req("DELETE", &format!("/v1/reviewers/{bob_id}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t.as_reviewer(&bob, "GET", "/v1/review/queue", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_change_request_needs_verified_data() {
    let t = setup(limits()).await;
    let case = t.draft_case("fresh").await;
    let (_, c) = t.get(&format!("/v1/cases/{case}")).await;
    let applicant = c["applicant_id"].as_str().unwrap();
    let (s, v) = t
        .post_json(
            &format!("/v1/applicants/{applicant}/change-requests"),
            json!({"data": erika(), "reason": "typo"}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
}

/// (signature header, raw body) of every request a receiver got.
type Received = Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// A receiver that answers 500 to its first request and 204 afterwards, keeping what it got.
async fn flaky_receiver() -> (String, Received) {
    use axum::routing::post;
    let got: Received = Default::default();
    let store = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let store = store.clone();
                async move {
                    let sig = headers["x-idgate-signature"].to_str().unwrap().to_string();
                    let mut g = store.lock().unwrap();
                    g.push((sig, body.to_vec()));
                    if g.len() == 1 {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

#[tokio::test]
async fn status_changes_reach_the_platform_signed_retried_and_logged() {
    // The dispatcher's retries wait on the store's clock: a real one here.
    let unused = Arc::new(idgate_core::FixedClock::new(0));
    let mut t = setup_with_clock(limits(), unused, Arc::new(SystemClock)).await;
    // The same state with the outbox on, as `serve` builds it when a webhook URL is set.
    let s2 = Arc::new(AppState {
        store: t.state.store.clone().with_webhooks(true),
        blobs: t.state.blobs.clone(),
        metrics: Default::default(),
        limits: limits(),
        jobs_ready: Default::default(),
        policy: idgate_decide::Policy::default(),
        identity_secret: b"s".to_vec(),
        models: Arc::new(idgate_pipeline::Models::new(Default::default())),
    });
    t.router = app(s2.clone());
    t.state = s2.clone();
    let (url, got) = flaky_receiver().await;
    let hook = idgate_server::config::Webhook {
        url,
        secret: None,
        max_attempts: 5,
        retry_base_ms: 50,
        timeout_secs: 5,
    };
    let secret = b"whsec-test".to_vec();
    let dispatcher = idgate_server::webhooks::Dispatcher::new(&hook, secret.clone()).unwrap();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(idgate_server::webhooks::run(
        s2.clone(),
        dispatcher,
        stop_rx,
    ));

    let case = case_in_review(&t, "hooked").await;
    // submitted, processing, in_review: three deliveries, the first one retried once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, d) = t.get("/v1/webhooks/deliveries").await;
        let list = d["deliveries"].as_array().unwrap().clone();
        if list.len() == 3 && list.iter().all(|x| x["status"] == "delivered") {
            let with = |status: &str| {
                list.iter()
                    .find(|x| x["body"]["data"]["status"] == status)
                    .unwrap_or_else(|| panic!("no delivery for {status}: {d}"))
                    .clone()
            };
            let codes = |x: &Value| -> Vec<i64> {
                x["attempts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["status_code"].as_i64().unwrap())
                    .collect()
            };
            let retried: Vec<Vec<i64>> = ["submitted", "processing", "in_review"]
                .iter()
                .map(|st| codes(&with(st)))
                .filter(|c| c.len() == 2)
                .collect();
            assert_eq!(
                retried,
                [vec![500, 204]],
                "one delivery retried after the 500"
            );
            let review = with("in_review");
            assert_eq!(review["body"]["data"]["previous_status"], "processing");
            assert_eq!(
                review["body"]["data"]["reasons"],
                json!(["COMPLIANCE_REVIEW"])
            );
            assert_eq!(review["body"]["data"]["case_id"], case.as_str());
            assert_eq!(codes(&review).last(), Some(&204));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "deliveries: {d}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let received = got.lock().unwrap().clone();
    assert_eq!(received.len(), 4);
    let now = idgate_core::Clock::now_ms(&idgate_core::SystemClock) / 1000;
    let mut order = Vec::new();
    for (sig, body) in &received {
        use idgate_server::webhooks::{verify_signature, SignatureError};
        assert_eq!(verify_signature(&secret, body, sig, now, 300), Ok(()));
        assert_eq!(
            verify_signature(b"other", body, sig, now, 300),
            Err(SignatureError::Mismatch)
        );
        // Replayed an hour later, the same request is refused.
        assert!(matches!(
            verify_signature(&secret, body, sig, now + 3600, 300),
            Err(SignatureError::Stale(_))
        ));
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["type"], "case.status_changed");
        assert_eq!(v["data"]["uid"], "hooked");
        assert!(
            v["data"].get("name").is_none(),
            "no personal data in webhooks"
        );
        order.push((
            v["sequence"].as_i64().unwrap(),
            v["data"]["status"].as_str().unwrap().to_string(),
        ));
    }
    // In the case's order, the first retried before anything later was sent.
    assert_eq!(
        order,
        [
            (1, "submitted".to_string()),
            (1, "submitted".to_string()),
            (2, "processing".to_string()),
            (3, "in_review".to_string())
        ]
    );
    // The retry carries the same body (its signature is new: a new timestamp).
    assert_eq!(received[0].1, received[1].1);
    // A redelivery on request.
    let (_, d) = t.get("/v1/webhooks/deliveries").await;
    let id = d["deliveries"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(d["deliveries"][0]["status"], "delivered");
    let (s, _) = t
        .post_json(
            &format!("/v1/webhooks/deliveries/{id}/redeliver"),
            json!(null),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while got.lock().unwrap().len() < 5 {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    task.await.unwrap();
}

/// A synthetic recording of obama-480p.jpg doing `actions`, JPEG frames: facing the camera
/// between movements; every frame differs (as a camera's do).
fn recording(actions: &[&str]) -> Vec<Vec<u8>> {
    recording_as(actions, |f| f)
}

/// [`recording`] with each frame passed through `film` (e.g. shown on a screen).
fn recording_as(actions: &[&str], film: impl Fn(RgbImage) -> RgbImage) -> Vec<Vec<u8>> {
    recording_of(
        "face_recognition_ageitgey/examples/obama-480p.jpg",
        actions,
        film,
    )
}

/// A synthetic recording of the face in `photo` (shared test data).
fn recording_of(
    photo: &str,
    actions: &[&str],
    film: impl Fn(RgbImage) -> RgbImage,
) -> Vec<Vec<u8>> {
    let models = face_models::get();
    let img = image::load_from_memory(&testdata::read(photo))
        .unwrap()
        .into_rgb8();
    let lm = models.faces(&img)[0].landmarks;
    let actions: Vec<_> = actions
        .iter()
        .map(|a| idgate_face::liveness::Action::parse(a).unwrap())
        .collect();
    // A live recording: the head turning in 3-D, the lids closing; each call in a test a
    // new one, the same ones on every run of that test (its own thread's count, not one
    // shared by the tests running beside it), one in which the detector sees the face in
    // every frame.
    thread_local!(static SEED: std::cell::Cell<u64> = const { std::cell::Cell::new(1) });
    let seed = SEED.with(|s| s.replace(s.get() + 100));
    let frames =
        idgate_face::synth::detectable_recording(models, &img, &lm, &actions, 22.0, seed, 8);
    idgate_face::synth::camera_frames(frames.into_iter().map(film).collect(), b"")
}

fn frame_fields(frames: &[Vec<u8>], step_ms: i64) -> (String, Vec<(&'static str, &[u8])>) {
    let stamps: Vec<String> = (0..frames.len())
        .map(|i| (i as i64 * step_ms).to_string())
        .collect();
    let fields = frames.iter().map(|f| ("frame", f.as_slice())).collect();
    (stamps.join(","), fields)
}

/// Issues a challenge on `case`: (answer URI, actions asked, the answer's JSON).
async fn challenge(t: &T, case: &str) -> (String, Vec<String>, Value) {
    let (s, c) = t
        .post_json(&format!("/v1/cases/{case}/liveness"), json!(null))
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let asked: Vec<String> = c["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let uri = format!("/v1/cases/{case}/liveness/{}", c["id"].as_str().unwrap());
    (uri, asked, c)
}

/// Issues a challenge on `case` and answers it with the movements in reverse order: the
/// answer's JSON.
async fn answer_in_reverse(t: &T, case: &str) -> Value {
    let (uri, asked, _) = challenge(t, case).await;
    let wrong: Vec<&str> = asked.iter().rev().map(String::as_str).collect();
    let frames = recording(&wrong);
    let (stamps, mut fields) = frame_fields(&frames, 250);
    fields.push(("timestamps_ms", stamps.as_bytes()));
    t.multipart(&uri, &fields).await.1
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn liveness_challenges_are_random_single_use_expiring_and_leave_the_selfie() {
    let t = setup(limits()).await;
    let case = t.draft_case("live-1").await;
    let (uri, order, c) = challenge(&t, &case).await;
    let mut asked = order.clone();
    asked.sort();
    assert_eq!(asked, ["blink", "turn_left", "turn_right"]);
    assert_eq!(c["frames"]["min"], 4);

    let frames = recording(&refs(&order));
    let (stamps, mut fields) = frame_fields(&frames, 250);
    fields.push(("timestamps_ms", stamps.as_bytes()));
    let (s, r) = t.multipart(&uri, &fields).await;
    assert_eq!(
        (s, r["status"].as_str()),
        (StatusCode::OK, Some("passed")),
        "{r}"
    );
    let (_, got) = t.get(&format!("/v1/cases/{case}")).await;
    assert!(
        got["documents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["kind"] == "selfie"),
        "the passed sequence's best frame is the selfie: {got}"
    );
    // Single use.
    let (s, r) = t.multipart(&uri, &fields).await;
    assert_eq!(
        (s, r["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("challenge_used")),
        "{r}"
    );
    // The same frames again, for a new challenge: a replay.
    let (uri2, _, _) = challenge(&t, &case).await;
    let (s, r) = t.multipart(&uri2, &fields).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (r["status"].as_str(), r["code"].as_str()),
        (Some("failed"), Some("LIVENESS_FAILED")),
        "{r}"
    );

    // Fresh frames of movements in another order than asked.
    let case = t.draft_case("live-2").await;
    let r = answer_in_reverse(&t, &case).await;
    assert_eq!(r["code"], "LIVENESS_FAILED", "{r}");

    // A recording played on a screen and filmed: the pixel grid shows.
    let case = t.draft_case("live-3").await;
    let (uri, asked, _) = challenge(&t, &case).await;
    let filmed = recording_as(&refs(&asked), |f| {
        let small = image::imageops::resize(&f, 400, 225, image::imageops::FilterType::Triangle);
        idgate_specimen::photo::screen_pixels(&small, 4)
    });
    let (stamps, mut fields) = frame_fields(&filmed, 250);
    fields.push(("timestamps_ms", stamps.as_bytes()));
    let (_, r) = t.multipart(&uri, &fields).await;
    assert_eq!(r["code"], "LIVENESS_FAILED", "{r}");
    assert!(r["failure"].as_str().unwrap().contains("screen"), "{r}");

    // Too late.
    let case = t.draft_case("live-4").await;
    let (uri, _, _) = challenge(&t, &case).await;
    t.clock.advance_ms(121_000);
    let (_, r) = t.multipart(&uri, &fields).await;
    assert_eq!(r["code"], "LIVENESS_TIMEOUT", "{r}");

    // Timestamps must match the frames. Issue #29, 9: a client's mistake in the answer (3
    // frames, decreasing timestamps) is a 400 and leaves the challenge usable; it used to
    // fail the challenge.
    let case = t.draft_case("live-5").await;
    let (uri4, _, c4) = challenge(&t, &case).await;
    let (s, r) = t
        .multipart(
            &uri4,
            &[("frame", frames[0].as_slice()), ("timestamps_ms", b"0,1")],
        )
        .await;
    assert_eq!(
        (s, r["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_timestamps")),
        "{r}"
    );
    let three: Vec<(&str, &[u8])> = frames[..3]
        .iter()
        .map(|f| ("frame", f.as_slice()))
        .chain([("timestamps_ms", &b"0,300,600"[..])])
        .collect();
    let (s, r) = t.multipart(&uri4, &three).await;
    assert_eq!(
        (s, r["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_frames")),
        "{r}"
    );
    let (_, mut backwards) = frame_fields(&frames, 300);
    let stamps: Vec<String> = (0..frames.len())
        .rev()
        .map(|i| (i * 300).to_string())
        .collect();
    let stamps = stamps.join(",");
    backwards.push(("timestamps_ms", stamps.as_bytes()));
    let (s, r) = t.multipart(&uri4, &backwards).await;
    assert_eq!(
        (s, r["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_timestamps")),
        "{r}"
    );
    let still = t
        .state
        .store
        .challenge(c4["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status, "issued", "the challenge is still usable");
}

/// Issue #29, 2: a case could be issued challenges without limit, so an attacker could keep
/// trying. Now a case gets five, an applicant five an hour, and every failed answer is a
/// failed attempt whose cooldown applies to the next challenge.
#[tokio::test]
async fn liveness_challenges_are_limited_and_failures_are_attempts() {
    let t = setup(limits()).await;
    let case = t.draft_case("limits-1").await;
    for _ in 0..5 {
        challenge(&t, &case).await;
    }
    let (s, v) = t
        .post_json(&format!("/v1/cases/{case}/liveness"), json!(null))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("too_many_challenges"))
    );
    // Another case of the same applicant, the same hour: the hourly limit, with its time.
    let (_, c) = t.get(&format!("/v1/cases/{case}")).await;
    let applicant = c["applicant_id"].as_str().unwrap().to_string();
    let (_, second) = t
        .post_json(&format!("/v1/applicants/{applicant}/cases"), json!({}))
        .await;
    let second = second["id"].as_str().unwrap().to_string();
    let (s, v) = t
        .post_json(&format!("/v1/cases/{second}/liveness"), json!(null))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_challenges"))
    );
    assert!(v["error"]["retry_after"].is_string());
    t.clock.advance_ms(3_600_001);
    challenge(&t, &second).await;

    // Failed answers are attempts: after two, the next challenge waits for the cooldown.
    let case = t.draft_case("limits-2").await;
    for _ in 0..2 {
        let r = answer_in_reverse(&t, &case).await;
        assert_eq!(r["status"], "failed", "{r}");
    }
    let (s, v) = t
        .post_json(&format!("/v1/cases/{case}/liveness"), json!(null))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")),
        "{v}"
    );
    t.clock.advance_ms(60_001);
    challenge(&t, &case).await;
}

/// Issue #29, 3: noisy copies of one recording passed liveness on two accounts (their faces
/// 0.067 apart, just over the 0.06 replay distance). Every answered recording's faces are
/// kept (hash and descriptor, sealed); another applicant's copies of them, resized, noised
/// and re-encoded into new bytes, are refused.
#[tokio::test]
async fn a_recording_copied_by_another_applicant_is_refused() {
    let t = setup(limits()).await;
    let first = t.draft_case("copied-a").await;
    let (uri, asked, _) = challenge(&t, &first).await;
    let frames = recording(&refs(&asked));
    let (stamps, mut fields) = frame_fields(&frames, 250);
    fields.push(("timestamps_ms", stamps.as_bytes()));
    let (_, r) = t.multipart(&uri, &fields).await;
    assert_eq!(r["status"], "passed", "{r}");

    // Another applicant, asked the same movements (the order is random; fixed here).
    let second = t.draft_case("copied-b").await;
    let names = refs(&asked);
    let c = t
        .state
        .store
        .create_challenge(&second, &names, 120_000)
        .await
        .unwrap();
    let uri = format!("/v1/cases/{second}/liveness/{}", c.id);
    let mut rng = idgate_face::synth::Rng::new(9);
    let copies: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| {
            let img = image::load_from_memory(f).unwrap().into_rgb8();
            // Enlarged: made smaller, the face would fall under the blink's minimum size
            // and fail on that before the copies are looked for.
            let (w, h) = (img.width() * 11 / 10, img.height() * 11 / 10);
            let mut c = image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle);
            idgate_face::synth::sensor(&mut c, 3.0, &mut rng);
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
                .encode_image(&c)
                .unwrap();
            out
        })
        .collect();
    let (stamps, mut fields) = frame_fields(&copies, 250);
    fields.push(("timestamps_ms", stamps.as_bytes()));
    let (_, r) = t.multipart(&uri, &fields).await;
    assert_eq!(r["status"], "failed", "{r}");
    assert!(r["failure"].as_str().unwrap().contains("copies"), "{r}");
}

#[tokio::test]
async fn with_the_document_uploaded_first_every_frame_must_show_its_holder() {
    let t = setup(Limits {
        max_upload_bytes: 2_000_000,
        ..limits()
    })
    .await;
    let case = t.draft_case("live-2").await;
    let fonts = idgate_specimen::Fonts::system().unwrap();
    let portrait = image::load_from_memory(&testdata::read(
        "face_recognition_ageitgey/tests/test_images/obama.jpg",
    ))
    .unwrap()
    .into_rgb8();
    let today = idgate_mrz::Date::new(2026, 11, 24).unwrap();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
    let id = idgate_specimen::identity::Identity::random(&mut rng, false, today, false);
    let passport = idgate_specimen::photograph_with_portrait(
        &fonts,
        idgate_specimen::Defect::Clean,
        idgate_specimen::document::Layout::Td3,
        &id,
        7,
        &idgate_specimen::Options::default(),
        Some(&portrait),
    );
    let (s, r) = t
        .upload(&case, &[("kind", b"passport"), ("file", &passport.bytes)])
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");

    let answer = |photo: &'static str| {
        let t = &t;
        let case = case.clone();
        async move {
            let (_, c) = t
                .post_json(&format!("/v1/cases/{case}/liveness"), json!(null))
                .await;
            let asked: Vec<&str> = c["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let frames = recording_of(photo, &asked, |f| f);
            let (stamps, mut fields) = frame_fields(&frames, 300);
            fields.push(("timestamps_ms", stamps.as_bytes()));
            let uri = format!("/v1/cases/{case}/liveness/{}", c["id"].as_str().unwrap());
            t.multipart(&uri, &fields).await.1
        }
    };
    // Someone else performs the movements well: not the passport's holder.
    let r = answer("face_recognition_ageitgey/tests/test_images/biden.jpg").await;
    assert_eq!(r["code"], "LIVENESS_FAILED", "{r}");
    assert!(
        r["failure"].as_str().unwrap().contains("document holder"),
        "{r}"
    );
    // The holder does.
    let r = answer("face_recognition_ageitgey/examples/obama-480p.jpg").await;
    assert_eq!(r["status"], "passed", "{r}");
}

// ---- Issue #29: the gate holds ----

/// Issue #29, 1: `{"level": "gold"}` was accepted and its case went to review with no check
/// run; a reviewer's approval then verified it. Now an unknown level is refused, and a case
/// the checks never decided (it reached review because they could not run) cannot be
/// approved, only sent back or rejected.
#[tokio::test]
async fn an_unknown_level_is_refused_and_an_unchecked_case_is_never_approved() {
    let t = setup(limits()).await;
    let (_, a) = t
        .post_json("/v1/applicants", json!({"uid": "gold-1", "region": "DE"}))
        .await;
    let cases = format!("/v1/applicants/{}/cases", a["id"].as_str().unwrap());
    let (s, v) = t.post_json(&cases, json!({"level": "gold"})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_level"))
    );
    assert!(v["error"]["message"].as_str().unwrap().contains("basic"));
    let (s, _) = t.post_json(&cases, json!({"level": "advanced"})).await;
    assert_eq!(s, StatusCode::CREATED);

    // What the worker does when the checks cannot run (attempts exhausted).
    let case = submitted_case(&t, "gold-2").await;
    use idgate_core::{CaseEvent, Decision, ReasonCode};
    t.state
        .store
        .transition(&case, CaseEvent::StartProcessing, "worker", None)
        .await
        .unwrap();
    t.state
        .store
        .transition(
            &case,
            CaseEvent::Decide(Decision::Review),
            "worker",
            Some(&[ReasonCode::ComplianceReview]),
        )
        .await
        .unwrap();
    let alice = t.reviewer("alice", "reviewer").await;
    let at = |what: &str| format!("/v1/review/cases/{case}/{what}");
    t.as_reviewer(&alice, "POST", &at("claim"), None).await;
    let (s, v) = t
        .as_reviewer(
            &alice,
            "POST",
            &at("decision"),
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_checked"))
    );
    let (_, e) = t.get("/v1/entitlements/gold-2").await;
    assert_eq!(e["level"], Value::Null, "nothing was verified");
    let (s, v) = t
        .as_reviewer(
            &alice,
            "POST",
            &at("decision"),
            Some(json!({"decision": "retry", "reasons": ["DOCUMENT_EXPIRED"]})),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("resubmission_requested"))
    );
}

/// Issue #29, 6: region `XX`, 100 KB names, an empty document number, NUL and newlines in
/// names, a subdivision of another country, a birth date in 2099, a PDF or a truncated JPEG
/// as a passport page and a repeated form field were all stored. Now each is refused with a
/// code that names the problem, and nothing is stored.
#[tokio::test]
async fn bad_input_is_refused_before_anything_is_stored() {
    let t = setup(limits()).await;
    let (s, v) = t
        .post_json("/v1/applicants", json!({"uid": "xx-1", "region": "XX"}))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_region"))
    );
    let case = t.draft_case("bad-input").await;
    let data_uri = format!("/v1/cases/{case}/data");
    let with = |change: &dyn Fn(&mut Value)| {
        let mut d = erika();
        change(&mut d);
        d
    };
    let long = "A".repeat(100_000);
    for (body, code) in [
        (with(&|d| d["name"]["family"] = json!(long)), "invalid_name"),
        (with(&|d| d["address"] = json!(long)), "invalid_address"),
        (
            with(&|d| d["document"]["number"] = json!(long)),
            "invalid_document_number",
        ),
        (
            with(&|d| d["document"]["number"] = json!("  ")),
            "invalid_document_number",
        ),
        (
            with(&|d| d["name"]["given"] = json!("Er\u{0}ika")),
            "invalid_name",
        ),
        (
            with(&|d| d["name"]["family"] = json!("Muster\nmann")),
            "invalid_name",
        ),
        (
            with(&|d| d["subdivision"] = json!("FR-75")),
            "invalid_subdivision",
        ),
        (
            with(&|d| d["birth_date"] = json!("2099-01-01")),
            "invalid_birth_date",
        ),
    ] {
        let (s, v) = t.send_json("PUT", &data_uri, body).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code))
        );
    }
    let (_, c) = t.get(&format!("/v1/cases/{case}")).await;
    assert_eq!(c["data_entered"], false);

    let jpeg = specimen_jpeg();
    // Cut inside the entropy-coded data: the header is whole, the picture is not.
    let truncated = &jpeg[..jpeg.len() * 2 / 3];
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
    for (fields, status, code) in [
        (
            vec![("kind", &b"passport"[..]), ("file", truncated)],
            StatusCode::UNPROCESSABLE_ENTITY,
            "unreadable_image",
        ),
        (
            vec![("kind", &b"passport"[..]), ("file", &pdf[..])],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
        ),
        (
            vec![("kind", &b"selfie"[..]), ("file", &pdf[..])],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
        ),
        (
            vec![
                ("kind", &b"passport"[..]),
                ("kind", b"selfie"),
                ("file", &jpeg[..]),
            ],
            StatusCode::BAD_REQUEST,
            "duplicate_field",
        ),
        (
            vec![
                ("kind", &b"passport"[..]),
                ("file", &jpeg[..]),
                ("file", &jpeg[..]),
            ],
            StatusCode::BAD_REQUEST,
            "duplicate_field",
        ),
    ] {
        let (s, v) = t.upload(&case, &fields).await;
        assert_eq!((s, v["error"]["code"].as_str()), (status, Some(code)));
    }
    assert!(t.state.store.documents(&case).await.unwrap().is_empty());
    // A proof of address may be a PDF (a bank statement), a whole one.
    let (s, v) = t
        .upload(&case, &[("kind", b"proof_of_address"), ("file", pdf)])
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = t
        .upload(
            &case,
            &[
                ("kind", b"proof_of_address"),
                ("file", &pdf[..pdf.len() - 8]),
            ],
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unreadable_file"))
    );
}

/// Issue #29, 6: a draft's wrong upload could not be removed. A retaken photo of the same
/// side replaces the first; any upload can be deleted while the case is a draft.
#[tokio::test]
async fn a_drafts_wrong_upload_can_be_replaced_or_deleted() {
    let t = setup(limits()).await;
    let case = t.draft_case("retake").await;
    let jpeg = specimen_jpeg();
    let (_, first) = t
        .upload(&case, &[("kind", b"passport"), ("file", &jpeg)])
        .await;
    assert_eq!(first["replaces"], Value::Null);
    let (s, second) = t
        .upload(&case, &[("kind", b"passport"), ("file", &jpeg)])
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(second["replaces"], first["id"]);
    let (_, selfie) = t
        .upload(&case, &[("kind", b"selfie"), ("file", &jpeg)])
        .await;
    let docs = t.state.store.documents(&case).await.unwrap();
    assert_eq!(docs.len(), 2, "the replaced page is gone");
    let blobs_dir = t._dir.path().join("blobs");
    let count_blobs = || walk(&blobs_dir);
    let before = count_blobs();
    let uri = format!(
        "/v1/cases/{case}/documents/{}",
        selfie["id"].as_str().unwrap()
    );
    let (s, _) = t
        .call(t.req("DELETE", &uri).body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        count_blobs(),
        before - 1,
        "the deleted image's blob is gone"
    );
    let (s, v) = t
        .call(t.req("DELETE", &uri).body(Body::empty()).unwrap())
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (_, c) = t.get(&format!("/v1/cases/{case}")).await;
    assert_eq!(c["documents"].as_array().unwrap().len(), 1);
}

/// Files under `dir`, recursively.
fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Issue #29, 7: a reject with a RETRY reason gave `rejected` with `reject_type: RETRY`;
/// TOO_MANY_ATTEMPTS said "wait until the time shown" with no time anywhere and only after
/// every upload; a reason could appear twice; a reviewer not holding a case wrote to its
/// applicant.
#[tokio::test]
async fn answers_never_contradict_themselves() {
    let t = setup(limits()).await;
    let alice = t.reviewer("alice", "reviewer").await;
    let bob = t.reviewer("bob", "reviewer").await;
    let case = case_in_review(&t, "contra-1").await;
    let at = |what: &str| format!("/v1/review/cases/{case}/{what}");
    t.as_reviewer(&alice, "POST", &at("claim"), None).await;
    // Only the holder writes to the applicant; anyone acting may note internally.
    let note = |vis: &str| json!({"visibility": vis, "body": "please retake"});
    let (s, v) = t
        .as_reviewer(&bob, "POST", &at("comments"), Some(note("applicant")))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_holder"))
    );
    let (s, _) = t
        .as_reviewer(&bob, "POST", &at("comments"), Some(note("internal")))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = t
        .as_reviewer(&alice, "POST", &at("comments"), Some(note("applicant")))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    for (body, what) in [
        (
            json!({"decision": "reject", "reasons": ["DOCUMENT_EXPIRED"]}),
            "a RETRY reason",
        ),
        (
            json!({"decision": "retry", "reasons": ["GLARE", "UNDERAGE"]}),
            "a FINAL reason",
        ),
    ] {
        let (s, v) = t
            .as_reviewer(&alice, "POST", &at("decision"), Some(body))
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("reason_type_mismatch")),
            "{what}"
        );
    }
    // Two earlier failures this hour: the retry now starts a cooldown.
    for _ in 0..2 {
        t.state
            .store
            .record_decision(&idgate_store::DecisionRecord {
                uid: "contra-1",
                outcome: "resubmission_requested",
                reasons: &[idgate_core::ReasonCode::Glare],
                keys: &[],
                claims: idgate_store::ClaimChange::Release,
                steps: &[],
                level: None,
                raise: &[],
                case_id: None,
            })
            .await
            .unwrap();
    }
    let (s, v) = t
        .as_reviewer(
            &alice,
            "POST",
            &at("decision"),
            Some(json!({"decision": "retry", "reasons": ["GLARE", "GLARE", "BLURRY"]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["reasons"], json!(["GLARE", "BLURRY"]));
    let (_, c) = t.get(&format!("/v1/cases/{case}")).await;
    assert_eq!(c["status"], "resubmission_requested");
    let retry_after = c["retry_after"]
        .as_str()
        .expect("the cooldown is on the case")
        .to_string();
    assert!(c["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["reject_type"] == "RETRY"));
    // Opening the next case inside the cooldown is refused at once, with the time.
    let (s, v) = t
        .post_json(
            &format!(
                "/v1/applicants/{}/cases",
                c["applicant_id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (
            s,
            v["error"]["code"].as_str(),
            v["error"]["retry_after"].as_str()
        ),
        (
            StatusCode::TOO_MANY_REQUESTS,
            Some("too_many_attempts"),
            Some(retry_after.as_str())
        )
    );
}

/// Issue #29, 9: 404 and 405 had empty bodies, a too-large pre-check answered in plain text,
/// upload and pre-check used different codes for the same problem, reviewer finding details
/// were JSON text inside a string, and no route listed the reason codes.
#[tokio::test]
async fn every_error_has_one_shape_and_one_code() {
    let t = setup(limits()).await;
    let (s, v) = t.get("/v1/nowhere").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, v) = t
        .call(
            t.req("DELETE", "/v1/applicants")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
    let precheck = |body: Vec<u8>| {
        t.req("POST", "/v1/precheck")
            .body(Body::from(body))
            .unwrap()
    };
    let (s, v) = t.call(precheck(vec![0xFF; 300_000])).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("file_too_large"))
    );
    let case = t.draft_case("shapes").await;
    for (bytes, status, code) in [
        (
            b"just text".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
        ),
        (Vec::new(), StatusCode::BAD_REQUEST, "empty_file"),
        (
            png_header(100_000, 100_000),
            StatusCode::UNPROCESSABLE_ENTITY,
            "image_too_large",
        ),
    ] {
        let (s1, v1) = t.call(precheck(bytes.clone())).await;
        let (s2, v2) = t
            .upload(&case, &[("kind", b"passport"), ("file", &bytes)])
            .await;
        assert_eq!(
            (s1, v1["error"]["code"].as_str()),
            (status, Some(code)),
            "precheck"
        );
        assert_eq!(
            (s2, v2["error"]["code"].as_str()),
            (status, Some(code)),
            "upload"
        );
    }
    // A JSON body over the limit is refused in the same shape.
    let huge = format!(
        "{{\"uid\": \"{}\", \"region\": \"DE\"}}",
        "a".repeat(3 << 20)
    );
    let (s, v) = t
        .call(
            t.req("POST", "/v1/applicants")
                .header("content-type", "application/json")
                .body(Body::from(huge))
                .unwrap(),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("request_too_large"))
    );

    // The reason catalog, in both languages, with this deployment's reject types.
    let (s, r) = t
        .call(Request::get("/v1/reasons").body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::OK);
    let reasons = r["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), idgate_core::ReasonCode::ALL.len());
    let dup = reasons
        .iter()
        .find(|x| x["code"] == "DUPLICATE_FACE")
        .unwrap();
    assert_eq!(
        (
            dup["reject_type"].as_str(),
            dup["default_reject_type"].as_str()
        ),
        (Some("REVIEW"), Some("FINAL"))
    );
    for x in reasons {
        for lang in ["en", "zh-Hans"] {
            assert!(
                x["texts"][lang]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{x}"
            );
            assert!(
                x["texts"][lang]["fix"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{x}"
            );
        }
    }
    // Reviewers get each finding's detail as an object.
    let case = case_in_review(&t, "shapes-2").await;
    let carl = t.reviewer("carl", "auditor").await;
    let (_, d) = t
        .as_reviewer(&carl, "GET", &format!("/v1/review/cases/{case}"), None)
        .await;
    assert_eq!(d["findings"][0]["detail"], json!({"note": "a note"}));
}
