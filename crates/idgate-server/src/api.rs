//! The HTTP API. Request and response types live here, not in the core.
//!
//! Errors: one [`ApiError`] maps to a status and a JSON body `{"error": {"code",
//! "message"}}`. 5xx bodies say nothing internal; the cause is logged once, without
//! personal data.

use crate::metrics::{inc, Metrics};
use crate::upload;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use idgate_core::{CaseStatus, ReasonCode};
use idgate_store::{BlobStore, Case, Document, DocumentData, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::sync::Notify;

pub struct AppState {
    pub store: Store,
    pub blobs: BlobStore,
    pub metrics: Metrics,
    pub limits: crate::config::Limits,
    /// Wakes idle workers when a case is submitted.
    pub jobs_ready: Notify,
    /// Levels, the document catalog and the decision rules.
    pub policy: idgate_decide::Policy,
}

pub type Shared = Arc<AppState>;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// A failure of ours: logged (the message names the failing step, never input data),
    /// answered without detail.
    fn internal(message: String) -> ApiError {
        tracing::error!(error = %message, "internal failure");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
    fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            format!("the file is larger than {limit} bytes"),
        )
    }
    fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound { what } => ApiError::not_found(what),
            StoreError::Conflict(msg) => ApiError::new(StatusCode::CONFLICT, "conflict", msg),
            StoreError::Transition(t) => ApiError::new(
                StatusCode::CONFLICT,
                "invalid_state",
                format!("the case is {}; this action is not possible now", t.from),
            ),
            other => {
                // Store errors carry no personal data: values are bound, never formatted.
                tracing::error!(error = %other, "storage failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

pub fn app(state: Shared) -> Router {
    let upload_limit = state.limits.max_upload_bytes + 64 * 1024;
    let v1 = Router::new()
        .route("/v1/applicants", post(create_applicant))
        .route("/v1/applicants/{id}", get(get_applicant))
        .route("/v1/applicants/{id}/cases", post(create_case))
        .route("/v1/cases/{id}", get(get_case))
        .route("/v1/cases/{id}/events", get(get_events))
        .route("/v1/cases/{id}/submit", post(submit_case))
        .route(
            "/v1/cases/{id}/documents",
            post(upload_document).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/v1/precheck",
            post(precheck).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_api_key,
        ));
    Router::new()
        .route("/v1/catalog", get(get_catalog))
        .route("/v1/catalog/{country}", get(get_catalog_country))
        .route("/v1/entitlements/{uid}", get(get_entitlements))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(|| async { Json(crate::openapi::document()) }),
        )
        .merge(v1)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_responses,
        ))
        .with_state(state)
}

async fn count_responses(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    s.metrics.count_status(res.status().as_u16());
    res
}

/// SHA-256 of an API key, the only form in which keys are stored.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A new random API key: `idg_` and 64 hex characters.
pub fn generate_api_key() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    format!("idg_{}", hex::encode(bytes))
}

async fn require_api_key(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    let Some(key) = key else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing API key (Authorization: Bearer ...)",
        )
        .into_response();
    };
    match s.store.api_key_by_hash(&hash_api_key(key)).await {
        Ok(Some(_)) => next.run(req).await,
        Ok(None) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "unknown or revoked API key",
        )
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn healthz(State(s): State<Shared>) -> Response {
    match s.store.ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

async fn metrics(State(s): State<Shared>) -> ApiResult<Response> {
    let (queued, running) = s.store.queue_depth().await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(queued, running),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewApplicant {
    uid: String,
    region: String,
}

#[derive(Serialize)]
struct ApplicantOut {
    id: String,
    uid: String,
    region: String,
    created_at: i64,
}

impl From<idgate_store::Applicant> for ApplicantOut {
    fn from(a: idgate_store::Applicant) -> Self {
        ApplicantOut {
            id: a.id,
            uid: a.uid,
            region: a.region,
            created_at: a.created_at,
        }
    }
}

fn valid_uid(uid: &str) -> bool {
    (1..=128).contains(&uid.len())
        && uid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:@".contains(&b))
}

/// ISO 3166-1 alpha-2 shape: two upper-case letters.
fn valid_region(region: &str) -> bool {
    region.len() == 2 && region.bytes().all(|b| b.is_ascii_uppercase())
}

/// Parses a JSON body with a 400 that says what is wrong.
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("invalid request body: {e}")))
}

