//! Change requests to verified data, over HTTP (their checks are the pipeline's:
//! [`idgate_pipeline::Pipeline::check_change_request`]).
//!
//! After approval an applicant's verified data changes only through a change request. What
//! it needs follows from which fields change ([`changed_fields`]):
//!
//! * a request that changes nothing is refused (422 `no_change`);
//! * an address or subdivision goes straight to the reviewers (one approval);
//! * identity fields (name, birth date, nationality, document) need the new document:
//!   `POST /v1/change-requests/{id}/documents` then `.../submit`. A worker runs the checks
//!   the new data needs: the photo checks and the MRZ, the new data against the
//!   new document (names, dates, numbers, nationality rules, the catalog, the minimum age),
//!   the new identity keys against other accounts, and the new document's portrait against
//!   the face the account verified. RETRY findings send it back for another document,
//!   FINAL ones refuse it, otherwise two different reviewers must approve it.
//!
//! The final approval verifies the new identity keys for the account (the earlier ones
//! stay bound to it), in the same transaction as the new verified data.

use crate::http::cases::read_entered;
use crate::http::documents::{keep_upload, Accepts, Owner};
use crate::http::error::{parse_json, ApiError, ApiResult};
use crate::state::{AppState, Shared};
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idgate_core::{ChangeStatus, Lang};
use idgate_pipeline::EnteredData;
use idgate_store::{ChangeRequest, NewChange};
use serde::Deserialize;
use serde_json::{json, Value};

/// Fields whose change needs a new document and two reviewers.
pub const IDENTITY_FIELDS: &[&str] = &[
    "name.given",
    "name.family",
    "name.local",
    "birth_date",
    "nationality",
    "document.country",
    "document.type",
    "document.number",
];

