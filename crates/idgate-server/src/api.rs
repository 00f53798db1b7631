//! The HTTP API. Request and response types live here, not in the core.
//!
//! Errors: one [`ApiError`] maps to a status and a JSON body `{"error": {"code",
//! "message"}}`. 5xx bodies say nothing internal; the cause is logged once, without
//! personal data.

use crate::metrics::{inc, Metrics};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use idgate_core::{CaseStatus, ReasonCode};
use idgate_store::{BlobStore, Case, Document, DocumentData, Store, StoreError};
use idgate_vision::probe;
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
    /// The HMAC secret of identity keys (duplicates).
    pub identity_secret: Vec<u8>,
    /// The OCR and face models, loaded on first use.
    pub models: Arc<idgate_pipeline::Models>,
}

impl AppState {
    /// Photo-check options for `today` under the configured upload limits.
    pub fn check_options(&self, today: idgate_mrz::Date) -> idgate_vision::check::CheckOptions {
        let mut opts = idgate_vision::check::CheckOptions::new(today);
        opts.limits = self.limits.input();
        opts
    }

    /// Today by the store's clock (UTC), for dates entered and documents' validity.
    pub fn today(&self) -> idgate_mrz::Date {
        idgate_mrz::Date::from_unix_days(self.store.now().div_euclid(86_400_000))
    }

    /// The OCR models, loaded once.
    pub fn ocr(&self) -> anyhow::Result<&idgate_vision::ocr::Ocr> {
        self.models.ocr()
    }

    /// The face models, loaded on first use (from the same models directory).
    pub fn faces(&self) -> anyhow::Result<&idgate_face::FaceModels> {
        self.models.face_models()
    }

    /// The verification pipeline over this state's store, blobs and models.
    pub fn pipeline(&self) -> idgate_pipeline::Pipeline<'_, Store, BlobStore> {
        idgate_pipeline::Pipeline {
            policy: &self.policy,
            secret: &self.identity_secret,
            store: &self.store,
            blobs: &self.blobs,
            documents: self.models.clone(),
            faces: self.models.clone(),
            clock: self.store.clock(),
            check: self.check_options(self.today()),
            actor: "worker",
            screens: &[],
        }
    }
}

pub type Shared = Arc<AppState>;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// When the request may be made again (ms): `retry_after` in the body (RFC 3339) and a
    /// `Retry-After` header (seconds).
    retry_after: Option<(i64, i64)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    /// 429: the account must wait until `at_ms` (it is `now_ms`).
    pub(crate) fn cooldown(at_ms: i64, now_ms: i64) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!(
                "too many failed attempts in a short time; try again after {}",
                idgate_core::rfc3339(at_ms)
            ),
        );
        e.retry_after = Some((at_ms, now_ms));
        e
    }
    pub fn code(&self) -> &'static str {
        self.code
    }
    /// The same status (and `retry_after`) with another code and message.
    pub(crate) fn set_code(&mut self, code: &'static str, message: impl Into<String>) {
        self.code = code;
        self.message = message.into();
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// A failure of ours: logged (the message names the failing step, never input data),
    /// answered without detail.
    pub(crate) fn internal(message: String) -> ApiError {
        tracing::error!(error = %message, "internal failure");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
    pub(crate) fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            format!("the file is larger than {limit} bytes"),
        )
    }
    pub(crate) fn not_found(what: &str) -> ApiError {
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
            StoreError::SecondReviewerRequired => ApiError::new(
                StatusCode::CONFLICT,
                "second_reviewer_required",
                "you gave this change its first approval; a different reviewer must give the second",
            ),
            StoreError::Unchecked => ApiError::new(
                StatusCode::CONFLICT,
                "not_checked",
                "the automated checks did not decide this case (they could not run), so it \
                 cannot be approved; ask the applicant to retry or reject it",
            ),
            StoreError::DuplicateDocument => ApiError::new(
                StatusCode::CONFLICT,
                "duplicate_identity",
                "this document is verified on another account",
            ),
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
        let mut body = json!({"error": {"code": self.code, "message": self.message}});
        match self.retry_after {
            Some((at, now)) => {
                body["error"]["retry_after"] = json!(idgate_core::rfc3339(at));
                let secs = ((at - now).max(0) + 999) / 1000;
                (
                    self.status,
                    [(header::RETRY_AFTER, secs.to_string())],
                    Json(body),
                )
                    .into_response()
            }
            None => (self.status, Json(body)).into_response(),
        }
    }
}

