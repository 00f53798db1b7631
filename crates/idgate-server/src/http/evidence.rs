//! What a reviewer reads beside a case's images: the checks' evidence (each side's outline,
//! the regions its findings point at, the MRZ read from it; the portrait and the selfie's
//! face with their similarity), the entered data beside the document's with every field the
//! engine found not to agree marked, the applicant's attempts, and where a finding points
//! (another account, a listed entity).

use crate::http::error::{ApiError, ApiResult};
use crate::state::{AppState, Shared};
use axum::extract::{Extension, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idgate_pipeline::evidence::{self, Evidence, MrzFields};
use idgate_pipeline::EnteredData;
use idgate_store::{Applicant, Case, Reviewer};
use serde_json::{json, Value};

/// The evidence of `case` for its page: the stored record (or nothing, for a case the checks
/// have not run on) and the entered data compared with the document's fields.
pub async fn of_case(
    s: &AppState,
    case: &Case,
    entered: Option<&EnteredData>,
    findings: &Value,
) -> ApiResult<Value> {
    let stored = match s.store.case_evidence(&case.id).await? {
        Some(key) => evidence::read(&s.blobs.get(&key).await?),
        None => None,
    };
    let Some(seen) = stored else {
        return Ok(json!({"sides": [], "face": null, "compare": compare(entered, None, findings)}));
    };
    let mrz = document_fields(&seen);
    let mut out = serde_json::to_value(&seen)
        .map_err(|e| ApiError::internal(format!("evidence rendering: {e}")))?;
    out["compare"] = compare(entered, mrz, findings);
    if out.get("face").is_none() {
        out["face"] = Value::Null;
    }
    Ok(out)
}

/// The document's fields a reviewer compares with: the first valid MRZ, else the first
/// that parsed.
fn document_fields(seen: &Evidence) -> Option<&MrzFields> {
    let read = || seen.sides.iter().filter_map(|s| s.mrz.as_ref());
    read()
        .find(|m| m.valid)
        .or_else(|| read().find(|m| m.fields.is_some()))
        .and_then(|m| m.fields.as_ref())
}

/// Does a finding name any of `subjects` or `codes`? Then the row disagrees; the codes say
/// why.
fn flagged(findings: &Value, subjects: &[&str], codes: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = findings
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| {
            let subject = f["subject"].as_str().unwrap_or("");
            let code = f["code"].as_str().unwrap_or("");
            subjects.contains(&subject) || codes.contains(&code)
        })
        .filter_map(|f| f["code"].as_str().map(str::to_string))
        .collect();
    out.dedup();
    out
}

/// The fields [`compare`] may show, in its order.
pub const FIELDS: [&str; 9] = [
    "family_name",
    "given_names",
    "local_name",
    "document_number",
    "birth_date",
    "nationality",
    "issuing_country",
    "expiry_date",
    "sex",
];

/// A compared field: its values and the findings that name it (by subject or by code).
struct Row {
    field: &'static str,
    entered: String,
    document: String,
    subjects: &'static [&'static str],
    codes: &'static [&'static str],
}

