//! dlib's detector, landmarks and descriptor on the shared labelled face photos, the
//! occlusion measures on synthetic sunglasses and masks, and liveness on synthetic frame
//! sequences made from a real photo.

#[path = "../../face_models.rs"]
mod face_models;
#[path = "../../testdata.rs"]
mod testdata;

use idgate_face::liveness::{judge, Action, Failure, Frame, Rules};
use idgate_face::{counted_faces, obstruction, synth, Face, FaceModels, Thresholds};
use image::RgbImage;

fn models() -> &'static FaceModels {
    face_models::get()
}

fn photo(rel: &str) -> RgbImage {
    image::load_from_memory(&testdata::read(rel))
        .unwrap()
        .into_rgb8()
}

fn faces(rel: &str) -> Vec<Face> {
    models().faces(&photo(rel))
}

const AGEITGEY: &str = "face_recognition_ageitgey/tests/test_images";

#[test]
fn the_upstream_assertions_hold() {
    // face_recognition's own tests: obama matches obama2 and obama3, not biden (dlib 0.6).
    let t = Thresholds::default();
    let obama = &faces(&format!("{AGEITGEY}/obama.jpg"))[0];
    let d = |rel: &str| faces(rel)[0].descriptor.distance(&obama.descriptor);
    let (d2, d3, biden) = (
        d(&format!("{AGEITGEY}/obama2.jpg")),
        d(&format!("{AGEITGEY}/obama3.jpg")),
        d(&format!("{AGEITGEY}/biden.jpg")),
    );
    assert!(d2 <= t.same_person_distance, "obama2 {d2}");
    assert!(d3 <= t.same_person_distance, "obama3 {d3}");
    assert!(biden > idgate_face::DLIB_DISTANCE, "biden {biden}");
    // The upstream HOG box for obama.jpg is (top 142, right 617, bottom 409, left 349).
    let r = obama.rect;
    assert!(
        (r[0] - 349.0).abs() < 20.0 && (r[1] - 142.0).abs() < 20.0,
        "{r:?}"
    );
    // RGBA PNG decodes to one face; two people are two faces.
    assert_eq!(faces(&format!("{AGEITGEY}/32bit.png")).len(), 1);
    let two = faces("face_recognition_ageitgey/examples/two_people.jpg");
    assert_eq!(counted_faces(&two, &t), 2);
    // deepface: an all-black image has no face.
    assert!(models().faces(&RgbImage::new(224, 224)).is_empty());
}

#[test]
fn a_small_portrait_is_found_by_searching_again_at_twice_the_scale() {
    // The document portrait crops are 136–345 px wide: under dlib's 80 px face size.
    let small = photo("ballerine_mock_kyc/mock-documents/set_3_doc_face.png");
    assert!(small.width() < 400);
    let found = models().faces(&small);
    assert_eq!(found.len(), 1);
    // Coordinates come back in the input's pixels.
    let r = found[0].rect;
    assert!(r[0] + r[2] <= small.width() as f32 + 1.0);
}

#[test]
fn sunglasses_and_masks_are_obstructions_and_a_clean_face_is_not() {
    let t = Thresholds::default();
    for rel in [
        format!("{AGEITGEY}/obama.jpg"),
        format!("{AGEITGEY}/biden.jpg"),
        "deepface_pairs/dataset/img1.jpg".to_string(),
    ] {
        let img = photo(&rel);
        let face = &models().faces(&img)[0];
        assert_eq!(obstruction(face, &t), None, "{rel}: {:?}", face.occlusion);
        let mut glasses = img.clone();
        synth::sunglasses(&mut glasses, &face.landmarks);
        let covered = models().faces(&glasses);
        // A face the detector no longer sees is FACE_NOT_FOUND, also a retry.
        if let Some(f) = covered.first() {
            assert_eq!(obstruction(f, &t), Some("eyes"), "{rel}: {:?}", f.occlusion);
        }
        let mut masked = img.clone();
        synth::mask(&mut masked, &face.landmarks, [150, 190, 225]);
        if let Some(f) = models().faces(&masked).first() {
            assert_eq!(
                obstruction(f, &t),
                Some("lower_face"),
                "{rel}: {:?}",
                f.occlusion
            );
        }
    }
}

