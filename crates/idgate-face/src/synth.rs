//! Labelled face data made from any face photo: sunglasses, masks and hands drawn where the
//! landmarks put the eyes and mouth, closed eyelids, and head turns (the middle of the face
//! shifted against the eyes). The evaluation and the tests use these to measure the
//! occlusion and liveness checks on more than one source; nothing here runs in the service.

use crate::liveness::Action;
use crate::Landmarks;
use image::{Rgb, RgbImage};

/// The pixels within `reach` eye distances of the middle of the face (below the eyes),
/// clipped to the image: (x0, y0, x1, y1), ends exclusive.
fn face_box(img: &RgbImage, lm: &Landmarks, reach: f32) -> (u32, u32, u32, u32) {
    let f = lm.frame();
    let r = reach * f.eye_distance;
    let (cx, cy) = (f.origin[0], f.origin[1] + 0.6 * f.eye_distance);
    (
        (cx - r).max(0.0) as u32,
        (cy - r).max(0.0) as u32,
        ((cx + r) as u32).min(img.width()),
        ((cy + r) as u32).min(img.height()),
    )
}

/// Fills the face-frame region where `paint(x, y, old)` (face units) says with its colour.
fn paint_face(
    img: &mut RgbImage,
    lm: &Landmarks,
    reach: f32,
    mut paint: impl FnMut(f32, f32, Rgb<u8>) -> Option<Rgb<u8>>,
) {
    let f = lm.frame();
    let (x0, y0, x1, y1) = face_box(img, lm, reach);
    for y in y0..y1 {
        for x in x0..x1 {
            let (u, v) = f.to_face([x as f32, y as f32]);
            let old = *img.get_pixel(x, y);
            if let Some(new) = paint(u, v, old) {
                img.put_pixel(x, y, new);
            }
        }
    }
}

/// Dark lenses over both eyes and a bridge between them.
pub fn sunglasses(img: &mut RgbImage, lm: &Landmarks) {
    paint_face(img, lm, 1.6, |u, v, _| {
        let lens = |c: f32| ((u - c) / 0.36).powi(2) + (v / 0.24).powi(2) <= 1.0;
        let bridge = u.abs() < 0.2 && (v + 0.05).abs() < 0.03;
        (lens(-0.5) || lens(0.5) || bridge).then_some(Rgb([22, 22, 28]))
    });
}

/// A pleated face mask from the bridge of the nose to below the chin, in `colour`: lit from
/// above (10 % darker towards the chin) with three pleats 12 % darker.
pub fn mask(img: &mut RgbImage, lm: &Landmarks, colour: [u8; 3]) {
    paint_face(img, lm, 2.2, |u, v, _| {
        let top = 0.42 + 0.12 * u.abs();
        if v < top || v > 1.75 || (u / 0.95).powi(2) + ((v - 1.0) / 0.9).powi(2) > 1.0 {
            return None;
        }
        let pleat = [0.85, 1.1, 1.35].iter().any(|p| (v - p).abs() < 0.025);
        let shade = (1.0 - 0.1 * (v - top) / (1.75 - top)) * if pleat { 0.88 } else { 1.0 };
        Some(Rgb(colour.map(|c| (f32::from(c) * shade) as u8)))
    });
}

/// A hand (skin of another tone) over the mouth and chin.
pub fn hand(img: &mut RgbImage, lm: &Landmarks, colour: [u8; 3]) {
    paint_face(img, lm, 2.2, |u, v, _| {
        ((u / 0.9).powi(2) + ((v - 1.2) / 0.55).powi(2) <= 1.0).then_some(Rgb(colour))
    });
}

