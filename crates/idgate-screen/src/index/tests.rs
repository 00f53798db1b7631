use super::*;

fn person(id: &str, names: &[&str]) -> Entity {
    let mut e = Entity::new(id.into(), EntityKind::Person, Topic::Sanction);
    for n in names {
        e.add_name(n);
    }
    e
}

fn query(name: &str) -> Query {
    Query {
        names: vec![name.to_string()],
        ..Query::default()
    }
}

#[test]
fn the_listed_person_is_found_by_an_alias_and_says_which() {
    let mut e = person("un:1", &["ERIC BADEGE", "Eric Badeghe"]);
    e.add_birth_date(PartialDate::year(1971));
    let idx = Index::new([e, person("un:2", &["FRANK KAKOLELE BWAMBALE"])]);
    let s = Settings::default();
    let m = idx.screen(&query("Eric Badeghe"), &s);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].entity_id, "un:1");
    assert_eq!(m[0].listed_name, "Eric Badeghe");
    assert_eq!(m[0].score, 1.0);
    assert!(idx.screen(&query("Patricia Wheeler"), &s).is_empty());
}

#[test]
fn qualifiers_move_the_score_and_are_named() {
    let mut e = person("un:1", &["ERIC BADEGE"]);
    e.add_birth_date(PartialDate::parse_iso("1971-03-02").unwrap());
    e.add_nationality("Democratic Republic of the Congo");
    e.gender = Some('M');
    let idx = Index::new([e]);
    let s = Settings::default();
    let mut q = query("Eric Badege");
    let plain = idx.candidates(&q, &s)[0].score;
    q.birth_date = PartialDate::parse_iso("1985-01-01");
    q.nationalities = vec!["FR".into()];
    let m = &idx.candidates(&q, &s)[0];
    let named: Vec<&str> = m.adjustments.iter().map(|a| a.qualifier.as_str()).collect();
    assert_eq!(named, ["birth_date_mismatch", "nationality_mismatch"]);
    assert!(m.score < plain && m.score < s.threshold);
    q.birth_date = PartialDate::parse_iso("1971-03-02");
    q.nationalities = vec!["COD".into()];
    let m = &idx.candidates(&q, &s)[0];
    assert!(m.score >= plain, "{:?}", m.adjustments);
    q.gender = Some('F');
    assert!(idx.candidates(&q, &s)[0].score < m.score);
}

#[test]
fn an_identifier_matches_whatever_the_name() {
    let mut e = person("ofac:1", &["SOMEONE ELSE"]);
    e.add_identifier("A1234567");
    let idx = Index::new([e]);
    let mut q = query("Totally Different");
    q.identifiers = vec!["a 123 4567".into()];
    let m = idx.screen(&q, &Settings::default());
    assert_eq!(m.len(), 1);
    assert!(m[0].identifier);
}

#[test]
fn organisations_never_match_a_person() {
    let mut org = person("ofac:2", &["ERIC BADEGE"]);
    org.kind = EntityKind::Organization;
    let idx = Index::new([org]);
    assert!(idx
        .screen(&query("Eric Badege"), &Settings::default())
        .is_empty());
}

#[test]
fn the_index_scores_names_as_the_name_comparison_does() {
    let listed = [
        "ABDUL RAHMAN KHALID",
        "MUHAMMAD HASAN",
        "MADURO MOROS, Nicolas",
        "JOSE MANUEL RINCON MOLINA",
        "Иван Петрович Иванов",
        "曾美雲",
    ];
    let idx = Index::new(
        listed
            .iter()
            .enumerate()
            .map(|(i, n)| person(&format!("x:{i}"), &[n])),
    );
    let s = Settings {
        name_floor: 0.0,
        ..Settings::default()
    };
    for q in [
        "Abdulrahman Khalid",
        "Mohammed Hassan",
        "Nicolas Maduro Moros",
        "Jose Manuel Altamirano",
        "Ivan Ivanov",
        "Zeng Meiyun",
    ] {
        let qw = fold::name_words(q);
        let found = idx.candidates(&query(q), &s);
        assert!(!found.is_empty(), "{q}");
        for m in found {
            let l = listed[m.entity_id[2..].parse::<usize>().unwrap()];
            let want = score::names(&qw, &fold::name_words(l));
            assert_eq!(
                m.name_score,
                (want.score * 1000.0).round() / 1000.0,
                "{q} / {l}"
            );
            assert_eq!(
                (m.phonetic, m.joined),
                (want.phonetic, want.joined),
                "{q} / {l}"
            );
        }
    }
}

#[test]
fn many_namesakes_leave_the_one_who_shares_the_rarer_name_in() {
    // Three family names, each borne by 39 people: more people share a sound with the
    // query than are scored, and the one who shares all three ranks first.
    let mut people = Vec::new();
    for family in ["KOWALSKI", "WISNIEWSKI", "LEWANDOWSKI"] {
        for _ in 0..39 {
            let n = people.len();
            people.push(person(
                &format!("x:{n}"),
                &[&format!("{} {family}", given(n))],
            ));
        }
    }
    assert!(people.len() > Settings::default().candidates);
    people.push(person("x:target", &["KOWALSKI WISNIEWSKI LEWANDOWSKI"]));
    let idx = Index::new(people);
    let m = idx.screen(
        &query("Kowalsky Wisniewski Lewandowsky"),
        &Settings::default(),
    );
    assert_eq!(m.first().map(|m| m.entity_id.as_str()), Some("x:target"));
}

/// A distinct given name per number, none sounding like ZBIGNIEW.
fn given(i: usize) -> String {
    let letters = b"ABDEFHKLMNORTUY";
    let mut n = i + 1;
    let mut out = String::from("A");
    while n > 0 {
        out.push(letters[n % letters.len()] as char);
        n /= letters.len();
    }
    out
}