/// Every error answer in the API's shape: the router's own 404 and 405, body-limit 413s and
/// extractor rejections come as plain text or empty bodies; this rewrites any error
/// response that is not JSON into `{"error": {"code", "message"}}` with a stable code.
async fn shape_errors(req: Request, next: Next) -> Response {
    let file_route = {
        let p = req.uri().path();
        p.ends_with("/documents") || p == "/v1/precheck" || p.contains("/liveness/")
    };
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such resource or route".to_string()),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this route does not take that method".to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE if file_route => (
            "file_too_large",
            "the file is larger than the upload limit".to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "request_too_large",
            "the request body is larger than this route accepts".to_string(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "the request's content type is not one this route accepts".to_string(),
        ),
        s if s.is_server_error() => ("internal", "internal error".to_string()),
        _ => {
            let bytes = axum::body::to_bytes(res.into_body(), 4096)
                .await
                .unwrap_or_default();
            let why = String::from_utf8_lossy(&bytes).trim().to_string();
            let message = if why.is_empty() {
                "the request is not valid".to_string()
            } else {
                format!("the request is not valid: {why}")
            };
            return ApiError::new(status, "invalid_request", message).into_response();
        }
    };
    ApiError::new(status, code, message).into_response()
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

pub fn app(state: Shared) -> Router {
    let upload_limit = state.limits.max_upload_bytes + 64 * 1024;
    let v1 = Router::new()
        .route("/v1/applicants", post(create_applicant))
        .route("/v1/applicants/{id}", get(get_applicant))
        .route("/v1/applicants/{id}/cases", post(create_case))
        .route("/v1/cases/{id}", get(get_case))
        .route("/v1/cases/{id}/events", get(get_events))
        .route("/v1/cases/{id}/submit", post(submit_case))
        .route("/v1/cases/{id}/data", axum::routing::put(put_case_data))
        .route(
            "/v1/applicants/{id}/change-requests",
            post(crate::changes::create),
        )
        .route("/v1/change-requests/{id}", get(crate::changes::get))
        .route(
            "/v1/change-requests/{id}/documents",
            post(crate::changes::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/v1/change-requests/{id}/submit",
            post(crate::changes::submit),
        )
        .route("/v1/reviewers", post(create_reviewer).get(list_reviewers))
        .route(
            "/v1/reviewers/{id}",
            axum::routing::delete(disable_reviewer),
        )
        .route("/v1/webhooks/deliveries", get(list_deliveries))
        .route("/v1/webhooks/deliveries/{id}/redeliver", post(redeliver))
        .route(
            "/v1/cases/{id}/documents",
            post(upload_document).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/v1/cases/{id}/documents/{doc}",
            axum::routing::delete(delete_document),
        )
        .route(
            "/v1/precheck",
            post(precheck).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/v1/cases/{id}/liveness", post(crate::liveness::issue))
        .route(
            "/v1/cases/{id}/liveness/{challenge}",
            post(crate::liveness::answer)
                .layer(DefaultBodyLimit::max(crate::liveness::MAX_BODY_BYTES)),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_api_key,
        ));
    Router::new()
        .route("/v1/catalog", get(get_catalog))
        .route("/v1/reasons", get(get_reasons))
        .route("/v1/catalog/{country}", get(get_catalog_country))
        .route("/v1/entitlements/{uid}", get(get_entitlements))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(|| async { Json(crate::openapi::document()) }),
        )
        .merge(v1)
        .merge(crate::review::routes(state.clone()))
        .fallback(|| async { ApiError::not_found("route") })
        .layer(middleware::from_fn(shape_errors))
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
    created_at: String,
}

impl From<idgate_store::Applicant> for ApplicantOut {
    fn from(a: idgate_store::Applicant) -> Self {
        ApplicantOut {
            id: a.id,
            uid: a.uid,
            region: a.region,
            created_at: idgate_core::rfc3339(a.created_at),
        }
    }
}

fn valid_uid(uid: &str) -> bool {
    (1..=128).contains(&uid.len())
        && uid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:@".contains(&b))
}

/// Parses a JSON body with a 400 that says what is wrong.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
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
    crate::validate::region(&req.region)?;
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

/// The reason catalog: every code with the reject type this deployment gives it, and its
/// message and fix in each language (what `GET /v1/cases/{id}` shows the applicant).
async fn get_reasons(State(s): State<Shared>) -> Json<serde_json::Value> {
    let langs = [idgate_core::Lang::En, idgate_core::Lang::ZhHans];
    let reasons: Vec<_> = ReasonCode::ALL
        .iter()
        .map(|&r| {
            let texts: serde_json::Map<String, serde_json::Value> = langs
                .iter()
                .map(|&l| {
                    (
                        l.tag().to_string(),
                        json!({"message": r.message_in(l), "fix": r.fix_in(l)}),
                    )
                })
                .collect();
            json!({
                "code": r.as_str(),
                "reject_type": s.policy.reject_type(r).as_str(),
                "default_reject_type": r.default_type().as_str(),
                "texts": texts,
            })
        })
        .collect();
    Json(json!({ "reasons": reasons }))
}

/// What a platform account may do now, from the steps it verified.
async fn get_entitlements(
    State(s): State<Shared>,
    Path(uid): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let steps = idgate_pipeline::case::verified_steps(&s.store, &uid).await?;
    let level = s.policy.reached_level(&steps).map(|l| l.name.clone());
    Ok(Json(serde_json::json!({
        "uid": uid,
        "level": level,
        "verified_steps": steps.iter().map(|st| st.as_str()).collect::<Vec<_>>(),
        "entitlements": s.policy.entitlements(&steps),
    })))
}

/// The applicant, with the verified data once a case was approved.
async fn get_applicant(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let a = s
        .store
        .applicant(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("applicant"))?;
    let verified = match s.store.verified_data_key(&id).await? {
        Some(k) => Some(crate::review::read_entered(&s, &k).await?),
        None => None,
    };
    let mut out = serde_json::to_value(ApplicantOut::from(a))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    out["verified_data"] = json!(verified);
    Ok(Json(out))
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
struct CommentOut {
    body: String,
    at: String,
}

/// `?lang=zh-Hans` picks the language of reason messages and fixes.
#[derive(Deserialize, Default)]
struct LangQuery {
    #[serde(default)]
    lang: Option<String>,
}

impl LangQuery {
    fn lang(&self) -> idgate_core::Lang {
        idgate_core::Lang::from_tag(self.lang.as_deref().unwrap_or("en"))
    }
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
struct CaseOut {
    id: String,
    applicant_id: String,
    level: String,
    status: &'static str,
    reasons: Vec<ReasonOut>,
    documents: Vec<DocumentOut>,
    /// Has the applicant's entered data been given (`PUT /v1/cases/{id}/data`)?
    data_entered: bool,
    /// Reviewer comments meant for the applicant.
    comments: Vec<CommentOut>,
    /// When the applicant may try again (RFC 3339), while a cooldown applies.
    retry_after: Option<String>,
    created_at: String,
    updated_at: String,
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
    Ok(CaseOut {
        id: case.id,
        applicant_id: case.applicant_id,
        level: case.level,
        status: case.status.as_str(),
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
        created_at: idgate_core::rfc3339(case.created_at),
        updated_at: idgate_core::rfc3339(case.updated_at),
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
    if s.policy.level(&level).is_none() {
        let names: Vec<&str> = s.policy.levels.iter().map(|l| l.name.as_str()).collect();
        return Err(ApiError::bad_request(
            "invalid_level",
            format!("level must be one of {}", names.join(", ")),
        ));
    }
    let applicant = s
        .store
        .applicant(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("applicant"))?;
    // The cooldown applies before anything is uploaded, not after the applicant did it all.
    let now = s.store.now();
    if let Some(at) = crate::cooldown(&s.store, &s.policy, &applicant.uid, now).await? {
        return Err(ApiError::cooldown(at, now));
    }
    let case = s.store.create_case(&id, &level, "api").await?;
    Ok((StatusCode::CREATED, Json(case_out(&s, case).await?)).into_response())
}

async fn get_case(
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

/// Validates entered data as the engine will read it, and stores it encrypted.
async fn store_entered(s: &AppState, uid: &str, region: &str, body: &[u8]) -> ApiResult<String> {
    let data: crate::verify_cli::EnteredData = parse_json(body)?;
    crate::validate::entered(&data, region, s.today())?;
    data.application(uid, region, "basic")
        .map_err(|e| ApiError::bad_request("invalid_data", format!("{e:#}")))?;
    let bytes = serde_json::to_vec(&data).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(s.blobs.put(&bytes).await?)
}

/// The applicant's entered data for a draft case (name, birth date, nationality, document,
/// address): what the document is compared with.
async fn put_case_data(
    State(s): State<Shared>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let (_, applicant) = crate::api::case_and_applicant(&s, &id).await?;
    let key = store_entered(&s, &applicant.uid, &applicant.region, &body).await?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewReviewer {
    name: String,
    role: String,
}

fn reviewer_out(r: &idgate_store::Reviewer) -> serde_json::Value {
    json!({"id": r.id, "name": r.name, "role": r.role,
           "created_at": idgate_core::rfc3339(r.created_at),
           "disabled_at": r.disabled_at.map(idgate_core::rfc3339)})
}

/// Creates a reviewer account; its token is in this answer only.
async fn create_reviewer(State(s): State<Shared>, body: axum::body::Bytes) -> ApiResult<Response> {
    let req: NewReviewer = parse_json(&body)?;
    if !valid_uid(&req.name) {
        return Err(ApiError::bad_request(
            "invalid_name",
            "name: 1-128 characters of letters, digits and - _ . : @",
        ));
    }
    if !crate::review::ROLES.contains(&req.role.as_str()) {
        return Err(ApiError::bad_request(
            "invalid_role",
            format!("role must be one of {}", crate::review::ROLES.join(", ")),
        ));
    }
    let token = crate::review::generate_token();
    let r = s
        .store
        .create_reviewer(&req.name, &req.role, &crate::review::hash_token(&token))
        .await?;
    let mut out = reviewer_out(&r);
    out["token"] = json!(token);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

async fn list_reviewers(State(s): State<Shared>) -> ApiResult<Json<serde_json::Value>> {
    let list: Vec<_> = s
        .store
        .reviewers()
        .await?
        .iter()
        .map(reviewer_out)
        .collect();
    Ok(Json(json!({ "reviewers": list })))
}

async fn disable_reviewer(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.store.disable_reviewer(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The delivery log: newest deliveries first, each with its attempts.
async fn list_deliveries(State(s): State<Shared>) -> ApiResult<Json<serde_json::Value>> {
    let mut out = Vec::new();
    for d in s.store.webhook_deliveries(100).await? {
        let attempts: Vec<_> = s
            .store
            .webhook_attempts(&d.id)
            .await?
            .into_iter()
            .map(|a| {
                json!({"attempt": a.attempt, "at": idgate_core::rfc3339(a.at), "status_code": a.status_code,
                       "error": a.error, "duration_ms": a.duration_ms})
            })
            .collect();
        out.push(json!({
            "id": d.id,
            "type": d.event_type,
            "status": d.status,
            "attempts": attempts,
            "next_at": idgate_core::rfc3339(d.next_at),
            "created_at": idgate_core::rfc3339(d.created_at),
            "delivered_at": d.delivered_at.map(idgate_core::rfc3339),
            "body": serde_json::from_str::<serde_json::Value>(&d.body).unwrap_or_default(),
        }));
    }
    Ok(Json(json!({ "deliveries": out })))
}

async fn redeliver(State(s): State<Shared>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.store.redeliver_webhook(&id).await?;
    Ok(StatusCode::ACCEPTED)
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
            at: idgate_core::rfc3339(e.at),
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
    if case.status == CaseStatus::Draft && case.data_key.is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_applicant_data",
            "enter the applicant's data (PUT /v1/cases/{id}/data) before submitting",
        ));
    }
    let case = s.store.submit(&id, "api").await?;
    inc(&s.metrics.cases_submitted);
    s.jobs_ready.notify_one();
    Ok((StatusCode::ACCEPTED, Json(case_out(&s, case).await?)).into_response())
}

/// Identity document kinds, named as in the catalog (`GET /v1/catalog`).
pub const IDENTITY_KINDS: &[&str] = &[
    "passport",
    "national_id",
    "drivers_license",
    "residence_permit",
    "international_driving_permit",
];
/// What an upload may be: an identity document side, a selfie or a proof of address.
pub const DOCUMENT_KINDS: &[&str] = &[
    "passport",
    "national_id",
    "drivers_license",
    "residence_permit",
    "international_driving_permit",
    "selfie",
    "proof_of_address",
];
pub const SIDES: &[&str] = &["photo_page", "front", "back", "face", "page"];

/// The side an upload of `kind` is when none is named; and whether `side` fits `kind`.
fn side_of(kind: &str, side: Option<String>) -> ApiResult<String> {
    let allowed: &[&str] = match kind {
        "passport" | "international_driving_permit" => &["photo_page"],
        "selfie" => &["face"],
        "proof_of_address" => &["page"],
        _ => &["front", "back"],
    };
    let side = side.unwrap_or_else(|| allowed[0].to_string());
    if !allowed.contains(&side.as_str()) {
        return Err(ApiError::bad_request(
            "invalid_side",
            format!("side of a {kind} must be one of {}", allowed.join(", ")),
        ));
    }
    Ok(side)
}

/// The instant pre-check the applicant's app calls before submitting: the photo (raw
/// body, any image type; the format is sniffed) goes through the quality gate, every
/// document-photo check but the MRZ, on a reduced decode. Nothing is stored; the answer
/// has the same reasons, fixes and regions as `idgate check --json`.
async fn precheck(State(s): State<Shared>, body: axum::body::Bytes) -> ApiResult<Response> {
    if body.len() > s.limits.max_upload_bytes {
        return Err(ApiError::too_large(s.limits.max_upload_bytes));
    }
    if !body.is_empty() && probe::sniff(&body) == Some(probe::Format::Pdf) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            "the pre-check takes a photo (JPEG, PNG, WebP or HEIC), not a PDF",
        ));
    }
    // The pixel count from the header, before anything decodes (as for an upload).
    if let Some(format) = probe::sniff(&body) {
        if let Some((w, h)) = probe::dimensions(format, &body) {
            if w == 0 || h == 0 || u64::from(w) * u64::from(h) > s.limits.max_pixels {
                return Err(input_error(
                    &idgate_vision::input::InputError::TooManyPixels {
                        width: w,
                        height: h,
                        limit: s.limits.max_pixels,
                    },
                ));
            }
        }
    }
    let opts = s.check_options(s.today());
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
        Err(idgate_vision::check::CheckError::Input(e)) => Err(input_error(&e)),
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

/// The case, which must exist and still be a draft (`why_not` is the 409's message).
pub(crate) async fn draft_case(s: &AppState, case_id: &str, why_not: &str) -> ApiResult<Case> {
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

/// A refused input image as the API answers it: one code and status per problem, the same
/// on every route that takes images (`POST /v1/cases/{id}/documents`, `/v1/precheck`,
/// liveness frames).
pub(crate) fn input_error(e: &idgate_vision::input::InputError) -> ApiError {
    use idgate_vision::input::InputError;
    let status = match e {
        InputError::Empty => StatusCode::BAD_REQUEST,
        InputError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        InputError::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        InputError::TooManyPixels { .. } | InputError::Corrupt(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    ApiError::new(status, e.code(), e.to_string())
}

/// The kinds of upload a PDF is accepted for: documents people receive as PDFs (a bank
/// statement or utility bill). Identity documents and selfies are photographed.
pub const PDF_KINDS: &[&str] = &["proof_of_address"];

/// The multipart fields of an upload, each given at most once.
struct UploadForm {
    kind: Option<String>,
    side: Option<String>,
    file: Option<bytes::Bytes>,
}

async fn read_upload_form(mut multipart: Multipart, max_bytes: usize) -> ApiResult<UploadForm> {
    let too_large = || ApiError::too_large(max_bytes);
    let malformed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::bad_request(
                "invalid_multipart",
                format!("malformed multipart body: {}", e.body_text()),
            )
        }
    };
    let mut form = UploadForm {
        kind: None,
        side: None,
        file: None,
    };
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or("").to_string();
        let data = field.bytes().await.map_err(malformed)?;
        let text = || {
            std::str::from_utf8(&data)
                .map(|t| t.trim().to_string())
                .map_err(|_| {
                    ApiError::bad_request("invalid_field", format!("`{name}` is not text"))
                })
        };
        let slot_taken = match name.as_str() {
            "kind" => form.kind.replace(text()?).is_some(),
            "side" => form.side.replace(text()?).is_some(),
            "file" => form.file.replace(data).is_some(),
            other => {
                return Err(ApiError::bad_request(
                    "unknown_field",
                    format!("unexpected form field `{other}` (expected kind, side, file)"),
                ))
            }
        };
        if slot_taken {
            return Err(ApiError::bad_request(
                "duplicate_field",
                format!("form field `{name}` is given twice; send each field once"),
            ));
        }
    }
    Ok(form)
}

/// Checks that `file` is what an upload of `kind` may be, and that it decodes whole: the
/// type by content (a PDF only where [`PDF_KINDS`] allows), the size and pixel count
/// from the header before decoding, then a decode (off the async threads) so a truncated
/// or damaged photo is refused now rather than judged later as a missing document.
/// Returns the format and pixel size.
pub(crate) async fn check_upload(
    s: &AppState,
    kind: &str,
    file: &bytes::Bytes,
) -> ApiResult<(probe::Format, Option<(u32, u32)>)> {
    use idgate_vision::input::InputError;
    if file.is_empty() {
        return Err(input_error(&InputError::Empty));
    }
    if file.len() > s.limits.max_upload_bytes {
        return Err(ApiError::too_large(s.limits.max_upload_bytes));
    }
    let format = probe::sniff(file).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            "the file is not a JPEG, PNG, WebP, HEIC or PDF; upload a photo straight from the camera",
        )
    })?;
    if format == probe::Format::Pdf {
        if !PDF_KINDS.contains(&kind) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_file_type",
                format!(
                    "a {kind} is photographed: upload a JPEG, PNG, WebP or HEIC photo, not a PDF"
                ),
            ));
        }
        if !probe::pdf_complete(file) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unreadable_file",
                "the PDF is truncated (it has no end-of-file marker); upload the original file again",
            ));
        }
        return Ok((format, None));
    }
    let dims = probe::dimensions(format, file);
    if format != probe::Format::Heic && dims.is_none() {
        return Err(input_error(&InputError::Corrupt(
            "the image header is damaged or truncated".into(),
        )));
    }
    if let Some((w, h)) = dims {
        if w == 0 || h == 0 || u64::from(w) * u64::from(h) > s.limits.max_pixels {
            return Err(input_error(&InputError::TooManyPixels {
                width: w,
                height: h,
                limit: s.limits.max_pixels,
            }));
        }
    }
    if format == probe::Format::Jpeg && !probe::jpeg_complete(file) {
        return Err(input_error(&InputError::Corrupt(
            "the JPEG data is truncated (no end-of-image marker after its last scan)".into(),
        )));
    }
    let limits = s.limits.input();
    let bytes = file.clone();
    // A reduced decode reads every coded block, so it finds damage as a full one would.
    let decoded = tokio::task::spawn_blocking(move || {
        idgate_vision::input::decode_scaled(&bytes, limits, 256)
            .map(|d| (d.stored_width, d.stored_height))
    })
    .await
    .map_err(|e| ApiError::internal(format!("decode task failed: {e}")))?;
    match decoded {
        Ok(wh) => Ok((format, dims.or(Some(wh)))),
        Err(e) => Err(input_error(&e)),
    }
}