async fn create_applicant(State(s): State<Shared>, body: axum::body::Bytes) -> ApiResult<Response> {
    let req: NewApplicant = parse_json(&body)?;
    if !valid_uid(&req.uid) {
        return Err(ApiError::bad_request(
            "invalid_uid",
            "uid: 1-128 characters of letters, digits and - _ . : @",
        ));
    }
    if !valid_region(&req.region) {
        return Err(ApiError::bad_request(
            "invalid_region",
            "region: an ISO 3166-1 alpha-2 code such as DE or CN",
        ));
    }
    let a = s.store.create_applicant(&req.uid, &req.region).await?;
    Ok((StatusCode::CREATED, Json(ApplicantOut::from(a))).into_response())
}

/// One country's entry: whether its residents are served and which documents it issues
/// that are accepted, with the sides to photograph (the UI's dropdown).
fn catalog_entry(
    policy: &idgate_decide::Policy,
    c: &idgate_decide::country::Country,
) -> serde_json::Value {
    serde_json::json!({
        "code": c.alpha2,
        "alpha3": c.alpha3,
        "name": c.name,
        "supported": policy.region_supported(c.alpha2, None),
        "documents": policy.accepted(c.alpha2),
    })
}

async fn get_catalog(State(s): State<Shared>) -> Json<serde_json::Value> {
    let countries: Vec<_> = idgate_decide::country::all()
        .iter()
        .map(|c| catalog_entry(&s.policy, c))
        .collect();
    Json(serde_json::json!({ "countries": countries }))
}

async fn get_catalog_country(
    State(s): State<Shared>,
    Path(country): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let c = idgate_decide::country::by_alpha2(&country)
        .ok_or_else(|| ApiError::not_found("country"))?;
    let mut entry = catalog_entry(&s.policy, c);
    entry["unsupported_subdivisions"] = serde_json::json!(s
        .policy
        .regions
        .unsupported_subdivisions
        .iter()
        .filter(|d| d.split('-').next() == Some(c.alpha2))
        .collect::<Vec<_>>());
    Ok(Json(entry))
}

/// What a platform account may do now, from the steps it verified.
async fn get_entitlements(
    State(s): State<Shared>,
    Path(uid): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let steps = crate::verified_steps(&s.store, &uid).await?;
    let level = s.policy.reached_level(&steps).map(|l| l.name.clone());
    Ok(Json(serde_json::json!({
        "uid": uid,
        "level": level,
        "verified_steps": steps.iter().map(|st| st.as_str()).collect::<Vec<_>>(),
        "entitlements": s.policy.entitlements(&steps),
    })))
}

async fn get_applicant(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<Json<ApplicantOut>> {
    let a = s
        .store
        .applicant(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("applicant"))?;
    Ok(Json(a.into()))
}

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
struct DocumentOut {
    id: String,
    kind: String,
    side: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    width: Option<i64>,
    height: Option<i64>,
    created_at: i64,
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
            created_at,
        }
    }
}

#[derive(Serialize)]
struct CaseOut {
    id: String,
    applicant_id: String,
    level: String,
    status: &'static str,
    reasons: Vec<ReasonOut>,
    documents: Vec<DocumentOut>,
    created_at: i64,
    updated_at: i64,
}

fn reason_out(r: ReasonCode) -> ReasonOut {
    ReasonOut {
        code: r.as_str(),
        reject_type: r.default_type().as_str(),
        message: r.message(),
        fix: r.fix(),
    }
}

