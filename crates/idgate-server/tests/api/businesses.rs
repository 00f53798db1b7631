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
