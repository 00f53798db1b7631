//! HEIC input (iPhone photos) through Debian's libheif. The file is made here from a known
//! image with `heif-enc` (Debian libheif-examples, installed by scripts/lib.sh), so the
//! decoded pixels can be compared with what went in.

use idgate_vision::input::{decode, Format, InputLimits};
use image::{Rgb, RgbImage};
use std::process::Command;

/// Four flat quadrants: red, green, blue, grey.
fn quadrants(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| match (x < w / 2, y < h / 2) {
        (true, true) => Rgb([200, 40, 40]),
        (false, true) => Rgb([40, 180, 60]),
        (true, false) => Rgb([40, 60, 200]),
        (false, false) => Rgb([128, 128, 128]),
    })
}

fn heic_of(img: &RgbImage) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("in.png");
    let heic = dir.path().join("out.heic");
    img.save(&png).unwrap();
    let out = Command::new("heif-enc")
        .args(["-q", "90", "-o"])
        .arg(&heic)
        .arg(&png)
        .output()
        .expect("heif-enc (Debian libheif-examples, installed by scripts/lib.sh)");
    assert!(out.status.success(), "{out:?}");
    std::fs::read(&heic).unwrap()
}

#[test]
fn heic_photos_decode_to_the_pixels_that_went_in() {
    let src = quadrants(320, 240);
    let bytes = heic_of(&src);
    let d = decode(&bytes, InputLimits::default()).unwrap();
    assert_eq!(d.format, Format::Heic);
    assert_eq!(d.image.dimensions(), (320, 240));
    for (x, y) in [(40, 40), (280, 40), (40, 200), (280, 200)] {
        let (a, b) = (src.get_pixel(x, y), d.image.get_pixel(x, y));
        for k in 0..3 {
            assert!(
                (i32::from(a[k]) - i32::from(b[k])).abs() <= 20,
                "({x},{y}): {a:?} became {b:?}"
            );
        }
    }
}

#[test]
fn heic_limits_and_damage_are_clear_errors() {
    let bytes = heic_of(&quadrants(320, 240));
    let few = InputLimits {
        max_bytes: 1 << 20,
        max_pixels: 10_000,
    };
    assert_eq!(decode(&bytes, few).unwrap_err().code(), "image_too_large");
    let cut = &bytes[..bytes.len() / 2];
    assert_eq!(
        decode(cut, InputLimits::default()).unwrap_err().code(),
        "unreadable_image"
    );
}
