//! Image processing for idgate: safe decoding of untrusted uploads ([`input`]) and text
//! reading with the PP-OCRv4 detection and recognition networks run by tract ([`ocr`]), and
//! photo-quality measures ([`quality`]).
//!
//! Architecture invariant: this crate does no network or database I/O and never logs image
//! content; it reads model files from a directory the caller names, once, at load time.

mod band;
pub mod check;
mod components;
pub mod detail;
pub mod document;
pub mod input;
pub mod jpeg;
pub mod ocr;
pub mod probe;
pub mod quality;