/// One row per field: what was entered, what the document says, and the codes of the
/// engine's findings on it. The engine's judgement marks a row, not a second comparison
/// here, so the page and the decision always agree (a name in another order, or with its
/// middle names left out, is no mismatch).
fn compare(entered: Option<&EnteredData>, doc: Option<&MrzFields>, findings: &Value) -> Value {
    let e = |f: fn(&EnteredData) -> Option<String>| entered.and_then(f).unwrap_or_default();
    let d = |f: fn(&MrzFields) -> String| doc.map(f).unwrap_or_default();
    let local = e(|x| x.name.local.clone());
    let rows = [
        Row {
            field: "family_name",
            entered: e(|x| Some(x.name.family.clone())),
            document: d(|m| m.surname.clone()),
            subjects: &["name"],
            codes: &[],
        },
        Row {
            field: "given_names",
            entered: e(|x| Some(x.name.given.clone())),
            document: d(|m| m.given_names.clone()),
            subjects: &["name"],
            codes: &[],
        },
        Row {
            field: "local_name",
            entered: local.clone(),
            document: d(|m| {
                format!("{} {}", m.surname, m.given_names)
                    .trim()
                    .to_string()
            }),
            subjects: &["local_name"],
            codes: &[],
        },
        Row {
            field: "document_number",
            entered: e(|x| Some(x.document.number.clone())),
            document: d(|m| m.document_number.clone()),
            subjects: &["document.number"],
            codes: &[],
        },
        Row {
            field: "birth_date",
            entered: e(|x| x.birth_date.clone()),
            document: d(|m| m.birth_date.clone()),
            subjects: &["birth_date"],
            codes: &["UNDERAGE"],
        },
        Row {
            field: "nationality",
            entered: e(|x| Some(x.nationality.clone())),
            document: d(|m| m.nationality.clone()),
            subjects: &["nationality"],
            codes: &[],
        },
        Row {
            field: "issuing_country",
            entered: e(|x| Some(x.document.country.clone())),
            document: d(|m| m.issuing_country.clone()),
            subjects: &["document.issuer"],
            codes: &[],
        },
        Row {
            field: "expiry_date",
            entered: String::new(),
            document: d(|m| m.expiry_date.clone()),
            subjects: &[],
            codes: &["DOCUMENT_EXPIRED"],
        },
        Row {
            field: "sex",
            entered: String::new(),
            document: d(|m| m.sex.clone()),
            subjects: &[],
            codes: &[],
        },
    ];
    Value::Array(
        rows.into_iter()
            .filter(|r| {
                // The local name only where one was entered; every other row where either
                // side has a value.
                if r.field == "local_name" {
                    !r.entered.is_empty()
                } else {
                    !r.entered.is_empty() || !r.document.is_empty()
                }
            })
            .map(|r| {
                let Row {
                    field,
                    entered,
                    document,
                    subjects,
                    codes,
                } = r;
                let codes = flagged(findings, subjects, codes);
                let mut row = json!({"field": field, "entered": entered, "document": document,
                                     "mismatch": !codes.is_empty(), "codes": codes});
                if field == "local_name" {
                    row["pinyin"] = json!(idgate_decide::names::pinyin(&local));
                }
                row
            })
            .collect(),
    )
}

/// The applicant's cases, newest first (the attempt history).
pub async fn history(s: &AppState, applicant: &Applicant) -> ApiResult<Value> {
    let mut cases = s.store.cases_of_applicant(&applicant.id).await?;
    cases.reverse();
    Ok(Value::Array(
        cases
            .iter()
            .map(|c| {
                json!({"id": c.id, "status": c.status.as_str(), "level": c.level,
                       "reasons": c.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                       "created_at": idgate_core::rfc3339(c.created_at),
                       "updated_at": idgate_core::rfc3339(c.updated_at)})
            })
            .collect(),
    ))
}

/// The frames kept from the case's liveness recordings, grouped by challenge in the order
/// asked.
pub async fn liveness(s: &AppState, case_id: &str) -> ApiResult<Value> {
    let shots = s.store.liveness_shots(case_id).await?;
    let mut out: Vec<Value> = Vec::new();
    for shot in shots {
        let frame = json!({"id": shot.id, "label": shot.label, "frame": shot.frame});
        match out.last_mut() {
            Some(last) if last["challenge_id"] == shot.challenge_id.as_str() => {
                if let Some(frames) = last["frames"].as_array_mut() {
                    frames.push(frame);
                }
            }
            _ => out.push(
                json!({"challenge_id": shot.challenge_id, "status": shot.status,
                                 "frames": [frame]}),
            ),
        }
    }
    Ok(Value::Array(out))
}

