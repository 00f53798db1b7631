//! Active liveness over HTTP.
//!
//! `POST /v1/cases/{id}/liveness` issues a challenge: the three movements (turn left, turn
//! right, blink) in a random order, valid for [`CHALLENGE_TTL_MS`]. The applicant's device
//! records a short sequence and sends it to `POST /v1/cases/{id}/liveness/{challenge}` as
//! multipart `frame` files (in order) with `timestamps_ms` (capture times, comma-separated).
//! The server checks freshness (before expiry, single use, no frame ever seen before),
//! then every frame through [`idgate_face::liveness::judge`]. A passed sequence's most
//! frontal open-eyed frame becomes the case's selfie, which the worker matches against the
//! document portrait; the worker also requires the passed challenge when the policy says so.

use crate::http::cases::draft_case;
use crate::http::error::{ApiError, ApiResult};
use crate::state::Shared;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::Json;
use idgate_core::{ChallengeStatus, ReasonCode};
use idgate_decide::{Side, UploadKind};
use idgate_face::hash::Seen;
use idgate_face::liveness::{self, Action, Rules};
use idgate_store::{DocumentData, Owner, StoreError};
use rand::seq::SliceRandom;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// How long a challenge may be answered.
pub const CHALLENGE_TTL_MS: i64 = 120_000;
/// Frames are video stills, not camera photos: 2 MiB each is plenty.
pub const MAX_FRAME_BYTES: usize = 2 << 20;
/// The largest sequence's request body.
pub const MAX_BODY_BYTES: usize = 40 * MAX_FRAME_BYTES + (64 << 10);

pub async fn issue(State(s): State<Shared>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let case = draft_case(&s, &id, "liveness is checked before submitting").await?;
    let (applicant_uid, applicant_id) = owner(&s, &case).await?;
    let now = s.store.now();
    // Failed answers are failed attempts: their cooldown applies to a new challenge too.
    if let Some(at) =
        idgate_pipeline::case::retry_after(&s.store, &s.policy, &applicant_uid, now, false).await?
    {
        return Err(ApiError::cooldown(at, now));
    }
    let limits = s.policy.liveness;
    let hour_ago = now - 3_600_000;
    let (of_case, of_applicant) = s.store.challenge_counts(&id, hour_ago).await?;
    if of_case >= i64::from(limits.per_case) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "too_many_challenges",
            format!(
                "this case was issued its {} liveness challenges; submit it, or open a new case",
                limits.per_case
            ),
        ));
    }
    if of_applicant >= i64::from(limits.per_applicant_per_hour) {
        let oldest = s
            .store
            .oldest_challenge_since(&id, hour_ago)
            .await?
            .unwrap_or(now);
        let mut e = ApiError::cooldown(oldest + 3_600_000, now);
        e.set_code(
            "too_many_challenges",
            format!(
                "{} liveness challenges in the last hour; try again later",
                limits.per_applicant_per_hour
            ),
        );
        return Err(e);
    }
    let _ = applicant_id;
    let mut actions = Action::ALL;
    actions.shuffle(&mut rand::thread_rng());
    let names: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
    let c = s
        .store
        .create_challenge(&id, &names, CHALLENGE_TTL_MS)
        .await?;
    let r = Rules::default();
    Ok(Json(json!({
        "id": c.id,
        "actions": c.actions,
        "issued_at": idgate_core::rfc3339(c.issued_at),
        "expires_at": idgate_core::rfc3339(c.expires_at),
        "frames": {"min": r.min_frames, "max": r.max_frames, "max_gap_ms": r.max_gap_ms,
                   "min_span_ms": r.min_span_ms, "max_span_ms": r.max_span_ms},
    })))
}

/// The challenge `challenge_id` of case `case_id`, or 404.
async fn case_challenge(
    s: &Shared,
    case_id: &str,
    challenge_id: &str,
) -> ApiResult<idgate_store::LivenessChallenge> {
    s.store
        .challenge(challenge_id)
        .await?
        .filter(|c| c.case_id == case_id)
        .ok_or_else(|| ApiError::not_found("challenge"))
}

/// The case's applicant: (uid, id).
async fn owner(s: &Shared, case: &idgate_store::Case) -> ApiResult<(String, String)> {
    let a = s
        .store
        .applicant(&case.applicant_id)
        .await?
        .ok_or_else(|| ApiError::not_found("applicant"))?;
    Ok((a.uid, a.id))
}

struct Upload {
    frames: Vec<Vec<u8>>,
    timestamps: Vec<i64>,
}

