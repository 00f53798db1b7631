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
