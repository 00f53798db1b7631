//! The console's sign-in steps: name and password, the second factor (an app's code or a
//! recovery code), re-authentication, signing out, who is signed in, and setting up an
//! authenticator app. Sessions, cookies and throttling are [`crate::http::console`]'s.

use crate::http::console::{
    clear_cookie, failed, full, log_by, past_second_factor, stage_after_password, start_session,
    throttle, verify_password, Address,
};
use crate::http::error::{parse_json, ApiError, ApiResult};
use crate::signin;
use crate::state::Shared;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use idgate_store::{ConsoleSession, Reviewer, SessionStage};
use serde::Deserialize;
use serde_json::{json, Value};

const ISSUER: &str = "idgate";

// ---- sign-in ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    name: String,
    password: String,
}

/// `POST /console/v1/sign-in`: name and password. Answers the next stage with a new
/// session cookie; any cookie sent along is ignored (and never upgraded).
pub(crate) async fn sign_in(
    State(s): State<Shared>,
    Extension(Address(address)): Extension<Address>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let r: SignIn = parse_json(&body)?;
    let account = r.name.trim().to_string();
    throttle(&s, &account, &address).await?;
    let found = s.store.reviewer_by_name(&account).await?;
    let stored = found.as_ref().and_then(|(_, c)| c.password_hash.clone());
    let ok = verify_password(r.password, stored).await?;
    let Some((reviewer, creds)) = found.filter(|_| ok) else {
        return Err(failed(&s, &account, None, &address, "password").await?);
    };
    let has_passkey = !s.store.passkeys_of(&reviewer.id).await?.is_empty();
    let stage = stage_after_password(reviewer.role, creds.has_totp() || has_passkey);
    let kind = if stage == SessionStage::Full {
        s.store.clear_signin_failures(&account).await?;
        "signin_ok"
    } else {
        "signin_password_ok"
    };
    s.store
        .security_event(kind, &account, Some(&reviewer.id), &address, "")
        .await?;
    start_session(&s, &reviewer, stage, None, json!({})).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SecondFactor {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

/// Checks a TOTP code (once per time step) or a recovery code (once) for `reviewer`.
async fn second_factor_ok(
    s: &Shared,
    reviewer: &Reviewer,
    f: &SecondFactor,
) -> ApiResult<Option<&'static str>> {
    let creds = s.store.credentials(&reviewer.id).await?;
    if let Some(code) = &f.code {
        let Some(key) = creds.totp_key.as_deref().filter(|_| creds.has_totp()) else {
            return Ok(None);
        };
        let secret = s.blobs.get(key).await?;
        let now_secs = (s.store.now() / 1000).max(0) as u64;
        if let Some(step) = signin::totp_step(&secret, code, now_secs) {
            if s.store.use_totp_step(&reviewer.id, step).await? {
                return Ok(Some("totp"));
            }
        }
        return Ok(None);
    }
    if let Some(code) = &f.recovery_code {
        if s.store
            .use_recovery_code(&reviewer.id, &signin::hash_recovery_code(code))
            .await?
        {
            return Ok(Some("recovery_code"));
        }
    }
    Ok(None)
}

/// `POST /console/v1/sign-in/second-factor`: `{code}` from the authenticator app or
/// `{recovery_code}`.
pub(crate) async fn second_factor(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
    Extension(Address(address)): Extension<Address>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    if sess.stage != SessionStage::SecondFactor {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "wrong_stage",
            "this session is not waiting for a second factor",
        ));
    }
    let f: SecondFactor = parse_json(&body)?;
    let account = sess.reviewer.name.clone();
    throttle(&s, &account, &address).await?;
    match second_factor_ok(&s, &sess.reviewer, &f).await? {
        Some(how) => {
            s.store.clear_signin_failures(&account).await?;
            s.store
                .security_event(
                    "signin_ok",
                    &account,
                    Some(&sess.reviewer.id),
                    &address,
                    how,
                )
                .await?;
            let left = s.store.recovery_codes_left(&sess.reviewer.id).await?;
            start_session(
                &s,
                &sess.reviewer,
                SessionStage::Full,
                Some(&sess),
                json!({"recovery_codes_left": left}),
            )
            .await
        }
        None => Err(failed(
            &s,
            &account,
            Some(&sess.reviewer.id),
            &address,
            "second_factor",
        )
        .await?),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reauth {
    password: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

/// `POST /console/v1/reauth`: the password and (where enrolled) a second factor again,
/// before a FINAL rejection or an admin action.
pub(crate) async fn reauth(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
    Extension(Address(address)): Extension<Address>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    full(&sess)?;
    let r: Reauth = parse_json(&body)?;
    let account = sess.reviewer.name.clone();
    throttle(&s, &account, &address).await?;
    let creds = s.store.credentials(&sess.reviewer.id).await?;
    if !verify_password(r.password, creds.password_hash.clone()).await? {
        return Err(failed(&s, &account, Some(&sess.reviewer.id), &address, "password").await?);
    }
    if !creds.has_totp() && !s.store.passkeys_of(&sess.reviewer.id).await?.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "use_passkey",
            "confirm with your passkey (POST /console/v1/passkeys/sign-in/finish with purpose reauth)",
        ));
    }
    if creds.has_totp() {
        let f = SecondFactor {
            code: r.code,
            recovery_code: r.recovery_code,
        };
        if second_factor_ok(&s, &sess.reviewer, &f).await?.is_none() {
            return Err(failed(
                &s,
                &account,
                Some(&sess.reviewer.id),
                &address,
                "second_factor",
            )
            .await?);
        }
    }
    s.store.refresh_console_session(&sess.id).await?;
    s.store
        .security_event("reauth_ok", &account, Some(&sess.reviewer.id), &address, "")
        .await?;
    let until = s.store.now() + s.console.fresh_auth_secs as i64 * 1000;
    Ok(Json(json!({"fresh_until": idgate_core::rfc3339(until)})))
}

