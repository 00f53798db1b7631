//! Reading MRZ text that came out of OCR.
//!
//! OCR of OCR-B confuses a known set of glyph pairs (`O`/`0`, `I`/`1`, `B`/`8`, `S`/`5`,
//! `Z`/`2`, `G`/`6`) and often reads the filler `<` as `K` or drops a few fillers. The
//! repair uses what each position may hold (digits in dates and check digits, letters in
//! codes and names) and, for mixed fields, lets the check digits choose between readings.
//! A change is made only when exactly one minimal reading verifies; otherwise the text is
//! left as read and the failing check is reported.
//!
//! `K` and `<` have values 20 and 0, which are equal modulo 10 under every weight, so no
//! check digit can tell them apart: `K` becomes `<` only by position (inside a run of
//! fillers at the end of a field).
//!
//! A check digit that fails is also what a forged document looks like: one digit of the
//! number changed, the check digit left alone. So a look-alike is swapped by a check digit
//! only where the reader was unsure of that character ([`read_ocr`], with the
//! recogniser's per-character confidence); a character read with confidence, or typed
//! ([`read`]), is never swapped, and a confidently read MRZ whose check digits fail stays
//! invalid, for a person to look at, instead of being "repaired" into a valid one.

use crate::check::verifies;
use crate::format::{parse, Format, Mrz, MrzError, ParseOptions, CHECK_DIGIT_NAMES};
use std::fmt;

/// The recogniser's confidence (0–1) in a character at and above which it is taken as
/// read: it is not swapped for a look-alike to make a check digit pass.
pub const SURE: f32 = 0.9;

/// One line of OCR output with the recogniser's confidence in each of its characters
/// (one value per `char` of `text`, 0–1). An empty `confidence` means not known: every
/// character is then open to repair, as for a reader that reports none.
#[derive(Clone, Default, PartialEq)]
pub struct OcrLine {
    pub text: String,
    pub confidence: Vec<f32>,
}

impl OcrLine {
    /// A line whose confidence is not known.
    pub fn unknown(text: impl Into<String>) -> OcrLine {
        OcrLine {
            text: text.into(),
            confidence: Vec::new(),
        }
    }
}

/// The text is personal data: only its length is shown.
impl fmt::Debug for OcrLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OcrLine")
            .field("chars", &self.text.chars().count())
            .field("confidence", &self.confidence)
            .finish()
    }
}

/// One change [`read`] made to the OCR text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Correction {
    /// 0-based line and column in the repaired lines.
    pub line: usize,
    pub column: usize,
    /// `None` when a filler was inserted.
    pub from: Option<char>,
    /// `None` when a character was removed.
    pub to: Option<char>,
    pub reason: &'static str,
}

impl fmt::Display for Correction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |c: Option<char>| c.map_or("nothing".to_string(), |c| format!("'{c}'"));
        write!(
            f,
            "line {} column {}: {} -> {} ({})",
            self.line + 1,
            self.column + 1,
            show(self.from),
            show(self.to),
            self.reason
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Digits only (dates).
    Digits,
    /// A check digit: a digit or `<`.
    CheckDigit,
    /// Letters and fillers (codes, names, sex, document code).
    Letters,
    /// Letters, digits and fillers: repaired only through a check digit.
    Mixed,
}

/// A run of positions on one line holding one kind of character.
#[derive(Clone, Copy)]
struct Span {
    line: usize,
    start: usize,
    end: usize,
    kind: Kind,
    /// Name fields get the `K`-inside-fillers rule with a stricter context.
    name: bool,
}

const fn span(line: usize, start: usize, end: usize, kind: Kind) -> Span {
    Span {
        line,
        start,
        end,
        kind,
        name: false,
    }
}

const fn name(line: usize, start: usize, end: usize) -> Span {
    Span {
        line,
        start,
        end,
        kind: Kind::Letters,
        name: true,
    }
}

/// Data ranges covered by a check digit at `check`.
struct Group {
    data: &'static [(usize, usize, usize)],
    check: (usize, usize),
}

struct Layout {
    spans: &'static [Span],
    groups: &'static [Group],
}

impl Layout {
    /// The composite check is the last group where a layout has one (its data spans
    /// more than one range).
    fn composite(&self) -> Option<&Group> {
        self.groups.last().filter(|g| g.data.len() > 1)
    }
}

