//! Applicant sessions: the hosted flow's credential.
//!
//! The platform asks for one with its API key (`POST /v1/applicants/{id}/sessions`) and
//! sends the applicant to the answered `url`; the token rides in the link's fragment, so it
//! reaches neither the server's logs nor a `Referer`. The page then calls the `/flow/v1`
//! routes with `Authorization: Bearer igs_...`: the same case handlers as the platform API,
//! limited by [`require_session`] to that applicant's current case. The page never holds
//! the platform key. A session is short-lived (`flow.session_ttl_secs`), revocable, and
//! works from any device that has the link (the second device continues the same case).

use crate::credentials::{generate_session_token, hash_token};
use crate::http::auth::bearer;
use crate::http::cases;
use crate::http::error::{parse_json, ApiError, ApiResult};
use crate::state::Shared;
use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use idgate_core::CaseStatus;
use idgate_store::ApplicantSession;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSession {
    /// Where the page sends the applicant when done; must be under an embedding origin.
    #[serde(default)]
    redirect_url: Option<String>,
    /// Shorter than the configured lifetime, never longer.
    #[serde(default)]
    ttl_secs: Option<u64>,
    /// The level the applicant is verified for: the page opens its cases at it (without
    /// one, at `basic`).
    #[serde(default)]
    level: Option<String>,
}

/// The page's link for a session token.
pub fn session_url(s: &crate::state::AppState, token: &str) -> String {
    format!("{}/flow#s={token}", s.flow.public_url)
}