/// Spaces collapsed, ends trimmed: what a person would call the same text.
fn norm(s: Option<&str>) -> String {
    s.unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The fields of `new` that differ from `old` (a document number also ignoring case and
/// spaces, as the engine compares it).
pub fn changed_fields(old: &EnteredData, new: &EnteredData) -> Vec<String> {
    let number = |d: &EnteredData| idgate_decide::assess::normalise_number(&d.document.number);
    let pairs: [(&str, String, String); 10] = [
        (
            "name.given",
            norm(Some(&old.name.given)),
            norm(Some(&new.name.given)),
        ),
        (
            "name.family",
            norm(Some(&old.name.family)),
            norm(Some(&new.name.family)),
        ),
        (
            "name.local",
            norm(old.name.local.as_deref()),
            norm(new.name.local.as_deref()),
        ),
        (
            "birth_date",
            norm(old.birth_date.as_deref()),
            norm(new.birth_date.as_deref()),
        ),
        (
            "nationality",
            old.nationality.clone(),
            new.nationality.clone(),
        ),
        (
            "document.country",
            old.document.country.clone(),
            new.document.country.clone(),
        ),
        (
            "document.type",
            old.document.kind.clone(),
            new.document.kind.clone(),
        ),
        ("document.number", number(old), number(new)),
        (
            "address",
            norm(old.address.as_deref()),
            norm(new.address.as_deref()),
        ),
        (
            "subdivision",
            norm(old.subdivision.as_deref()),
            norm(new.subdivision.as_deref()),
        ),
    ];
    pairs
        .into_iter()
        .filter(|(_, a, b)| a != b)
        .map(|(f, _, _)| f.to_string())
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewChangeRequest {
    data: Value,
    reason: String,
}

/// `?lang=zh-Hans` picks the language of reason messages.
#[derive(Deserialize, Default)]
pub(crate) struct LangQuery {
    #[serde(default)]
    lang: Option<String>,
}

pub(crate) fn change_request_out(
    s: &AppState,
    cr: &ChangeRequest,
    lang: Lang,
) -> serde_json::Value {
    let reasons: Vec<Value> = cr
        .reasons
        .iter()
        .map(|&r| {
            json!({"code": r.as_str(), "reject_type": s.policy.reject_type(r).as_str(),
                   "message": r.message_in(lang), "fix": r.fix_in(lang)})
        })
        .collect();
    let needs: Vec<&str> = match cr.status {
        ChangeStatus::AwaitingDocuments => vec!["document"],
        ChangeStatus::Pending | ChangeStatus::AwaitingSecondApproval => vec!["reviewer"],
        _ => vec![],
    };
    json!({
        "id": cr.id,
        "applicant_id": cr.applicant_id,
        "reason": cr.reason,
        "status": cr.status.as_str(),
        "changes": cr.changes,
        "second_approval": cr.second_approval,
        "needs": needs,
        "reasons": reasons,
        "comment": cr.comment,
        "created_at": idgate_core::rfc3339(cr.created_at),
        "decided_at": cr.decided_at.map(idgate_core::rfc3339),
    })
}

/// `POST /v1/applicants/{id}/change-requests`: what changes decides what the request needs.
pub(crate) async fn create(
    State(s): State<Shared>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: NewChangeRequest = parse_json(&body)?;
    crate::validate::text("invalid_reason", "reason", &req.reason, 2000)?;
    let applicant = crate::http::cases::live_applicant(&s, &id).await?;
    let data = serde_json::to_vec(&req.data).map_err(|e| ApiError::internal(e.to_string()))?;
    let new: EnteredData = parse_json(&data)?;
    crate::validate::entered(&new, &applicant.region, s.today())?;
    new.application(&applicant.uid, &applicant.region, "basic")
        .map_err(|e| ApiError::bad_request("invalid_data", format!("{e:#}")))?;
    let Some(current_key) = s.store.verified_data_key(&id).await? else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "nothing is verified yet: correct the data in a new case instead",
        ));
    };
    let current = read_entered(&s, &current_key).await?;
    let changes = changed_fields(&current, &new);
    if changes.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_change",
            "the data is the same as the verified data; nothing would change",
        ));
    }
    if changes.iter().any(|f| f == "subdivision")
        && !s
            .policy
            .region_supported(&applicant.region, new.subdivision.as_deref())
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "region_not_supported",
            "verification is not offered in the new subdivision",
        ));
    }
    let identity = changes
        .iter()
        .any(|f| IDENTITY_FIELDS.contains(&f.as_str()));
    let bytes = serde_json::to_vec(&new).map_err(|e| ApiError::internal(e.to_string()))?;
    let key = s
        .blobs
        .put(idgate_store::Owner::Applicant(&applicant.id), &bytes)
        .await?;
    let created = s
        .store
        .create_change_request(
            &NewChange {
                applicant_id: &id,
                data_key: &key,
                reason: req.reason.trim(),
                changes: &changes,
                identity,
                findings: "[]",
                reasons: &[],
            },
            "api",
        )
        .await;
    match created {
        Ok(cr) => Ok((
            StatusCode::CREATED,
            Json(change_request_out(&s, &cr, Lang::En)),
        )
            .into_response()),
        Err(e) => {
            let _ = s.blobs.delete(&key).await;
            Err(e.into())
        }
    }
}

pub(crate) async fn get(
    State(s): State<Shared>,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<LangQuery>,
) -> ApiResult<Json<Value>> {
    let cr = s
        .store
        .change_request(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("change request"))?;
    let lang = Lang::from_tag(q.lang.as_deref().unwrap_or("en"));
    Ok(Json(change_request_out(&s, &cr, lang)))
}

/// `POST /v1/change-requests/{id}/documents`: the new identity document's pages, checked
/// like a case's uploads.
pub(crate) async fn upload(
    State(s): State<Shared>,
    Path(id): Path<String>,
    multipart: Multipart,
) -> ApiResult<Response> {
    let cr = s
        .store
        .change_request(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("change request"))?;
    if cr.status != ChangeStatus::AwaitingDocuments {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_state",
            format!(
                "the change request is {}; it takes no documents now",
                cr.status
            ),
        ));
    }
    let added = keep_upload(
        &s,
        Owner::ChangeRequest(&id),
        &cr.applicant_id,
        multipart,
        Accepts::IdentityDocuments,
    )
    .await?;
    let d = added.document;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": d.id, "kind": d.data.kind, "side": d.data.side,
                    "content_type": d.data.content_type, "size_bytes": d.data.size_bytes,
                    "replaces": added.replaced.first().map(|r| r.id.clone())})),
    )
        .into_response())
}

/// `POST /v1/change-requests/{id}/submit`: the checks run on a worker.
pub(crate) async fn submit(State(s): State<Shared>, Path(id): Path<String>) -> ApiResult<Response> {
    let cr = s.store.submit_change_request(&id, "api").await?;
    s.jobs_ready.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(change_request_out(&s, &cr, Lang::En)),
    )
        .into_response())
}
