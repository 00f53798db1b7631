//! Taking the "photo": a page warped into a scene by a homography, camera lighting and
//! noise, and the defects applied to scenes.

use image::{Rgb, RgbImage};
use imageproc::geometric_transformations::Projection;
use rand::Rng;

/// A tabletop: base colour, slow light falloff, wood-like grain and fine texture.
pub fn table(w: u32, h: u32, rng: &mut impl Rng) -> RgbImage {
    let palettes = [
        [95.0, 62.0, 40.0],
        [60.0, 60.0, 64.0],
        [30.0, 45.0, 70.0],
        [120.0, 95.0, 70.0],
        [45.0, 70.0, 50.0],
        [150.0, 150.0, 150.0],
    ];
    let base = palettes[rng.gen_range(0..palettes.len())];
    let freq = rng.gen_range(0.01..0.05f32);
    let angle = rng.gen_range(0.0..std::f32::consts::PI);
    let (ca, sa) = (angle.cos(), angle.sin());
    let mut seed = rng.gen::<u32>() | 1;
    RgbImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let u = xf * ca + yf * sa;
        let grain = (u * freq + (u * freq * 0.13).sin() * 3.0).sin() * 10.0;
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let fine = (seed % 9) as f32 - 4.0;
        let falloff = 1.0 - 0.25 * ((xf / w as f32 - 0.5).powi(2) + (yf / h as f32 - 0.5).powi(2));
        Rgb(base.map(|c| ((c + grain + fine) * falloff).clamp(0.0, 255.0) as u8))
    })
}

/// Warps `page` into `scene` so that its corners land on `corners` (TL, TR, BR, BL),
/// sampling bilinearly; pixels outside the quadrilateral keep the scene.
pub fn paste(scene: &mut RgbImage, page: &RgbImage, corners: [[f32; 2]; 4]) {
    let (pw, ph) = (page.width() as f32, page.height() as f32);
    let from = [(0.0, 0.0), (pw, 0.0), (pw, ph), (0.0, ph)];
    let to = corners.map(|[x, y]| (x, y));
    let Some(forward) = Projection::from_control_points(from, to) else {
        return;
    };
    let back = forward.invert();
    let xs = corners.map(|c| c[0]);
    let ys = corners.map(|c| c[1]);
    let lo = |v: [f32; 4]| v.iter().copied().fold(f32::MAX, f32::min).floor().max(0.0) as u32;
    let hi = |v: [f32; 4], limit: u32| {
        (v.iter().copied().fold(f32::MIN, f32::max).ceil().max(0.0) as u32).min(limit)
    };
    for y in lo(ys)..hi(ys, scene.height()) {
        for x in lo(xs)..hi(xs, scene.width()) {
            let (u, v) = back * (x as f32 + 0.5, y as f32 + 0.5);
            if u < 0.0 || v < 0.0 || u >= pw || v >= ph {
                continue;
            }
            scene.put_pixel(x, y, bilinear(page, u - 0.5, v - 0.5));
        }
    }
}

pub fn bilinear(img: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (w, h) = (img.width() as i32, img.height() as i32);
    let (x0, y0) = (x.floor() as i32, y.floor() as i32);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |xx: i32, yy: i32| {
        img.get_pixel(xx.clamp(0, w - 1) as u32, yy.clamp(0, h - 1) as u32)
            .0
    };
    let (a, b, c, d) = (
        at(x0, y0),
        at(x0 + 1, y0),
        at(x0, y0 + 1),
        at(x0 + 1, y0 + 1),
    );
    Rgb(std::array::from_fn(|i| {
        let top = a[i] as f32 * (1.0 - fx) + b[i] as f32 * fx;
        let bottom = c[i] as f32 * (1.0 - fx) + d[i] as f32 * fx;
        (top * (1.0 - fy) + bottom * fy).round() as u8
    }))
}

/// Corners of a `pw`×`ph` page shown `width` pixels wide, centred at (`cx`, `cy`), rotated by
/// `angle` radians, with each corner jittered by up to `jitter` pixels (perspective).
pub fn place(
    pw: f32,
    ph: f32,
    width: f32,
    (cx, cy): (f32, f32),
    angle: f32,
    jitter: f32,
    rng: &mut impl Rng,
) -> [[f32; 2]; 4] {
    let s = width / pw;
    let (hw, hh) = (pw * s / 2.0, ph * s / 2.0);
    let (ca, sa) = (angle.cos(), angle.sin());
    [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)].map(|(dx, dy)| {
        let j = |rng: &mut dyn rand::RngCore| {
            if jitter > 0.0 {
                rng.gen_range(-jitter..jitter)
            } else {
                0.0
            }
        };
        [
            cx + dx * ca - dy * sa + j(rng),
            cy + dx * sa + dy * ca + j(rng),
        ]
    })
}