pub(crate) async fn sign_out(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
    Extension(Address(address)): Extension<Address>,
) -> ApiResult<Response> {
    s.store.end_console_session(&sess.id).await?;
    log_by(&s, &sess, "sign_out", &address, "").await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie(&s));
    Ok(res)
}

/// `GET /console/v1/me`: who is signed in, at which stage, the CSRF token, the factors.
pub(crate) async fn me(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
) -> ApiResult<Response> {
    let creds = s.store.credentials(&sess.reviewer.id).await?;
    let fresh_until = sess.fresh_at + s.console.fresh_auth_secs as i64 * 1000;
    let body = json!({
        "id": sess.reviewer.id,
        "name": sess.reviewer.name,
        "role": sess.reviewer.role.as_str(),
        "stage": sess.stage.as_str(),
        "csrf_token": sess.csrf,
        "totp": creds.has_totp(),
        "passkeys": s.store.passkeys_of(&sess.reviewer.id).await?.len(),
        "recovery_codes_left": s.store.recovery_codes_left(&sess.reviewer.id).await?,
        "fresh_until": idgate_core::rfc3339(fresh_until),
        "expires_at": idgate_core::rfc3339(sess.expires_at),
        "idle_timeout_secs": s.console.idle_timeout_secs,
    });
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

// ---- TOTP enrolment ----

/// `POST /console/v1/totp/enrol`: a new secret for the authenticator app, as a QR code,
/// an `otpauth://` URI and base32 text. Pending until confirmed with a code.
pub(crate) async fn totp_enrol(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
) -> ApiResult<Response> {
    past_second_factor(&sess)?;
    let secret = signin::new_totp_secret();
    let key = s.blobs.put(idgate_store::Owner::System, &secret).await?;
    match s.store.set_pending_totp(&sess.reviewer.id, &key).await {
        Ok(Some(old)) => s.blobs.delete(&old).await?,
        Ok(None) => {}
        Err(e) => {
            s.blobs.delete(&key).await?;
            return Err(e.into());
        }
    }
    let uri = signin::otpauth_uri(&secret, ISSUER, &sess.reviewer.name);
    let svg = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError::internal(format!("QR code: {e}")))?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "secret": signin::totp_base32(&secret),
            "otpauth_uri": uri,
            "qr_svg": svg,
        })),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Confirm {
    code: String,
}

/// `POST /console/v1/totp/confirm`: the first code from the app confirms the secret; the
/// answer holds ten recovery codes, shown this once. A session that had to enrol is signed
/// in from here (with a new token).
pub(crate) async fn totp_confirm(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
    Extension(Address(address)): Extension<Address>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    past_second_factor(&sess)?;
    let c: Confirm = parse_json(&body)?;
    let creds = s.store.credentials(&sess.reviewer.id).await?;
    let Some(key) = creds.totp_key.as_deref().filter(|_| !creds.has_totp()) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "nothing_to_confirm",
            "start with POST /console/v1/totp/enrol",
        ));
    };
    let secret = s.blobs.get(key).await?;
    let now_secs = (s.store.now() / 1000).max(0) as u64;
    let Some(step) = signin::totp_step(&secret, &c.code, now_secs) else {
        return Err(ApiError::bad_request(
            "wrong_code",
            "that code does not match: check the phone's clock and type the current code",
        ));
    };
    let codes = signin::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| signin::hash_recovery_code(c))
        .collect();
    s.store
        .confirm_totp(&sess.reviewer.id, step, &hashes)
        .await?;
    log_by(&s, &sess, "totp_enrolled", &address, "").await?;
    let body = json!({"recovery_codes": codes});
    if sess.stage == SessionStage::Enrol {
        s.store.clear_signin_failures(&sess.reviewer.name).await?;
        start_session(&s, &sess.reviewer, SessionStage::Full, Some(&sess), body).await
    } else {
        let mut res = Json(body).into_response();
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(res)
    }
}
