//! Active liveness: a short sequence of frames must show one face, the same face throughout,
//! performing the challenge's movements in the challenge's order, with plausible timing.
//! The server issues the challenge (random order, expiry) and checks freshness; this module
//! judges the frames.
//!
//! Identity: every frame's face within the same-person distance of the first frame's (a
//! little more for turned frames). Signals, from the five landmarks: head turn = the nose's offset along the eye line
//! ([`crate::Landmarks::yaw`]) against the first frame; blink = the frame facing the camera
//! whose eye openings differ most, by enough, from the open eyes of the frontal frame most
//! like the others ([`eye_change`]). Frames are taken as the camera records them (not
//! mirrored): "turn left" is the person's left, the nose moving to the image's right.

use crate::{counted_faces, Descriptor, Face, Thresholds};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    TurnLeft,
    TurnRight,
    Blink,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::TurnLeft, Action::TurnRight, Action::Blink];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::TurnLeft => "turn_left",
            Action::TurnRight => "turn_right",
            Action::Blink => "blink",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// The limits a sequence is judged by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rules {
    pub min_frames: usize,
    pub max_frames: usize,
    /// Longest pause between two frames.
    pub max_gap_ms: i64,
    /// Shortest whole sequence: people do not turn twice and blink in a blink.
    pub min_span_ms: i64,
    /// Longest whole sequence.
    pub max_span_ms: i64,
    /// A head turn moves the nose at least this far (eye distances) from where it started.
    pub turn_yaw: f32,
    /// A blink changes the eyes: [`eye_change`] against the open eyes ([`Judgement::eyes_open`])
    /// at least this (open eyes read again come to 0.1–0.5, closed lids and paint to 0.45–0.9
    /// in `idgate-eval faces`'s recordings). The frame that changed most is the blink.
    pub min_eye_change: f32,
    /// A turned head's descriptor drifts from the frontal one (dlib's network is trained
    /// mostly on frontal faces): frames turned at least half a turn may be this much farther
    /// from the first frame than the same-person distance.
    pub turned_face_slack: f32,
    /// A head turns about the neck, so at a turn the point between the eyes moves the way
    /// the nose does, by a share of the nose's shift (both against the background): at least
    /// this share. A still photo whose middle was warped moves the nose alone.
    pub min_eye_follow: f32,
    /// Foreshortening: the eye turning away narrows, so the eyes' width ratio (ln) changes
    /// with the yaw measure, by at least this much per unit of yaw.
    pub min_foreshortening: f32,
    /// A blink shows a lid: the closed eye's texture (mean |Laplacian|) at least this share
    /// of the under-eye skin's. A patch painted over the eye is flat.
    pub min_lid_texture: f32,
    /// A blink shows a lid's relief: even the flattest small window over a closed eye varies
    /// (lashes, crease, the lid's curve) at least this share as much as the flattest window
    /// of the cheek. A patch painted over the eye has a window flatter than the skin's.
    pub min_lid_relief: f32,
    /// A blink is judged only on a face at least this far between the eyes (pixels of the
    /// frame as sent, in the open-eyed frame before it): below about fifty, a closed lid is a
    /// dozen pixels wide and a patch painted over the eye looks the same. A person is asked
    /// to come closer.
    pub min_blink_eye_distance: f32,
    /// A sequence with at least this many frames copied from another applicant's recording
    /// or selfie is a replay (one frame could be a coincidence of two similar captures).
    pub min_copied_frames: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            min_frames: 4,
            max_frames: 40,
            max_gap_ms: 1500,
            min_span_ms: 600,
            max_span_ms: 20_000,
            turn_yaw: 0.12,
            min_eye_change: 0.4,
            turned_face_slack: 0.12,
            min_eye_follow: 0.45,
            min_foreshortening: 0.35,
            min_lid_texture: 0.5,
            min_lid_relief: 0.75,
            min_blink_eye_distance: 48.0,
            min_copied_frames: 2,
        }
    }
}

/// One frame: when the client took it (ms, any origin, increasing), its faces, and its
/// grey pixels (reduced to at most [`GRAY_SIDE`] on the longer side; `gray_scale` grey pixels
/// per input pixel) for the checks that look at more than the landmarks, and the first
/// face's eyes and cheeks in more detail (see [`EyeView`]).
#[derive(Clone)]
pub struct Frame {
    pub at_ms: i64,
    pub faces: Vec<Face>,
    pub gray: image::GrayImage,
    pub gray_scale: f32,
    pub eyes: Option<EyeView>,
}

/// The eyes and cheeks of a frame's first face in grey, from the frame as it was sent, at
/// up to [`EYE_VIEW_DISTANCE`] pixels between the eyes. The grey image reduced to
/// [`GRAY_SIDE`] leaves a face of a large frame (a 1080p camera, a 12 MP photo) a few dozen
/// pixels between the eyes, where a closed lid and a patch painted over the eye look alike;
/// the camera had the detail.
#[derive(Clone)]
pub struct EyeView {
    pub gray: image::GrayImage,
    /// Where the view's top-left pixel is in the input frame's pixels.
    pub origin: [f32; 2],
    /// View pixels per input pixel.
    pub scale: f32,
}

