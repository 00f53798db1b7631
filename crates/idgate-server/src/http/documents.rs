//! Document uploads: the checks an upload passes before it is sealed and stored (type by
//! content, size, pixel count, a whole decode), removing a wrong one, and the instant
//! pre-check the applicant's app runs before submitting.

use crate::http::cases::{draft_case, DocumentOut};
use crate::http::error::{input_error, ApiError, ApiResult};
use crate::metrics::inc;
use crate::state::{AppState, Shared};
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idgate_decide::{Policy, Side, UploadKind};
use idgate_store::DocumentData;
use idgate_vision::probe;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The side an upload of `kind` is when none is named, and whether a named `side` is one
/// the policy knows for `kind`.
fn side_of(policy: &Policy, kind: UploadKind, side: Option<&str>) -> ApiResult<Side> {
    let allowed = policy.upload_sides(kind);
    let Some(side) = side else {
        return Ok(allowed[0]);
    };
    Side::parse(side)
        .filter(|s| allowed.contains(s))
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
            ApiError::bad_request(
                "invalid_side",
                format!(
                    "side of a {} must be one of {}",
                    kind.as_str(),
                    names.join(", ")
                ),
            )
        })
}

/// What an upload may be on a route: every kind, or identity documents only.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    Any,
    IdentityDocuments,
}

impl Accepts {
    /// The kinds this route takes, in the catalog's order.
    pub fn kinds(self) -> Vec<UploadKind> {
        UploadKind::all()
            .filter(|k| self == Accepts::Any || matches!(k, UploadKind::Identity(_)))
            .collect()
    }
}

/// The instant pre-check the applicant's app calls before submitting: the photo (raw
/// body, any image type; the format is sniffed) goes through the quality gate, every
/// document-photo check but the MRZ, on a reduced decode. Nothing is stored; the answer
/// has the same reasons, fixes and regions as `idgate check --json`.
pub async fn precheck(State(s): State<Shared>, body: axum::body::Bytes) -> ApiResult<Response> {
    if body.len() > s.limits.max_upload_bytes {
        return Err(ApiError::too_large(s.limits.max_upload_bytes));
    }
    if !body.is_empty() && probe::sniff(&body) == Some(probe::Format::Pdf) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            "the pre-check takes a photo (JPEG, PNG, WebP or HEIC), not a PDF",
        ));
    }
    // The pixel count from the header, before anything decodes (as for an upload).
    if let Some(format) = probe::sniff(&body) {
        if let Some((w, h)) = probe::dimensions(format, &body) {
            if w == 0 || h == 0 || u64::from(w) * u64::from(h) > s.limits.max_pixels {
                return Err(input_error(
                    &idgate_vision::input::InputError::TooManyPixels {
                        width: w,
                        height: h,
                        limit: s.limits.max_pixels,
                    },
                ));
            }
        }
    }
    let opts = s.check_options(s.today());
    let result = tokio::task::spawn_blocking(move || idgate_vision::check::gate(&body, &opts))
        .await
        .map_err(|e| ApiError::internal(format!("pre-check task failed: {e}")))?;
    match result {
        Ok(report) => {
            let mut v = crate::report::photo_report_json("upload", &report);
            if let Some(o) = v.as_object_mut() {
                o.remove("file");
            }
            Ok(Json(v).into_response())
        }
        Err(idgate_vision::check::CheckError::Input(e)) => Err(input_error(&e)),
        Err(e) => Err(ApiError::internal(e.to_string())),
    }
}

pub async fn upload_document(
    State(s): State<Shared>,
    Path(id): Path<String>,
    multipart: Multipart,
) -> ApiResult<Response> {
    let result = store_upload(&s, &id, multipart).await;
    inc(if result.is_ok() {
        &s.metrics.uploads_accepted
    } else {
        &s.metrics.uploads_rejected
    });
    result
}

/// The multipart fields of an upload, each given at most once.
struct UploadForm {
    kind: Option<String>,
    side: Option<String>,
    file: Option<bytes::Bytes>,
}

