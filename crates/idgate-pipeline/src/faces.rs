//! The face side of a case: the selfie against the document portrait, the searches for a
//! picture used again and for a face verified on another account, and the liveness
//! challenge's outcome.

use crate::edges::{Blobs, CaseStore, EngineError, FaceEngine};
use crate::evidence::{area_of, FaceSeen};
use idgate_core::{ChallengeStatus, ReasonCode, RejectType};
use idgate_decide::{Finding, Policy, Side};
use idgate_face::hash::{FaceHash, Seen};
use idgate_face::liveness::{self, Action, Frame, Rules};
use idgate_face::{Descriptor, Face, Thresholds};
use idgate_store::{FaceTemplate, StoreError};
use idgate_vision::check::CheckOptions;
use idgate_vision::input::{decode_scaled, InputError, InputLimits};
use image::RgbImage;
use serde_json::json;

/// Decodes an untrusted image for face analysis (JPEG reduced in the DCT when it is far
/// larger than the detector needs).
pub fn decode_face_image(bytes: &[u8], limits: InputLimits) -> Result<RgbImage, InputError> {
    Ok(decode_scaled(bytes, limits, idgate_face::UPSAMPLE_SIDE)?.image)
}

/// Document sides in the order their portrait is looked for.
const PORTRAIT_SIDES: [Side; 4] = [Side::PhotoPage, Side::Front, Side::Page, Side::Face];

/// The document holder's face: the largest face of the first side (photo page and front
/// first) that shows one. A passport's small ghost image is the same person anyway. A side
/// that cannot be decoded shows none; an engine that cannot run is an error.
pub fn document_portrait(
    engine: &dyn FaceEngine,
    limits: InputLimits,
    images: &[(Side, Vec<u8>)],
) -> Result<Option<Face>, EngineError> {
    Ok(portrait_on(engine, limits, images)?.map(|(face, ..)| face))
}

/// [`document_portrait`], with the side it is on and where (fractions of that image).
fn portrait_on(
    engine: &dyn FaceEngine,
    limits: InputLimits,
    images: &[(Side, Vec<u8>)],
) -> Result<Option<(Face, Side, [f32; 4])>, EngineError> {
    let mut sides: Vec<&(Side, Vec<u8>)> = images.iter().collect();
    sides.sort_by_key(|(side, _)| {
        PORTRAIT_SIDES
            .iter()
            .position(|s| s == side)
            .unwrap_or(PORTRAIT_SIDES.len())
    });
    for (side, bytes) in sides {
        let Ok(img) = decode_face_image(bytes, limits) else {
            continue;
        };
        if let Some(face) = engine.faces(&img)?.into_iter().next() {
            let area = area_of(face.rect, image_size(&img));
            return Ok(Some((face, *side, area)));
        }
    }
    Ok(None)
}

/// What the face checks found, and the selfie's face when it showed one clearly (for the
/// searches).
#[derive(Default)]
pub struct FaceCheck {
    pub findings: Vec<Finding>,
    pub descriptor: Option<Descriptor>,
    /// The selfie face's crop hash (copies of other applicants' pictures).
    pub hash: Option<FaceHash>,
    /// The faces compared, for the reviewer.
    pub seen: Option<FaceSeen>,
}

fn image_size(img: &RgbImage) -> [f32; 2] {
    [img.width() as f32, img.height() as f32]
}

/// A finding about the selfie, with the policy's reject type for `code`.
pub fn selfie_finding(policy: &Policy, code: ReasonCode, detail: String) -> Finding {
    Finding::new(code, policy.reject_type(code), detail).about("selfie")
}