pub async fn create(
    State(s): State<Shared>,
    Path(applicant_id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: NewSession = if body.is_empty() {
        NewSession::default()
    } else {
        parse_json(&body)?
    };
    Ok((
        StatusCode::CREATED,
        Json(issue(&s, &applicant_id, req).await?),
    )
        .into_response())
}

/// A session for the applicant (its link, token and expiry), as `create` answers it; a
/// business's invitation of a person among its parties issues one too.
pub(crate) async fn issue(
    s: &crate::state::AppState,
    applicant_id: &str,
    req: NewSession,
) -> ApiResult<serde_json::Value> {
    if let Some(url) = &req.redirect_url {
        let allowed = s
            .flow
            .embed_origins
            .iter()
            .any(|o| url == o || url.starts_with(&format!("{o}/")));
        if !allowed {
            return Err(ApiError::bad_request(
                "invalid_redirect_url",
                "redirect_url must be under one of the configured flow.embed_origins",
            ));
        }
    }
    if let Some(level) = req.level.as_deref() {
        if s.policy.level(level).is_none() {
            let names: Vec<&str> = s.policy.levels.iter().map(|l| l.name.as_str()).collect();
            return Err(ApiError::bad_request(
                "invalid_level",
                format!("level must be one of {}", names.join(", ")),
            ));
        }
    }
    let max = s.flow.session_ttl_secs;
    let ttl = match req.ttl_secs {
        Some(0) => {
            return Err(ApiError::bad_request(
                "invalid_ttl",
                "ttl_secs must be greater than 0",
            ))
        }
        Some(t) => t.min(max),
        None => max,
    };
    cases::live_applicant(s, applicant_id).await?;
    let token = generate_session_token();
    let session = s
        .store
        .create_session(
            applicant_id,
            &hash_token(&token),
            (ttl * 1000) as i64,
            req.redirect_url.as_deref(),
            req.level.as_deref(),
        )
        .await?;
    Ok(json!({
        "id": session.id,
        "applicant_id": session.applicant_id,
        "url": session_url(s, &token),
        "token": token,
        "expires_at": idgate_core::rfc3339(session.expires_at),
        "level": session.level,
    }))
}

pub async fn revoke(
    State(s): State<Shared>,
    Path((applicant_id, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    if s.store.revoke_session(&applicant_id, &id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("session"))
    }
}

fn unauthorized(code: &'static str, message: &str) -> Response {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message.to_string()).into_response()
}

/// Lets a request through with a usable session token, the session in its extensions.
/// A `/flow/v1/cases/{id}` route must name the session applicant's current case; a
/// `/flow/v1/applicants/{id}` route the applicant itself.
pub async fn require_session(State(s): State<Shared>, mut req: Request, next: Next) -> Response {
    let token = bearer(req.headers()).filter(|t| t.starts_with("igs_"));
    let Some(token) = token else {
        return unauthorized(
            "unauthorized",
            "missing session token (Authorization: Bearer igs_...)",
        );
    };
    let session = match s.store.session_by_token_hash(&hash_token(token)).await {
        Ok(Some(session)) => session,
        Ok(None) => return unauthorized("unauthorized", "unknown session token"),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if session.revoked_at.is_some() {
        return unauthorized("session_revoked", "this session was revoked");
    }
    if !session.usable_at(s.store.now()) {
        return unauthorized(
            "session_expired",
            "this session has expired; ask the platform for a new link",
        );
    }
    let now = s.store.now();
    if let Err(wait_ms) = s
        .rate
        .sessions
        .take(&session.id, s.limits.session_per_minute, now)
    {
        s.metrics.rate_limited();
        return ApiError::rate_limited(wait_ms, now).into_response();
    }
    let path = req.uri().path();
    let forbidden = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "not_this_session",
            "this session works only on its applicant's current case",
        )
        .into_response()
    };
    if let Some(rest) = path.strip_prefix("/flow/v1/cases/") {
        let case_id = rest.split('/').next().unwrap_or_default();
        match s.store.current_case(&session.applicant_id).await {
            Ok(Some(c)) if c.id == case_id => {}
            Ok(_) => return forbidden(),
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    req.extensions_mut().insert(session);
    next.run(req).await
}

/// `GET /flow/v1/qr`: the session's own link as a QR code (SVG), for a phone's camera to
/// carry on with the same session.
pub async fn qr(State(s): State<Shared>, headers: axum::http::HeaderMap) -> ApiResult<Response> {
    // `require_session` admitted this token.
    let token = bearer(&headers).unwrap_or_default();
    let code = qrcode::QrCode::with_error_correction_level(
        session_url(&s, token).as_bytes(),
        qrcode::EcLevel::M,
    )
    .map_err(|e| ApiError::internal(format!("QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}

/// `GET /flow/v1/session`: what the page starts from — the applicant's region, the levels'
/// steps, the current case (in the page's language), the embedding origins and where to
/// go back to.
pub async fn get_session(
    State(s): State<Shared>,
    Extension(session): Extension<ApplicantSession>,
    axum::extract::Query(q): axum::extract::Query<cases::LangQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let applicant = s
        .store
        .applicant(&session.applicant_id)
        .await?
        .ok_or_else(|| ApiError::not_found("applicant"))?;
    let current = s.store.current_case(&applicant.id).await?;
    // The document chosen on any device, so that another one carries on from it (the
    // entered values themselves stay on the server).
    let document = match current.as_ref().and_then(|c| c.data_key.clone()) {
        Some(key) => {
            let data = cases::read_entered(&s, &key).await?;
            Some(json!({"country": data.document.country, "type": data.document.kind}))
        }
        None => None,
    };
    // The version of the very case shown, so that a change after this read is still news.
    let version = crate::http::follow::version(&s, current.as_ref()).await?;
    let case = match current {
        Some(c) => Some(cases::case_json(&s, c, &q).await?),
        None => None,
    };
    let steps = idgate_pipeline::case::verified_steps(&s.store, &applicant.uid).await?;
    let levels: Vec<_> = s
        .policy
        .levels
        .iter()
        .map(|l| {
            json!({
                "name": l.name,
                "steps": l.requires.iter().map(|st| st.as_str()).collect::<Vec<_>>(),
                "missing": s.policy.missing_steps(l, &steps).iter().map(|st| st.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({
        "applicant": {"id": applicant.id, "region": applicant.region},
        "expires_at": idgate_core::rfc3339(session.expires_at),
        "case": case,
        "document": document,
        "levels": levels,
        "liveness_required": s.policy.liveness_required,
        "embed_origins": s.flow.embed_origins,
        "redirect_url": session.redirect_url,
        "level": session.level,
        "version": version,
    })))
}

/// `GET /flow/v1/cases/{id}/data`: what the applicant entered for the current draft, so
/// that the page shows it again when they go back (or carry on with another device)
/// instead of asking for it all again. Only while the case is a draft: once it is
/// submitted, the page has no reason to read it.
pub async fn entered(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<Json<idgate_pipeline::EnteredData>> {
    // `require_session` admitted only the session applicant's current case.
    let case = cases::draft_case(
        &s,
        &id,
        "the case was submitted; its data is no longer shown to the page",
    )
    .await?;
    let key = case
        .data_key
        .ok_or_else(|| ApiError::not_found("entered data"))?;
    Ok(Json(cases::read_entered(&s, &key).await?))
}

/// `POST /flow/v1/cases`: the applicant's current draft, or a new case when there is none
/// (first visit, or a resubmission after a decision that asks for one), at the level the
/// platform asked the session for (the page's body cannot choose another).
pub async fn open_case(
    State(s): State<Shared>,
    Extension(session): Extension<ApplicantSession>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    if let Some(c) = s.store.current_case(&session.applicant_id).await? {
        match c.status {
            CaseStatus::Draft => {
                return Ok(Json(cases::case_json(&s, c, &Default::default()).await?).into_response())
            }
            CaseStatus::ResubmissionRequested => {}
            _ => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "invalid_state",
                    "the current case is being checked or was decided; no new case now",
                ))
            }
        }
    }
    let body = match &session.level {
        Some(level) => axum::body::Bytes::from(json!({ "level": level }).to_string()),
        None => body,
    };
    let opened =
        cases::create_case(State(s.clone()), Path(session.applicant_id.clone()), body).await;
    // Any other device following this applicant moves to the new case.
    s.live.touch(&session.applicant_id);
    opened
}
