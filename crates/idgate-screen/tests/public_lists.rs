//! The readers and the matcher on other projects' public test data: moov-io/watchman's OFAC
//! SDN and UN snapshots (record counts its own reader test asserts) and OpenSanctions
//! yente's match expectations on its 91-entity FollowTheMoney fixture.

#[path = "../../testdata.rs"]
mod testdata;

use idgate_screen::{sources, Files, Format, Index, PartialDate, Query, Settings};

fn read(
    format: Format,
    source: &str,
    main: &str,
    alt: Option<&str>,
    comments: Option<&str>,
) -> Vec<idgate_screen::Entity> {
    let main = testdata::read(main);
    let alt = alt.map(testdata::read);
    let comments = comments.map(testdata::read);
    sources::read(
        source,
        format,
        Files {
            main: &main,
            alt: alt.as_deref(),
            comments: comments.as_deref(),
        },
    )
    .unwrap()
}

#[test]
fn the_ofac_and_un_snapshots_read_whole() {
    let dir = "watchman_sanctions/test/testdata";
    let sdn = read(
        Format::OfacCsv,
        "ofac_sdn",
        &format!("{dir}/sdn.csv"),
        Some(&format!("{dir}/alt.csv")),
        Some(&format!("{dir}/sdn_comments.csv")),
    );
    // watchman's reader test: 7379 SDN records.
    assert_eq!(sdn.len(), 7379);
    let people = sdn
        .iter()
        .filter(|e| e.kind == idgate_screen::EntityKind::Person)
        .count();
    assert!(people > 3000, "{people}");
    // Aliases joined from alt.csv: the Cuban national bank's English name.
    let bnc = sdn.iter().find(|e| e.id == "ofac_sdn:306").unwrap();
    assert!(
        bnc.names.iter().any(|n| n == "NATIONAL BANK OF CUBA"),
        "{:?}",
        bnc.names
    );
    assert!(sdn.iter().filter(|e| !e.birth_dates.is_empty()).count() > 2000);
    let un = read(
        Format::UnXml,
        "un",
        &format!("{dir}/UN_consolidated.xml"),
        None,
        None,
    );
    // 730 individuals and 273 entities in the snapshot.
    assert_eq!(un.len(), 1003);
    // The same bytes cut short are refused.
    let xml = testdata::read(&format!("{dir}/UN_consolidated.xml"));
    let cut = &xml[..xml.len() / 2];
    assert!(sources::read(
        "un",
        Format::UnXml,
        Files {
            main: cut,
            ..Files::default()
        }
    )
    .is_err());
}

#[test]
fn yentes_zakharov_queries_find_him_first() {
    let entities = read(
        Format::FtmJsonl,
        "zala",
        "yente_screening_benchmark/tests/fixtures/dataset/zala/entities.ftm.json",
        None,
        None,
    );
    let target = "zala:NK-aU5ybkbRFJucf8YMwsJvDw";
    assert!(entities.iter().any(|e| e.id == target));
    let index = Index::new(entities);
    let s = Settings::default();
    let top = |names: &[&str], birth: Option<&str>, country: Option<&str>| {
        let q = Query {
            names: names.iter().map(|n| n.to_string()).collect(),
            birth_date: birth.and_then(PartialDate::parse_iso),
            nationalities: country.into_iter().map(str::to_string).collect(),
            ..Query::default()
        };
        index.screen(&q, &s).first().map(|m| m.entity_id.clone())
    };
    // yente's test_match_zakharov: name, birth year and country.
    assert_eq!(
        top(
            &["Alexander Vyacheslavovich ZAKHAROV"],
            Some("1965"),
            Some("Russia")
        )
        .as_deref(),
        Some(target)
    );
    // test_match_many_names: Latin spellings and Cyrillic.
    assert_eq!(
        top(
            &[
                "Александр Вячеславович Захаров",
                "Zakharov Aleksandr Vyacheslavovich",
                "Aleksandr Vjačeslavovič Zacharov"
            ],
            None,
            None
        )
        .as_deref(),
        Some(target)
    );
    // test_match_name_without_spaces (yente finds it with its fuzzy search on).
    assert_eq!(
        top(&["alexandervyacheslavovichzakharov", "foo bar"], None, None).as_deref(),
        Some(target)
    );
    // A name that is nobody's.
    assert_eq!(top(&["Banana"], None, None), None);
}
