//! Sanctions and PEP list versions: each import a version with its diff; a source's
//! entities replaced whole; the generation a screen reloads on.

use super::*;
use idgate_store::{ListChanges, ListEntity, ListImport, ListVersion};

fn entity(id: &str, digest: &str) -> ListEntity {
    ListEntity {
        entity_id: id.into(),
        digest: digest.into(),
        record: format!("{{\"id\":\"{id}\"}}"),
    }
}

fn new_version(i: ListImport) -> ListVersion {
    match i {
        ListImport::New(v) => v,
        other => panic!("no new version: {other:?}"),
    }
}

/// Two workers refreshing one list at once: the same file is stored once, and of two
/// imports computed against the same version only the first is stored (the second is
/// told to read again), whichever engine; a large list is written whole.
pub(crate) async fn imports_of_one_source_run_one_after_the_other(db: Db) {
    let many: Vec<ListEntity> = (0..2_500)
        .map(|i| entity(&format!("un:{i}"), &format!("d{i}")))
        .collect();
    let added = ListChanges {
        added: many.iter().map(|e| e.entity_id.clone()).collect(),
        ..ListChanges::default()
    };
    let (sha_a, sha_b, sha_c, sha_d) = (
        "a".repeat(64),
        "b".repeat(64),
        "c".repeat(64),
        "d".repeat(64),
    );
    let (a, b) = tokio::join!(
        db.store
            .import_list("un", "un_xml", &sha_a, None, &many, &added),
        db.store
            .import_list("un", "un_xml", &sha_a, None, &many, &added),
    );
    let mut outcomes = [a.unwrap(), b.unwrap()];
    outcomes.sort_by_key(|o| matches!(o, ListImport::New(_)));
    assert!(
        matches!(
            outcomes,
            [
                ListImport::Unchanged(1) | ListImport::Stale,
                ListImport::New(_)
            ]
        ),
        "{outcomes:?}"
    );
    assert_eq!(
        db.store.list_head("un").await.unwrap(),
        Some((1, sha_a.clone()))
    );
    assert_eq!(db.store.list_digests("un").await.unwrap().len(), 2_500);
    // Two different files, both computed against version 1.
    let one = [entity("un:1", "d1")];
    let none = ListChanges::default();
    let (b, c) = tokio::join!(
        db.store
            .import_list("un", "un_xml", &sha_b, Some(1), &one, &none),
        db.store
            .import_list("un", "un_xml", &sha_c, Some(1), &one, &none),
    );
    let mut outcomes = [b.unwrap(), c.unwrap()];
    outcomes.sort_by_key(|o| matches!(o, ListImport::New(_)));
    assert!(
        matches!(&outcomes, [ListImport::Stale, ListImport::New(v)] if v.version == 2),
        "{outcomes:?}"
    );
    // Stale against a version that is no longer the newest, unchanged for the newest's file.
    let head = db.store.list_head("un").await.unwrap().unwrap();
    assert_eq!(head.0, 2);
    assert_eq!(
        db.store
            .import_list(
                "un",
                "un_xml",
                &sha_d,
                Some(1),
                &one,
                &ListChanges::default()
            )
            .await
            .unwrap(),
        ListImport::Stale
    );
    assert_eq!(
        db.store
            .import_list(
                "un",
                "un_xml",
                &head.1,
                Some(1),
                &one,
                &ListChanges::default()
            )
            .await
            .unwrap(),
        ListImport::Unchanged(2)
    );
    assert_eq!(db.store.list_versions().await.unwrap().len(), 2);
}

