//! Reviewer invitations (by the platform or an admin; single use, expiring; the account is
//! made when the link is used) and the admin's pages: accounts and the security log.

use crate::credentials::hash_token;
use crate::http::console::{
    admin, hash_password, log_by, random_hex, require_fresh, stage_after_password, start_session,
    Address,
};
use crate::http::error::{parse_json, ApiError, ApiResult};
use crate::signin;
use crate::state::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use idgate_store::ConsoleSession;
use serde::Deserialize;
use serde_json::{json, Value};

// ---- invitations ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewInvite {
    name: String,
    role: String,
    #[serde(default)]
    ttl_secs: Option<u64>,
}

/// Creates an invitation for `created_by`; the link is in this answer only.
pub(crate) async fn create_invite(
    s: &Shared,
    req: NewInvite,
    created_by: &str,
) -> ApiResult<Value> {
    let role = crate::http::admin::account(&req.name, &req.role)?;
    let max = s.console.invite_ttl_secs;
    let ttl = req.ttl_secs.unwrap_or(max);
    if ttl == 0 || ttl > max {
        return Err(ApiError::bad_request(
            "invalid_ttl",
            format!("ttl_secs: 1 to {max}"),
        ));
    }
    let token = format!("idi_{}", random_hex(32));
    let inv = s
        .store
        .create_invite(
            &req.name,
            role,
            &hash_token(&token),
            created_by,
            ttl as i64 * 1000,
        )
        .await?;
    Ok(json!({
        "id": inv.id,
        "name": inv.name,
        "role": inv.role.as_str(),
        "expires_at": idgate_core::rfc3339(inv.expires_at),
        "token": token,
        "url": format!("{}/console#invite={token}", s.flow.public_url),
    }))
}

/// `POST /v1/reviewer-invites` (platform API key): how the first admin is made.
pub async fn invite_by_platform(
    State(s): State<Shared>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: NewInvite = parse_json(&body)?;
    let out = create_invite(&s, req, "platform").await?;
    s.store
        .security_event(
            "invite_created",
            out["name"].as_str().unwrap_or(""),
            None,
            "platform",
            out["role"].as_str().unwrap_or(""),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// `POST /console/v1/invites` (admin, fresh authentication).
pub(crate) async fn invite_by_admin(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
    Extension(Address(address)): Extension<Address>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    admin(&sess)?;
    require_fresh(&s, &sess)?;
    let req: NewInvite = parse_json(&body)?;
    let by = format!("reviewer:{}", sess.reviewer.name);
    let out = create_invite(&s, req, &by).await?;
    s.store
        .security_event(
            "invite_created",
            out["name"].as_str().unwrap_or(""),
            Some(&sess.reviewer.id),
            &address,
            out["role"].as_str().unwrap_or(""),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteToken {
    token: String,
}

async fn usable_invite(s: &Shared, token: &str) -> ApiResult<idgate_store::Invite> {
    let inv = s
        .store
        .invite_by_token_hash(&hash_token(token))
        .await?
        .ok_or_else(|| ApiError::not_found("invitation"))?;
    if inv.used_at.is_some() || s.store.now() >= inv.expires_at {
        return Err(invite_gone());
    }
    Ok(inv)
}

fn invite_gone() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "invite_used_or_expired",
        "this invitation was used or has expired; ask your administrator for a new one",
    )
}

/// `POST /console/v1/invites/inspect`: what an invitation is for (the page shows it
/// before the password is chosen). The token travels in the body, never in a URL.
pub(crate) async fn inspect_invite(
    State(s): State<Shared>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let t: InviteToken = parse_json(&body)?;
    let inv = usable_invite(&s, &t.token).await?;
    Ok(Json(json!({
        "name": inv.name,
        "role": inv.role.as_str(),
        "expires_at": idgate_core::rfc3339(inv.expires_at),
        "needs_second_factor": inv.role.needs_second_factor(),
        "min_password_chars": signin::MIN_PASSWORD_CHARS,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Accept {
    token: String,
    password: String,
}

/// `POST /console/v1/invites/accept`: the password for the new account; the invitation
/// is used up and a session starts at enrolment (or signed in, for an auditor).
pub(crate) async fn accept_invite(
    State(s): State<Shared>,
    Extension(Address(address)): Extension<Address>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let a: Accept = parse_json(&body)?;
    let inv = usable_invite(&s, &a.token).await?;
    if let Err(w) = signin::check_password(&a.password, &inv.name) {
        return Err(ApiError::bad_request(w.code, w.message));
    }
    let hash = hash_password(a.password).await?;
    let unused = hash_token(&crate::credentials::generate_token());
    let reviewer = s
        .store
        .accept_invite(&hash_token(&a.token), &hash, &unused)
        .await
        .map_err(|e| match e {
            idgate_store::StoreError::Gone(_) => invite_gone(),
            e => e.into(),
        })?;
    s.store
        .security_event(
            "invite_accepted",
            &reviewer.name,
            Some(&reviewer.id),
            &address,
            reviewer.role.as_str(),
        )
        .await?;
    let stage = stage_after_password(reviewer.role, false);
    let body = json!({"id": reviewer.id, "name": reviewer.name, "role": reviewer.role.as_str()});
    let mut res = start_session(&s, &reviewer, stage, None, body).await?;
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

// ---- administration ----

pub(crate) async fn list_reviewers(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
) -> ApiResult<Json<Value>> {
    admin(&sess)?;
    let list: Vec<Value> = s
        .store
        .reviewers()
        .await?
        .iter()
        .map(|r| {
            json!({"id": r.id, "name": r.name, "role": r.role.as_str(),
                   "created_at": idgate_core::rfc3339(r.created_at),
                   "disabled_at": r.disabled_at.map(idgate_core::rfc3339)})
        })
        .collect();
    Ok(Json(json!({ "reviewers": list })))
}

pub(crate) async fn disable_reviewer(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
    Extension(Address(address)): Extension<Address>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin(&sess)?;
    require_fresh(&s, &sess)?;
    if id == sess.reviewer.id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "own_account",
            "another administrator disables your account",
        ));
    }
    s.store.disable_reviewer(&id).await?;
    s.store.end_console_sessions_of(&id).await?;
    log_by(&s, &sess, "reviewer_disabled", &address, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /console/v1/security-events` (admin): the latest 200, newest first.
pub(crate) async fn security_events(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
) -> ApiResult<Json<Value>> {
    admin(&sess)?;
    let events: Vec<Value> = s
        .store
        .security_events(200)
        .await?
        .into_iter()
        .map(|e| {
            json!({"seq": e.seq, "at": idgate_core::rfc3339(e.at), "kind": e.kind,
                   "account": e.account, "reviewer_id": e.reviewer_id,
                   "address": e.address, "detail": e.detail})
        })
        .collect();
    Ok(Json(json!({ "events": events })))
}
