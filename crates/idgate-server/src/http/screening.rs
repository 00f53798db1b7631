//! The screening API (issue #31), with the platform's key: `GET /v1/lists`, every list
//! source with its current version and history; `POST /v1/screening/search`, a name (with
//! birth date, country, gender and document numbers as qualifiers) against every current
//! list, ranked, each match saying which name met which listed name and what moved its
//! score. The names searched for are personal data: nothing of them is logged or kept.

use crate::http::error::{parse_json, ApiError, ApiResult};
use crate::state::Shared;
use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use idgate_screen::{PartialDate, Query};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Most names, qualifiers and characters one search may carry.
const MAX_NAMES: usize = 10;
const MAX_NAME_CHARS: usize = 200;
/// Most matches one search answers.
const MAX_LIMIT: usize = 100;

/// The index of the current lists, rebuilt first if another process imported a version
/// since.
pub(crate) async fn current(s: &Shared) -> ApiResult<std::sync::Arc<idgate_screen::Index>> {
    s.screen
        .reload(&s.store)
        .await
        .map_err(|e| ApiError::internal(format!("screening lists: {e:#}")))?;
    Ok(s.screen.index())
}

/// `GET /v1/lists`: per source its current version (the newest), how many versions it has
/// had and what its newest import changed; and the entities screened against now.
pub async fn lists(State(s): State<Shared>) -> ApiResult<Json<Value>> {
    let versions = s.store.list_versions().await?;
    let mut by_source: BTreeMap<&str, Vec<&idgate_store::ListVersion>> = BTreeMap::new();
    for v in &versions {
        by_source.entry(v.source.as_str()).or_default().push(v);
    }
    let sources: Vec<Value> = by_source
        .into_iter()
        .filter_map(|(source, mut vs)| {
            vs.sort_by_key(|v| std::cmp::Reverse(v.version));
            let newest = vs.first()?;
            let mut out = crate::report::list_version_json(newest);
            out["versions"] = json!(vs.len());
            out["source"] = json!(source);
            Some(out)
        })
        .collect();
    let index = current(&s).await?;
    let last_import = versions
        .iter()
        .map(|v| v.imported_at)
        .max()
        .map(idgate_core::rfc3339);
    Ok(Json(json!({
        "sources": sources,
        "entities_screened": index.len(),
        "last_import": last_import,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Search {
    #[serde(default)]
    name: Option<String>,
    /// Further names the person goes by (another script, a former name).
    #[serde(default)]
    names: Vec<String>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[serde(default)]
    birth_date: Option<String>,
    /// Nationality or country, ISO 3166-1 alpha-2 or alpha-3 or a country's name.
    #[serde(default)]
    country: Option<String>,
    /// `M`, `F`, `male` or `female`.
    #[serde(default)]
    gender: Option<String>,
    /// Passport or national identity numbers, met exactly.
    #[serde(default)]
    identifiers: Vec<String>,
    /// Answer matches at or above this score (default the policy's threshold).
    #[serde(default)]
    threshold: Option<f64>,
    #[serde(default)]
    limit: Option<usize>,
}

/// The search as a query and the settings it runs with.
fn query_of(search: Search, s: &Shared) -> ApiResult<(Query, idgate_screen::Settings)> {
    let names: Vec<String> = search
        .name
        .into_iter()
        .chain(search.names)
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_name",
            "give the name to search for (`name`)",
        ));
    }
    if names.len() > MAX_NAMES || names.iter().any(|n| n.chars().count() > MAX_NAME_CHARS) {
        return Err(ApiError::bad_request(
            "invalid_name",
            "at most 10 names of at most 200 characters each",
        ));
    }
    if names.iter().any(|n| n.chars().any(char::is_control)) {
        return Err(ApiError::bad_request(
            "invalid_name",
            "a name holds a control character",
        ));
    }
    let birth_date = match search.birth_date.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) => Some(PartialDate::parse_iso(d).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_birth_date",
                "birth_date is YYYY, YYYY-MM or YYYY-MM-DD",
            )
        })?),
    };
    let nationalities = match search.country.as_deref().map(str::trim) {
        None | Some("") => Vec::new(),
        Some(c) => vec![idgate_screen::fold::country(c)
            .ok_or_else(|| {
                ApiError::bad_request("invalid_country", "country is not a known country")
            })?
            .to_string()],
    };
    let gender = match search.gender.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("M" | "m") => Some('M'),
        Some("F" | "f") => Some('F'),
        Some(g) => Some(idgate_screen::entity::gender_word(g).ok_or_else(|| {
            ApiError::bad_request("invalid_gender", "gender is M, F, male or female")
        })?),
    };
    if search.identifiers.len() > MAX_NAMES
        || search.identifiers.iter().any(|i| i.len() > MAX_NAME_CHARS)
    {
        return Err(ApiError::bad_request(
            "invalid_identifier",
            "at most 10 identifiers of at most 200 characters each",
        ));
    }
    let mut settings = s.screen.settings().clone();
    if let Some(t) = search.threshold {
        if !(0.0..=1.0).contains(&t) {
            return Err(ApiError::bad_request(
                "invalid_threshold",
                "threshold lies between 0 and 1",
            ));
        }
        // Below the name floor nothing is scored at all.
        settings.threshold = t.max(settings.name_floor);
    }
    if let Some(limit) = search.limit {
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_request(
                "invalid_limit",
                "limit lies between 1 and 100",
            ));
        }
        settings.limit = limit;
    }
    let query = Query {
        names,
        birth_date,
        nationalities,
        gender,
        identifiers: search.identifiers,
    };
    Ok((query, settings))
}

/// `POST /v1/screening/search`: ranked matches, best first, each with the listed entity.
pub async fn search(State(s): State<Shared>, body: Bytes) -> ApiResult<Json<Value>> {
    let (query, settings) = query_of(parse_json(&body)?, &s)?;
    let index = current(&s).await?;
    let matches = index.screen(&query, &settings);
    let out: Vec<Value> = matches
        .iter()
        .map(|m| {
            let mut v = serde_json::to_value(m).unwrap_or(Value::Null);
            if let Some((e, _)) = index.entity(&m.entity_id) {
                v["entity"] = json!({
                    "kind": e.kind,
                    "names": e.names,
                    "birth_dates": e.birth_dates,
                    "nationalities": e.nationalities,
                    "programs": e.programs,
                });
            }
            v
        })
        .collect();
    Ok(Json(json!({
        "threshold": settings.threshold,
        "matches": out,
    })))
}
