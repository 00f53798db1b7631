//! Business applicants: one per uid, their parties (a person once per business), and
//! relations added only when the caller's check of the whole structure accepts them, each
//! check seeing what the ones before it added, even when they race.

use super::*;
use idgate_store::{BusinessData, EntityParty, NewParty};

fn acme(uid: &str) -> BusinessData {
    BusinessData {
        uid: uid.into(),
        kind: "private_company".into(),
        legal_name: "Acme Trading Ltd".into(),
        registration_number: "01234567".into(),
        jurisdiction: "GB".into(),
        incorporated_on: "2015-03-02".into(),
        registered_address: "1 High Street, London".into(),
        operating_address: None,
        tax_number: Some("GB123456789".into()),
        lei: Some("506700GE1G29325QX363".into()),
    }
}

fn holdco() -> NewParty {
    NewParty::Entity(EntityParty {
        kind: "private_company".into(),
        name: "Acme Holdings Ltd".into(),
        registration_number: "7654321".into(),
        jurisdiction: "GB".into(),
    })
}

/// The caller's check in these tests: shares of the business at most 100 %.
fn at_most_whole(
    _: &[idgate_store::BusinessParty],
    relations: &[idgate_store::BusinessRelation],
) -> Result<(), String> {
    let total: i64 = relations
        .iter()
        .filter(|r| r.of_party_id.is_none())
        .filter_map(|r| r.share_ppm)
        .sum();
    if total > 1_000_000 {
        Err(format!("{total}"))
    } else {
        Ok(())
    }
}