/// Uneven light, sensor noise and the softness of a phone lens.
pub fn camera(img: &mut RgbImage, gain: f32, noise: f32, rng: &mut impl Rng) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (lx, ly) = (rng.gen_range(0.0..w), rng.gen_range(0.0..h));
    let span = w.max(h);
    let mut seed = rng.gen::<u32>() | 1;
    for (x, y, p) in img.enumerate_pixels_mut() {
        let d = ((x as f32 - lx).powi(2) + (y as f32 - ly).powi(2)).sqrt() / span;
        let light = gain * (1.04 - 0.25 * d);
        for c in p.0.iter_mut() {
            // Sum of uniforms ≈ Gaussian.
            let mut n = 0.0;
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                n += (seed & 0xffff) as f32 / 65535.0 - 0.5;
            }
            *c = (*c as f32 * light + n * noise * 2.0)
                .round()
                .clamp(0.0, 255.0) as u8;
        }
    }
    *img = imageproc::filter::gaussian_blur_f32(img, 0.6);
}

/// A specular highlight: brightness added with a Gaussian falloff around (`cx`, `cy`),
/// saturating the core. Returns the saturated core's bounding box.
pub fn glare(img: &mut RgbImage, (cx, cy): (f32, f32), radius: f32) -> [u32; 4] {
    let (w, h) = img.dimensions();
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    let reach = (radius * 3.0) as i64;
    for y in (cy as i64 - reach).max(0)..(cy as i64 + reach).min(h as i64) {
        for x in (cx as i64 - reach).max(0)..(cx as i64 + reach).min(w as i64) {
            let d2 = (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2);
            let boost = 420.0 * (-d2 / (2.0 * radius * radius)).exp();
            let p = img.get_pixel_mut(x as u32, y as u32);
            for c in p.0.iter_mut() {
                *c = (*c as f32 + boost).min(255.0) as u8;
            }
            if p.0.iter().all(|&c| c == 255) {
                (x0, y0, x1, y1) = (
                    x0.min(x as u32),
                    y0.min(y as u32),
                    x1.max(x as u32),
                    y1.max(y as u32),
                );
            }
        }
    }
    if x1 < x0 {
        return [cx as u32, cy as u32, 1, 1];
    }
    [x0, y0, x1 - x0 + 1, y1 - y0 + 1]
}

/// Blur along a straight line of `length` pixels at `angle` (a shaken hand).
pub fn motion_blur(img: &RgbImage, length: f32, angle: f32) -> RgbImage {
    let taps = length.ceil().max(2.0) as usize;
    let (dx, dy) = (angle.cos(), angle.sin());
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let mut acc = [0.0f32; 3];
        for t in 0..taps {
            let off = t as f32 / (taps - 1) as f32 * length - length / 2.0;
            let p = bilinear(img, x as f32 + dx * off, y as f32 + dy * off);
            for c in 0..3 {
                acc[c] += p[c] as f32;
            }
        }
        Rgb(acc.map(|v| (v / taps as f32).round() as u8))
    })
}

/// Luma in all three channels.
pub fn grayscale(img: &RgbImage) -> RgbImage {
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let [r, g, b] = img.get_pixel(x, y).0;
        let l = (0.299 * r as f32 + 0.587 * g as f32 + 0.114 * b as f32).round() as u8;
        Rgb([l, l, l])
    })
}

/// A toner copy of a page: grey, contrast pushed so light tints vanish and darks clip,
/// with speckle.
pub fn photocopy(page: &RgbImage, rng: &mut impl Rng) -> RgbImage {
    let mut out = grayscale(page);
    for p in out.pixels_mut() {
        let v = ((p[0] as f32 - 70.0) * 1.7).clamp(0.0, 232.0);
        let v = if rng.gen_ratio(1, 400) { 40.0 } else { v };
        *p = Rgb([v as u8; 3]);
    }
    imageproc::filter::gaussian_blur_f32(&out, 0.7)
}

/// How a picture looks on an LCD up close: every image pixel becomes a block of red,
/// green and blue stripes with dark gaps.
pub fn screen_pixels(img: &RgbImage, block: u32) -> RgbImage {
    RgbImage::from_fn(img.width() * block, img.height() * block, |x, y| {
        let p = img.get_pixel(x / block, y / block);
        let (sx, sy) = (x % block, y % block);
        if sy == block - 1 || sx == block - 1 {
            return Rgb([8, 8, 8]);
        }
        let channel = (sx * 3 / (block - 1)) as usize;
        let mut out = [0u8; 3];
        out[channel] = p[channel];
        Rgb(out)
    })
}
