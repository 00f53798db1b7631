//! Reviewers and business applicants: `GET /v1/review/businesses/{id}` (the business as the
//! platform sees it), a page of an entity document (decrypted, the view audited), each
//! document accepted or rejected, and the decision: approve (only when every needed
//! document is accepted, every person verified and the ownership complete), ask for a
//! resubmission, or reject. Auditors read only.

use crate::http::auth::require_reviewer;
use crate::http::businesses::{bad, business_view, kyb_error};
use crate::http::error::{parse_json, ApiError, ApiResult};
use crate::http::review::{actor, may_act};
use crate::state::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use idgate_core::BusinessEvent;
use idgate_store::Reviewer;
use serde::Deserialize;
use serde_json::Value;

pub fn routes(state: Shared) -> Router<Shared> {
    Router::new()
        .route("/v1/review/businesses/{id}", get(detail))
        .route(
            "/v1/review/businesses/{id}/documents/{doc}/pages/{page}",
            get(page),
        )
        .route(
            "/v1/review/businesses/{id}/documents/{doc}/decision",
            post(judge_document),
        )
        .route("/v1/review/businesses/{id}/decision", post(decide))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            require_reviewer,
        ))
}

async fn detail(State(s): State<Shared>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(business_view(&s, &id).await?))
}

async fn page(
    State(s): State<Shared>,
    Extension(r): Extension<Reviewer>,
    Path((id, doc, page)): Path<(String, String, i64)>,
) -> ApiResult<Response> {
    let docs = s.store.business_documents(&id).await?;
    let p = docs
        .into_iter()
        .find(|d| d.id == doc)
        .and_then(|d| d.pages.into_iter().find(|p| p.page == page))
        .ok_or_else(|| ApiError::not_found("page"))?;
    let bytes = s.blobs.get(&p.blob_key).await?;
    s.store
        .log_action(&id, &actor(&r), "document_viewed")
        .await?;
    Ok(crate::http::evidence::image_response(p.content_type, bytes))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Judgement {
    /// `accept` or `reject`.
    decision: String,
    /// To the business: why a document was rejected.
    #[serde(default)]
    note: Option<String>,
}

async fn judge_document(
    State(s): State<Shared>,
    Extension(r): Extension<Reviewer>,
    Path((id, doc)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    may_act(&r)?;
    let req: Judgement = parse_json(&body)?;
    let accepted = match req.decision.as_str() {
        "accept" => true,
        "reject" => false,
        _ => return Err(bad("invalid_decision", "decision: accept or reject")),
    };
    if let Some(n) = &req.note {
        crate::validate::text("invalid_note", "note", n, 2000)?;
    }
    if !accepted && req.note.is_none() {
        return Err(bad(
            "missing_note",
            "note: say why the document is rejected (the business is shown it)",
        ));
    }
    s.store
        .judge_business_document(&id, &doc, accepted, &actor(&r), req.note.as_deref())
        .await?;
    Ok(Json(business_view(&s, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    /// `approve`, `resubmit` or `reject`.
    decision: String,
}

async fn decide(
    State(s): State<Shared>,
    Extension(r): Extension<Reviewer>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    may_act(&r)?;
    let req: Decision = parse_json(&body)?;
    let event = match req.decision.as_str() {
        "approve" => BusinessEvent::Approve,
        "resubmit" => BusinessEvent::RequestResubmission,
        "reject" => BusinessEvent::Reject,
        _ => {
            return Err(bad(
                "invalid_decision",
                "decision: approve, resubmit or reject",
            ))
        }
    };
    let snap = crate::kyb::snapshot(&s, &id).await.map_err(kyb_error)?;
    let (findings, _) = snap.evaluate(&s);
    if event == BusinessEvent::Approve {
        if let Err(codes) = snap.approvable(&s) {
            let codes: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "not_approvable",
                format!(
                    "approval needs every required document accepted, every person verified \
                     and the ownership complete; still open: {}",
                    codes.join(", ")
                ),
            ));
        }
    }
    s.store
        .transition_business(
            &id,
            event,
            &actor(&r),
            &crate::kyb::findings_json(&findings).to_string(),
            Some(snap.business.updated_at),
        )
        .await?;
    Ok(Json(business_view(&s, &id).await?))
}
