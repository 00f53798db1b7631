//! Business applicants (KYB): `POST /v1/businesses`, `GET /v1/businesses/{id}` (with the
//! ownership structure and its beneficial owners), `POST /v1/businesses/{id}/parties`
//! (a person, verified as an individual applicant of their own, or an entity) and
//! `POST`/`DELETE /v1/businesses/{id}/relations` (roles and shareholdings, refused when the
//! structure could not be: a cycle, shares over 100 %).

use crate::http::cases::not_erased;
use crate::http::error::{parse_json, ApiError, ApiResult};
use crate::state::{AppState, Shared};
use crate::validate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idgate_decide::business::{jurisdiction, lei_valid, Role};
use idgate_decide::ownership::{self, Ownership, StructureError, WHOLE};
use idgate_store::{
    Business, BusinessData, BusinessParty, BusinessRelation, EntityParty, NewParty,
};
use serde::Deserialize;
use serde_json::{json, Value};

const MAX_LEGAL_NAME_CHARS: usize = 300;
const MAX_NUMBER_CHARS: usize = 64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBusiness {
    uid: String,
    kind: String,
    legal_name: String,
    registration_number: String,
    jurisdiction: String,
    incorporated_on: String,
    registered_address: String,
    #[serde(default)]
    operating_address: Option<String>,
    #[serde(default)]
    tax_number: Option<String>,
    #[serde(default)]
    lei: Option<String>,
}

pub(crate) fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, message)
}

/// A registration, tax or similar number: letters, digits and `- / . space`.
fn number(code: &'static str, field: &str, value: &str) -> ApiResult<String> {
    let v = value.trim();
    let n = v.chars().count();
    if n == 0
        || n > MAX_NUMBER_CHARS
        || !v.chars().all(|c| c.is_alphanumeric() || " -/.".contains(c))
    {
        return Err(bad(
            code,
            format!(
                "{field}: 1-{MAX_NUMBER_CHARS} letters, digits, spaces, hyphens, slashes or dots"
            ),
        ));
    }
    Ok(v.to_string())
}

fn checked_jurisdiction(field: &str, value: &str) -> ApiResult<String> {
    jurisdiction(value.trim()).ok_or_else(|| {
        bad(
            "invalid_jurisdiction",
            format!(
                "{field}: an ISO 3166-1 alpha-2 country (GB) or ISO 3166-2 subdivision (US-DE)"
            ),
        )
    })
}

fn entity_kind(s: &AppState, value: &str) -> ApiResult<String> {
    if s.policy.business.kind(value).is_some() {
        return Ok(value.to_string());
    }
    let known: Vec<&str> = s.policy.business.kinds().map(|(k, _)| k).collect();
    Err(bad(
        "invalid_entity_kind",
        format!("kind: one of {}", known.join(", ")),
    ))
}

fn checked(s: &AppState, req: NewBusiness) -> ApiResult<BusinessData> {
    if !validate::identifier(&req.uid) {
        return Err(bad(
            "invalid_uid",
            "uid: 1-128 characters of letters, digits and - _ . : @",
        ));
    }
    let kind = entity_kind(s, &req.kind)?;
    validate::text(
        "invalid_legal_name",
        "legal_name",
        &req.legal_name,
        MAX_LEGAL_NAME_CHARS,
    )?;
    let registration_number = number(
        "invalid_registration_number",
        "registration_number",
        &req.registration_number,
    )?;
    let jurisdiction = checked_jurisdiction("jurisdiction", &req.jurisdiction)?;
    let incorporated = idgate_mrz::Date::parse_iso(req.incorporated_on.trim())
        .filter(|d| *d <= s.today() && d.year() >= 1600)
        .ok_or_else(|| {
            bad(
                "invalid_incorporation_date",
                "incorporated_on: a past date as YYYY-MM-DD",
            )
        })?;
    for (field, value) in [
        ("registered_address", Some(&req.registered_address)),
        ("operating_address", req.operating_address.as_ref()),
    ] {
        if let Some(v) = value {
            validate::text("invalid_address", field, v, validate::MAX_ADDRESS_CHARS)?;
        }
    }
    let tax_number = req
        .tax_number
        .as_deref()
        .map(|t| number("invalid_tax_number", "tax_number", t))
        .transpose()?;
    let lei =
        match req.lei.as_deref().map(str::trim) {
            Some(l) if !lei_valid(l) => return Err(bad(
                "invalid_lei",
                "lei: an ISO 17442 Legal Entity Identifier (20 characters whose check digits hold)",
            )),
            l => l.map(str::to_string),
        };
    Ok(BusinessData {
        uid: req.uid,
        kind,
        legal_name: req.legal_name.trim().to_string(),
        registration_number,
        jurisdiction,
        incorporated_on: incorporated.to_string(),
        registered_address: req.registered_address.trim().to_string(),
        operating_address: req.operating_address.map(|a| a.trim().to_string()),
        tax_number,
        lei,
    })
}

