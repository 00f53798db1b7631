//! Sanctions and PEP list versions: each import a version with its diff; a source's
//! entities replaced whole; the generation a screen reloads on.

use super::*;
use idgate_store::{ListChanges, ListEntity};

fn entity(id: &str, digest: &str) -> ListEntity {
    ListEntity {
        entity_id: id.into(),
        digest: digest.into(),
        record: format!("{{\"id\":\"{id}\"}}"),
    }
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
            &[entity("un:1", "d1"), entity("un:2", "d2")],
            &ListChanges {
                added: vec!["un:1".into(), "un:2".into()],
                ..ListChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((v1.version, v1.entities), (1, 2));
    db.store
        .import_list(
            "peps",
            "csv",
            &"b".repeat(64),
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
            &[entity("un:2", "d2b"), entity("un:3", "d3")],
            &ListChanges {
                added: vec!["un:3".into()],
                changed: vec!["un:2".into()],
                removed: vec!["un:1".into()],
            },
        )
        .await
        .unwrap();
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