// A frame's pixels are a face: `Debug` shows their size, never them.
impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("at_ms", &self.at_ms)
            .field("faces", &self.faces)
            .field("gray", &(self.gray.width(), self.gray.height()))
            .field("gray_scale", &self.gray_scale)
            .field("eyes", &self.eyes)
            .finish()
    }
}

impl std::fmt::Debug for EyeView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EyeView")
            .field("gray", &(self.gray.width(), self.gray.height()))
            .field("origin", &self.origin)
            .field("scale", &self.scale)
            .finish()
    }
}

/// The eye distance an [`EyeView`] is reduced to when the frame has more: lids, lashes and
/// the crease are a few pixels each at this size, and forty views stay small.
pub const EYE_VIEW_DISTANCE: f32 = 100.0;

impl EyeView {
    /// The view of `img` around `lm` (input pixels): one and a half eye distances either side
    /// of the point between the eyes, one above and two below.
    fn of(full: &image::GrayImage, lm: &crate::Landmarks) -> Option<EyeView> {
        let f = lm.frame();
        let corners = [(-1.5f32, -1.0f32), (1.5, -1.0), (-1.5, 2.0), (1.5, 2.0)]
            .map(|(x, y)| f.to_image(x, y));
        // The corners' extent along one axis (0 x, 1 y), inside the image's `size`.
        let extent = |axis: usize, size: u32| {
            let v = corners.map(|p| p[axis]);
            let lo = v.iter().copied().fold(f32::INFINITY, f32::min);
            let hi = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let inside = |x: f32| x.clamp(0.0, size as f32);
            (inside(lo).floor(), inside(hi).ceil())
        };
        let ((x0, x1), (y0, y1)) = (extent(0, full.width()), extent(1, full.height()));
        let (w, h) = ((x1 - x0) as u32, (y1 - y0) as u32);
        if w < 4 || h < 4 {
            return None;
        }
        let crop = image::imageops::crop_imm(full, x0 as u32, y0 as u32, w, h).to_image();
        let scale = (EYE_VIEW_DISTANCE / f.eye_distance).min(1.0);
        Some(EyeView {
            gray: reduced(crop, scale),
            origin: [x0, y0],
            scale,
        })
    }

    /// Landmarks in the input frame's pixels, in the view's.
    pub fn landmarks(&self, lm: &crate::Landmarks) -> crate::Landmarks {
        let at = |p: [f32; 2]| {
            [
                (p[0] - self.origin[0]) * self.scale,
                (p[1] - self.origin[1]) * self.scale,
            ]
        };
        crate::Landmarks {
            eyes: lm.eyes.map(|e| e.map(at)),
            nose: at(lm.nose),
        }
    }
}

/// `gray` resized by `scale` (< 1 reduces; otherwise it is kept as it is).
fn reduced(gray: image::GrayImage, scale: f32) -> image::GrayImage {
    if scale >= 1.0 {
        return gray;
    }
    image::imageops::resize(
        &gray,
        ((gray.width() as f32 * scale).round() as u32).max(1),
        ((gray.height() as f32 * scale).round() as u32).max(1),
        image::imageops::FilterType::Triangle,
    )
}

/// The longer side of a frame's kept grey image: the face regions the liveness checks read
/// stay a hundred pixels or so between the eyes, and forty frames stay small in memory.
pub const GRAY_SIDE: u32 = 640;

impl Frame {
    /// A frame of `img` taken at `at_ms`: its faces found by `models`, and its grey image.
    pub fn of(models: &crate::FaceModels, at_ms: i64, img: &image::RgbImage) -> Frame {
        let long = img.width().max(img.height()).max(1);
        let scale = (GRAY_SIDE as f32 / long as f32).min(1.0);
        let full = image::DynamicImage::ImageRgb8(img.clone()).into_luma8();
        let faces = models.faces(img);
        let eyes = faces.first().and_then(|f| EyeView::of(&full, &f.landmarks));
        Frame {
            at_ms,
            faces,
            gray: reduced(full, scale),
            gray_scale: scale,
            eyes,
        }
    }

    /// The first face's landmarks in the grey image's pixels.
    pub fn gray_landmarks(&self) -> crate::Landmarks {
        let k = self.gray_scale;
        let lm = self.faces[0].landmarks;
        crate::Landmarks {
            eyes: lm.eyes.map(|e| e.map(|p| [p[0] * k, p[1] * k])),
            nose: [lm.nose[0] * k, lm.nose[1] * k],
        }
    }
}