use Kind::*;

const TD1: Layout = Layout {
    spans: &[
        span(0, 0, 2, Letters),
        span(0, 2, 5, Letters),
        span(0, 5, 30, Mixed),
        span(1, 0, 6, Digits),
        span(1, 6, 7, CheckDigit),
        span(1, 7, 8, Letters),
        span(1, 8, 14, Digits),
        span(1, 14, 15, CheckDigit),
        span(1, 15, 18, Letters),
        span(1, 18, 29, Mixed),
        span(1, 29, 30, CheckDigit),
        name(2, 0, 30),
    ],
    groups: &[
        Group {
            data: &[(0, 5, 14)],
            check: (0, 14),
        },
        Group {
            data: &[(1, 0, 6)],
            check: (1, 6),
        },
        Group {
            data: &[(1, 8, 14)],
            check: (1, 14),
        },
        Group {
            data: &[(0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)],
            check: (1, 29),
        },
    ],
};

const TD2: Layout = Layout {
    spans: &[
        span(0, 0, 2, Letters),
        span(0, 2, 5, Letters),
        name(0, 5, 36),
        span(1, 0, 9, Mixed),
        span(1, 9, 10, CheckDigit),
        span(1, 10, 13, Letters),
        span(1, 13, 19, Digits),
        span(1, 19, 20, CheckDigit),
        span(1, 20, 21, Letters),
        span(1, 21, 27, Digits),
        span(1, 27, 28, CheckDigit),
        span(1, 28, 35, Mixed),
        span(1, 35, 36, CheckDigit),
    ],
    groups: &[
        Group {
            data: &[(1, 0, 9)],
            check: (1, 9),
        },
        Group {
            data: &[(1, 13, 19)],
            check: (1, 19),
        },
        Group {
            data: &[(1, 21, 27)],
            check: (1, 27),
        },
        Group {
            data: &[(1, 0, 10), (1, 13, 20), (1, 21, 35)],
            check: (1, 35),
        },
    ],
};

const MRVB: Layout = Layout {
    spans: &[
        span(0, 0, 2, Letters),
        span(0, 2, 5, Letters),
        name(0, 5, 36),
        span(1, 0, 9, Mixed),
        span(1, 9, 10, CheckDigit),
        span(1, 10, 13, Letters),
        span(1, 13, 19, Digits),
        span(1, 19, 20, CheckDigit),
        span(1, 20, 21, Letters),
        span(1, 21, 27, Digits),
        span(1, 27, 28, CheckDigit),
        span(1, 28, 36, Mixed),
    ],
    groups: &[
        Group {
            data: &[(1, 0, 9)],
            check: (1, 9),
        },
        Group {
            data: &[(1, 13, 19)],
            check: (1, 19),
        },
        Group {
            data: &[(1, 21, 27)],
            check: (1, 27),
        },
    ],
};

const TD3: Layout = Layout {
    spans: &[
        span(0, 0, 2, Letters),
        span(0, 2, 5, Letters),
        name(0, 5, 44),
        span(1, 0, 9, Mixed),
        span(1, 9, 10, CheckDigit),
        span(1, 10, 13, Letters),
        span(1, 13, 19, Digits),
        span(1, 19, 20, CheckDigit),
        span(1, 20, 21, Letters),
        span(1, 21, 27, Digits),
        span(1, 27, 28, CheckDigit),
        span(1, 28, 42, Mixed),
        span(1, 42, 43, CheckDigit),
        span(1, 43, 44, CheckDigit),
    ],
    groups: &[
        Group {
            data: &[(1, 0, 9)],
            check: (1, 9),
        },
        Group {
            data: &[(1, 13, 19)],
            check: (1, 19),
        },
        Group {
            data: &[(1, 21, 27)],
            check: (1, 27),
        },
        Group {
            data: &[(1, 28, 42)],
            check: (1, 42),
        },
        Group {
            data: &[(1, 0, 10), (1, 13, 20), (1, 21, 43)],
            check: (1, 43),
        },
    ],
};

