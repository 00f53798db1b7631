//! `idgate face compare` and `idgate face liveness`: the face checks on files (their
//! evaluation is `idgate-eval faces`, outside the service binary).

use idgate_face::liveness::{self, Action, Frame, Rules};
use idgate_face::{counted_faces, Face, FaceModels, Thresholds};
use idgate_vision::input::InputLimits;
use image::RgbImage;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

use idgate_pipeline::faces::decode_face_image;

/// An image file decoded for face analysis; errors name the file and the code.
pub fn load(path: &Path) -> anyhow::Result<RgbImage> {
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("{}: unreadable_file: {e}", path.display()))?;
    decode_face_image(&bytes, InputLimits::default())
        .map_err(|e| anyhow::anyhow!("{}: {}: {e}", path.display(), e.code()))
}

/// The face a comparison uses: the largest.
pub fn compare_json(a: &[Face], b: &[Face], t: &Thresholds) -> Value {
    let distance = match (a.first(), b.first()) {
        (Some(x), Some(y)) => Some(x.descriptor.distance(&y.descriptor)),
        _ => None,
    };
    json!({
        "faces_a": counted_faces(a, t),
        "faces_b": counted_faces(b, t),
        "similarity": distance.map(|d| crate::report::round3(idgate_face::similarity_of(d))),
        "distance": distance.map(crate::report::round3),
        "same_person": distance.map(|d| d <= t.same_person_distance),
        "threshold": crate::report::round3(idgate_face::similarity_of(t.same_person_distance)),
    })
}

pub fn compare(models: &FaceModels, a: &Path, b: &Path) -> anyhow::Result<Value> {
    let t = Thresholds::default();
    let fa = models.faces(&load(a)?);
    let fb = models.faces(&load(b)?);
    Ok(compare_json(&fa, &fb, &t))
}

/// Frames of a liveness sequence from a folder: image files in name order, taken
/// `interval_ms` apart.
pub fn liveness_dir(
    models: &FaceModels,
    dir: &Path,
    actions: &[Action],
    interval_ms: i64,
) -> anyhow::Result<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut frames = Vec::new();
    for (i, f) in files.iter().enumerate() {
        frames.push(Frame::of(models, i as i64 * interval_ms, &load(f)?));
    }
    let j = liveness::judge(&frames, actions, &Rules::default(), &Thresholds::default());
    Ok(crate::report::judgement_json(&j))
}

/// `idgate face compare`: prints the comparison (JSON, or a `key: value` line each). True
/// when the two images show the same person.
pub fn run_compare(models_dir: &Path, a: &Path, b: &Path, json: bool) -> anyhow::Result<bool> {
    let models = FaceModels::load(models_dir)?;
    let out = compare(&models, a, b)?;
    if json {
        println!("{out}");
    } else {
        for (k, v) in out.as_object().into_iter().flatten() {
            println!("{k}: {v}");
        }
    }
    Ok(out["same_person"] == Value::Bool(true))
}

/// `idgate face liveness`: judges a folder of frames against the named movements and prints
/// the judgement. True when it passes.
pub fn run_liveness(
    models_dir: &Path,
    frames: &Path,
    actions: &[String],
    interval_ms: i64,
) -> anyhow::Result<bool> {
    let actions = actions
        .iter()
        .map(|a| {
            Action::parse(a).ok_or_else(|| {
                anyhow::anyhow!("unknown movement {a:?}: turn_left, turn_right or blink")
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let models = FaceModels::load(models_dir)?;
    let out = liveness_dir(&models, frames, &actions, interval_ms)?;
    println!("{out}");
    Ok(out["passed"] == Value::Bool(true))
}
