//! The ownership computation on small structures whose owners are known by hand.

use super::*;

fn person(id: &str) -> Party {
    Party {
        id: id.into(),
        entity_kind: None,
    }
}
fn entity(id: &str, kind: &str) -> Party {
    Party {
        id: id.into(),
        entity_kind: Some(kind.into()),
    }
}
fn holds(party: &str, of: Option<&str>, percent: f64) -> Relation {
    Relation {
        party: party.into(),
        role: Role::Shareholder,
        of: of.map(str::to_string),
        share: Some((percent * 10_000.0).round() as u32),
    }
}
fn role(party: &str, role: Role, of: Option<&str>) -> Relation {
    Relation {
        party: party.into(),
        role,
        of: of.map(str::to_string),
        share: None,
    }
}
fn companies_declare(kind: &str) -> bool {
    kind == "private_company"
}
fn owners_of(s: &Structure, required: &[Role]) -> Ownership {
    s.beneficial_owners(&Rules {
        threshold_percent: 25.0,
        declares_holdings: &companies_declare,
        required_roles: required,
    })
    .unwrap()
}

#[test]
fn a_three_level_chain_multiplies_and_adds_shares() {
    // Ann holds 60 % of HoldCo A, which holds 50 % of the business (30 %); she also
    // holds 40 % of HoldCo B, which holds 80 % of C, which holds 50 % of the business
    // (16 %): 46 % in all. Bob holds 40 % of A (20 %) and 60 % of B (24 %): 44 %.
    // Carl holds 20 % of C (10 %), not a beneficial owner.
    let s = Structure {
        kind: "private_company".into(),
        parties: vec![
            person("ann"),
            person("bob"),
            person("carl"),
            entity("a", "private_company"),
            entity("b", "private_company"),
            entity("c", "private_company"),
        ],
        relations: vec![
            holds("a", None, 50.0),
            holds("c", None, 50.0),
            holds("ann", Some("a"), 60.0),
            holds("bob", Some("a"), 40.0),
            holds("b", Some("c"), 80.0),
            holds("carl", Some("c"), 20.0),
            holds("ann", Some("b"), 40.0),
            holds("bob", Some("b"), 60.0),
            role("carl", Role::Director, None),
        ],
    };
    let o = owners_of(&s, &[Role::Director]);
    let got: Vec<(&str, i64)> = o
        .owners
        .iter()
        .map(|b| (b.party.as_str(), (b.percent * 100.0).round() as i64))
        .collect();
    assert_eq!(got, [("ann", 4600), ("bob", 4400)]);
    assert!(o.owners.iter().all(|b| b.grounds == [Ground::Ownership]));
    assert_eq!(o.owners[0].direct_percent, 0.0);
    assert!(o.complete(), "{o:?}");
}

#[test]
fn exactly_the_threshold_is_not_more_than_it() {
    let s = Structure {
        kind: "private_company".into(),
        parties: vec![person("ann"), person("bob"), person("cy"), person("di")],
        relations: vec![
            holds("ann", None, 25.0),
            holds("bob", None, 25.0),
            holds("cy", None, 25.0),
            holds("di", None, 25.0),
            role("di", Role::Director, None),
        ],
    };
    let o = owners_of(&s, &[]);
    // Nobody above 25 %: the director stands in as senior managing official.
    assert_eq!(o.owners.len(), 1);
    assert_eq!(o.owners[0].party, "di");
    assert_eq!(o.owners[0].grounds, [Ground::SeniorManagingOfficial]);
    assert!(o.complete());
}

#[test]
fn undeclared_shares_that_could_hide_an_owner_are_a_gap() {
    let s = Structure {
        kind: "private_company".into(),
        parties: vec![person("ann"), entity("h", "private_company")],
        relations: vec![
            holds("ann", None, 60.0),
            // H holds 40 % of the business and declares only 10 % of its own shares:
            // 90 % of H is 36 % of the business, enough to hide an owner.
            holds("h", None, 40.0),
            holds("ann", Some("h"), 10.0),
        ],
    };
    let o = owners_of(&s, &[]);
    assert_eq!(o.gaps.len(), 1);
    assert_eq!(o.gaps[0].entity.as_deref(), Some("h"));
    assert!((o.gaps[0].effective_percent - 36.0).abs() < 1e-9);
    assert!(!o.complete());
    // A trust declares no shareholders: no gap for it.
    let mut t = s.clone();
    t.parties[1].entity_kind = Some("trust".into());
    assert!(owners_of(&t, &[]).gaps.is_empty());
}

