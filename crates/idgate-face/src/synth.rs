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

/// `img` as a camera's JPEG of `quality` gives it back; `None` if it cannot be encoded.
pub fn jpeg_round_trip(img: &RgbImage, quality: u8) -> Option<RgbImage> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .ok()?;
    image::load_from_memory(&out).ok().map(|i| i.into_rgb8())
}

// ---- Recordings of a head that really turns (3-D) and eyelids that really close ----
//
// The warps above move the middle of a still photo; a real head turning moves the whole
// face: the eyes shift and foreshorten (the eye turning away narrows), the cheek outline on
// one side hides and on the other appears, and the face moves against the background. The
// renderer below lifts the photo onto a head-shaped surface (an ellipsoid with a nose ridge,
// placed by the landmarks), turns it about a vertical axis through the head and projects it
// back with a camera at selfie distance. Eyelids close by sliding the real upper-lid skin
// down over the eye, so a closed eye keeps skin texture and gets a lash line.

/// A small deterministic generator (SplitMix64) for jitter and sensor noise, so that a
/// recording is reproducible from its seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f32 {
        let u1 = self.unit().max(1e-7);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }
}

/// The head surface in face units (x across, y down, z towards the camera; the point
/// between the eyes at the origin): an ellipsoid around the head with a nose ridge, slightly
/// recessed eye sockets and lips. `None` outside the head.
fn head_depth(x: f32, y: f32) -> Option<f32> {
    const A: f32 = 1.25; // half width
    const B: f32 = 1.55; // half height: from the crown to just under the chin
    const C: f32 = 1.45; // half depth
    const CY: f32 = 0.55;
    const ZC: f32 = 1.15; // the centre's depth behind the eyes
    let q = 1.0 - (x / A).powi(2) - ((y - CY) / B).powi(2);
    if q <= 0.0 {
        return None;
    }
    let mut z = -ZC + C * q.sqrt();
    // The nose: a ridge from between the eyes to the tip, then back to the upper lip.
    let ramp = if y < 0.05 {
        0.0
    } else if y < 0.62 {
        (y - 0.05) / 0.57
    } else if y < 0.85 {
        1.0 - (y - 0.62) / 0.23
    } else {
        0.0
    };
    let width = 0.12 + 0.1 * ramp;
    z += 0.42 * ramp * (-(x * x) / (2.0 * width * width)).exp();
    // Eye sockets and lips.
    for ex in [-0.5f32, 0.5] {
        z -= 0.07 * (-((x - ex).powi(2) + y * y) / (2.0 * 0.2 * 0.2)).exp();
    }
    z += 0.08 * (-(x * x) / (2.0 * 0.3 * 0.3) - (y - 1.05).powi(2) / (2.0 * 0.12 * 0.12)).exp();
    Some(z)
}

/// The pose of one rendered frame.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pose {
    /// Head turn, degrees; positive moves the nose to the image's right (the person's left,
    /// in an unmirrored camera frame).
    pub yaw_deg: f32,
    /// Head nod, degrees; positive tilts the face down.
    pub pitch_deg: f32,
    /// The head's shift in the image, in eye distances.
    pub shift: [f32; 2],
}

