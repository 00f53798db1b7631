//! Cases: opening one for an applicant, the entered data, submitting, the status the
//! applicant reads, and the audit trail.

use crate::http::error::{parse_json, ApiError, ApiResult};
use crate::metrics::inc;
use crate::state::{AppState, Shared};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idgate_core::{CaseStatus, ReasonCode};
use idgate_pipeline::EnteredData;
use idgate_store::{Case, Document};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewCase {
    #[serde(default)]
    level: Option<String>,
}

#[derive(Serialize)]
struct ReasonOut {
    code: &'static str,
    reject_type: &'static str,
    message: &'static str,
    fix: &'static str,
}

#[derive(Serialize)]
struct CommentOut {
    body: String,
    at: String,
}

/// `?lang=zh-Hans` picks the language of reason messages and fixes.
#[derive(Deserialize, Default)]
pub struct LangQuery {
    #[serde(default)]
    lang: Option<String>,
}

impl LangQuery {
    fn lang(&self) -> idgate_core::Lang {
        idgate_core::Lang::from_tag(self.lang.as_deref().unwrap_or("en"))
    }
}

#[derive(Serialize)]
pub struct DocumentOut {
    id: String,
    kind: String,
    side: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    width: Option<i64>,
    height: Option<i64>,
    created_at: String,
}

impl From<Document> for DocumentOut {
    fn from(
        Document {
            id,
            created_at,
            data,
        }: Document,
    ) -> Self {
        DocumentOut {
            id,
            kind: data.kind,
            side: data.side,
            content_type: data.content_type,
            size_bytes: data.size_bytes,
            sha256: data.sha256,
            width: data.width,
            height: data.height,
            created_at: idgate_core::rfc3339(created_at),
        }
    }
}

#[derive(Serialize)]
pub struct CaseOut {
    id: String,
    applicant_id: String,
    level: String,
    status: &'static str,
    /// `applicant`, or `monitoring` for a review opened when a list changed.
    origin: &'static str,
    reasons: Vec<ReasonOut>,
    documents: Vec<DocumentOut>,
    /// Has the applicant's entered data been given (`PUT /v1/cases/{id}/data`)?
    data_entered: bool,
    /// Reviewer comments meant for the applicant.
    comments: Vec<CommentOut>,
    /// When the applicant may try again (RFC 3339), while a cooldown applies.
    retry_after: Option<String>,
    /// While the case waits for its checks or is being checked.
    queue: Option<QueueOut>,
    created_at: String,
    updated_at: String,
}

/// A submitted case's place in the queue of checks.
#[derive(Serialize)]
struct QueueOut {
    /// 0 while its checks run; 1 when it is next.
    position: i64,
    /// Seconds until it is decided, from how long recent checks took; null before any
    /// were timed.
    estimated_seconds: Option<i64>,
}

/// How many finished checks the estimate averages.
const TIMED_JOBS: i64 = 50;

async fn queue_out(s: &AppState, case: &Case) -> ApiResult<Option<QueueOut>> {
    if !matches!(case.status, CaseStatus::Submitted | CaseStatus::Processing) {
        return Ok(None);
    }
    let Some(place) = s
        .store
        .queue_place(idgate_store::JobKind::ProcessCase, &case.id)
        .await?
    else {
        return Ok(None);
    };
    let durations = s.store.recent_job_durations(TIMED_JOBS).await?;
    Ok(Some(QueueOut {
        position: if place.started { 0 } else { place.ahead + 1 },
        estimated_seconds: place.estimate_secs(&durations),
    }))
}

fn reason_out(policy: &idgate_decide::Policy, r: ReasonCode, lang: idgate_core::Lang) -> ReasonOut {
    ReasonOut {
        code: r.as_str(),
        reject_type: policy.reject_type(r).as_str(),
        message: r.message_in(lang),
        fix: r.fix_in(lang),
    }
}

async fn case_out(s: &AppState, case: Case) -> ApiResult<CaseOut> {
    case_out_in(s, case, idgate_core::Lang::En).await
}

