//! A business's entity documents and its submission: `POST /v1/businesses/{id}/documents`
//! (one document of one or more pages, photos or PDFs, each file checked as identity
//! documents' uploads are and sealed under the business's own key) and `POST
//! /v1/businesses/{id}/submit` (evaluated at once: what to fix, people to wait for, or a
//! reviewer).

use crate::http::businesses::{bad, business_of, business_view, document_json, kyb_error};
use crate::http::error::{ApiError, ApiResult};
use crate::state::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

/// Most pages one entity document may have.
pub const MAX_PAGES: usize = 20;
/// A document's pages together may be this many times one upload's limit (each page is
/// held to that limit alone).
pub const BODY_UPLOADS: usize = 4;

/// `POST /v1/businesses/{id}/documents`: multipart `kind`, `issued_on` (YYYY-MM-DD, where
/// the document's age matters) and one `file` per page, each a photo or a PDF checked as
/// identity documents' uploads are, sealed under the business's key.
pub async fn upload_document(
    State(s): State<Shared>,
    Path(id): Path<String>,
    mut multipart: axum::extract::Multipart,
) -> ApiResult<Response> {
    let b = business_of(&s, &id).await?;
    if !b.status.editable() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_state",
            format!(
                "the business is {}; documents are added while it is a draft or asked to resubmit",
                b.status
            ),
        ));
    }
    let malformed = |e| crate::http::documents::multipart_error(e, s.limits.max_upload_bytes);
    let (mut kind, mut issued_on, mut files) = (None, None, Vec::new());
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or("").to_string();
        let data = field.bytes().await.map_err(malformed)?;
        let text = || {
            std::str::from_utf8(&data)
                .map(|t| t.trim().to_string())
                .map_err(|_| bad("invalid_field", format!("`{name}` is not text")))
        };
        match name.as_str() {
            "kind" if kind.is_none() => kind = Some(text()?),
            "issued_on" if issued_on.is_none() => issued_on = Some(text()?),
            "file" if files.len() < MAX_PAGES => files.push(data),
            "file" => return Err(bad("too_many_pages", format!("at most {MAX_PAGES} pages"))),
            "kind" | "issued_on" => {
                return Err(bad(
                    "duplicate_field",
                    format!("form field `{name}` is given twice"),
                ))
            }
            other => {
                return Err(bad(
                    "unknown_field",
                    format!("unexpected form field `{other}` (expected kind, issued_on, file)"),
                ))
            }
        }
    }
    let kind = kind.ok_or_else(|| bad("missing_field", "form field `kind` is required"))?;
    if s.policy.business.document(&kind).is_none() {
        let known: Vec<&str> = s.policy.business.documents().map(|(k, _)| k).collect();
        return Err(bad(
            "invalid_kind",
            format!("kind: one of {}", known.join(", ")),
        ));
    }
    let issued_on = match issued_on.as_deref() {
        None | Some("") => None,
        Some(d) => Some(
            idgate_mrz::Date::parse_iso(d)
                .filter(|at| *at <= s.today())
                .ok_or_else(|| bad("invalid_issued_on", "issued_on: a past date as YYYY-MM-DD"))?
                .to_string(),
        ),
    };
    if files.is_empty() {
        return Err(bad(
            "missing_field",
            "form field `file` is required (one per page)",
        ));
    }
    let mut checked = Vec::with_capacity(files.len());
    for f in &files {
        let (format, _) = crate::http::documents::check_file(&s, &kind, true, f).await?;
        checked.push(format);
    }
    let mut pages = Vec::with_capacity(files.len());
    for (i, (f, format)) in files.iter().zip(checked).enumerate() {
        let stored = s.blobs.put(idgate_store::Owner::Business(&b.id), f).await;
        let blob_key = match stored {
            Ok(k) => k,
            Err(e) => {
                for p in &pages {
                    let p: &idgate_store::DocumentPage = p;
                    let _ = s.blobs.delete(&p.blob_key).await;
                }
                return Err(e.into());
            }
        };
        pages.push(idgate_store::DocumentPage {
            page: i as i64 + 1,
            blob_key,
            content_type: format.content_type().into(),
            size_bytes: f.len() as i64,
            sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(f)),
        });
    }
    let keys: Vec<String> = pages.iter().map(|p| p.blob_key.clone()).collect();
    match s
        .store
        .add_business_document(&b.id, &kind, issued_on.as_deref(), pages)
        .await
    {
        Ok(d) => Ok((StatusCode::CREATED, Json(document_json(&d))).into_response()),
        Err(e) => {
            for k in &keys {
                let _ = s.blobs.delete(k).await;
            }
            Err(e.into())
        }
    }
}

/// `POST /v1/businesses/{id}/submit`: evaluated at once; the answer is the business with
/// its new status and findings.
pub async fn submit(State(s): State<Shared>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    crate::kyb::submit(&s, &id, "api")
        .await
        .map_err(kyb_error)?;
    Ok(Json(business_view(&s, &id).await?))
}