/// The photo's head rendered in `pose`: the face lifted onto [`head_depth`], rotated about a
/// vertical axis through the head (and a horizontal one for the nod), projected with a camera
/// six eye distances away. The background stays; where the turned head uncovers it, the
/// nearest background on the same row is stretched in.
pub fn render_head(img: &RgbImage, lm: &Landmarks, pose: Pose) -> RgbImage {
    const CAMERA: f32 = 6.0;
    const AXIS_Z: f32 = -1.15;
    const AXIS_Y: f32 = 0.55;
    let f = lm.frame();
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (sy, cy) = pose.yaw_deg.to_radians().sin_cos();
    let (sp, cp) = pose.pitch_deg.to_radians().sin_cos();
    let mut out = img.clone();
    let mut depth = vec![f32::NEG_INFINITY; (w * h) as usize];
    let mut old_head = vec![false; (w * h) as usize];
    // Every source pixel of the head, 3 × 3 samples each, splatted where the turned head
    // shows it, the nearest surface winning.
    let reach = 2.6 * f.eye_distance;
    let (x0, y0) = (
        ((f.origin[0] - reach).max(0.0)) as i64,
        ((f.origin[1] - reach).max(0.0)) as i64,
    );
    let (x1, y1) = (
        ((f.origin[0] + reach) as i64).min(w - 1),
        ((f.origin[1] + 1.6 * reach) as i64).min(h - 1),
    );
    for py in y0..=y1 {
        for px in x0..=x1 {
            let (u, v) = f.to_face([px as f32, py as f32]);
            if head_depth(u, v).is_some() {
                old_head[(py * w + px) as usize] = true;
            }
            for sy_ in 0..3 {
                for sx_ in 0..3 {
                    let (qx, qy) = (
                        px as f32 + (sx_ as f32 - 1.0) / 3.0,
                        py as f32 + (sy_ as f32 - 1.0) / 3.0,
                    );
                    let (u, v) = f.to_face([qx, qy]);
                    let Some(z) = head_depth(u, v) else { continue };
                    // Unproject, rotate, reproject.
                    let k = (CAMERA - z) / CAMERA;
                    let (x, y) = (u * k, v * k);
                    let (xr, zr) = (x * cy + (z - AXIS_Z) * sy, -x * sy + (z - AXIS_Z) * cy);
                    let (yr, zr2) = (
                        AXIS_Y + (y - AXIS_Y) * cp - zr * sp,
                        (y - AXIS_Y) * sp + zr * cp,
                    );
                    let z2 = zr2 + AXIS_Z;
                    let k2 = CAMERA / (CAMERA - z2);
                    let (du, dv) = (xr * k2 + pose.shift[0], yr * k2 + pose.shift[1]);
                    let p = f.to_image(du, dv);
                    let (tx, ty) = (p[0].round() as i64, p[1].round() as i64);
                    if tx < 0 || ty < 0 || tx >= w || ty >= h {
                        continue;
                    }
                    let i = (ty * w + tx) as usize;
                    if z2 > depth[i] {
                        depth[i] = z2;
                        out.put_pixel(tx as u32, ty as u32, *img.get_pixel(px as u32, py as u32));
                    }
                }
            }
        }
    }
    // Where the old head was and the new one is not: the background, stretched in from the
    // nearest pixel of the row outside the old head.
    for py in y0..=y1 {
        let row = (py * w) as usize;
        for px in x0..=x1 {
            let i = row + px as usize;
            if depth[i].is_finite() || !old_head[i] {
                continue;
            }
            let left = (x0..px).rev().find(|&x| !old_head[row + x as usize]);
            let right = (px + 1..=x1).find(|&x| !old_head[row + x as usize]);
            let from = match (left, right) {
                (Some(l), Some(r)) => {
                    if px - l <= r - px {
                        l
                    } else {
                        r
                    }
                }
                (Some(l), None) => l,
                (None, Some(r)) => r,
                (None, None) => continue,
            };
            out.put_pixel(px as u32, py as u32, *img.get_pixel(from as u32, py as u32));
        }
    }
    out
}