async fn case_out_in(s: &AppState, case: Case, lang: idgate_core::Lang) -> ApiResult<CaseOut> {
    let documents = s
        .store
        .documents(&case.id)
        .await?
        .into_iter()
        .map(DocumentOut::from)
        .collect();
    let comments = s
        .store
        .comments(&case.id, false)
        .await?
        .into_iter()
        .map(|c| CommentOut {
            body: c.body,
            at: idgate_core::rfc3339(c.at),
        })
        .collect();
    let queue = queue_out(s, &case).await?;
    Ok(CaseOut {
        id: case.id,
        applicant_id: case.applicant_id,
        level: case.level,
        status: case.status.as_str(),
        origin: case.origin.as_str(),
        reasons: case
            .reasons
            .into_iter()
            .map(|r| reason_out(&s.policy, r, lang))
            .collect(),
        documents,
        data_entered: case.data_key.is_some(),
        comments,
        retry_after: case
            .retry_after
            .filter(|&at| at > s.store.now())
            .map(idgate_core::rfc3339),
        queue,
        created_at: idgate_core::rfc3339(case.created_at),
        updated_at: idgate_core::rfc3339(case.updated_at),
    })
}

/// A case as the applicant's page reads it, in the language `q` asks for.
pub async fn case_json(s: &AppState, case: Case, q: &LangQuery) -> ApiResult<CaseOut> {
    case_out_in(s, case, q.lang()).await
}

pub async fn create_case(
    State(s): State<Shared>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: NewCase = if body.is_empty() {
        NewCase::default()
    } else {
        parse_json(&body)?
    };
    let level = req.level.unwrap_or_else(|| "basic".into());
    if s.policy.level(&level).is_none() {
        let names: Vec<&str> = s.policy.levels.iter().map(|l| l.name.as_str()).collect();
        return Err(ApiError::bad_request(
            "invalid_level",
            format!("level must be one of {}", names.join(", ")),
        ));
    }
    let applicant = live_applicant(&s, &id).await?;
    // The cooldown applies before anything is uploaded, not after the applicant did it all.
    let now = s.store.now();
    if let Some(at) =
        idgate_pipeline::case::retry_after(&s.store, &s.policy, &applicant.uid, now, false).await?
    {
        return Err(ApiError::cooldown(at, now));
    }
    let case = s.store.create_case(&id, &level, "api").await?;
    Ok((StatusCode::CREATED, Json(case_out(&s, case).await?)).into_response())
}

pub async fn get_case(
    State(s): State<Shared>,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<LangQuery>,
) -> ApiResult<Json<CaseOut>> {
    let case = s
        .store
        .case(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("case"))?;
    Ok(Json(case_out_in(&s, case, q.lang()).await?))
}

/// A case and its applicant, or 404.
pub(crate) async fn case_and_applicant(
    s: &AppState,
    id: &str,
) -> ApiResult<(Case, idgate_store::Applicant)> {
    let case = s
        .store
        .case(id)
        .await?
        .ok_or_else(|| ApiError::not_found("case"))?;
    let applicant = s
        .store
        .applicant(&case.applicant_id)
        .await?
        .ok_or_else(|| ApiError::not_found("applicant"))?;
    Ok((case, applicant))
}

/// The applicant, which must exist (404) and not be erased (410 `applicant_erased`):
/// what anything new for an applicant starts from.
pub async fn live_applicant(s: &AppState, id: &str) -> ApiResult<idgate_store::Applicant> {
    let a = s
        .store
        .applicant(id)
        .await?
        .ok_or_else(|| ApiError::not_found("applicant"))?;
    not_erased(&a)?;
    Ok(a)
}

/// Refuses anything new for an erased applicant (410 `applicant_erased`).
pub fn not_erased(a: &idgate_store::Applicant) -> ApiResult<()> {
    match a.erased_at {
        None => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::GONE,
            "applicant_erased",
            "this applicant was erased; a returning person is a new applicant",
        )),
    }
}

/// Validates entered data as the engine will read it, and stores it encrypted.
pub async fn store_entered(
    s: &AppState,
    applicant: &idgate_store::Applicant,
    body: &[u8],
) -> ApiResult<String> {
    let (uid, region) = (&applicant.uid, &applicant.region);
    let data: EnteredData = parse_json(body)?;
    crate::validate::entered(&data, region, s.today())?;
    data.application(uid, region, "basic")
        .map_err(|e| ApiError::bad_request("invalid_data", format!("{e:#}")))?;
    let bytes = serde_json::to_vec(&data).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(s.blobs
        .put(idgate_store::Owner::Applicant(&applicant.id), &bytes)
        .await?)
}