/// The selfie against the document portrait: FACE_NOT_FOUND (selfie or portrait),
/// MULTIPLE_FACES, FACE_OBSTRUCTED, FACE_MISMATCH with the similarity, LIVENESS_FAILED for
/// a photo of a screen. With no document image in this submission (the document was
/// verified earlier), a reviewer compares. CPU-bound.
pub fn check_faces(
    policy: &Policy,
    engine: &dyn FaceEngine,
    check: &CheckOptions,
    images: &[(Side, Vec<u8>)],
    selfie: &[u8],
) -> Result<FaceCheck, EngineError> {
    let (limits, max_screen_grid) = (check.limits, check.thresholds.min_grid_peak);
    let t = Thresholds::default();
    let only = |code: ReasonCode, detail: String, subject: &str| FaceCheck {
        findings: vec![Finding::new(code, policy.reject_type(code), detail).about(subject)],
        ..FaceCheck::default()
    };
    let (faces, selfie_size) = match decode_face_image(selfie, limits) {
        Ok(img) if idgate_vision::check::screen_grid(&img) >= max_screen_grid => {
            let why = "the selfie shows a screen's pixel grid: a photo of a photo";
            return Ok(only(ReasonCode::LivenessFailed, why.into(), "selfie"));
        }
        Ok(img) => (engine.faces(&img)?, image_size(&img)),
        Err(e) => {
            let why = format!("{}: {e}", e.code());
            return Ok(only(ReasonCode::FaceNotFound, why, "selfie"));
        }
    };
    let Some(face) = faces.first() else {
        let why = "no face in the selfie".into();
        return Ok(only(ReasonCode::FaceNotFound, why, "selfie"));
    };
    let counted = idgate_face::counted_faces(&faces, &t);
    if counted > 1 {
        let why = json!({"faces": counted}).to_string();
        return Ok(only(ReasonCode::MultipleFaces, why, "selfie"));
    }
    if let Some(part) = idgate_face::obstruction(face, &t) {
        let why = json!({"covered": part, "eye_to_skin": face.occlusion.eye_to_skin,
                         "mouth_line": face.occlusion.mouth_line})
        .to_string();
        return Ok(only(ReasonCode::FaceObstructed, why, "selfie"));
    }
    let mut seen = FaceSeen {
        portrait: None,
        selfie: Some(area_of(face.rect, selfie_size)),
        similarity: None,
        threshold: idgate_face::similarity_of(t.same_person_distance),
    };
    let mut out = FaceCheck {
        findings: Vec::new(),
        descriptor: Some(face.descriptor.clone()),
        hash: face.hash,
        seen: Some(seen.clone()),
    };
    if images.is_empty() {
        let finding = Finding::new(
            ReasonCode::ComplianceReview,
            RejectType::Review,
            "selfie: the document was verified earlier; a reviewer compares the faces",
        );
        out.findings.push(finding.about("selfie"));
        return Ok(out);
    }
    let Some((portrait, side, area)) = portrait_on(engine, limits, images)? else {
        let code = ReasonCode::FaceNotFound;
        let why = "no portrait found on the document";
        out.findings
            .push(Finding::new(code, policy.reject_type(code), why).about("document"));
        return Ok(out);
    };
    let distance = face.descriptor.distance(&portrait.descriptor);
    seen.portrait = Some((side.as_str().to_string(), area));
    seen.similarity = Some(idgate_face::similarity_of(distance));
    out.seen = Some(seen);
    if distance > t.same_person_distance {
        let why = json!({"similarity": idgate_face::similarity_of(distance),
                         "threshold": idgate_face::similarity_of(t.same_person_distance)})
        .to_string();
        out.findings
            .push(selfie_finding(policy, ReasonCode::FaceMismatch, why));
    }
    Ok(out)
}

/// The first of `templates` (decrypted one by one) within `within` of `face`, and its
/// distance. A linear search: fine for the thousands of accounts a self-hosted gate serves
/// first (an index is the next step at scale).
async fn face_within<B: Blobs>(
    blobs: &B,
    templates: Vec<FaceTemplate>,
    face: &Descriptor,
    within: f32,
) -> Result<Option<(FaceTemplate, f32)>, StoreError> {
    for template in templates {
        let bytes = blobs.get(&template.blob_key).await?;
        let Ok(other) = Descriptor::from_bytes(&bytes) else {
            tracing::warn!(template = %template.id, "a stored face template is not 512 bytes");
            continue;
        };
        let distance = face.distance(&other);
        if distance <= within {
            return Ok(Some((template, distance)));
        }
    }
    Ok(None)
}

/// DUPLICATE_FACE when the selfie's face is a face verified on another account.
pub async fn duplicate_faces<S: CaseStore, B: Blobs>(
    policy: &Policy,
    store: &S,
    blobs: &B,
    applicant_id: &str,
    face: &Descriptor,
) -> Result<Vec<Finding>, StoreError> {
    let t = Thresholds::default();
    let verified = store.verified_faces_except(applicant_id).await?;
    Ok(face_within(blobs, verified, face, t.duplicate_distance)
        .await?
        .map(|(template, distance)| {
            let detail = json!({
                "case": template.case_id,
                "similarity": idgate_face::similarity_of(distance),
            });
            selfie_finding(policy, ReasonCode::DuplicateFace, detail.to_string())
        })
        .into_iter()
        .collect())
}

