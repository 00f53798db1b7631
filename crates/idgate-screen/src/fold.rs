//! Names, countries and numbers folded to one comparable form.
//!
//! A name becomes upper-case Latin words: Latin letters lose their accents the ICAO way and
//! Cyrillic is transliterated (both by `idgate_decide::names::spellings`, the rules the
//! name match uses), Greek and Arabic letters are transliterated here, Chinese characters
//! become their pinyin (family name first, the given name one word). Honorifics and
//! company-form words are dropped; word order is kept but never relied on.

use unicode_normalization::UnicodeNormalization;

/// Words that say nothing about who a person is. Compared after folding.
const HONORIFICS: &[&str] = &[
    "MR", "MRS", "MS", "MISS", "DR", "PROF", "SIR", "DAME", "LORD", "LADY", "HE", "HRH", "GEN",
    "GENERAL", "COL", "COLONEL", "MAJ", "CAPT", "SHEIKH", "SHAIKH", "SHEIK", "MAULVI", "MAULAVI",
    "MULLAH", "MULLA", "HAJI", "HAJJI", "QARI", "ENG", "ENGINEER",
];

/// Company forms: `ACME TRADING LLC` and `ACME TRADING CO LTD` are one name.
const COMPANY_FORMS: &[&str] = &[
    "LTD",
    "LIMITED",
    "LLC",
    "INC",
    "INCORPORATED",
    "CORP",
    "CORPORATION",
    "CO",
    "COMPANY",
    "GMBH",
    "AG",
    "SA",
    "SAS",
    "SARL",
    "SRL",
    "SPA",
    "BV",
    "NV",
    "PLC",
    "LLP",
    "LP",
    "JSC",
    "OJSC",
    "CJSC",
    "PJSC",
    "OOO",
    "OAO",
    "ZAO",
    "PAO",
    "AO",
    "FZE",
    "FZCO",
    "FZC",
    "PTE",
    "PTY",
    "BHD",
    "SDN",
    "KG",
    "OY",
    "AB",
    "AS",
    "ASA",
];

fn greek(c: char) -> Option<&'static str> {
    Some(match c {
        'Α' => "A",
        'Β' => "V",
        'Γ' => "G",
        'Δ' => "D",
        'Ε' => "E",
        'Ζ' => "Z",
        'Η' => "I",
        'Θ' => "TH",
        'Ι' => "I",
        'Κ' => "K",
        'Λ' => "L",
        'Μ' => "M",
        'Ν' => "N",
        'Ξ' => "X",
        'Ο' => "O",
        'Π' => "P",
        'Ρ' => "R",
        'Σ' | 'ς' => "S",
        'Τ' => "T",
        'Υ' => "Y",
        'Φ' => "F",
        'Χ' => "CH",
        'Ψ' => "PS",
        'Ω' => "O",
        _ => return None,
    })
}

/// Arabic and Persian letters by their usual Latin consonants; short vowels are not
/// written, so a folded Arabic name is a consonant skeleton (`حسین` → `HSYN`).
fn arabic(c: char) -> Option<&'static str> {
    Some(match c {
        'ا' | 'أ' | 'آ' | 'ى' | 'ة' => "A",
        'إ' => "I",
        'ب' => "B",
        'ت' => "T",
        'ث' => "TH",
        'ج' => "J",
        'ح' | 'ه' => "H",
        'خ' => "KH",
        'د' => "D",
        'ذ' => "DH",
        'ر' => "R",
        'ز' => "Z",
        'س' | 'ص' => "S",
        'ش' => "SH",
        'ض' => "D",
        'ط' => "T",
        'ظ' => "Z",
        'ع' | 'ء' | 'ئ' | 'ؤ' => "",
        'غ' => "GH",
        'ف' => "F",
        'ق' => "Q",
        'ك' | 'ک' => "K",
        'ل' => "L",
        'م' => "M",
        'ن' => "N",
        'و' => "W",
        'ي' | 'ی' => "Y",
        'پ' => "P",
        'چ' => "CH",
        'ژ' => "ZH",
        'گ' => "G",
        _ => return None,
    })
}

