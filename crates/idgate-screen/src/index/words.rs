//! The words a screening compares: listed words kept once with what is computed of them at
//! build, the query's words, and the scores of their pairs met during one screening.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::entity::Entity;
use crate::score;

/// A word of the listed names, kept once however many names hold it: a query compares
/// itself with each word once, not with each name that holds it.
pub(super) struct Word {
    pub(super) text: Box<str>,
    pub(super) sound: [u8; 4],
    pub(super) letters: score::Letters,
    pub(super) weight: usize,
}

pub(super) struct ListedName {
    pub(super) name: String,
    /// Into [`Index::words`].
    pub(super) words: Vec<u32>,
    /// Each word's weight (kept beside the numbers: read for every candidate).
    pub(super) weights: Vec<usize>,
    /// The words written together, for other spacing.
    pub(super) joined: Box<str>,
    pub(super) joined_letters: score::Letters,
}

pub(super) struct Listed {
    pub(super) entity: Entity,
    pub(super) digest: String,
    pub(super) names: Vec<ListedName>,
}

/// Entity and word numbers are small integers: hashed by one multiplication.
#[derive(Default)]
pub(super) struct NumberHasher(u64);

impl Hasher for NumberHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

pub(super) type NumberMap<V> = HashMap<u32, V, BuildHasherDefault<NumberHasher>>;

/// One word of the identity's names.
pub(super) struct QueryWord {
    pub(super) text: String,
    pub(super) sound: [u8; 4],
    pub(super) letters: score::Letters,
    pub(super) weight: usize,
}

/// One name of the identity.
pub(super) struct QueryName<'q> {
    pub(super) name: &'q str,
    pub(super) words: Vec<QueryWord>,
    pub(super) joined: String,
    pub(super) joined_letters: score::Letters,
}

/// Word scores met during one screening, each pair of a query word and a listed word
/// computed once.
pub(super) struct Scores<'a> {
    pub(super) words: &'a [Word],
    pub(super) query: &'a [QueryWord],
    /// Listed word → (the screening that met it, the offset of its row of scores, one per
    /// query word); kept per thread across screenings, so only a word met again in this
    /// screening (`generation`) is read back.
    pub(super) seen: Vec<(u32, u32)>,
    pub(super) generation: u32,
    pub(super) rows: Vec<(f64, bool)>,
}

thread_local! {
    /// The `seen` table of the last screening on this thread, and its generation.
    static SEEN: std::cell::RefCell<(u32, Vec<(u32, u32)>)> =
        const { std::cell::RefCell::new((0, Vec::new())) };
}

impl<'a> Scores<'a> {
    pub(super) fn new(words: &'a [Word], query: &'a [QueryWord]) -> Self {
        let (mut generation, mut seen) = SEEN.with(|s| std::mem::take(&mut *s.borrow_mut()));
        generation = generation.wrapping_add(1);
        if generation == 0 {
            seen.clear();
            generation = 1;
        }
        if seen.len() < words.len() {
            seen.resize(words.len(), (0, 0));
        }
        Scores {
            words,
            query,
            seen,
            generation,
            rows: Vec::with_capacity(256),
        }
    }

    pub(super) fn row(&mut self, word: u32) -> usize {
        let (met, at) = self.seen[word as usize];
        if met == self.generation {
            return at as usize;
        }
        let at = self.rows.len();
        let w = &self.words[word as usize];
        for q in self.query {
            self.rows.push(score::word_score_counted(
                &q.text,
                &w.text,
                (&q.sound, &q.letters),
                (&w.sound, &w.letters),
            ));
        }
        self.seen[word as usize] = (self.generation, at as u32);
        at
    }
}

impl Drop for Scores<'_> {
    fn drop(&mut self) {
        let seen = std::mem::take(&mut self.seen);
        let generation = self.generation;
        SEEN.with(|s| *s.borrow_mut() = (generation, seen));
    }
}