/// Why a sequence failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// Too few or too many frames, timestamps out of order, pauses or spans out of range.
    Timing(String),
    /// A frame without exactly one face.
    FaceCount { frame: usize, faces: usize },
    /// A frame whose face is not the first frame's.
    FaceChanged { frame: usize, distance: f32 },
    /// A requested movement was not seen (in its turn).
    ActionMissing(Action),
    /// The frames show a screen's pixel grid (judged by the caller, which has the pixels).
    Screen { grid_peak: f32 },
    /// A frame's face is not the document holder's.
    NotTheHolder { frame: usize, distance: f32 },
    /// A turn that is not a head turning in 3-D: the eyes did not move with the nose
    /// (against the background), or did not foreshorten (a warped still photo).
    FlatTurn {
        frame: usize,
        eye_follow: f32,
        foreshortening: f32,
    },
    /// A blink whose closed eyes are flat: painted over, not lids.
    PaintedBlink {
        frame: usize,
        texture: f32,
        relief: f32,
    },
    /// The face is too small in the frame to see the eyes close (eye distance in the frame's
    /// pixels).
    FaceTooSmall { frame: usize, eye_distance: f32 },
    /// Frames copied from another applicant's recording or selfie (judged by the caller,
    /// which has the stored faces).
    Copied { frames: usize },
}

