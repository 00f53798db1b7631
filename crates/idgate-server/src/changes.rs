//! Change requests to verified data, over HTTP, and their checks.
//!
//! After approval an applicant's verified data changes only through a change request. What
//! it needs follows from which fields change ([`changed_fields`]):
//!
//! * a request that changes nothing is refused (422 `no_change`);
//! * an address or subdivision goes straight to the reviewers (one approval);
//! * identity fields (name, birth date, nationality, document) need the new document:
//!   `POST /v1/change-requests/{id}/documents` then `.../submit`. A worker runs the checks
//!   the new data needs ([`check`]): the photo checks and the MRZ, the new data against the
//!   new document (names, dates, numbers, nationality rules, the catalog, the minimum age),
//!   the new identity keys against other accounts, and the new document's portrait against
//!   the face the account verified. RETRY findings send it back for another document,
//!   FINAL ones refuse it, otherwise two different reviewers must approve it.
//!
//! The final approval verifies the new identity keys for the account (the earlier ones
//! stay bound to it), in the same transaction as the new verified data.

use crate::api::{parse_json, ApiError, ApiResult, AppState, Shared};
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idgate_core::{ChangeChecks, ChangeStatus, Lang, ReasonCode, RejectType};
use idgate_decide::identity;
use idgate_decide::{Extracted, Finding, Outcome};
use idgate_pipeline::EnteredData;
use idgate_store::{ChangeCheckResult, ChangeRequest, NewChange, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

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
    let applicant = s
        .store
        .applicant(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("applicant"))?;
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
    let current = crate::review::read_entered(&s, &current_key).await?;
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
    let key = s.blobs.put(&bytes).await?;
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
    let added = crate::api::keep_upload(
        &s,
        crate::api::Owner::ChangeRequest(&id),
        multipart,
        crate::api::IDENTITY_KINDS,
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

/// The checks of a submitted change request (a worker's job): findings from the new
/// document and the new data, the new identity keys, and the outcome stored with them.
pub async fn check(state: &Shared, id: &str) -> Result<(), crate::worker::JobError> {
    use crate::worker::JobError;
    let Some(cr) = state.store.change_request(id).await? else {
        return Ok(());
    };
    if cr.status != ChangeStatus::Checking {
        return Ok(()); // checked already (a repeated job)
    }
    let applicant = state
        .store
        .applicant(&cr.applicant_id)
        .await?
        .ok_or(StoreError::NotFound { what: "applicant" })?;
    let new: EnteredData = serde_json::from_slice(&state.blobs.get(&cr.data_key).await?)
        .map_err(|_| JobError::Checks("stored change data unreadable".into()))?;
    let app = new
        .application(&applicant.uid, &applicant.region, "basic")
        .map_err(|e| JobError::Checks(format!("{e:#}")))?;
    let mut images = Vec::new();
    for d in state.store.change_documents(id).await? {
        let bytes = state.blobs.get(&d.data.blob_key).await?;
        if hex::encode(Sha256::digest(&bytes)) != d.data.sha256 {
            return Err(JobError::DigestMismatch);
        }
        images.push((d.data.side.clone(), bytes));
    }
    let mut face = None;
    for t in state.store.verified_faces_of(&cr.applicant_id).await? {
        let bytes = state.blobs.get(&t.blob_key).await?;
        if let Ok(d) = idgate_face::Descriptor::from_bytes(&bytes) {
            face = Some(d);
            break;
        }
    }
    let now_ms = state.store.now();
    let today = idgate_mrz::Date::from_unix_days(now_ms.div_euclid(86_400_000));
    let opts = state.check_options(today);
    let needs_mrz = idgate_decide::DocKind::parse(&app.document.kind)
        .is_some_and(|k| state.policy.has_mrz(&app.document.issuer, k));
    let st = state.clone();
    let (photo, portrait_findings) = tokio::task::spawn_blocking(move || {
        let photo =
            idgate_pipeline::photo::check_sides(&st.policy, st.ocr()?, &opts, &images, needs_mrz)?;
        let faces = portrait_against(&st, &opts, &images, face.as_ref())?;
        anyhow::Ok((photo, faces))
    })
    .await
    .map_err(|e| JobError::Checks(format!("check task: {e}")))?
    .map_err(|e| JobError::Checks(format!("{e:#}")))?;
    let (mut findings, extracted): (Vec<Finding>, Extracted) = photo;
    findings.extend(idgate_decide::assess::assess(
        &state.policy,
        &app,
        &extracted,
        today,
    ));
    findings.extend(portrait_findings);
    let keys = identity::keys(&state.identity_secret, &app, &extracted);
    let claims = idgate_pipeline::case::other_claims(&state.store, &keys, &applicant.uid).await?;
    findings.extend(identity::duplicate_findings(&state.policy, &claims));
    let checks = match idgate_decide::engine::outcome(&findings) {
        Outcome::Rejected => ChangeChecks::Refused,
        // A suspicion is never answered with a mere retake: a person sees it.
        Outcome::ResubmissionRequested
            if !findings
                .iter()
                .any(|f| state.policy.suspicion.codes.contains(&f.code)) =>
        {
            ChangeChecks::Retake
        }
        _ => ChangeChecks::Passed,
    };
    let reasons = idgate_decide::unique_codes(&findings);
    let keys: Vec<(String, String)> = keys
        .iter()
        .map(|k| (k.kind.as_str().to_string(), k.hash.clone()))
        .collect();
    state
        .store
        .record_change_checks(
            id,
            &ChangeCheckResult {
                checks,
                reasons: &reasons,
                findings: &idgate_pipeline::record::findings_json(&findings),
                identity_keys: &keys,
            },
        )
        .await?;
    Ok(())
}

/// The new document's portrait against the face the account verified: a new identity
/// document must show the same person.
fn portrait_against(
    st: &AppState,
    opts: &idgate_vision::check::CheckOptions,
    images: &[(String, Vec<u8>)],
    verified: Option<&idgate_face::Descriptor>,
) -> anyhow::Result<Vec<Finding>> {
    let Some(verified) = verified else {
        // No face was verified on this account (a level without a selfie): a reviewer
        // compares the documents.
        return Ok(vec![Finding::new(
            ReasonCode::ComplianceReview,
            RejectType::Review,
            "no verified face on the account to hold the new document's portrait against",
        )
        .about("document")]);
    };
    let models = st.faces()?;
    let flag = |code: ReasonCode, detail: String| {
        vec![Finding::new(code, st.policy.reject_type(code), detail).about("document")]
    };
    let Some(portrait) = idgate_pipeline::faces::document_portrait(models, opts.limits, images)?
    else {
        return Ok(flag(
            ReasonCode::FaceNotFound,
            "no portrait found on the new document".into(),
        ));
    };
    let t = idgate_face::Thresholds::default();
    let distance = portrait.descriptor.distance(verified);
    if distance > t.same_person_distance {
        let detail = json!({"similarity": idgate_face::similarity_of(distance),
                            "threshold": idgate_face::similarity_of(t.same_person_distance),
                            "against": "the face verified on this account"});
        return Ok(flag(ReasonCode::FaceMismatch, detail.to_string()));
    }
    Ok(Vec::new())
}
