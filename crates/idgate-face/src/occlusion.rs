//! What the five landmarks say about a face's visibility. The landmarks place a face frame
//! (eye centres at x = ±0.5, the eye line at y = 0, one unit = the eye distance); regions
//! of that frame are sampled and compared with the same face's own skin, so the measures
//! do not depend on skin tone, exposure or image size.
//!
//! - `eye_to_skin`: the eye regions' brightness over the brightest skin reference (under
//!   the eyes, forehead). Sunglasses make the eyes far darker than the face.
//! - `mouth_line`: the depth of the dark band between the lips below the nose. A mask or a
//!   hand over the mouth hides it.
//! - `eye_openness`: how tall the eyes' dark part (iris, pupil) is; it falls when the lids
//!   close.

use crate::Landmarks;
use image::RgbImage;

/// An image to sample face regions from.
pub struct Planes<'a> {
    img: &'a RgbImage,
}

impl<'a> Planes<'a> {
    pub fn new(img: &'a RgbImage) -> Planes<'a> {
        Planes { img }
    }

    fn rgb(&self, p: [f32; 2]) -> Option<[f32; 3]> {
        let (x, y) = (p[0].round(), p[1].round());
        if x < 0.0 || y < 0.0 || x >= self.img.width() as f32 || y >= self.img.height() as f32 {
            return None;
        }
        let px = self.img.get_pixel(x as u32, y as u32);
        Some([f32::from(px[0]), f32::from(px[1]), f32::from(px[2])])
    }
}

/// Mean luma statistics of a sampled region.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Region {
    pub luma: f32,
    pub luma_std: f32,
    /// Share of the grid that fell inside the image.
    pub coverage: f32,
}

fn luma_of(c: [f32; 3]) -> f32 {
    0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
}

/// Samples an `nx` × `ny` grid over the rectangle `corner` + s·`a` + t·`b` (s, t in [0, 1]),
/// in image pixels.
fn sample(planes: &Planes, corner: [f32; 2], a: [f32; 2], b: [f32; 2], n: (u32, u32)) -> Region {
    let (nx, ny) = n;
    let (mut l, mut l2, mut count) = (0f32, 0f32, 0u32);
    for j in 0..ny {
        let t = (j as f32 + 0.5) / ny as f32;
        for i in 0..nx {
            let s = (i as f32 + 0.5) / nx as f32;
            let p = [
                corner[0] + s * a[0] + t * b[0],
                corner[1] + s * a[1] + t * b[1],
            ];
            if let Some(c) = planes.rgb(p) {
                let v = luma_of(c);
                l += v;
                l2 += v * v;
                count += 1;
            }
        }
    }
    if count == 0 {
        return Region::default();
    }
    let n = count as f32;
    let mean = l / n;
    Region {
        luma: mean,
        luma_std: (l2 / n - mean * mean).max(0.0).sqrt(),
        coverage: n / (nx * ny) as f32,
    }
}

