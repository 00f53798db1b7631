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
