//! dlib's detector, landmarks and descriptor on the shared labelled face photos, the
//! occlusion measures on synthetic sunglasses and masks, and liveness on synthetic frame
//! sequences made from a real photo.

#[path = "../../testdata.rs"]
mod testdata;

use idgate_face::liveness::{judge, Action, Failure, Frame, Rules};
use idgate_face::{counted_faces, obstruction, synth, Face, FaceModels, Thresholds};
use image::RgbImage;
use std::path::PathBuf;
use std::sync::OnceLock;

fn models() -> &'static FaceModels {
    static M: OnceLock<FaceModels> = OnceLock::new();
    M.get_or_init(|| {
        let dir = PathBuf::from(
            std::env::var_os("IDGATE_MODELS_DIR")
                .expect("IDGATE_MODELS_DIR: run through scripts/test, which unpacks the models"),
        );
        FaceModels::load(&dir).expect("face models")
    })
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
        .map(|(i, img)| Frame {
            at_ms: i as i64 * 300,
            faces: models().faces(img),
        })
        .collect()
}

#[test]
fn liveness_sees_the_requested_turns_and_blink_in_order() {
    let t = Thresholds::default();
    let rules = Rules::default();
    let img = photo(&format!("{AGEITGEY}/obama.jpg"));
    let face = models().faces(&img).remove(0);
    let asked = [Action::TurnLeft, Action::TurnRight, Action::Blink];
    let recorded = synth::sequence(&img, &face.landmarks, &asked, 0.35);
    let seq = frames(&recorded.iter().collect::<Vec<_>>());
    let j = judge(&seq, &asked, &rules, &t);
    assert!(
        j.passed(),
        "{:?} yaw {:?} eyes {:?}",
        j.failure,
        j.yaw,
        j.openness
    );
    assert_eq!(
        j.seen,
        vec![
            (Action::TurnLeft, Some(1)),
            (Action::TurnRight, Some(3)),
            (Action::Blink, Some(5))
        ]
    );
    assert!(j.best_frame.is_some_and(|b| b != 5));

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
    swapped[2] = &biden;
    let swapped = frames(&swapped);
    assert!(matches!(
        judge(&swapped, &asked, &rules, &t).failure,
        Some(Failure::FaceChanged { frame: 2, .. })
    ));
}
