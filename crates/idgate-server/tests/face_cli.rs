//! `idgate face compare` and `idgate face liveness` as a user runs them: the JSON fields of
//! issue #6, the exit status, and clear errors for files that are not images.
//!
//! Needs the face models (`IDGATE_MODELS_DIR`, unpacked by scripts/lib.sh) and the shared
//! face photos.

#[path = "../../face_models.rs"]
mod face_models;
#[path = "../../testdata.rs"]
mod testdata;

use idgate_face::liveness::Action;
use idgate_face::synth;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_idgate");
const OBAMA: &str = "face_recognition_ageitgey/tests/test_images/obama.jpg";

fn idgate(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn path(rel: &str) -> String {
    testdata::path(rel).display().to_string()
}

#[test]
fn compare_prints_the_documented_fields_and_exits_by_verdict() {
    let same = idgate(&[
        "face",
        "compare",
        "--json",
        &path(OBAMA),
        &path("face_recognition_ageitgey/tests/test_images/obama2.jpg"),
    ]);
    assert_eq!(same.status.code(), Some(0), "{same:?}");
    let v: Value = serde_json::from_slice(&same.stdout).unwrap();
    assert_eq!(
        (v["faces_a"].as_u64(), v["faces_b"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["same_person"], true);
    let (sim, threshold) = (
        v["similarity"].as_f64().unwrap(),
        v["threshold"].as_f64().unwrap(),
    );
    assert!(sim >= threshold && sim <= 1.0, "{v}");

    let other = idgate(&[
        "face",
        "compare",
        "--json",
        &path(OBAMA),
        &path("face_recognition_ageitgey/examples/two_people.jpg"),
    ]);
    assert_eq!(other.status.code(), Some(2), "{other:?}");
    let v: Value = serde_json::from_slice(&other.stdout).unwrap();
    assert_eq!(v["faces_b"], 2, "{v}");

    // No face at all: similarity is null, not a number.
    let dir = tempfile::tempdir().unwrap();
    let blank = dir.path().join("blank.png");
    image::RgbImage::from_pixel(300, 300, image::Rgb([120, 120, 120]))
        .save(&blank)
        .unwrap();
    let none = idgate(&[
        "face",
        "compare",
        "--json",
        &path(OBAMA),
        blank.to_str().unwrap(),
    ]);
    assert_eq!(none.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&none.stdout).unwrap();
    assert_eq!(
        (v["faces_b"].as_u64(), v["similarity"].is_null()),
        (Some(0), true)
    );

    // Not an image: a clear error naming the file and the code, exit 1.
    let text = dir.path().join("notes.jpg");
    std::fs::write(&text, "not a photo").unwrap();
    let bad = idgate(&["face", "compare", &path(OBAMA), text.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("notes.jpg") && err.contains("unsupported_file_type"),
        "{err}"
    );
}

/// A live recording (3-D turns, closing lids) of the portrait, or with `warped` the old
/// synthetic one: the middle of a still photo shifted (issue #29's attack).
fn write_sequence(dir: &Path, actions: &[Action], warped: bool) {
    let models = face_models::get();
    let img = image::load_from_memory(&testdata::read(OBAMA))
        .unwrap()
        .into_rgb8();
    let lm = models.faces(&img)[0].landmarks;
    let frames = if warped {
        synth::sequence(&img, &lm, actions, 0.35)
    } else {
        synth::live_recording(&img, &lm, actions, 22.0, 3)
    };
    for (i, f) in frames.iter().enumerate() {
        f.save(dir.join(format!("frame-{i:02}.png"))).unwrap();
    }
}

#[test]
fn liveness_judges_a_folder_of_frames_against_the_movements_asked() {
    let dir = tempfile::tempdir().unwrap();
    write_sequence(dir.path(), &[Action::Blink, Action::TurnRight], false);
    let frames = dir.path().to_str().unwrap();
    let ok = idgate(&["face", "liveness", "--actions", "blink,turn_right", frames]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let v: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["passed"], true);
    let (blink, turn) = (
        v["seen"][0]["frame"].as_u64(),
        v["seen"][1]["frame"].as_u64(),
    );
    assert!(blink.is_some() && turn > blink, "{v}");

    let wrong = idgate(&["face", "liveness", "--actions", "turn_left", frames]);
    assert_eq!(wrong.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&wrong.stdout).unwrap();
    assert!(v["failure"].as_str().unwrap().contains("turn_left"), "{v}");

    let unknown = idgate(&["face", "liveness", "--actions", "nod", frames]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("nod"));

    // A warped still photo: the turn is seen but is no head turning (judged before the
    // painted blink that follows; two movements make the five frames a sequence needs).
    let warped = tempfile::tempdir().unwrap();
    write_sequence(warped.path(), &[Action::TurnRight, Action::Blink], true);
    let flat = idgate(&[
        "face",
        "liveness",
        "--actions",
        "turn_right,blink",
        warped.path().to_str().unwrap(),
    ]);
    assert_eq!(flat.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&flat.stdout).unwrap();
    assert!(
        v["failure"]
            .as_str()
            .unwrap()
            .contains("not a head turning"),
        "{v}"
    );
}