/// An image decrypted for a reviewer. Uploads are sniffed to JPEG, PNG, WebP, HEIC or PDF;
/// should anything else ever be stored, the browser is still told not to guess, not to
/// run it and not to frame it.
pub fn image_response(content_type: String, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox; frame-ancestors 'none'".to_string(),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /v1/review/cases/{id}/liveness/{shot}/image`: a kept liveness frame (the view is
/// audited, as a document's is).
pub async fn liveness_image(
    State(s): State<Shared>,
    Extension(r): Extension<Reviewer>,
    Path((id, shot)): Path<(String, String)>,
) -> ApiResult<Response> {
    let found = s
        .store
        .liveness_shots(&id)
        .await?
        .into_iter()
        .find(|x| x.id == shot)
        .ok_or_else(|| ApiError::not_found("liveness frame"))?;
    let bytes = s.blobs.get(&found.blob_key).await?;
    s.store
        .log_action(
            &id,
            &format!("reviewer:{}", r.name),
            "liveness_frame_viewed",
        )
        .await?;
    Ok(image_response(found.content_type, bytes))
}

/// `GET /v1/review/applicants/{uid}/cases`: where a duplicate finding's account leads.
pub async fn applicant_cases(
    State(s): State<Shared>,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let applicant = s
        .store
        .applicant_by_uid(&uid)
        .await?
        .ok_or_else(|| ApiError::not_found("applicant"))?;
    Ok(Json(json!({
        "uid": applicant.uid,
        "region": applicant.region,
        "cases": history(&s, &applicant).await?,
    })))
}

/// `GET /v1/review/list-entities/{id}`: the listed entity a screening match names, as the
/// active list version holds it (its digest says which record a clearance was given on).
pub async fn list_entity(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let index = crate::http::screening::current(&s).await?;
    let (entity, digest) = index
        .entity(&id)
        .ok_or_else(|| ApiError::not_found("listed entity"))?;
    let mut out = serde_json::to_value(entity)
        .map_err(|e| ApiError::internal(format!("entity rendering: {e}")))?;
    out["digest"] = json!(digest);
    Ok(Json(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entered() -> EnteredData {
        serde_json::from_value(json!({
            "nationality": "CN",
            "document": {"country": "CN", "type": "passport", "number": "E12345678"},
            "name": {"given": "Wei", "family": "Zhang", "local": "张伟"},
            "birth_date": "1995-03-01",
        }))
        .unwrap()
    }

    fn printed() -> MrzFields {
        MrzFields {
            document_type: "P".into(),
            issuing_country: "CHN".into(),
            surname: "ZHANG".into(),
            given_names: "WEI".into(),
            document_number: "E12345678".into(),
            nationality: "CHN".into(),
            birth_date: "1995-03-02".into(),
            sex: "M".into(),
            expiry_date: "2035-06-30".into(),
            optional_data: String::new(),
        }
    }

    #[test]
    fn the_rows_the_engine_found_to_disagree_are_marked_with_its_codes() {
        let findings = json!([
            {"code": "BIRTH_DATE_MISMATCH", "subject": "birth_date"},
            {"code": "FACE_MISMATCH", "subject": "selfie"},
        ]);
        let rows = compare(Some(&entered()), Some(&printed()), &findings);
        let rows = rows.as_array().unwrap();
        let fields: Vec<&str> = rows.iter().map(|r| r["field"].as_str().unwrap()).collect();
        assert_eq!(fields, FIELDS, "every field shown, in order");
        let row = |f: &str| rows.iter().find(|r| r["field"] == f).unwrap();
        assert_eq!(row("birth_date")["mismatch"], true);
        assert_eq!(row("birth_date")["codes"], json!(["BIRTH_DATE_MISMATCH"]));
        assert_eq!(row("birth_date")["document"], "1995-03-02");
        // Different spellings the engine accepted (Zhang / ZHANG) are not marked.
        assert_eq!(row("family_name")["mismatch"], false);
        assert_eq!(row("local_name")["pinyin"], "ZHANG WEI");
        assert_eq!(row("local_name")["document"], "ZHANG WEI");
        let marked = rows.iter().filter(|r| r["mismatch"] == true).count();
        assert_eq!(marked, 1, "a finding about the selfie marks no field");
    }

    #[test]
    fn without_a_document_read_the_entered_data_stands_alone() {
        let mut data = entered();
        data.name.local = None;
        let rows = compare(Some(&data), None, &json!([]));
        let rows = rows.as_array().unwrap();
        assert!(rows.iter().all(|r| r["document"] == ""));
        assert!(rows
            .iter()
            .all(|r| r["field"] != "local_name" && r["field"] != "sex"));
        assert_eq!(compare(None, None, &json!([])), json!([]));
    }
}
