//! Business applicants (issue #27): the organisation as declared, its key parties and
//! relations, and the beneficial owners computed from them; impossible structures refused
//! with what is wrong, and a person already verified on the platform reused.

use super::*;

async fn business(t: &T, uid: &str, kind: &str) -> String {
    let (s, b) = t
        .post_json(
            "/v1/businesses",
            json!({"uid": uid, "kind": kind, "legal_name": "Acme Trading Ltd",
                   "registration_number": "01234567", "jurisdiction": "gb",
                   "incorporated_on": "2015-03-02", "registered_address": "1 High Street, London",
                   "lei": "506700GE1G29325QX363"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["jurisdiction"], "GB");
    b["id"].as_str().unwrap().to_string()
}

async fn person(t: &T, b: &str, given: &str, uid: Option<&str>) -> Value {
    let mut body = json!({"type": "person", "residence": "GB", "given_names": given,
                          "surname": "Smith", "birth_date": "1980-04-01", "nationality": "GB"});
    if let Some(u) = uid {
        body["uid"] = json!(u);
    }
    let (s, p) = t
        .post_json(&format!("/v1/businesses/{b}/parties"), body)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    p
}

async fn entity(t: &T, b: &str, name: &str, kind: &str) -> String {
    let (s, p) = t
        .post_json(
            &format!("/v1/businesses/{b}/parties"),
            json!({"type": "entity", "kind": kind, "name": name,
                   "registration_number": "HC-1", "jurisdiction": "US-DE"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["jurisdiction"], "US-DE");
    p["id"].as_str().unwrap().to_string()
}

async fn relate(t: &T, b: &str, body: Value) -> (StatusCode, Value) {
    t.post_json(&format!("/v1/businesses/{b}/relations"), body)
        .await
}

fn owners(b: &Value) -> Vec<(String, f64)> {
    b["ownership"]["beneficial_owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["party"].as_str().unwrap().to_string(),
                o["percent"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_business_is_checked_as_declared() {
    let t = setup(limits()).await;
    business(&t, "acme", "private_company").await;
    let base = json!({"uid": "acme-2", "kind": "private_company", "legal_name": "Acme",
                      "registration_number": "1", "jurisdiction": "GB",
                      "incorporated_on": "2015-03-02", "registered_address": "1 High Street"});
    for (change, code) in [
        (json!({"lei": "506700GE1G29325QX364"}), "invalid_lei"),
        (json!({"kind": "partnership"}), "invalid_entity_kind"),
        (json!({"jurisdiction": "XX"}), "invalid_jurisdiction"),
        (
            json!({"incorporated_on": "2999-01-01"}),
            "invalid_incorporation_date",
        ),
        (
            json!({"registration_number": "12;DROP"}),
            "invalid_registration_number",
        ),
        (json!({"uid": "has space"}), "invalid_uid"),
        (json!({"legal_name": " "}), "invalid_legal_name"),
    ] {
        let mut body = base.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, e) = t.post_json("/v1/businesses", body).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{e}"
        );
    }
    let mut unknown = base.clone();
    unknown["kind"] = json!("partnership");
    let (_, e) = t.post_json("/v1/businesses", unknown).await;
    let listed = e["error"]["message"].as_str().unwrap();
    for kind in [
        "private_company",
        "trust",
        "fund",
        "government_owned_enterprise",
        "non_profit",
    ] {
        assert!(listed.contains(kind), "{listed}");
    }
    let mut dup = base.clone();
    dup["uid"] = json!("acme");
    assert_eq!(
        t.post_json("/v1/businesses", dup).await.0,
        StatusCode::CONFLICT
    );
    let (s, _) = t.get("/v1/businesses/nope").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn beneficial_owners_follow_the_chain_and_impossible_structures_are_refused() {
    let t = setup(limits()).await;
    // Ann has an account on the platform already: her party is that applicant.
    let (_, known) = t
        .post_json(
            "/v1/applicants",
            json!({"uid": "ann-account", "region": "GB"}),
        )
        .await;
    let b = business(&t, "acme", "private_company").await;
    let ann = person(&t, &b, "Ann", Some("ann-account")).await;
    assert_eq!(ann["applicant_id"], known["id"], "{ann}");
    assert_eq!(ann["uid"], "ann-account");
    assert_eq!(ann["declared"]["given_names"], "Ann");
    assert_eq!(ann["verification"]["level"], Value::Null);
    let ann = ann["id"].as_str().unwrap().to_string();
    let again = t
        .post_json(
            &format!("/v1/businesses/{b}/parties"),
            json!({"type": "person", "uid": "ann-account", "residence": "GB", "given_names": "Ann",
                   "surname": "Smith", "birth_date": "1980-04-01", "nationality": "GB"}),
        )
        .await;
    assert_eq!(again.0, StatusCode::CONFLICT, "a person is a party once");
    let bob_party = person(&t, &b, "Bob", None).await;
    assert!(bob_party["uid"].as_str().unwrap().starts_with("kyb:"));
    let bob = bob_party["id"].as_str().unwrap().to_string();
    let hold_a = entity(&t, &b, "Holdco A", "private_company").await;
    let hold_b = entity(&t, &b, "Holdco B", "private_company").await;

    // Three levels: B holds 50 % of A, A holds 60 % of the business.
    for (party, of, percent) in [
        (&hold_a, None, 60.0),
        (&ann, None, 40.0),
        (&hold_b, Some(&hold_a), 50.0),
        (&ann, Some(&hold_a), 50.0),
        (&bob, Some(&hold_b), 90.0),
    ] {
        let (s, r) = relate(
            &t,
            &b,
            json!({"party": party, "role": "shareholder", "of": of, "percent": percent}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
    }
    for (party, role) in [(&bob, "director"), (&ann, "authorised_signatory")] {
        assert_eq!(
            relate(&t, &b, json!({"party": party, "role": role}))
                .await
                .0,
            StatusCode::CREATED
        );
    }
    let (_, got) = t.get(&format!("/v1/businesses/{b}")).await;
    // Ann: 40 % direct + 50 % of A's 60 % = 70 %; Bob: 90 % of B, which holds half of A: 27 %.
    assert_eq!(
        owners(&got),
        [(ann.clone(), 70.0), (bob.clone(), 27.0)],
        "{got}"
    );
    assert_eq!(
        got["ownership"]["beneficial_owners"][0]["direct_percent"],
        40.0
    );
    assert_eq!(got["ownership"]["complete"], true, "{got}");
    assert_eq!(got["parties"].as_array().unwrap().len(), 4);

    // A cycle, shares over 100 %, a holding in a person, an unknown party: refused, named.
    for (body, code) in [
        (
            json!({"party": hold_a, "role": "shareholder", "of": hold_b, "percent": 10}),
            "ownership_cycle",
        ),
        (
            json!({"party": bob, "role": "shareholder", "percent": 0.5}),
            "shares_over_100",
        ),
        (
            json!({"party": bob, "role": "shareholder", "of": ann, "percent": 5}),
            "not_an_entity",
        ),
        (
            json!({"party": "nobody", "role": "director"}),
            "unknown_party",
        ),
        (
            json!({"party": bob, "role": "shareholder", "of": bob, "percent": 5}),
            "self_relation",
        ),
    ] {
        let (s, e) = relate(&t, &b, body).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{e}"
        );
    }
    assert!(
        relate(
            &t,
            &b,
            json!({"party": bob, "role": "shareholder", "of": hold_b, "percent": 1})
        )
        .await
        .0 == StatusCode::CONFLICT
    );
    for (body, code) in [
        (
            json!({"party": bob, "role": "shareholder", "percent": 101}),
            "invalid_share",
        ),
        (
            json!({"party": bob, "role": "shareholder"}),
            "invalid_share",
        ),
        (json!({"party": bob, "role": "king"}), "invalid_role"),
    ] {
        let (s, e) = relate(&t, &b, body).await;
        assert_eq!(e["error"]["code"].as_str(), Some(code), "{s} {e}");
    }
    let (_, after) = t.get(&format!("/v1/businesses/{b}")).await;
    assert_eq!(
        after["relations"], got["relations"],
        "nothing refused was kept"
    );

    // Without Ann's direct 40 %, that share is declared by nobody: ownership is incomplete.
    let direct = got["relations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["party"] == ann.as_str() && r["of"].is_null() && r["role"] == "shareholder")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = t
        .send_json(
            "DELETE",
            &format!("/v1/businesses/{b}/relations/{direct}"),
            json!(null),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, got) = t.get(&format!("/v1/businesses/{b}")).await;
    assert_eq!(got["ownership"]["complete"], false);
    let finding = &got["ownership"]["findings"][0];
    assert_eq!(finding["code"], "OWNERSHIP_INCOMPLETE", "{got}");
    assert_eq!(finding["detail"]["effective_percent"], 40.0);
}

#[tokio::test]
async fn every_party_of_a_trust_is_a_beneficial_owner_and_missing_roles_are_named() {
    let t = setup(limits()).await;
    let b = business(&t, "family-trust", "trust").await;
    let tom = person(&t, &b, "Tom", None).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sue = person(&t, &b, "Sue", None).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let trustco = entity(&t, &b, "Trustee Co", "private_company").await;
    let tim = person(&t, &b, "Tim", None).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (party, role, of) in [
        (&sue, "settlor", None),
        (&trustco, "trustee", None),
        (&tim, "shareholder", Some(&trustco)),
        (&tom, "beneficiary", None),
    ] {
        let mut body = json!({"party": party, "role": role, "of": of});
        if role == "shareholder" {
            body["percent"] = json!(80);
        }
        let (s, r) = relate(&t, &b, body).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
    }
    let (_, got) = t.get(&format!("/v1/businesses/{b}")).await;
    let mut found: Vec<(String, String)> = got["ownership"]["beneficial_owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["party"].as_str().unwrap().to_string(),
                o["grounds"][0]["ground"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    let mut want = vec![
        (sue.clone(), "trust_party".to_string()),
        (tom.clone(), "trust_party".to_string()),
        (tim.clone(), "owns_trust_party".to_string()),
    ];
    want.sort();
    assert_eq!(found, want, "{got}");
    assert_eq!(
        got["ownership"]["missing_roles"],
        json!(["authorised_signatory"])
    );
    assert_eq!(got["ownership"]["findings"][0]["code"], "KEY_PARTY_MISSING");
    assert_eq!(got["ownership"]["complete"], false);
}

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn document(
    t: &T,
    b: &str,
    kind: &str,
    issued_on: &str,
    pages: &[&[u8]],
) -> (StatusCode, Value) {
    let mut fields: Vec<(&str, &[u8])> = vec![
        ("kind", kind.as_bytes()),
        ("issued_on", issued_on.as_bytes()),
    ];
    for p in pages {
        fields.push(("file", p));
    }
    t.multipart(&format!("/v1/businesses/{b}/documents"), &fields)
        .await
}

fn codes(b: &Value) -> Vec<String> {
    b["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Runs the queued `evaluate_business` jobs as a worker would; answers how many ran.
async fn run_evaluations(t: &T) -> usize {
    let mut ran = 0;
    while let Some(job) = t.state.store.claim_job(60_000).await.unwrap() {
        if job.kind == idgate_store::JobKind::EvaluateBusiness {
            idgate_server::kyb::reevaluate(&t.state, &job.case_id)
                .await
                .unwrap();
            ran += 1;
        }
        t.state.store.complete_job(&job.id).await.unwrap();
    }
    ran
}

#[tokio::test]
async fn a_company_is_approved_once_its_documents_are_accepted_and_its_people_verified() {
    let mut t = setup(limits()).await;
    t.with_outbox();
    let today = t.state.today();
    let recent = idgate_mrz::Date::from_unix_days(today.unix_days() - 30).to_string();
    let stale = idgate_mrz::Date::from_unix_days(today.unix_days() - 400).to_string();
    let (_, known) = t
        .post_json("/v1/applicants", json!({"uid": "ann-kyb", "region": "DE"}))
        .await;
    let b = business(&t, "acme-flow", "private_company").await;
    let ann = person(&t, &b, "Ann", Some("ann-kyb")).await;
    assert_eq!(ann["applicant_id"], known["id"]);
    let ann = ann["id"].as_str().unwrap().to_string();
    // Ann is asked to verify with a link of her own.
    let invitation = format!("/v1/businesses/{b}/parties/{ann}/invitation");
    let (s, link) = t.post_json(&invitation, json!(null)).await;
    assert_eq!(s, StatusCode::CREATED, "{link}");
    assert!(
        link["url"].as_str().unwrap().contains("/flow#s=igs_"),
        "{link}"
    );
    assert_eq!(link["applicant_id"], known["id"]);
    let holdco = entity(&t, &b, "Holdco", "private_company").await;
    let (s, e) = t
        .post_json(
            &format!("/v1/businesses/{b}/parties/{holdco}/invitation"),
            json!(null),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("not_a_person"))
    );
    for (role, percent) in [
        ("shareholder", Some(100)),
        ("director", None),
        ("authorised_signatory", None),
    ] {
        let (s, r) = relate(
            &t,
            &b,
            json!({"party": ann, "role": role, "percent": percent}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
    }
    let jpeg = specimen_jpeg();
    for (kind, issued, pages) in [
        ("registry_extract", recent.as_str(), vec![PDF]),
        ("articles", "2015-03-02", vec![PDF, PDF, PDF]),
        ("register_of_directors", recent.as_str(), vec![&jpeg[..]]),
        ("register_of_shareholders", stale.as_str(), vec![PDF]),
        ("proof_of_address", recent.as_str(), vec![PDF]),
    ] {
        let (s, d) = document(&t, &b, kind, issued, &pages).await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        assert_eq!(d["pages"].as_array().unwrap().len(), pages.len());
        assert_eq!(d["state"], "pending");
    }
    // Files are held to the uploads' checks; kinds to the policy's.
    let (s, e) = document(&t, &b, "articles", "2015-03-02", &[b"plain text"]).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_file_type")
        )
    );
    let (_, e) = document(&t, &b, "horoscope", "2015-03-02", &[PDF]).await;
    assert_eq!(e["error"]["code"], "invalid_kind");

    // A stale register and no mandate for the signatory: back to the business.
    let (s, got) = t
        .post_json(&format!("/v1/businesses/{b}/submit"), json!(null))
        .await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(got["status"], "resubmission_requested");
    assert_eq!(
        codes(&got),
        [
            "ENTITY_DOCUMENT_OUTDATED",
            "MISSING_ENTITY_DOCUMENT",
            "BENEFICIAL_OWNER_NOT_VERIFIED"
        ],
        "{got}"
    );
    for (kind, issued) in [
        ("register_of_shareholders", recent.as_str()),
        ("board_resolution", "2024-01-10"),
    ] {
        assert_eq!(
            document(&t, &b, kind, issued, &[PDF]).await.0,
            StatusCode::CREATED
        );
    }
    let (_, got) = t
        .post_json(&format!("/v1/businesses/{b}/submit"), json!(null))
        .await;
    assert_eq!(got["status"], "awaiting_parties", "{got}");
    assert_eq!(codes(&got), ["BENEFICIAL_OWNER_NOT_VERIFIED"]);
    // Submitted: what it declared no longer changes.
    assert_eq!(
        relate(&t, &b, json!({"party": ann, "role": "trustee"}))
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        document(&t, &b, "articles", "2015-03-02", &[PDF]).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        t.post_json(&format!("/v1/businesses/{b}/submit"), json!(null))
            .await
            .0,
        StatusCode::CONFLICT
    );

    // Ann's own verification is decided: the business is evaluated again, and waits for a
    // reviewer.
    case_decided(&t, "ann-kyb", idgate_core::Decision::Approve).await;
    assert_eq!(run_evaluations(&t).await, 1);
    let (s, e) = t.post_json(&invitation, json!(null)).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_verified"))
    );
    // The business declared Ann Smith, born 1980, British; the person verified on that
    // account is Erika Mustermann, born 1964, German. A reviewer sees it and sends the
    // business back; approval is refused meanwhile.
    let (_, got) = t.get(&format!("/v1/businesses/{b}")).await;
    assert_eq!(got["status"], "in_review", "{got}");
    assert_eq!(
        codes(&got),
        [
            "NAME_MISMATCH",
            "BIRTH_DATE_MISMATCH",
            "NATIONALITY_MISMATCH"
        ],
        "{got}"
    );
    assert_eq!(got["findings"][0]["subject"], format!("party:{ann}"));
    assert_eq!(got["parties"][0]["verification"]["level"], "basic");
    let rita = t.reviewer("rita", "reviewer").await;
    let review = format!("/v1/review/businesses/{b}");
    let decide = |d: &'static str| {
        let (rita, review) = (rita.clone(), review.clone());
        let t = &t;
        async move {
            t.as_reviewer(
                &rita,
                "POST",
                &format!("{review}/decision"),
                Some(json!({"decision": d})),
            )
            .await
        }
    };
    assert_eq!(decide("approve").await.0, StatusCode::CONFLICT);
    assert_eq!(
        decide("resubmit").await.1["status"],
        "resubmission_requested"
    );
    // The business declares her again as she is.
    let party = format!("/v1/businesses/{b}/parties/{ann}");
    let (s, e) = t.send_json("DELETE", &party, json!(null)).await;
    assert_eq!(s, StatusCode::CONFLICT, "relations name her: {e}");
    for r in got["relations"].as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        let (s, _) = t
            .send_json(
                "DELETE",
                &format!("/v1/businesses/{b}/relations/{id}"),
                json!(null),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
    }
    assert_eq!(
        t.send_json("DELETE", &party, json!(null)).await.0,
        StatusCode::NO_CONTENT
    );
    let (s, erika) = t
        .post_json(
            &format!("/v1/businesses/{b}/parties"),
            json!({"type": "person", "uid": "ann-kyb", "residence": "DE", "given_names": "Erika",
                   "surname": "Mustermann", "birth_date": "1964-08-12", "nationality": "DE"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{erika}");
    let ann = erika["id"].as_str().unwrap().to_string();
    for (role, percent) in [
        ("shareholder", Some(100)),
        ("director", None),
        ("authorised_signatory", None),
    ] {
        let (s, r) = relate(
            &t,
            &b,
            json!({"party": ann, "role": role, "percent": percent}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
    }
    let (_, got) = t
        .post_json(&format!("/v1/businesses/{b}/submit"), json!(null))
        .await;
    assert_eq!(got["status"], "in_review", "{got}");
    assert!(codes(&got).is_empty(), "{got}");
    assert_eq!(got["entitlements"], Value::Null);

    // The reviewer reads each page and judges each document; approval waits for them all.
    let carl = t.reviewer("carl", "auditor").await;
    let (s, e) = t
        .as_reviewer(
            &rita,
            "POST",
            &format!("{review}/decision"),
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_approvable")),
        "{e}"
    );
    let docs: Vec<(String, String)> = got["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_string(),
                d["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let page = t
        .reviewer_image(&rita, &format!("{review}/documents/{}/pages/3", docs[1].0))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["content-type"], "application/pdf");
    let (s, _) = t
        .as_reviewer(
            &carl,
            "POST",
            &format!("{review}/documents/{}/decision", docs[0].0),
            Some(json!({"decision": "accept"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an auditor reads only");
    for (id, kind) in &docs {
        let decision = if kind == "register_of_shareholders" && id == &docs[3].0 {
            "reject"
        } else {
            "accept"
        };
        let body = if decision == "reject" {
            json!({"decision": decision, "note": "superseded"})
        } else {
            json!({"decision": decision})
        };
        let (s, v) = t
            .as_reviewer(
                &rita,
                "POST",
                &format!("{review}/documents/{id}/decision"),
                Some(body),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (s, got) = t
        .as_reviewer(
            &rita,
            "POST",
            &format!("{review}/decision"),
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(got["status"], "approved");
    assert_eq!(got["entitlements"]["deposit"], true);
    let (_, events) = t.get("/v1/webhooks/deliveries").await;
    let mut statuses: Vec<(i64, String)> = events["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["type"] == "business.status_changed")
        .map(|d| {
            (
                d["body"]["sequence"].as_i64().unwrap_or(0),
                d["body"]["data"]["status"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    statuses.sort();
    let statuses: Vec<&str> = statuses.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        statuses,
        [
            "resubmission_requested",
            "awaiting_parties",
            "in_review",
            "resubmission_requested",
            "in_review",
            "approved"
        ],
        "{events}"
    );
    let trail: Vec<String> = t
        .state
        .store
        .audit_events(&b)
        .await
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e.actor,
                e.to_status.clone().unwrap_or(e.action.clone())
            )
        })
        .collect();
    // Six status changes, a judgement per document, one page viewed.
    assert_eq!(trail.len(), 6 + docs.len() + 1, "{trail:?}");
    assert!(
        trail.contains(&"reviewer:rita:approved".to_string()),
        "{trail:?}"
    );
    assert!(trail.contains(&"worker:in_review".to_string()), "{trail:?}");
}