async fn case_out(s: &AppState, case: Case) -> ApiResult<CaseOut> {
    let documents = s
        .store
        .documents(&case.id)
        .await?
        .into_iter()
        .map(DocumentOut::from)
        .collect();
    Ok(CaseOut {
        id: case.id,
        applicant_id: case.applicant_id,
        level: case.level,
        status: case.status.as_str(),
        reasons: case.reasons.into_iter().map(reason_out).collect(),
        documents,
        created_at: case.created_at,
        updated_at: case.updated_at,
    })
}

async fn create_case(
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
    if !(1..=64).contains(&level.len())
        || !level
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(ApiError::bad_request(
            "invalid_level",
            "level: 1-64 letters, digits, - or _",
        ));
    }
    let case = s.store.create_case(&id, &level, "api").await?;
    Ok((StatusCode::CREATED, Json(case_out(&s, case).await?)).into_response())
}

async fn get_case(State(s): State<Shared>, Path(id): Path<String>) -> ApiResult<Json<CaseOut>> {
    let case = s
        .store
        .case(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("case"))?;
    Ok(Json(case_out(&s, case).await?))
}

#[derive(Serialize)]
struct EventOut {
    seq: i64,
    actor: String,
    action: String,
    from_status: Option<String>,
    to_status: Option<String>,
    at: i64,
}

async fn get_events(
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
            at: e.at,
        })
        .collect();
    Ok(Json(json!({ "events": events })))
}

async fn submit_case(State(s): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    let case = s
        .store
        .case(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("case"))?;
    if case.status == CaseStatus::Draft && s.store.documents(&id).await?.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_documents",
            "upload at least one document image before submitting",
        ));
    }
    let case = s.store.submit(&id, "api").await?;
    inc(&s.metrics.cases_submitted);
    s.jobs_ready.notify_one();
    Ok((StatusCode::ACCEPTED, Json(case_out(&s, case).await?)).into_response())
}

pub const DOCUMENT_KINDS: &[&str] = &[
    "passport",
    "id_card",
    "drivers_licence",
    "residence_permit",
    "international_driving_permit",
];
pub const SIDES: &[&str] = &["front", "back", "page"];

/// The instant pre-check the applicant's app calls before submitting: the photo (raw
/// body, any image type; the format is sniffed) goes through the quality gate, every
/// document-photo check but the MRZ, on a reduced decode. Nothing is stored; the answer
/// has the same reasons, fixes and regions as `idgate check --json`.
async fn precheck(State(s): State<Shared>, body: axum::body::Bytes) -> ApiResult<Response> {
    if body.len() > s.limits.max_upload_bytes {
        return Err(ApiError::too_large(s.limits.max_upload_bytes));
    }
    let mut opts = idgate_vision::check::CheckOptions::new(crate::mrz_cli::today());
    opts.limits = idgate_vision::input::InputLimits {
        max_bytes: s.limits.max_upload_bytes,
        max_pixels: s.limits.max_pixels,
    };
    let result = tokio::task::spawn_blocking(move || idgate_vision::check::gate(&body, &opts))
        .await
        .map_err(|e| ApiError::internal(format!("pre-check task failed: {e}")))?;
    match result {
        Ok(report) => {
            let mut v = crate::check_cli::report_json("upload", &report);
            if let Some(o) = v.as_object_mut() {
                o.remove("file");
            }
            Ok(Json(v).into_response())
        }
        Err(idgate_vision::check::CheckError::Input(e)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.code(),
            e.to_string(),
        )),
        Err(e) => Err(ApiError::internal(e.to_string())),
    }
}

async fn upload_document(
    State(s): State<Shared>,
    Path(id): Path<String>,
    multipart: Multipart,
) -> ApiResult<Response> {
    let result = store_upload(&s, &id, multipart).await;
    inc(if result.is_ok() {
        &s.metrics.uploads_accepted
    } else {
        &s.metrics.uploads_rejected
    });
    result
}