fn frames(seq: &[&RgbImage]) -> Vec<Frame> {
    seq.iter()
        .enumerate()
        .map(|(i, img)| Frame::of(models(), i as i64 * 300, img))
        .collect()
}

#[test]
fn liveness_sees_the_requested_turns_and_blink_in_order() {
    let t = Thresholds::default();
    let rules = Rules::default();
    let img = photo(&format!("{AGEITGEY}/obama.jpg"));
    let face = models().faces(&img).remove(0);
    let asked = [Action::TurnLeft, Action::TurnRight, Action::Blink];
    let recorded = synth::live_recording(&img, &face.landmarks, &asked, 22.0, 1);
    let seq = frames(&recorded.iter().collect::<Vec<_>>());
    let j = judge(&seq, &asked, &rules, &t);
    assert!(
        j.passed(),
        "{:?} yaw {:?} eyes {:?} turns {:?} blink {:?}",
        j.failure,
        j.yaw,
        j.openness,
        j.turns,
        j.blink
    );
    let seen: Vec<Action> = j
        .seen
        .iter()
        .filter(|s| s.1.is_some())
        .map(|s| s.0)
        .collect();
    assert_eq!(seen, asked);
    // Each turn was a head turning: the eyes followed the nose and foreshortened.
    assert_eq!(j.turns.len(), 2);
    for (_, follow, foreshortening) in &j.turns {
        assert!(*follow >= rules.min_eye_follow && *foreshortening >= rules.min_foreshortening);
    }
    let blink = j.seen[2].1.unwrap();
    assert!(j.best_frame.is_some_and(|b| b != blink));
    // A frame's pixels are a face: its `Debug` gives their size, not them.
    let shown = format!("{:?}", seq[blink]);
    assert!(
        shown.contains("EyeView") && shown.len() < 4000,
        "{}",
        shown.len()
    );

    // The same movements in another order than asked.
    let j = judge(&seq, &[Action::TurnRight, Action::TurnLeft], &rules, &t);
    assert_eq!(j.failure, Some(Failure::ActionMissing(Action::TurnLeft)));
    // A still photo shown to the camera.
    let still = frames(&[&img, &img, &img, &img, &img]);
    assert!(!judge(&still, &asked, &rules, &t).passed());
    // Too fast, and out of order in time.
    let mut fast = seq.clone();
    for (i, f) in fast.iter_mut().enumerate() {
        f.at_ms = i as i64 * 20;
    }
    assert!(matches!(
        judge(&fast, &asked, &rules, &t).failure,
        Some(Failure::Timing(_))
    ));
    // Another person in the middle of the sequence.
    let biden = photo(&format!("{AGEITGEY}/biden.jpg"));
    let mut swapped: Vec<&RgbImage> = recorded.iter().collect();
    swapped[4] = &biden;
    let swapped = frames(&swapped);
    assert!(matches!(
        judge(&swapped, &asked, &rules, &t).failure,
        Some(Failure::FaceChanged { frame: 4, .. })
    ));
}