async fn read_frames(mut multipart: Multipart) -> ApiResult<Upload> {
    let bad = |m: String| ApiError::bad_request("invalid_multipart", m);
    let mut up = Upload {
        frames: Vec::new(),
        timestamps: Vec::new(),
    };
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| bad(format!("malformed multipart body: {}", e.body_text())))?
    {
        let name = field.name().unwrap_or("").to_string();
        let data = field
            .bytes()
            .await
            .map_err(|e| bad(format!("malformed multipart body: {}", e.body_text())))?;
        match name.as_str() {
            "frame" => {
                if data.len() > MAX_FRAME_BYTES {
                    return Err(ApiError::too_large(MAX_FRAME_BYTES));
                }
                use idgate_vision::probe::Format;
                if !matches!(
                    idgate_vision::probe::sniff(&data),
                    Some(Format::Jpeg | Format::Png | Format::WebP)
                ) {
                    return Err(ApiError::new(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "unsupported_file_type",
                        format!("frame {} is not a JPEG, PNG or WebP image", up.frames.len()),
                    ));
                }
                up.frames.push(data.to_vec());
            }
            "timestamps_ms" => {
                up.timestamps = String::from_utf8_lossy(&data)
                    .split(',')
                    .map(|t| t.trim().parse::<i64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| {
                        ApiError::bad_request(
                            "invalid_timestamps",
                            "timestamps_ms must be comma-separated integers",
                        )
                    })?;
            }
            other => {
                return Err(ApiError::bad_request(
                    "unknown_field",
                    format!("unexpected form field `{other}` (expected frame, timestamps_ms)"),
                ))
            }
        }
    }
    if up.frames.len() != up.timestamps.len() {
        return Err(ApiError::bad_request(
            "invalid_timestamps",
            format!(
                "{} frames and {} timestamps; send one timestamp per frame",
                up.frames.len(),
                up.timestamps.len()
            ),
        ));
    }
    // The shape of the answer is the client's to get right: a mistake here is a 400 and
    // leaves the challenge usable. What the frames show is judged, and a failure uses it.
    let r = Rules::default();
    if !(r.min_frames..=r.max_frames).contains(&up.frames.len()) {
        return Err(ApiError::bad_request(
            "invalid_frames",
            format!(
                "{} frames; send between {} and {}",
                up.frames.len(),
                r.min_frames,
                r.max_frames
            ),
        ));
    }
    if up.timestamps.windows(2).any(|w| w[1] <= w[0]) {
        return Err(ApiError::bad_request(
            "invalid_timestamps",
            "timestamps_ms must increase from frame to frame, in capture order",
        ));
    }
    Ok(up)
}

/// Records a failed answer and the response that says why.
async fn failed(
    s: &Shared,
    challenge: &str,
    uid: &str,
    status: ChallengeStatus,
    code: ReasonCode,
    why: String,
) -> ApiResult<Json<Value>> {
    let result = json!({"code": code.as_str(), "failure": why});
    s.store
        .answer_challenge(challenge, status, &result.to_string(), &[])
        .await?;
    attempt_failed(s, uid, code).await?;
    Ok(Json(json!({
        "status": "failed",
        "code": code.as_str(),
        "message": code.message(),
        "fix": code.fix(),
        "failure": why,
    })))
}

