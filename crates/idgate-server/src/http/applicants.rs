//! Applicants: `POST /v1/applicants`, `GET /v1/applicants/{id}` and what an account may do
//! (`GET /v1/entitlements/{uid}`).

use crate::http::error::{parse_json, ApiError, ApiResult};
use crate::state::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

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

pub async fn create_applicant(
    State(s): State<Shared>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: NewApplicant = parse_json(&body)?;
    if !crate::validate::identifier(&req.uid) {
        return Err(ApiError::bad_request(
            "invalid_uid",
            "uid: 1-128 characters of letters, digits and - _ . : @",
        ));
    }
    crate::validate::region(&req.region)?;
    let a = s.store.create_applicant(&req.uid, &req.region).await?;
    Ok((StatusCode::CREATED, Json(ApplicantOut::from(a))).into_response())
}

/// What a platform account may do now, from the steps it verified.
pub async fn get_entitlements(
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
pub async fn get_applicant(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let a = s
        .store
        .applicant(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("applicant"))?;
    let verified = match s.store.verified_data_key(&id).await? {
        Some(k) => Some(crate::http::cases::read_entered(&s, &k).await?),
        None => None,
    };
    let mut out = serde_json::to_value(ApplicantOut::from(a))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    out["verified_data"] = json!(verified);
    Ok(Json(out))
}
