//! What an upload goes through before anything is stored (`check_upload`): the type by
//! content, the size from the header, whether the file is whole, then a reduced decode
//! under limits. Any bytes give an answer or a refusal, never a panic; and a picture that
//! decodes is the size its header declared.
#![no_main]

use idgate_vision::input::{decode_scaled, InputLimits};
use idgate_vision::probe::{self, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(format) = probe::sniff(data) else {
        return;
    };
    if format == Format::Pdf {
        let _ = probe::pdf_complete(data);
        return;
    }
    let dims = probe::dimensions(format, data);
    if format == Format::Jpeg {
        let _ = probe::jpeg_complete(data);
    }
    let limits = InputLimits {
        max_bytes: 1 << 20,
        max_pixels: 4_000_000,
    };
    if let (Ok(d), Some((w, h))) = (decode_scaled(data, limits, 256), dims) {
        assert!(u64::from(w) * u64::from(h) <= limits.max_pixels);
        assert_eq!((d.stored_width, d.stored_height), (w, h));
    }
});
