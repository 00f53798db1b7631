//! What decisions leave: identity claims, one verified holder per document, attempts and steps.

use super::*;

pub(crate) async fn identity_claims_follow_decisions(db: Db) {
    let k = keys("doc-1", "person-1");
    let hashes: Vec<String> = k.iter().map(|k| k.hash.clone()).collect();
    db.store
        .record_decision(&record("alice", "in_review", &k, ClaimChange::Pending))
        .await
        .unwrap();
    // Alice's own keys are not duplicates of herself.
    assert!(db
        .store
        .claims_on(&hashes, "alice")
        .await
        .unwrap()
        .is_empty());
    let seen = db.store.claims_on(&hashes, "bob").await.unwrap();
    assert_eq!(seen.len(), 2);
    assert!(seen
        .iter()
        .all(|c| c.uid == "alice" && c.status == ClaimStatus::Pending));
    // Sent back: her pending keys no longer block anyone.
    db.store
        .record_decision(&record(
            "alice",
            "resubmission_requested",
            &k,
            ClaimChange::Release,
        ))
        .await
        .unwrap();
    assert!(db.store.claims_on(&hashes, "bob").await.unwrap().is_empty());
    db.store
        .record_decision(&record("alice", "approved", &k, ClaimChange::Verified))
        .await
        .unwrap();
    let seen = db.store.claims_on(&hashes[..1], "bob").await.unwrap();
    assert_eq!(
        (seen.len(), seen[0].kind.as_str(), seen[0].status.as_str()),
        (1, "document", "verified")
    );
    assert!(db
        .store
        .claims_on(&["other".to_string()], "bob")
        .await
        .unwrap()
        .is_empty());
    assert!(db.store.claims_on(&[], "bob").await.unwrap().is_empty());
}

pub(crate) async fn one_document_is_verified_on_one_account_only(db: Db) {
    let k = keys("doc-9", "person-9");
    db.store
        .record_decision(&record("alice", "approved", &k, ClaimChange::Verified))
        .await
        .unwrap();
    // Bob's approval of the same document (a race the engine did not see) is refused and
    // leaves no trace.
    let err = db
        .store
        .record_decision(&record("bob", "approved", &k[..1], ClaimChange::Verified))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DuplicateDocument), "{err}");
    assert!(db.store.attempts_since("bob", 0).await.unwrap().is_empty());
    // The same person with another document may be verified by a reviewer.
    let other = keys("doc-10", "person-9");
    db.store
        .record_decision(&record("bob", "approved", &other, ClaimChange::Verified))
        .await
        .unwrap();
}

pub(crate) async fn attempts_and_verified_steps_are_kept_per_account(db: Db) {
    let t0 = db.clock.now_ms();
    let reasons = [ReasonCode::Glare, ReasonCode::NameMismatch];
    let mut rec = record("alice", "resubmission_requested", &[], ClaimChange::Release);
    rec.reasons = &reasons;
    db.store.record_decision(&rec).await.unwrap();
    db.clock.advance_ms(60_000);
    let steps = ["identity_document", "selfie"];
    let mut rec = record("alice", "approved", &[], ClaimChange::Verified);
    rec.steps = &steps;
    rec.level = Some("basic");
    db.store.record_decision(&rec).await.unwrap();
    let all = db.store.attempts_since("alice", t0).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (all[0].at, &all[0].outcome[..], &all[0].reasons[..]),
        (t0, "resubmission_requested", &reasons[..])
    );
    assert_eq!((all[1].at, &all[1].outcome[..]), (t0 + 60_000, "approved"));
    assert_eq!(
        db.store
            .attempts_since("alice", t0 + 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(db.store.attempts_since("bob", 0).await.unwrap().is_empty());
    assert_eq!(
        db.store.verified_steps("alice").await.unwrap(),
        ["identity_document", "selfie"]
    );
    assert!(db.store.verified_steps("bob").await.unwrap().is_empty());
}