/// Issue #29, 2: one portrait, the nose-and-mouth area shifted left and right between frames
/// and the eyes painted over for the blink, passed liveness. The turns of a warped still are
/// not a head turning: the eyes stay where they were while the nose moves.
#[test]
fn a_warped_still_photo_is_not_a_head_turning() {
    let t = Thresholds::default();
    let rules = Rules::default();
    let asked = [Action::TurnLeft, Action::TurnRight, Action::Blink];
    for rel in ["obama.jpg", "biden.jpg"] {
        let img = photo(&format!("{AGEITGEY}/{rel}"));
        let face = models().faces(&img).remove(0);
        // 40 px at this photo's size, as in the report, and the 0.35-eye-distance warp of
        // idgate's former synthetic recordings, which passed as turns before: neither is a
        // head turning.
        let d = face.landmarks.frame().eye_distance;
        for amount in [40.0 / d, 0.35] {
            let warped = synth::sequence(&img, &face.landmarks, &asked, amount);
            let j = judge(
                &frames(&warped.iter().collect::<Vec<_>>()),
                &asked,
                &rules,
                &t,
            );
            assert!(
                matches!(
                    j.failure,
                    Some(Failure::FlatTurn { .. } | Failure::ActionMissing(Action::TurnLeft))
                ),
                "{rel} {amount}: {:?} turns {:?}",
                j.failure,
                j.turns
            );
            if amount == 0.35 {
                assert!(
                    matches!(j.failure, Some(Failure::FlatTurn { .. })),
                    "{rel}: {:?}",
                    j.failure
                );
            }
        }
    }
}

/// Issue #29: a still photo moved whole with its warped turns passed against a plain wall
/// (deepface's img49, a studio portrait): with no textured background to measure against, the eyes seemed to
/// follow the nose. The head's outline against the wall stays when a head turns about the
/// neck and moves with a moved photo, so it stands in for the background.
#[test]
fn a_still_moved_whole_before_a_plain_wall_is_not_a_head_turning() {
    use idgate_face::liveness::background_shift;
    let t = Thresholds::default();
    let rules = Rules::default();
    let asked = [Action::TurnLeft, Action::TurnRight, Action::Blink];
    let img = photo("deepface_pairs/dataset/img49.jpg");
    let lm = models().faces(&img).remove(0).landmarks;
    let f = lm.frame();
    // A genuine recording before that wall still passes.
    let live = synth::live_recording(&img, &lm, &asked, 22.0, 1);
    let j = judge(
        &frames(&live.iter().collect::<Vec<_>>()),
        &asked,
        &rules,
        &t,
    );
    assert!(j.passed(), "{:?} turns {:?}", j.failure, j.turns);
    // The warped still (the middle of the face shifted half an eye distance), moved 0.3
    // eye distances with each turn.
    let d = f.eye_distance;
    let moved: Vec<RgbImage> = synth::sequence(&img, &lm, &asked, 0.5)
        .into_iter()
        .enumerate()
        .map(|(i, frame)| {
            let dx = match i {
                1 => 0.3 * d,
                3 => -0.3 * d,
                _ => 0.0,
            } as i64;
            RgbImage::from_fn(frame.width(), frame.height(), |x, y| {
                let sx = (x as i64 - dx).clamp(0, frame.width() as i64 - 1);
                *frame.get_pixel(sx as u32, y)
            })
        })
        .collect();
    let seq = frames(&moved.iter().collect::<Vec<_>>());
    // The wall is too plain to match; the outline is found moved with the photo.
    let shift = background_shift(&seq[0].gray, &seq[1].gray, &seq[0].gray_landmarks());
    assert!(shift.is_some_and(|s| (s - 0.3).abs() < 0.08), "{shift:?}");
    let j = judge(&seq, &asked, &rules, &t);
    assert!(
        matches!(j.failure, Some(Failure::FlatTurn { frame: 1, .. })),
        "{:?} turns {:?} yaw {:?}",
        j.failure,
        j.turns,
        j.yaw
    );
}

