//! Who may call, what is refused before anything is stored, and the one error shape.

use super::*;

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
async fn metrics_count_responses_and_queue() {
    let t = setup(limits()).await;
    let case = t.draft_case("u4").await;
    t.upload(&case, &[("kind", b"passport"), ("file", b"nope")])
        .await;
    let text = t.metrics().await;
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
        idgate_server::http::openapi::document(),
        "openapi.json is stale: run `cargo run -p idgate-server -- openapi > openapi.json`"
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
