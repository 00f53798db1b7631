//! National identity number validation never panics on any input, for every kind.
#![no_main]

use idgate_mrz::national::{validate, IdKind};
use idgate_mrz::Date;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let today = Date::new(2026, 11, 24).unwrap();
    let text = String::from_utf8_lossy(data);
    for kind in IdKind::ALL {
        let _ = validate(kind, &text, today);
    }
});
