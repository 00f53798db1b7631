//! How alike two folded names are: Jaro-Winkler between words, words paired best-first
//! whatever their order, a phonetic key for spellings that sound alike, and the names
//! written together for the same name spaced otherwise.

/// Jaro-Winkler similarity of two words, 0 to 1 (prefix bonus 0.1 over up to 4 letters).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let j = jaro(a, b);
    let prefix = a
        .chars()
        .zip(b.chars())
        .take(4)
        .take_while(|(x, y)| x == y)
        .count() as f64;
    j + prefix * 0.1 * (1.0 - j)
}

/// Jaro similarity of two words, 0 to 1.
pub fn jaro(a: &str, b: &str) -> f64 {
    // Folded names are ASCII: compared byte by byte, with the match flags on the stack
    // (no allocation on the screening's hot path); anything else by characters.
    if a.is_ascii() && b.is_ascii() && a.len() <= SHORT && b.len() <= SHORT {
        let (mut a_hit, mut b_hit) = ([false; SHORT], [false; SHORT]);
        return jaro_of(a.as_bytes(), b.as_bytes(), &mut a_hit, &mut b_hit);
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (mut a_hit, mut b_hit) = (vec![false; a.len()], vec![false; b.len()]);
    jaro_of(&a, &b, &mut a_hit, &mut b_hit)
}

/// Words up to this long are compared without allocating.
const SHORT: usize = 64;

fn jaro_of<T: PartialEq>(a: &[T], b: &[T], a_hit: &mut [bool], b_hit: &mut [bool]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return if a == b { 1.0 } else { 0.0 };
    }
    if a == b {
        return 1.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut matches = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_hit[j] && b[j] == *ca {
                a_hit[i] = true;
                b_hit[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut k = 0usize;
    for (i, ca) in a.iter().enumerate() {
        if a_hit[i] {
            while !b_hit[k] {
                k += 1;
            }
            if *ca != b[k] {
                transpositions += 1;
            }
            k += 1;
        }
    }
    let m = matches as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64 / 2.0) / m) / 3.0
}

/// American Soundex of a folded word (`ROBERT` → `R163`): spellings that sound alike share
/// it (`MOHAMMED`, `MUHAMAD`).
pub fn soundex(word: &str) -> String {
    fn code(c: char) -> char {
        match c {
            'B' | 'F' | 'P' | 'V' => '1',
            'C' | 'G' | 'J' | 'K' | 'Q' | 'S' | 'X' | 'Z' => '2',
            'D' | 'T' => '3',
            'L' => '4',
            'M' | 'N' => '5',
            'R' => '6',
            'H' | 'W' => '-',
            _ => '0',
        }
    }
    let mut chars = word.chars().filter(char::is_ascii_uppercase);
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out = String::from(first);
    let mut last = code(first);
    for c in chars {
        let d = code(c);
        if d == '-' {
            continue;
        }
        if d != '0' && d != last {
            out.push(d);
            if out.len() == 4 {
                break;
            }
        }
        last = d;
    }
    while out.len() < 4 {
        out.push('0');
    }
    out
}

/// A pair of words less alike than this counts as unmatched.
const WORD_FLOOR: f64 = 0.80;

/// Names compared written together count only this alike or more (spacing, not words,
/// differs).
const JOINED_FLOOR: f64 = 0.90;

/// Two words that sound alike score at least this.
const PHONETIC_FLOOR: f64 = 0.90;

/// One word of a name against one of the other. A word is no spelling of another less
/// than two thirds its length: Jaro alone finds `YUN` 0.83 alike `MEIYUN`, which holds it.
#[cfg(test)]
fn word_score(a: &str, b: &str) -> (f64, bool) {
    word_score_with(a, b, &soundex(a), &soundex(b))
}

/// [`word_score`] with the words' Soundex codes already known.
fn word_score_with(a: &str, b: &str, sa: &str, sb: &str) -> (f64, bool) {
    let (short, long) = (a.len().min(b.len()), a.len().max(b.len()));
    if short * 3 < long * 2 {
        return (0.0, false);
    }
    let jw = jaro_winkler(a, b);
    // Soundex on one- or two-letter words says nothing.
    if jw < PHONETIC_FLOOR && a.len() > 2 && b.len() > 2 && sa == sb {
        (PHONETIC_FLOOR, true)
    } else {
        (jw, false)
    }
}

/// A word counts by its letters, and at least as a word of `MIN_WEIGHT`: a syllable of a
/// Chinese, Korean or Vietnamese name (`MEI`, `YUN`) is written in two to four Latin
/// letters and says as much about who someone is as a longer European name.
fn weight(word: &str) -> usize {
    word.len().max(MIN_WEIGHT)
}

/// See [`weight`].
const MIN_WEIGHT: usize = 5;

/// How two folded names compare, and how.
#[derive(Clone, Debug, PartialEq)]
pub struct NameScore {
    pub score: f64,
    /// A pair of words was taken as alike by their sound.
    pub phonetic: bool,
    /// The names agreed best written together (other spacing).
    pub joined: bool,
}

/// Words paired best-first, each word used once; each pair counts by the letters of both
/// words, so a word with no partner on either side lowers the score by its length.
/// The names written together are compared too, for `ABDULRAHMAN` against `ABDUL RAHMAN`.
pub fn names(query: &[String], listed: &[String]) -> NameScore {
    if query.is_empty() || listed.is_empty() {
        return NameScore {
            score: 0.0,
            phonetic: false,
            joined: false,
        };
    }
    let q_sound: Vec<String> = query.iter().map(|w| soundex(w)).collect();
    let l_sound: Vec<String> = listed.iter().map(|w| soundex(w)).collect();
    let mut pairs: Vec<(f64, bool, usize, usize)> = Vec::with_capacity(query.len() * listed.len());
    for (i, q) in query.iter().enumerate() {
        for (j, l) in listed.iter().enumerate() {
            let (s, ph) = word_score_with(q, l, &q_sound[i], &l_sound[j]);
            pairs.push((s, ph, i, j));
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut q_used = vec![false; query.len()];
    let mut l_used = vec![false; listed.len()];
    let mut sum = 0.0;
    let mut phonetic = false;
    for (s, ph, i, j) in pairs {
        if q_used[i] || l_used[j] {
            continue;
        }
        q_used[i] = true;
        l_used[j] = true;
        // Two different names are often 0.5 to 0.7 alike letter by letter; a pair that far
        // apart is no match at all, or a long common first name would carry any rest.
        if s >= WORD_FLOOR {
            sum += s * (weight(&query[i]) + weight(&listed[j])) as f64;
        }
        phonetic |= ph;
    }
    let letters: usize = query.iter().chain(listed).map(|w| weight(w)).sum();
    let paired = sum / letters as f64;
    // Written together only where the spacing differs, and without Winkler's prefix
    // bonus, which a long common first name would otherwise carry over a different rest.
    // Only names that nearly coincide written together count so: `JOSE MANUEL ALTAMIRANO`
    // and `JOSE MANUEL RINCON MOLINA` share enough letters to be 0.81 alike joined, and
    // are different people.
    let joined = if query.len() != listed.len() {
        Some(jaro(&query.concat(), &listed.concat())).filter(|&j| j >= JOINED_FLOOR)
    } else {
        None
    }
    .unwrap_or(0.0);
    if joined > paired {
        NameScore {
            score: joined,
            phonetic: false,
            joined: true,
        }
    } else {
        NameScore {
            score: paired,
            phonetic,
            joined: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        crate::fold::name_words(s)
    }

    #[test]
    fn jaro_winkler_known_values() {
        // The textbook pairs (Winkler 1990).
        assert!((jaro_winkler("MARTHA", "MARHTA") - 0.961).abs() < 0.001);
        assert!((jaro_winkler("DWAYNE", "DUANE") - 0.84).abs() < 0.001);
        assert!((jaro_winkler("DIXON", "DICKSONX") - 0.813).abs() < 0.001);
        assert_eq!(jaro_winkler("ABC", "XYZ"), 0.0);
        assert_eq!(jaro_winkler("SAME", "SAME"), 1.0);
    }

    #[test]
    fn bytes_and_characters_give_the_same_similarity() {
        let long_a = "ABDUL".repeat(14);
        let long_b = format!("{}X", "ABDUL".repeat(13));
        for (a, b) in [
            ("DWAYNE", "DUANE"),
            ("MARTHA", "MARHTA"),
            (&long_a[..], &long_b[..]),
        ] {
            let chars = |w: &str| w.chars().collect::<Vec<char>>();
            let (ca, cb) = (chars(a), chars(b));
            let (mut ha, mut hb) = (vec![false; ca.len()], vec![false; cb.len()]);
            assert_eq!(jaro(a, b), jaro_of(&ca, &cb, &mut ha, &mut hb), "{a} {b}");
        }
        // Beyond ASCII, by characters.
        assert!((jaro("ŁÓDŹ", "ŁODZ") - jaro("LÓDŹ", "LODZ")).abs() < 1e-9);
    }

    #[test]
    fn soundex_known_values() {
        assert_eq!(soundex("ROBERT"), "R163");
        assert_eq!(soundex("RUPERT"), "R163");
        assert_eq!(soundex("ASHCRAFT"), "A261");
        assert_eq!(soundex("TYMCZAK"), "T522");
        assert_eq!(soundex("PFISTER"), "P236");
    }

    #[test]
    fn word_order_spacing_and_spelling_barely_matter() {
        let exact = names(&w("Nicolas Maduro Moros"), &w("MADURO MOROS, Nicolas"));
        assert!((exact.score - 1.0).abs() < 1e-9, "{exact:?}");
        let spaced = names(&w("Abdulrahman Khalid"), &w("ABDUL RAHMAN KHALID"));
        assert!(spaced.score > 0.9, "{spaced:?}");
        let spelled = names(&w("Mohammed Hassan"), &w("MUHAMMAD HASAN"));
        assert!(spelled.score > 0.85, "{spelled:?}");
        let other = names(&w("Patricia Lucas Wheeler"), &w("ERIC BADEGE"));
        assert!(other.score < 0.6, "{other:?}");
        // A name that shares only a common first name is far from a match.
        let first_only = names(&w("Mohammed Karimi"), &w("MOHAMMED OMAR"));
        assert!(first_only.score < exact.score - 0.2, "{first_only:?}");
        // Written together two names with the same first names share many letters; that
        // is not a spacing difference.
        let same_first = names(
            &w("Jose Manuel Altamirano"),
            &w("JOSE MANUEL RINCON MOLINA"),
        );
        assert!(
            same_first.score < 0.6 && !same_first.joined,
            "{same_first:?}"
        );
        // A short word inside a longer one is not that word misspelt.
        assert_eq!(word_score("YUN", "MEIYUN"), (0.0, false));
        assert!(word_score("HASAN", "HASSAN").0 > 0.9);
    }
}
