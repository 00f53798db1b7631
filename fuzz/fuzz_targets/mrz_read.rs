//! Any bytes, as OCR output or as exact lines, must give a result or an error, never a panic;
//! and whatever `read` accepts as valid must parse back to the same fields.
#![no_main]

use idgate_mrz::{parse, read, Date, ParseOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ParseOptions {
        today: Date::new(2026, 11, 24).unwrap(),
    };
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.lines().collect();
    let _ = parse(&lines, &opts);
    if let Ok(m) = read(&text, &opts) {
        if m.valid() {
            let repaired: Vec<&str> = m.lines.iter().map(String::as_str).collect();
            let again = parse(&repaired, &opts).expect("a valid reading parses");
            assert_eq!(again.fields, m.fields);
            assert!(again.valid());
        }
    }
});
