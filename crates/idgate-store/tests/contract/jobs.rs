//! The job queue: one job per submission, leases, retries, concurrent claims.

use super::*;

pub(crate) async fn submit_enqueues_exactly_one_job(db: Db) {
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

pub(crate) async fn an_expired_lease_is_claimed_again(db: Db) {
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

pub(crate) async fn failed_jobs_retry_later_then_give_up(db: Db) {
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

pub(crate) async fn concurrent_claims_never_hand_out_a_job_twice(db: Db) {
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

/// A waiting case's place: the jobs before it in claim order plus those running, 0 once
/// its own runs, nothing once done; and how long the finished ones took.
pub(crate) async fn a_waiting_case_knows_its_place_and_the_recent_pace(db: Db) {
    let mut cases = Vec::new();
    for i in 0..4 {
        let a = db
            .store
            .create_applicant(&format!("uid-q{i}"), "IT")
            .await
            .unwrap();
        let c = db.store.create_case(&a.id, "basic", "t").await.unwrap();
        db.store.submit(&c.id, "t").await.unwrap();
        cases.push(c.id);
        db.clock.advance_ms(10);
    }
    let place = |i: usize| {
        let (store, id) = (&db.store, cases[i].clone());
        async move { store.queue_place(JobKind::ProcessCase, &id).await.unwrap() }
    };
    let p = place(3).await.unwrap();
    assert_eq!((p.ahead, p.running, p.started), (3, 0, false));
    assert_eq!(
        db.store.recent_job_durations(10).await.unwrap(),
        Vec::<i64>::new()
    );
    assert_eq!(p.estimate_secs(&[]), None, "nothing timed yet");
    // A worker takes the first; it takes 4 s.
    let first = db.store.claim_job(60_000).await.unwrap().unwrap();
    assert_eq!(first.case_id, cases[0]);
    let p = place(0).await.unwrap();
    assert_eq!((p.ahead, p.started), (0, true));
    let p = place(3).await.unwrap();
    assert_eq!(
        (p.ahead, p.running),
        (3, 1),
        "two queued before it, one running"
    );
    db.clock.advance_ms(4_000);
    db.store.complete_job(&first.id).await.unwrap();
    assert_eq!(place(0).await, None, "done: no longer waiting");
    let second = db.store.claim_job(60_000).await.unwrap().unwrap();
    db.clock.advance_ms(2_000);
    db.store.complete_job(&second.id).await.unwrap();
    assert_eq!(
        db.store.recent_job_durations(10).await.unwrap(),
        vec![2_000, 4_000]
    );
    assert_eq!(db.store.recent_job_durations(1).await.unwrap(), vec![2_000]);
    // Case 3 has case 2 before it: two rounds of 3 s on average.
    let p = place(3).await.unwrap();
    assert_eq!((p.ahead, p.running), (1, 0));
    assert_eq!(p.estimate_secs(&[2_000, 4_000]), Some(6));
    // A job put back for a retry later goes behind those due now.
    let third = db.store.claim_job(60_000).await.unwrap().unwrap();
    assert_eq!(third.case_id, cases[2]);
    db.store
        .fail_job(
            &third.id,
            "blob_unavailable",
            Some(db.clock.now_ms() + 60_000),
        )
        .await
        .unwrap();
    assert_eq!(place(3).await.unwrap().ahead, 0);
    assert_eq!(place(2).await.unwrap().ahead, 1);
    // A job marked done without a worker (decided in-process) is not timed.
    db.store.complete_queued_jobs_of(&cases[3]).await.unwrap();
    assert_eq!(db.store.recent_job_durations(10).await.unwrap().len(), 2);
}

/// A SQLite store copies itself while open, and the copy holds what it held; PostgreSQL
/// says to use pg_dump.
pub(crate) async fn a_sqlite_store_backs_itself_up_and_postgres_says_pg_dump(db: Db) {
    let a = db.store.create_applicant("uid-bk", "FR").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    match db.store.dialect() {
        idgate_store::Dialect::Sqlite => {
            db.store.backup_into(&copy).await.unwrap();
            let url = format!("sqlite://{}", copy.display());
            let restored = Store::connect(&url, db.clock.clone()).await.unwrap();
            let back = restored.applicant_by_uid("uid-bk").await.unwrap().unwrap();
            assert_eq!(back.id, a.id);
            assert!(
                db.store.backup_into(&copy).await.is_err(),
                "never over a file"
            );
        }
        idgate_store::Dialect::Postgres => {
            let e = db.store.backup_into(&copy).await.unwrap_err();
            assert!(e.to_string().contains("pg_dump"), "{e}");
            assert!(!copy.exists());
        }
    }
}
