//! The HTTP API, one module per resource; this module is the router and the middleware
//! every route shares. Request and response types live in the resource modules, not in
//! the core.

pub mod admin;
pub mod applicants;
pub mod assets;
pub mod auth;
pub mod business_documents;
pub mod business_review;
pub mod businesses;
pub mod cases;
pub mod catalog;
pub mod changes;
pub mod console;
pub mod console_admin;
pub mod console_page;
pub mod console_signin;
pub mod documents;
pub mod error;
pub mod evidence;
pub mod flow;
pub mod follow;
pub mod liveness;
pub mod openapi;
pub mod openapi_kyb;
pub mod passkeys;
pub mod queue;
pub mod review;
pub mod screening;
pub mod sessions;

use crate::state::Shared;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
pub use error::{ApiError, ApiResult};
use serde_json::json;

pub fn app(state: Shared) -> Router {
    let upload_limit = state.limits.max_upload_bytes + 64 * 1024;
    // Requests carrying files wait for a turn ([`crate::admission`]).
    let turn = || middleware::from_fn_with_state(state.clone(), take_turn);
    let v1 = Router::new()
        .route("/v1/applicants", post(applicants::create_applicant))
        .route(
            "/v1/applicants/{id}",
            get(applicants::get_applicant).delete(applicants::erase_applicant),
        )
        .route("/v1/entitlements/{uid}", get(applicants::get_entitlements))
        .route("/v1/applicants/{id}/cases", post(cases::create_case))
        .route("/v1/cases/{id}", get(cases::get_case))
        .route("/v1/cases/{id}/events", get(cases::get_events))
        .route("/v1/cases/{id}/submit", post(cases::submit_case))
        .route(
            "/v1/cases/{id}/data",
            axum::routing::put(cases::put_case_data),
        )
        .route("/v1/applicants/{id}/sessions", post(sessions::create))
        .route(
            "/v1/applicants/{id}/sessions/{session}",
            axum::routing::delete(sessions::revoke),
        )
        .route("/v1/applicants/{id}/change-requests", post(changes::create))
        .route("/v1/change-requests/{id}", get(changes::get))
        .route(
            "/v1/change-requests/{id}/documents",
            post(changes::upload)
                .layer(DefaultBodyLimit::max(upload_limit))
                .layer(turn()),
        )
        .route("/v1/change-requests/{id}/submit", post(changes::submit))
        .route(
            "/v1/reviewers",
            post(admin::create_reviewer).get(admin::list_reviewers),
        )
        .route(
            "/v1/reviewers/{id}",
            axum::routing::delete(admin::disable_reviewer),
        )
        .route(
            "/v1/reviewer-invites",
            post(console_admin::invite_by_platform),
        )
        .route("/v1/businesses", post(businesses::create))
        .route("/v1/businesses/{id}", get(businesses::get))
        .route("/v1/businesses/{id}/parties", post(businesses::add_party))
        .route(
            "/v1/businesses/{id}/submit",
            post(business_documents::submit),
        )
        .route(
            "/v1/businesses/{id}/parties/{party}",
            axum::routing::delete(businesses::remove_party),
        )
        .route(
            "/v1/businesses/{id}/parties/{party}/invitation",
            post(businesses::invite),
        )
        .route(
            "/v1/businesses/{id}/relations",
            post(businesses::add_relation),
        )
        .route(
            "/v1/businesses/{id}/relations/{relation}",
            axum::routing::delete(businesses::remove_relation),
        )
        .route("/v1/lists", get(screening::lists))
        .route("/v1/screening/search", post(screening::search))
        .route("/v1/webhooks/deliveries", get(admin::list_deliveries))
        .route(
            "/v1/webhooks/deliveries/{id}/redeliver",
            post(admin::redeliver),
        )
        .route(
            "/v1/cases/{id}/documents",
            post(documents::upload_document)
                .layer(DefaultBodyLimit::max(upload_limit))
                .layer(turn()),
        )
        .route(
            "/v1/cases/{id}/documents/{doc}",
            axum::routing::delete(documents::delete_document),
        )
        .route(
            "/v1/precheck",
            post(documents::precheck)
                .layer(DefaultBodyLimit::max(upload_limit))
                .layer(turn()),
        )
        .route(
            "/v1/businesses/{id}/documents",
            post(business_documents::upload_document)
                .layer(DefaultBodyLimit::max(
                    business_documents::BODY_UPLOADS * upload_limit,
                ))
                .layer(turn()),
        )
        .route("/v1/cases/{id}/liveness", post(liveness::issue))
        .route(
            "/v1/cases/{id}/liveness/{challenge}",
            post(liveness::answer)
                .layer(DefaultBodyLimit::max(liveness::MAX_BODY_BYTES))
                .layer(turn()),
        )
        .route(
            "/v1/cases/{id}/liveness/{challenge}/guide",
            post(liveness::guide).layer(DefaultBodyLimit::max(liveness::MAX_FRAME_BYTES + 1024)),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_api_key,
        ));
    // The hosted flow's API: the same case handlers, for the session's applicant and
    // current case only.
    let flow = Router::new()
        .route("/flow/v1/session", get(sessions::get_session))
        .route("/flow/v1/qr", get(sessions::qr))
        .route("/flow/v1/cases", post(sessions::open_case))
        .route("/flow/v1/cases/{id}", get(cases::get_case))
        .route("/flow/v1/events", get(follow::events))
        .route(
            "/flow/v1/cases/{id}/data",
            axum::routing::put(cases::put_case_data).get(sessions::entered),
        )
        .route(
            "/flow/v1/cases/{id}/documents",
            post(documents::upload_document)
                .layer(DefaultBodyLimit::max(upload_limit))
                .layer(turn()),
        )
        .route(
            "/flow/v1/cases/{id}/documents/{doc}",
            axum::routing::delete(documents::delete_document),
        )
        .route("/flow/v1/cases/{id}/submit", post(cases::submit_case))
        .route("/flow/v1/cases/{id}/liveness", post(liveness::issue))
        .route(
            "/flow/v1/cases/{id}/liveness/{challenge}",
            post(liveness::answer)
                .layer(DefaultBodyLimit::max(liveness::MAX_BODY_BYTES))
                .layer(turn()),
        )
        .route(
            "/flow/v1/cases/{id}/liveness/{challenge}/guide",
            post(liveness::guide).layer(DefaultBodyLimit::max(liveness::MAX_FRAME_BYTES + 1024)),
        )
        .route(
            "/flow/v1/precheck",
            post(documents::precheck)
                .layer(DefaultBodyLimit::max(upload_limit))
                .layer(turn()),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            sessions::require_session,
        ));
    Router::new()
        .route("/flow", get(flow::page))
        .route("/console", get(console_page::page))
        .route("/console/assets/{name}", get(console_page::asset))
        .route("/flow/assets/{name}", get(flow::asset))
        .merge(flow)
        .route("/v1/catalog", get(catalog::get_catalog))
        .route("/v1/reasons", get(catalog::get_reasons))
        .route("/v1/catalog/{country}", get(catalog::get_catalog_country))
        .route("/healthz", get(readyz))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(|| async { Json(openapi::document()) }))
        .merge(v1)
        .merge(review::routes(state.clone()))
        .merge(business_review::routes(state.clone()))
        .merge(console_routes(state.clone()))
        .fallback(|| async { ApiError::not_found("route") })
        .layer(middleware::from_fn_with_state(state.clone(), announce))
        .layer(middleware::from_fn(shape_errors))
        .layer(middleware::from_fn(secure_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_responses,
        ))
        .with_state(state)
}