/// What a document upload belongs to.
#[derive(Clone, Copy)]
pub(crate) enum Owner<'a> {
    Case(&'a str),
    ChangeRequest(&'a str),
}

/// Reads an upload form whose `kind` is one of `kinds`, checks the file ([`check_upload`]),
/// seals it in the blob store and records it for `owner`. The blobs of the documents it
/// replaces are deleted; if recording fails (the owner changed under us) so is its own, so
/// no orphaned encrypted blob is left.
pub(crate) async fn keep_upload(
    s: &AppState,
    owner: Owner<'_>,
    multipart: Multipart,
    kinds: &[&str],
) -> ApiResult<idgate_store::Added> {
    let form = read_upload_form(multipart, s.limits.max_upload_bytes).await?;
    let kind = form
        .kind
        .ok_or_else(|| ApiError::bad_request("missing_field", "form field `kind` is required"))?;
    if !kinds.contains(&kind.as_str()) {
        return Err(ApiError::bad_request(
            "invalid_kind",
            format!("kind must be one of {}", kinds.join(", ")),
        ));
    }
    let side = side_of(&kind, form.side)?;
    let file = form
        .file
        .ok_or_else(|| ApiError::bad_request("missing_field", "form field `file` is required"))?;
    let (format, dims) = check_upload(s, &kind, &file).await?;
    let blob_key = s.blobs.put(&file).await.map_err(ApiError::from)?;
    let (owner_id, actor) = match owner {
        Owner::Case(id) | Owner::ChangeRequest(id) => (id, "api"),
    };
    let doc = DocumentData {
        case_id: owner_id.into(),
        kind,
        side,
        blob_key: blob_key.clone(),
        content_type: format.content_type().into(),
        size_bytes: file.len() as i64,
        sha256: hex::encode(Sha256::digest(&file)),
        width: dims.map(|d| i64::from(d.0)),
        height: dims.map(|d| i64::from(d.1)),
    };
    let added = match owner {
        Owner::Case(_) => s.store.add_document(doc, actor).await,
        Owner::ChangeRequest(_) => s.store.add_change_document(doc, actor).await,
    };
    match added {
        Ok(a) => {
            for old in &a.replaced {
                let _ = s.blobs.delete(&old.data.blob_key).await;
            }
            Ok(a)
        }
        Err(e) => {
            let _ = s.blobs.delete(&blob_key).await;
            Err(e.into())
        }
    }
}

async fn store_upload(s: &AppState, case_id: &str, multipart: Multipart) -> ApiResult<Response> {
    draft_case(s, case_id, "documents can only be added before submitting").await?;
    let added = keep_upload(s, Owner::Case(case_id), multipart, DOCUMENT_KINDS).await?;
    let replaces = added.replaced.first().map(|d| d.id.clone());
    let mut out = serde_json::to_value(DocumentOut::from(added.document))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    out["replaces"] = json!(replaces);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// Removes a wrong upload from a draft case.
async fn delete_document(
    State(s): State<Shared>,
    Path((id, doc)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let removed = s.store.delete_document(&id, &doc, "api").await?;
    let _ = s.blobs.delete(&removed.data.blob_key).await;
    Ok(StatusCode::NO_CONTENT)
}