pub(crate) async fn list_versions_replace_a_source_whole_and_keep_their_diffs(db: Db) {
    assert_eq!(db.store.screening_generation().await.unwrap(), 0);
    assert!(db.store.list_digests("un").await.unwrap().is_empty());
    let v1 = db
        .store
        .import_list(
            "un",
            "un_xml",
            &"a".repeat(64),
            None,
            &[entity("un:1", "d1"), entity("un:2", "d2")],
            &ListChanges {
                added: vec!["un:1".into(), "un:2".into()],
                ..ListChanges::default()
            },
        )
        .await
        .unwrap();
    let v1 = new_version(v1);
    assert_eq!((v1.version, v1.entities), (1, 2));
    db.store
        .import_list(
            "peps",
            "csv",
            &"b".repeat(64),
            None,
            &[entity("peps:9", "d9")],
            &ListChanges::default(),
        )
        .await
        .unwrap();
    db.clock.advance_ms(1_000);
    let v2 = db
        .store
        .import_list(
            "un",
            "un_xml",
            &"c".repeat(64),
            Some(1),
            &[entity("un:2", "d2b"), entity("un:3", "d3")],
            &ListChanges {
                added: vec!["un:3".into()],
                changed: vec!["un:2".into()],
                removed: vec!["un:1".into()],
            },
        )
        .await
        .unwrap();
    let v2 = new_version(v2);
    assert_eq!(v2.version, 2);
    assert_eq!(db.store.screening_generation().await.unwrap(), 3);
    let digests = db.store.list_digests("un").await.unwrap();
    assert_eq!(
        digests.into_iter().collect::<Vec<_>>(),
        [
            ("un:2".to_string(), "d2b".to_string()),
            ("un:3".to_string(), "d3".to_string())
        ]
    );
    let all: Vec<String> = db
        .store
        .screening_entities()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.entity_id)
        .collect();
    assert_eq!(all, ["peps:9", "un:2", "un:3"]);
    let versions = db.store.list_versions().await.unwrap();
    assert_eq!(versions.len(), 3);
    assert_eq!(
        (versions[0].source.as_str(), versions[0].version),
        ("un", 2)
    );
    assert_eq!(versions[0].removed, ["un:1"]);
    assert_eq!(versions[0].changed, ["un:2"]);
    assert_eq!(versions[0].added, ["un:3"]);
}

pub(crate) async fn a_reviewers_approval_clears_the_screening_matches_it_names(db: Db) {
    let store = db.store.clone();
    let (_, case) = case_in_review(&store, "rev-1").await;
    let r = store
        .create_reviewer("r1", ReviewerRole::Reviewer, "h1")
        .await
        .unwrap();
    store
        .claim_case(&case, &r.id, "reviewer:r1", false)
        .await
        .unwrap();
    let k = keys("doc-r", "person-r");
    let steps = ["identity_document", "selfie"];
    let cleared = vec![
        ("un:1".to_string(), "d1".to_string()),
        ("ofac_sdn:7".to_string(), "d7".to_string()),
    ];
    let mut d = approval(&case, &r.id, &k, &steps);
    d.cleared_matches = &cleared;
    store.decide_case(&d).await.unwrap();
    assert_eq!(
        store.screening_clearances("rev-1").await.unwrap(),
        [
            ("ofac_sdn:7".to_string(), "d7".to_string()),
            ("un:1".to_string(), "d1".to_string())
        ]
    );
    assert!(store
        .screening_clearances("someone-else")
        .await
        .unwrap()
        .is_empty());
}