/// A flat patch painted over the eyes has none of a lid's texture or relief; lids that close
/// keep both. The lids are read in the frame's eye view, at up to 100 px between the eyes:
/// in the grey image reduced to 640 px, deepface's img57 (2048 px wide) keeps its face under
/// 30 px between the eyes, where its painted patch measured as much relief as the skin.
/// (How often this catches painted eyes in whole recordings is in `idgate-eval faces`.)
#[test]
fn painted_eyes_have_no_lid_texture_or_relief() {
    use idgate_face::liveness::lids;
    let rules = Rules::default();
    for rel in [
        "deepface_pairs/dataset/img20.jpg".to_string(),
        "deepface_pairs/dataset/img1.jpg".to_string(),
        "deepface_pairs/dataset/img57.jpg".to_string(),
        format!("{AGEITGEY}/obama.jpg"),
    ] {
        let img = photo(&rel);
        let open = Frame::of(models(), 0, &img);
        let lm = open.faces[0].landmarks;
        let measure = |closed: &RgbImage| {
            let f = Frame::of(models(), 1, closed);
            assert!(f.eyes.is_some(), "{rel}: no eye view");
            let (texture, relief) = lids(&open, &f);
            (texture.unwrap(), relief.unwrap())
        };
        let mut painted = img.clone();
        synth::close_eyes(&mut painted, &lm);
        let mut painted_noisy = painted.clone();
        synth::sensor(&mut painted_noisy, 2.5, &mut synth::Rng::new(3));
        let lids = measure(&synth::close_lids(&img, &lm, 1.0));
        assert!(
            lids.0 >= rules.min_lid_texture && lids.1 >= rules.min_lid_relief,
            "{rel}: lids {lids:?}"
        );
        for flat in [measure(&painted), measure(&painted_noisy)] {
            assert!(
                flat.0 < rules.min_lid_texture || flat.1 < rules.min_lid_relief,
                "{rel}: painted {flat:?}, lids {lids:?}"
            );
        }
        // Camera noise alone does not hide the paint from the relief measure.
        assert!(
            measure(&painted_noisy).1 < rules.min_lid_relief,
            "{rel}: painted and noised {:?}",
            measure(&painted_noisy)
        );
    }
}

/// The blink is the frame whose eyes changed, not the frame whose eye openness dipped. Eye
/// openness dips on open eyes read a little differently and can stay up on closed lids or
/// paint: `idgate-eval faces` found real 3-D turns followed by painted eyes passing because a
/// frame with open eyes stood for the blink (deepface img53), and genuine blinks missed.
#[test]
fn the_blink_is_the_frame_whose_eyes_changed() {
    let t = Thresholds::default();
    let rules = Rules::default();
    let asked = [Action::TurnLeft, Action::TurnRight, Action::Blink];
    let img = photo(&format!("{AGEITGEY}/obama.jpg"));
    let face = models().faces(&img).remove(0);
    let lm = face.landmarks;
    let recorded = synth::live_recording(&img, &lm, &asked, 22.0, 1);
    let mut seq = frames(&recorded.iter().collect::<Vec<_>>());
    let j = judge(&seq, &asked, &rules, &t);
    let blink = j.seen[2].1.expect("blink seen");
    let open = j.eyes_open.unwrap();
    // Open eyes read again (sensor noise, the sway) change little; lids and paint a lot.
    let changed = |img: &RgbImage| {
        let f = Frame::of(models(), 0, img);
        idgate_face::liveness::eye_change(&seq[open], &f).unwrap()
    };
    let mut noisy = img.clone();
    synth::sensor(&mut noisy, 2.5, &mut synth::Rng::new(5));
    let mut painted = img.clone();
    synth::close_eyes(&mut painted, &lm);
    let (same, lids, paint) = (
        changed(&noisy),
        changed(&synth::close_lids(&img, &lm, 1.0)),
        changed(&painted),
    );
    assert!(
        same < rules.min_eye_change && lids >= rules.min_eye_change,
        "open {same}, lids {lids}"
    );
    assert!(paint >= rules.min_eye_change, "paint {paint}");

    // A genuine blink whose openness did not dip is still seen.
    let level = seq[open].faces[0].eye_openness;
    for f in seq.iter_mut().skip(blink - 1).take(2) {
        f.faces[0].eye_openness = level;
    }
    let j = judge(&seq, &asked, &rules, &t);
    assert!(j.passed(), "{:?} {:?}", j.failure, j.eye_change);

    // Real turns, then painted eyes whose openness stays up, and an open-eyed frame whose
    // openness dips: the painted frame is the blink, and it is flat.
    let mut painted_noisy = painted.clone();
    synth::sensor(&mut painted_noisy, 2.5, &mut synth::Rng::new(6));
    let turns = synth::live_recording(&img, &lm, &asked[..2], 22.0, 1);
    let mut attack: Vec<&RgbImage> = turns.iter().collect();
    attack.extend([&painted_noisy, &noisy]);
    let mut seq = frames(&attack);
    let n = seq.len();
    seq[n - 2].faces[0].eye_openness = level;
    seq[n - 1].faces[0].eye_openness = 0.5 * level;
    let j = judge(&seq, &asked, &rules, &t);
    assert!(
        matches!(j.failure, Some(Failure::PaintedBlink { frame, .. }) if frame == n - 2),
        "{:?} {:?}",
        j.failure,
        j.eye_change
    );
}

