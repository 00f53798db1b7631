//! The store contract: every test here runs unchanged on SQLite and on PostgreSQL
//! (`IDGATE_TEST_POSTGRES_URL`, default the machine's `test` database; each test gets
//! its own schema). PostgreSQL being unreachable is a failure, not a skip. The contracts live
//! in one module per part of the store; the databases and shared fixtures are here.

mod accounts;
mod businesses;
mod cases;
mod changes;
mod decisions;
mod erasure;
mod faces;
mod jobs;
mod review;
mod screening;
mod sessions;
use accounts::*;
use businesses::*;
use cases::*;
use changes::*;
use decisions::*;
use erasure::*;
use faces::*;
use jobs::*;
use review::*;
use screening::*;
use sessions::*;

use idgate_core::{
    CaseEvent, CaseStatus, ChallengeStatus, ChangeChecks, ChangeStatus, ClaimStatus, Clock,
    Decision, FixedClock, IdentityKey, KeyKind, ReasonCode, ReviewerRole, Visibility,
};
use idgate_store::{
    AttemptResult, CaseDecision, ChangeCheckResult, ClaimChange, DecisionRecord, DocumentData,
    Envelope, JobKind, NewChange, RenderWebhook, Store, StoreError, WebhookEvent,
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

/// The outbox's bodies as these tests read them, from what the store hands the service's
/// renderer: the envelope and the typed event.
fn outbox() -> Option<RenderWebhook> {
    Some(Arc::new(|env: &Envelope<'_>, event: &WebhookEvent<'_>| {
        let data = match event {
            WebhookEvent::CaseStatusChanged { case, previous, .. } => serde_json::json!({
                "status": case.status.as_str(),
                "previous_status": previous.as_str(),
                "reasons": case.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                "retry_after": case.retry_after,
            }),
            WebhookEvent::ChangeRequestStatusChanged { request, .. } => {
                serde_json::json!({"status": request.status.as_str()})
            }
            WebhookEvent::ScreeningMatch {
                source,
                version,
                entities,
                ..
            } => serde_json::json!({"list": [source, version], "entities": entities}),
            WebhookEvent::BusinessStatusChanged { business, previous } => serde_json::json!({
                "status": business.status.as_str(),
                "previous_status": previous.as_str(),
            }),
        };
        serde_json::json!({"id": env.id, "sequence": env.sequence, "data": data}).to_string()
    }))
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
    a_waiting_case_knows_its_place_and_the_recent_pace,
    a_sqlite_store_backs_itself_up_and_postgres_says_pg_dump,
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
    list_versions_replace_a_source_whole_and_keep_their_diffs,
    imports_of_one_source_run_one_after_the_other,
    applicant_sessions_expire_and_revoke,
    a_reviewers_approval_clears_the_screening_matches_it_names,
    invitations_make_accounts_once_and_sessions_expire,
    the_queue_filters_and_sorts_in_one_query,
    a_case_keeps_one_evidence_record,
    monitoring_opens_one_review_per_version_and_a_rejection_withdraws,
    an_erasure_releases_every_object_and_retention_only_old_decided_ones,
    businesses_add_parties_and_checked_relations,
    a_business_moves_by_its_state_machine_and_its_peoples_decisions_queue_evaluations,
);

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

fn keys(doc: &str, person: &str) -> Vec<IdentityKey> {
    vec![
        IdentityKey::new(KeyKind::Document, doc),
        IdentityKey::new(KeyKind::Person, person),
    ]
}

fn record<'a>(
    uid: &'a str,
    outcome: &'a str,
    keys: &'a [IdentityKey],
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
    let findings = r#"[{"code":"COMPLIANCE_REVIEW","subject":"selfie"}]"#;
    worker_decides(store, &c.id, uid, Decision::Review, &reasons, findings, &k).await;
    (a.id, c.id)
}

/// The worker's decision of a processing case, as the checks decided it.
async fn worker_decides(
    store: &Store,
    case: &str,
    uid: &str,
    decision: Decision,
    reasons: &[ReasonCode],
    findings: &str,
    k: &[IdentityKey],
) {
    let outcome = match decision {
        Decision::Review => "in_review",
        Decision::Reject => "rejected",
        Decision::Retry => "resubmission_requested",
        Decision::Approve => "approved",
    };
    store
        .decide_case(&CaseDecision {
            case_id: case,
            event: CaseEvent::Decide(decision),
            actor: "worker",
            reasons,
            findings: Some(findings),
            reviewer_id: None,
            comments: &[],
            record: Some(record(uid, outcome, k, ClaimChange::Pending)),
            checked: true,
            retry_after: None,
            cleared_matches: &[],
        })
        .await
        .unwrap();
}

/// A reviewer's approval with comments for the applicant and for reviewers.
fn approval<'a>(
    case: &'a str,
    reviewer: &'a str,
    keys: &'a [IdentityKey],
    steps: &'a [&'a str],
) -> CaseDecision<'a> {
    CaseDecision {
        case_id: case,
        event: CaseEvent::ReviewerDecide(Decision::Approve),
        actor: "reviewer",
        reasons: &[],
        findings: None,
        reviewer_id: Some(reviewer),
        comments: &[
            (Visibility::Applicant, "welcome"),
            (Visibility::Internal, "portrait matches"),
        ],
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
        cleared_matches: &[],
    }
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
