//! The gate's fast reduced JPEG decoder on any bytes: an answer or `None`, never a panic,
//! a hang or a read out of bounds; and a picture it does make is the size the file's
//! header says, reduced (what the upload probe measured is what the checks look at).
#![no_main]

use idgate_vision::{jpeg, probe};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for reduction in [2u32, 4, 8] {
        if let Some(img) = jpeg::decode_reduced(data, reduction) {
            assert_eq!(probe::sniff(data), Some(probe::Format::Jpeg));
            let (w, h) = probe::dimensions(probe::Format::Jpeg, data)
                .expect("a JPEG the fast path decodes has a size in its header");
            assert_eq!(
                (img.width(), img.height()),
                (w.div_ceil(reduction), h.div_ceil(reduction))
            );
        }
    }
    let _ = jpeg::decode_reduced_with_centre(data, 8, 1, 64);
});