pub async fn create(State(s): State<Shared>, body: axum::body::Bytes) -> ApiResult<Response> {
    let data = checked(&s, parse_json(&body)?)?;
    let b = s.store.create_business(data).await?;
    Ok((StatusCode::CREATED, Json(business_json(&b))).into_response())
}

fn business_json(b: &Business) -> Value {
    let d = &b.data;
    json!({
        "id": b.id,
        "uid": d.uid,
        "kind": d.kind,
        "legal_name": d.legal_name,
        "registration_number": d.registration_number,
        "jurisdiction": d.jurisdiction,
        "incorporated_on": d.incorporated_on,
        "registered_address": d.registered_address,
        "operating_address": d.operating_address,
        "tax_number": d.tax_number,
        "lei": d.lei,
        "status": b.status.as_str(),
        "created_at": idgate_core::rfc3339(b.created_at),
        "updated_at": idgate_core::rfc3339(b.updated_at),
    })
}

pub(crate) async fn business_of(s: &AppState, id: &str) -> ApiResult<Business> {
    s.store
        .business(id)
        .await?
        .ok_or_else(|| ApiError::not_found("business"))
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum NewPartyIn {
    Person {
        /// The person's own account on the platform, if they have one: an applicant
        /// already verified there is reused, not verified twice.
        #[serde(default)]
        uid: Option<String>,
        residence: String,
        given_names: String,
        surname: String,
        birth_date: String,
        nationality: String,
    },
    Entity {
        kind: String,
        name: String,
        registration_number: String,
        jurisdiction: String,
    },
}

pub async fn add_party(
    State(s): State<Shared>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let b = business_of(&s, &id).await?;
    let party = match parse_json(&body)? {
        NewPartyIn::Entity {
            kind,
            name,
            registration_number,
            jurisdiction,
        } => {
            validate::text("invalid_name", "name", &name, MAX_LEGAL_NAME_CHARS)?;
            NewParty::Entity(EntityParty {
                kind: entity_kind(&s, &kind)?,
                name: name.trim().to_string(),
                registration_number: number(
                    "invalid_registration_number",
                    "registration_number",
                    &registration_number,
                )?,
                jurisdiction: checked_jurisdiction("jurisdiction", &jurisdiction)?,
            })
        }
        NewPartyIn::Person {
            uid,
            residence,
            given_names,
            surname,
            birth_date,
            nationality,
        } => {
            validate::region(&residence)?;
            validate::person_name("given_names", &given_names)?;
            validate::person_name("surname", &surname)?;
            if surname.trim().is_empty() {
                return Err(bad("invalid_name", "surname: as printed on the document"));
            }
            let birth = validate::birth_date(&birth_date, s.today())?;
            validate::region(&nationality).map_err(|_| {
                bad(
                    "invalid_country",
                    "nationality: an ISO 3166-1 alpha-2 code such as DE or CN",
                )
            })?;
            let applicant = person_applicant(&s, &b, uid.as_deref(), &residence).await?;
            let declared = crate::kyb::DeclaredPerson {
                given_names: given_names.trim().to_string(),
                surname: surname.trim().to_string(),
                birth_date: birth.to_string(),
                nationality,
            };
            let bytes =
                serde_json::to_vec(&declared).map_err(|e| ApiError::internal(e.to_string()))?;
            let blob = s
                .blobs
                .put(idgate_store::Owner::Applicant(&applicant.id), &bytes)
                .await?;
            NewParty::Person {
                applicant_id: applicant.id,
                declared_blob: blob,
            }
        }
    };
    let p = s.store.add_party(&b.id, party).await?;
    let out = party_json(&s, &p).await?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// The person's applicant: theirs on the platform when `uid` names one (created if it is
/// new), else one made for this role alone.
async fn person_applicant(
    s: &AppState,
    b: &Business,
    uid: Option<&str>,
    residence: &str,
) -> ApiResult<idgate_store::Applicant> {
    let uid = match uid {
        Some(u) if !validate::identifier(u) => {
            return Err(bad(
                "invalid_uid",
                "uid: 1-128 characters of letters, digits and - _ . : @",
            ))
        }
        Some(u) => u.to_string(),
        None => format!("kyb:{}:{}", b.id, uuid::Uuid::new_v4().simple()),
    };
    if let Some(a) = s.store.applicant_by_uid(&uid).await? {
        not_erased(&a)?;
        return Ok(a);
    }
    Ok(s.store.create_applicant(&uid, residence).await?)
}

async fn party_json(s: &AppState, p: &BusinessParty) -> ApiResult<Value> {
    if let Some(e) = &p.entity {
        return Ok(json!({
            "id": p.id,
            "type": "entity",
            "kind": e.kind,
            "name": e.name,
            "registration_number": e.registration_number,
            "jurisdiction": e.jurisdiction,
        }));
    }
    let applicant_id = p.applicant_id.clone().unwrap_or_default();
    let applicant = s.store.applicant(&applicant_id).await?;
    let erased = applicant.as_ref().is_none_or(|a| a.erased_at.is_some());
    let declared: Option<crate::kyb::DeclaredPerson> = match (&p.declared_blob, erased) {
        (Some(key), false) => {
            let bytes = s.blobs.get(key).await?;
            Some(serde_json::from_slice(&bytes).map_err(|e| ApiError::internal(e.to_string()))?)
        }
        _ => None,
    };
    let steps = match &applicant {
        Some(a) if !erased => idgate_pipeline::case::verified_steps(&s.store, &a.uid).await?,
        _ => Vec::new(),
    };
    Ok(json!({
        "id": p.id,
        "type": "person",
        "applicant_id": applicant_id,
        "uid": applicant.as_ref().map(|a| a.uid.clone()),
        "declared": declared,
        "erased": erased,
        "verification": {
            "level": s.policy.reached_level(&steps).map(|l| l.name.clone()),
            "verified_steps": steps.iter().map(|st| st.as_str()).collect::<Vec<_>>(),
        },
    }))
}

/// `POST /v1/businesses/{id}/parties/{party}/invitation`: a link for a person among the
/// parties to verify as an individual (a session of their own applicant, as `POST
/// /v1/applicants/{id}/sessions` issues; the business's platform sends it to them). A
/// person already verified is not asked again (409 `already_verified`).
pub async fn invite(
    State(s): State<Shared>,
    Path((id, party)): Path<(String, String)>,
) -> ApiResult<Response> {
    let b = business_of(&s, &id).await?;
    let p = s
        .store
        .parties_of(&b.id)
        .await?
        .into_iter()
        .find(|p| p.id == party)
        .ok_or_else(|| ApiError::not_found("party"))?;
    let applicant_id = p
        .applicant_id
        .ok_or_else(|| bad("not_a_person", "only a person is invited to verify"))?;
    let a = crate::http::cases::live_applicant(&s, &applicant_id).await?;
    let steps = idgate_pipeline::case::verified_steps(&s.store, &a.uid).await?;
    if s.policy.reached_level(&steps).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_verified",
            "this person is verified already; nothing to ask of them",
        ));
    }
    let session = crate::http::sessions::issue(
        &s,
        &applicant_id,
        crate::http::sessions::NewSession::default(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(session)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRelation {
    party: String,
    role: String,
    /// The entity party the role is held in; absent for the business itself.
    #[serde(default)]
    of: Option<String>,
    /// A shareholder's share, in percent (up to four decimals).
    #[serde(default)]
    percent: Option<f64>,
}

fn share_ppm(percent: Option<f64>) -> ApiResult<Option<i64>> {
    match percent {
        None => Ok(None),
        Some(p) if p.is_finite() && p > 0.0 && p <= 100.0 => {
            Ok(Some((p * f64::from(WHOLE) / 100.0).round() as i64))
        }
        Some(_) => Err(bad(
            "invalid_share",
            "percent: a share above 0 and at most 100",
        )),
    }
}

fn structure_error(e: StructureError) -> ApiError {
    let code = match &e {
        StructureError::UnknownParty(_) => "unknown_party",
        StructureError::SelfRelation { .. } => "self_relation",
        StructureError::OfPerson(_) => "not_an_entity",
        StructureError::Share => "invalid_share",
        StructureError::OverWhole { .. } => "shares_over_100",
        StructureError::Cycle(_) => "ownership_cycle",
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
}

pub async fn add_relation(
    State(s): State<Shared>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let b = business_of(&s, &id).await?;
    let req: NewRelation = parse_json(&body)?;
    let role = Role::parse(&req.role).ok_or_else(|| {
        let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        bad("invalid_role", format!("role: one of {}", all.join(", ")))
    })?;
    let share = share_ppm(req.percent)?;
    let kind = b.data.kind.clone();
    let added = s
        .store
        .add_relation(
            &b.id,
            &req.party,
            role.as_str(),
            req.of.as_deref(),
            share,
            |parties, relations| crate::kyb::structure(&kind, parties, relations).check(),
        )
        .await?
        .map_err(structure_error)?;
    Ok((StatusCode::CREATED, Json(relation_json(&added))).into_response())
}

/// `DELETE /v1/businesses/{id}/parties/{party}`: a party added by mistake (or declared
/// wrongly: it is added again as it should be). Refused while relations name it. What was
/// declared about a person is deleted; their own applicant stays.
pub async fn remove_party(
    State(s): State<Shared>,
    Path((id, party)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let b = business_of(&s, &id).await?;
    let removed = s
        .store
        .remove_party(&b.id, &party)
        .await?
        .ok_or_else(|| ApiError::not_found("party"))?;
    if let Some(key) = &removed.declared_blob {
        // Already gone (an erased person) is fine: nothing of it is left to delete.
        if let Err(e) = s.blobs.delete(key).await {
            if !e.is_missing_object() {
                return Err(e.into());
            }
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_relation(
    State(s): State<Shared>,
    Path((id, relation)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let b = business_of(&s, &id).await?;
    if s.store.remove_relation(&b.id, &relation).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("relation"))
    }
}

fn relation_json(r: &BusinessRelation) -> Value {
    json!({
        "id": r.id,
        "party": r.party_id,
        "role": r.role,
        "of": r.of_party_id,
        "percent": r.share_ppm.map(|s| s as f64 * 100.0 / f64::from(WHOLE)),
    })
}

fn ownership_json(o: &Ownership) -> Value {
    use idgate_decide::onboarding::percent;
    use ownership::Ground;
    let ground = |g: &Ground| match g {
        Ground::Ownership => json!({"ground": "ownership"}),
        Ground::TrustParty { role, trust } => {
            json!({"ground": "trust_party", "role": role.as_str(), "trust": trust})
        }
        Ground::BehindTrustParty {
            role,
            trust,
            entity,
        } => json!({"ground": "owns_trust_party", "role": role.as_str(), "trust": trust,
                    "entity": entity}),
        Ground::SeniorManagingOfficial => json!({"ground": "senior_managing_official"}),
    };
    json!({
        "complete": o.complete(),
        "beneficial_owners": o.owners.iter().map(|b| json!({
            "party": b.party,
            "percent": percent(b.percent),
            "direct_percent": percent(b.direct_percent),
            "grounds": b.grounds.iter().map(ground).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "gaps": o.gaps.iter().map(|g| json!({
            "entity": g.entity,
            "undeclared_percent": percent(g.undeclared_percent),
            "effective_percent": percent(g.effective_percent),
        })).collect::<Vec<_>>(),
        "missing_roles": o.missing_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "findings": crate::kyb::findings_json(&idgate_decide::onboarding::ownership_findings(o)),
    })
}

/// The business, its parties, relations and documents, who its beneficial owners are,
/// its status with the findings of its latest evaluation, and what it may do once approved.
pub async fn get(State(s): State<Shared>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(business_view(&s, &id).await?))
}

pub(crate) async fn business_view(s: &AppState, id: &str) -> ApiResult<Value> {
    let snap = crate::kyb::snapshot(s, id).await.map_err(kyb_error)?;
    let b = &snap.business;
    let mut out = business_json(b);
    let mut party_list = Vec::with_capacity(snap.parties.len());
    for p in &snap.parties {
        party_list.push(party_json(s, p).await?);
    }
    out["parties"] = Value::Array(party_list);
    out["relations"] = snap.relations.iter().map(relation_json).collect();
    out["documents"] = snap.documents.iter().map(document_json).collect();
    out["ownership"] = ownership_json(&snap.ownership);
    out["beneficial_owner_percent"] = json!(s.policy.business.beneficial_owner_percent);
    out["findings"] = serde_json::from_str(&b.findings).unwrap_or(Value::Null);
    out["entitlements"] = if b.status == idgate_core::BusinessStatus::Approved {
        json!(s.policy.business.entitlements)
    } else {
        Value::Null
    };
    Ok(out)
}

pub(crate) fn document_json(d: &idgate_store::BusinessDocument) -> Value {
    json!({
        "id": d.id,
        "kind": d.kind,
        "issued_on": d.issued_on,
        "state": d.state,
        "note": d.note,
        "judged_at": d.judged_at.map(idgate_core::rfc3339),
        "pages": d.pages.iter().map(|p| json!({
            "page": p.page, "content_type": p.content_type, "size_bytes": p.size_bytes,
            "sha256": p.sha256})).collect::<Vec<_>>(),
        "created_at": idgate_core::rfc3339(d.created_at),
    })
}

pub(crate) fn kyb_error(e: crate::kyb::KybError) -> ApiError {
    match e {
        crate::kyb::KybError::Store(e) => e.into(),
        crate::kyb::KybError::Structure(e) => ApiError::internal(e.to_string()),
    }
}