/// The turn a request carrying files waits for ([`crate::admission`]), held until it is
/// answered; its body must arrive within [`crate::admission::READ_WITHIN`].
async fn take_turn(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let turns = s.uploads.turns(s.limits.uploads_at_once);
    let turn = match turns.try_acquire() {
        Ok(turn) => turn,
        Err(_) => {
            crate::metrics::inc(&s.metrics.uploads_waited);
            turns
                .acquire()
                .await
                .expect("upload turns are never closed")
        }
    };
    let deadline = tokio::time::Instant::now() + crate::admission::READ_WITHIN;
    let req = req.map(|body| crate::admission::within(body, deadline));
    let res = next.run(req).await;
    drop(turn);
    res
}

/// After a request that changed something went through, the cases and applicants its
/// path names are announced to whoever follows them (the applicant's page).
async fn announce(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let path = (!req.method().is_safe()).then(|| req.uri().path().to_string());
    let res = next.run(req).await;
    if let Some(path) = path.filter(|_| res.status().is_success()) {
        for id in crate::live::touched(&path) {
            s.live.touch(id);
        }
    }
    res
}

/// Headers every answer carries unless its handler set its own (the pages set their own
/// policy; images theirs): no type sniffing, no referrer; and the API's answers, which
/// hold personal data, are never framed nor cached by a browser or a proxy.
async fn secure_headers(req: Request, next: Next) -> Response {
    let api = {
        let p = req.uri().path();
        p.starts_with("/v1/") || p.starts_with("/flow/v1/") || p.starts_with("/console/v1/")
    };
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let mut default = |name: header::HeaderName, value: &'static str| {
        h.entry(name)
            .or_insert(axum::http::HeaderValue::from_static(value));
    };
    default(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    default(header::REFERRER_POLICY, "no-referrer");
    if api {
        // Not on the pages: the applicant's page may be framed by the embedding origins
        // its own policy names.
        default(header::X_FRAME_OPTIONS, "DENY");
        default(header::CACHE_CONTROL, "no-store");
        default(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        );
    }
    res
}