/// A multipart body that could not be read: over the size limit (`max_bytes`), or malformed.
pub(crate) fn multipart_error(
    e: axum::extract::multipart::MultipartError,
    max_bytes: usize,
) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(max_bytes)
    } else {
        ApiError::bad_request(
            "invalid_multipart",
            format!("malformed multipart body: {}", e.body_text()),
        )
    }
}

async fn read_upload_form(mut multipart: Multipart, max_bytes: usize) -> ApiResult<UploadForm> {
    let malformed = |e| multipart_error(e, max_bytes);
    let mut form = UploadForm {
        kind: None,
        side: None,
        file: None,
    };
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or("").to_string();
        let data = field.bytes().await.map_err(malformed)?;
        let text = || {
            std::str::from_utf8(&data)
                .map(|t| t.trim().to_string())
                .map_err(|_| {
                    ApiError::bad_request("invalid_field", format!("`{name}` is not text"))
                })
        };
        let slot_taken = match name.as_str() {
            "kind" => form.kind.replace(text()?).is_some(),
            "side" => form.side.replace(text()?).is_some(),
            "file" => form.file.replace(data).is_some(),
            other => {
                return Err(ApiError::bad_request(
                    "unknown_field",
                    format!("unexpected form field `{other}` (expected kind, side, file)"),
                ))
            }
        };
        if slot_taken {
            return Err(ApiError::bad_request(
                "duplicate_field",
                format!("form field `{name}` is given twice; send each field once"),
            ));
        }
    }
    Ok(form)
}

/// Checks that `file` is what an upload of `kind` may be, and that it decodes whole: the
/// type by content (a PDF only where [`UploadKind::accepts_pdf`]), the size and pixel count
/// from the header before decoding, then a decode (off the async threads) so a truncated
/// or damaged photo is refused now rather than judged later as a missing document.
/// Returns the format and pixel size.
pub async fn check_upload(
    s: &AppState,
    kind: UploadKind,
    file: &bytes::Bytes,
) -> ApiResult<(probe::Format, Option<(u32, u32)>)> {
    check_file(s, kind.as_str(), kind.accepts_pdf(), file).await
}

/// [`check_upload`] for a file of `kind` (named in the refusal), a PDF allowed or not:
/// identity documents' uploads and businesses' entity documents go through the same checks.
pub async fn check_file(
    s: &AppState,
    kind: &str,
    accepts_pdf: bool,
    file: &bytes::Bytes,
) -> ApiResult<(probe::Format, Option<(u32, u32)>)> {
    use idgate_vision::input::InputError;
    if file.is_empty() {
        return Err(input_error(&InputError::Empty));
    }
    if file.len() > s.limits.max_upload_bytes {
        return Err(ApiError::too_large(s.limits.max_upload_bytes));
    }
    let format = probe::sniff(file).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            "the file is not a JPEG, PNG, WebP, HEIC or PDF; upload a photo straight from the camera",
        )
    })?;
    if format == probe::Format::Pdf {
        if !accepts_pdf {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_file_type",
                format!(
                    "a {kind} is photographed: upload a JPEG, PNG, WebP or HEIC photo, not a PDF"
                ),
            ));
        }
        if !probe::pdf_complete(file) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unreadable_file",
                "the PDF is truncated (it has no end-of-file marker); upload the original file again",
            ));
        }
        return Ok((format, None));
    }
    let dims = probe::dimensions(format, file);
    if format != probe::Format::Heic && dims.is_none() {
        return Err(input_error(&InputError::Corrupt(
            "the image header is damaged or truncated".into(),
        )));
    }
    if let Some((w, h)) = dims {
        if w == 0 || h == 0 || u64::from(w) * u64::from(h) > s.limits.max_pixels {
            return Err(input_error(&InputError::TooManyPixels {
                width: w,
                height: h,
                limit: s.limits.max_pixels,
            }));
        }
    }
    if format == probe::Format::Jpeg && !probe::jpeg_complete(file) {
        return Err(input_error(&InputError::Corrupt(
            "the JPEG data is truncated (no end-of-image marker after its last scan)".into(),
        )));
    }
    let limits = s.limits.input();
    let bytes = file.clone();
    // A reduced decode reads every coded block, so it finds damage as a full one would.
    let decoded = tokio::task::spawn_blocking(move || {
        idgate_vision::input::decode_scaled(&bytes, limits, 256)
            .map(|d| (d.stored_width, d.stored_height))
    })
    .await
    .map_err(|e| ApiError::internal(format!("decode task failed: {e}")))?;
    match decoded {
        Ok(wh) => Ok((format, dims.or(Some(wh)))),
        Err(e) => Err(input_error(&e)),
    }
}

