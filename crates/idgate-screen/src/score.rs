//! How alike two folded names are: Jaro-Winkler between words, words paired best-first
//! whatever their order, a phonetic key for spellings that sound alike, and the names
//! written together for the same name spaced otherwise.

/// Jaro-Winkler similarity of two words, 0 to 1 (prefix bonus 0.1 over up to 4 letters).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    winkler(jaro(a, b), a, b)
}

/// Winkler's bonus on a Jaro value `j` of `a` and `b`: 0.1 of what is left per letter of
/// their common prefix, up to 4.
fn winkler(j: f64, a: &str, b: &str) -> f64 {
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
    let code = sound(word);
    if code[0] == 0 {
        return String::new();
    }
    code.iter().map(|&b| b as char).collect()
}

/// [`soundex`] as four bytes, without allocating; all zero for a word without an upper-case
/// Latin letter.
pub fn sound(word: &str) -> [u8; 4] {
    fn code(c: u8) -> u8 {
        match c {
            b'B' | b'F' | b'P' | b'V' => b'1',
            b'C' | b'G' | b'J' | b'K' | b'Q' | b'S' | b'X' | b'Z' => b'2',
            b'D' | b'T' => b'3',
            b'L' => b'4',
            b'M' | b'N' => b'5',
            b'R' => b'6',
            b'H' | b'W' => b'-',
            _ => b'0',
        }
    }
    let mut letters = word.bytes().filter(u8::is_ascii_uppercase);
    let mut out = [0u8; 4];
    let Some(first) = letters.next() else {
        return out;
    };
    out[0] = first;
    let mut n = 1;
    let mut last = code(first);
    for c in letters {
        let d = code(c);
        if d == b'-' {
            continue;
        }
        if d != b'0' && d != last {
            out[n] = d;
            n += 1;
            if n == 4 {
                break;
            }
        }
        last = d;
    }
    for b in &mut out[n..] {
        *b = b'0';
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
    word_score_with(a, b, &sound(a), &sound(b))
}

/// [`word_score`] with the words' Soundex codes already known.
pub(crate) fn word_score_with(a: &str, b: &str, sa: &[u8; 4], sb: &[u8; 4]) -> (f64, bool) {
    let (short, long) = (a.len().min(b.len()), a.len().max(b.len()));
    if short * 3 < long * 2 {
        return (0.0, false);
    }
    let jw = jaro_winkler(a, b);
    // Soundex on one- or two-letter words says nothing.
    if jw < PHONETIC_FLOOR && a.len() > 2 && b.len() > 2 && sa[0] != 0 && sa == sb {
        (PHONETIC_FLOOR, true)
    } else {
        (jw, false)
    }
}

/// A word counts by its letters, and at least as a word of `MIN_WEIGHT`: a syllable of a
/// Chinese, Korean or Vietnamese name (`MEI`, `YUN`) is written in two to four Latin
/// letters and says as much about who someone is as a longer European name.
pub(crate) fn weight(word: &str) -> usize {
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
    let q_sound: Vec<[u8; 4]> = query.iter().map(|w| sound(w)).collect();
    let l_sound: Vec<[u8; 4]> = listed.iter().map(|w| sound(w)).collect();
    let q_weight: Vec<usize> = query.iter().map(|w| weight(w)).collect();
    let l_weight: Vec<usize> = listed.iter().map(|w| weight(w)).collect();
    let (paired, phonetic) = best_pairs(&q_weight, &l_weight, |i, j| {
        word_score_with(&query[i], &listed[j], &q_sound[i], &l_sound[j])
    });
    let joined = if query.len() != listed.len() {
        joined(&query.concat(), &listed.concat())
    } else {
        0.0
    };
    choose(paired, phonetic, joined)
}

/// The words of two names paired best-first, each used once; `pair(i, j)` scores the
/// query's word `i` against the listed name's word `j`. Returns the score weighed by the
/// words' letters, and whether a pair was taken by its sound.
pub(crate) fn best_pairs(
    q_weight: &[usize],
    l_weight: &[usize],
    pair: impl Fn(usize, usize) -> (f64, bool),
) -> (f64, bool) {
    // Names are short: up to 8 × 8 words the pairs stay on the stack.
    const STACK: usize = 64;
    let n = q_weight.len() * l_weight.len();
    let mut stack = [(0.0f64, false, 0u8, 0u8); STACK];
    let mut heap = Vec::new();
    let pairs: &mut [(f64, bool, u8, u8)] =
        if n <= STACK && q_weight.len() <= 8 && l_weight.len() <= 8 {
            &mut stack[..n]
        } else {
            heap.resize(n, (0.0, false, 0u8, 0u8));
            &mut heap
        };
    // Past 255 words a name is no name; the rest are not paired.
    let (nq, nl) = (q_weight.len().min(255), l_weight.len().min(255));
    let mut k = 0;
    for i in 0..nq {
        for j in 0..nl {
            let (s, ph) = pair(i, j);
            pairs[k] = (s, ph, i as u8, j as u8);
            k += 1;
        }
    }
    let pairs = &mut pairs[..k];
    pairs.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then((x.2, x.3).cmp(&(y.2, y.3))));
    let (mut q_used, mut l_used) = (0u64, 0u64);
    let (mut q_heap, mut l_heap) = (Vec::new(), Vec::new());
    let small = nq <= 64 && nl <= 64;
    if !small {
        q_heap = vec![false; nq];
        l_heap = vec![false; nl];
    }
    let mut sum = 0.0;
    let mut phonetic = false;
    for &(s, ph, i, j) in pairs.iter() {
        let (i, j) = (i as usize, j as usize);
        if small {
            if q_used & (1 << i) != 0 || l_used & (1 << j) != 0 {
                continue;
            }
            q_used |= 1 << i;
            l_used |= 1 << j;
        } else {
            if q_heap[i] || l_heap[j] {
                continue;
            }
            q_heap[i] = true;
            l_heap[j] = true;
        }
        // Two different names are often 0.5 to 0.7 alike letter by letter; a pair that far
        // apart is no match at all, or a long common first name would carry any rest.
        if s >= WORD_FLOOR {
            sum += s * (q_weight[i] + l_weight[j]) as f64;
        }
        phonetic |= ph;
    }
    let letters: usize = q_weight.iter().chain(l_weight).sum();
    (sum / letters as f64, phonetic)
}

