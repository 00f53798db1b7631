//! The data lifecycle (issue #28): `DELETE /v1/applicants/{id}` erases by destroying the
//! applicant's key, and retention erases a case's images a set time after its final
//! decision; the audit trail stays.

use super::*;
use idgate_core::Decision;

/// Every object file under the blob directory, by its path.
fn objects(t: &T) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let root = t._dir.path().join("blobs").join("blobs");
    std::fs::read_dir(&root)
        .map(|dir| {
            dir.map(|e| {
                let p = e.unwrap().path();
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect()
        })
        .unwrap_or_default()
}

async fn image_status(t: &T, token: &str, case: &str) -> (StatusCode, Value) {
    let (_, c) = t.get(&format!("/v1/cases/{case}")).await;
    let doc = c["documents"][0]["id"].as_str().unwrap().to_string();
    let res = t
        .reviewer_image(
            token,
            &format!("/v1/review/cases/{case}/documents/{doc}/image"),
        )
        .await;
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn actions(t: &T, case: &str) -> Vec<String> {
    let (_, events) = t.get(&format!("/v1/cases/{case}/events")).await;
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn an_erased_applicant_leaves_nothing_that_opens_and_takes_nothing_new() {
    let t = setup(limits()).await;
    let token = t.reviewer("rita", "reviewer").await;
    let case = case_decided(&t, "erase-1", Decision::Reject).await;
    let (_, c) = t.get(&format!("/v1/cases/{case}")).await;
    let applicant = c["applicant_id"].as_str().unwrap().to_string();
    assert_eq!(image_status(&t, &token, &case).await.0, StatusCode::OK);
    let draft = t.draft_case("erase-2").await;
    let (_, d) = t.get(&format!("/v1/cases/{draft}")).await;
    let drafting = d["applicant_id"].as_str().unwrap().to_string();
    let before = objects(&t);

    // Not while a person still has to decide a case.
    let busy = case_in_review(&t, "erase-busy").await;
    let (_, b) = t.get(&format!("/v1/cases/{busy}")).await;
    let uri = format!("/v1/applicants/{}", b["applicant_id"].as_str().unwrap());
    let (s, body) = t
        .call(t.req("DELETE", &uri).body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "case_in_progress", "{body}");

    let uri = format!("/v1/applicants/{applicant}");
    let (s, body) = t
        .call(t.req("DELETE", &uri).body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["key_destroyed"], true);
    // Passport, selfie and entered data.
    assert_eq!(body["objects_deleted"], 3, "{body}");
    assert_eq!(body["objects_not_deleted"], 0);
    let gone = before.keys().filter(|p| !p.exists()).count();
    assert_eq!(gone, 3, "the objects themselves are deleted");

    let (s, body) = image_status(&t, &token, &case).await;
    assert_eq!(s, StatusCode::GONE, "{body}");
    // Objects that outlive a deletion (a replica, a failed delete, a copied bucket
    // without the keys) open no more: their key is destroyed.
    for (path, bytes) in &before {
        std::fs::write(path, bytes).unwrap();
    }
    let (s, body) = image_status(&t, &token, &case).await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (StatusCode::GONE, &json!("erased"))
    );

    // What stays: the applicant's row, its decisions and the audit trail.
    let (s, a) = t.get(&uri).await;
    assert_eq!(s, StatusCode::OK);
    assert!(a["erased_at"].is_string(), "{a}");
    assert!(a["verified_data"].is_null());
    let (_, c) = t.get(&format!("/v1/cases/{case}")).await;
    assert_eq!(c["status"], "rejected");
    assert_eq!(actions(&t, &case).await.last().unwrap(), "erased");

    // Nothing new is taken for them.
    for path in [format!("{uri}/cases"), format!("{uri}/sessions")] {
        let (s, body) = t.post_json(&path, json!({})).await;
        assert_eq!(s, StatusCode::GONE, "{path}: {body}");
        assert_eq!(body["error"]["code"], "applicant_erased");
    }

    // An applicant with only a draft: its upload goes, and the draft takes no more.
    let (s, _) = t
        .upload(&draft, &[("kind", b"passport"), ("file", &specimen_jpeg())])
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let uri = format!("/v1/applicants/{drafting}");
    let (s, body) = t
        .call(t.req("DELETE", &uri).body(Body::empty()).unwrap())
        .await;
    assert_eq!(
        (s, &body["objects_deleted"]),
        (StatusCode::OK, &json!(1)),
        "{body}"
    );
    let (s, body) = t
        .upload(&draft, &[("kind", b"passport"), ("file", &specimen_jpeg())])
        .await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (StatusCode::GONE, &json!("erased")),
        "{body}"
    );
    let (s, body) = t
        .post_json(&format!("/v1/cases/{draft}/submit"), json!(null))
        .await;
    assert_eq!(s, StatusCode::GONE, "{body}");

    // Repeating the erasure is harmless; the other applicants' images still open.
    let (s, _) = t
        .call(t.req("DELETE", &uri).body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(image_status(&t, &token, &busy).await.0, StatusCode::OK);
    let metrics = t.state.metrics.render(0, 0);
    assert!(metrics.contains("idgate_erasures_total 3"), "{metrics}");
}

#[tokio::test]
async fn retention_erases_images_a_set_time_after_the_final_decision() {
    let t = setup(limits()).await;
    let token = t.reviewer("rita", "reviewer").await;
    let s = &t.state;
    let state = idgate_server::state::AppState {
        store: s.store.clone(),
        blobs: s.blobs.clone(),
        metrics: Default::default(),
        limits: s.limits.clone(),
        rate: Default::default(),
        jobs_ready: Default::default(),
        live: Default::default(),
        uploads: Default::default(),
        policy: idgate_decide::Policy::from_toml("[retention]\nimages_days = 30").unwrap(),
        identity_secret: s.identity_secret.clone(),
        models: s.models.clone(),
        screen: s.screen.clone(),
        flow: s.flow.clone(),
        console: s.console.clone(),
    };
    let old = case_decided(&t, "kept-1", Decision::Reject).await;
    let waiting = case_in_review(&t, "kept-2").await;
    t.clock.advance_ms(29 * 86_400_000);
    let recent = case_decided(&t, "kept-3", Decision::Reject).await;
    let swept = idgate_server::retention::sweep(&state).await.unwrap();
    assert_eq!(swept.cases, 0, "nothing is 30 days past its decision yet");

    t.clock.advance_ms(2 * 86_400_000);
    let swept = idgate_server::retention::sweep(&state).await.unwrap();
    assert_eq!(swept.cases, 1);
    assert_eq!((swept.objects_deleted, swept.objects_failed), (3, 0));
    let (s, body) = image_status(&t, &token, &old).await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (StatusCode::GONE, &json!("erased")),
        "{body}"
    );
    assert_eq!(actions(&t, &old).await.last().unwrap(), "images_erased");
    // The decision stays; the case in review and the recent one keep their images.
    let (_, c) = t.get(&format!("/v1/cases/{old}")).await;
    assert_eq!(c["status"], "rejected");
    assert_eq!(image_status(&t, &token, &waiting).await.0, StatusCode::OK);
    assert_eq!(image_status(&t, &token, &recent).await.0, StatusCode::OK);
    assert_eq!(
        idgate_server::retention::sweep(&state).await.unwrap().cases,
        0
    );
    let metrics = state.metrics.render(0, 0);
    assert!(
        metrics.contains("idgate_retention_expired_cases_total 1"),
        "{metrics}"
    );
}
