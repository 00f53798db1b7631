//! The router in-process (`tower::ServiceExt::oneshot`, no socket), on a real SQLite
//! store and encrypted blob directory.

#[path = "../../testdata.rs"]
mod testdata;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use idgate_core::SystemClock;
use idgate_server::api::{app, generate_api_key, hash_api_key, AppState};
use idgate_server::config::Limits;
use idgate_store::{BlobStore, MasterKey, Store};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

struct T {
    router: axum::Router,
    key: String,
    state: Arc<AppState>,
    _dir: tempfile::TempDir,
}

async fn setup(limits: Limits) -> T {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db").display());
    let store = Store::connect(&url, Arc::new(SystemClock)).await.unwrap();
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
    });
    T {
        router: app(state.clone()),
        key,
        state,
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
        let boundary = "XBOUNDARYX";
        let mut body = Vec::new();
        for (name, data) in fields {
            body.extend(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"")
                    .as_bytes(),
            );
            if *name == "file" {
                body.extend(b"; filename=\"photo.jpg\"\r\nContent-Type: image/jpeg");
            }
            body.extend(b"\r\n\r\n");
            body.extend(*data);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        let req = self
            .req("POST", &format!("/v1/cases/{case}/documents"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.call(req).await
    }
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
    assert_eq!((s, got), (StatusCode::OK, a));
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
                ("kind", &b"id_card"[..]),
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
        (Some("image/jpeg"), Some("page"))
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
        (s, v["status"].as_str()),
        (StatusCode::ACCEPTED, Some("submitted"))
    );
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
    assert_eq!(actions, ["created", "document_added", "submitted"]);
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
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert!(r["error"]["code"].as_str().is_some());

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
