//! The country catalog and the entitlements that follow verified steps.

use super::*;

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