async fn store_upload(
    s: &AppState,
    case_id: &str,
    mut multipart: Multipart,
) -> ApiResult<Response> {
    let case = s
        .store
        .case(case_id)
        .await?
        .ok_or_else(|| ApiError::not_found("case"))?;
    if case.status != CaseStatus::Draft {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_state",
            "documents can only be added before submitting",
        ));
    }
    let (mut kind, mut side, mut file) = (None, None, None);
    let too_large = || ApiError::too_large(s.limits.max_upload_bytes);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => {
                return Err(ApiError::bad_request(
                    "invalid_multipart",
                    format!("malformed multipart body: {}", e.body_text()),
                ))
            }
        };
        let name = field.name().unwrap_or("").to_string();
        let data = field.bytes().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::bad_request(
                    "invalid_multipart",
                    format!("malformed multipart body: {}", e.body_text()),
                )
            }
        })?;
        match name.as_str() {
            "kind" => kind = Some(String::from_utf8_lossy(&data).trim().to_string()),
            "side" => side = Some(String::from_utf8_lossy(&data).trim().to_string()),
            "file" => file = Some(data),
            other => {
                return Err(ApiError::bad_request(
                    "unknown_field",
                    format!("unexpected form field `{other}` (expected kind, side, file)"),
                ))
            }
        }
    }
    let kind = kind
        .ok_or_else(|| ApiError::bad_request("missing_field", "form field `kind` is required"))?;
    if !DOCUMENT_KINDS.contains(&kind.as_str()) {
        return Err(ApiError::bad_request(
            "invalid_kind",
            format!("kind must be one of {}", DOCUMENT_KINDS.join(", ")),
        ));
    }
    let side = side.unwrap_or_else(|| {
        if kind == "passport" {
            "page".into()
        } else {
            "front".into()
        }
    });
    if !SIDES.contains(&side.as_str()) {
        return Err(ApiError::bad_request(
            "invalid_side",
            format!("side must be one of {}", SIDES.join(", ")),
        ));
    }
    let file = file
        .ok_or_else(|| ApiError::bad_request("missing_field", "form field `file` is required"))?;
    if file.is_empty() {
        return Err(ApiError::bad_request("empty_file", "the file is empty"));
    }
    if file.len() > s.limits.max_upload_bytes {
        return Err(too_large());
    }
    let format = upload::sniff(&file).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            "the file is not a JPEG, PNG, WebP, HEIC or PDF; upload a photo straight from the camera",
        )
    })?;
    let dims = upload::dimensions(format, &file);
    if matches!(
        format,
        upload::Format::Jpeg | upload::Format::Png | upload::Format::Webp
    ) && dims.is_none()
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unreadable_image",
            "the image header is damaged or truncated; upload the original file again",
        ));
    }
    if let Some((w, h)) = dims {
        if w == 0 || h == 0 || u64::from(w) * u64::from(h) > s.limits.max_pixels {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "image_too_large",
                format!(
                    "the image is {w}x{h} pixels; at most {} pixels are accepted",
                    s.limits.max_pixels
                ),
            ));
        }
    }
    let sha256 = hex::encode(Sha256::digest(&file));
    let blob_key = s.blobs.put(&file).await.map_err(ApiError::from)?;
    let doc = s
        .store
        .add_document(
            DocumentData {
                case_id: case_id.into(),
                kind,
                side,
                blob_key: blob_key.clone(),
                content_type: format.content_type().into(),
                size_bytes: file.len() as i64,
                sha256,
                width: dims.map(|d| i64::from(d.0)),
                height: dims.map(|d| i64::from(d.1)),
            },
            "api",
        )
        .await;
    let doc = match doc {
        Ok(d) => d,
        Err(e) => {
            // The case changed under us: do not leave an orphaned encrypted blob.
            let _ = s.blobs.delete(&blob_key).await;
            return Err(e.into());
        }
    };
    Ok((StatusCode::CREATED, Json(DocumentOut::from(doc))).into_response())
}
