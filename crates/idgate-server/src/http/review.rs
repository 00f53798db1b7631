//! The reviewer API (`/v1/review/...`), authenticated by a reviewer's own bearer token
//! (`idr_...`, created by the platform with `POST /v1/reviewers`), never the platform's API
//! key. Roles:
//!
//! * `auditor`: reads the queue, cases, findings, comments and audit trail;
//! * `reviewer`: also claims cases, comments and decides cases and change requests;
//! * `supervisor`: also takes over or releases a case another reviewer holds.
//!
//! Every action is in the case's audit trail under `reviewer:<name>`. Reviewers see the
//! entered data and the images; the platform's API shows the applicant only the reasons and
//! the comments marked `applicant`.

use crate::http::auth::require_reviewer;
use crate::http::cases::{case_and_applicant, read_entered};
use crate::http::error::{parse_json, ApiError, ApiResult};
use crate::state::{AppState, Shared};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use idgate_core::{CaseEvent, Decision, ReasonCode, RejectType, Visibility};
use idgate_store::{CaseDecision, DecisionRecord, Reviewer};
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) fn actor(r: &Reviewer) -> String {
    format!("reviewer:{}", r.name)
}

fn forbidden(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!("your role may not {what}"),
    )
}

pub(crate) fn may_act(r: &Reviewer) -> ApiResult<()> {
    if !r.role.may_act() {
        return Err(forbidden("change cases"));
    }
    Ok(())
}

pub fn routes(state: Shared) -> Router<Shared> {
    Router::new()
        .route("/v1/review/queue", get(crate::http::queue::queue))
        .route("/v1/review/cases/{id}", get(case_detail))
        .route(
            "/v1/review/cases/{id}/documents/{doc}/image",
            get(document_image),
        )
        .route(
            "/v1/review/cases/{id}/liveness/{shot}/image",
            get(crate::http::evidence::liveness_image),
        )
        .route("/v1/review/cases/{id}/claim", post(claim))
        .route("/v1/review/cases/{id}/release", post(release))
        .route("/v1/review/cases/{id}/comments", post(comment))
        .route("/v1/review/cases/{id}/decision", post(decide))
        .route(
            "/v1/review/applicants/{uid}/cases",
            get(crate::http::evidence::applicant_cases),
        )
        .route(
            "/v1/review/list-entities/{id}",
            get(crate::http::evidence::list_entity),
        )
        .route("/v1/review/change-requests", get(change_requests))
        .route(
            "/v1/review/change-requests/{id}/documents/{doc}/image",
            get(change_document_image),
        )
        .route(
            "/v1/review/change-requests/{id}/decision",
            post(decide_change),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            require_reviewer,
        ))
}

async fn case_detail(State(s): State<Shared>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let (case, applicant) = case_and_applicant(&s, &id).await?;
    let entered = match &case.data_key {
        Some(k) => Some(read_entered(&s, k).await?),
        None => None,
    };
    let (findings, _) = s.store.case_findings(&id).await?;
    let findings = findings_for_review(&findings);
    let evidence = crate::http::evidence::of_case(&s, &case, entered.as_ref(), &findings).await?;
    let history = crate::http::evidence::history(&s, &applicant).await?;
    let liveness = crate::http::evidence::liveness(&s, &id).await?;
    let documents: Vec<Value> = s
        .store
        .documents(&id)
        .await?
        .into_iter()
        .map(|d| {
            json!({"id": d.id, "kind": d.data.kind, "side": d.data.side,
                   "content_type": d.data.content_type, "width": d.data.width, "height": d.data.height})
        })
        .collect();
    let comments: Vec<Value> = s
        .store
        .comments(&id, true)
        .await?
        .into_iter()
        .map(
            |c| json!({"author": c.author, "visibility": c.visibility.as_str(), "body": c.body, "at": idgate_core::rfc3339(c.at)}),
        )
        .collect();
    let events: Vec<Value> = s
        .store
        .audit_events(&id)
        .await?
        .into_iter()
        .map(|e| {
            json!({"seq": e.seq, "actor": e.actor, "action": e.action,
                   "from_status": e.from_status, "to_status": e.to_status, "at": idgate_core::rfc3339(e.at)})
        })
        .collect();
    let holder_name = match &case.claimed_by {
        Some(id) => s.store.reviewer_name(id).await?,
        None => None,
    };
    Ok(Json(json!({
        "id": case.id,
        "uid": applicant.uid,
        "claimed_by_name": holder_name,
        "region": applicant.region,
        "level": case.level,
        "status": case.status.as_str(),
        "origin": case.origin.as_str(),
        "claimed_by": case.claimed_by,
        "reasons": case.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "findings": findings,
        "entered": entered,
        "documents": documents,
        "evidence": evidence,
        "history": history,
        "liveness": liveness,
        "comments": comments,
        "events": events,
    })))
}