/// The applicant's entered data for a draft case (name, birth date, nationality, document,
/// address): what the document is compared with.
pub async fn put_case_data(
    State(s): State<Shared>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let (_, applicant) = case_and_applicant(&s, &id).await?;
    let key = store_entered(&s, &applicant, &body).await?;
    match s.store.set_case_data(&id, &key, "api").await {
        Ok(old) => {
            if let Some(old) = old {
                let _ = s.blobs.delete(&old).await;
            }
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Err(e) => {
            let _ = s.blobs.delete(&key).await;
            Err(e.into())
        }
    }
}

#[derive(Serialize)]
struct EventOut {
    seq: i64,
    actor: String,
    action: String,
    from_status: Option<String>,
    to_status: Option<String>,
    at: String,
}

pub async fn get_events(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    if s.store.case(&id).await?.is_none() {
        return Err(ApiError::not_found("case"));
    }
    let events: Vec<EventOut> = s
        .store
        .audit_events(&id)
        .await?
        .into_iter()
        .map(|e| EventOut {
            seq: e.seq,
            actor: e.actor,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            at: idgate_core::rfc3339(e.at),
        })
        .collect();
    Ok(Json(json!({ "events": events })))
}

pub async fn submit_case(State(s): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    let (case, applicant) = case_and_applicant(&s, &id).await?;
    not_erased(&applicant)?;
    if case.status == CaseStatus::Draft && s.store.documents(&id).await?.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_documents",
            "upload at least one document image before submitting",
        ));
    }
    if case.status == CaseStatus::Draft && case.data_key.is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_applicant_data",
            "enter the applicant's data (PUT /v1/cases/{id}/data) before submitting",
        ));
    }
    if case.status == CaseStatus::Draft {
        missing_face_step(&s, &case).await?;
    }
    let case = s.store.submit(&id, "api").await?;
    inc(&s.metrics.cases_submitted);
    s.jobs_ready.notify_one();
    Ok((StatusCode::ACCEPTED, Json(case_out(&s, case).await?)).into_response())
}

/// Refuses to submit a case whose level needs the face step (not verified before on this
/// account) when it has neither a passed liveness challenge nor a selfie: the checks could
/// only answer FACE_NOT_FOUND, which tells the applicant the wrong thing.
async fn missing_face_step(s: &AppState, case: &Case) -> ApiResult<()> {
    let applicant = s
        .store
        .applicant(&case.applicant_id)
        .await?
        .ok_or_else(|| ApiError::not_found("applicant"))?;
    let verified = idgate_pipeline::case::verified_steps(&s.store, &applicant.uid).await?;
    let needs_face = s.policy.level(&case.level).is_some_and(|l| {
        s.policy
            .missing_steps(l, &verified)
            .contains(&idgate_decide::Step::Selfie)
    });
    if !needs_face {
        return Ok(());
    }
    let passed = s
        .store
        .latest_challenge(&case.id)
        .await?
        .is_some_and(|c| c.status == idgate_core::ChallengeStatus::Passed);
    let selfie = s
        .store
        .documents(&case.id)
        .await?
        .iter()
        .any(|d| d.data.kind == idgate_decide::UploadKind::Selfie.as_str());
    if passed || selfie {
        return Ok(());
    }
    let how = if s.policy.liveness_required {
        "take the liveness check (POST /v1/cases/{id}/liveness)"
    } else {
        "take the liveness check (POST /v1/cases/{id}/liveness) or upload a selfie"
    };
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing_step",
        format!("the {} level needs the face step: {how}", case.level),
    ))
}

/// The case, which must exist and still be a draft (`why_not` is the 409's message).
pub async fn draft_case(s: &AppState, case_id: &str, why_not: &str) -> ApiResult<Case> {
    let case = s
        .store
        .case(case_id)
        .await?
        .ok_or_else(|| ApiError::not_found("case"))?;
    if case.status != CaseStatus::Draft {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_state",
            why_not.to_string(),
        ));
    }
    Ok(case)
}

/// Decrypts a stored entered-data object.
pub async fn read_entered(s: &AppState, key: &str) -> ApiResult<EnteredData> {
    let bytes = s.blobs.get(key).await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::internal(format!("stored entered data unreadable: {e}")))
}
