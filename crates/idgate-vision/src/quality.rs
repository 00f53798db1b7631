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

/// Side of the square tiles glare is judged in, in page pixels.
pub const GLARE_TILE: u32 = 8;

/// A reflection that hides the print: the bounding box of the largest connected region of
/// blown tiles, the share of the page it covers, and how bright the page's paper is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Glare {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub area_fraction: f32,
    /// The paper's level: the median over the tiles that are not blown of each tile's 90th
    /// percentile (the brightest a tile gets between its print). On a page exposed so high
    /// that its paper itself sits at the saturation level, a blown region cannot be told
    /// from paper; a large reflection does not make the paper white.
    pub paper: u8,
}

/// Finds glare on a grey page: a tile is blown when all but two of its pixels are at or
/// above `level` (no print survives in it), and only tiles whose eight neighbours are
/// blown too count, so the white gaps between lines of crisp text, a few tiles thin, are
/// never glare however bright: a reflection is a blob. `None` when no tile qualifies.
pub fn glare(gray: &GrayImage, level: u8) -> Option<Glare> {
    let t = GLARE_TILE as usize;
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let (tw, th) = (w / t, h / t);
    if tw == 0 || th == 0 {
        return None;
    }
    let raw = gray.as_raw();
    let mut blown = vec![false; tw * th];
    let mut tops = Vec::with_capacity(tw * th);
    let mut tile = Vec::with_capacity(t * t);
    for ty in 0..th {
        for tx in 0..tw {
            tile.clear();
            for y in ty * t..(ty + 1) * t {
                tile.extend_from_slice(&raw[y * w + tx * t..y * w + (tx + 1) * t]);
            }
            let bright = tile.iter().filter(|&&v| v >= level).count();
            blown[ty * tw + tx] = bright + 2 >= t * t;
            let k = t * t * 9 / 10;
            tops.push(*tile.select_nth_unstable(k).1);
        }
    }
    // The paper level is read where the print survives: a large blown spot would otherwise
    // lift the median to the saturation level and pass for white paper.
    let mut unblown: Vec<u8> = tops
        .iter()
        .zip(&blown)
        .filter(|(_, &b)| !b)
        .map(|(&v, _)| v)
        .collect();
    let levels = if unblown.is_empty() {
        &mut tops
    } else {
        &mut unblown
    };
    let mid = levels.len() / 2;
    let paper = *levels.select_nth_unstable(mid).1;
    let core = |i: usize| {
        let (x, y) = (i % tw, i / tw);
        if x == 0 || y == 0 || x + 1 >= tw || y + 1 >= th {
            return false;
        }
        (y - 1..=y + 1).all(|ny| (x - 1..=x + 1).all(|nx| blown[ny * tw + nx]))
    };
    let mut best: Option<crate::components::Component> = None;
    crate::components::for_each(tw, th, tw, core, |c| {
        if best
            .as_ref()
            .is_none_or(|b| c.pixels.len() > b.pixels.len())
        {
            best = Some(c);
        }
    });
    best.map(|c| {
        // The eroded region grown back by the one tile it lost on every side.
        let (x0, y0) = (c.x0.saturating_sub(1), c.y0.saturating_sub(1));
        let (x1, y1) = ((c.x1 + 1).min(tw - 1), (c.y1 + 1).min(th - 1));
        Glare {
            x: (x0 * t) as u32,
            y: (y0 * t) as u32,
            w: ((x1 - x0 + 1) * t) as u32,
            h: ((y1 - y0 + 1) * t) as u32,
            area_fraction: (c.pixels.len() * t * t) as f32 / raw.len().max(1) as f32,
            paper,
        }
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

    /// Dark text lines on paper of `paper` brightness: rows of 6-pixel glyph stubs, 14
    /// pixels high with 10 pixels of paper between the lines.
    fn page(w: u32, h: u32, paper: u8) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            let ink = y % 24 < 14 && x % 12 < 6;
            image::Luma([if ink { 40 } else { paper }])
        })
    }

    /// Sets the rectangle `xs` × `ys` of `g` to `level`.
    fn fill(g: &mut GrayImage, xs: std::ops::Range<u32>, ys: std::ops::Range<u32>, level: u8) {
        for y in ys {
            for x in xs.clone() {
                g.put_pixel(x, y, image::Luma([level]));
            }
        }
    }

    #[test]
    fn glare_is_a_blob_that_hides_the_print_and_the_largest_wins() {
        let mut g = page(200, 160, 210);
        fill(&mut g, 96..176, 40..104, 255);
        // A small specular dot elsewhere: too small to hold a tile with blown neighbours.
        fill(&mut g, 10..22, 130..142, 255);
        let glare = glare(&g, 250).unwrap();
        assert_eq!((glare.x, glare.y, glare.w, glare.h), (96, 40, 80, 64));
        // The eroded core: 8 x 6 tiles of 10 x 8.
        assert!((glare.area_fraction - (48.0 * 64.0) / 32000.0).abs() < 1e-6);
        assert_eq!(glare.paper, 210);
    }

    #[test]
    fn a_reflection_over_most_of_the_page_does_not_make_the_paper_white() {
        // Three fifths of a grey page blown out: the paper is still the print's paper.
        let mut g = page(200, 160, 210);
        fill(&mut g, 0..120, 0..160, 255);
        let found = glare(&g, 250).unwrap();
        assert_eq!(found.paper, 210);
        assert!(found.area_fraction > 0.4, "{found:?}");
    }

    #[test]
    fn a_bright_page_with_crisp_text_has_no_glare_and_says_its_paper_is_white() {
        // Paper at 252 (a white card exposed high): every gap is "saturated", none hides
        // any print.
        let g = page(200, 160, 252);
        assert_eq!(glare(&g, 250), None);
        // A blank white margin is blown, but the paper says so: the check can tell.
        let mut g = page(200, 160, 252);
        fill(&mut g, 0..200, 0..64, 253);
        let found = glare(&g, 250).unwrap();
        assert!(found.paper >= 250);
        assert_eq!(glare(&GrayImage::new(4, 4), 250), None);
    }
}
