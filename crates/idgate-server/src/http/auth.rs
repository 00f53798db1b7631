//! Who is calling: the platform by its API key (`idg_...`), a reviewer by a personal token
//! (`idr_...`), both checked against their stored digests ([`crate::credentials`]).

use crate::credentials::{hash_api_key, hash_token};
use crate::http::error::ApiError;
use crate::state::Shared;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The credential of `Authorization: Bearer ...`, when there is one.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

pub async fn require_api_key(State(s): State<Shared>, mut req: Request, next: Next) -> Response {
    let headers = req.headers();
    let key = bearer(headers).or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    let Some(key) = key else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing API key (Authorization: Bearer ...)",
        )
        .into_response();
    };
    match s.store.api_key_by_hash(&hash_api_key(key)).await {
        Ok(Some(key)) => {
            let now = s.store.now();
            match s
                .rate
                .api_keys
                .take(&key.id, s.limits.api_key_per_minute, now)
            {
                Ok(()) => {
                    // Who acted, for audit entries (the key's id, never the key).
                    req.extensions_mut().insert(key);
                    next.run(req).await
                }
                Err(wait_ms) => {
                    s.metrics.rate_limited();
                    ApiError::rate_limited(wait_ms, now).into_response()
                }
            }
        }
        Ok(None) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "unknown or revoked API key",
        )
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Lets a request through with a valid reviewer token, or with the console's session
/// cookie (fully signed in; CSRF token checked on state changes); the reviewer rides in the
/// request's extensions, and the console session with it when that is how they came.
pub async fn require_reviewer(State(s): State<Shared>, mut req: Request, next: Next) -> Response {
    let token = bearer(req.headers());
    if token.is_none() && crate::http::console::cookie_token(req.headers()).is_some() {
        return match crate::http::console::session_of(&s, req.method(), req.headers()).await {
            Ok(Some(sess)) if sess.stage == idgate_store::SessionStage::Full => {
                req.extensions_mut().insert(sess.reviewer.clone());
                req.extensions_mut().insert(sess);
                next.run(req).await
            }
            Ok(_) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "sign_in_incomplete",
                "finish signing in to the console first",
            )
            .into_response(),
            Err(e) => e.into_response(),
        };
    }
    let Some(token) = token else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing reviewer token (Authorization: Bearer idr_...)",
        )
        .into_response();
    };
    match s.store.reviewer_by_token_hash(&hash_token(token)).await {
        Ok(Some(r)) => {
            req.extensions_mut().insert(r);
            next.run(req).await
        }
        Ok(None) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "unknown or disabled reviewer token",
        )
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