pub async fn answer(
    State(s): State<Shared>,
    Path((id, challenge_id)): Path<(String, String)>,
    multipart: Multipart,
) -> ApiResult<Json<Value>> {
    let case = draft_case(&s, &id, "liveness is checked before submitting").await?;
    let challenge = case_challenge(&s, &id, &challenge_id).await?;
    if challenge.status != ChallengeStatus::Issued {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "challenge_used",
            "this challenge was answered already; ask for a new one",
        ));
    }
    let up = read_frames(multipart).await?;
    if s.store.now() > challenge.expires_at {
        let why = "the frames arrived after the challenge expired".to_string();
        let (uid, _) = owner(&s, &case).await?;
        return failed(
            &s,
            &challenge.id,
            &uid,
            ChallengeStatus::Expired,
            ReasonCode::LivenessTimeout,
            why,
        )
        .await;
    }
    let actions: Vec<Action> = challenge
        .actions
        .iter()
        .filter_map(|a| Action::parse(a))
        .collect();
    let opts = s.check_options(idgate_mrz::Date::from_unix_days(0));
    let limits = idgate_vision::input::InputLimits {
        max_bytes: MAX_FRAME_BYTES,
        ..opts.limits
    };
    let (max_grid, doc_limits) = (opts.thresholds.min_grid_peak, opts.limits);
    // The document, when it was uploaded first (the usual order): every frame is compared
    // with its portrait here; otherwise the worker compares the kept frame after submission.
    let mut document = Vec::new();
    for d in s.store.documents(&id).await? {
        if let Some((UploadKind::Identity(_), side)) =
            idgate_pipeline::record::kind_and_side(&d.data)
        {
            document.push((side, s.blobs.get(&d.data.blob_key).await?));
        }
    }
    let st = s.clone();
    let frames_bytes = up.frames;
    let timestamps = up.timestamps;
    let judged = tokio::task::spawn_blocking(move || {
        let models = st.faces()?;
        // Decoded one at a time: only the faces and a reduced grey image stay.
        let images = frames_bytes.iter().zip(timestamps).map(|(bytes, at_ms)| {
            // An undecodable frame shows no face, which fails the sequence.
            let img = idgate_pipeline::faces::decode_face_image(bytes, limits)
                .unwrap_or_else(|_| image::RgbImage::new(1, 1));
            (at_ms, img)
        });
        let holder = idgate_pipeline::faces::document_portrait(models, doc_limits, &document)?;
        let (j, seen) = idgate_pipeline::faces::judge_recording(
            models,
            images,
            &actions,
            holder.as_ref().map(|h| &h.descriptor),
            max_grid,
        );
        anyhow::Ok((j, frames_bytes, seen))
    })
    .await
    .map_err(|e| ApiError::internal(format!("liveness task: {e}")))?
    .map_err(|e| ApiError::internal(format!("{e:#}")))?;
    let (mut j, frames_bytes, seen) = judged;
    let (uid, applicant_id) = owner(&s, &case).await?;
    if j.failure.is_none() {
        let copies =
            idgate_pipeline::faces::copies_elsewhere(&s.store, &s.blobs, &applicant_id, &seen)
                .await?;
        if copies >= Rules::default().min_copied_frames {
            j.failure = Some(liveness::Failure::Copied { frames: copies });
        }
    }
    let digests: Vec<String> = frames_bytes
        .iter()
        .map(|f| hex::encode(Sha256::digest(f)))
        .collect();
    let result = crate::report::judgement_json(&j);
    let status = if j.failure.is_some() {
        ChallengeStatus::Failed
    } else {
        ChallengeStatus::Passed
    };
    let outcome = match &j.failure {
        Some(f) => {
            json!({"code": ReasonCode::LivenessFailed.as_str(), "failure": f.message(), "judgement": result})
        }
        None => result.clone(),
    };
    match s
        .store
        .answer_challenge(&challenge.id, status, &outcome.to_string(), &digests)
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return replayed(&s, &challenge.id, &uid).await,
        Err(e) => return Err(e.into()),
    }
    if !seen.is_empty() {
        let key = s
            .blobs
            .put(Owner::Applicant(&applicant_id), &Seen::encode(&seen))
            .await?;
        s.store
            .put_frame_set(&applicant_id, &id, Some(&challenge.id), &key)
            .await?;
    }
    keep_shots(&s, &applicant_id, &challenge.id, &j, &frames_bytes).await?;
    if let Some(f) = &j.failure {
        let code = ReasonCode::LivenessFailed;
        attempt_failed(&s, &uid, code).await?;
        return Ok(Json(json!({
            "status": "failed",
            "code": code.as_str(),
            "message": code.message(),
            "fix": code.fix(),
            "failure": f.message(),
        })));
    }
    // The most frontal open-eyed frame is the case's selfie.
    let best = j.best_frame.unwrap_or(0);
    let selfie = &frames_bytes[best];
    let format = idgate_vision::probe::sniff(selfie)
        .ok_or_else(|| ApiError::internal("a checked frame lost its format".into()))?;
    let dims = idgate_vision::probe::dimensions(format, selfie);
    let blob_key = s
        .blobs
        .put(Owner::Applicant(&case.applicant_id), selfie)
        .await?;
    let added = s
        .store
        .add_document(
            DocumentData {
                case_id: id.clone(),
                kind: UploadKind::Selfie.as_str().into(),
                side: Side::Face.as_str().into(),
                blob_key,
                content_type: format.content_type().into(),
                size_bytes: selfie.len() as i64,
                sha256: digests[best].clone(),
                width: dims.map(|d| i64::from(d.0)),
                height: dims.map(|d| i64::from(d.1)),
            },
            "liveness",
        )
        .await?;
    // A selfie from an earlier passed challenge or upload is replaced by this one.
    for old in &added.replaced {
        let _ = s.blobs.delete(&old.data.blob_key).await;
    }
    Ok(Json(json!({"status": "passed", "judgement": result})))
}

