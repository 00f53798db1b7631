//! The store contract: every test here runs unchanged on SQLite and on PostgreSQL
//! (`IDGATE_TEST_POSTGRES_URL`, default the machine's `test` database; each test gets
//! its own schema). PostgreSQL being unreachable is a failure, not a skip.

use idgate_core::{
    CaseEvent, CaseStatus, ChangeChecks, ChangeStatus, Clock, Decision, FixedClock, ReasonCode,
};
use idgate_store::{
    AttemptResult, CaseDecision, ChangeCheckResult, ClaimChange, DecisionRecord, DocumentData,
    NewChange, Store, StoreError,
};
use std::sync::Arc;

struct Db {
    store: Store,
    clock: Arc<FixedClock>,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(1_700_000_000_000));
    let url = format!("sqlite://{}", dir.path().join("idgate.db").display());
    let store = Store::connect(&url, clock.clone()).await.unwrap();
    store.migrate().await.unwrap();
    Db {
        store,
        clock,
        _dir: Some(dir),
    }
}

async fn postgres() -> Db {
    let base = std::env::var("IDGATE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("t_{}", uuid_like());
    let clock = Arc::new(FixedClock::new(1_700_000_000_000));
    let admin = Store::connect(&base, clock.clone())
        .await
        .expect("PostgreSQL reachable");
    admin
        .execute_raw(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let store = Store::connect(&url, clock.clone()).await.unwrap();
    store.migrate().await.unwrap();
    Db {
        store,
        clock,
        _dir: None,
    }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{n:x}{}", std::process::id())
}

fn doc(case_id: &str) -> DocumentData {
    DocumentData {
        case_id: case_id.into(),
        kind: "passport".into(),
        side: "page".into(),
        blob_key: "blobs/x".into(),
        content_type: "image/jpeg".into(),
        size_bytes: 1234,
        sha256: "ab".repeat(32),
        width: Some(4000),
        height: Some(3000),
    }
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite { $( #[tokio::test] async fn $name() { super::$name(super::sqlite().await).await } )* }
        mod on_postgres { $( #[tokio::test] async fn $name() { super::$name(super::postgres().await).await } )* }
    };
}

contract!(
    applicants_are_unique_per_uid,
    a_case_walks_the_state_machine_with_an_audit_trail,
    illegal_transitions_change_nothing,
    documents_only_attach_to_draft_cases,
    submit_enqueues_exactly_one_job,
    an_expired_lease_is_claimed_again,
    failed_jobs_retry_later_then_give_up,
    concurrent_claims_never_hand_out_a_job_twice,
    api_keys_are_found_by_hash_until_revoked,
    migrations_are_idempotent,
    identity_claims_follow_decisions,
    one_document_is_verified_on_one_account_only,
    attempts_and_verified_steps_are_kept_per_account,
    reviewers_claim_and_decide_cases_with_the_outbox_written,
    change_requests_replace_verified_data_once_approved,
    faces_count_once_approved_and_challenges_are_single_use,
    only_a_case_the_checks_decided_can_be_approved,
);

async fn applicants_are_unique_per_uid(db: Db) {
    let a = db.store.create_applicant("uid-1", "DE").await.unwrap();
    assert_eq!(db.store.applicant(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(db.store.applicant_by_uid("uid-1").await.unwrap(), Some(a));
    assert!(matches!(
        db.store.create_applicant("uid-1", "FR").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(db.store.applicant_by_uid("nobody").await.unwrap(), None);
}

async fn a_case_walks_the_state_machine_with_an_audit_trail(db: Db) {
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

async fn illegal_transitions_change_nothing(db: Db) {
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

async fn documents_only_attach_to_draft_cases(db: Db) {
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

async fn submit_enqueues_exactly_one_job(db: Db) {
    let a = db.store.create_applicant("uid-5", "IT").await.unwrap();
    let c = db.store.create_case(&a.id, "basic", "t").await.unwrap();
    assert_eq!(db.store.claim_job(1000).await.unwrap(), None);
    db.store.submit(&c.id, "t").await.unwrap();
    // A second submit is an illegal transition and must not enqueue another job.
    assert!(db.store.submit(&c.id, "t").await.is_err());
    assert_eq!(db.store.queue_depth().await.unwrap(), (1, 0));
    let job = db.store.claim_job(1000).await.unwrap().unwrap();
    assert_eq!(
        (job.case_id.as_str(), job.kind.as_str(), job.attempts),
        (c.id.as_str(), "process_case", 1)
    );
    assert_eq!(db.store.claim_job(1000).await.unwrap(), None);
    db.store.complete_job(&job.id).await.unwrap();
    assert_eq!(db.store.queue_depth().await.unwrap(), (0, 0));
}

async fn an_expired_lease_is_claimed_again(db: Db) {
    let a = db.store.create_applicant("uid-6", "BR").await.unwrap();
    let c = db.store.create_case(&a.id, "basic", "t").await.unwrap();
    db.store.submit(&c.id, "t").await.unwrap();
    let first = db.store.claim_job(5_000).await.unwrap().unwrap();
    db.clock.advance_ms(4_000);
    db.store.extend_lease(&first.id, 5_000).await.unwrap();
    db.clock.advance_ms(4_000);
    assert_eq!(
        db.store.claim_job(5_000).await.unwrap(),
        None,
        "lease was extended"
    );
    db.clock.advance_ms(2_000);
    let again = db.store.claim_job(5_000).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (first.id, 2));
}

async fn failed_jobs_retry_later_then_give_up(db: Db) {
    let a = db.store.create_applicant("uid-7", "IN").await.unwrap();
    let c = db.store.create_case(&a.id, "basic", "t").await.unwrap();
    db.store.submit(&c.id, "t").await.unwrap();
    let job = db.store.claim_job(1000).await.unwrap().unwrap();
    db.store
        .fail_job(
            &job.id,
            "blob_unavailable",
            Some(db.clock.now_ms() + 30_000),
        )
        .await
        .unwrap();
    assert_eq!(db.store.claim_job(1000).await.unwrap(), None);
    db.clock.advance_ms(30_000);
    let job = db.store.claim_job(1000).await.unwrap().unwrap();
    assert_eq!(job.attempts, 2);
    db.store
        .fail_job(&job.id, "blob_unavailable", None)
        .await
        .unwrap();
    db.clock.advance_ms(1_000_000);
    assert_eq!(db.store.claim_job(1000).await.unwrap(), None);
    assert_eq!(db.store.queue_depth().await.unwrap(), (0, 0));
}

async fn concurrent_claims_never_hand_out_a_job_twice(db: Db) {
    let a = db.store.create_applicant("uid-8", "HK").await.unwrap();
    for _ in 0..12 {
        let c = db.store.create_case(&a.id, "basic", "t").await.unwrap();
        db.store.submit(&c.id, "t").await.unwrap();
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(job) = store.claim_job(60_000).await.unwrap() {
                got.push(job.id);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!((total, all.len()), (12, 12));
}

async fn api_keys_are_found_by_hash_until_revoked(db: Db) {
    assert_eq!(db.store.count_api_keys().await.unwrap(), 0);
    let k = db.store.create_api_key("platform", "hash-1").await.unwrap();
    assert_eq!(
        db.store.api_key_by_hash("hash-1").await.unwrap(),
        Some(k.clone())
    );
    assert_eq!(db.store.api_key_by_hash("hash-2").await.unwrap(), None);
    assert!(db.store.revoke_api_key(&k.id).await.unwrap());
    assert_eq!(db.store.api_key_by_hash("hash-1").await.unwrap(), None);
    assert_eq!(db.store.count_api_keys().await.unwrap(), 0);
}

async fn migrations_are_idempotent(db: Db) {
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
}

fn keys(doc: &str, person: &str) -> Vec<(String, String)> {
    vec![
        ("document".to_string(), doc.to_string()),
        ("person".to_string(), person.to_string()),
    ]
}

fn record<'a>(
    uid: &'a str,
    outcome: &'a str,
    keys: &'a [(String, String)],
    claims: ClaimChange,
) -> DecisionRecord<'a> {
    DecisionRecord {
        uid,
        outcome,
        reasons: &[],
        keys,
        claims,
        steps: &[],
        level: None,
        raise: &[],
        case_id: None,
    }
}

async fn identity_claims_follow_decisions(db: Db) {
    let k = keys("doc-1", "person-1");
    let hashes: Vec<String> = k.iter().map(|(_, h)| h.clone()).collect();
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
        .all(|c| c.uid == "alice" && c.status == "pending"));
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

async fn one_document_is_verified_on_one_account_only(db: Db) {
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

async fn attempts_and_verified_steps_are_kept_per_account(db: Db) {
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

/// A case in review with entered data, as the worker leaves it; the outbox is on.
async fn case_in_review(store: &Store, uid: &str) -> (String, String) {
    let a = store.create_applicant(uid, "DE").await.unwrap();
    let c = store.create_case(&a.id, "basic", "api").await.unwrap();
    store.add_document(doc(&c.id), "api").await.unwrap();
    assert_eq!(
        store
            .set_case_data(&c.id, "blobs/data-1", "api")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .set_case_data(&c.id, "blobs/data-2", "api")
            .await
            .unwrap(),
        Some("blobs/data-1".into()),
        "the replaced data's blob is handed back for deletion"
    );
    store.submit(&c.id, "api").await.unwrap();
    store
        .transition(&c.id, CaseEvent::StartProcessing, "worker", None)
        .await
        .unwrap();
    let k = keys("doc-r", "person-r");
    let reasons = [ReasonCode::ComplianceReview];
    store
        .decide_case(&CaseDecision {
            case_id: &c.id,
            event: CaseEvent::Decide(Decision::Review),
            actor: "worker",
            reasons: &reasons,
            findings: Some(r#"[{"code":"COMPLIANCE_REVIEW","subject":"selfie"}]"#),
            reviewer_id: None,
            comments: &[],
            record: Some(record(uid, "in_review", &k, ClaimChange::Pending)),
            checked: true,
            retry_after: None,
        })
        .await
        .unwrap();
    (a.id, c.id)
}

/// A reviewer's approval with comments for the applicant and for reviewers.
fn approval<'a>(
    case: &'a str,
    reviewer: &'a str,
    keys: &'a [(String, String)],
    steps: &'a [&'a str],
) -> CaseDecision<'a> {
    CaseDecision {
        case_id: case,
        event: CaseEvent::ReviewerDecide(Decision::Approve),
        actor: "reviewer",
        reasons: &[],
        findings: None,
        reviewer_id: Some(reviewer),
        comments: &[("applicant", "welcome"), ("internal", "portrait matches")],
        record: Some(DecisionRecord {
            uid: "rev-1",
            outcome: "approved",
            reasons: &[],
            keys,
            claims: ClaimChange::Verified,
            steps,
            level: Some("basic"),
            raise: &[],
            case_id: Some(case),
        }),
        checked: false,
        retry_after: None,
    }
}

async fn reviewers_claim_and_decide_cases_with_the_outbox_written(db: Db) {
    let store = db.store.clone().with_webhooks(true);
    let (applicant, case) = case_in_review(&store, "rev-1").await;
    assert!(matches!(
        store.set_case_data(&case, "blobs/late", "api").await,
        Err(StoreError::Conflict(_))
    ));
    let r1 = store.create_reviewer("r1", "reviewer", "h1").await.unwrap();
    let r2 = store
        .create_reviewer("r2", "supervisor", "h2")
        .await
        .unwrap();
    assert!(matches!(
        store.create_reviewer("r1", "auditor", "h3").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.reviewer_by_token_hash("h1").await.unwrap(),
        Some(r1.clone())
    );
    let queue = store.review_queue(10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].id, case);

    store
        .claim_case(&case, &r1.id, "reviewer:r1", false)
        .await
        .unwrap();
    assert!(matches!(
        store.claim_case(&case, &r2.id, "reviewer:r2", false).await,
        Err(StoreError::Conflict(_))
    ));
    store
        .claim_case(&case, &r2.id, "reviewer:r2", true)
        .await
        .unwrap();
    assert!(matches!(
        store
            .release_case(&case, &r1.id, "reviewer:r1", false)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let k = keys("doc-r", "person-r");
    let steps = ["identity_document", "selfie"];
    assert!(
        matches!(
            store
                .decide_case(&approval(&case, &r1.id, &k, &steps))
                .await,
            Err(StoreError::Conflict(_))
        ),
        "r1 no longer holds the case"
    );
    let done = store
        .decide_case(&approval(&case, &r2.id, &k, &steps))
        .await
        .unwrap();
    assert_eq!((done.status, done.claimed_by), (CaseStatus::Approved, None));
    // The worker's findings stay for the record; the keys are now verified.
    let (findings, stored_keys) = store.case_findings(&case).await.unwrap();
    assert!(findings.contains("selfie"));
    assert_eq!(stored_keys, "document:doc-r,person:person-r");
    assert_eq!(
        store.claims_on(&["doc-r".into()], "x").await.unwrap()[0].status,
        "verified"
    );
    assert_eq!(store.verified_steps("rev-1").await.unwrap(), steps);
    assert_eq!(
        store
            .verified_data_key(&applicant)
            .await
            .unwrap()
            .as_deref(),
        Some("blobs/data-2")
    );
    assert_eq!(store.comments(&case, false).await.unwrap().len(), 1);
    assert_eq!(store.comments(&case, true).await.unwrap().len(), 2);
    assert!(store.review_queue(10).await.unwrap().is_empty());

    // The outbox: one delivery per status change, oldest first by claim.
    let all = store.webhook_deliveries(10).await.unwrap();
    let mut statuses: Vec<String> = all
        .iter()
        .map(|d| {
            let v: serde_json::Value = serde_json::from_str(&d.body).unwrap();
            v["data"]["status"].as_str().unwrap().to_string()
        })
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        ["approved", "in_review", "processing", "submitted"]
    );
    // One case's events go out in their order, one at a time: while the first waits for
    // its retry, the later ones wait too.
    let first = store.claim_webhook(60_000).await.unwrap().unwrap();
    let body: serde_json::Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!((first.seq, body["sequence"].as_i64()), (1, Some(1)));
    assert_eq!(body["data"]["status"], "submitted");
    assert_eq!(first.subject, case);
    assert!(
        store.claim_webhook(60_000).await.unwrap().is_none(),
        "the next event waits while the first is being sent"
    );
    let later = db.clock.now_ms() + 5_000;
    store
        .record_webhook_attempt(
            &first.id,
            Some(503),
            Some("http_status"),
            12,
            AttemptResult::RetryAt(later),
        )
        .await
        .unwrap();
    assert!(
        store.claim_webhook(60_000).await.unwrap().is_none(),
        "nothing of this case overtakes a delivery waiting for its retry"
    );
    db.clock.advance_ms(5_000);
    let retried = store.claim_webhook(60_000).await.unwrap().unwrap();
    assert_eq!(retried.id, first.id);
    store
        .record_webhook_attempt(&first.id, Some(200), None, 3, AttemptResult::Delivered)
        .await
        .unwrap();
    for (seq, status) in [(2, "processing"), (3, "in_review"), (4, "approved")] {
        let d = store.claim_webhook(60_000).await.unwrap().unwrap();
        let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
        assert_eq!(
            (d.seq, body["data"]["status"].as_str()),
            (seq, Some(status))
        );
        store
            .record_webhook_attempt(&d.id, Some(200), None, 3, AttemptResult::Delivered)
            .await
            .unwrap();
    }
    assert!(store.claim_webhook(60_000).await.unwrap().is_none());
    store.redeliver_webhook(&first.id).await.unwrap();
    let again = store.claim_webhook(60_000).await.unwrap().unwrap();
    assert_eq!(
        (again.id.as_str(), again.attempts, again.body.as_str()),
        (first.id.as_str(), 2, first.body.as_str())
    );
    store
        .record_webhook_attempt(
            &again.id,
            None,
            Some("timeout"),
            10_000,
            AttemptResult::GiveUp,
        )
        .await
        .unwrap();
    let log = store.webhook_attempts(&first.id).await.unwrap();
    assert_eq!(
        log.iter()
            .map(|a| (a.attempt, a.status_code))
            .collect::<Vec<_>>(),
        [(1, Some(503)), (2, Some(200)), (3, None)]
    );
    assert_eq!(
        store
            .webhook_delivery(&first.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        "failed"
    );

    // Disabling a reviewer hands its cases back.
    store.disable_reviewer(&r2.id).await.unwrap();
    assert_eq!(store.reviewer_by_token_hash("h2").await.unwrap(), None);
}

fn change<'a>(
    applicant: &'a str,
    key: &'a str,
    changes: &'a [String],
    identity: bool,
) -> NewChange<'a> {
    NewChange {
        applicant_id: applicant,
        data_key: key,
        reason: "because",
        changes,
        identity,
        findings: "[]",
        reasons: &[],
    }
}

async fn change_requests_replace_verified_data_once_approved(db: Db) {
    let store = db.store.clone().with_webhooks(true);
    let (applicant, case) = case_in_review(&store, "cr-1").await;
    let address = vec!["address".to_string()];
    assert!(
        matches!(
            store
                .create_change_request(&change(&applicant, "blobs/new", &address, false), "api")
                .await,
            Err(StoreError::Conflict(_))
        ),
        "nothing verified yet"
    );
    let r = store.create_reviewer("rv", "reviewer", "hv").await.unwrap();
    let r2 = store.create_reviewer("rw", "reviewer", "hw").await.unwrap();
    store
        .claim_case(&case, &r.id, "reviewer:rv", false)
        .await
        .unwrap();
    store
        .decide_case(&CaseDecision {
            case_id: &case,
            event: CaseEvent::ReviewerDecide(Decision::Approve),
            actor: "reviewer:rv",
            reasons: &[],
            findings: None,
            reviewer_id: Some(&r.id),
            comments: &[],
            record: None,
            checked: false,
            retry_after: None,
        })
        .await
        .unwrap();
    // An address: straight to the reviewers, one approval.
    let cr = store
        .create_change_request(&change(&applicant, "blobs/new", &address, false), "api")
        .await
        .unwrap();
    assert_eq!(
        (cr.status, cr.second_approval),
        (ChangeStatus::Pending, false)
    );
    assert!(matches!(
        store
            .create_change_request(&change(&applicant, "blobs/other", &address, false), "api")
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.change_requests_for_review().await.unwrap(),
        vec![cr.clone()]
    );
    let done = store
        .decide_change_request(&cr.id, true, &r.id, "reviewer:rv", Some("bill seen"))
        .await
        .unwrap();
    assert_eq!(done.status, ChangeStatus::Approved);
    assert_eq!(
        store
            .verified_data_key(&applicant)
            .await
            .unwrap()
            .as_deref(),
        Some("blobs/new")
    );
    assert!(matches!(
        store
            .decide_change_request(&cr.id, false, &r.id, "reviewer:rv", None)
            .await,
        Err(StoreError::Conflict(_))
    ));

    // A new passport number: a document, its checks, then two different reviewers.
    let number = vec!["document.number".to_string()];
    let id_change = store
        .create_change_request(&change(&applicant, "blobs/passport", &number, true), "api")
        .await
        .unwrap();
    assert_eq!(id_change.status, ChangeStatus::AwaitingDocuments);
    assert!(
        matches!(
            store
                .decide_change_request(&id_change.id, true, &r.id, "reviewer:rv", None)
                .await,
            Err(StoreError::Conflict(_))
        ),
        "nothing is approved before its checks"
    );
    assert!(
        matches!(
            store.submit_change_request(&id_change.id, "api").await,
            Err(StoreError::Conflict(_))
        ),
        "the document comes first"
    );
    let added = store
        .add_change_document(
            DocumentData {
                case_id: id_change.id.clone(),
                ..doc("x")
            },
            "api",
        )
        .await
        .unwrap();
    assert_eq!(
        store.change_documents(&id_change.id).await.unwrap(),
        vec![added.document]
    );
    let submitted = store
        .submit_change_request(&id_change.id, "api")
        .await
        .unwrap();
    assert_eq!(submitted.status, ChangeStatus::Checking);
    let mut jobs = Vec::new();
    while let Some(j) = store.claim_job(1000).await.unwrap() {
        jobs.push((j.kind, j.case_id));
    }
    assert!(
        jobs.contains(&("check_change_request".to_string(), id_change.id.clone())),
        "the checks are a job: {jobs:?}"
    );
    let new_keys = keys("doc-new", "person-r");
    let checked = store
        .record_change_checks(
            &id_change.id,
            &ChangeCheckResult {
                checks: ChangeChecks::Passed,
                reasons: &[ReasonCode::ComplianceReview],
                findings: "[]",
                identity_keys: &new_keys,
            },
        )
        .await
        .unwrap();
    assert_eq!(checked.status, ChangeStatus::Pending);
    let first = store
        .decide_change_request(&id_change.id, true, &r.id, "reviewer:rv", None)
        .await
        .unwrap();
    assert_eq!(first.status, ChangeStatus::AwaitingSecondApproval);
    assert!(matches!(
        store
            .decide_change_request(&id_change.id, true, &r.id, "reviewer:rv", None)
            .await,
        Err(StoreError::SecondReviewerRequired)
    ));
    assert_eq!(
        store
            .verified_data_key(&applicant)
            .await
            .unwrap()
            .as_deref(),
        Some("blobs/new"),
        "unchanged until the second approval"
    );
    // Another account verified the new passport meanwhile: the approval changes nothing.
    store
        .record_decision(&record(
            "thief",
            "approved",
            &keys("doc-new", "person-t"),
            ClaimChange::Verified,
        ))
        .await
        .unwrap();
    assert!(matches!(
        store
            .decide_change_request(&id_change.id, true, &r2.id, "reviewer:rw", None)
            .await,
        Err(StoreError::DuplicateDocument)
    ));
    assert_eq!(
        store
            .change_request(&id_change.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ChangeStatus::AwaitingSecondApproval
    );
    let rejected = store
        .decide_change_request(&id_change.id, false, &r2.id, "reviewer:rw", Some("stolen?"))
        .await
        .unwrap();
    assert_eq!(rejected.status, ChangeStatus::Rejected);
    assert_eq!(
        store
            .verified_data_key(&applicant)
            .await
            .unwrap()
            .as_deref(),
        Some("blobs/new")
    );

    // The checks ask for another document, then refuse the change for good.
    let name = vec!["name.family".to_string()];
    let open = store
        .create_change_request(&change(&applicant, "blobs/name", &name, true), "api")
        .await
        .unwrap();
    for (checks, status) in [
        (ChangeChecks::Retake, ChangeStatus::AwaitingDocuments),
        (ChangeChecks::Refused, ChangeStatus::Rejected),
    ] {
        let retake = store
            .add_change_document(
                DocumentData {
                    case_id: open.id.clone(),
                    ..doc("x")
                },
                "api",
            )
            .await
            .unwrap();
        assert_eq!(
            retake.replaced.len(),
            usize::from(checks == ChangeChecks::Refused)
        );
        store.submit_change_request(&open.id, "api").await.unwrap();
        let after = store
            .record_change_checks(
                &open.id,
                &ChangeCheckResult {
                    checks,
                    reasons: &[ReasonCode::Underage],
                    findings: "[]",
                    identity_keys: &[],
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (after.status, after.reasons),
            (status, vec![ReasonCode::Underage])
        );
    }

    let actions: Vec<String> = store
        .audit_events(&id_change.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "change_requested",
            "document_added",
            "change_submitted",
            "change_checked",
            "change_first_approved",
            "change_rejected"
        ]
    );
    let events: Vec<(i64, String)> = store
        .webhook_deliveries(50)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.subject == id_change.id)
        .map(|d| {
            let v: serde_json::Value = serde_json::from_str(&d.body).unwrap();
            (d.seq, v["data"]["status"].as_str().unwrap().to_string())
        })
        .collect();
    let mut events = events;
    events.sort();
    assert_eq!(
        events,
        [
            (1, "awaiting_documents".to_string()),
            (2, "checking".to_string()),
            (3, "pending".to_string()),
            (4, "awaiting_second_approval".to_string()),
            (5, "rejected".to_string())
        ]
    );
}

async fn faces_count_once_approved_and_challenges_are_single_use(db: Db) {
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
    let r = store.create_reviewer("fr", "reviewer", "fh").await.unwrap();
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
        .answer_challenge(&ch.id, "passed", "{}", &frames)
        .await
        .unwrap();
    assert_eq!(
        (done.status.as_str(), done.result.as_deref()),
        ("passed", Some("{}"))
    );
    assert!(matches!(
        store.answer_challenge(&ch.id, "failed", "{}", &[]).await,
        Err(StoreError::Conflict(_))
    ));
    // A frame sent before is refused in a new challenge, which stays unanswered.
    let again = store
        .create_challenge(&c3, &["blink"], 60_000)
        .await
        .unwrap();
    let replay = vec!["f3".to_string(), "f2".to_string()];
    assert!(matches!(
        store
            .answer_challenge(&again.id, "passed", "{}", &replay)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let still = store.challenge(&again.id).await.unwrap().unwrap();
    assert_eq!(still.status, "issued");
    store
        .answer_challenge(&again.id, "failed", r#"{"failure":"replay"}"#, &[])
        .await
        .unwrap();
}

/// A case that reached review without the pipeline's decision (its checks could not run)
/// is never approved: a reviewer may only send it back or reject it. The cooldown of a
/// retry is kept on the case and told in its webhook.
async fn only_a_case_the_checks_decided_can_be_approved(db: Db) {
    let store = db.store.clone().with_webhooks(true);
    let a = store.create_applicant("unchecked-1", "DE").await.unwrap();
    let c = store.create_case(&a.id, "basic", "api").await.unwrap();
    store.submit(&c.id, "api").await.unwrap();
    store
        .transition(&c.id, CaseEvent::StartProcessing, "worker", None)
        .await
        .unwrap();
    let review = [ReasonCode::ComplianceReview];
    store
        .transition(
            &c.id,
            CaseEvent::Decide(Decision::Review),
            "worker",
            Some(&review),
        )
        .await
        .unwrap();
    assert!(!store.case(&c.id).await.unwrap().unwrap().checked);
    let r = store.create_reviewer("rv", "reviewer", "hv").await.unwrap();
    store
        .claim_case(&c.id, &r.id, "reviewer:rv", false)
        .await
        .unwrap();
    let k = keys("doc-u", "person-u");
    let steps = ["identity_document", "selfie"];
    assert!(matches!(
        store.decide_case(&approval(&c.id, &r.id, &k, &steps)).await,
        Err(StoreError::Unchecked)
    ));
    assert_eq!(
        store.case(&c.id).await.unwrap().unwrap().status,
        CaseStatus::InReview,
        "the refused approval changed nothing"
    );
    assert!(store
        .claims_on(&["doc-u".into()], "x")
        .await
        .unwrap()
        .is_empty());
    let at = db.clock.now_ms() + 60_000;
    let reasons = [ReasonCode::DocumentExpired, ReasonCode::DocumentExpired];
    let retried = store
        .decide_case(&CaseDecision {
            case_id: &c.id,
            event: CaseEvent::ReviewerDecide(Decision::Retry),
            actor: "reviewer:rv",
            reasons: &reasons,
            findings: None,
            reviewer_id: Some(&r.id),
            comments: &[],
            record: None,
            checked: false,
            retry_after: Some(at),
        })
        .await
        .unwrap();
    assert_eq!(retried.status, CaseStatus::ResubmissionRequested);
    let stored = store.case(&c.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.reasons, stored.retry_after),
        (vec![ReasonCode::DocumentExpired], Some(at)),
        "each reason once, and the cooldown kept"
    );
    let body: serde_json::Value = store
        .webhook_deliveries(10)
        .await
        .unwrap()
        .iter()
        .map(|d| serde_json::from_str::<serde_json::Value>(&d.body).unwrap())
        .find(|b| b["data"]["status"] == "resubmission_requested")
        .unwrap();
    assert_eq!(body["data"]["retry_after"], at);
    assert_eq!(
        body["data"]["reasons"],
        serde_json::json!(["DOCUMENT_EXPIRED"])
    );

    // The same case decided by the pipeline is approvable.
    let c2 = store.create_case(&a.id, "basic", "api").await.unwrap();
    store.submit(&c2.id, "api").await.unwrap();
    store
        .transition(&c2.id, CaseEvent::StartProcessing, "worker", None)
        .await
        .unwrap();
    store
        .decide_case(&CaseDecision {
            case_id: &c2.id,
            event: CaseEvent::Decide(Decision::Review),
            actor: "worker",
            reasons: &review,
            findings: Some("[]"),
            reviewer_id: None,
            comments: &[],
            record: Some(record("unchecked-1", "in_review", &k, ClaimChange::Pending)),
            checked: true,
            retry_after: None,
        })
        .await
        .unwrap();
    store
        .claim_case(&c2.id, &r.id, "reviewer:rv", false)
        .await
        .unwrap();
    let mut ok = approval(&c2.id, &r.id, &k, &steps);
    let rec = ok.record.as_mut().unwrap();
    rec.uid = "unchecked-1";
    let done = store.decide_case(&ok).await.unwrap();
    assert_eq!(done.status, CaseStatus::Approved);
    assert_eq!(
        store.claims_on(&["doc-u".into()], "x").await.unwrap()[0].status,
        "verified",
        "the approval recorded the identity keys"
    );
}
