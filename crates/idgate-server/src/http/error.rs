//! Errors: one [`ApiError`] maps to a status and a JSON body `{"error": {"code",
//! "message"}}`. 5xx bodies say nothing internal; the cause is logged once, without
//! personal data.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use idgate_store::StoreError;
use serde_json::json;

/// When to try again after a dependency did not answer.
const RETRY_UNAVAILABLE_MS: i64 = 5_000;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// When the request may be made again (ms): `retry_after` in the body (RFC 3339) and a
    /// `Retry-After` header (seconds).
    retry_after: Option<(i64, i64)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    /// 429: the account must wait until `at_ms` (it is `now_ms`).
    pub(crate) fn cooldown(at_ms: i64, now_ms: i64) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!(
                "too many failed attempts in a short time; try again after {}",
                idgate_core::rfc3339(at_ms)
            ),
        );
        e.retry_after = Some((at_ms, now_ms));
        e
    }
    /// 429: the caller has used its allowance of requests; one more is allowed in
    /// `wait_ms` (it is `now_ms`).
    pub(crate) fn rate_limited(wait_ms: i64, now_ms: i64) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests in a short time; slow down and try again after Retry-After seconds",
        );
        e.retry_after = Some((now_ms + wait_ms, now_ms));
        e
    }
    /// 503: a service idgate depends on did not answer; nothing was changed, and the
    /// same request may be made again in a few seconds.
    pub(crate) fn unavailable() -> ApiError {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the service's storage is unavailable for a moment; nothing was changed; try again shortly",
        );
        let now = idgate_core::Clock::now_ms(&idgate_core::SystemClock);
        e.retry_after = Some((now + RETRY_UNAVAILABLE_MS, now));
        e
    }
    pub fn code(&self) -> &'static str {
        self.code
    }
    /// The same status (and `retry_after`) with another code and message.
    pub(crate) fn set_code(&mut self, code: &'static str, message: impl Into<String>) {
        self.code = code;
        self.message = message.into();
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// A failure of ours: logged (the message names the failing step, never input data),
    /// answered without detail.
    pub(crate) fn internal(message: String) -> ApiError {
        tracing::error!(error = %message, "internal failure");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
    pub(crate) fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            format!("the file is larger than {limit} bytes"),
        )
    }
    pub(crate) fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound { what } => ApiError::not_found(what),
            StoreError::Conflict(msg) => ApiError::new(StatusCode::CONFLICT, "conflict", msg),
            StoreError::Gone(msg) => ApiError::new(StatusCode::GONE, "gone", msg),
            StoreError::Erased => ApiError::new(
                StatusCode::GONE,
                "erased",
                "this applicant's data was erased",
            ),
            // A stored file that is no longer there: removed by retention or an erasure.
            e if e.is_missing_object() => ApiError::new(
                StatusCode::GONE,
                "erased",
                "this file is no longer kept (the retention period ended, or it was erased)",
            ),
            StoreError::SecondReviewerRequired => ApiError::new(
                StatusCode::CONFLICT,
                "second_reviewer_required",
                "you gave this change its first approval; a different reviewer must give the second",
            ),
            StoreError::Unchecked => ApiError::new(
                StatusCode::CONFLICT,
                "not_checked",
                "the automated checks did not decide this case (they could not run), so it \
                 cannot be approved; ask the applicant to retry or reject it",
            ),
            StoreError::DuplicateDocument => ApiError::new(
                StatusCode::CONFLICT,
                "duplicate_identity",
                "this document is verified on another account",
            ),
            StoreError::BusinessTransition(t) => ApiError::new(
                StatusCode::CONFLICT,
                "invalid_state",
                format!("the business is {}; this action is not possible now", t.from),
            ),
            StoreError::Transition(t) => ApiError::new(
                StatusCode::CONFLICT,
                "invalid_state",
                format!("the case is {}; this action is not possible now", t.from),
            ),
            // The object store or the database did not answer (S3 down, PostgreSQL
            // restarting): nothing was stored, and the same request will work again.
            e if e.is_unavailable() => {
                tracing::error!(error = %e, "a dependency is unavailable");
                ApiError::unavailable()
            }
            other => {
                // Store errors carry no personal data: values are bound, never formatted.
                tracing::error!(error = %other, "storage failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": {"code": self.code, "message": self.message}});
        match self.retry_after {
            Some((at, now)) => {
                body["error"]["retry_after"] = json!(idgate_core::rfc3339(at));
                let secs = ((at - now).max(0) + 999) / 1000;
                (
                    self.status,
                    [(header::RETRY_AFTER, secs.to_string())],
                    Json(body),
                )
                    .into_response()
            }
            None => (self.status, Json(body)).into_response(),
        }
    }
}

/// A value outside its domain ([`crate::validate`]): a 400 naming the field.
impl From<crate::validate::Invalid> for ApiError {
    fn from(e: crate::validate::Invalid) -> ApiError {
        ApiError::bad_request(e.code, e.message)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Parses a JSON body with a 400 that says what is wrong.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("invalid request body: {e}")))
}

/// A refused input image as the API answers it: one code and status per problem, the same
/// on every route that takes images (`POST /v1/cases/{id}/documents`, `/v1/precheck`,
/// liveness frames).
pub fn input_error(e: &idgate_vision::input::InputError) -> ApiError {
    use idgate_vision::input::InputError;
    let status = match e {
        InputError::Empty => StatusCode::BAD_REQUEST,
        InputError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        InputError::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        InputError::TooManyPixels { .. } | InputError::Corrupt(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    ApiError::new(status, e.code(), e.to_string())
}
