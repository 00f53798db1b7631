//! The liveness trials of `idgate-eval faces`: per photo, a genuine recording, the same
//! recorded by a person following the page's guide, and issue #29's attacks, each judged as
//! the service judges an answer.

use idgate_face::liveness::Action;
use idgate_face::{synth, Face, FaceModels, Thresholds};
use image::RgbImage;

/// The attacks of issue #29's suite; the other rows are controls or harder variants.
pub const SUITE: &[&str] = &[
    "warped_still_painted_eyes",
    "warped_still_painted_eyes_noisy",
    "warped_still_real_lids_noisy",
    "printed_photo_turned",
    "screen_replay",
    "copied_frames",
];

/// What one photo's genuine recording and attacks came to.
pub struct Trial {
    /// `None` when the genuine recording passed; the failure otherwise.
    pub genuine: Option<String>,
    /// The same for the recording of a person who follows the page's guide
    /// ([`guided_recording`]), and the corrections the guide led to.
    pub guided: (Option<String>, Vec<&'static str>),
    /// (attack, rejected).
    pub attacks: Vec<(&'static str, bool)>,
}

/// A genuine recording by a person who follows the page's guide (issue #25) while filming:
/// each frame's advice (`idgate_face::guide`, as the service gives it) is acted on the way a
/// person acts on it, within the same attempt: "come closer" brings the face closer (the
/// photo filmed at 1.5 times the size, at most twice), "we cannot see your face" in the
/// middle of a turn turns less (5° less), "turn further" when a turn is never reached turns
/// more (5° more); at most three corrections. A simulation of behaviour, not of a camera:
/// coming closer here enlarges the same pixels, where a real camera would see more detail.
fn guided_recording(
    models: &FaceModels,
    image: &RgbImage,
    lm: &idgate_face::Landmarks,
    challenge: &[Action],
    seed: u64,
) -> (Vec<RgbImage>, Vec<&'static str>) {
    use idgate_face::guide::{guide, Advice};
    let (rules, t) = (
        idgate_face::liveness::Rules::default(),
        Thresholds::default(),
    );
    let advice = |img: &RgbImage, doing: Option<Action>| {
        let frame = idgate_face::liveness::Frame::of(models, 0, img);
        guide(&frame, doing, &rules, &t).advice
    };
    let mut corrections = Vec::new();
    let (mut img, mut lm) = (image.clone(), *lm);
    while corrections.len() < 2 && advice(&img, None) == Advice::ComeCloser {
        let (w, h) = (img.width() * 3 / 2, img.height() * 3 / 2);
        let closer = image::imageops::resize(&img, w, h, image::imageops::FilterType::CatmullRom);
        match models.faces(&closer).first() {
            Some(f) => {
                lm = f.landmarks;
                img = closer;
                corrections.push("came closer");
            }
            None => break,
        }
    }
    let mut turn_deg = 22.0;
    loop {
        let frames = synth::live_recording(&img, &lm, challenge, turn_deg, seed);
        if corrections.len() >= 3 {
            return (frames, corrections);
        }
        let lost = frames
            .iter()
            .any(|f| advice(f, Some(Action::TurnLeft)) == Advice::NoFace);
        let unreached = [Action::TurnLeft, Action::TurnRight]
            .into_iter()
            .filter(|a| challenge.contains(a))
            .any(|a| frames.iter().all(|f| advice(f, Some(a)) != Advice::Good));
        if lost {
            turn_deg -= 5.0;
            corrections.push("turned less");
        } else if unreached {
            turn_deg += 5.0;
            corrections.push("turned further");
        } else {
            return (frames, corrections);
        }
    }
}

/// Moves a picture sideways by `dx` pixels (the edge column repeats).
fn shifted(f: &RgbImage, dx: i64) -> RgbImage {
    RgbImage::from_fn(f.width(), f.height(), |x, y| {
        let sx = (x as i64 - dx).clamp(0, f.width() as i64 - 1);
        *f.get_pixel(sx as u32, y)
    })
}

/// A genuine recording (the head turning in 3-D, lids closing: [`synth::live_recording`])
/// of the face in `image`, and attacks on the challenge turn left, turn right, blink, each
/// judged as the service judges an answer (`idgate_pipeline::faces::judge_recording`, and the search
/// for copies of stored recordings):
///
/// * `warped_still_painted_eyes`: the still photo with the middle of the face shifted left
///   and right and the eyes painted over (issue #29's attack), and the same with each frame
///   moved a little and noised like a camera's (`_noisy`);
/// * `warped_still_real_lids_noisy`: a stronger warp, lids that keep skin texture;
/// * `printed_photo_turned`: the photo as a print turned ±25° before the camera;
/// * `screen_replay`: the genuine recording played on a screen and filmed;
/// * `copied_frames`: the genuine recording sent again by another applicant, every frame
///   resized, noised and re-encoded;
/// * controls: the genuine recording against the reverse challenge (`wrong_order`), another
///   person's frames from the middle on (`face_swap`), the warped still moved with the turn
///   (`warped_still_moved`), and 3-D turns with painted eyes (`turns_3d_painted_eyes`).
pub fn trial(
    models: &FaceModels,
    image: &RgbImage,
    face: &Face,
    seed: u64,
    other: Option<(&RgbImage, &Face)>,
) -> Trial {
    let challenge = [Action::TurnLeft, Action::TurnRight, Action::Blink];
    let reverse = [Action::TurnRight, Action::TurnLeft, Action::Blink];
    let lm = face.landmarks;
    let max_grid = idgate_vision::check::CheckOptions::new(idgate_mrz::Date::from_unix_days(0))
        .thresholds
        .min_grid_peak;
    let judge = |frames: Vec<RgbImage>, actions: &[Action]| {
        let timed = frames
            .into_iter()
            .enumerate()
            .map(|(i, f)| (i as i64 * 250, f));
        idgate_pipeline::faces::judge_recording(models, timed, actions, None, max_grid)
    };
    let mut rng = synth::Rng::new(seed);
    let genuine_frames = synth::live_recording(image, &lm, &challenge, 22.0, seed);
    let (g, stored) = judge(genuine_frames.clone(), &challenge);
    let genuine = g.failure.as_ref().map(|f| f.message());
    let (guided_frames, corrections) = guided_recording(models, image, &lm, &challenge, seed);
    let guided = (
        judge(guided_frames, &challenge)
            .0
            .failure
            .map(|f| f.message()),
        corrections,
    );
    let mut attacks = Vec::new();
    let mut rejected = |kind: &'static str, frames: Vec<RgbImage>, actions: &[Action]| {
        let (j, _) = judge(frames, actions);
        attacks.push((kind, !j.passed()));
    };
    rejected(
        "warped_still_painted_eyes",
        synth::sequence(image, &lm, &challenge, 0.35),
        &challenge,
    );
    let noisy = |frames: Vec<RgbImage>, rng: &mut synth::Rng| -> Vec<RgbImage> {
        frames
            .into_iter()
            .map(|f| {
                let mut g = shifted(&f, rng.range(-3.0, 3.0) as i64);
                synth::sensor(&mut g, 2.5, rng);
                g
            })
            .collect()
    };
    let frames = noisy(synth::sequence(image, &lm, &challenge, 0.35), &mut rng);
    rejected("warped_still_painted_eyes_noisy", frames, &challenge);
    let mut lids = vec![image.clone()];
    for a in challenge {
        lids.push(match a {
            Action::TurnLeft => synth::turn(image, &lm, 0.6),
            Action::TurnRight => synth::turn(image, &lm, -0.6),
            Action::Blink => synth::close_lids(image, &lm, 1.0),
        });
        lids.push(image.clone());
    }
    let frames = noisy(lids, &mut rng);
    rejected("warped_still_real_lids_noisy", frames, &challenge);
    let mut painted = image.clone();
    synth::close_eyes(&mut painted, &lm);
    let print: Vec<RgbImage> = [0.0, 25.0, 0.0, -25.0, 0.0]
        .iter()
        .map(|deg| synth::turned_print(image, *deg))
        .chain([synth::turned_print(&painted, 0.0), image.clone()])
        .collect();
    let frames = noisy(print, &mut rng);
    rejected("printed_photo_turned", frames, &challenge);
    let screen: Vec<RgbImage> = genuine_frames
        .iter()
        .map(|f| {
            let w = 400.min(f.width());
            let h = (f.height() * w / f.width().max(1)).max(1);
            let small = image::imageops::resize(f, w, h, image::imageops::FilterType::Triangle);
            idgate_specimen::photo::screen_pixels(&small, 4)
        })
        .collect();
    rejected("screen_replay", screen, &challenge);
    // Another applicant sends this recording again, every frame re-made.
    let copies: Vec<RgbImage> = genuine_frames
        .iter()
        .map(|f| {
            let (w, h) = (f.width() * 4 / 5, f.height() * 4 / 5);
            let mut c = image::imageops::resize(
                f,
                w.max(1),
                h.max(1),
                image::imageops::FilterType::Triangle,
            );
            synth::sensor(&mut c, 3.0, &mut rng);
            synth::jpeg_round_trip(&c, 75).unwrap_or(c)
        })
        .collect();
    let (j, seen) = judge(copies, &challenge);
    let t = Thresholds::default();
    let copied = idgate_face::hash::copied(&seen, &stored, &t)
        >= idgate_face::liveness::Rules::default().min_copied_frames;
    let copies_rejected = !j.passed() || copied;
    // Controls and harder variants.
    rejected("wrong_order", genuine_frames.clone(), &reverse);
    if let Some((other_img, other_face)) = other {
        let theirs =
            synth::live_recording(other_img, &other_face.landmarks, &challenge, 22.0, seed);
        let mut swapped = genuine_frames.clone();
        let half = swapped.len() / 2;
        for (i, f) in theirs.into_iter().enumerate().skip(half) {
            if i < swapped.len() {
                swapped[i] = f;
            }
        }
        rejected("face_swap", swapped, &challenge);
    }
    let d = lm.frame().eye_distance;
    let moved: Vec<RgbImage> = synth::sequence(image, &lm, &challenge, 0.35)
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let dx = match i {
                1 => (0.3 * d) as i64,
                3 => -(0.3 * d) as i64,
                _ => 0,
            };
            let mut g = shifted(&f, dx);
            synth::sensor(&mut g, 2.5, &mut rng);
            g
        })
        .collect();
    rejected("warped_still_moved", moved, &challenge);
    let mut turns_painted = synth::live_recording(image, &lm, &challenge[..2], 22.0, seed);
    let mut closed = painted.clone();
    synth::sensor(&mut closed, 2.5, &mut rng);
    turns_painted.push(closed);
    turns_painted.push(genuine_frames[0].clone());
    rejected("turns_3d_painted_eyes", turns_painted, &challenge);
    attacks.push(("copied_frames", copies_rejected));
    Trial {
        genuine,
        guided,
        attacks,
    }
}
