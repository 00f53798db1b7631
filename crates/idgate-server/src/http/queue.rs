//! The review queue (`GET /v1/review/queue`): the cases waiting for a person, filtered and
//! ordered in one query, each with its applicant's uid and country and its holder's name.

use crate::http::error::{ApiError, ApiResult};
use crate::state::Shared;
use axum::extract::State;
use axum::{Extension, Json};
use idgate_core::ReasonCode;
use idgate_store::Reviewer;
use serde::Deserialize;
use serde_json::{json, Value};

/// The queue's filters and order, from the query string.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    level: Option<String>,
    reason: Option<String>,
    country: Option<String>,
    /// `any` (default), `unclaimed` or `mine`.
    holder: Option<String>,
    /// Only cases waiting at least this many minutes.
    min_wait_mins: Option<i64>,
    /// `oldest` (default) or `newest`.
    sort: Option<String>,
    limit: Option<i64>,
}

/// `GET /v1/review/queue`: cases in review, longest waiting first, filtered by level,
/// reason code, the applicant's country, who holds them and how long they have waited.
pub async fn queue(
    State(s): State<Shared>,
    Extension(r): Extension<Reviewer>,
    axum::extract::Query(q): axum::extract::Query<QueueQuery>,
) -> ApiResult<Json<Value>> {
    let bad = |code, m: &str| ApiError::bad_request(code, m.to_string());
    let reason = match q.reason.as_deref().filter(|x| !x.is_empty()) {
        None => None,
        Some(c) => {
            Some(ReasonCode::parse(c).ok_or_else(|| bad("invalid_reason", "unknown reason code"))?)
        }
    };
    let holder = match q.holder.as_deref().unwrap_or("any") {
        "any" | "" => idgate_store::Holder::Any,
        "unclaimed" => idgate_store::Holder::Unclaimed,
        "mine" => idgate_store::Holder::Reviewer(&r.id),
        _ => return Err(bad("invalid_holder", "holder: any, unclaimed or mine")),
    };
    let newest_first = match q.sort.as_deref().unwrap_or("oldest") {
        "oldest" | "" => false,
        "newest" => true,
        _ => return Err(bad("invalid_sort", "sort: oldest or newest")),
    };
    let country = q
        .country
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_ascii_uppercase);
    if country
        .as_deref()
        .is_some_and(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(bad("invalid_country", "country: two letters (ISO 3166-1)"));
    }
    let min_wait = q.min_wait_mins.unwrap_or(0);
    if !(0..=525_600).contains(&min_wait) {
        return Err(bad("invalid_wait", "min_wait_mins: 0 to 525600"));
    }
    let limit = q.limit.unwrap_or(200);
    if !(1..=500).contains(&limit) {
        return Err(bad("invalid_limit", "limit: 1 to 500"));
    }
    let filter = idgate_store::QueueFilter {
        level: q.level.as_deref().filter(|l| !l.is_empty()),
        reason,
        region: country.as_deref(),
        holder,
        waited_at_least_ms: (min_wait > 0).then_some(min_wait * 60_000),
        newest_first,
        limit,
    };
    let now = s.store.now();
    let out: Vec<Value> = s
        .store
        .review_queue_filtered(&filter)
        .await?
        .into_iter()
        .map(|e| {
            json!({
                "case_id": e.case.id,
                "uid": e.uid,
                "country": e.region,
                "level": e.case.level,
                "reasons": e.case.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                "claimed_by": e.case.claimed_by,
                "claimed_by_name": e.holder_name,
                "waiting_since": idgate_core::rfc3339(e.case.updated_at),
                "waiting_mins": (now - e.case.updated_at).max(0) / 60_000,
            })
        })
        .collect();
    Ok(Json(json!({ "cases": out })))
}
