//! Face templates counted once approved; liveness challenges answered once.

use super::*;

pub(crate) async fn faces_count_once_approved_and_challenges_are_single_use(db: Db) {
    let store = &db.store;
    let (a1, c1) = case_in_review(store, "face-1").await;
    let put = |key: &'static str| store.put_face_template(&a1, &c1, key);
    assert_eq!(put("blobs/face-1").await.unwrap(), None);
    // A second decision on the case replaces its face; the old blob is handed back.
    assert_eq!(
        put("blobs/face-1b").await.unwrap(),
        Some("blobs/face-1".into())
    );
    let (a2, _) = case_in_review(store, "face-2").await;
    assert!(
        store.verified_faces_except(&a2).await.unwrap().is_empty(),
        "a face counts only once its case is approved"
    );
    let r = store
        .create_reviewer("fr", ReviewerRole::Reviewer, "fh")
        .await
        .unwrap();
    store
        .claim_case(&c1, &r.id, "reviewer:fr", false)
        .await
        .unwrap();
    let k = keys("doc-f", "person-f");
    let mut approve = approval(&c1, &r.id, &k, &["identity_document", "selfie"]);
    if let Some(rec) = approve.record.as_mut() {
        rec.uid = "face-1";
    }
    store.decide_case(&approve).await.unwrap();
    let faces = store.verified_faces_except(&a2).await.unwrap();
    assert_eq!(faces.len(), 1);
    assert_eq!(
        (faces[0].blob_key.as_str(), faces[0].verified),
        ("blobs/face-1b", true)
    );
    assert!(
        store.verified_faces_except(&a1).await.unwrap().is_empty(),
        "an applicant's own face is not a duplicate"
    );
    // For replay detection every other case's face counts, verified or not.
    let (a4, c4) = case_in_review(store, "face-4").await;
    store
        .put_face_template(&a4, &c4, "blobs/face-4")
        .await
        .unwrap();
    let others: Vec<String> = store
        .faces_except_case(&c4)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.blob_key)
        .collect();
    assert_eq!(others, ["blobs/face-1b"]);
    assert_eq!(store.faces_except_case(&c1).await.unwrap().len(), 1);

    let (_, c3) = case_in_review(store, "face-3").await;
    let ch = store
        .create_challenge(&c3, &["turn_left", "blink"], 60_000)
        .await
        .unwrap();
    assert_eq!(ch.actions, ["turn_left", "blink"]);
    assert_eq!(ch.expires_at - ch.issued_at, 60_000);
    assert_eq!(store.latest_challenge(&c3).await.unwrap(), Some(ch.clone()));
    let frames = vec!["f1".to_string(), "f2".to_string()];
    let done = store
        .answer_challenge(&ch.id, ChallengeStatus::Passed, "{}", &frames)
        .await
        .unwrap();
    assert_eq!(
        (done.status, done.result.as_deref()),
        (ChallengeStatus::Passed, Some("{}"))
    );
    assert!(matches!(
        store
            .answer_challenge(&ch.id, ChallengeStatus::Failed, "{}", &[])
            .await,
        Err(StoreError::Conflict(_))
    ));
    // A frame sent before is refused in a new challenge, which stays unanswered.
    db.clock.advance_ms(1_000);
    let again = store
        .create_challenge(&c3, &["blink"], 60_000)
        .await
        .unwrap();
    let replay = vec!["f3".to_string(), "f2".to_string()];
    assert!(matches!(
        store
            .answer_challenge(&again.id, ChallengeStatus::Passed, "{}", &replay)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let still = store.challenge(&again.id).await.unwrap().unwrap();
    assert_eq!(still.status, ChallengeStatus::Issued);
    store
        .answer_challenge(
            &again.id,
            ChallengeStatus::Failed,
            r#"{"failure":"replay"}"#,
            &[],
        )
        .await
        .unwrap();
    // Frames kept for the reviewer, per challenge in the order asked, each in recording
    // order, with the challenge's outcome.
    store
        .add_liveness_shots(&again.id, &[("first", 0, "blobs/s3".into(), "image/jpeg")])
        .await
        .unwrap();
    store
        .add_liveness_shots(
            &ch.id,
            &[
                ("best", 7, "blobs/s2".into(), "image/jpeg"),
                ("turn_left", 3, "blobs/s1".into(), "image/jpeg"),
            ],
        )
        .await
        .unwrap();
    let shots = store.liveness_shots(&c3).await.unwrap();
    let seen: Vec<(&str, &str, i64)> = shots
        .iter()
        .map(|s| (s.status.as_str(), s.label.as_str(), s.frame))
        .collect();
    assert_eq!(
        seen,
        [
            ("passed", "turn_left", 3),
            ("passed", "best", 7),
            ("failed", "first", 0)
        ]
    );
    assert!(store.liveness_shots(&c1).await.unwrap().is_empty());
}
