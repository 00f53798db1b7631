//! Random but well-formed document holders: names from many languages (already
//! transliterated to the MRZ alphabet), real issuing countries, valid dates.

use idgate_mrz::{Date, Specimen};
use rand::seq::SliceRandom;
use rand::Rng;

const SURNAMES: &[&str] = &[
    "ERIKSSON",
    "MUELLER",
    "GARCIA LOPEZ",
    "NGUYEN",
    "WANG",
    "OKAFOR",
    "KOWALSKA",
    "DUBOIS",
    "ROSSI",
    "SILVA SANTOS",
    "YILMAZ",
    "IVANOVA",
    "TANAKA",
    "KIM",
    "OCONNOR",
    "VAN DER BERG",
    "ABDULLAH",
    "PAPADOPOULOS",
    "NOVAK",
    "HAKKINEN",
    "MENSAH",
    "FERNANDES",
    "LI",
    "SCHMIDT",
];
const GIVEN: &[&str] = &[
    "ANNA MARIA",
    "JUERGEN",
    "SOFIA",
    "MINH ANH",
    "XIAOMING",
    "CHIDI",
    "AGNIESZKA",
    "LUC",
    "GIULIA",
    "JOAO PEDRO",
    "AYSE",
    "OLGA",
    "HIROSHI",
    "JI WOO",
    "SIOBHAN",
    "PIETER",
    "FATIMA",
    "NIKOS",
    "PETRA",
    "MATTI",
    "KWAME",
    "BEATRIZ",
    "WEI",
    "KLAUS DIETER",
];
/// (ICAO code, name as printed in the header).
const COUNTRIES: &[(&str, &str)] = &[
    ("UTO", "UTOPIA"),
    ("D", "GERMANY"),
    ("FRA", "FRANCE"),
    ("ESP", "SPAIN"),
    ("ITA", "ITALY"),
    ("NLD", "NETHERLANDS"),
    ("POL", "POLAND"),
    ("SWE", "SWEDEN"),
    ("GBR", "UNITED KINGDOM"),
    ("IRL", "IRELAND"),
    ("PRT", "PORTUGAL"),
    ("TUR", "TURKIYE"),
    ("JPN", "JAPAN"),
    ("KOR", "KOREA"),
    ("VNM", "VIET NAM"),
    ("CHN", "CHINA"),
    ("NGA", "NIGERIA"),
    ("GHA", "GHANA"),
    ("BRA", "BRAZIL"),
    ("CAN", "CANADA"),
    ("AUS", "AUSTRALIA"),
    ("FIN", "FINLAND"),
];

#[derive(Clone, Debug)]
pub struct Identity {
    pub document_code: String,
    pub country: String,
    pub country_name: String,
    pub surname: String,
    pub given_names: String,
    pub nationality: String,
    pub document_number: String,
    pub birth: Date,
    pub sex: char,
    pub expiry: Date,
}

impl Identity {
    /// A holder of a TD1 card (`td1`) or a passport; the document expires after `today`
    /// unless `expired`.
    pub fn random(rng: &mut impl Rng, td1: bool, today: Date, expired: bool) -> Identity {
        let &(country, country_name) = COUNTRIES.choose(rng).expect("non-empty");
        let document_code = if td1 {
            ["ID", "I<", "IR"]
                .choose(rng)
                .expect("non-empty")
                .to_string()
        } else {
            "P<".to_string()
        };
        let alnum = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
        let mut document_number: String = (0..2)
            .map(|_| char::from(b"ABCDEFGHJKLMNPRSTUVWXYZ"[rng.gen_range(0..23)]))
            .collect();
        document_number.extend((0..7).map(|_| char::from(alnum[rng.gen_range(0..alnum.len())])));
        let birth = Date::from_unix_days(rng.gen_range(-7300..13000));
        let expiry = if expired {
            Date::from_unix_days(today.unix_days() - rng.gen_range(1..2000))
        } else {
            Date::from_unix_days(today.unix_days() + rng.gen_range(30..3600))
        };
        Identity {
            document_code,
            country: country.to_string(),
            country_name: country_name.to_string(),
            surname: SURNAMES.choose(rng).expect("non-empty").to_string(),
            given_names: GIVEN.choose(rng).expect("non-empty").to_string(),
            nationality: country.to_string(),
            document_number,
            birth,
            sex: *['F', 'M'].choose(rng).expect("non-empty"),
            expiry,
        }
    }

    pub fn mrz_specimen(&self) -> Specimen {
        let yymmdd = |d: Date| format!("{:02}{:02}{:02}", d.year() % 100, d.month(), d.day());
        Specimen {
            document_code: self.document_code.clone(),
            issuing_country: self.country.clone(),
            surname: self.surname.clone(),
            given_names: self.given_names.clone(),
            document_number: self.document_number.clone(),
            nationality: self.nationality.clone(),
            birth_date: yymmdd(self.birth),
            sex: self.sex,
            expiry_date: yymmdd(self.expiry),
            optional_data: String::new(),
        }
    }
}
