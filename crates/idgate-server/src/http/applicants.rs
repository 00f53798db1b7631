//! Applicants: `POST /v1/applicants`, `GET /v1/applicants/{id}`, `DELETE
//! /v1/applicants/{id}` (erasure by destroying the applicant's key) and what an account
//! may do (`GET /v1/entitlements/{uid}`).

use crate::http::error::{parse_json, ApiError, ApiResult};
use crate::state::Shared;
use axum::extract::{Extension, Path, State};
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
    erased_at: Option<String>,
}

impl From<idgate_store::Applicant> for ApplicantOut {
    fn from(a: idgate_store::Applicant) -> Self {
        ApplicantOut {
            id: a.id,
            uid: a.uid,
            region: a.region,
            created_at: idgate_core::rfc3339(a.created_at),
            erased_at: a.erased_at.map(idgate_core::rfc3339),
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
        Some(_) if a.erased_at.is_some() => None,
        Some(k) => Some(crate::http::cases::read_entered(&s, &k).await?),
        None => None,
    };
    let mut out = serde_json::to_value(ApplicantOut::from(a))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    out["verified_data"] = json!(verified);
    Ok(Json(out))
}

/// `DELETE /v1/applicants/{id}`: erases the applicant. Their key is destroyed first
/// (crypto-shredding: every image, entered data, face and frame of theirs, in the store
/// and in any copy of it, can no longer be opened), then the objects themselves are
/// deleted. The identity keys, decisions and audit trail stay for the AML period, and
/// the erasure itself is recorded. Refused while a case is being decided. Repeating it
/// finishes what an interrupted one left.
pub async fn erase_applicant(
    State(s): State<Shared>,
    Path(id): Path<String>,
    Extension(key): Extension<idgate_store::ApiKey>,
) -> ApiResult<Json<serde_json::Value>> {
    let erasure = match s
        .store
        .erase_applicant(&id, &format!("api_key:{}", key.id))
        .await
    {
        Ok(e) => e,
        Err(idgate_store::StoreError::Conflict(msg)) => {
            return Err(ApiError::new(StatusCode::CONFLICT, "case_in_progress", msg))
        }
        Err(e) => return Err(e.into()),
    };
    // Not a UUID: an applicant made by another tool, whose objects have no owner's key;
    // they are deleted below.
    let owned = uuid::Uuid::parse_str(&id).is_ok();
    if owned {
        s.blobs.erase_owner(&id).await?;
    }
    let (deleted, failed) = s.blobs.delete_each(&erasure.objects).await;
    s.metrics.erased(failed);
    tracing::info!(objects = deleted, failed, "applicant erased");
    Ok(Json(json!({
        "id": id,
        "erased_at": idgate_core::rfc3339(erasure.at),
        "key_destroyed": owned,
        "objects_deleted": deleted,
        "objects_not_deleted": failed,
    })))
}
