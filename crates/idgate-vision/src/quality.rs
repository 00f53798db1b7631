//! Photo-quality measurements on a grey-scale page: exposure, focus and glare. These are the
//! measures the GLARE, BLURRY and TOO_DARK checks will threshold; the thresholds themselves
//! are calibrated on the specimen generator and the shared test photos (issue #4), not here.

use image::{GrayImage, RgbImage};

/// Luma (ITU-R BT.601) of every pixel.
pub fn luma(img: &RgbImage) -> GrayImage {
    let raw: Vec<u8> = img
        .as_raw()
        .chunks_exact(3)
        .map(|p| {
            let v = 299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]);
            (v / 1000) as u8
        })
        .collect();
    GrayImage::from_raw(img.width(), img.height(), raw).expect("one value per pixel")
}

/// Mean brightness, 0–255.
pub fn brightness(gray: &GrayImage) -> f32 {
    let n = gray.as_raw().len().max(1);
    gray.as_raw().iter().map(|&v| u64::from(v)).sum::<u64>() as f32 / n as f32
}

/// Variance of the 4-neighbour Laplacian: high for sharp edges, low for blur (defocus or
/// motion). Comparable only between images of similar size and content scale.
pub fn focus(gray: &GrayImage) -> f32 {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let raw = gray.as_raw();
    // Exact integer sums (a row's are far below i64's range), one row at a time.
    let (mut sum, mut sq) = (0i64, 0i64);
    for y in 1..h - 1 {
        let (up, row, down) = (
            &raw[(y - 1) * w..y * w],
            &raw[y * w..(y + 1) * w],
            &raw[(y + 1) * w..(y + 2) * w],
        );
        let (mut s, mut q) = (0i64, 0i64);
        for x in 1..w - 1 {
            let l = i32::from(row[x - 1]) + i32::from(row[x + 1]) + i32::from(up[x])
                - 4 * i32::from(row[x])
                + i32::from(down[x]);
            s += i64::from(l);
            q += i64::from(l * l);
        }
        sum += s;
        sq += q;
    }
    let n = ((w - 2) * (h - 2)) as f64;
    let mean = sum as f64 / n;
    (sq as f64 / n - mean * mean) as f32
}

/// A blown-out highlight: the bounding box of the largest connected region of pixels at or
/// above `level`, and the share of the image it covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Glare {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub area_fraction: f32,
}

pub fn largest_glare(gray: &GrayImage, level: u8) -> Option<Glare> {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let raw = gray.as_raw();
    let mut best: Option<crate::components::Component> = None;
    crate::components::for_each(
        w,
        h,
        w,
        |i| raw[i] >= level,
        |c| {
            if best
                .as_ref()
                .is_none_or(|b| c.pixels.len() > b.pixels.len())
            {
                best = Some(c);
            }
        },
    );
    best.map(|c| Glare {
        x: c.x0 as u32,
        y: c.y0 as u32,
        w: (c.x1 - c.x0 + 1) as u32,
        h: (c.y1 - c.y0 + 1) as u32,
        area_fraction: c.pixels.len() as f32 / raw.len().max(1) as f32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text-like detail: a fine checkerboard on mid grey.
    fn detailed(w: u32, h: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            image::Luma([if (x / 3 + y / 3) % 2 == 0 { 60 } else { 190 }])
        })
    }

    #[test]
    fn blur_lowers_focus_by_a_large_factor() {
        let sharp = detailed(120, 90);
        let soft = image::imageops::blur(&sharp, 2.0);
        let (fs, fb) = (focus(&sharp), focus(&soft));
        assert!(fs > 20.0 * fb, "sharp {fs}, blurred {fb}");
        assert_eq!(focus(&GrayImage::new(2, 2)), 0.0);
    }

    #[test]
    fn brightness_and_luma_follow_the_pixels() {
        let dark = RgbImage::from_pixel(10, 10, image::Rgb([20, 20, 20]));
        assert!((brightness(&luma(&dark)) - 20.0).abs() < 0.5);
        // Green weighs most in luma.
        let green = luma(&RgbImage::from_pixel(1, 1, image::Rgb([0, 255, 0])));
        let blue = luma(&RgbImage::from_pixel(1, 1, image::Rgb([0, 0, 255])));
        assert!(green.get_pixel(0, 0)[0] > 4 * blue.get_pixel(0, 0)[0]);
    }

    #[test]
    fn glare_is_located_and_the_largest_spot_wins() {
        let mut g = detailed(100, 80);
        for y in 20..40 {
            for x in 50..80 {
                g.put_pixel(x, y, image::Luma([255]));
            }
        }
        // A small specular dot elsewhere.
        for y in 70..72 {
            for x in 5..7 {
                g.put_pixel(x, y, image::Luma([255]));
            }
        }
        let glare = largest_glare(&g, 250).unwrap();
        assert_eq!((glare.x, glare.y, glare.w, glare.h), (50, 20, 30, 20));
        assert!((glare.area_fraction - 600.0 / 8000.0).abs() < 1e-6);
        assert_eq!(largest_glare(&detailed(10, 10), 250), None);
    }
}