const MRVA: Layout = Layout {
    spans: &[
        span(0, 0, 2, Letters),
        span(0, 2, 5, Letters),
        name(0, 5, 44),
        span(1, 0, 9, Mixed),
        span(1, 9, 10, CheckDigit),
        span(1, 10, 13, Letters),
        span(1, 13, 19, Digits),
        span(1, 19, 20, CheckDigit),
        span(1, 20, 21, Letters),
        span(1, 21, 27, Digits),
        span(1, 27, 28, CheckDigit),
        span(1, 28, 44, Mixed),
    ],
    groups: &[
        Group {
            data: &[(1, 0, 9)],
            check: (1, 9),
        },
        Group {
            data: &[(1, 13, 19)],
            check: (1, 19),
        },
        Group {
            data: &[(1, 21, 27)],
            check: (1, 27),
        },
    ],
};

const FRENCH_ID: Layout = Layout {
    spans: &[
        span(0, 0, 2, Letters),
        span(0, 2, 5, Letters),
        name(0, 5, 30),
        span(0, 30, 36, Mixed),
        // Document number: issue year and month, issuing office, serial.
        span(1, 0, 4, Digits),
        span(1, 4, 7, Mixed),
        span(1, 7, 12, Digits),
        span(1, 12, 13, CheckDigit),
        name(1, 13, 27),
        span(1, 27, 33, Digits),
        span(1, 33, 34, CheckDigit),
        span(1, 34, 35, Letters),
        span(1, 35, 36, CheckDigit),
    ],
    groups: &[
        Group {
            data: &[(1, 0, 12)],
            check: (1, 12),
        },
        Group {
            data: &[(1, 27, 33)],
            check: (1, 33),
        },
        Group {
            data: &[(0, 0, 36), (1, 0, 35)],
            check: (1, 35),
        },
    ],
};

fn layout(format: Format) -> &'static Layout {
    match format {
        Format::Td1 => &TD1,
        Format::Td2 => &TD2,
        Format::Td3 => &TD3,
        Format::MrvA => &MRVA,
        Format::MrvB => &MRVB,
        Format::FrenchId => &FRENCH_ID,
    }
}

fn to_digit(c: u8) -> Option<u8> {
    Some(match c {
        b'O' | b'Q' | b'D' | b'U' => b'0',
        b'I' | b'L' | b'J' => b'1',
        b'Z' => b'2',
        b'A' => b'4',
        b'S' => b'5',
        b'G' => b'6',
        b'T' => b'7',
        b'B' => b'8',
        _ => return None,
    })
}

fn to_letter(c: u8) -> Option<u8> {
    Some(match c {
        b'0' => b'O',
        b'1' => b'I',
        b'2' => b'Z',
        b'4' => b'A',
        b'5' => b'S',
        b'6' => b'G',
        b'7' => b'T',
        b'8' => b'B',
        _ => return None,
    })
}

/// The other reading of an ambiguous glyph in a mixed field.
fn alternative(c: u8) -> Option<u8> {
    Some(match c {
        b'0' => b'O',
        b'O' => b'0',
        b'1' => b'I',
        b'I' => b'1',
        b'8' => b'B',
        b'B' => b'8',
        b'5' => b'S',
        b'S' => b'5',
        b'2' => b'Z',
        b'Z' => b'2',
        b'6' => b'G',
        b'G' => b'6',
        _ => return None,
    })
}

/// A one-digit check passes 1 in 10 random readings, so a change guided by it must also
/// satisfy the composite check where the layout has one (1 in 100 together), and only
/// one look-alike per check is swapped: with two, a document number with five ambiguous
/// glyphs has 15 readings to try and a wrong one verifies too often.
const MAX_CHANGES: usize = 1;

struct Repair {
    lines: Vec<Vec<u8>>,
    /// Per character: the reader was sure of it (see [`SURE`]).
    sure: Vec<Vec<bool>>,
    corrections: Vec<Correction>,
}

impl Repair {
    fn set(&mut self, line: usize, col: usize, to: u8, reason: &'static str) {
        let from = self.lines[line][col];
        if from != to {
            self.lines[line][col] = to;
            self.corrections.push(Correction {
                line,
                column: col,
                from: Some(char::from(from)),
                to: Some(char::from(to)),
                reason,
            });
        }
    }

