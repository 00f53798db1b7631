//! Sanctions and PEP screening: list files read into entities, names folded across
//! scripts, an identity scored against every listed name with its qualifiers, and the diff
//! between two versions of a list.
//!
//! Architecture invariant: no I/O. Callers read the files, keep the versions and decide
//! what a match does to a case.
//!
//! - [`sources`]: OFAC's CSV (SDN and consolidated) and XML, the UN consolidated XML, the
//!   EU's and the UK's CSV, OpenSanctions FollowTheMoney JSON lines, a deployment's own
//!   CSV; malformed or cut files are refused.
//! - [`fold`]: names to upper-case Latin words (ICAO transliteration, Greek, Arabic,
//!   Chinese to pinyin; honorifics and company forms dropped), countries to ISO codes.
//! - [`score`]: Jaro-Winkler, Soundex, word best-pairs.
//! - [`index`]: candidates by sound ranked by rarity, scores with birth date, nationality and gender as
//!   qualifiers and identifiers as exact matches; every match says why.
//! - [`diff`]: added, changed and removed entities between versions.

pub mod diff;
pub mod entity;
pub mod fold;
pub mod index;
pub mod score;
pub mod sources;

pub use diff::{diff, Diff};
pub use entity::{Entity, EntityKind, PartialDate, Topic};
pub use index::{Adjustment, Index, Match, Query, Settings};
pub use sources::{Files, Format, ImportError};