/// What a document upload belongs to.
#[derive(Clone, Copy)]
pub enum Owner<'a> {
    Case(&'a str),
    ChangeRequest(&'a str),
}

/// Reads an upload form whose `kind` is one of `kinds`, checks the file ([`check_upload`]),
/// seals it in the blob store and records it for `owner`. The blobs of the documents it
/// replaces are deleted; if recording fails (the owner changed under us) so is its own, so
/// no orphaned encrypted blob is left.
pub async fn keep_upload(
    s: &AppState,
    owner: Owner<'_>,
    applicant_id: &str,
    multipart: Multipart,
    accepts: Accepts,
) -> ApiResult<idgate_store::Added> {
    let form = read_upload_form(multipart, s.limits.max_upload_bytes).await?;
    let kind = form
        .kind
        .ok_or_else(|| ApiError::bad_request("missing_field", "form field `kind` is required"))?;
    let kinds = accepts.kinds();
    let Some(kind) = UploadKind::parse(&kind).filter(|k| kinds.contains(k)) else {
        let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        return Err(ApiError::bad_request(
            "invalid_kind",
            format!("kind must be one of {}", names.join(", ")),
        ));
    };
    let side = side_of(&s.policy, kind, form.side.as_deref())?;
    let file = form
        .file
        .ok_or_else(|| ApiError::bad_request("missing_field", "form field `file` is required"))?;
    let (format, dims) = check_upload(s, kind, &file).await?;
    let blob_key = s
        .blobs
        .put(idgate_store::Owner::Applicant(applicant_id), &file)
        .await
        .map_err(ApiError::from)?;
    let (owner_id, actor) = match owner {
        Owner::Case(id) | Owner::ChangeRequest(id) => (id, "api"),
    };
    let doc = DocumentData {
        case_id: owner_id.into(),
        kind: kind.as_str().into(),
        side: side.as_str().into(),
        blob_key: blob_key.clone(),
        content_type: format.content_type().into(),
        size_bytes: file.len() as i64,
        sha256: hex::encode(Sha256::digest(&file)),
        width: dims.map(|d| i64::from(d.0)),
        height: dims.map(|d| i64::from(d.1)),
    };
    let added = match owner {
        Owner::Case(_) => s.store.add_document(doc, actor).await,
        Owner::ChangeRequest(_) => s.store.add_change_document(doc, actor).await,
    };
    match added {
        Ok(a) => {
            for old in &a.replaced {
                let _ = s.blobs.delete(&old.data.blob_key).await;
            }
            Ok(a)
        }
        Err(e) => {
            let _ = s.blobs.delete(&blob_key).await;
            Err(e.into())
        }
    }
}

async fn store_upload(s: &AppState, case_id: &str, multipart: Multipart) -> ApiResult<Response> {
    let case = draft_case(s, case_id, "documents can only be added before submitting").await?;
    let added = keep_upload(
        s,
        Owner::Case(case_id),
        &case.applicant_id,
        multipart,
        Accepts::Any,
    )
    .await?;
    let replaces = added.replaced.first().map(|d| d.id.clone());
    let mut out = serde_json::to_value(DocumentOut::from(added.document))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    out["replaces"] = json!(replaces);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// Removes a wrong upload from a draft case.
pub async fn delete_document(
    State(s): State<Shared>,
    Path((id, doc)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let removed = s.store.delete_document(&id, &doc, "api").await?;
    let _ = s.blobs.delete(&removed.data.blob_key).await;
    Ok(StatusCode::NO_CONTENT)
}
