//! `idgate face compare` and `idgate face liveness`: the face checks on files (their
//! evaluation is `idgate-eval faces`, outside the service binary).

use idgate_face::liveness::{self, Action, Frame, Rules};
use idgate_face::{counted_faces, Face, FaceModels, Thresholds};
use idgate_vision::input::InputLimits;
use image::RgbImage;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub use idgate_pipeline::faces::decode_face_image;

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
        "similarity": distance.map(|d| round3(idgate_face::similarity_of(d))),
        "distance": distance.map(round3),
        "same_person": distance.map(|d| d <= t.same_person_distance),
        "threshold": round3(idgate_face::similarity_of(t.same_person_distance)),
    })
}

/// Three decimals, for printed measures.
pub fn round3(v: f32) -> f64 {
    (f64::from(v) * 1000.0).round() / 1000.0
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
    Ok(judgement_json(&j))
}

pub fn judgement_json(j: &liveness::Judgement) -> Value {
    json!({
        "passed": j.passed(),
        "failure": j.failure.as_ref().map(|f| f.message()),
        "seen": j.seen.iter().map(|(a, at)| json!({"action": a.as_str(), "frame": at})).collect::<Vec<_>>(),
        "yaw": j.yaw.iter().map(|v| round3(*v)).collect::<Vec<_>>(),
        "eye_openness": j.openness.iter().map(|v| round3(*v)).collect::<Vec<_>>(),
        "eye_change": j.eye_change.iter().map(|v| round3(*v)).collect::<Vec<_>>(),
        "best_frame": j.best_frame,
        "turns": j.turns.iter().map(|(f, follow, fore)| json!({"frame": f, "eye_follow": round3(*follow), "foreshortening": round3(*fore)})).collect::<Vec<_>>(),
        "blink": j.blink.map(|(f, tex, relief)| json!({"frame": f, "lid_texture": round3(tex), "lid_relief": round3(relief)})),
    })
}
