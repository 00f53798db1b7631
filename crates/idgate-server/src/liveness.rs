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

use crate::api::{draft_case, ApiError, ApiResult, Shared};
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::Json;
use idgate_core::ReasonCode;
use idgate_face::liveness::{self, Action, Frame, Rules};
use idgate_store::{DocumentData, StoreError};
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
    draft_case(&s, &id, "liveness is checked before submitting").await?;
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
        "issued_at": crate::verify_cli::rfc3339(c.issued_at),
        "expires_at": crate::verify_cli::rfc3339(c.expires_at),
        "frames": {"min": r.min_frames, "max": r.max_frames, "max_gap_ms": r.max_gap_ms,
                   "min_span_ms": r.min_span_ms, "max_span_ms": r.max_span_ms},
    })))
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
                use crate::upload::Format;
                if !matches!(
                    crate::upload::sniff(&data),
                    Some(Format::Jpeg | Format::Png | Format::Webp)
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
    status: &str,
    code: ReasonCode,
    why: String,
) -> ApiResult<Json<Value>> {
    let result = json!({"code": code.as_str(), "failure": why});
    s.store
        .answer_challenge(challenge, status, &result.to_string(), &[])
        .await?;
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
    draft_case(&s, &id, "liveness is checked before submitting").await?;
    let challenge = s
        .store
        .challenge(&challenge_id)
        .await?
        .filter(|c| c.case_id == id)
        .ok_or_else(|| ApiError::not_found("challenge"))?;
    if challenge.status != "issued" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "challenge_used",
            "this challenge was answered already; ask for a new one",
        ));
    }
    let up = read_frames(multipart).await?;
    if s.store.now() > challenge.expires_at {
        let why = "the frames arrived after the challenge expired".to_string();
        return failed(
            &s,
            &challenge.id,
            "expired",
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
        if !matches!(d.data.kind.as_str(), "selfie" | "proof_of_address") {
            document.push((d.data.side.clone(), s.blobs.get(&d.data.blob_key).await?));
        }
    }
    let st = s.clone();
    let frames_bytes = up.frames;
    let timestamps = up.timestamps;
    let judged = tokio::task::spawn_blocking(move || {
        let models = st.faces()?;
        let mut frames = Vec::with_capacity(frames_bytes.len());
        let mut screen = 0f32;
        for (bytes, at_ms) in frames_bytes.iter().zip(timestamps) {
            let faces = match crate::face_cli::decode_face_image(bytes, limits) {
                Ok(img) => {
                    screen = screen.max(idgate_vision::check::screen_grid(&img));
                    models.faces(&img)
                }
                Err(_) => Vec::new(),
            };
            frames.push(Frame { at_ms, faces });
        }
        let mut j = liveness::judge(
            &frames,
            &actions,
            &Rules::default(),
            &idgate_face::Thresholds::default(),
        );
        if j.failure.is_none() {
            let holder = crate::verify_cli::document_portrait(models, doc_limits, &document);
            if let Some(holder) = holder {
                j.failure = liveness::against_holder(
                    &frames,
                    &j,
                    &holder.descriptor,
                    &Rules::default(),
                    &idgate_face::Thresholds::default(),
                );
            }
        }
        if screen >= max_grid {
            // Passive, and first: the sequence was filmed off a screen (a replayed video);
            // the grid can also hide the face, which would say less.
            j.failure = Some(liveness::Failure::Screen { grid_peak: screen });
        }
        anyhow::Ok((j, frames_bytes))
    })
    .await
    .map_err(|e| ApiError::internal(format!("liveness task: {e}")))?
    .map_err(|e| ApiError::internal(format!("{e:#}")))?;
    let (j, frames_bytes) = judged;
    let digests: Vec<String> = frames_bytes
        .iter()
        .map(|f| hex::encode(Sha256::digest(f)))
        .collect();
    let result = crate::face_cli::judgement_json(&j);
    if let Some(f) = &j.failure {
        let why = f.message();
        let code = ReasonCode::LivenessFailed;
        let outcome = json!({"code": code.as_str(), "failure": why, "judgement": result});
        return match s
            .store
            .answer_challenge(&challenge.id, "failed", &outcome.to_string(), &digests)
            .await
        {
            Ok(_) => Ok(Json(json!({
                "status": "failed",
                "code": code.as_str(),
                "message": code.message(),
                "fix": code.fix(),
                "failure": why,
            }))),
            Err(StoreError::Conflict(_)) => replayed(&s, &challenge.id).await,
            Err(e) => Err(e.into()),
        };
    }
    match s
        .store
        .answer_challenge(&challenge.id, "passed", &result.to_string(), &digests)
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return replayed(&s, &challenge.id).await,
        Err(e) => return Err(e.into()),
    }
    // The most frontal open-eyed frame is the case's selfie.
    let best = j.best_frame.unwrap_or(0);
    let selfie = &frames_bytes[best];
    let format = crate::upload::sniff(selfie)
        .ok_or_else(|| ApiError::internal("a checked frame lost its format".into()))?;
    let dims = crate::upload::dimensions(format, selfie);
    let blob_key = s.blobs.put(selfie).await?;
    let added = s
        .store
        .add_document(
            DocumentData {
                case_id: id.clone(),
                kind: "selfie".into(),
                side: "face".into(),
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

async fn replayed(s: &Shared, challenge: &str) -> ApiResult<Json<Value>> {
    failed(
        s,
        challenge,
        "failed",
        ReasonCode::LivenessFailed,
        "a frame of this sequence was sent before: frames must be recorded live".into(),
    )
    .await
}
