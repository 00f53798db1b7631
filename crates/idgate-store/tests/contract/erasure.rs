//! The data lifecycle: an erasure releases every object the applicant's rows name and
//! keeps the audit trail; retention releases only the objects of cases decided finally
//! before its cut-off.

use super::*;

/// A case decided finally (rejected) with a document, entered data and a face.
async fn rejected_case(store: &Store, uid: &str, n: &str) -> (String, String) {
    let a = store.create_applicant(uid, "DE").await.unwrap();
    let c = store.create_case(&a.id, "basic", "api").await.unwrap();
    let mut d = doc(&c.id);
    d.blob_key = format!("blobs/doc-{n}");
    store.add_document(d, "api").await.unwrap();
    store
        .set_case_data(&c.id, &format!("blobs/data-{n}"), "api")
        .await
        .unwrap();
    store.submit(&c.id, "api").await.unwrap();
    store
        .transition(&c.id, CaseEvent::StartProcessing, "worker", None)
        .await
        .unwrap();
    store
        .put_face_template(&a.id, &c.id, &format!("blobs/face-{n}"))
        .await
        .unwrap();
    store
        .put_frame_set(&a.id, &c.id, None, &format!("blobs/frames-{n}"))
        .await
        .unwrap();
    let k = keys(&format!("doc-{n}"), &format!("person-{n}"));
    let reasons = [ReasonCode::DocumentExpired];
    let findings = r#"[{"code":"DOCUMENT_EXPIRED"}]"#;
    worker_decides(store, &c.id, uid, Decision::Reject, &reasons, findings, &k).await;
    (a.id, c.id)
}

fn has(objects: &[String], names: &[&str]) -> bool {
    names.iter().all(|n| objects.iter().any(|o| o == n))
}

pub(crate) async fn an_erasure_releases_every_object_and_retention_only_old_decided_ones(db: Db) {
    let (a1, c1) = rejected_case(&db.store, "u-erase", "1").await;
    let session = db
        .store
        .create_session(&a1, "h-erase", 60_000, None, None)
        .await
        .unwrap();
    let (a2, c2) = case_in_review(&db.store, "u-busy").await;
    assert!(matches!(
        db.store.erase_applicant(&a2, "api_key:k").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        db.store.erase_applicant("nobody", "api_key:k").await,
        Err(StoreError::NotFound { .. })
    ));

    let e = db.store.erase_applicant(&a1, "api_key:k").await.unwrap();
    assert!(e.first);
    assert_eq!(e.at, db.clock.now_ms());
    let all = [
        "blobs/doc-1",
        "blobs/data-1",
        "blobs/face-1",
        "blobs/frames-1",
    ];
    assert!(has(&e.objects, &all), "{:?}", e.objects);
    let a = db.store.applicant(&a1).await.unwrap().unwrap();
    assert_eq!(a.erased_at, Some(e.at));
    let s = db
        .store
        .session_by_token_hash("h-erase")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((s.id, s.revoked_at), (session.id, Some(e.at)));
    let events = db.store.audit_events(&c1).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor.as_str()),
        ("erased", "api_key:k")
    );
    assert_eq!(last.to_status.as_deref(), Some("rejected"));
    // Faces can no longer be matched: their rows are gone; the rest is answered again.
    let again = db.store.erase_applicant(&a1, "api_key:k").await.unwrap();
    assert!(!again.first);
    assert_eq!(again.at, e.at);
    assert!(has(&again.objects, &["blobs/doc-1", "blobs/data-1"]));
    assert!(!has(&again.objects, &["blobs/face-1"]));
    assert_eq!(db.store.erased_applicants().await.unwrap(), [a1]);

    // Retention: a case decided 10 days ago, one decided now; the cut-off 5 days back.
    let (_, old) = rejected_case(&db.store, "u-old", "3").await;
    db.clock.advance_ms(10 * 86_400_000);
    let (_, new) = rejected_case(&db.store, "u-new", "4").await;
    let cut = db.clock.now_ms() - 5 * 86_400_000;
    let expired = db.store.expire_cases(cut, 10).await.unwrap();
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0].case_id, old);
    assert!(has(&expired[0].objects, &["blobs/doc-3", "blobs/data-3"]));
    // The face template serves duplicate search while the applicant stays.
    assert!(!has(&expired[0].objects, &["blobs/face-3"]));
    let events = db.store.audit_events(&old).await.unwrap();
    assert_eq!(events.last().unwrap().action, "images_erased");
    assert!(db.store.expire_cases(cut, 10).await.unwrap().is_empty());
    // Later everything decided is due, but not the erased applicant's case (its erasure
    // released it) nor the one still in review.
    let later = db
        .store
        .expire_cases(db.clock.now_ms() + 1, 10)
        .await
        .unwrap();
    let ids: Vec<&str> = later.iter().map(|e| e.case_id.as_str()).collect();
    assert_eq!(ids, [new.as_str()]);
    assert!(!ids.contains(&c1.as_str()) && !ids.contains(&c2.as_str()));
}
