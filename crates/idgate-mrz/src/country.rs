//! Issuing state and nationality codes: ISO 3166-1 alpha-3 plus ICAO 9303 part 3 codes.

/// Codes ICAO 9303 part 3 adds to ISO 3166-1 alpha-3 (Germany's one-letter `D`, British
/// nationality classes, UN, stateless/refugee and organisations).
///
/// `UTO` ("Utopia", used by every ICAO specimen) is accepted as known: the Python `mrz`
/// package accepts it and the npm `mrz` package does not. A specimen is a perfectly valid
/// MRZ; refusing specimens is a document-authenticity decision made above this crate.
pub const ICAO_SPECIAL_CODES: &[&str] = &[
    "D", "GBD", "GBN", "GBO", "GBP", "GBS", "UNO", "UNA", "UNK", "XXA", "XXB", "XXC", "XXX", "EUE",
    "XOM", "XPO", "XCC", "XCE", "XCO", "XEC", "XES", "XMP", "XBA", "XIM", "XDC", "XAA", "RKS",
    "UTO",
];

const ISO_3166_ALPHA3: &[&str] = &[
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA", "ATF",
    "ATG", "AUS", "AUT", "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS",
    "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL", "BRA", "BRB", "BRN", "BTN", "BVT", "BWA", "CAF",
    "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG", "COK", "COL", "COM", "CPV",
    "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM", "DZA",
    "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM",
    "GAB", "GBR", "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC", "GRD",
    "GRL", "GTM", "GUF", "GUM", "GUY", "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IMN",
    "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA", "JAM", "JEY", "JOR", "JPN", "KAZ",
    "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN", "LBR", "LBY", "LCA", "LIE",
    "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX",
    "MHL", "MKD", "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS",
    "MWI", "MYS", "MYT", "NAM", "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL",
    "NRU", "NZL", "OMN", "PAK", "PAN", "PCN", "PER", "PHL", "PLW", "PNG", "POL", "PRI", "PRK",
    "PRT", "PRY", "PSE", "PYF", "QAT", "REU", "ROU", "RUS", "RWA", "SAU", "SDN", "SEN", "SGP",
    "SGS", "SHN", "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR",
    "SVK", "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL",
    "TKM", "TLS", "TON", "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI", "URY",
    "USA", "UZB", "VAT", "VCT", "VEN", "VGB", "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "ZAF",
    "ZMB", "ZWE",
];

/// Is `code` (fillers already stripped) an ISO 3166-1 alpha-3 or ICAO code?
pub fn is_known_code(code: &str) -> bool {
    // A bit per three-letter code, built at compile time: this runs three times per parse.
    match code.as_bytes() {
        [a, b, c] => index3(*a, *b, *c).is_some_and(|i| KNOWN3[i / 64] & (1 << (i % 64)) != 0),
        _ => ICAO_SPECIAL_CODES.contains(&code),
    }
}

const fn index3(a: u8, b: u8, c: u8) -> Option<usize> {
    if a.is_ascii_uppercase() && b.is_ascii_uppercase() && c.is_ascii_uppercase() {
        Some(((a - b'A') as usize * 26 + (b - b'A') as usize) * 26 + (c - b'A') as usize)
    } else {
        None
    }
}

const KNOWN3: [u64; 26 * 26 * 26 / 64 + 1] = {
    let mut bits = [0u64; 26 * 26 * 26 / 64 + 1];
    let tables: [&[&str]; 2] = [ISO_3166_ALPHA3, ICAO_SPECIAL_CODES];
    let mut t = 0;
    while t < tables.len() {
        let mut k = 0;
        while k < tables[t].len() {
            let code = tables[t][k].as_bytes();
            if code.len() == 3 {
                if let Some(i) = index3(code[0], code[1], code[2]) {
                    bits[i / 64] |= 1 << (i % 64);
                }
            }
            k += 1;
        }
        t += 1;
    }
    bits
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_table_is_sorted_and_complete() {
        assert!(ISO_3166_ALPHA3.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ISO_3166_ALPHA3.len(), 249);
    }

    #[test]
    fn knows_iso_and_icao_codes_only() {
        for code in ["CHN", "DEU", "D", "GBD", "UTO", "XXA", "EUE"] {
            assert!(is_known_code(code), "{code}");
        }
        // BOS was withdrawn in favour of BIH; ASU is fictional.
        for code in ["BOS", "ASU", "", "DE", "ZZZ"] {
            assert!(!is_known_code(code), "{code}");
        }
    }

    #[test]
    fn the_bitset_holds_exactly_the_tables() {
        let mut expected: Vec<&str> = ISO_3166_ALPHA3
            .iter()
            .chain(ICAO_SPECIAL_CODES)
            .copied()
            .filter(|c| c.len() == 3)
            .collect();
        expected.sort_unstable();
        expected.dedup();
        let mut found = Vec::new();
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                for c in b'A'..=b'Z' {
                    let code = String::from_utf8(vec![a, b, c]).unwrap();
                    if is_known_code(&code) {
                        found.push(code);
                    }
                }
            }
        }
        assert_eq!(found, expected);
    }
}
