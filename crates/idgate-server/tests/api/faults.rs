//! Faults (issue #28): a dependency that does not answer is a clear 503 with Retry-After,
//! and nothing is half-written.

use super::*;
use idgate_store::S3Config;

#[tokio::test]
async fn an_upload_while_the_object_store_is_down_is_a_503_and_stores_nothing() {
    let mut t = setup(limits()).await;
    let case = t.draft_case("s3-down").await;
    let working = t.state.blobs.clone();
    // An S3 endpoint nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = BlobStore::s3(
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
    .unwrap();
    t.with_blobs(down);
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
