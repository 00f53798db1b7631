//! Per 12 MP camera JPEG: the quality gate (every check but the MRZ, on a DCT-scaled
//! decode) and the full check with OCR, each against a plain full-resolution decode of the
//! same file in the same run (the `image` crate's JPEG decoder, to RGB).
//!
//! The photo is a clean specimen from idgate-specimen at 4000×3000, so the gate and the
//! check do all their work (outline found, page flattened, MRZ read). The OCR models come
//! from `IDGATE_MODELS_DIR` (scripts/lib.sh unpacks them); `scripts/bench-check` runs this.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use idgate_mrz::Date;
use idgate_specimen::{generate, Defect, Fonts, Options};
use idgate_vision::check::{check, gate, CheckOptions};
use idgate_vision::ocr::Ocr;

fn photo() -> Vec<u8> {
    let fonts = Fonts::system().expect("fonts installed by scripts/lib.sh");
    let opts = Options {
        width: 4000,
        height: 3000,
        today: Date::new(2026, 11, 24).unwrap(),
    };
    let s = generate(&fonts, Defect::Clean, 2, &opts);
    assert_eq!(s.extension, "jpeg");
    s.bytes
}

fn bench(c: &mut Criterion) {
    let bytes = photo();
    let dir = std::env::var("IDGATE_MODELS_DIR").expect("IDGATE_MODELS_DIR");
    let ocr = Ocr::load(std::path::Path::new(&dir)).unwrap();
    let opts = CheckOptions::new(Date::new(2026, 11, 24).unwrap());
    let report = check(&bytes, &ocr, &opts).unwrap();
    // The check must do all its work on this photo: outline found, page flattened, MRZ
    // lines read and parsed.
    assert!(report.corners.is_some(), "{:?}", report.findings);
    assert!(
        report.mrz.as_ref().is_some_and(|m| m.parsed.is_some()),
        "{:?}",
        report.findings
    );

    let mut g = c.benchmark_group("photo_12mp");
    g.sample_size(10);
    g.bench_function("full_decode", |b| {
        b.iter(|| {
            let img =
                image::load_from_memory_with_format(black_box(&bytes), image::ImageFormat::Jpeg)
                    .unwrap()
                    .to_rgb8();
            black_box(img.width())
        })
    });
    g.bench_function("gate", |b| {
        b.iter(|| black_box(gate(black_box(&bytes), &opts).unwrap()))
    });
    g.bench_function("check", |b| {
        b.iter(|| black_box(check(black_box(&bytes), &ocr, &opts).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
