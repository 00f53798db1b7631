//! Uploads, the instant pre-check, replacing a draft's upload, and submitting.

use super::*;

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
    // The level needs the face step: without a passed challenge or a selfie the checks
    // could only answer FACE_NOT_FOUND, so the submission is refused, naming the step.
    let (s, v) = t.call(submit(&case)).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("missing_step")),
        "{v}"
    );
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("face step"));
    t.upload(&case, &[("kind", b"selfie"), ("file", &specimen_jpeg())])
        .await;
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
        [
            "created",
            "document_added",
            "data_entered",
            "document_added",
            "submitted"
        ]
    );
    let (s, _) = t.call(submit("missing")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// The applicant app's pre-check: a glare photo comes back as retry with the region to
/// fix, a clean one passes, junk is refused with a clear code, and nothing is stored.
#[tokio::test]
async fn precheck_answers_with_reasons_and_stores_nothing() {
    let t = setup(Limits {
        max_upload_bytes: 8_000_000,
        ..limits()
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
