//! Applicant sessions: found by their token digest, usable until expiry or revocation, and
//! bound to one applicant whose latest case is the one they work on.

use super::*;

pub(crate) async fn applicant_sessions_expire_and_revoke(db: Db) {
    let a = db.store.create_applicant("u-sess", "DE").await.unwrap();
    let b = db.store.create_applicant("u-other", "DE").await.unwrap();
    assert!(matches!(
        db.store
            .create_session("nobody", "h0", 1_000, None, None)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let s1 = db
        .store
        .create_session(
            &a.id,
            "h1",
            60_000,
            Some("https://app.example/done"),
            Some("advanced"),
        )
        .await
        .unwrap();
    let s2 = db
        .store
        .create_session(&a.id, "h2", 60_000, None, None)
        .await
        .unwrap();
    let found = db.store.session_by_token_hash("h1").await.unwrap().unwrap();
    assert_eq!(found, s1);
    assert_eq!(found.applicant_id, a.id);
    assert_eq!(
        found.redirect_url.as_deref(),
        Some("https://app.example/done")
    );
    assert_eq!(found.level.as_deref(), Some("advanced"));
    assert_eq!(
        db.store
            .session_by_token_hash("h2")
            .await
            .unwrap()
            .unwrap()
            .level,
        None
    );
    assert!(found.usable_at(db.clock.now_ms()));
    assert!(db
        .store
        .session_by_token_hash("h3")
        .await
        .unwrap()
        .is_none());
    // A token's digest is unique: a second session cannot take it.
    assert!(db
        .store
        .create_session(&b.id, "h1", 60_000, None, None)
        .await
        .is_err());

    db.clock.advance_ms(60_000);
    let expired = db.store.session_by_token_hash("h1").await.unwrap().unwrap();
    assert!(!expired.usable_at(db.clock.now_ms()));

    // Revoked only by its own applicant, once.
    assert!(!db.store.revoke_session(&b.id, &s2.id).await.unwrap());
    assert!(db.store.revoke_session(&a.id, &s2.id).await.unwrap());
    assert!(!db.store.revoke_session(&a.id, &s2.id).await.unwrap());
    let revoked = db.store.session_by_token_hash("h2").await.unwrap().unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(!revoked.usable_at(revoked.created_at));
    assert_eq!(db.store.sessions_of(&a.id).await.unwrap().len(), 2);

    // The current case is the latest one.
    assert!(db.store.current_case(&a.id).await.unwrap().is_none());
    let c1 = db.store.create_case(&a.id, "basic", "api").await.unwrap();
    assert_eq!(
        db.store.current_case(&a.id).await.unwrap().unwrap().id,
        c1.id
    );
    db.clock.advance_ms(1);
    let c2 = db.store.create_case(&a.id, "basic", "api").await.unwrap();
    assert_eq!(
        db.store.current_case(&a.id).await.unwrap().unwrap().id,
        c2.id
    );
    assert!(db.store.current_case(&b.id).await.unwrap().is_none());
}
