//! Machine-readable zones (ICAO Doc 9303) and national identity numbers.
//!
//! This crate is pure: no I/O, no clock, no dependencies beyond `std`. Callers pass
//! "today" explicitly ([`ParseOptions::today`]) so century inference and expiry are
//! testable with a fixed date.
//!
//! * [`parse`] takes MRZ lines exactly as printed and reports every field and check.
//! * [`read_ocr`] takes OCR output with the recogniser's per-character confidence (wrong
//!   case, spaces, `<` read as `K`, `O`/`0` swaps, missing trailing fillers) and returns
//!   the best valid reading, listing each correction it made. It never invents
//!   characters that fail a check digit, and swaps a look-alike only where the
//!   recogniser was unsure of it, so a forged number stays invalid.
//! * [`read`] takes typed text the same way, every character certain.
//! * [`national`] validates national identity numbers (China, Hong Kong, India, Brazil,
//!   Spain, Italy) by structure and checksum.
//!
//! Where peers disagree (the ICAO specimen state `UTO`, TD1 long document numbers whose
//! check digit includes or excludes the `<` filler) the choice is documented at the rule.

mod check;
mod country;
mod date;
mod format;
pub mod national;
mod render;
mod repair;

pub use check::{char_value, check_digit, check_digit_char};
pub use country::{is_known_code, ICAO_SPECIAL_CODES};
pub use date::Date;
pub use format::{parse, Check, Fields, Format, Mrz, MrzError, ParseOptions, Sex};
pub use render::{render, Specimen};
pub use repair::{read, read_ocr, Correction, OcrLine, SURE};