/// A face a few dozen pixels between the eyes shows no lids to tell from paint: the blink is
/// not judged, and the person is asked to come closer. The same recording made from the
/// photo at its size passes.
#[test]
fn a_blink_too_small_to_see_is_not_taken() {
    let t = Thresholds::default();
    let rules = Rules::default();
    let asked = [Action::TurnLeft, Action::TurnRight, Action::Blink];
    let img = photo(&format!("{AGEITGEY}/obama.jpg"));
    let record = |img: &RgbImage| {
        let face = models().faces(img).remove(0);
        let d = face.landmarks.frame().eye_distance;
        let rec = synth::live_recording(img, &face.landmarks, &asked, 22.0, 1);
        (
            d,
            judge(&frames(&rec.iter().collect::<Vec<_>>()), &asked, &rules, &t),
        )
    };
    let (d, j) = record(&img);
    assert!(
        d >= rules.min_blink_eye_distance && j.passed(),
        "{d}: {:?}",
        j.failure
    );
    // Reduced until the eyes are about 40 px apart: dlib still finds the face.
    let k = 40.0 / d;
    let small = image::imageops::resize(
        &img,
        (img.width() as f32 * k) as u32,
        (img.height() as f32 * k) as u32,
        image::imageops::FilterType::Triangle,
    );
    let (d, j) = record(&small);
    assert!(d < rules.min_blink_eye_distance, "{d}");
    assert!(
        matches!(j.failure, Some(Failure::FaceTooSmall { .. })),
        "{d}: {:?}",
        j.failure
    );
}

/// Copies of a frame (re-encoded, resized, cropped, noised) hash within a few bits of it;
/// other photos of the same person and other people do not.
#[test]
fn copies_of_a_face_are_found_by_its_hash() {
    let t = Thresholds::default();
    let img = photo(&format!("{AGEITGEY}/obama.jpg"));
    let face = models().faces(&img).remove(0);
    let seen = |im: &RgbImage| {
        let f = models().faces(im).remove(0);
        idgate_face::hash::Seen {
            hash: f.hash.expect("the crop fits"),
            descriptor: f.descriptor,
        }
    };
    let original = seen(&img);
    let (w, h) = (img.width(), img.height());
    let mut rng = synth::Rng::new(5);
    let mut noisy = image::imageops::resize(
        &img,
        w * 3 / 4,
        h * 3 / 4,
        image::imageops::FilterType::Triangle,
    );
    synth::sensor(&mut noisy, 4.0, &mut rng);
    let cropped =
        image::imageops::crop_imm(&img, w / 10, h / 10, w * 8 / 10, h * 8 / 10).to_image();
    for copy in [noisy, cropped] {
        let c = seen(&copy);
        assert!(
            c.copies(&original, &t),
            "{} bits",
            c.hash.distance(&original.hash)
        );
    }
    for other in ["obama2.jpg", "obama3.jpg", "biden.jpg"] {
        let o = seen(&photo(&format!("{AGEITGEY}/{other}")));
        assert!(
            !o.copies(&original, &t),
            "{other}: {} bits",
            o.hash.distance(&original.hash)
        );
    }
    let _ = face;
}

