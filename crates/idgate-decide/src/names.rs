//! Does the name the applicant typed belong to the name on the document?
//!
//! Documents print names in the MRZ after ICAO 9303 part 3: upper-case Latin letters, accented
//! letters transliterated (Ü → UE, ß → SS, Ж → ZH), hyphens and spaces as fillers, apostrophes
//! dropped, long names truncated. Applicants type what they see on the visual zone, in their
//! own script and order. A real difference is a NAME_MISMATCH; a spelling convention is not.
//!
//! Accepted without a person: the same letters after transliteration (where ICAO allows two
//! spellings, Ü as UE or U, either), different spacing or hyphenation (`MARY-ANN` = `MARY
//! ANN` = `MARYANN`), given and family names swapped or the whole name typed in one order,
//! middle names left out (the first given name must be there), and a name the MRZ truncated.
//! Chinese characters are compared with the MRZ's pinyin, every reading of a character
//! with several tried, and two-character family names (欧阳, 司马) found.

use unicode_normalization::UnicodeNormalization;

/// How a name matched, for the reviewer's detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameMatch {
    Exact,
    /// Same letters, other spaces, hyphens or apostrophes.
    Spacing,
    /// Given and family names swapped, or all names in another order.
    Order,
    MiddleNamesOmitted,
    /// The MRZ cut the name short and what it kept agrees.
    Truncated,
}

impl NameMatch {
    pub fn as_str(self) -> &'static str {
        match self {
            NameMatch::Exact => "exact",
            NameMatch::Spacing => "spacing",
            NameMatch::Order => "order",
            NameMatch::MiddleNamesOmitted => "middle_names_omitted",
            NameMatch::Truncated => "truncated",
        }
    }
}

/// ICAO 9303 part 3 spellings of letters that do not decompose into a Latin letter and
/// accents; the first is the recommended one. Anything else loses its accents.
fn special(c: char) -> Option<&'static [&'static str]> {
    Some(match c {
        'Ä' => &["AE", "A"],
        'Å' => &["AA", "A"],
        'Æ' => &["AE"],
        'Ð' | 'Đ' => &["D"],
        'Ñ' => &["N", "NXX"],
        'Ö' => &["OE", "O"],
        'Ø' => &["OE", "O"],
        'Ü' => &["UE", "U"],
        'Þ' => &["TH"],
        'ß' | 'ẞ' => &["SS"],
        'Ĳ' => &["IJ"],
        'Œ' => &["OE"],
        'Ł' => &["L"],
        'Ħ' => &["H"],
        'I' | 'İ' => &["I"],
        'Ŀ' => &["L"],
        'Ŋ' => &["N"],
        'Ŧ' => &["T"],
        // Cyrillic (ICAO 9303 part 3, table B); Ukrainian Г is H.
        'А' => &["A"],
        'Б' => &["B"],
        'В' => &["V"],
        'Г' => &["G", "H"],
        'Ґ' => &["G"],
        'Д' => &["D"],
        'Е' | 'Ё' | 'Э' => &["E"],
        'Є' => &["IE"],
        'Ж' => &["ZH"],
        'З' => &["Z"],
        'И' | 'І' | 'Ї' | 'Й' => &["I"],
        'К' => &["K"],
        'Л' => &["L"],
        'М' => &["M"],
        'Н' => &["N"],
        'О' => &["O"],
        'П' => &["P"],
        'Р' => &["R"],
        'С' => &["S"],
        'Т' => &["T"],
        'У' => &["U"],
        'Ф' => &["F"],
        'Х' => &["KH"],
        'Ц' => &["TS"],
        'Ч' => &["CH"],
        'Ш' => &["SH"],
        'Щ' => &["SHCH"],
        'Ъ' => &["IE"],
        'Ы' => &["Y"],
        'Ь' => &[""],
        'Ю' => &["IU"],
        'Я' => &["IA"],
        _ => return None,
    })
}

/// At most this many spellings of one name are compared.
const MAX_VARIANTS: usize = 16;