impl Failure {
    pub fn message(&self) -> String {
        match self {
            Failure::Timing(why) => format!("frame timing: {why}"),
            Failure::FaceCount { frame, faces } => {
                format!("frame {frame} shows {faces} faces; every frame must show one")
            }
            Failure::FaceChanged { frame, distance } => {
                format!("frame {frame} shows a different face (distance {distance:.2})")
            }
            Failure::ActionMissing(a) => format!("the movement {:?} was not seen", a.as_str()),
            Failure::NotTheHolder { frame, distance } => {
                format!("frame {frame} does not show the document holder (distance {distance:.2})")
            }
            Failure::Screen { grid_peak } => {
                format!("the frames show a screen's pixel grid (peak {grid_peak:.0})")
            }
            Failure::FlatTurn {
                frame,
                eye_follow,
                foreshortening,
            } => format!(
                "frame {frame}: the turn is not a head turning (the eyes moved {eye_follow:.2} of the nose's shift, foreshortening {foreshortening:.2})"
            ),
            Failure::FaceTooSmall {
                frame,
                eye_distance,
            } => format!(
                "frame {frame}: the face is too small to see the eyes close (the eyes are {eye_distance:.0} px apart); come closer to the camera"
            ),
            Failure::Copied { frames } => format!(
                "{frames} frames are copies of pictures another applicant sent before"
            ),
            Failure::PaintedBlink {
                frame,
                texture,
                relief,
            } => format!(
                "frame {frame}: the closed eyes are flat, not lids (texture {texture:.2}, relief {relief:.2} of the skin's)"
            ),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Judgement {
    pub failure: Option<Failure>,
    /// For each requested action, the frame where it was seen.
    pub seen: Vec<(Action, Option<usize>)>,
    /// Yaw relative to the first frame and eye openness, per frame (for review).
    pub yaw: Vec<f32>,
    pub openness: Vec<f32>,
    /// The frame facing the camera whose eyes are most like the other such frames': the
    /// open eyes a blink is measured against.
    pub eyes_open: Option<usize>,
    /// Per frame, [`eye_change`] against `eyes_open`.
    pub eye_change: Vec<f32>,
    /// The mean descriptor over the frames: the live face to match with the document.
    pub descriptor: Option<Descriptor>,
    /// The frame facing the camera most squarely, eyes open: kept as the selfie.
    pub best_frame: Option<usize>,
    /// For each turn seen: (frame, eye follow, foreshortening); for the blink: (frame, lid
    /// texture, lid relief). For review.
    pub turns: Vec<(usize, f32, f32)>,
    pub blink: Option<(usize, f32, f32)>,
}

impl Judgement {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

pub fn judge(frames: &[Frame], actions: &[Action], rules: &Rules, t: &Thresholds) -> Judgement {
    let mut j = Judgement {
        failure: None,
        seen: actions.iter().map(|a| (*a, None)).collect(),
        yaw: Vec::new(),
        openness: Vec::new(),
        eyes_open: None,
        eye_change: Vec::new(),
        descriptor: None,
        best_frame: None,
        turns: Vec::new(),
        blink: None,
    };
    if let Some(why) = timing(frames, rules) {
        j.failure = Some(Failure::Timing(why));
        return j;
    }
    for (i, f) in frames.iter().enumerate() {
        let n = counted_faces(&f.faces, t);
        if n != 1 {
            j.failure = Some(Failure::FaceCount { frame: i, faces: n });
            return j;
        }
    }
    // Faces are sorted largest first: the counted face is the first.
    let faces: Vec<&Face> = frames.iter().map(|f| &f.faces[0]).collect();
    let base = faces[0].landmarks.yaw();
    for (i, f) in faces.iter().enumerate().skip(1) {
        let d = f.descriptor.distance(&faces[0].descriptor);
        let turned = (f.landmarks.yaw() - base).abs() >= rules.turn_yaw / 2.0;
        let allowed = t.same_person_distance + if turned { rules.turned_face_slack } else { 0.0 };
        if d > allowed {
            j.failure = Some(Failure::FaceChanged {
                frame: i,
                distance: d,
            });
            return j;
        }
    }
    j.yaw = faces.iter().map(|f| f.landmarks.yaw() - base).collect();
    j.openness = faces.iter().map(|f| f.eye_openness).collect();
    let frontal: Vec<usize> = (0..faces.len())
        .filter(|&i| j.yaw[i].abs() < rules.turn_yaw / 2.0)
        .collect();
    // The eyes open: the frame facing the camera whose eyes are most like the others'. Not
    // the most open by eye openness, which a painted frame can top: every other frame would
    // then look changed, an open-eyed one would stand for the blink, and pass as lids.
    let typical: Vec<f32> = frontal
        .iter()
        .map(|&i| {
            let mut d: Vec<f32> = frontal
                .iter()
                .filter(|&&o| o != i)
                .map(|&o| eye_change(&frames[i], &frames[o]).unwrap_or(f32::INFINITY))
                .collect();
            d.sort_by(f32::total_cmp);
            d.get(d.len() / 2).copied().unwrap_or(0.0)
        })
        .collect();
    j.eyes_open = frontal
        .iter()
        .zip(&typical)
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(&i, _)| i);
    j.eye_change = (0..frames.len())
        .map(|i| {
            j.eyes_open
                .and_then(|o| eye_change(&frames[o], &frames[i]))
                .unwrap_or(0.0)
        })
        .collect();

    let mut from = 0;
    for (action, at) in j.seen.iter_mut() {
        let hit = match action {
            Action::TurnLeft => (from..faces.len()).find(|&i| j.yaw[i] >= rules.turn_yaw),
            Action::TurnRight => (from..faces.len()).find(|&i| j.yaw[i] <= -rules.turn_yaw),
            // The frame whose eyes changed most: eye openness alone also dips on open eyes
            // read a little differently (and stays up on some closed ones), which let a
            // frame with open eyes stand for a painted blink. Landmarks read on closed eyes
            // wander a little, so a blink frame may be a little further from frontal than
            // the frames the open eyes come from.
            Action::Blink => (from..faces.len())
                .filter(|&i| {
                    j.yaw[i].abs() < 0.75 * rules.turn_yaw
                        && j.eye_change[i] >= rules.min_eye_change
                })
                .max_by(|&a, &b| j.eye_change[a].total_cmp(&j.eye_change[b])),
        };
        match hit {
            Some(i) => {
                *at = Some(i);
                from = i + 1;
            }
            None => {
                j.failure = Some(Failure::ActionMissing(*action));
                break;
            }
        }
    }
    if j.failure.is_none() {
        j.failure = real_movements(frames, &mut j, &frontal, rules);
    }
    let all: Vec<&Descriptor> = faces.iter().map(|f| &f.descriptor).collect();
    j.descriptor = Descriptor::mean(&all);
    j.best_frame = frontal
        .iter()
        .copied()
        .max_by(|&a, &b| j.openness[a].total_cmp(&j.openness[b]));
    j
}

/// The movements seen must be a head's: each turn a 3-D rotation (the eyes move with the
/// nose against the background, and foreshorten), the blink real lids (not a flat patch).
/// Each turn is judged at its peak frame against the last frame facing the camera before it.
fn real_movements(
    frames: &[Frame],
    j: &mut Judgement,
    frontal: &[usize],
    rules: &Rules,
) -> Option<Failure> {
    let seen = j.seen.clone();
    for (k, (action, at)) in seen.iter().enumerate() {
        let at = (*at)?;
        let reference = frontal.iter().copied().rfind(|&i| i < at).unwrap_or(0);
        let base = frames[reference].gray_landmarks();
        match action {
            Action::TurnLeft | Action::TurnRight => {
                let sign = if *action == Action::TurnLeft {
                    1.0
                } else {
                    -1.0
                };
                // The peak of this turn: the most turned frame before the next movement.
                let end = seen
                    .get(k + 1)
                    .and_then(|(_, f)| *f)
                    .unwrap_or(frames.len());
                let peak = (at..end)
                    .max_by(|&a, &b| (j.yaw[a] * sign).total_cmp(&(j.yaw[b] * sign)))
                    .unwrap_or(at);
                let turned = frames[peak].gray_landmarks();
                let g = turn_geometry(&base, &turned);
                let bg = background_shift(&frames[reference].gray, &frames[peak].gray, &base)
                    .unwrap_or(0.0);
                let denominator = g.nose_shift - bg;
                let follow = if denominator.abs() > 1e-3 {
                    (g.eye_shift - bg) / denominator
                } else {
                    0.0
                };
                let foreshortening = if g.yaw.abs() > 1e-3 {
                    g.asymmetry / g.yaw
                } else {
                    0.0
                };
                j.turns.push((peak, follow, foreshortening));
                if follow < rules.min_eye_follow || foreshortening < rules.min_foreshortening {
                    return Some(Failure::FlatTurn {
                        frame: peak,
                        eye_follow: follow,
                        foreshortening,
                    });
                }
            }
            Action::Blink => {
                // The open eyes the blink was found against hold the places where the eyes
                // are.
                let open = j.eyes_open.unwrap_or(reference);
                // Lids are a few pixels each: on a face too small in the frame, a patch
                // painted over the eye cannot be told from them.
                let eye_distance = frames[open].faces[0].landmarks.frame().eye_distance;
                if eye_distance < rules.min_blink_eye_distance {
                    return Some(Failure::FaceTooSmall {
                        frame: at,
                        eye_distance,
                    });
                }
                let (texture, relief) = lids(&frames[open], &frames[at]);
                let (texture, relief) = (texture.unwrap_or(0.0), relief.unwrap_or(0.0));
                j.blink = Some((at, texture, relief));
                if texture < rules.min_lid_texture || relief < rules.min_lid_relief {
                    return Some(Failure::PaintedBlink {
                        frame: at,
                        texture,
                        relief,
                    });
                }
            }
        }
    }
    None
}

/// Every frame's face against the document portrait's descriptor, with the same slack for
/// turned frames as within the sequence. Run on a sequence [`judge`] passed.
pub fn against_holder(
    frames: &[Frame],
    j: &Judgement,
    holder: &Descriptor,
    rules: &Rules,
    t: &Thresholds,
) -> Option<Failure> {
    frames.iter().enumerate().find_map(|(i, f)| {
        let face = f.faces.first()?;
        let turned = j
            .yaw
            .get(i)
            .is_some_and(|y| y.abs() >= rules.turn_yaw / 2.0);
        let allowed = t.same_person_distance + if turned { rules.turned_face_slack } else { 0.0 };
        let distance = face.descriptor.distance(holder);
        (distance > allowed).then_some(Failure::NotTheHolder { frame: i, distance })
    })
}

fn timing(frames: &[Frame], r: &Rules) -> Option<String> {
    if frames.len() < r.min_frames || frames.len() > r.max_frames {
        return Some(format!(
            "{} frames; between {} and {} are expected",
            frames.len(),
            r.min_frames,
            r.max_frames
        ));
    }
    for w in frames.windows(2) {
        let gap = w[1].at_ms - w[0].at_ms;
        if gap <= 0 {
            return Some("timestamps must increase".into());
        }
        if gap > r.max_gap_ms {
            return Some(format!(
                "a {gap} ms pause between frames; at most {} ms",
                r.max_gap_ms
            ));
        }
    }
    let span = frames[frames.len() - 1].at_ms - frames[0].at_ms;
    if span < r.min_span_ms || span > r.max_span_ms {
        return Some(format!(
            "the sequence lasts {span} ms; between {} and {} ms are expected",
            r.min_span_ms, r.max_span_ms
        ));
    }
    None
}

/// How a face's five landmarks moved between a frame facing the camera and a turned one,
/// in the frontal frame's eye distances.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TurnGeometry {
    /// The yaw measure's change (the nose's offset along the eye line).
    pub yaw: f32,
    /// The change of ln(width of the image-left eye / width of the other): a head turning in
    /// 3-D foreshortens the eye that turns away, so this follows the yaw's sign.
    pub asymmetry: f32,
    /// The shift of the point between the eyes along the frontal eye line, and of the nose:
    /// a head turns about the neck, so the eyes move the way the nose does.
    pub eye_shift: f32,
    pub nose_shift: f32,
}

fn eye_width(lm: &crate::Landmarks, i: usize) -> f32 {
    let e = lm.eyes[i];
    ((e[0][0] - e[1][0]).powi(2) + (e[0][1] - e[1][1]).powi(2))
        .sqrt()
        .max(1.0)
}

pub fn turn_geometry(frontal: &crate::Landmarks, turned: &crate::Landmarks) -> TurnGeometry {
    let f = frontal.frame();
    let asym = |lm: &crate::Landmarks| (eye_width(lm, 0) / eye_width(lm, 1)).ln();
    let along = |a: [f32; 2], b: [f32; 2]| {
        ((b[0] - a[0]) * f.across[0] + (b[1] - a[1]) * f.across[1]) / f.eye_distance
    };
    TurnGeometry {
        yaw: turned.yaw() - frontal.yaw(),
        asymmetry: asym(turned) - asym(frontal),
        eye_shift: along(f.origin, turned.frame().origin),
        nose_shift: along(frontal.nose, turned.nose),
    }
}

fn sample_gray(gray: &image::GrayImage, x: f32, y: f32) -> Option<f32> {
    if x < 0.0 || y < 0.0 || x > gray.width() as f32 - 1.001 || y > gray.height() as f32 - 1.001 {
        return None;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let g = |xx: u32, yy: u32| f32::from(gray.get_pixel(xx, yy)[0]);
    let top = g(x0, y0) * (1.0 - fx) + g(x0 + 1, y0) * fx;
    let bot = g(x0, y0 + 1) * (1.0 - fx) + g(x0 + 1, y0 + 1) * fx;
    Some(top * (1.0 - fy) + bot * fy)
}

/// The first face's eyes of a frame, with the landmarks they are read by: the eye view and
/// its landmarks when the frame has one, else the reduced grey image.
fn eye_pixels(frame: &Frame) -> (&image::GrayImage, crate::Landmarks) {
    match &frame.eyes {
        Some(view) => (&view.gray, view.landmarks(&frame.faces[0].landmarks)),
        None => (&frame.gray, frame.gray_landmarks()),
    }
}

/// How much the eyes of `other` differ from the open eyes of `open`, beyond what moves with
/// the face: over each eye opening, the mean absolute difference of the two frames' grey
/// (each less its mean, so exposure drift does not count) at the best alignment within
/// ±0.12 eye distances, over the open eye's spread; both eyes' mean. Eyes that are
/// still open, only read a little differently by the landmarks, come to a small fraction:
/// the iris and the white are where they were. Lids that cover them, or paint, come near
/// one.
pub fn eye_change(open: &Frame, other: &Frame) -> Option<f32> {
    const COLS: usize = 12;
    const ROWS: usize = 8;
    const REACH: f32 = 0.12;
    const STEP: f32 = 0.03;
    let (ga, la) = eye_pixels(open);
    let (gb, lb) = eye_pixels(other);
    let (fa, fb) = (la.frame(), lb.frame());
    let grid = |cx: f32| {
        (0..ROWS).flat_map(move |r| {
            (0..COLS).map(move |c| {
                (
                    cx - 0.18 + 0.36 * (c as f32 + 0.5) / COLS as f32,
                    -0.09 + 0.16 * (r as f32 + 0.5) / ROWS as f32,
                )
            })
        })
    };
    let centred = |v: &mut Vec<f32>| {
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        v.iter_mut().for_each(|x| *x -= mean);
    };
    let steps = (REACH / STEP).round() as i32;
    let mut sum = 0.0;
    for cx in [-0.5f32, 0.5] {
        let mut a: Vec<f32> = grid(cx)
            .map(|(x, y)| {
                let p = fa.to_image(x, y);
                sample_gray(ga, p[0], p[1])
            })
            .collect::<Option<_>>()?;
        centred(&mut a);
        let spread = (a.iter().map(|x| x * x).sum::<f32>() / a.len() as f32).sqrt();
        let mut best = f32::INFINITY;
        for sy in -steps..=steps {
            for sx in -steps..=steps {
                let (dx, dy) = (sx as f32 * STEP, sy as f32 * STEP);
                let Some(mut b) = grid(cx)
                    .map(|(x, y)| {
                        let p = fb.to_image(x + dx, y + dy);
                        sample_gray(gb, p[0], p[1])
                    })
                    .collect::<Option<Vec<f32>>>()
                else {
                    continue;
                };
                centred(&mut b);
                let d = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32;
                best = best.min(d);
            }
        }
        if !best.is_finite() {
            return None;
        }
        sum += best / spread.max(4.0);
    }
    Some(sum / 2.0)
}

/// [`lid_texture`] and [`lid_relief`] of the first face's eyes in `blink`, against where
/// they are open in `open`: read in the blink frame's eye view when it has one (the open frame
/// is from the same camera, so its landmarks map alike), else in the reduced grey images.
pub fn lids(open: &Frame, blink: &Frame) -> (Option<f32>, Option<f32>) {
    let (gray, open_lm, blink_lm) = match &blink.eyes {
        Some(view) => (
            &view.gray,
            view.landmarks(&open.faces[0].landmarks),
            view.landmarks(&blink.faces[0].landmarks),
        ),
        None => (&blink.gray, open.gray_landmarks(), blink.gray_landmarks()),
    };
    (
        lid_texture(&open_lm, (gray, &blink_lm)),
        lid_relief(&open_lm, (gray, &blink_lm)),
    )
}

/// `open`'s landmarks moved with the nose to where `other`'s nose is: the regions of an
/// open-eyed frame carried to another frame. Landmarks read on closed or painted eyes are
/// not to be trusted; the nose is.
fn carried(open: &crate::Landmarks, other: &crate::Landmarks) -> crate::Landmarks {
    let shift = [other.nose[0] - open.nose[0], other.nose[1] - open.nose[1]];
    crate::Landmarks {
        eyes: open
            .eyes
            .map(|e| e.map(|p| [p[0] + shift[0], p[1] + shift[1]])),
        nose: other.nose,
    }
}

/// The texture of a closed eye: on the blink frame, the mean absolute Laplacian of the upper
/// part of the eye openings (above where the lids meet) over that of the skin under the
/// eyes. A closed lid is skin, with its grain, crease and lashes; a patch painted over the
/// eye is flat. The regions come from the open-eyed frame's landmarks carried with the nose:
/// landmarks read on a painted eye are not to be trusted.
pub fn lid_texture(
    open: &crate::Landmarks,
    blink: (&image::GrayImage, &crate::Landmarks),
) -> Option<f32> {
    lid_texture_at(open, blink, 0.0)
}

/// [`lid_texture`] on the blink frame blurred by `sigma` pixels first (0: as it is).
pub fn lid_texture_at(
    open: &crate::Landmarks,
    blink: (&image::GrayImage, &crate::Landmarks),
    sigma: f32,
) -> Option<f32> {
    let blurred;
    let blink = if sigma > 0.0 {
        blurred = image::imageops::blur(blink.0, sigma);
        (&blurred, blink.1)
    } else {
        blink
    };
    let moved = carried(open, blink.1);
    let f = moved.frame();
    let px = 1.0 / f.eye_distance; // one pixel, in eye distances
    let mean_lap = |x: (f32, f32), y: (f32, f32)| -> Option<f32> {
        let (mut sum, mut n) = (0.0, 0);
        let (nx, ny) = (
            (((x.1 - x.0) / px) as usize).clamp(6, 48),
            (((y.1 - y.0) / px) as usize).clamp(3, 24),
        );
        for j in 0..ny {
            let v = y.0 + (y.1 - y.0) * (j as f32 + 0.5) / ny as f32;
            for i in 0..nx {
                let u = x.0 + (x.1 - x.0) * (i as f32 + 0.5) / nx as f32;
                let p = f.to_image(u, v);
                let g = |dx: f32, dy: f32| sample_gray(blink.0, p[0] + dx, p[1] + dy);
                let c = g(0.0, 0.0)?;
                let l = 4.0 * c - g(-1.0, 0.0)? - g(1.0, 0.0)? - g(0.0, -1.0)? - g(0.0, 1.0)?;
                sum += l.abs();
                n += 1;
            }
        }
        Some(sum / n.max(1) as f32)
    };
    let (mut lid, mut skin) = (0.0, 0.0);
    for cx in [-0.5f32, 0.5] {
        lid += mean_lap((cx - 0.16, cx + 0.16), (-0.085, -0.01))?;
        skin += mean_lap((cx - 0.16, cx + 0.16), (0.3, 0.375))?;
    }
    Some(lid / skin.max(0.5))
}

/// The flattest small window's spread (standard deviation of the grey, lightly blurred) in a
/// region of the face: windows `size` (across, down; eye distances) with their centres over
/// `xs` × `ys` in `frame`'s face units, about a pixel apart.
fn flattest_window(
    gray: &image::GrayImage,
    frame: &crate::FaceFrame,
    size: (f32, f32),
    xs: (f32, f32),
    ys: (f32, f32),
) -> Option<f32> {
    let px = 1.0 / frame.eye_distance;
    let steps = |len: f32, min: usize| ((len / px).round() as usize).clamp(min, 64);
    let (wn, hn) = (steps(size.0, 4), steps(size.1, 2));
    let (cn, rn) = (steps(xs.1 - xs.0, 1), steps(ys.1 - ys.0, 1));
    let mut best: Option<f32> = None;
    let mut values = Vec::with_capacity(wn * hn);
    for r in 0..=rn {
        let cy = ys.0 + (ys.1 - ys.0) * r as f32 / rn as f32;
        'window: for c in 0..=cn {
            let cx = xs.0 + (xs.1 - xs.0) * c as f32 / cn as f32;
            values.clear();
            for j in 0..hn {
                let v = cy + size.1 * ((j as f32 + 0.5) / hn as f32 - 0.5);
                for i in 0..wn {
                    let u = cx + size.0 * ((i as f32 + 0.5) / wn as f32 - 0.5);
                    let p = frame.to_image(u, v);
                    match sample_gray(gray, p[0], p[1]) {
                        Some(g) => values.push(g),
                        None => continue 'window,
                    }
                }
            }
            let n = values.len() as f32;
            let mean = values.iter().sum::<f32>() / n;
            let sd = (values.iter().map(|g| (g - mean).powi(2)).sum::<f32>() / n).sqrt();
            best = Some(best.map_or(sd, |b| b.min(sd)));
        }
    }
    best
}

/// The relief of closed eyes: over each eye, the flattest window the size of a lid's strip
/// (0.14 × 0.05 eye distances, anywhere around where the eye is), over the flattest window of
/// the same size on the cheek below it; both eyes' mean. A closed lid is never flat at that
/// scale (lashes, the crease, the lid's curve and shading); a patch painted over the eye is,
/// more than the skin. The eyes are looked for both where the open-eyed frame's landmarks
/// carried with the nose put them and where the blink frame's own landmarks do, and the
/// flatter taken: a painted patch must not escape by being a little off either.
pub fn lid_relief(
    open: &crate::Landmarks,
    blink: (&image::GrayImage, &crate::Landmarks),
) -> Option<f32> {
    let gray = image::imageops::blur(blink.0, 1.0);
    let own = blink.1.frame();
    let moved = carried(open, blink.1).frame();
    let size = (0.14, 0.05);
    let mut sum = 0.0;
    for cx in [-0.5f32, 0.5] {
        let eye = |f: &crate::FaceFrame| {
            flattest_window(&gray, f, size, (cx - 0.2, cx + 0.2), (-0.1, 0.06))
        };
        let lid = match (eye(&moved), eye(&own)) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        let cheek = flattest_window(&gray, &own, size, (cx - 0.25, cx + 0.25), (0.25, 0.5))?;
        sum += lid / cheek.max(0.3);
    }
    Some(sum / 2.0)
}

/// The background's horizontal shift between two frames, in `frontal`'s eye distances: the
/// best match of textured patches beside and above the head (block matching). Against a plain
/// wall no such patch has texture; then the head's outline is matched instead (patches on the
/// edge of the hair and of the head beside the temples, which stay where they are when a head
/// turns about the neck, and move when a whole photo is moved). `None` when neither has
/// texture to match.
pub fn background_shift(
    a: &image::GrayImage,
    b: &image::GrayImage,
    frontal: &crate::Landmarks,
) -> Option<f32> {
    const BESIDE: [(f32, f32); 5] = [
        (-2.0, 0.0),
        (2.0, 0.0),
        (-1.9, -1.2),
        (1.9, -1.2),
        (0.0, -1.9),
    ];
    const OUTLINE: [(f32, f32); 6] = [
        (-1.35, -0.3),
        (1.35, -0.3),
        (-1.1, -1.0),
        (1.1, -1.0),
        (-0.5, -1.45),
        (0.5, -1.45),
    ];
    let f = frontal.frame();
    let median = |at: &[(f32, f32)]| {
        let mut shifts: Vec<f32> = at
            .iter()
            .filter_map(|&c| patch_shift(a, b, &f, c))
            .collect();
        if shifts.is_empty() {
            return None;
        }
        shifts.sort_by(f32::total_cmp);
        Some(shifts[shifts.len() / 2])
    };
    median(&BESIDE).or_else(|| median(&OUTLINE))
}

/// The horizontal shift (eye distances) that best matches the patch of `a` centred at face
/// point `at` (0.35 eye distances either side, 17 × 17 samples) in `b`, searched within ±0.4
/// eye distances. `None` when the patch leaves the image, is too plain to match (standard
/// deviation under 6 levels), or matches nowhere well.
fn patch_shift(
    a: &image::GrayImage,
    b: &image::GrayImage,
    f: &crate::FaceFrame,
    at: (f32, f32),
) -> Option<f32> {
    let d = f.eye_distance;
    let c = f.to_image(at.0, at.1);
    let half = (0.35 * d).max(6.0);
    let step = (half / 8.0).max(1.0);
    let offsets: Vec<(f32, f32)> = (-8..=8)
        .flat_map(|k| (-8..=8).map(move |l| (l as f32 * step, k as f32 * step)))
        .collect();
    let pa = offsets
        .iter()
        .map(|&(dx, dy)| sample_gray(a, c[0] + dx, c[1] + dy))
        .collect::<Option<Vec<f32>>>()?;
    let mean = pa.iter().sum::<f32>() / pa.len() as f32;
    let sd = (pa.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / pa.len() as f32).sqrt();
    if sd < 6.0 {
        return None;
    }
    let search = (0.4 * d / step).round() as i32;
    let mut best = (f32::INFINITY, 0i32);
    for s in -search..=search {
        let (mut sad, mut n) = (0.0, 0);
        for (&(dx, dy), v) in offsets.iter().zip(&pa) {
            if let Some(w) = sample_gray(b, c[0] + dx + s as f32 * step, c[1] + dy) {
                sad += (w - v).abs();
                n += 1;
            }
        }
        if n > pa.len() / 2 {
            let m = sad / n as f32;
            if m < best.0 {
                best = (m, s);
            }
        }
    }
    (best.0.is_finite() && best.0 < 0.5 * sd).then(|| best.1 as f32 * step / d)
}
