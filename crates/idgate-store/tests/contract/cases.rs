//! Applicants, the case state machine with its audit trail, documents on drafts.

use super::*;

pub(crate) async fn applicants_are_unique_per_uid(db: Db) {
    let a = db.store.create_applicant("uid-1", "DE").await.unwrap();
    assert_eq!(db.store.applicant(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(db.store.applicant_by_uid("uid-1").await.unwrap(), Some(a));
    assert!(matches!(
        db.store.create_applicant("uid-1", "FR").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(db.store.applicant_by_uid("nobody").await.unwrap(), None);
}

pub(crate) async fn a_case_walks_the_state_machine_with_an_audit_trail(db: Db) {
    let a = db.store.create_applicant("uid-2", "CN").await.unwrap();
    let c = db
        .store
        .create_case(&a.id, "basic", "api:test")
        .await
        .unwrap();
    assert_eq!(c.status, CaseStatus::Draft);
    db.clock.advance_ms(10);
    db.store.submit(&c.id, "api:test").await.unwrap();
    db.store
        .transition(&c.id, CaseEvent::StartProcessing, "worker", None)
        .await
        .unwrap();
    let reasons = [ReasonCode::Glare, ReasonCode::MissingSide];
    let done = db
        .store
        .transition(
            &c.id,
            CaseEvent::Decide(Decision::Retry),
            "worker",
            Some(&reasons),
        )
        .await
        .unwrap();
    assert_eq!(done.status, CaseStatus::ResubmissionRequested);
    let stored = db.store.case(&c.id).await.unwrap().unwrap();
    assert_eq!(stored, done);
    assert_eq!(stored.reasons, reasons);
    let trail: Vec<(String, Option<String>)> = db
        .store
        .audit_events(&c.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.to_status))
        .collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        trail,
        [
            ("created".into(), s("draft")),
            ("submitted".into(), s("submitted")),
            ("processing_started".into(), s("processing")),
            ("decided".into(), s("resubmission_requested")),
        ]
    );
    assert_eq!(db.store.cases_of_applicant(&a.id).await.unwrap().len(), 1);
}

pub(crate) async fn illegal_transitions_change_nothing(db: Db) {
    let a = db.store.create_applicant("uid-3", "FR").await.unwrap();
    let c = db.store.create_case(&a.id, "basic", "t").await.unwrap();
    let err = db
        .store
        .transition(&c.id, CaseEvent::Decide(Decision::Approve), "t", None)
        .await;
    assert!(matches!(err, Err(StoreError::Transition(_))));
    assert_eq!(
        db.store.case(&c.id).await.unwrap().unwrap().status,
        CaseStatus::Draft
    );
    assert_eq!(db.store.audit_events(&c.id).await.unwrap().len(), 1);
    assert!(matches!(
        db.store
            .transition("missing", CaseEvent::Submit, "t", None)
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

pub(crate) async fn documents_only_attach_to_draft_cases(db: Db) {
    let a = db.store.create_applicant("uid-4", "ES").await.unwrap();
    let c = db.store.create_case(&a.id, "basic", "t").await.unwrap();
    let d = db.store.add_document(doc(&c.id), "t").await.unwrap();
    assert!(d.replaced.is_empty());
    assert_eq!(
        db.store.documents(&c.id).await.unwrap(),
        vec![d.document.clone()]
    );
    // A retaken photo of the same side replaces the first; another side is added beside.
    let retake = DocumentData {
        blob_key: "blobs/retake".into(),
        ..doc(&c.id)
    };
    let r = db.store.add_document(retake, "t").await.unwrap();
    assert_eq!(r.replaced, vec![d.document.clone()]);
    let back = DocumentData {
        side: "back".into(),
        blob_key: "blobs/back".into(),
        ..doc(&c.id)
    };
    let b = db.store.add_document(back, "t").await.unwrap();
    assert!(b.replaced.is_empty());
    let mut docs = db.store.documents(&c.id).await.unwrap();
    docs.sort_by(|x, y| x.data.side.cmp(&y.data.side));
    assert_eq!(docs, vec![b.document.clone(), r.document.clone()]);
    // A wrong upload is removed; an unknown one is not found.
    let gone = db
        .store
        .delete_document(&c.id, &b.document.id, "t")
        .await
        .unwrap();
    assert_eq!(gone.data.blob_key, "blobs/back");
    assert!(matches!(
        db.store.delete_document(&c.id, &b.document.id, "t").await,
        Err(StoreError::NotFound { .. })
    ));
    let actions: Vec<String> = db
        .store
        .audit_events(&c.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "created",
            "document_added",
            "document_replaced",
            "document_added",
            "document_deleted"
        ]
    );
    db.store.submit(&c.id, "t").await.unwrap();
    assert!(matches!(
        db.store.delete_document(&c.id, &r.document.id, "t").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        db.store.add_document(doc(&c.id), "t").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        db.store.add_document(doc("nope"), "t").await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(db.store.documents(&c.id).await.unwrap().len(), 1);
}

pub(crate) async fn a_case_keeps_one_evidence_record(db: Db) {
    let store = &db.store;
    let (_, c1) = case_in_review(store, "evidence-1").await;
    let (_, c2) = case_in_review(store, "evidence-2").await;
    assert_eq!(store.case_evidence(&c1).await.unwrap(), None);
    assert_eq!(
        store.put_case_evidence(&c1, "blobs/ev-1").await.unwrap(),
        None
    );
    // A case decided again (a worker stopped mid-case) replaces its record; the old
    // blob's key comes back for deletion.
    assert_eq!(
        store.put_case_evidence(&c1, "blobs/ev-1b").await.unwrap(),
        Some("blobs/ev-1".into())
    );
    assert_eq!(
        store.case_evidence(&c1).await.unwrap().as_deref(),
        Some("blobs/ev-1b")
    );
    assert_eq!(store.case_evidence(&c2).await.unwrap(), None);
    assert!(
        store
            .put_case_evidence("no-such-case", "blobs/x")
            .await
            .is_err(),
        "evidence belongs to a case that exists"
    );
}