#[test]
fn every_party_of_a_trust_is_a_beneficial_owner_whatever_its_share() {
    // The business is 30 % held by a trust; the trust's trustee is a company owned
    // 70 % by Tom; its settlor and a 1 % beneficiary are people.
    let s = Structure {
        kind: "private_company".into(),
        parties: vec![
            entity("family trust", "trust"),
            entity("trustco", "private_company"),
            person("tom"),
            person("sue"),
            person("ben"),
            person("ann"),
        ],
        relations: vec![
            holds("family trust", None, 30.0),
            holds("ann", None, 70.0),
            role("trustco", Role::Trustee, Some("family trust")),
            holds("tom", Some("trustco"), 70.0),
            role("sue", Role::Settlor, Some("family trust")),
            role("ben", Role::Beneficiary, Some("family trust")),
        ],
    };
    let o = owners_of(&s, &[]);
    let find = |id: &str| o.owners.iter().find(|b| b.party == id).unwrap();
    assert_eq!(find("ann").grounds, [Ground::Ownership]);
    assert!(matches!(
        find("sue").grounds[0],
        Ground::TrustParty {
            role: Role::Settlor,
            ..
        }
    ));
    assert!(matches!(
        &find("tom").grounds[0],
        Ground::BehindTrustParty { entity, .. } if entity == "trustco"
    ));
    assert!(o.owners.iter().any(|b| b.party == "ben"));
    assert_eq!(o.owners.len(), 4);

    // The business is itself a trust.
    let deed = Structure {
        kind: "trust".into(),
        parties: vec![person("t"), person("s"), person("p")],
        relations: vec![
            role("t", Role::Trustee, None),
            role("s", Role::Settlor, None),
            role("p", Role::Protector, None),
        ],
    };
    let o = owners_of(&deed, &[Role::Trustee, Role::Settlor]);
    assert_eq!(o.owners.len(), 3);
    assert!(o.complete());
    let o = owners_of(&deed, &[Role::Trustee, Role::FundManager]);
    assert_eq!(o.missing_roles, [Role::FundManager]);
}

#[test]
fn impossible_structures_are_refused_with_what_is_wrong() {
    let base = Structure {
        kind: "private_company".into(),
        parties: vec![
            person("ann"),
            entity("a", "private_company"),
            entity("b", "private_company"),
        ],
        relations: vec![holds("a", None, 60.0), holds("b", Some("a"), 50.0)],
    };
    assert_eq!(base.check(), Ok(()));
    let with = |r: Relation| {
        let mut s = base.clone();
        s.relations.push(r);
        s.check()
    };
    assert_eq!(
        with(holds("a", Some("b"), 10.0)),
        Err(StructureError::Cycle(vec![
            "a".into(),
            "b".into(),
            "a".into()
        ]))
    );
    assert!(matches!(
        with(holds("ann", None, 40.5)),
        Err(StructureError::OverWhole {
            total: 1_005_000,
            ..
        })
    ));
    assert_eq!(
        with(holds("a", Some("ann"), 10.0)),
        Err(StructureError::OfPerson("ann".into()))
    );
    assert_eq!(
        with(holds("zed", None, 1.0)),
        Err(StructureError::UnknownParty("zed".into()))
    );
    assert_eq!(
        with(holds("a", Some("a"), 1.0)),
        Err(StructureError::SelfRelation { party: "a".into() })
    );
    assert_eq!(with(holds("ann", None, 0.0)), Err(StructureError::Share));
    let mut director_with_share = role("ann", Role::Director, None);
    director_with_share.share = Some(10);
    assert_eq!(with(director_with_share), Err(StructureError::Share));
    // The business itself is no party: it cannot be declared a holder.
    assert!(matches!(
        with(holds("the business", Some("b"), 5.0)),
        Err(StructureError::UnknownParty(_))
    ));
}

#[test]
fn a_chain_of_two_thousand_entities_does_not_exhaust_the_stack() {
    let n = 2000;
    let mut parties: Vec<Party> = (0..n)
        .map(|i| entity(&format!("e{i}"), "private_company"))
        .collect();
    parties.push(person("p"));
    let mut relations = vec![holds("e0", None, 100.0)];
    for i in 1..n {
        relations.push(holds(&format!("e{i}"), Some(&format!("e{}", i - 1)), 100.0));
    }
    relations.push(holds("p", Some(&format!("e{}", n - 1)), 100.0));
    let s = Structure {
        kind: "private_company".into(),
        parties,
        relations,
    };
    let o = owners_of(&s, &[]);
    assert_eq!(o.owners.len(), 1);
    assert!((o.owners[0].percent - 100.0).abs() < 1e-6);
}