fn is_han(c: char) -> bool {
    idgate_decide::names::is_han(c)
}

fn han_reading(c: char) -> Option<String> {
    use pinyin::ToPinyin;
    c.to_pinyin().map(|p| p.plain().to_ascii_uppercase())
}

/// Greek, Arabic and Chinese written out in Latin letters; everything else as it was.
fn latinise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut han_run = 0usize;
    for c in name.chars().flat_map(char::to_uppercase) {
        if is_han(c) {
            if let Some(r) = han_reading(c) {
                // The family name (first character) is a word, the given name another.
                if han_run == 1 {
                    out.push(' ');
                }
                out.push_str(&r);
                han_run += 1;
                continue;
            }
        }
        if han_run > 0 {
            out.push(' ');
            han_run = 0;
        }
        // Greek letters lose their tonos before the table; Arabic vowel signs vanish.
        let base =
            if ('\u{0370}'..='\u{03ff}').contains(&c) || ('\u{1f00}'..='\u{1fff}').contains(&c) {
                c.nfd().next().unwrap_or(c)
            } else {
                c
            };
        if let Some(l) = greek(base).or_else(|| arabic(base)) {
            out.push_str(l);
        } else if !('\u{064b}'..='\u{065f}').contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The words of a name, folded: `Mr. Ahmed AL-Hassan` → `["AHMED", "AL", "HASSAN"]`.
pub fn name_words(name: &str) -> Vec<String> {
    let words = name_words_raw(name);
    let kept: Vec<String> = words
        .iter()
        .filter(|w| !HONORIFICS.contains(&w.as_str()) && !COMPANY_FORMS.contains(&w.as_str()))
        .cloned()
        .collect();
    // A name made only of such words (a company called `AB`) keeps them.
    if kept.is_empty() {
        words
    } else {
        kept
    }
}

/// A passport or identity number: upper case, letters and digits only.
pub fn identifier(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Country names lists use that ISO's short names do not.
const COUNTRY_NAMES: &[(&str, &str)] = &[
    ("RUSSIA", "RU"),
    ("SYRIA", "SY"),
    ("NORTH KOREA", "KP"),
    ("DEMOCRATIC PEOPLES REPUBLIC OF KOREA", "KP"),
    ("DPRK", "KP"),
    ("SOUTH KOREA", "KR"),
    ("REPUBLIC OF KOREA", "KR"),
    ("DEMOCRATIC REPUBLIC OF THE CONGO", "CD"),
    ("CONGO DEMOCRATIC REPUBLIC", "CD"),
    ("REPUBLIC OF THE CONGO", "CG"),
    ("UNITED STATES OF AMERICA", "US"),
    ("USA", "US"),
    ("UNITED KINGDOM OF GREAT BRITAIN AND NORTHERN IRELAND", "GB"),
    ("UK", "GB"),
    ("GREAT BRITAIN", "GB"),
    ("VIETNAM", "VN"),
    ("LAOS", "LA"),
    ("IRAN ISLAMIC REPUBLIC OF", "IR"),
    ("ISLAMIC REPUBLIC OF IRAN", "IR"),
    ("TURKEY", "TR"),
    ("PALESTINE", "PS"),
    ("CZECH REPUBLIC", "CZ"),
    ("IVORY COAST", "CI"),
    ("BURMA", "MM"),
    ("UNITED REPUBLIC OF TANZANIA", "TZ"),
    ("BOLIVIA PLURINATIONAL STATE OF", "BO"),
    ("VENEZUELA BOLIVARIAN REPUBLIC OF", "VE"),
    ("REPUBLIC OF MOLDOVA", "MD"),
    ("SWAZILAND", "SZ"),
    ("MACEDONIA", "MK"),
    ("THE FORMER YUGOSLAV REPUBLIC OF MACEDONIA", "MK"),
];

fn plain(s: &str) -> String {
    name_words_raw(s).join(" ")
}

/// Like [`name_words`] without dropping any word (country names contain `AS`, `CO`).
fn name_words_raw(s: &str) -> Vec<String> {
    idgate_decide::names::spellings(&latinise(s))
        .into_iter()
        .next()
        .unwrap_or_default()
        .split(|c: char| !c.is_ascii_uppercase())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// A country as lists and applicants write it (`ru`, `RUS`, `Russian Federation`,
/// `Russia`) as its ISO 3166-1 alpha-2 code; `None` when it names no country.
pub fn country(s: &str) -> Option<&'static str> {
    use idgate_decide::country;
    let t = s.trim();
    if t.len() == 2 {
        return country::by_alpha2(t).map(|c| c.alpha2);
    }
    if t.len() == 3 && t.chars().all(|c| c.is_ascii_alphabetic()) {
        if let Some(c) = country::by_mrz_code(&t.to_ascii_uppercase()) {
            return Some(c.alpha2);
        }
    }
    let p = plain(t);
    if p.is_empty() {
        return None;
    }
    country_names().get(&p).copied()
}

/// Every country's name folded (ISO's short name in both orders, `Congo, Democratic
/// Republic of the` and the other way round, and the names lists use), folded once.
fn country_names() -> &'static std::collections::HashMap<String, &'static str> {
    static NAMES: std::sync::OnceLock<std::collections::HashMap<String, &'static str>> =
        std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut m = std::collections::HashMap::new();
        for (n, a2) in COUNTRY_NAMES {
            m.insert(n.to_string(), *a2);
        }
        for c in idgate_decide::country::all() {
            m.entry(plain(c.name)).or_insert(c.alpha2);
            if let Some((a, b)) = c.name.split_once(", ") {
                m.entry(plain(&format!("{b} {a}"))).or_insert(c.alpha2);
            }
        }
        m
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_across_scripts_accents_and_honorifics() {
        assert_eq!(name_words("Mr. Ahmed AL-Hassan"), ["AHMED", "AL", "HASSAN"]);
        assert_eq!(name_words("José Müller"), ["JOSE", "MUELLER"]);
        assert_eq!(name_words("Александр Захаров"), ["ALEKSANDR", "ZAKHAROV"]);
        assert_eq!(name_words("Αλέξης Τσίπρας"), ["ALEXIS", "TSIPRAS"]);
        assert_eq!(name_words("习近平"), ["XI", "JINPING"]);
        assert_eq!(name_words("حسین موسوی"), ["HSYN", "MWSWY"]);
        assert_eq!(name_words("ACME Trading Co., Ltd."), ["ACME", "TRADING"]);
        assert_eq!(
            name_words("MADURO MOROS, Nicolas"),
            ["MADURO", "MOROS", "NICOLAS"]
        );
    }

    #[test]
    fn countries_by_code_and_by_the_names_lists_use() {
        assert_eq!(country("ru"), Some("RU"));
        assert_eq!(country("RUS"), Some("RU"));
        assert_eq!(country("Russian Federation"), Some("RU"));
        assert_eq!(country("Russia"), Some("RU"));
        assert_eq!(country("Democratic Republic of the Congo"), Some("CD"));
        assert_eq!(country("Congo, Democratic Republic of the"), Some("CD"));
        assert_eq!(country("Iraq"), Some("IQ"));
        assert_eq!(country("Afghanistan"), Some("AF"));
        assert_eq!(country("Atlantis"), None);
        assert_eq!(country(""), None);
    }

    #[test]
    fn identifiers_keep_letters_and_digits() {
        assert_eq!(identifier("ab 12-345/6"), "AB123456");
    }
}