/// The MRZ spellings of a typed name: upper case, transliterated, words separated by one
/// space (hyphens, commas and fillers are separators; apostrophes vanish).
pub fn spellings(name: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for c in name.chars().flat_map(char::to_uppercase) {
        let options: Vec<String> = if let Some(s) = special(c) {
            s.iter().map(|s| s.to_string()).collect()
        } else if c.is_ascii_uppercase() {
            vec![c.to_string()]
        } else if matches!(c, '\'' | '’' | '‘' | '`' | 'ʼ') {
            vec![String::new()]
        } else if c.is_whitespace() || matches!(c, '-' | '‐' | '–' | ',' | '.' | '<' | '·' | '/')
        {
            vec![" ".to_string()]
        } else {
            // Latin letters with accents: keep the base letters.
            let base: String = c
                .to_string()
                .nfd()
                .filter(char::is_ascii_uppercase)
                .collect();
            vec![base]
        };
        let mut next = Vec::with_capacity(out.len() * options.len());
        for prefix in &out {
            for o in &options {
                if next.len() < MAX_VARIANTS {
                    next.push(format!("{prefix}{o}"));
                }
            }
        }
        out = next;
    }
    for s in &mut out {
        *s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    out.dedup();
    out
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// The MRZ name field as it would be printed: `FAMILY<NAME<<GIVEN<NAMES`.
fn field(family: &str, given: &str) -> String {
    format!("{}<<{}", words(family).join("<"), words(given).join("<"))
}

/// Typed given and family names against the document's (MRZ spellings). `truncated`: the
/// document's name field was full, so the name may have been cut short.
pub fn latin_match(
    given: &str,
    family: &str,
    doc_family: &str,
    doc_given: &str,
    truncated: bool,
) -> Option<NameMatch> {
    let doc_family = spellings(doc_family).swap_remove(0);
    let doc_given = spellings(doc_given).swap_remove(0);
    let mut doc_all: Vec<&str> = words(&doc_family);
    doc_all.extend(words(&doc_given));
    doc_all.sort_unstable();
    let mut best: Option<NameMatch> = None;
    let mut consider = |m: NameMatch| {
        // Prefer the most literal explanation.
        if best.is_none_or(|b| (m as u8) < (b as u8)) {
            best = Some(m);
        }
    };
    for g in spellings(given) {
        for f in spellings(family) {
            if f.is_empty() && g.is_empty() {
                continue;
            }
            if f == doc_family && g == doc_given {
                consider(NameMatch::Exact);
            } else if squash(&f) == squash(&doc_family) && squash(&g) == squash(&doc_given) {
                consider(NameMatch::Spacing);
            }
            if squash(&f) == squash(&doc_given) && squash(&g) == squash(&doc_family) {
                consider(NameMatch::Order);
            }
            let mut all: Vec<&str> = words(&f);
            all.extend(words(&g));
            all.sort_unstable();
            if all == doc_all {
                consider(NameMatch::Order);
            }
            let (gw, dgw) = (words(&g), words(&doc_given));
            if squash(&f) == squash(&doc_family)
                && !gw.is_empty()
                && gw.len() < dgw.len()
                && gw[0] == dgw[0]
                && is_subsequence(&gw, &dgw)
            {
                consider(NameMatch::MiddleNamesOmitted);
            }
            if truncated && !doc_family.is_empty() {
                let (typed, printed) = (field(&f, &g), field(&doc_family, &doc_given));
                let printed = printed.trim_end_matches('<');
                if typed.len() > printed.len() && typed.starts_with(printed) {
                    consider(NameMatch::Truncated);
                }
            }
        }
    }
    best
}

fn is_subsequence(short: &[&str], long: &[&str]) -> bool {
    let mut it = long.iter();
    short.iter().all(|w| it.any(|l| l == w))
}

/// Is `c` a CJK unified ideograph (the characters of a Chinese name)?
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0x20000..=0x2A6DF | 0xF900..=0xFAFF)
}