/// Both eyes closed: the opening of each eye covered by lid skin (the face's own skin from
/// just under the eye, mirrored, so it keeps its grain and tone), blended into the skin
/// around, with a curved lash line where the lids meet and a little shade over the lid.
/// `amount` 1 closes them; 0.5 is half-way (the upper half covered).
pub fn close_lids(img: &RgbImage, lm: &Landmarks, amount: f32) -> RgbImage {
    let mut out = img.clone();
    for e in &lm.eyes {
        let (p, q) = (e[0], e[1]);
        let c = [(p[0] + q[0]) / 2.0, (p[1] + q[1]) / 2.0];
        let width = ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2))
            .sqrt()
            .max(2.0);
        let u = [(q[0] - p[0]) / width, (q[1] - p[1]) / width];
        let mut n = [-u[1], u[0]];
        if n[1] < 0.0 {
            n = [-n[0], -n[1]];
        }
        let (half_w, half_h) = (0.66 * width, 0.34 * width);
        let meet = 0.1 * width; // where the lids meet, below the centre
        let r = (half_w + 2.0) as i64;
        let rv = (half_h + 2.0) as i64;
        for dy in -rv..=rv {
            for dx in -r..=r {
                let (x, y) = (c[0] + dx as f32, c[1] + dy as f32);
                if x < 0.0 || y < 0.0 || x >= img.width() as f32 || y >= img.height() as f32 {
                    continue;
                }
                let s = (x - c[0]) * u[0] + (y - c[1]) * u[1];
                let t = (x - c[0]) * n[0] + (y - c[1]) * n[1];
                let e2 = (s / half_w).powi(2) + (t / half_h).powi(2);
                if e2 >= 1.0 {
                    continue;
                }
                // The lid edge comes down from the top of the opening to where the lids meet.
                let top = -half_h * (1.0 - (s / half_w).powi(2)).max(0.0).sqrt();
                let lid_edge =
                    top + amount * (meet + 0.12 * width * (1.0 - (s / half_w).powi(2)) - top);
                if t > lid_edge + 0.03 * width {
                    continue;
                }
                // Skin from under the eye, mirrored about the bottom of the opening.
                let src_t = 2.0 * half_h + 0.15 * width - t;
                let skin = bilinear(
                    img,
                    c[0] + s * u[0] + src_t * n[0],
                    c[1] + s * u[1] + src_t * n[1],
                );
                // Feathered into what is around, so the lid has no painted edge.
                let alpha = ((1.0 - e2) / 0.12).clamp(0.0, 1.0);
                let to_edge = (t - lid_edge).abs();
                let shade = if to_edge < 0.03 * width {
                    0.35 + 0.45 * (to_edge / (0.03 * width))
                } else {
                    0.93 + 0.05 * ((t - top) / (2.0 * half_h)).clamp(0.0, 1.0)
                };
                let old = img.get_pixel(x as u32, y as u32).0;
                let mut px = [0u8; 3];
                for k in 0..3 {
                    let v = f32::from(skin[k]) * shade;
                    px[k] = (alpha * v + (1.0 - alpha) * f32::from(old[k])).round() as u8;
                }
                out.put_pixel(x as u32, y as u32, Rgb(px));
            }
        }
    }
    out
}

fn bilinear(img: &RgbImage, x: f32, y: f32) -> [u8; 3] {
    let x = x.clamp(0.0, img.width() as f32 - 1.001);
    let y = y.clamp(0.0, img.height() as f32 - 1.001);
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |xx, yy| img.get_pixel(xx, yy).0;
    let (a, b, c, d) = (p(x0, y0), p(x0 + 1, y0), p(x0, y0 + 1), p(x0 + 1, y0 + 1));
    let mut out = [0u8; 3];
    for k in 0..3 {
        let top = f32::from(a[k]) * (1.0 - fx) + f32::from(b[k]) * fx;
        let bot = f32::from(c[k]) * (1.0 - fx) + f32::from(d[k]) * fx;
        out[k] = (top * (1.0 - fy) + bot * fy).round() as u8;
    }
    out
}

/// What a camera adds to each frame: sensor noise of `sigma` levels and a small exposure
/// drift.
pub fn sensor(img: &mut RgbImage, sigma: f32, rng: &mut Rng) {
    let gain = 1.0 + 0.015 * rng.normal();
    for px in img.pixels_mut() {
        for c in px.0.iter_mut() {
            let v = f32::from(*c) * gain + sigma * rng.normal();
            *c = v.round().clamp(0.0, 255.0) as u8;
        }
    }
}