/// Keeps the frames a reviewer looks at, sealed like every image: the first and the last,
/// the frame where each movement was seen and the one chosen as the selfie (one row per
/// frame, under its first label).
async fn keep_shots(
    s: &crate::state::AppState,
    applicant_id: &str,
    challenge_id: &str,
    j: &liveness::Judgement,
    frames: &[Vec<u8>],
) -> ApiResult<()> {
    let Some(last) = frames.len().checked_sub(1) else {
        return Ok(());
    };
    let mut picked: Vec<(&str, usize)> = vec![("first", 0)];
    picked.extend(
        j.seen
            .iter()
            .filter_map(|(a, at)| Some((a.as_str(), (*at)?))),
    );
    picked.extend(j.best_frame.map(|b| ("best", b)));
    picked.push(("last", last));
    let mut shots: Vec<(&str, i64, String, &str)> = Vec::new();
    for (label, at) in picked {
        if at > last || shots.iter().any(|(_, f, ..)| *f == at as i64) {
            continue;
        }
        let Some(format) = idgate_vision::probe::sniff(&frames[at]) else {
            continue;
        };
        let key = s
            .blobs
            .put(Owner::Applicant(applicant_id), &frames[at])
            .await?;
        shots.push((label, at as i64, key, format.content_type()));
    }
    s.store.add_liveness_shots(challenge_id, &shots).await?;
    Ok(())
}

#[derive(serde::Deserialize, Default)]
pub struct GuideQuery {
    /// The movement the person is asked to do now; none (or `face_camera`): face the camera.
    #[serde(default)]
    doing: Option<String>,
}

/// `POST /v1/cases/{id}/liveness/{challenge}/guide?doing=turn_left`: one frame of the
/// recording in progress (the image as the body) while the challenge is open → what it
/// shows and the one thing to correct, or that the movement asked is done
/// ([`idgate_face::guide`]). Nothing is stored and the challenge stays open: the frame is
/// judged again with the others when the sequence is sent.
pub async fn guide(
    State(s): State<Shared>,
    Path((id, challenge_id)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<GuideQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let challenge = case_challenge(&s, &id, &challenge_id).await?;
    if challenge.status != ChallengeStatus::Issued || s.store.now() > challenge.expires_at {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "challenge_closed",
            "this challenge was answered or has expired; ask for a new one",
        ));
    }
    let doing = match q.doing.as_deref() {
        None | Some("face_camera") => None,
        Some(word) => Some(
            Action::parse(word)
                .filter(|a| challenge.actions.iter().any(|c| c == a.as_str()))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_action",
                        "doing: face_camera or one of the challenge's actions",
                    )
                })?,
        ),
    };
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "empty_file",
            "send one frame as the body",
        ));
    }
    if body.len() > MAX_FRAME_BYTES {
        return Err(ApiError::too_large(MAX_FRAME_BYTES));
    }
    let limits = idgate_vision::input::InputLimits {
        max_bytes: MAX_FRAME_BYTES,
        ..s.limits.input()
    };
    let st = s.clone();
    let g = tokio::task::spawn_blocking(move || {
        let img = idgate_pipeline::faces::decode_face_image(&body, limits)
            .map_err(|e| crate::http::error::input_error(&e))?;
        let models = st
            .faces()
            .map_err(|e| ApiError::internal(format!("{e:#}")))?;
        let frame = liveness::Frame::of(models, 0, &img);
        Ok::<_, ApiError>(idgate_face::guide::guide(
            &frame,
            doing,
            &Rules::default(),
            &idgate_face::Thresholds::default(),
        ))
    })
    .await
    .map_err(|e| ApiError::internal(format!("guide task: {e}")))??;
    Ok(Json(json!({
        "advice": g.advice.as_str(),
        "faces": g.faces,
        "yaw": g.yaw.map(crate::report::round3),
        "eye_distance": g.eye_distance.map(|d| d.round()),
        "brightness": g.brightness.round(),
    })))
}

/// A failed liveness answer is a failed attempt of the account: the cooldowns and the
/// escalation count it.
async fn attempt_failed(s: &Shared, uid: &str, code: ReasonCode) -> ApiResult<()> {
    s.store
        .record_attempt(uid, "resubmission_requested", &[code])
        .await?;
    Ok(())
}

async fn replayed(s: &Shared, challenge: &str, uid: &str) -> ApiResult<Json<Value>> {
    failed(
        s,
        challenge,
        uid,
        ChallengeStatus::Failed,
        ReasonCode::LivenessFailed,
        "a frame of this sequence was sent before: frames must be recorded live".into(),
    )
    .await
}
