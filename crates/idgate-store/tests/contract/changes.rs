//! Change requests: verified data replaced once, after two reviewers.

use super::*;

pub(crate) async fn change_requests_replace_verified_data_once_approved(db: Db) {
    let store = db.store.clone().with_webhooks(outbox());
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
    let r = store
        .create_reviewer("rv", ReviewerRole::Reviewer, "hv")
        .await
        .unwrap();
    let r2 = store
        .create_reviewer("rw", ReviewerRole::Reviewer, "hw")
        .await
        .unwrap();
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
            cleared_matches: &[],
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
        jobs.contains(&(JobKind::CheckChangeRequest, id_change.id.clone())),
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
