//! Reviewer accounts: an invitation is used once before it expires, a TOTP step and a
//! recovery code are accepted once, console sessions end when idle, at their absolute
//! lifetime, when ended or when the account is disabled, and sign-in failures are counted
//! per account and per address inside a window.

use super::*;
use idgate_store::SessionStage;

pub(crate) async fn invitations_make_accounts_once_and_sessions_expire(db: Db) {
    let s = &db.store;
    s.create_reviewer("taken", ReviewerRole::Reviewer, "t0")
        .await
        .unwrap();
    assert!(matches!(
        s.create_invite("taken", ReviewerRole::Admin, "i0", "platform", 1000)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let inv = s
        .create_invite("wei", ReviewerRole::Admin, "i1", "platform", 60_000)
        .await
        .unwrap();
    assert_eq!(
        s.invite_by_token_hash("i1").await.unwrap(),
        Some(inv.clone())
    );
    let r = s
        .accept_invite("i1", "$argon2id$phc", "unused1")
        .await
        .unwrap();
    assert_eq!((r.name.as_str(), r.role), ("wei", ReviewerRole::Admin));
    assert!(matches!(
        s.accept_invite("i1", "$argon2id$other", "unused2").await,
        Err(StoreError::Gone(_))
    ));
    assert!(s
        .invite_by_token_hash("i1")
        .await
        .unwrap()
        .unwrap()
        .used_at
        .is_some());
    s.create_invite("late", ReviewerRole::Reviewer, "i2", "platform", 1000)
        .await
        .unwrap();
    db.clock.advance_ms(1000);
    assert!(matches!(
        s.accept_invite("i2", "h", "unused3").await,
        Err(StoreError::Gone(_))
    ));
    assert!(matches!(
        s.accept_invite("nope", "h", "unused4").await,
        Err(StoreError::NotFound { .. })
    ));

    let (found, creds) = s.reviewer_by_name("wei").await.unwrap().unwrap();
    assert_eq!(found, r);
    assert_eq!(creds.password_hash.as_deref(), Some("$argon2id$phc"));
    assert!(!creds.has_totp());
    assert!(
        !format!("{creds:?}").contains("argon2"),
        "Debug shows no hash"
    );

    // TOTP: pending, confirmed with recovery codes, each step and code used once.
    assert_eq!(s.set_pending_totp(&r.id, "blob-a").await.unwrap(), None);
    assert_eq!(
        s.set_pending_totp(&r.id, "blob-b")
            .await
            .unwrap()
            .as_deref(),
        Some("blob-a")
    );
    assert!(
        !s.use_totp_step(&r.id, 10).await.unwrap(),
        "not confirmed yet"
    );
    s.confirm_totp(&r.id, 100, &["rc1".into(), "rc2".into()])
        .await
        .unwrap();
    assert!(s.confirm_totp(&r.id, 101, &[]).await.is_err());
    assert!(s.set_pending_totp(&r.id, "blob-c").await.is_err());
    let creds = s.credentials(&r.id).await.unwrap();
    assert!(creds.has_totp());
    assert_eq!(creds.totp_key.as_deref(), Some("blob-b"));
    assert!(
        !s.use_totp_step(&r.id, 100).await.unwrap(),
        "the confirming step"
    );
    assert!(s.use_totp_step(&r.id, 101).await.unwrap());
    assert!(!s.use_totp_step(&r.id, 101).await.unwrap());
    assert!(!s.use_totp_step(&r.id, 99).await.unwrap());
    assert_eq!(s.recovery_codes_left(&r.id).await.unwrap(), 2);
    assert!(s.use_recovery_code(&r.id, "rc2").await.unwrap());
    assert!(!s.use_recovery_code(&r.id, "rc2").await.unwrap());
    assert!(!s.use_recovery_code(&r.id, "rc9").await.unwrap());
    assert_eq!(s.recovery_codes_left(&r.id).await.unwrap(), 1);

    // Sessions: idle timeout, absolute lifetime, ending, a disabled account.
    let idle = 30 * 60_000;
    s.create_console_session(&r.id, "sess1", SessionStage::Full, "csrf1", 3_600_000)
        .await
        .unwrap();
    let got = s.console_session("sess1", idle).await.unwrap().unwrap();
    assert_eq!(
        (got.stage, got.csrf.as_str()),
        (SessionStage::Full, "csrf1")
    );
    assert_eq!(got.reviewer, r);
    db.clock.advance_ms(idle - 1);
    assert!(s.console_session("sess1", idle).await.unwrap().is_some());
    db.clock.advance_ms(idle - 1);
    assert!(s.console_session("sess1", idle).await.unwrap().is_some());
    db.clock.advance_ms(idle);
    assert!(s.console_session("sess1", idle).await.unwrap().is_none());
    // Once timed out it stays over.
    db.clock.advance_ms(-idle);
    assert!(s.console_session("sess1", idle).await.unwrap().is_none());

    s.create_console_session(&r.id, "sess2", SessionStage::SecondFactor, "c2", 60_000)
        .await
        .unwrap();
    db.clock.advance_ms(59_999);
    let s2 = s.console_session("sess2", idle).await.unwrap().unwrap();
    assert_eq!(s2.stage, SessionStage::SecondFactor);
    s.refresh_console_session(&s2.id).await.unwrap();
    assert_eq!(
        s.console_session("sess2", idle)
            .await
            .unwrap()
            .unwrap()
            .fresh_at,
        db.clock.now_ms()
    );
    db.clock.advance_ms(1);
    assert!(s.console_session("sess2", idle).await.unwrap().is_none());

    s.create_console_session(&r.id, "sess3", SessionStage::Full, "c3", 60_000)
        .await
        .unwrap();
    let s3 = s.console_session("sess3", idle).await.unwrap().unwrap();
    s.end_console_session(&s3.id).await.unwrap();
    assert!(s.console_session("sess3", idle).await.unwrap().is_none());
    s.create_console_session(&r.id, "sess4", SessionStage::Full, "c4", 60_000)
        .await
        .unwrap();
    s.disable_reviewer(&r.id).await.unwrap();
    assert!(s.console_session("sess4", idle).await.unwrap().is_none());
    assert!(s.reviewer_by_name("wei").await.unwrap().is_none());

    // Failures per account and per address, after a time.
    let t0 = db.clock.now_ms();
    s.record_signin_failure("wei", "10.0.0.1").await.unwrap();
    db.clock.advance_ms(10);
    s.record_signin_failure("wei", "10.0.0.2").await.unwrap();
    s.record_signin_failure("bob", "10.0.0.1").await.unwrap();
    assert_eq!(
        s.signin_failures_since("wei", "10.0.0.1", t0 - 1)
            .await
            .unwrap(),
        [(2, Some(t0)), (2, Some(t0))]
    );
    assert_eq!(
        s.signin_failures_since("wei", "10.0.0.1", t0)
            .await
            .unwrap(),
        [(1, Some(t0 + 10)), (1, Some(t0 + 10))]
    );
    s.clear_signin_failures("wei").await.unwrap();
    assert_eq!(
        s.signin_failures_since("wei", "10.0.0.1", t0 - 1)
            .await
            .unwrap(),
        [(0, None), (2, Some(t0))]
    );

    s.security_event("signin_ok", "wei", Some(&r.id), "10.0.0.1", "totp")
        .await
        .unwrap();
    s.security_event("signin_failed", "bob", None, "10.0.0.1", "password")
        .await
        .unwrap();
    let log = s.security_events(10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].kind, "signin_failed", "newest first");
    assert!(log[0].seq > log[1].seq);
    assert_eq!(log[1].reviewer_id.as_deref(), Some(r.id.as_str()));
}