/// Issue #25: guidance while recording. On a live recording, the frames where the judge
/// sees a turn are the frames the guide calls done for that turn, and facing the camera is
/// good before it; a dark frame asks for light, a small face to come closer, two faces for
/// one, an empty frame for a face, and a face turned during the blink to face the camera.
#[test]
fn the_guide_says_what_to_correct_and_when_a_turn_is_done() {
    use idgate_face::guide::{guide, Advice};
    let t = Thresholds::default();
    let rules = Rules::default();
    let img = photo(&format!("{AGEITGEY}/obama.jpg"));
    let face = models().faces(&img).remove(0);
    let asked = [Action::TurnLeft, Action::TurnRight, Action::Blink];
    let recorded = synth::live_recording(&img, &face.landmarks, &asked, 22.0, 1);
    let seq = frames(&recorded.iter().collect::<Vec<_>>());
    let j = judge(&seq, &asked, &rules, &t);
    assert!(j.passed(), "{:?}", j.failure);
    let left = j.seen[0].1.unwrap();
    let right = j.seen[1].1.unwrap();
    let at = |i: usize, doing| guide(&seq[i], doing, &rules, &t).advice;
    assert_eq!(
        at(0, None),
        Advice::Good,
        "the recording starts facing the camera"
    );
    assert_eq!(at(0, Some(Action::TurnLeft)), Advice::TurnFurther);
    assert_eq!(at(left, Some(Action::TurnLeft)), Advice::Good);
    assert_eq!(at(left, Some(Action::TurnRight)), Advice::TurnFurther);
    assert_eq!(at(left, None), Advice::FaceCamera);
    assert_eq!(at(left, Some(Action::Blink)), Advice::FaceCamera);
    assert_eq!(at(right, Some(Action::TurnRight)), Advice::Good);
    // Every frame the guide calls a done left turn, the judge counts as one (the same
    // threshold on the same measure).
    for (i, f) in seq.iter().enumerate() {
        let g = guide(f, Some(Action::TurnLeft), &rules, &t);
        assert_eq!(
            g.advice == Advice::Good,
            j.yaw[i] >= rules.turn_yaw,
            "frame {i}"
        );
    }

    let dark = image::RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y).0;
        image::Rgb(p.map(|c| c / 8))
    });
    let g = guide(&frames(&[&dark])[0], None, &rules, &t);
    assert_eq!(g.advice, Advice::MoreLight, "{g:?}");
    let small = image::imageops::resize(
        &img,
        img.width() / 5,
        img.height() / 5,
        image::imageops::FilterType::Triangle,
    );
    let g = guide(&frames(&[&small])[0], None, &rules, &t);
    assert_eq!(g.advice, Advice::ComeCloser, "{g:?}");
    let mut two =
        image::RgbImage::from_pixel(img.width() * 2, img.height(), image::Rgb([128, 128, 128]));
    image::imageops::replace(&mut two, &img, 0, 0);
    image::imageops::replace(
        &mut two,
        &photo(&format!("{AGEITGEY}/biden.jpg")),
        i64::from(img.width()),
        0,
    );
    let g = guide(&frames(&[&two])[0], None, &rules, &t);
    assert_eq!((g.faces, g.advice), (2, Advice::OneFaceOnly), "{g:?}");
    let empty = image::RgbImage::from_pixel(640, 480, image::Rgb([150, 150, 150]));
    let g = guide(&frames(&[&empty])[0], None, &rules, &t);
    assert_eq!((g.faces, g.advice), (0, Advice::NoFace));
}