async fn document_image(
    State(s): State<Shared>,
    Extension(r): Extension<Reviewer>,
    Path((id, doc)): Path<(String, String)>,
) -> ApiResult<Response> {
    let docs = s.store.documents(&id).await?;
    image_of(&s, &r, &id, docs, &doc).await
}

/// The image of document `doc` among `docs`, decrypted; the view is in the audit trail of
/// `subject` (a case or change request).
async fn image_of(
    s: &AppState,
    r: &Reviewer,
    subject: &str,
    docs: Vec<idgate_store::Document>,
    doc: &str,
) -> ApiResult<Response> {
    let d = docs
        .into_iter()
        .find(|d| d.id == doc)
        .ok_or_else(|| ApiError::not_found("document"))?;
    let bytes = s.blobs.get(&d.data.blob_key).await?;
    s.store
        .log_action(subject, &actor(r), "document_viewed")
        .await?;
    Ok(crate::http::evidence::image_response(
        d.data.content_type,
        bytes,
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ClaimReq {
    #[serde(default)]
    take_over: bool,
}

async fn claim(
    State(s): State<Shared>,
    Extension(r): Extension<Reviewer>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    may_act(&r)?;
    let req: ClaimReq = if body.is_empty() {
        ClaimReq::default()
    } else {
        parse_json(&body)?
    };
    if req.take_over && !r.role.supervises() {
        return Err(forbidden("take over another reviewer's case"));
    }
    let case = s
        .store
        .claim_case(&id, &r.id, &actor(&r), req.take_over)
        .await?;
    Ok(Json(
        json!({"case_id": case.id, "claimed_by": case.claimed_by, "claimed_at": case.claimed_at.map(idgate_core::rfc3339)}),
    ))
}

async fn release(
    State(s): State<Shared>,
    Extension(r): Extension<Reviewer>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    may_act(&r)?;
    s.store
        .release_case(&id, &r.id, &actor(&r), r.role.supervises())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentReq {
    visibility: String,
    body: String,
}

fn visibility(word: &str) -> ApiResult<Visibility> {
    Visibility::parse(word).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_visibility",
            "visibility: `applicant` (shown to the applicant) or `internal`",
        )
    })
}

fn valid_comment(body: &str) -> ApiResult<()> {
    Ok(crate::validate::text(
        "invalid_comment",
        "comment",
        body,
        4000,
    )?)
}

async fn comment(
    State(s): State<Shared>,
    Extension(r): Extension<Reviewer>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    may_act(&r)?;
    let req: CommentReq = parse_json(&body)?;
    let visibility = visibility(&req.visibility)?;
    valid_comment(&req.body)?;
    if visibility == Visibility::Applicant && !r.role.supervises() {
        // What the applicant reads comes from the person deciding the case.
        let case = s
            .store
            .case(&id)
            .await?
            .ok_or_else(|| ApiError::not_found("case"))?;
        if case.claimed_by.as_deref() != Some(r.id.as_str()) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "not_holder",
                "only the reviewer holding the case (or a supervisor) writes to the applicant; \
                 claim it first or comment internally",
            ));
        }
    }
    let c = s
        .store
        .add_comment(&id, &actor(&r), visibility, req.body.trim())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": c.id, "visibility": c.visibility.as_str(), "at": idgate_core::rfc3339(c.at)})),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionReq {
    /// `approve`, `retry` or `reject`.
    decision: String,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default)]
    applicant_comment: Option<String>,
    #[serde(default)]
    internal_comment: Option<String>,
}

