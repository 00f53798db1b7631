//! The screening API (issue #31): the lists in use, and a name searched against them with
//! its matches ranked and explained.

use super::*;
use idgate_screen::{Files, Format};

const V1: &str = "id,name,aliases,birth_date,nationality,gender,topic\n\
P1,Wei Zhang,张伟,1995-03-01,CN,M,pep\n\
P2,Viktor Orlov,,1960,RU,M,sanction\n";
const V2: &str = "id,name,aliases,birth_date,nationality,gender,topic\n\
P1,Wei Zhang,张伟,1995-03-01,CN,M,pep\n\
P2,Viktor Orlov,Viktor Orloff,1960,RU,M,sanction\n\
P3,Maria Gonzalez Lopez,,1970-07-07,ES,F,pep\n";

async fn import(t: &T, csv: &str) {
    import_as(t, "own", Format::Csv, csv).await;
}

async fn import_as(t: &T, source: &str, format: Format, text: &str) {
    idgate_server::screening::import(
        &t.state.store,
        source,
        format,
        Files {
            main: text.as_bytes(),
            alt: None,
            comments: None,
        },
    )
    .await
    .unwrap();
}

/// The EU's CSV, the UK's CSV and OFAC's XML are lists like the others: imported as their
/// own sources and searched together, each listed person found by name and birth date.
#[tokio::test]
async fn the_eu_uk_and_ofac_xml_lists_are_searched_together() {
    let t = setup(limits()).await;
    let eu = "fileGenerationDate;Entity_LogicalId;Entity_SubjectType_ClassificationCode;NameAlias_WholeName;BirthDate_BirthDate;Citizenship_CountryIso2Code\n\
2026-12-01;13;person;Eric BADEGE;1971-03-02;CD\n\
2026-12-01;13;person;Eric Badeghe;;\n";
    let uk = "Report Date: 01-Dec-2026\n\
Unique ID,Designation Type,Name 1,Name 2,Name 3,Name 4,Name 5,Name 6,D.O.B,Nationality(/ies)\n\
RUS0001,Individual,Ivan,Petrovich,,,,IVANOV,00/00/1962,Russia\n";
    let ofac = r#"<?xml version="1.0"?><sdnList xmlns="http://tempuri.org/sdnList.xsd">
<publshInformation><Record_Count>1</Record_Count></publshInformation>
<sdnEntry><uid>587</uid><firstName>Juan Manuel</firstName><lastName>CRUZ PADILLA</lastName><sdnType>Individual</sdnType>
<dateOfBirthList><dateOfBirthItem><dateOfBirth>10 Dec 1948</dateOfBirth></dateOfBirthItem></dateOfBirthList></sdnEntry></sdnList>"#;
    import_as(&t, "eu", Format::EuCsv, eu).await;
    import_as(&t, "uk", Format::UkCsv, uk).await;
    import_as(&t, "ofac_sdn", Format::OfacXml, ofac).await;
    let (_, v) = t.get("/v1/lists").await;
    assert_eq!(v["entities_screened"], 3, "{v}");
    for (name, birth, expected) in [
        ("Eric Badege", "1971-03-02", "eu:13"),
        ("Ivan Petrovich Ivanov", "1962-05-01", "uk:RUS0001"),
        ("Juan Manuel Cruz Padilla", "1948-12-10", "ofac_sdn:587"),
    ] {
        let (s, v) = t
            .post_json(
                "/v1/screening/search",
                json!({"name": name, "birth_date": birth}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["matches"][0]["entity_id"], expected, "{name}: {v}");
    }
}

#[tokio::test]
async fn a_search_ranks_listed_people_and_says_why() {
    let t = setup(limits()).await;
    let (s, v) = t.get("/v1/lists").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"sources": [], "entities_screened": 0, "last_import": null})
    );

    import(&t, V1).await;
    let search = |body: Value| t.post_json("/v1/screening/search", body);
    let (s, v) =
        search(json!({"name": "ZHANG Wei", "birth_date": "1995-03-01", "country": "CHN"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let top = &v["matches"][0];
    assert_eq!(top["entity_id"], "own:P1", "{v}");
    assert_eq!(top["topic"], "pep");
    assert_eq!(top["listed_name"], "Wei Zhang");
    let moved: Vec<&str> = top["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["qualifier"].as_str().unwrap())
        .collect();
    assert!(
        moved.contains(&"birth_date_match") && moved.contains(&"nationality_match"),
        "{v}"
    );
    assert_eq!(top["entity"]["names"], json!(["Wei Zhang", "张伟"]));
    let listed_score = top["score"].as_f64().unwrap();
    assert!(listed_score >= v["threshold"].as_f64().unwrap(), "{v}");
    // The local script meets the alias.
    let (_, v) = search(json!({"name": "张伟"})).await;
    assert_eq!(v["matches"][0]["entity_id"], "own:P1", "{v}");
    // Another birth date lowers the score; it does not hide the name.
    let (_, v) =
        search(json!({"name": "Zhang Wei", "birth_date": "1950-01-01", "threshold": 0.5})).await;
    let other = &v["matches"][0];
    assert_eq!(other["entity_id"], "own:P1", "{v}");
    assert!(other["score"].as_f64().unwrap() < listed_score, "{v}");
    // Nobody listed, nothing found.
    let (_, v) = search(json!({"name": "Erika Mustermann"})).await;
    assert_eq!(v["matches"], json!([]), "{v}");

    for (body, code) in [
        (json!({}), "invalid_name"),
        (json!({"name": "  "}), "invalid_name"),
        (json!({"name": "x".repeat(201)}), "invalid_name"),
        (
            json!({"name": "Wei Zhang", "birth_date": "last spring"}),
            "invalid_birth_date",
        ),
        (
            json!({"name": "Wei Zhang", "country": "Atlantis"}),
            "invalid_country",
        ),
        (
            json!({"name": "Wei Zhang", "gender": "x"}),
            "invalid_gender",
        ),
        (json!({"name": "Wei Zhang", "limit": 0}), "invalid_limit"),
        (
            json!({"name": "Wei Zhang", "threshold": 1.5}),
            "invalid_threshold",
        ),
        (
            json!({"name": "Wei Zhang", "nickname": "W"}),
            "invalid_json",
        ),
    ] {
        let (s, v) = search(body.clone()).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{body}"
        );
    }

    // A second version: the lists say what it changed.
    t.clock.advance_ms(1_000);
    import(&t, V2).await;
    let (_, v) = t.get("/v1/lists").await;
    let own = &v["sources"][0];
    assert_eq!(
        (
            &own["source"],
            &own["version"],
            &own["versions"],
            &own["entities"]
        ),
        (&json!("own"), &json!(2), &json!(2), &json!(3)),
        "{v}"
    );
    assert_eq!(
        (&own["added"], &own["changed"], &own["removed"]),
        (&json!(1), &json!(1), &json!(0))
    );
    assert_eq!(v["entities_screened"], 3);
    assert!(v["last_import"].is_string());
    let (_, v) = search(json!({"name": "Viktor Orloff", "limit": 1})).await;
    assert_eq!(v["matches"].as_array().unwrap().len(), 1);
    assert_eq!(v["matches"][0]["entity"]["programs"], json!([]), "{v}");
    assert_eq!(v["matches"][0]["topic"], "sanction");
}