pub(crate) async fn businesses_add_parties_and_checked_relations(db: Db) {
    let s = &db.store;
    let b = s.create_business(acme("biz-1")).await.unwrap();
    assert_eq!(s.business(&b.id).await.unwrap(), Some(b.clone()));
    assert!(matches!(
        s.create_business(acme("biz-1")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(s.business("nope").await.unwrap().is_none());

    let ann = s.create_applicant("ann", "GB").await.unwrap();
    let p_ann = s
        .add_party(
            &b.id,
            NewParty::Person {
                applicant_id: ann.id.clone(),
                declared_blob: "declared/ann".into(),
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        s.add_party(
            &b.id,
            NewParty::Person {
                applicant_id: ann.id.clone(),
                declared_blob: "declared/ann-2".into(),
            },
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    let p_hold = s.add_party(&b.id, holdco()).await.unwrap();
    assert!(matches!(
        s.add_party("nope", holdco()).await,
        Err(StoreError::NotFound { .. })
    ));
    let parties = s.parties_of(&b.id).await.unwrap();
    assert_eq!(parties, [p_ann.clone(), p_hold.clone()]);
    assert_eq!(
        parties[1].entity.as_ref().unwrap().name,
        "Acme Holdings Ltd"
    );

    let r1 = s
        .add_relation(
            &b.id,
            &p_hold.id,
            "shareholder",
            None,
            Some(600_000),
            at_most_whole,
        )
        .await
        .unwrap()
        .unwrap();
    // The check sees the new relation last, beside what is there.
    let refused = s
        .add_relation(
            &b.id,
            &p_ann.id,
            "shareholder",
            None,
            Some(500_000),
            |_, rs| {
                assert_eq!(rs.len(), 2);
                assert_eq!(rs[0], r1);
                at_most_whole(&[], rs)
            },
        )
        .await
        .unwrap();
    assert_eq!(refused, Err("1100000".to_string()));
    assert_eq!(
        s.relations_of(&b.id).await.unwrap(),
        std::slice::from_ref(&r1)
    );
    let r2 = s
        .add_relation(
            &b.id,
            &p_ann.id,
            "shareholder",
            Some(&p_hold.id),
            Some(1_000_000),
            at_most_whole,
        )
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        s.add_relation(
            &b.id,
            &p_hold.id,
            "shareholder",
            None,
            Some(1),
            at_most_whole
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    let r3 = s
        .add_relation(&b.id, &p_ann.id, "director", None, None, at_most_whole)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.relations_of(&b.id).await.unwrap(),
        [r1.clone(), r2, r3.clone()]
    );
    assert!(s.remove_relation(&b.id, &r3.id).await.unwrap());
    assert!(!s.remove_relation(&b.id, &r3.id).await.unwrap());
    assert_eq!(s.relations_of(&b.id).await.unwrap().len(), 2);
    // A party relations name stays; one nobody names goes.
    assert!(matches!(
        s.remove_party(&b.id, &p_hold.id).await,
        Err(StoreError::Conflict(_))
    ));
    let spare = s.add_party(&b.id, holdco()).await.unwrap();
    assert_eq!(
        s.remove_party(&b.id, &spare.id).await.unwrap(),
        Some(spare.clone())
    );
    assert_eq!(s.remove_party(&b.id, &spare.id).await.unwrap(), None);
    assert_eq!(s.parties_of(&b.id).await.unwrap().len(), 2);

    // Racing requests: each adds 30 % of the business; only one more fits under 100 %.
    let b2 = s.create_business(acme("biz-2")).await.unwrap();
    let mut holders = Vec::new();
    for _ in 0..4 {
        holders.push(s.add_party(&b2.id, holdco()).await.unwrap());
    }
    s.add_relation(
        &b2.id,
        &holders[0].id,
        "shareholder",
        None,
        Some(400_000),
        at_most_whole,
    )
    .await
    .unwrap()
    .unwrap();
    let tries = holders[1..].iter().map(|h| {
        let s = s.clone();
        let (b, h) = (b2.id.clone(), h.id.clone());
        tokio::spawn(async move {
            s.add_relation(&b, &h, "shareholder", None, Some(300_000), at_most_whole)
                .await
        })
    });
    let mut added = 0;
    for t in tries {
        match t.await.unwrap() {
            Ok(Ok(_)) => added += 1,
            Ok(Err(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(added, 2);
    let total: i64 = s
        .relations_of(&b2.id)
        .await
        .unwrap()
        .iter()
        .filter_map(|r| r.share_ppm)
        .sum();
    assert_eq!(total, 1_000_000);
}

pub(crate) async fn a_business_moves_by_its_state_machine_and_its_peoples_decisions_queue_evaluations(
    db: Db,
) {
    use idgate_core::{BusinessEvent, BusinessStatus, Evaluation};
    use idgate_store::{DocumentPage, JobKind};
    let s = db.store.clone().with_webhooks(outbox());
    let b = s.create_business(acme("biz-flow")).await.unwrap();
    assert_eq!(b.status, BusinessStatus::Draft);
    let page = |n: i64| DocumentPage {
        page: n,
        blob_key: format!("blobs/page-{n}"),
        content_type: "application/pdf".into(),
        size_bytes: 100 + n,
        sha256: "ab".repeat(32),
    };
    let d = s
        .add_business_document(
            &b.id,
            "articles",
            Some("2015-03-02"),
            vec![page(1), page(2)],
        )
        .await
        .unwrap();
    let docs = s.business_documents(&b.id).await.unwrap();
    assert_eq!(docs, std::slice::from_ref(&d));
    assert_eq!(docs[0].pages, [page(1), page(2)]);
    assert!(matches!(
        s.judge_business_document(&b.id, &d.id, true, "reviewer:rita", None)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let person = s.create_applicant("party-p", "DE").await.unwrap();
    s.add_party(
        &b.id,
        NewParty::Person {
            applicant_id: person.id.clone(),
            declared_blob: "declared/p".into(),
        },
    )
    .await
    .unwrap();
    let seen = s.business(&b.id).await.unwrap().unwrap().updated_at;
    db.clock.advance_ms(1_000);
    s.add_party(&b.id, holdco()).await.unwrap();
    // Something changed since the evaluation: nothing moves.
    assert!(matches!(
        s.transition_business(
            &b.id,
            BusinessEvent::Submit(Evaluation::AwaitParties),
            "api",
            "[]",
            Some(seen)
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    let seen = s.business(&b.id).await.unwrap().unwrap().updated_at;
    let moved = s
        .transition_business(
            &b.id,
            BusinessEvent::Submit(Evaluation::AwaitParties),
            "api",
            r#"[{"code":"BENEFICIAL_OWNER_NOT_VERIFIED"}]"#,
            Some(seen),
        )
        .await
        .unwrap();
    assert_eq!(moved.status, BusinessStatus::AwaitingParties);
    assert!(moved.findings.contains("BENEFICIAL_OWNER_NOT_VERIFIED"));
    assert!(matches!(
        s.add_party(&b.id, holdco()).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.transition_business(&b.id, BusinessEvent::Approve, "reviewer:rita", "[]", None)
            .await,
        Err(StoreError::BusinessTransition(_))
    ));
    let trail = s.audit_events(&b.id).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].to_status.as_deref(), Some("awaiting_parties"));

    // The person's case is decided: an evaluation of the business is queued with it.
    let c = s.create_case(&person.id, "basic", "api").await.unwrap();
    s.add_document(doc(&c.id), "api").await.unwrap();
    s.submit(&c.id, "api").await.unwrap();
    let job = s.claim_job(60_000).await.unwrap().unwrap();
    assert_eq!(job.kind, JobKind::ProcessCase);
    s.transition(&c.id, CaseEvent::StartProcessing, "worker", None)
        .await
        .unwrap();
    let k = keys("doc-p", "person-p");
    worker_decides(
        &s,
        &c.id,
        "party-p",
        Decision::Reject,
        &[ReasonCode::Underage],
        "[]",
        &k,
    )
    .await;
    s.complete_job(&job.id).await.unwrap();
    let job = s.claim_job(60_000).await.unwrap().unwrap();
    assert_eq!(
        (job.kind, job.case_id.as_str()),
        (JobKind::EvaluateBusiness, b.id.as_str())
    );
    assert!(s.claim_job(60_000).await.unwrap().is_none());
    let moved = s
        .transition_business(
            &b.id,
            BusinessEvent::PartiesChanged(Evaluation::Review),
            "worker",
            "[]",
            None,
        )
        .await
        .unwrap();
    assert_eq!(moved.status, BusinessStatus::InReview);
    s.judge_business_document(&b.id, &d.id, false, "reviewer:rita", Some("illegible"))
        .await
        .unwrap();
    let judged = &s.business_documents(&b.id).await.unwrap()[0];
    assert_eq!(
        (
            judged.state.as_str(),
            judged.note.as_deref(),
            judged.judged_by.as_deref()
        ),
        ("rejected", Some("illegible"), Some("reviewer:rita"))
    );
    assert!(matches!(
        s.judge_business_document(&b.id, "nope", true, "reviewer:rita", None)
            .await,
        Err(StoreError::NotFound { .. })
    ));
}