    /// Brings each line to `len` by adding or removing fillers in its longest filler run
    /// (OCR drops or doubles `<` inside long runs far more often than elsewhere).
    fn fit_length(&mut self, line: usize, len: usize) -> bool {
        while self.lines[line].len() != len {
            let l = &self.lines[line];
            let (start, run) = longest_filler_run(l);
            if l.len() < len {
                let at = if run == 0 { l.len() } else { start + run };
                self.lines[line].insert(at, b'<');
                self.sure[line].insert(at, false);
                self.corrections.push(Correction {
                    line,
                    column: at,
                    from: None,
                    to: Some('<'),
                    reason: "missing filler",
                });
            } else {
                if run == 0 {
                    return false;
                }
                let at = start + run - 1;
                self.lines[line].remove(at);
                self.sure[line].remove(at);
                self.corrections.push(Correction {
                    line,
                    column: at,
                    from: Some('<'),
                    to: None,
                    reason: "extra filler",
                });
            }
        }
        true
    }

    fn by_kind(&mut self, s: Span) {
        for col in s.start..s.end {
            let c = self.lines[s.line][col];
            match s.kind {
                Digits => {
                    if let Some(d) = to_digit(c) {
                        self.set(s.line, col, d, "digit expected");
                    }
                }
                CheckDigit => {
                    if c == b'K' {
                        self.set(s.line, col, b'<', "filler read as K");
                    } else if let Some(d) = to_digit(c) {
                        self.set(s.line, col, d, "check digit expected");
                    }
                }
                Letters => {
                    if let Some(l) = to_letter(c) {
                        self.set(s.line, col, l, "letter expected");
                    }
                }
                Mixed => {}
            }
        }
        if s.kind == Letters || s.kind == Mixed {
            self.fillers_read_as_k(s);
        }
    }

    /// `K`s in the filler run that ends a field are fillers. In names a `K` needs two
    /// fillers before it (`JOHN<K<<<` keeps a middle initial K); elsewhere one. Known
    /// limit: a last given name made only of Ks (`SMITH<<K<<<`, `SMITH<<KK<<`) reads as fillers.
    fn fillers_read_as_k(&mut self, s: Span) {
        let field = &self.lines[s.line][s.start..s.end];
        let tail = field
            .iter()
            .rev()
            .take_while(|c| **c == b'<' || **c == b'K')
            .count();
        let tail_start = s.end - tail;
        let need = if s.name { 2 } else { 1 };
        let mut fillers_before = 0;
        for col in tail_start..s.end {
            match self.lines[s.line][col] {
                b'<' => fillers_before += 1,
                _ if fillers_before >= need => {
                    self.set(s.line, col, b'<', "filler read as K");
                    fillers_before += 1;
                }
                _ => {}
            }
        }
    }

    fn group_data(&self, g: &Group) -> Vec<u8> {
        g.data
            .iter()
            .flat_map(|&(l, a, b)| self.lines[l][a..b].iter().copied())
            .collect()
    }

    fn verifies(&self, g: &Group) -> bool {
        verifies(&self.group_data(g), self.lines[g.check.0][g.check.1])
    }

    /// In TD1 the document number's check digit sits inside the mixed span (a long number
    /// runs on through it with a filler there), so a letter read in that position is not
    /// turned into a digit by kind. A letter is never right there: its digit reading is.
    fn check_as_digit(&self, g: &Group) -> Option<(usize, usize, u8)> {
        let (l, c) = g.check;
        let read = self.lines[l][c];
        if read.is_ascii_digit() || read == b'<' {
            return None;
        }
        to_digit(read).map(|d| (l, c, d))
    }

