//! The catalog the applicant's app builds its choices from: countries, the documents each
//! issues that are accepted, and the reason codes with their messages and fixes.

use crate::http::error::{ApiError, ApiResult};
use crate::state::Shared;
use axum::extract::{Path, State};
use axum::Json;
use idgate_core::ReasonCode;
use serde_json::json;

/// One country's entry: whether its residents are served and which documents it issues
/// that are accepted, with the sides to photograph (the UI's dropdown).
fn catalog_entry(
    policy: &idgate_decide::Policy,
    c: &idgate_decide::country::Country,
) -> serde_json::Value {
    serde_json::json!({
        "code": c.alpha2,
        "alpha3": c.alpha3,
        "name": c.name,
        "supported": policy.region_supported(c.alpha2, None),
        "documents": policy.accepted(c.alpha2),
    })
}

pub async fn get_catalog(State(s): State<Shared>) -> Json<serde_json::Value> {
    let countries: Vec<_> = idgate_decide::country::all()
        .iter()
        .map(|c| catalog_entry(&s.policy, c))
        .collect();
    Json(serde_json::json!({ "countries": countries }))
}

pub async fn get_catalog_country(
    State(s): State<Shared>,
    Path(country): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let c = idgate_decide::country::by_alpha2(&country)
        .ok_or_else(|| ApiError::not_found("country"))?;
    let mut entry = catalog_entry(&s.policy, c);
    entry["unsupported_subdivisions"] = serde_json::json!(s
        .policy
        .regions
        .unsupported_subdivisions
        .iter()
        .filter(|d| d.split('-').next() == Some(c.alpha2))
        .collect::<Vec<_>>());
    Ok(Json(entry))
}

/// The reason catalog: every code with the reject type this deployment gives it, and its
/// message and fix in each language (what `GET /v1/cases/{id}` shows the applicant).
pub async fn get_reasons(State(s): State<Shared>) -> Json<serde_json::Value> {
    let langs = [idgate_core::Lang::En, idgate_core::Lang::ZhHans];
    let reasons: Vec<_> = ReasonCode::ALL
        .iter()
        .map(|&r| {
            let texts: serde_json::Map<String, serde_json::Value> = langs
                .iter()
                .map(|&l| {
                    (
                        l.tag().to_string(),
                        json!({"message": r.message_in(l), "fix": r.fix_in(l)}),
                    )
                })
                .collect();
            json!({
                "code": r.as_str(),
                "reject_type": s.policy.reject_type(r).as_str(),
                "default_reject_type": r.default_type().as_str(),
                "texts": texts,
            })
        })
        .collect();
    Json(json!({ "reasons": reasons }))
}