/// The spellings a passport may use for one reading (`lü` is LV, LU or LYU).
fn readings(c: char) -> Vec<String> {
    use pinyin::ToPinyinMulti;
    let Some(multi) = c.to_pinyin_multi() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in multi {
        let plain = p.plain().to_ascii_uppercase();
        if plain.contains('ü') || plain.contains('Ü') {
            for u in ["V", "U", "YU"] {
                out.push(plain.replace(['ü', 'Ü'], u));
            }
        } else {
            out.push(plain);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The characters of a name written in Chinese characters (spaces and the middle dot
/// between names left out); `None` when it is empty or has any other character.
fn han_chars(local: &str) -> Option<Vec<char>> {
    let chars: Vec<char> = local
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '·')
        .collect();
    (!chars.is_empty() && chars.iter().all(|c| is_han(*c))).then_some(chars)
}

/// The pinyin of a name in Chinese characters, for a reviewer reading it beside the MRZ:
/// each character's readings (several joined by `/`), one word per character. `None` when
/// the name is not all Chinese characters.
pub fn pinyin(local: &str) -> Option<String> {
    let chars = han_chars(local)?;
    let words: Vec<String> = chars.iter().map(|c| readings(*c).join("/")).collect();
    Some(words.join(" "))
}

/// Can `chars` be read, one reading per character, as exactly `target`?
fn reads_as(chars: &[char], target: &str) -> bool {
    match chars.split_first() {
        None => target.is_empty(),
        Some((c, rest)) => readings(*c)
            .iter()
            .any(|r| target.starts_with(r.as_str()) && reads_as(rest, &target[r.len()..])),
    }
}

/// A name in Chinese characters (family name first, as written) against the document's
/// pinyin. `None` when the name is not all Chinese characters, so cannot be compared.
pub fn han_match(local: &str, doc_family: &str, doc_given: &str) -> Option<bool> {
    let chars = han_chars(local)?;
    let family = squash(&spellings(doc_family).swap_remove(0));
    let given = squash(&spellings(doc_given).swap_remove(0));
    let matched = (1..=2.min(chars.len() - 1).max(1)).any(|split| {
        let (f, g) = chars.split_at(split.min(chars.len()));
        reads_as(f, &family) && reads_as(g, &given)
    });
    Some(matched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use NameMatch::*;

    #[test]
    fn pinyin_shows_every_reading_of_each_character() {
        assert_eq!(pinyin("张伟").as_deref(), Some("ZHANG WEI"));
        // 曾 reads ZENG or CENG; 吕 (lü) is spelled LV, LU or LYU on passports.
        assert_eq!(pinyin("曾 吕").as_deref(), Some("CENG/ZENG LU/LV/LYU"));
        assert_eq!(pinyin("Zhang 伟"), None);
        assert_eq!(pinyin(""), None);
    }

    #[test]
    fn spellings_follow_icao_transliteration() {
        for (typed, want) in [
            ("Müller", vec!["MUELLER", "MULLER"]),
            ("Strauß", vec!["STRAUSS"]),
            ("José María", vec!["JOSE MARIA"]),
            ("O'Brien-Smith", vec!["OBRIEN SMITH"]),
            ("Ægir Þór", vec!["AEGIR THOR"]),
            ("Жанна", vec!["ZHANNA"]),
            ("  anne   marie ", vec!["ANNE MARIE"]),
            ("Łukasz Żółć", vec!["LUKASZ ZOLC"]),
        ] {
            assert_eq!(spellings(typed), want, "{typed}");
        }
    }

    #[test]
    fn spelling_conventions_are_not_mismatches() {
        // (typed given, typed family, MRZ family, MRZ given, truncated) -> expected
        for (g, f, df, dg, t, want) in [
            (
                "Anna Maria",
                "Eriksson",
                "ERIKSSON",
                "ANNA MARIA",
                false,
                Exact,
            ),
            ("Jürgen", "Groß", "GROSS", "JUERGEN", false, Exact),
            ("Jürgen", "Groß", "GROSS", "JURGEN", false, Exact),
            ("Mary-Ann", "Smith", "SMITH", "MARY ANN", false, Exact),
            ("Maryann", "Smith", "SMITH", "MARY ANN", false, Spacing),
            ("Sean", "O'Neill", "ONEILL", "SEAN", false, Exact),
            ("Sean", "O Neill", "ONEILL", "SEAN", false, Spacing),
            (
                "Eriksson",
                "Anna Maria",
                "ERIKSSON",
                "ANNA MARIA",
                false,
                Order,
            ),
            (
                "Maria Anna",
                "Eriksson",
                "ERIKSSON",
                "ANNA MARIA",
                false,
                Order,
            ),
            (
                "Anna",
                "Eriksson",
                "ERIKSSON",
                "ANNA MARIA",
                false,
                MiddleNamesOmitted,
            ),
            (
                "Hubert Blaine",
                "Wolfeschlegelsteinhausenbergerdorff",
                "WOLFESCHLEGELSTEINHAUSENBERGE",
                "",
                true,
                Truncated,
            ),
            (
                "Christopher Alexander",
                "Featherstonehaugh",
                "FEATHERSTONEHAUGH",
                "CHRISTOPHER ALEX",
                true,
                Truncated,
            ),
            ("Иван", "Петров", "PETROV", "IVAN", false, Exact),
        ] {
            assert_eq!(latin_match(g, f, df, dg, t), Some(want), "{g} / {f}");
        }
    }

    #[test]
    fn real_differences_are_mismatches() {
        for (g, f, df, dg, t) in [
            ("Anna", "Eriksen", "ERIKSSON", "ANNA", false),
            ("Maria", "Eriksson", "ERIKSSON", "ANNA MARIA", false),
            (
                "Anna Maria Louise",
                "Eriksson",
                "ERIKSSON",
                "ANNA MARIA",
                false,
            ),
            ("John", "Smith", "SMITH", "JON", false),
            // Truncation only explains a longer typed name when the field was full.
            (
                "Christopher Alexander",
                "Featherstonehaugh",
                "FEATHERSTONEHAUGH",
                "CHRISTOPHER ALEX",
                false,
            ),
            ("", "", "SMITH", "JOHN", false),
        ] {
            assert_eq!(latin_match(g, f, df, dg, t), None, "{g} / {f}");
        }
    }

    #[test]
    fn chinese_characters_are_read_against_the_pinyin() {
        for (local, df, dg, want) in [
            ("张三", "ZHANG", "SAN", Some(true)),
            ("王小明", "WANG", "XIAOMING", Some(true)),
            // 欧阳 is one family name of two characters.
            ("欧阳娜娜", "OUYANG", "NANA", Some(true)),
            // 吕 is lü: passports write LV (or LU, LYU).
            ("吕方", "LV", "FANG", Some(true)),
            ("吕方", "LYU", "FANG", Some(true)),
            // 单 as a family name is read shan, elsewhere dan: every reading is tried.
            ("单雄", "SHAN", "XIONG", Some(true)),
            ("张三", "ZHANG", "SI", Some(false)),
            ("李四", "ZHANG", "SAN", Some(false)),
            ("Zhang San", "ZHANG", "SAN", None),
        ] {
            assert_eq!(han_match(local, df, dg), want, "{local}");
        }
    }
}
