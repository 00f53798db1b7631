//! Reviewers claim and decide; the webhook outbox written in the same transaction.

use super::*;

pub(crate) async fn reviewers_claim_and_decide_cases_with_the_outbox_written(db: Db) {
    let store = db.store.clone().with_webhooks(outbox());
    let (applicant, case) = case_in_review(&store, "rev-1").await;
    assert!(matches!(
        store.set_case_data(&case, "blobs/late", "api").await,
        Err(StoreError::Conflict(_))
    ));
    let r1 = store
        .create_reviewer("r1", ReviewerRole::Reviewer, "h1")
        .await
        .unwrap();
    let r2 = store
        .create_reviewer("r2", ReviewerRole::Supervisor, "h2")
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_reviewer("r1", ReviewerRole::Auditor, "h3")
            .await,
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
    assert_eq!(stored_keys, keys("doc-r", "person-r"));
    assert_eq!(
        store.claims_on(&["doc-r".into()], "x").await.unwrap()[0].status,
        ClaimStatus::Verified
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

/// A case that reached review without the pipeline's decision (its checks could not run)
/// is never approved: a reviewer may only send it back or reject it. The cooldown of a
/// retry is kept on the case and told in its webhook.
pub(crate) async fn only_a_case_the_checks_decided_can_be_approved(db: Db) {
    let store = db.store.clone().with_webhooks(outbox());
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
    let r = store
        .create_reviewer("rv", ReviewerRole::Reviewer, "hv")
        .await
        .unwrap();
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
            cleared_matches: &[],
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
            cleared_matches: &[],
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
        ClaimStatus::Verified,
        "the approval recorded the identity keys"
    );
}

pub(crate) async fn the_queue_filters_and_sorts_in_one_query(db: Db) {
    let s = &db.store;
    let (_, c1) = case_in_review(s, "q-1").await;
    db.clock.advance_ms(60 * 60_000);
    let (_, c2) = case_in_review(s, "q-2").await;
    db.clock.advance_ms(10 * 60_000);
    let r = s
        .create_reviewer("holder", ReviewerRole::Reviewer, "hq")
        .await
        .unwrap();
    s.claim_case(&c2, &r.id, "reviewer:holder", false)
        .await
        .unwrap();
    let all = idgate_store::QueueFilter {
        level: None,
        reason: None,
        region: None,
        holder: idgate_store::Holder::Any,
        waited_at_least_ms: None,
        newest_first: false,
        limit: 50,
    };
    let ids = |v: Vec<idgate_store::QueueEntry>| -> Vec<String> {
        v.into_iter().map(|e| e.case.id).collect()
    };
    let got = s.review_queue_filtered(&all).await.unwrap();
    assert_eq!(got[0].uid, "q-1");
    assert_eq!(got[0].region, "DE");
    assert_eq!(got[1].holder_name.as_deref(), Some("holder"));
    assert_eq!(ids(got), [c1.clone(), c2.clone()]);
    let store = &db.store;
    let run = |f: idgate_store::QueueFilter<'static>| async move {
        ids(store.review_queue_filtered(&f).await.unwrap())
    };
    assert_eq!(
        run(idgate_store::QueueFilter {
            newest_first: true,
            ..all.clone()
        })
        .await,
        [c2.clone(), c1.clone()]
    );
    assert_eq!(
        run(idgate_store::QueueFilter {
            holder: idgate_store::Holder::Unclaimed,
            ..all.clone()
        })
        .await,
        std::slice::from_ref(&c1)
    );
    let rid: &'static str = Box::leak(r.id.clone().into_boxed_str());
    assert_eq!(
        run(idgate_store::QueueFilter {
            holder: idgate_store::Holder::Reviewer(rid),
            ..all.clone()
        })
        .await,
        std::slice::from_ref(&c2)
    );
    // c1 has waited 70 minutes, c2 about 10 (the claim does not restart the wait).
    assert_eq!(
        run(idgate_store::QueueFilter {
            waited_at_least_ms: Some(30 * 60_000),
            ..all.clone()
        })
        .await,
        std::slice::from_ref(&c1)
    );
    assert_eq!(
        run(idgate_store::QueueFilter {
            reason: Some(ReasonCode::ComplianceReview),
            ..all.clone()
        })
        .await
        .len(),
        2
    );
    assert!(run(idgate_store::QueueFilter {
        reason: Some(ReasonCode::SanctionsMatch),
        ..all.clone()
    })
    .await
    .is_empty());
    assert!(run(idgate_store::QueueFilter {
        region: Some("FR"),
        ..all.clone()
    })
    .await
    .is_empty());
    assert_eq!(
        run(idgate_store::QueueFilter {
            region: Some("DE"),
            level: Some("basic"),
            ..all.clone()
        })
        .await
        .len(),
        2
    );
    assert!(run(idgate_store::QueueFilter {
        level: Some("full"),
        ..all.clone()
    })
    .await
    .is_empty());
    assert_eq!(
        run(idgate_store::QueueFilter {
            limit: 1,
            ..all.clone()
        })
        .await,
        [c1]
    );
}