/// The names written together (only where the spacing differs: the caller asks only when
/// the word counts differ), without Winkler's prefix bonus, which a long common first name
/// would otherwise carry over a different rest; 0 below [`JOINED_FLOOR`]. Only names that
/// nearly coincide written together count so: `JOSE MANUEL ALTAMIRANO` and `JOSE MANUEL
/// RINCON MOLINA` share enough letters to be 0.81 alike joined, and are different people.
pub(crate) fn joined(query: &str, listed: &str) -> f64 {
    joined_counted(query, listed, &letters(query), &letters(listed))
}

/// [`joined`] with both strings' [`letters`] known: most pairs of names are told apart by
/// their letter counts alone, without comparing them.
pub(crate) fn joined_counted(query: &str, listed: &str, qc: &Letters, lc: &Letters) -> f64 {
    if jaro_bound(query, listed, qc, lc) < JOINED_FLOOR {
        return 0.0;
    }
    Some(jaro(query, listed))
        .filter(|&j| j >= JOINED_FLOOR)
        .unwrap_or(0.0)
}

/// How many times each letter A–Z occurs in a word (and, last, everything else), up to 255.
pub type Letters = [u8; 32];

pub fn letters(word: &str) -> Letters {
    let mut out = [0u8; 32];
    for b in word.bytes() {
        let i = if b.is_ascii_uppercase() {
            usize::from(b - b'A')
        } else {
            31
        };
        out[i] = out[i].saturating_add(1);
    }
    out
}

/// The most Jaro can be for two words: it counts matching letters, and no more letters can
/// match than the two words have in common, `(m/|a| + m/|b| + 1) / 3`. 1 where the words are
/// not ASCII (Jaro then counts characters, not bytes).
fn jaro_bound(a: &str, b: &str, ac: &Letters, bc: &Letters) -> f64 {
    if a.is_empty() || b.is_empty() {
        return if a == b { 1.0 } else { 0.0 };
    }
    // Anything but A–Z (counted last) and the lengths in bytes are not letters.
    if ac[31] != 0 || bc[31] != 0 {
        return 1.0;
    }
    // At most 32 × 255: a u16 holds the sum, and the loop runs on vectors.
    let common: u16 = ac.iter().zip(bc).map(|(x, y)| u16::from(*x.min(y))).sum();
    let m = f64::from(common).min(a.len().min(b.len()) as f64);
    if m == 0.0 {
        return 0.0;
    }
    (m / a.len() as f64 + m / b.len() as f64 + 1.0) / 3.0
}

/// [`word_score_with`] where it reaches [`WORD_FLOOR`], and 0 below it (where a pair counts
/// as unmatched anyway): pairs whose letter counts cannot reach the floor are not compared.
pub(crate) fn word_score_counted(
    a: &str,
    b: &str,
    (sa, ac): (&[u8; 4], &Letters),
    (sb, bc): (&[u8; 4], &Letters),
) -> (f64, bool) {
    let (short, long) = (a.len().min(b.len()), a.len().max(b.len()));
    if short * 3 < long * 2 {
        return (0.0, false); // as word_score_with decides
    }
    let phonetic = a.len() > 2 && b.len() > 2 && sa[0] != 0 && sa == sb;
    if !phonetic {
        // Jaro-Winkler grows with Jaro for a given common prefix.
        if winkler(jaro_bound(a, b, ac, bc), a, b) < WORD_FLOOR {
            return (0.0, false);
        }
    }
    let (s, ph) = word_score_with(a, b, sa, sb);
    if s < WORD_FLOOR {
        (0.0, false)
    } else {
        (s, ph)
    }
}

/// The better of the paired and the joined comparison.
pub(crate) fn choose(paired: f64, phonetic: bool, joined: f64) -> NameScore {
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

    #[test]
    fn letter_counts_only_skip_pairs_below_the_floor() {
        let words = [
            "MOHAMMED",
            "MUHAMAD",
            "KHALID",
            "CHALID",
            "HASAN",
            "HASSAN",
            "ERIC",
            "ERIK",
            "BADEGE",
            "BADEGHE",
            "YUN",
            "MEIYUN",
            "ZHANG",
            "ZANG",
            "AL",
            "ALI",
            "WHEELER",
            "PATRICIA",
            "DWAYNE",
            "DUANE",
            "ABDULRAHMAN",
            "ABDUL",
            "RAHMAN",
            "ŁÓDŹ",
            "LODZ",
        ];
        for a in words {
            for b in words {
                let exact = word_score(a, b);
                let counted =
                    word_score_counted(a, b, (&sound(a), &letters(a)), (&sound(b), &letters(b)));
                if exact.0 >= WORD_FLOOR {
                    assert_eq!(counted, exact, "{a} {b}");
                } else {
                    assert_eq!(counted, (0.0, false), "{a} {b}");
                }
                let j = jaro(a, b);
                let bound = jaro_bound(a, b, &letters(a), &letters(b));
                assert!(bound + 1e-12 >= j, "{a} {b}: {bound} < {j}");
            }
        }
    }
}