/// Both eyes shut: each eye's opening painted with the skin just below it, and a lash line
/// along the corners.
pub fn close_eyes(img: &mut RgbImage, lm: &Landmarks) {
    let f = lm.frame();
    // The lid takes the tone of the skin just above and below the eye.
    let skin = |img: &RgbImage, x: f32| {
        let mut sum = [0u32; 3];
        for y in [-0.17f32, 0.17] {
            let p = f.to_image(x, y);
            let (px, py) = (
                (p[0].max(0.0) as u32).min(img.width() - 1),
                (p[1].max(0.0) as u32).min(img.height() - 1),
            );
            let c = img.get_pixel(px, py);
            for k in 0..3 {
                sum[k] += u32::from(c[k]);
            }
        }
        Rgb(sum.map(|v| (v / 2) as u8))
    };
    let lids = [
        skin(img, lm.frame().to_face(lm.eye_centre(0)).0),
        skin(img, lm.frame().to_face(lm.eye_centre(1)).0),
    ];
    let centres = [lm.eye_centre(0), lm.eye_centre(1)].map(|c| f.to_face(c));
    let halves = lm.eyes.map(|e| {
        let (a, _) = f.to_face(e[0]);
        let (b, _) = f.to_face(e[1]);
        ((a - b).abs() / 2.0).max(0.1)
    });
    paint_face(img, lm, 1.6, |u, v, _| {
        for k in 0..2 {
            let (cu, cv) = centres[k];
            let (du, dv) = ((u - cu) / (halves[k] * 1.15), (v - cv) / (halves[k] * 0.6));
            if du * du + dv * dv <= 1.0 {
                let lash = (v - cv - 0.02).abs() < 0.008;
                return Some(if lash { Rgb([40, 30, 28]) } else { lids[k] });
            }
        }
        None
    });
}

/// Turns the head by shifting the middle and lower face sideways against the eyes (a
/// smooth displacement centred on the nose); `amount` in eye distances, positive towards
/// the image's right.
pub fn turn(img: &RgbImage, lm: &Landmarks, amount: f32) -> RgbImage {
    let f = lm.frame();
    let mut out = img.clone();
    let (x0, y0, x1, y1) = face_box(img, lm, 2.0);
    for y in y0..y1 {
        for x in x0..x1 {
            let (u, v) = f.to_face([x as f32, y as f32]);
            let w = (-(u * u) / (2.0 * 0.35 * 0.35) - (v - 0.65).powi(2) / (2.0 * 0.3 * 0.3)).exp();
            let shift = amount * w;
            // Sample where this pixel came from.
            let src = f.to_image(u - shift, v);
            let sx = src[0].round().clamp(0.0, (img.width() - 1) as f32) as u32;
            let sy = src[1].round().clamp(0.0, (img.height() - 1) as f32) as u32;
            out.put_pixel(x, y, *img.get_pixel(sx, sy));
        }
    }
    out
}

/// A recording of the face in `img` performing `actions`: facing the camera first and
/// between movements, heads turned by `turn` eye distances, eyes shut for a blink.
pub fn sequence(img: &RgbImage, lm: &Landmarks, actions: &[Action], turn: f32) -> Vec<RgbImage> {
    let mut frames = vec![img.clone()];
    for a in actions {
        frames.push(match a {
            Action::TurnLeft => self::turn(img, lm, turn),
            Action::TurnRight => self::turn(img, lm, -turn),
            Action::Blink => {
                let mut shut = img.clone();
                close_eyes(&mut shut, lm);
                shut
            }
        });
        frames.push(img.clone());
    }
    frames
}

/// Frames as a camera delivers them: JPEG, and never two alike. The frame number and `tag`
/// (e.g. the session's id, so that two recordings of one photo differ too) are written into
/// the top two rows.
pub fn camera_frames(frames: Vec<RgbImage>, tag: &[u8]) -> Vec<Vec<u8>> {
    frames
        .into_iter()
        .enumerate()
        .map(|(i, mut f)| {
            let marks = std::iter::once(255u8 - i as u8).chain(tag.iter().copied());
            for (x, b) in marks.enumerate().take(f.width() as usize) {
                for y in 0..2.min(f.height()) {
                    f.put_pixel(x as u32, y, Rgb([b, i as u8, 255 - b]));
                }
            }
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92)
                .encode_image(&f)
                .expect("JPEG encoding into memory");
            out
        })
        .collect()
}
