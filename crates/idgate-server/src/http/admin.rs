//! What the platform administers: reviewer accounts and the webhook delivery log.

use crate::http::error::{parse_json, ApiError, ApiResult};
use crate::state::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idgate_core::ReviewerRole;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewReviewer {
    name: String,
    role: String,
}

fn reviewer_out(r: &idgate_store::Reviewer) -> serde_json::Value {
    json!({"id": r.id, "name": r.name, "role": r.role.as_str(),
           "created_at": idgate_core::rfc3339(r.created_at),
           "disabled_at": r.disabled_at.map(idgate_core::rfc3339)})
}

/// A reviewer account's name and role as given: the name an identifier, the role one of
/// [`ReviewerRole::ALL`].
pub(crate) fn account(name: &str, role: &str) -> ApiResult<ReviewerRole> {
    if !crate::validate::identifier(name) {
        return Err(ApiError::bad_request(
            "invalid_name",
            "name: 1-128 characters of letters, digits and - _ . : @",
        ));
    }
    ReviewerRole::parse(role).ok_or_else(|| {
        let roles: Vec<&str> = ReviewerRole::ALL.iter().map(|r| r.as_str()).collect();
        ApiError::bad_request(
            "invalid_role",
            format!("role must be one of {}", roles.join(", ")),
        )
    })
}

/// Creates a reviewer account; its token is in this answer only.
pub async fn create_reviewer(
    State(s): State<Shared>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: NewReviewer = parse_json(&body)?;
    let role = account(&req.name, &req.role)?;
    let token = crate::credentials::generate_token();
    let r = s
        .store
        .create_reviewer(&req.name, role, &crate::credentials::hash_token(&token))
        .await?;
    let mut out = reviewer_out(&r);
    out["token"] = json!(token);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

pub async fn list_reviewers(State(s): State<Shared>) -> ApiResult<Json<serde_json::Value>> {
    let list: Vec<_> = s
        .store
        .reviewers()
        .await?
        .iter()
        .map(reviewer_out)
        .collect();
    Ok(Json(json!({ "reviewers": list })))
}

pub async fn disable_reviewer(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.store.disable_reviewer(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The delivery log: newest deliveries first, each with its attempts.
pub async fn list_deliveries(State(s): State<Shared>) -> ApiResult<Json<serde_json::Value>> {
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

pub async fn redeliver(State(s): State<Shared>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.store.redeliver_webhook(&id).await?;
    Ok(StatusCode::ACCEPTED)
}