/// A region of the face frame: x in [x0, x1], y in [y0, y1] (eye distances).
pub fn face_region(planes: &Planes, lm: &Landmarks, x: (f32, f32), y: (f32, f32)) -> Region {
    let f = lm.frame();
    let corner = f.to_image(x.0, y.0);
    let ax = f.to_image(x.1, y.0);
    let by = f.to_image(x.0, y.1);
    sample(
        planes,
        corner,
        [ax[0] - corner[0], ax[1] - corner[1]],
        [by[0] - corner[0], by[1] - corner[1]],
        (16, 10),
    )
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Measures {
    pub eye_to_skin: f32,
    /// Depth of the darkest horizontal band (the line between the lips) below the nose,
    /// against the rows around it, as a share of the region's brightness. A mask or a hand
    /// hides it.
    pub mouth_line: f32,
}

/// Rows of the lower face searched for the mouth line.
pub const MOUTH_ROWS: (f32, f32) = (0.8, 1.5);

pub fn mouth_line(planes: &Planes, lm: &Landmarks) -> f32 {
    const ROWS: usize = 28;
    let f = lm.frame();
    let mut means = Vec::with_capacity(ROWS);
    for j in 0..ROWS {
        let y = MOUTH_ROWS.0 + (MOUTH_ROWS.1 - MOUTH_ROWS.0) * (j as f32 + 0.5) / ROWS as f32;
        let (mut sum, mut n) = (0f32, 0u32);
        for i in 0..12 {
            let x = -0.3 + 0.6 * (i as f32 + 0.5) / 12.0;
            if let Some(c) = planes.rgb(f.to_image(x, y)) {
                sum += luma_of(c);
                n += 1;
            }
        }
        if n < 6 {
            return 0.0;
        }
        means.push(sum / n as f32);
    }
    let overall = means.iter().sum::<f32>() / ROWS as f32;
    if overall < 1.0 {
        return 0.0;
    }
    let k = 4;
    (k..ROWS - k)
        .map(|j| {
            let around = (means[j - k] + means[j + k]) / 2.0;
            (around - means[j]) / overall
        })
        .fold(0f32, f32::max)
}

/// The regions, in eye distances from the point between the eyes.
pub const EYES: [(f32, f32); 2] = [(-0.75, -0.25), (0.25, 0.75)];
pub const EYE_ROWS: (f32, f32) = (-0.12, 0.12);
pub const UNDER_EYE_ROWS: (f32, f32) = (0.35, 0.5);
pub const FOREHEAD: ((f32, f32), (f32, f32)) = ((-0.35, 0.35), (-0.6, -0.38));

pub fn measure(planes: &Planes, lm: &Landmarks) -> Measures {
    let eyes: Vec<Region> = EYES
        .iter()
        .map(|&x| face_region(planes, lm, x, EYE_ROWS))
        .collect();
    let under: Vec<Region> = EYES
        .iter()
        .map(|&x| face_region(planes, lm, x, UNDER_EYE_ROWS))
        .collect();
    let forehead = face_region(planes, lm, FOREHEAD.0, FOREHEAD.1);

    let eye_luma = (eyes[0].luma + eyes[1].luma) / 2.0;
    let skin = under
        .iter()
        .chain(std::iter::once(&forehead))
        .filter(|r| r.coverage > 0.5)
        .map(|r| r.luma)
        .fold(0f32, f32::max);
    let eye_to_skin = if skin > 1.0 { eye_luma / skin } else { 1.0 };

    Measures {
        eye_to_skin,
        mouth_line: mouth_line(planes, lm),
    }
}

/// Eye openness: how tall the dark part of each eye is (iris, pupil and lashes when open,
/// the lash line alone when shut), as a share of a patch 0.6 eye-widths tall over the middle
/// half of the corner line; averaged over both eyes. "Dark" is below halfway between the
/// patch's darkest value and its median, so exposure and skin tone cancel out. Compared
/// within one sequence of frames.
pub fn eye_openness(planes: &Planes, lm: &Landmarks) -> f32 {
    const COLS: usize = 10;
    const ROWS: usize = 24;
    let mut total = 0.0;
    for e in &lm.eyes {
        let (p, q) = (e[0], e[1]);
        let w = [q[0] - p[0], q[1] - p[1]];
        let across = [-w[1] * 0.6, w[0] * 0.6];
        let mut values = Vec::with_capacity(COLS * ROWS);
        for i in 0..COLS {
            let s = 0.25 + 0.5 * (i as f32 + 0.5) / COLS as f32;
            for j in 0..ROWS {
                let t = (j as f32 + 0.5) / ROWS as f32 - 0.5;
                let at = [
                    p[0] + s * w[0] + t * across[0],
                    p[1] + s * w[1] + t * across[1],
                ];
                if let Some(c) = planes.rgb(at) {
                    values.push(luma_of(c));
                }
            }
        }
        if values.len() < COLS * ROWS / 2 {
            continue;
        }
        let mut sorted = values.clone();
        sorted.sort_by(f32::total_cmp);
        let (min, median) = (sorted[0], sorted[sorted.len() / 2]);
        let level = min + 0.5 * (median - min);
        let dark = values.iter().filter(|v| **v < level).count();
        total += dark as f32 / values.len() as f32;
    }
    total / 2.0
}