    /// Tries the other reading of ambiguous glyphs in the mixed positions a check covers
    /// that the reader was unsure of.
    fn by_check_digit(
        &mut self,
        layout: &Layout,
        g: &Group,
        mixed: &[(usize, usize)],
        locked: &[(usize, usize)],
    ) {
        if let Some((l, c, d)) = self.check_as_digit(g) {
            self.set(l, c, d, "check digit expected");
        }
        // A filler in the check position announces a TD1/TD2 long document number (or
        // an empty optional field): there is no digit to repair towards.
        if self.verifies(g) || self.lines[g.check.0][g.check.1] == b'<' {
            return;
        }
        let candidates: Vec<(usize, usize, u8)> = g
            .data
            .iter()
            .flat_map(|&(l, a, b)| (a..b).map(move |c| (l, c)))
            .filter(|p| mixed.contains(p) && !locked.contains(p))
            .filter(|&(l, c)| !self.sure[l][c])
            .filter_map(|(l, c)| alternative(self.lines[l][c]).map(|alt| (l, c, alt)))
            .collect();
        let passes = |trial: &[Vec<u8>], g: &Group| {
            let data: Vec<u8> = g
                .data
                .iter()
                .flat_map(|&(l, a, b)| trial[l][a..b].iter().copied())
                .collect();
            verifies(&data, trial[g.check.0][g.check.1])
        };
        for changes in 1..=MAX_CHANGES.min(candidates.len()) {
            let mut found: Vec<Vec<usize>> = Vec::new();
            for_each_combination(candidates.len(), changes, &mut |idx| {
                let mut trial = self.lines.clone();
                for &i in idx {
                    let (l, c, alt) = candidates[i];
                    trial[l][c] = alt;
                }
                if passes(&trial, g) && layout.composite().is_none_or(|c| passes(&trial, c)) {
                    found.push(idx.to_vec());
                }
            });
            match found.len() {
                0 => continue,
                1 => {
                    for &i in &found[0] {
                        let (l, c, alt) = candidates[i];
                        self.set(l, c, alt, "check digit chose the reading");
                    }
                    return;
                }
                _ => return, // several readings verify: do not guess
            }
        }
    }
}