async fn decide(
    State(s): State<Shared>,
    Extension(r): Extension<Reviewer>,
    console: Option<Extension<idgate_store::ConsoleSession>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    may_act(&r)?;
    let req: DecisionReq = parse_json(&body)?;
    let decision = match req.decision.as_str() {
        "approve" => Decision::Approve,
        "retry" => Decision::Retry,
        "reject" => Decision::Reject,
        _ => {
            return Err(ApiError::bad_request(
                "invalid_decision",
                "decision: approve, retry or reject",
            ))
        }
    };
    let mut reasons: Vec<ReasonCode> = Vec::new();
    for c in &req.reasons {
        let code = ReasonCode::parse(c).ok_or_else(|| {
            ApiError::bad_request("invalid_reason", format!("unknown reason code {c}"))
        })?;
        if !reasons.contains(&code) {
            reasons.push(code);
        }
    }
    match (decision, reasons.is_empty()) {
        (Decision::Approve, false) => {
            return Err(ApiError::bad_request(
                "invalid_reason",
                "an approval carries no reason codes",
            ))
        }
        (Decision::Retry | Decision::Reject, true) => {
            return Err(ApiError::bad_request(
                "missing_reason",
                "say why with at least one reason code",
            ))
        }
        _ => {}
    }
    // The reject type decides the status: a rejection for good needs a FINAL reason, and
    // a FINAL reason never comes with an invitation to try again.
    let finals: Vec<&str> = reasons
        .iter()
        .filter(|&&c| s.policy.reject_type(c) == RejectType::Final)
        .map(|c| c.as_str())
        .collect();
    if decision == Decision::Reject && finals.is_empty() {
        return Err(ApiError::bad_request(
            "reason_type_mismatch",
            "a rejection needs a FINAL reason; with only RETRY or REVIEW reasons, decide `retry`",
        ));
    }
    // A rejection for good from the console needs the reviewer to have proved who they
    // are a moment ago (an unattended, signed-in screen cannot end a person's onboarding).
    if let (Decision::Reject, Some(Extension(sess))) = (decision, &console) {
        crate::http::console::require_fresh(&s, sess)?;
    }
    if decision == Decision::Retry && !finals.is_empty() {
        return Err(ApiError::bad_request(
            "reason_type_mismatch",
            format!(
                "{} is a FINAL reason: decide `reject`, or leave it out",
                finals.join(", ")
            ),
        ));
    }
    let mut comments = Vec::new();
    for (visibility, body) in [
        (Visibility::Applicant, &req.applicant_comment),
        (Visibility::Internal, &req.internal_comment),
    ] {
        if let Some(b) = body {
            valid_comment(b)?;
            comments.push((visibility, b.trim()));
        }
    }
    let (case, applicant) = case_and_applicant(&s, &id).await?;
    if decision == Decision::Approve && s.policy.level(&case.level).is_none() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_level",
            format!(
                "the level {:?} is not in the policy: its checks are unknown, so the case \
                 cannot be approved",
                case.level
            ),
        ));
    }
    let (findings, keys) = s.store.case_findings(&id).await?;
    // Approving a case with screening matches judges them false for this applicant: they
    // are not raised again until the listed entity's record changes. (Confirming one is a
    // FINAL rejection with its code.)
    let cleared = if decision == Decision::Approve {
        crate::screening::matches_in(&findings)
    } else {
        Vec::new()
    };
    // An approval verifies every step of the case's level.
    let steps: Vec<&str> = match decision {
        Decision::Approve => s
            .policy
            .level(&case.level)
            .map(|l| l.requires.iter().map(|st| st.as_str()).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let outcome = idgate_pipeline::record::outcome_of(decision);
    let now = s.store.now();
    let retry_after = if decision == Decision::Retry {
        idgate_pipeline::case::retry_after(&s.store, &s.policy, &applicant.uid, now, true).await?
    } else {
        None
    };
    let who = actor(&r);
    let decided = s
        .store
        .decide_case(&CaseDecision {
            case_id: &id,
            event: CaseEvent::ReviewerDecide(decision),
            actor: &who,
            reasons: &reasons,
            findings: None,
            reviewer_id: Some(&r.id),
            comments: &comments,
            record: Some(DecisionRecord {
                uid: &applicant.uid,
                outcome: outcome.as_str(),
                reasons: &reasons,
                keys: &keys,
                claims: idgate_pipeline::record::claim_change(outcome),
                steps: &steps,
                level: (decision == Decision::Approve).then_some(case.level.as_str()),
                raise: &[],
                case_id: Some(&id),
            }),
            checked: false,
            retry_after,
            cleared_matches: &cleared,
        })
        .await?;
    Ok(Json(
        json!({"case_id": decided.id, "status": decided.status.as_str(),
               "reasons": decided.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>()}),
    ))
}

/// Change requests waiting for a reviewer: current and requested data side by side, what
/// changes, what the checks found, the new document's images and who approved first.
async fn change_requests(State(s): State<Shared>) -> ApiResult<Json<Value>> {
    let mut out = Vec::new();
    for cr in s.store.change_requests_for_review().await? {
        let current = match s.store.verified_data_key(&cr.applicant_id).await? {
            Some(k) => Some(read_entered(&s, &k).await?),
            None => None,
        };
        let requested = read_entered(&s, &cr.data_key).await?;
        let documents: Vec<Value> = s
            .store
            .change_documents(&cr.id)
            .await?
            .into_iter()
            .map(|d| json!({"id": d.id, "kind": d.data.kind, "side": d.data.side}))
            .collect();
        out.push(json!({
            "id": cr.id,
            "applicant_id": cr.applicant_id,
            "reason": cr.reason,
            "status": cr.status.as_str(),
            "changes": cr.changes,
            "second_approval": cr.second_approval,
            "first_approved_by": cr.first_approved_by,
            "reasons": cr.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "findings": findings_for_review(&cr.findings),
            "current": current,
            "requested": requested,
            "documents": documents,
            "created_at": idgate_core::rfc3339(cr.created_at),
        }));
    }
    Ok(Json(json!({ "change_requests": out })))
}

/// A change request's document image, decrypted for a reviewer (the view is audited).
async fn change_document_image(
    State(s): State<Shared>,
    Extension(r): Extension<Reviewer>,
    Path((id, doc)): Path<(String, String)>,
) -> ApiResult<Response> {
    let docs = s.store.change_documents(&id).await?;
    image_of(&s, &r, &id, docs, &doc).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeDecisionReq {
    /// `approve` or `reject`.
    decision: String,
    #[serde(default)]
    comment: Option<String>,
}

async fn decide_change(
    State(s): State<Shared>,
    Extension(r): Extension<Reviewer>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    may_act(&r)?;
    let req: ChangeDecisionReq = parse_json(&body)?;
    let approve = match req.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(ApiError::bad_request(
                "invalid_decision",
                "decision: approve or reject",
            ))
        }
    };
    if let Some(c) = &req.comment {
        crate::validate::text("invalid_comment", "comment", c, 4000)?;
    }
    let cr = s
        .store
        .decide_change_request(&id, approve, &r.id, &actor(&r), req.comment.as_deref())
        .await?;
    Ok(Json(json!({"id": cr.id, "status": cr.status.as_str()})))
}

/// Stored findings for a reviewer, every `detail` an object (findings stored before details
/// were objects carry text, possibly JSON text).
fn findings_for_review(stored: &str) -> Value {
    let mut v: Value = serde_json::from_str(stored).unwrap_or(Value::Array(Vec::new()));
    if let Some(list) = v.as_array_mut() {
        for f in list {
            if let Some(Value::String(d)) = f.get("detail").cloned() {
                f["detail"] = idgate_pipeline::record::detail_object(&d);
            }
        }
    }
    v
}
