//! ISO 3166-1 countries (data/countries.tsv) and the MRZ's three-letter codes mapped to them.

use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Country {
    pub alpha2: &'static str,
    pub alpha3: &'static str,
    pub name: &'static str,
}

const TABLE: &str = include_str!("../data/countries.tsv");

/// Every ISO 3166-1 country, in alpha-2 order.
pub fn all() -> &'static [Country] {
    static ALL: OnceLock<Vec<Country>> = OnceLock::new();
    ALL.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let mut cols = l.split('\t');
                let mut next = || cols.next().expect("countries.tsv has three columns");
                Country {
                    alpha2: next(),
                    alpha3: next(),
                    name: next(),
                }
            })
            .collect()
    })
}

/// By alpha-2 code (`CN`), case-insensitive.
pub fn by_alpha2(code: &str) -> Option<&'static Country> {
    all().iter().find(|c| c.alpha2.eq_ignore_ascii_case(code))
}

/// The country an MRZ code names: ISO alpha-3, or an ICAO 9303 code that stands for one
/// (`D` is Germany; the British nationality classes are the United Kingdom).
pub fn by_mrz_code(code: &str) -> Option<&'static Country> {
    let code = code.trim_end_matches('<');
    let alpha3 = match code {
        "D" => "DEU",
        "GBD" | "GBN" | "GBO" | "GBP" | "GBS" => "GBR",
        other => other,
    };
    all().iter().find(|c| c.alpha3 == alpha3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_iso_3166_and_agrees_with_the_mrz_code_list() {
        let all = all();
        assert_eq!(all.len(), 249);
        let mut a2: Vec<_> = all.iter().map(|c| c.alpha2).collect();
        a2.dedup();
        assert_eq!(a2.len(), 249, "alpha-2 codes sorted and unique");
        for c in all {
            assert!(c.alpha2.len() == 2 && c.alpha3.len() == 3, "{c:?}");
            assert!(idgate_mrz::is_known_code(c.alpha3), "{c:?}");
        }
    }

    #[test]
    fn mrz_codes_map_to_countries() {
        for (code, alpha2) in [("CHN", "CN"), ("D<<", "DE"), ("GBN", "GB"), ("HKG", "HK")] {
            assert_eq!(by_mrz_code(code).map(|c| c.alpha2), Some(alpha2), "{code}");
        }
        assert_eq!(by_mrz_code("UTO"), None);
        assert_eq!(by_alpha2("cn").map(|c| c.alpha3), Some("CHN"));
    }
}