fn longest_filler_run(l: &[u8]) -> (usize, usize) {
    let (mut best, mut best_len, mut i) = (0, 0, 0);
    while i < l.len() {
        if l[i] == b'<' {
            let start = i;
            while i < l.len() && l[i] == b'<' {
                i += 1;
            }
            if i - start >= best_len {
                best = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    (best, best_len)
}

fn for_each_combination(n: usize, k: usize, f: &mut dyn FnMut(&[usize])) {
    fn go(start: usize, n: usize, k: usize, acc: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
        if acc.len() == k {
            f(acc);
            return;
        }
        for i in start..n {
            acc.push(i);
            go(i + 1, n, k, acc, f);
            acc.pop();
        }
    }
    go(0, n, k, &mut Vec::with_capacity(k), f);
}

/// Normalises one OCR line: upper case, no spaces, look-alikes of `<` mapped to it; each
/// character kept with whether the reader was sure of it.
fn normalise_line(line: &OcrLine) -> (Vec<u8>, Vec<bool>) {
    line.text
        .chars()
        .enumerate()
        .filter(|(_, c)| !c.is_whitespace())
        .map(|(i, c)| {
            let c = match c {
                '«' | '‹' | '≤' | '〈' | '＜' => '<',
                c => c.to_ascii_uppercase(),
            };
            let sure = line.confidence.get(i).is_some_and(|&p| p >= SURE);
            (if c.is_ascii() { c as u8 } else { b'?' }, sure)
        })
        .unzip()
}

/// Guesses the layout from line count and lengths when OCR got lengths slightly wrong.
fn guess_format(lines: &[Vec<u8>]) -> Option<Format> {
    let n = lines.len();
    // The document code and issuer are letters: read them as such before deciding.
    let first: Vec<u8> = lines
        .first()?
        .iter()
        .take(5)
        .map(|&c| to_letter(c).unwrap_or(c))
        .collect();
    let avg = lines.iter().map(Vec::len).sum::<usize>() / n;
    match n {
        3 if (26..=34).contains(&avg) => Some(Format::Td1),
        2 if (32..40).contains(&avg) => Some(if first.starts_with(b"IDFRA") {
            Format::FrenchId
        } else if first.starts_with(b"V") {
            Format::MrvB
        } else {
            Format::Td2
        }),
        2 if (40..=48).contains(&avg) => Some(if first.starts_with(b"V") {
            Format::MrvA
        } else {
            Format::Td3
        }),
        _ => None,
    }
}

/// Reads MRZ text as typed or printed (lines separated by newlines): case, spaces, `<`
/// read as `K`, missing fillers and letters in digit-only fields are repaired, but every
/// character counts as certain, so no look-alike is swapped to make a check digit pass (a
/// failing check digit on typed text is a typing mistake or a forgery, not a misreading).
/// The result lists every correction made.
pub fn read(raw: &str, opts: &ParseOptions) -> Result<Mrz, MrzError> {
    let lines: Vec<OcrLine> = raw
        .lines()
        .map(|l| OcrLine {
            text: l.to_string(),
            confidence: vec![1.0; l.chars().count()],
        })
        .collect();
    read_ocr(&lines, opts)
}

/// Reads OCR output as an MRZ, repairing what the layout and check digits allow: a
/// look-alike (`O`/`0`, `2`/`Z`, ...) is swapped by a check digit only where the line's
/// confidence in that character is under [`SURE`]. The result lists every correction made
/// and says whether a failing check may be a misreading ([`Mrz::doubtful`]).
pub fn read_ocr(lines: &[OcrLine], opts: &ParseOptions) -> Result<Mrz, MrzError> {
    let (lines, sure): (Vec<Vec<u8>>, Vec<Vec<bool>>) = lines
        .iter()
        .flat_map(|l| {
            // A caller may pass several lines in one text.
            let mut at = 0;
            l.text
                .split('\n')
                .map(|part| {
                    let n = part.chars().count();
                    let confidence = l.confidence.get(at..at + n).unwrap_or(&[]).to_vec();
                    at += n + 1;
                    normalise_line(&OcrLine {
                        text: part.to_string(),
                        confidence,
                    })
                })
                .collect::<Vec<_>>()
        })
        .filter(|(l, _)| !l.is_empty())
        .unzip();
    let unknown = MrzError::UnknownLayout {
        lines: lines.len(),
        lengths: lines.iter().map(Vec::len).collect(),
    };
    let format = guess_format(&lines).ok_or_else(|| unknown.clone())?;
    let mrz =
        read_as(format, lines.clone(), sure.clone(), opts).ok_or_else(|| unknown.clone())??;
    // France also issues TD2 documents (see `parse`). Repair can make the French layout's
    // check digits pass by coincidence while other checks fail, so compare whole readings:
    // a valid one wins, then the one with fewer failed checks, then the French one.
    if mrz.format == Format::FrenchId && !mrz.valid() {
        if let Some(Ok(td2)) = read_as(Format::Td2, lines, sure, opts) {
            if td2.valid() || td2.failed_checks().count() < mrz.failed_checks().count() {
                return Ok(td2);
            }
        }
    }
    Ok(mrz)
}

/// Repairs `lines` as `format`; `None` when the lengths cannot be made to fit.
fn read_as(
    format: Format,
    lines: Vec<Vec<u8>>,
    sure: Vec<Vec<bool>>,
    opts: &ParseOptions,
) -> Option<Result<Mrz, MrzError>> {
    let mut r = Repair {
        lines,
        sure,
        corrections: Vec::new(),
    };
    let (_, len) = format.shape();
    for line in 0..r.lines.len() {
        if !r.fit_length(line, len) {
            return None;
        }
    }
    let layout = layout(format);
    for s in layout.spans {
        r.by_kind(*s);
    }
    let mixed: Vec<(usize, usize)> = layout
        .spans
        .iter()
        .filter(|s| s.kind == Mixed)
        .flat_map(|s| (s.start..s.end).map(move |c| (s.line, c)))
        .collect();
    let mut locked: Vec<(usize, usize)> = Vec::new();
    for g in layout.groups {
        r.by_check_digit(layout, g, &mixed, &locked);
        if r.verifies(g) {
            locked.extend(
                g.data
                    .iter()
                    .flat_map(|&(l, a, b)| (a..b).map(move |c| (l, c))),
            );
        }
    }
    let text: Vec<String> = r
        .lines
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    let refs: Vec<&str> = text.iter().map(String::as_str).collect();
    // A failing check covers a character the reader was unsure of: it may be a
    // misreading. Checks that are no check digits (dates, codes) may fail for any
    // character of the lines.
    let unsure_in = |l: usize, a: usize, b: usize| r.sure[l][a..b].iter().any(|s| !s);
    let group_doubtful = layout.groups.iter().any(|g| {
        !r.verifies(g)
            && r.lines[g.check.0][g.check.1] != b'<'
            && (g.data.iter().any(|&(l, a, b)| unsure_in(l, a, b))
                || unsure_in(g.check.0, g.check.1, g.check.1 + 1))
    });
    let any_unsure = r.sure.iter().flatten().any(|s| !s);
    let parsed = parse(&refs, opts).map(|mut mrz| {
        let other_failed = mrz
            .checks
            .iter()
            .any(|c| !c.ok && !CHECK_DIGIT_NAMES.contains(&c.name));
        mrz.doubtful = group_doubtful || (other_failed && any_unsure);
        mrz.corrections = r.corrections;
        mrz
    });
    Some(parsed)
}