/// The reviewer console's routes (`/console/v1`): the sign-in ones open to anyone (each
/// throttled), the others behind the session cookie; every one refuses another site's
/// state change.
fn console_routes(state: Shared) -> Router<Shared> {
    use console_admin::*;
    use console_signin::*;
    let with_session = Router::new()
        .route("/console/v1/me", get(me))
        .route("/console/v1/meta", get(console_page::meta))
        .route("/console/v1/sign-out", post(sign_out))
        .route("/console/v1/sign-in/second-factor", post(second_factor))
        .route("/console/v1/totp/enrol", post(totp_enrol))
        .route("/console/v1/totp/confirm", post(totp_confirm))
        .route("/console/v1/reauth", post(reauth))
        .route("/console/v1/invites", post(invite_by_admin))
        .route("/console/v1/reviewers", get(list_reviewers))
        .route(
            "/console/v1/reviewers/{id}",
            axum::routing::delete(disable_reviewer),
        )
        .route("/console/v1/security-events", get(security_events))
        .route(
            "/console/v1/passkeys/register/start",
            post(passkeys::register_start),
        )
        .route(
            "/console/v1/passkeys/register/finish",
            post(passkeys::register_finish),
        )
        .route("/console/v1/passkeys", get(passkeys::list))
        .route(
            "/console/v1/passkeys/{id}",
            axum::routing::delete(passkeys::remove),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            console::require_session,
        ));
    Router::new()
        .route("/console/v1/sign-in", post(sign_in))
        .route("/console/v1/invites/inspect", post(inspect_invite))
        .route("/console/v1/invites/accept", post(accept_invite))
        .route(
            "/console/v1/passkeys/sign-in/start",
            post(passkeys::sign_in_start),
        )
        .route(
            "/console/v1/passkeys/sign-in/finish",
            post(passkeys::sign_in_finish),
        )
        .merge(with_session)
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            console::same_origin,
        ))
}

/// Every error answer in the API's shape: the router's own 404 and 405, body-limit 413s and
/// extractor rejections come as plain text or empty bodies; this rewrites any error
/// response that is not JSON into `{"error": {"code", "message"}}` with a stable code.
async fn shape_errors(req: Request, next: Next) -> Response {
    let file_route = {
        let p = req.uri().path();
        p.ends_with("/documents") || p.ends_with("/precheck") || p.contains("/liveness/")
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

async fn count_responses(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    s.metrics.count_status(res.status().as_u16());
    res
}

/// The routes of a worker process (`--role worker`): an orchestrator's probes and the
/// metrics, nothing of the API.
pub fn health(state: Shared) -> Router {
    Router::new()
        .route("/healthz", get(readyz))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::not_found("route") })
        .with_state(state)
}

/// Liveness: the process answers (an orchestrator restarts it when it does not). Nothing
/// outside the process is asked, so a database outage does not restart every instance.
async fn livez() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness (and `/healthz`): the database and the object store answer and the models
/// are loaded; 503 naming what is not, so an orchestrator sends no traffic meanwhile.
async fn readyz(State(s): State<Shared>) -> Response {
    let database = s.store.ping().await;
    let blobs = s.blobs.ping().await;
    let models = s.ocr().is_ok() && s.faces().is_ok();
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    if let Err(e) = &database {
        tracing::error!(error = %e, "readiness: database unreachable");
    }
    if let Err(e) = &blobs {
        tracing::error!(error = %e, "readiness: object store unreachable");
    }
    let ready = database.is_ok() && blobs.is_ok() && models;
    let body = json!({
        "status": if ready { "ok" } else { "unavailable" },
        "checks": {"database": word(database.is_ok()), "blobs": word(blobs.is_ok()), "models": word(models)},
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn metrics(State(s): State<Shared>) -> ApiResult<Response> {
    let (queued, running) = s.store.queue_depth().await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(queued, running),
    )
        .into_response())
}
