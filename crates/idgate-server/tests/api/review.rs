//! The reviewer API: claims, comments, decisions under roles; change requests.

use super::*;

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
