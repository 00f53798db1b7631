//! Faults (issue #28): a dependency that does not answer is a clear 503 with Retry-After
//! to a request, a retry later to a worker's job, and nothing is half-written.

use super::*;
use idgate_store::S3Config;

/// An S3 endpoint nothing listens on.
fn down_store() -> BlobStore {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    BlobStore::s3(
        &S3Config {
            bucket: "idgate".into(),
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            region: "us-east-1".into(),
            access_key_id: "idgate".into(),
            secret_access_key: "secret".into(),
            prefix: String::new(),
        },
        MasterKey::generate(),
    )
    .unwrap()
}

#[tokio::test]
async fn an_upload_while_the_object_store_is_down_is_a_503_and_stores_nothing() {
    let mut t = setup(limits()).await;
    let case = t.draft_case("s3-down").await;
    let working = t.state.blobs.clone();
    t.with_blobs(down_store());
    let jpeg = specimen_jpeg();
    let req = multipart_request(
        &t.key,
        &format!("/v1/cases/{case}/documents"),
        &[("kind", b"passport"), ("file", &jpeg)],
    );
    let res = t.router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        res.headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("5")
    );
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["error"]["code"], "temporarily_unavailable", "{v}");
    let (_, c) = t.get(&format!("/v1/cases/{case}")).await;
    assert_eq!(c["documents"], json!([]), "nothing half-stored: {c}");

    // The store back: the same request goes through.
    t.with_blobs(working);
    let (s, v) = t
        .upload(&case, &[("kind", b"passport"), ("file", &specimen_jpeg())])
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

/// The object store goes down while a case waits for its checks: the worker's job fails
/// and is queued again for later; the case is neither decided nor given reasons meanwhile.
/// With the store back, the retry decides it, once.
#[tokio::test]
async fn a_case_checked_while_the_object_store_is_down_is_retried_and_decided_once() {
    use idgate_server::worker::{drain, WorkerConfig};
    let mut t = setup(limits()).await;
    let case = t.draft_case("s3-down-later").await;
    for kind in ["passport", "selfie"] {
        let (s, v) = t
            .upload(
                &case,
                &[("kind", kind.as_bytes()), ("file", &specimen_jpeg())],
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, _) = t
        .send_json("PUT", &format!("/v1/cases/{case}/data"), erika())
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = t
        .post_json(&format!("/v1/cases/{case}/submit"), json!(null))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let cfg = WorkerConfig {
        lease_ms: 30_000,
        max_attempts: 5,
        debug_delay_ms: 0,
    };
    let working = t.state.blobs.clone();
    t.with_blobs(down_store());
    assert_eq!(drain(&t.state, cfg).await.unwrap(), 1, "the job ran");
    let retried = |t: &T| {
        t.state
            .metrics
            .jobs_retried
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    assert_eq!(retried(&t), 1, "failed for now, queued again");
    let (_, c) = t.get(&format!("/v1/cases/{case}")).await;
    assert!(
        matches!(c["status"].as_str(), Some("submitted" | "processing")),
        "not decided while its photos cannot be read: {c}"
    );
    assert_eq!(c["reasons"], json!([]), "nothing half-written: {c}");

    // The store back: the retry waits for its backoff, then decides the case.
    t.with_blobs(working);
    assert_eq!(drain(&t.state, cfg).await.unwrap(), 0, "not due yet");
    t.clock.advance_ms(60_000);
    assert_eq!(drain(&t.state, cfg).await.unwrap(), 1);
    let (_, c) = t.get(&format!("/v1/cases/{case}")).await;
    assert!(
        !matches!(c["status"].as_str(), Some("submitted" | "processing")),
        "decided: {c}"
    );
    let (_, ev) = t.get(&format!("/v1/cases/{case}/events")).await;
    let decided = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["from_status"] == "processing")
        .count();
    assert_eq!(decided, 1, "decided once: {ev}");
}
