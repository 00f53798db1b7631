//! `idgate-eval faces`: face matching, face counts, occlusion and liveness measured on the
//! shared labelled face photos and on synthetic occlusions and liveness sequences made from
//! them, with the liveness attack suite (`trial`).

use idgate_face::{counted_faces, obstruction, synth, Face, FaceModels, Thresholds};
use idgate_server::cli::face::load;
use idgate_server::report::round3;
use image::RgbImage;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One labelled image of the shared face data.
struct Labelled {
    source: &'static str,
    file: PathBuf,
    faces: Vec<Face>,
    image: RgbImage,
}

/// Same-person and different-person pairs (indices into the image list), by source.
struct Pairs {
    source: &'static str,
    same: bool,
    a: usize,
    b: usize,
}

/// `idgate-eval faces --testdata DIR`: accuracy, true-accept rate at 0.1 % false accepts and
/// the threshold, per source and overall; face counts; occlusion and liveness on synthetic
/// data made from the single-face photos; time per face.
pub fn evaluate(models: &FaceModels, testdata: &Path) -> anyhow::Result<Value> {
    let t = Thresholds::default();
    let mut images: Vec<Labelled> = Vec::new();
    let mut index: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let (mut face_ms, mut decode_ms) = (Vec::new(), Vec::new());
    let mut add = |source: &'static str, file: PathBuf, images: &mut Vec<Labelled>| {
        if let Some(&i) = index.get(&file) {
            return Ok::<usize, anyhow::Error>(i);
        }
        let start = Instant::now();
        let image = load(&file)?;
        let decoded = start.elapsed().as_secs_f64() * 1000.0;
        let start = Instant::now();
        let faces = models.faces(&image);
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        if faces.len() == 1 {
            face_ms.push(ms);
            decode_ms.push(decoded);
        }
        images.push(Labelled {
            source,
            file: file.clone(),
            faces,
            image,
        });
        index.insert(file, images.len() - 1);
        Ok(images.len() - 1)
    };
    let mut pairs = Vec::new();
    let mut counts = Vec::new();

    // ageitgey: pairs derived from the folder labels; expected face counts.
    let root = testdata.join("face_recognition_ageitgey");
    let m: Value = serde_json::from_slice(&std::fs::read(root.join("manifest.json"))?)?;
    for img in m["images"].as_array().into_iter().flatten() {
        let file = img["file"].as_str().unwrap_or_default();
        let i = add("ageitgey", root.join(file), &mut images)?;
        if let Some(n) = img["faces_expected"].as_u64() {
            counts.push((i, n as usize));
        }
    }
    for p in m["pairs_derived_from_labels"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let a = add(
            "ageitgey",
            root.join(p["a"].as_str().unwrap_or_default()),
            &mut images,
        )?;
        let b = add(
            "ageitgey",
            root.join(p["b"].as_str().unwrap_or_default()),
            &mut images,
        )?;
        pairs.push(Pairs {
            source: "ageitgey",
            same: p["same_person"].as_bool().unwrap_or(false),
            a,
            b,
        });
    }

    // deepface: every pair of the identity clusters (same inside, different across).
    let root = testdata.join("deepface_pairs");
    let m: Value = serde_json::from_slice(&std::fs::read(root.join("manifest.json"))?)?;
    let clusters: Vec<Vec<usize>> = m["identity_clusters_combined"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            c.as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str())
                .map(|f| add("deepface", root.join("dataset").join(f), &mut images))
                .collect::<anyhow::Result<Vec<usize>>>()
        })
        .collect::<anyhow::Result<_>>()?;
    for (ci, c) in clusters.iter().enumerate() {
        for (k, &a) in c.iter().enumerate() {
            for &b in &c[k + 1..] {
                pairs.push(Pairs {
                    source: "deepface",
                    same: true,
                    a,
                    b,
                });
            }
            for other in &clusters[ci + 1..] {
                for &b in other {
                    pairs.push(Pairs {
                        source: "deepface",
                        same: false,
                        a,
                        b,
                    });
                }
            }
        }
    }
    for (file, n) in [("img1.jpg", 1), ("couple.jpg", 2), ("img3.jpg", 1)] {
        let i = add("deepface", root.join("dataset").join(file), &mut images)?;
        counts.push((i, n));
    }

    // ballerine: selfie against the document portrait and the document photo.
    let root = testdata.join("ballerine_mock_kyc");
    let m: Value = serde_json::from_slice(&std::fs::read(root.join("manifest.json"))?)?;
    for (key, same) in [("same_person", true), ("different_person", false)] {
        for p in m["face_match_ground_truth"][key]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (Some(a), Some(b)) = (p[0].as_str(), p[1].as_str()) else {
                continue;
            };
            let a = add(
                "ballerine",
                root.join("mock-documents").join(a),
                &mut images,
            )?;
            let b = add(
                "ballerine",
                root.join("mock-documents").join(b),
                &mut images,
            )?;
            pairs.push(Pairs {
                source: "ballerine",
                same,
                a,
                b,
            });
        }
    }

    // Pairs where either side has no face cannot be scored: counted as failures to match
    // (a same-person pair rejected), never silently dropped.
    let scored: Vec<(&'static str, bool, Option<f32>)> = pairs
        .iter()
        .map(|p| {
            let d = match (images[p.a].faces.first(), images[p.b].faces.first()) {
                (Some(x), Some(y)) => Some(x.descriptor.distance(&y.descriptor)),
                _ => None,
            };
            (p.source, p.same, d)
        })
        .collect();
    let mut by_source = serde_json::Map::new();
    for source in ["ageitgey", "deepface", "ballerine"] {
        let part: Vec<_> = scored.iter().filter(|s| s.0 == source).cloned().collect();
        by_source.insert(source.into(), pair_stats(&part, t.same_person_distance));
    }
    let overall = pair_stats(&scored, t.same_person_distance);
    let sweep: Vec<Value> = [0.45f32, 0.5, 0.55, 0.6]
        .iter()
        .map(|&d| {
            let s = pair_stats(&scored, d);
            json!({"distance": d, "similarity": round3(idgate_face::similarity_of(d)),
                   "false_accept_rate": s["false_accept_rate"], "false_reject_rate": s["false_reject_rate"]})
        })
        .collect();

    let count_ok = counts
        .iter()
        .filter(|(i, n)| counted_faces(&images[*i].faces, &t) == *n)
        .count();
    let count_misses: Vec<Value> = counts
        .iter()
        .filter(|(i, n)| counted_faces(&images[*i].faces, &t) != *n)
        .map(|(i, n)| json!({"file": name(&images[*i].file), "expected": n, "found": counted_faces(&images[*i].faces, &t)}))
        .collect();

    let singles: Vec<&Labelled> = images.iter().filter(|l| l.faces.len() == 1).collect();
    let occlusion = occlusion_eval(models, &singles, &t);
    let live = liveness_eval(models, &singles, &t);
    let median = crate::median;
    let (median_ms, median_decode) = (median(&mut face_ms), median(&mut decode_ms));
    Ok(json!({
        "images": images.len(),
        "images_without_face": images.iter().filter(|l| l.faces.is_empty()).map(|l| format!("{}:{}", l.source, name(&l.file))).collect::<Vec<_>>(),
        "threshold_distance": t.same_person_distance,
        "threshold_similarity": round3(idgate_face::similarity_of(t.same_person_distance)),
        "pairs": overall,
        "pairs_by_source": by_source,
        "threshold_sweep": sweep,
        "face_counts": {"checked": counts.len(), "correct": count_ok, "misses": count_misses},
        "occlusion": occlusion,
        "liveness": live,
        // Time per face: detection (≤ 1024 px), landmarks and descriptor of a one-face photo,
        // against decoding the same photos (the baseline, measured in the same run).
        "ms_per_single_face_photo_median": (median_ms * 10.0).round() / 10.0,
        "decode_ms_median_same_photos": (median_decode * 10.0).round() / 10.0,
        "face_to_decode_ratio": round4(median_ms / median_decode.max(1e-9)),
    }))
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Accuracy at `threshold`, and the operating point at 0.1 % false accepts: the largest
/// distance threshold whose false-accept rate is at most 0.1 %, and the true-accept rate
/// there. With fewer than 1000 different-person pairs that means no false accept at all.
fn pair_stats(scored: &[(&'static str, bool, Option<f32>)], threshold: f32) -> Value {
    let same: Vec<f32> = scored
        .iter()
        .filter(|s| s.1)
        .map(|s| s.2.unwrap_or(f32::INFINITY))
        .collect();
    let diff: Vec<f32> = scored
        .iter()
        .filter(|s| !s.1)
        .map(|s| s.2.unwrap_or(f32::INFINITY))
        .collect();
    let unscored = scored.iter().filter(|s| s.2.is_none()).count();
    let correct = same.iter().filter(|d| **d <= threshold).count()
        + diff.iter().filter(|d| **d > threshold).count();
    let allowed = diff.len() / 1000;
    let mut sorted = diff.clone();
    sorted.sort_by(f32::total_cmp);
    // Accept strictly below the (allowed+1)-th closest different-person distance.
    let at_far = sorted.get(allowed).copied().unwrap_or(f32::INFINITY);
    let tar = same.iter().filter(|d| **d < at_far).count() as f64 / same.len().max(1) as f64;
    let far = diff.iter().filter(|d| **d <= threshold).count() as f64 / diff.len().max(1) as f64;
    let frr = same.iter().filter(|d| **d > threshold).count() as f64 / same.len().max(1) as f64;
    json!({
        "same_person_pairs": same.len(),
        "different_person_pairs": diff.len(),
        "unscored_pairs": unscored,
        "accuracy": ratio(correct, same.len() + diff.len()),
        "false_accept_rate": round4(far),
        "false_reject_rate": round4(frr),
        "far_0_1pct_distance": if at_far.is_finite() { json!(round3(at_far)) } else { Value::Null },
        "tar_at_far_0_1pct": round4(tar),
        "closest_different_person": sorted.first().filter(|d| d.is_finite()).map(|d| round3(*d)),
        "farthest_same_person": same.iter().copied().filter(|d| d.is_finite()).reduce(f32::max).map(round3),
    })
}

fn ratio(a: usize, b: usize) -> f64 {
    round4(a as f64 / b.max(1) as f64)
}

fn round4(v: f64) -> f64 {
    (v * 10000.0).round() / 10000.0
}

/// FACE_OBSTRUCTED on the clean single-face photos (false alarms) and on the same photos
/// with sunglasses, masks (three colours) and a hand drawn on (recall, counting a face the
/// detector no longer finds as caught: it would be FACE_NOT_FOUND).
fn occlusion_eval(models: &FaceModels, singles: &[&Labelled], t: &Thresholds) -> Value {
    let clean_flagged: Vec<String> = singles
        .iter()
        .filter(|l| obstruction(&l.faces[0], t).is_some())
        .map(|l| name(&l.file))
        .collect();
    let mut kinds = serde_json::Map::new();
    type Draw = fn(&mut RgbImage, &idgate_face::Landmarks);
    let draws: [(&str, Draw); 5] = [
        ("sunglasses", synth::sunglasses),
        ("mask_blue", |i, l| synth::mask(i, l, [150, 190, 225])),
        ("mask_white", |i, l| synth::mask(i, l, [235, 235, 235])),
        ("mask_black", |i, l| synth::mask(i, l, [30, 30, 32])),
        ("hand", |i, l| synth::hand(i, l, [224, 172, 140])),
    ];
    for (kind, draw) in draws {
        let (mut caught, mut not_found) = (0, 0);
        for l in singles {
            let mut img = l.image.clone();
            draw(&mut img, &l.faces[0].landmarks);
            let faces = models.faces(&img);
            match faces.first() {
                None => {
                    not_found += 1;
                    caught += 1;
                }
                Some(f) if obstruction(f, t).is_some() => caught += 1,
                Some(_) => {}
            }
        }
        kinds.insert(
            kind.into(),
            json!({"photos": singles.len(), "recall": ratio(caught, singles.len()), "face_not_found": not_found}),
        );
    }
    json!({
        "clean_photos": singles.len(),
        "clean_flagged": clean_flagged,
        "clean_false_alarm_rate": ratio(clean_flagged.len(), singles.len()),
        "synthetic": kinds,
    })
}

/// The liveness attack suite and genuine recordings made from each single-face photo (see
/// [`trial`]): the genuine pass rate, each attack's rejection rate, and the suite's.
fn liveness_eval(models: &FaceModels, singles: &[&Labelled], _t: &Thresholds) -> Value {
    let mut genuine = (0usize, 0usize);
    let mut genuine_fail = Vec::new();
    let mut guided = 0usize;
    let mut guided_fail = Vec::new();
    let mut corrected: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut attacks: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    let mut passed_attacks = Vec::new();
    for (k, l) in singles.iter().enumerate() {
        let other = singles
            .iter()
            .enumerate()
            .find(|(o, x)| {
                *o != k
                    && x.faces[0].descriptor.distance(&l.faces[0].descriptor)
                        > Thresholds::default().same_person_distance
            })
            .map(|(_, x)| (&x.image, &x.faces[0]));
        let r = crate::liveness::trial(models, &l.image, &l.faces[0], k as u64, other);
        genuine.0 += 1;
        match &r.genuine {
            None => genuine.1 += 1,
            Some(why) => genuine_fail.push(json!({"file": name(&l.file), "failure": why})),
        }
        match &r.guided.0 {
            None => guided += 1,
            Some(why) => guided_fail
                .push(json!({"file": name(&l.file), "failure": why, "corrections": r.guided.1})),
        }
        for c in &r.guided.1 {
            *corrected.entry(c).or_default() += 1;
        }
        for (kind, rejected) in &r.attacks {
            let e = attacks.entry(kind).or_default();
            e.0 += 1;
            if *rejected {
                e.1 += 1;
            } else {
                passed_attacks.push(json!({"file": name(&l.file), "attack": kind}));
            }
        }
    }
    let suite: (usize, usize) = attacks
        .iter()
        .filter(|(k, _)| crate::liveness::SUITE.contains(k))
        .fold((0, 0), |acc, (_, v)| (acc.0 + v.0, acc.1 + v.1));
    json!({
        "photos": singles.len(),
        "genuine_sequences": genuine.0,
        "genuine_pass_rate": ratio(genuine.1, genuine.0),
        "genuine_failures": genuine_fail,
        "guided_pass_rate": ratio(guided, genuine.0),
        "guided_failures": guided_fail,
        "guided_corrections": corrected,
        "attacks": attacks.iter().map(|(k, v)| (k.to_string(), json!({"sequences": v.0, "rejected": ratio(v.1, v.0)}))).collect::<serde_json::Map<_, _>>(),
        "suite_rejection_rate": ratio(suite.1, suite.0),
        "attacks_passed": passed_attacks,
    })
}