/// The frames of one live recording of the face in `img` doing `actions`, as a phone's front
/// camera would deliver them about 250 ms apart: facing the camera between movements, each
/// turn reached and left over several frames (up to `turn_deg`), a blink closing the lids,
/// the head never quite still (a small sway and nod), sensor noise in every frame.
pub fn live_recording(
    img: &RgbImage,
    lm: &Landmarks,
    actions: &[Action],
    turn_deg: f32,
    seed: u64,
) -> Vec<RgbImage> {
    let mut rng = Rng::new(seed);
    let mut poses: Vec<(Pose, f32)> = Vec::new(); // (pose, lids closed)
    let sway = |rng: &mut Rng| Pose {
        yaw_deg: 1.5 * rng.normal(),
        pitch_deg: 1.5 * rng.normal(),
        shift: [0.02 * rng.normal(), 0.02 * rng.normal()],
    };
    for _ in 0..2 {
        poses.push((sway(&mut rng), 0.0));
    }
    for a in actions {
        match a {
            Action::TurnLeft | Action::TurnRight => {
                let sign = if *a == Action::TurnLeft { 1.0 } else { -1.0 };
                let peak = turn_deg * rng.range(0.8, 1.15);
                for share in [0.45, 1.0, 0.5] {
                    let mut p = sway(&mut rng);
                    p.yaw_deg += sign * peak * share;
                    // The head turns about the neck: it also moves a little that way.
                    p.shift[0] += sign * 0.1 * share;
                    poses.push((p, 0.0));
                }
            }
            Action::Blink => {
                poses.push((sway(&mut rng), 0.6));
                poses.push((sway(&mut rng), 1.0));
            }
        }
        poses.push((sway(&mut rng), 0.0));
    }
    poses
        .into_iter()
        .map(|(pose, lids)| {
            let base = if lids > 0.0 {
                close_lids(img, lm, lids)
            } else {
                img.clone()
            };
            let mut frame = render_head(&base, lm, pose);
            sensor(&mut frame, 2.5, &mut rng);
            frame
        })
        .collect()
}

/// A [`live_recording`] that the liveness judge (default rules and thresholds) accepts as
/// the server receives it, after the camera's JPEG: for tests about what a server concludes
/// from a live recording. The synthesis turns some faces (in some orders of the movements)
/// further than the detector follows them, or closes lids on a face whose descriptor then
/// drifts, where a person would have stayed in view. Tries `seed`, `seed + 1`, ... (at most
/// `tries`); the last recording when none passes. How often a genuine recording passes is
/// what `idgate-eval faces` measures, on [`live_recording`] itself.
pub fn detectable_recording(
    models: &crate::FaceModels,
    img: &RgbImage,
    lm: &Landmarks,
    actions: &[Action],
    turn_deg: f32,
    seed: u64,
    tries: u64,
) -> Vec<RgbImage> {
    let passes = |frames: &[RgbImage]| {
        let mut seen = Vec::with_capacity(frames.len());
        for (i, f) in frames.iter().enumerate() {
            let Some(back) = jpeg_round_trip(f, 92) else {
                return false;
            };
            seen.push(crate::liveness::Frame::of(models, i as i64 * 250, &back));
        }
        crate::liveness::judge(
            &seen,
            actions,
            &crate::liveness::Rules::default(),
            &crate::Thresholds::default(),
        )
        .passed()
    };
    let mut frames = Vec::new();
    for s in seed..seed + tries.max(1) {
        frames = live_recording(img, lm, actions, turn_deg, s);
        if passes(&frames) {
            break;
        }
    }
    frames
}

/// The photo printed and held up to the camera, turned by `deg` about a vertical axis
/// through its middle: a flat picture seen in perspective (camera two picture-widths away),
/// on a grey background where the print no longer covers the frame.
pub fn turned_print(img: &RgbImage, deg: f32) -> RgbImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (s, c) = deg.to_radians().sin_cos();
    let d = 2.0 * w;
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        // The camera ray through (x, y) meets the turned plane at depth z: solve for the
        // plane's own coordinate u (along the print) and v.
        let (px, py) = (x as f32 - w / 2.0, y as f32 - h / 2.0);
        // A point u on the print is at (u·c, u·s) (x, z towards the camera); it projects to
        // u·c·d / (d − u·s) = px  =>  u = px·d / (c·d + px·s).
        let den = c * d + px * s;
        if den.abs() < 1e-3 {
            return Rgb([128, 128, 128]);
        }
        let u = px * d / den;
        let z = u * s;
        let v = py * (d - z) / d;
        let (sx, sy) = (u + w / 2.0, v + h / 2.0);
        if sx < 0.0 || sy < 0.0 || sx >= w - 1.0 || sy >= h - 1.0 {
            return Rgb([128, 128, 128]);
        }
        Rgb(bilinear(img, sx, sy))
    })
}