/// LIVENESS_FAILED when the selfie's face is, to within re-encoding, a face stored from
/// another case (this applicant's earlier session or anyone's): a picture used again.
pub async fn replayed_face<S: CaseStore, B: Blobs>(
    policy: &Policy,
    store: &S,
    blobs: &B,
    case_id: &str,
    face: &Descriptor,
) -> Result<Vec<Finding>, StoreError> {
    let t = Thresholds::default();
    let stored = store.faces_except_case(case_id).await?;
    Ok(face_within(blobs, stored, face, t.replay_distance)
        .await?
        .map(|(template, distance)| {
            let detail = json!({
                "replay_of_case": template.case_id,
                "distance": distance,
            });
            selfie_finding(policy, ReasonCode::LivenessFailed, detail.to_string())
        })
        .into_iter()
        .collect())
}

/// How many of `seen` are copies of faces another applicant sent before (their recordings
/// and selfies, decrypted one set at a time). A linear search, like the duplicate-face
/// search: fine for the thousands of applicants a self-hosted gate serves first.
pub async fn copies_elsewhere<S: CaseStore, B: Blobs>(
    store: &S,
    blobs: &B,
    applicant_id: &str,
    seen: &[Seen],
) -> Result<usize, StoreError> {
    if seen.is_empty() {
        return Ok(0);
    }
    let t = Thresholds::default();
    let mut copied = vec![false; seen.len()];
    for (_, key) in store.frame_sets_except_applicant(applicant_id).await? {
        let bytes = blobs.get(&key).await?;
        let Some(stored) = Seen::decode(&bytes) else {
            tracing::warn!("a stored frame set has the wrong length");
            continue;
        };
        for (i, n) in seen.iter().enumerate() {
            if !copied[i] && stored.iter().any(|o| n.copies(o, &t)) {
                copied[i] = true;
            }
        }
        if copied.iter().all(|c| *c) {
            break;
        }
    }
    Ok(copied.iter().filter(|c| **c).count())
}

/// The case's liveness: its latest challenge must have passed.
pub async fn liveness_findings<S: CaseStore>(
    policy: &Policy,
    store: &S,
    case_id: &str,
    now_ms: i64,
) -> Result<Vec<Finding>, StoreError> {
    let challenge = store.latest_challenge(case_id).await?;
    let (code, detail) = match challenge {
        Some(c) if c.status == ChallengeStatus::Passed => return Ok(Vec::new()),
        None => (
            ReasonCode::LivenessFailed,
            "no liveness challenge was answered".to_string(),
        ),
        Some(c)
            if c.status == ChallengeStatus::Expired
                || (c.status == ChallengeStatus::Issued && now_ms > c.expires_at) =>
        {
            (
                ReasonCode::LivenessTimeout,
                "the liveness challenge expired before it was answered".to_string(),
            )
        }
        Some(c) if c.status == ChallengeStatus::Issued => (
            ReasonCode::LivenessFailed,
            "the liveness challenge was not answered".to_string(),
        ),
        Some(c) => (
            ReasonCode::LivenessFailed,
            c.result.unwrap_or_else(|| "failed".into()),
        ),
    };
    Ok(vec![selfie_finding(policy, code, detail)])
}

/// A recording judged as the service judges it, but for the copies of other applicants'
/// pictures (the caller searches the store with the returned faces): the movements
/// ([`liveness::judge`]: timing, one face, the same face, the actions in order, 3-D turns,
/// real lids), every frame against the document holder when there is one, and no screen's
/// pixel grid in any frame (a recording replayed on another device). CPU-bound.
pub fn judge_recording(
    models: &idgate_face::FaceModels,
    images: impl IntoIterator<Item = (i64, image::RgbImage)>,
    actions: &[Action],
    holder: Option<&idgate_face::Descriptor>,
    max_grid: f32,
) -> (liveness::Judgement, Vec<Seen>) {
    let mut screen = 0f32;
    let frames: Vec<Frame> = images
        .into_iter()
        .map(|(at_ms, img)| {
            if img.width() > 1 {
                screen = screen.max(idgate_vision::check::screen_grid(&img));
            }
            Frame::of(models, at_ms, &img)
        })
        .collect();
    let rules = Rules::default();
    let t = idgate_face::Thresholds::default();
    let mut j = liveness::judge(&frames, actions, &rules, &t);
    if let (None, Some(holder)) = (&j.failure, holder) {
        j.failure = liveness::against_holder(&frames, &j, holder, &rules, &t);
    }
    if screen >= max_grid {
        // Passive, and first: the sequence was filmed off a screen (a replayed video); the
        // grid can also hide the face, which would say less.
        j.failure = Some(liveness::Failure::Screen { grid_peak: screen });
    }
    // The faces of this recording, to find copies of other applicants' pictures now and to
    // be found by later ones.
    let seen = frames
        .iter()
        .filter_map(|f| {
            let face = f.faces.first()?;
            Some(Seen {
                hash: face.hash?,
                descriptor: face.descriptor.clone(),
            })
        })
        .collect();
    (j, seen)
}