/// Ongoing monitoring: an import that adds or changes entities queues one re-screen; an
/// approved applicant is monitored; a match opens one review per list version, in review
/// with its webhooks; a confirmed match (a rejection) withdraws the account's steps.
pub(crate) async fn monitoring_opens_one_review_per_version_and_a_rejection_withdraws(db: Db) {
    let store = db.store.clone().with_webhooks(outbox());
    assert!(store.monitored_applicants().await.unwrap().is_empty());
    let (applicant, case) = case_in_review(&store, "rev-1").await;
    let r = store
        .create_reviewer("r1", ReviewerRole::Reviewer, "h1")
        .await
        .unwrap();
    store
        .claim_case(&case, &r.id, "reviewer:r1", false)
        .await
        .unwrap();
    let k = keys("doc-r", "person-r");
    let steps = ["identity_document", "selfie"];
    store
        .decide_case(&approval(&case, &r.id, &k, &steps))
        .await
        .unwrap();
    while let Some(job) = store.claim_job(60_000).await.unwrap() {
        store.complete_job(&job.id).await.unwrap();
    }
    // An import without additions or changes queues nothing; one with them, one re-screen.
    store
        .import_list(
            "un",
            "un_xml",
            &"a".repeat(64),
            None,
            &[],
            &ListChanges::default(),
        )
        .await
        .unwrap();
    assert!(store.claim_job(60_000).await.unwrap().is_none());
    store
        .import_list(
            "un",
            "un_xml",
            &"b".repeat(64),
            Some(1),
            &[entity("un:1", "d1")],
            &ListChanges {
                added: vec!["un:1".into()],
                ..ListChanges::default()
            },
        )
        .await
        .unwrap();
    let job = store.claim_job(60_000).await.unwrap().unwrap();
    assert_eq!(
        (job.kind, job.case_id.as_str()),
        (JobKind::RescreenList, "un:2")
    );
    assert!(store.claim_job(60_000).await.unwrap().is_none());

    let monitored = store.monitored_applicants().await.unwrap();
    assert_eq!(monitored.len(), 1);
    let m = &monitored[0];
    assert_eq!(
        (m.applicant_id.as_str(), m.uid.as_str(), m.level.as_str()),
        (applicant.as_str(), "rev-1", "basic")
    );
    assert_eq!(m.data_key, "blobs/data-2", "the approved case's data");
    let reasons = [ReasonCode::SanctionsMatch];
    let entities = vec!["un:1".to_string()];
    let alert = idgate_store::ScreeningAlert {
        applicant: m,
        source: "un",
        version: 2,
        reasons: &reasons,
        findings: r#"[{"code":"SANCTIONS_MATCH","subject":"identity"}]"#,
        entities: &entities,
    };
    let opened = store.open_screening_alert(&alert).await.unwrap().unwrap();
    assert_eq!(opened.status, CaseStatus::InReview);
    assert_eq!(opened.origin, idgate_store::CaseOrigin::Monitoring);
    assert_eq!(opened.reasons, [ReasonCode::SanctionsMatch]);
    assert_eq!(opened.data_key.as_deref(), Some("blobs/data-2"));
    assert!(
        opened.checked,
        "a reviewer may approve it (a false positive)"
    );
    assert!(
        store.open_screening_alert(&alert).await.unwrap().is_none(),
        "a re-run of the same version's re-screen opens nothing"
    );
    let stored = store.case(&opened.id).await.unwrap().unwrap();
    assert_eq!(stored, opened);
    let (findings, _) = store.case_findings(&opened.id).await.unwrap();
    assert!(findings.contains("SANCTIONS_MATCH"), "{findings}");
    let events: Vec<(String, i64)> = store
        .webhook_deliveries(50)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.subject == opened.id)
        .map(|d| (d.event_type, d.seq))
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.contains(&("case.status_changed".into(), 1)));
    assert!(events.contains(&("applicant.screening_match".into(), 2)));
    let queue = store.review_queue(10).await.unwrap();
    assert!(queue.iter().any(|q| q.id == opened.id));

    // The reviewer confirms the match: rejected for good, the steps are withdrawn.
    store
        .claim_case(&opened.id, &r.id, "reviewer:r1", false)
        .await
        .unwrap();
    let no_keys = [];
    store
        .decide_case(&CaseDecision {
            case_id: &opened.id,
            event: CaseEvent::ReviewerDecide(Decision::Reject),
            actor: "reviewer:r1",
            reasons: &reasons,
            findings: None,
            reviewer_id: Some(&r.id),
            comments: &[],
            record: Some(DecisionRecord {
                reasons: &reasons,
                ..record("rev-1", "rejected", &no_keys, ClaimChange::Release)
            }),
            checked: false,
            retry_after: None,
            cleared_matches: &[],
        })
        .await
        .unwrap();
    assert!(store.verified_steps("rev-1").await.unwrap().is_empty());
    assert!(store.monitored_applicants().await.unwrap().is_empty());
}
