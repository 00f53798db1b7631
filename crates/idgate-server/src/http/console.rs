//! Reviewer sign-in for the console (`/console/v1/...`): invitations, password plus a
//! second factor (TOTP with recovery codes), cookie sessions, re-authentication, throttling
//! and the security log. The console's pages call the review API (`/v1/review/...`) with
//! the session cookie instead of a bearer token; [`crate::http::auth::require_reviewer`]
//! takes either.
//!
//! * The cookie `idgate_console` is HttpOnly, SameSite=Strict, `Secure` when the service's
//!   public address is https (`console.secure_cookie`), and holds a random token of which
//!   only the SHA-256 is stored. A session ends after `console.idle_timeout_secs` without a
//!   request and after `console.max_session_secs` in all.
//! * Every stage change (password accepted, second factor accepted, enrolment confirmed)
//!   ends the session and starts a new one with a new token: a token planted before the
//!   sign-in never becomes a signed-in one (session fixation).
//! * Every state-changing request with the cookie carries the session's CSRF token in
//!   `X-CSRF-Token`; a request whose `Origin` is not the service's own is refused.
//! * A FINAL rejection and the admin actions need the password and second factor proved
//!   within `console.fresh_auth_secs` (`POST /console/v1/reauth`).
//! * Failed sign-ins are counted per account name and per client address; past the limit
//!   the answer is 429 with `Retry-After`, before any password is checked.

use crate::credentials::hash_token;
use crate::http::error::{ApiError, ApiResult};
use crate::signin;
use crate::state::Shared;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idgate_core::ReviewerRole;
use idgate_store::{ConsoleSession, Reviewer, SessionStage, StoreError};
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr};

pub const COOKIE: &str = "idgate_console";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session waits between the password and the second factor (or enrolment).
const HALF_SIGNED_IN_MS: i64 = 10 * 60_000;

// ---- cookies, addresses, origins ----

/// The console token in the request's `Cookie` header.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

fn set_cookie(s: &Shared, token: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if s.console.secure_cookie {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    ))
    .expect("a token of hex digits is a valid header value")
}

pub(crate) fn clear_cookie(s: &Shared) -> HeaderValue {
    let secure = if s.console.secure_cookie {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
    ))
    .expect("static cookie")
}

/// The client's address: the socket's, or behind one of the `trusted` reverse proxies the
/// last address in `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends
/// the address it saw, so what lies before that one could be written by the client).
pub fn client_address(req: &Request, trusted: &[IpAddr]) -> String {
    let Some(peer) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return "unknown".into();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.into_iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip.to_string(),
            // A hop that is no address cannot be told apart from one a client wrote.
            Err(_) => break,
        }
    }
    peer.to_string()
}

/// Writes an event of the signed-in reviewer of `sess` to the security log.
pub(crate) async fn log_by(
    s: &crate::state::AppState,
    sess: &ConsoleSession,
    kind: &str,
    address: &str,
    detail: &str,
) -> Result<(), StoreError> {
    let r = &sess.reviewer;
    s.store
        .security_event(kind, &r.name, Some(&r.id), address, detail)
        .await
}

/// A browser's request from another site: `Origin` present and neither the configured
/// public address nor this request's own host.
fn cross_origin(s: &Shared, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let public = origin_of(&s.flow.public_url);
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let own =
        host.is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"));
    !(own || Some(origin) == public.as_deref())
}

fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    Some(format!("{scheme}://{host}"))
}

fn changes_state(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Every console route: another site's state change is refused, and the client's
/// address rides in the request for throttling and the security log.
pub(crate) async fn same_origin(State(s): State<Shared>, mut req: Request, next: Next) -> Response {
    if changes_state(req.method()) && cross_origin(&s, req.headers()) {
        return refused_origin().into_response();
    }
    let addr = client_address(&req, &s.console.trusted_proxies);
    req.extensions_mut().insert(Address(addr));
    next.run(req).await
}

fn refused_origin() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_origin",
        "requests to the console come from its own pages only",
    )
}

fn bad_csrf() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf",
        "missing or wrong X-CSRF-Token for this session",
    )
}

fn signed_out() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "signed_out",
        "no console session, or it has ended (idle too long, too old, or signed out)",
    )
}

/// The session of the request's cookie, at any stage, with the CSRF token checked for a
/// state-changing method. `Ok(None)` without a cookie.
pub async fn session_of(
    s: &Shared,
    method: &Method,
    headers: &HeaderMap,
) -> ApiResult<Option<ConsoleSession>> {
    let Some(token) = cookie_token(headers) else {
        return Ok(None);
    };
    let idle_ms = s.console.idle_timeout_secs as i64 * 1000;
    let Some(sess) = s.store.console_session(&hash_token(token), idle_ms).await? else {
        return Err(signed_out());
    };
    if changes_state(method) {
        if cross_origin(s, headers) {
            return Err(refused_origin());
        }
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if !sent.is_some_and(|t| constant_eq(t.as_bytes(), sess.csrf.as_bytes())) {
            return Err(bad_csrf());
        }
    }
    Ok(Some(sess))
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) async fn require_session(
    State(s): State<Shared>,
    mut req: Request,
    next: Next,
) -> Response {
    match session_of(&s, req.method(), req.headers()).await {
        Ok(Some(sess)) => {
            req.extensions_mut().insert(sess);
            next.run(req).await
        }
        Ok(None) => signed_out().into_response(),
        Err(e) => e.into_response(),
    }
}

/// The client's address (as the socket saw it), for throttling and the security log.
#[derive(Clone)]
pub struct Address(pub String);

pub(crate) fn full(sess: &ConsoleSession) -> ApiResult<()> {
    if sess.stage != SessionStage::Full {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "sign_in_incomplete",
            match sess.stage {
                SessionStage::Enrol => "enrol a second factor first",
                _ => "give your second factor first",
            },
        ));
    }
    Ok(())
}

/// Past the second-factor step: signed in, or enrolling one (setting up an app or a passkey
/// is for those two stages only).
pub(crate) fn past_second_factor(sess: &ConsoleSession) -> ApiResult<()> {
    if sess.stage == SessionStage::SecondFactor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "sign_in_incomplete",
            "give your second factor first",
        ));
    }
    Ok(())
}

/// The reviewer proved who they are within `console.fresh_auth_secs`; a FINAL rejection
/// and admin actions ask for this.
pub fn require_fresh(s: &Shared, sess: &ConsoleSession) -> ApiResult<()> {
    if s.store.now() - sess.fresh_at > s.console.fresh_auth_secs as i64 * 1000 {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "reauthentication_required",
            "confirm your password and second factor again (POST /console/v1/reauth)",
        ));
    }
    Ok(())
}

pub(crate) fn admin(sess: &ConsoleSession) -> ApiResult<()> {
    full(sess)?;
    if !sess.reviewer.role.administers() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role may not administer reviewers",
        ));
    }
    Ok(())
}

/// Starts a session at `stage` (ending `old`, if any) and answers `body` with its cookie
/// and CSRF token.
pub(crate) async fn start_session(
    s: &Shared,
    reviewer: &Reviewer,
    stage: SessionStage,
    old: Option<&ConsoleSession>,
    mut body: Value,
) -> ApiResult<Response> {
    if let Some(old) = old {
        s.store.end_console_session(&old.id).await?;
    }
    let token = format!("idc_{}", random_hex(32));
    let csrf = random_hex(16);
    // The way from the password to the second factor is short; the signed-in session's
    // absolute lifetime starts when the sign-in is complete.
    let lifetime = if stage == SessionStage::Full {
        s.console.max_session_secs as i64 * 1000
    } else {
        HALF_SIGNED_IN_MS.min(s.console.max_session_secs as i64 * 1000)
    };
    s.store
        .create_console_session(&reviewer.id, &hash_token(&token), stage, &csrf, lifetime)
        .await?;
    body["stage"] = json!(stage.as_str());
    body["csrf_token"] = json!(csrf);
    let mut res = Json(body).into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(s, &token, lifetime / 1000));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    hex::encode(b)
}

/// The stage after the password: the second factor when one is enrolled (an app or a
/// passkey), enrolment when the role needs one, otherwise signed in.
pub(crate) fn stage_after_password(role: ReviewerRole, has_second_factor: bool) -> SessionStage {
    if has_second_factor {
        SessionStage::SecondFactor
    } else if role.needs_second_factor() {
        SessionStage::Enrol
    } else {
        SessionStage::Full
    }
}

pub(crate) async fn hash_password(pw: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || signin::hash_password(&pw))
        .await
        .map_err(|e| ApiError::internal(format!("password hashing: {e}")))
}

pub(crate) async fn verify_password(pw: String, stored: Option<String>) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || signin::verify_password(&pw, stored.as_deref()))
        .await
        .map_err(|e| ApiError::internal(format!("password check: {e}")))
}

// ---- throttling ----

/// 429 when the account or the address has used up its failures in the window.
pub(crate) async fn throttle(s: &Shared, account: &str, address: &str) -> ApiResult<()> {
    let now = s.store.now();
    let window = s.console.failure_window_secs as i64 * 1000;
    let [(by_account, first_a), (by_address, first_b)] = s
        .store
        .signin_failures_since(account, address, now - window)
        .await?;
    let over = [
        (by_account >= s.console.max_failures_per_account, first_a),
        (by_address >= s.console.max_failures_per_address, first_b),
    ];
    if let Some(first) = over
        .iter()
        .filter(|(o, _)| *o)
        .filter_map(|(_, f)| *f)
        .max()
    {
        s.store
            .security_event("signin_throttled", account, None, address, "")
            .await?;
        let mut e = ApiError::cooldown(first + window, now);
        e.set_code(
            "signin_throttled",
            format!(
                "too many failed sign-ins; try again after {}",
                idgate_core::rfc3339(first + window)
            ),
        );
        return Err(e);
    }
    Ok(())
}

/// Records a failed sign-in (throttling, security log) and answers the refusal.
pub(crate) async fn failed(
    s: &Shared,
    account: &str,
    reviewer_id: Option<&str>,
    address: &str,
    what: &str,
) -> ApiResult<ApiError> {
    s.store.record_signin_failure(account, address).await?;
    s.store
        .security_event("signin_failed", account, reviewer_id, address, what)
        .await?;
    Ok(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
        match what {
            "password" => "wrong name or password",
            w if w.starts_with("passkey") => "this passkey is not registered here or was refused",
            _ => "wrong or already used code",
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(peer: &str, forwarded: &[&str]) -> Request {
        let mut req = Request::new(axum::body::Body::empty());
        for f in forwarded {
            req.headers_mut()
                .append("x-forwarded-for", HeaderValue::from_str(f).unwrap());
        }
        let addr = SocketAddr::new(peer.parse().unwrap(), 40000);
        req.extensions_mut().insert(ConnectInfo(addr));
        req
    }

    #[test]
    fn the_client_is_the_socket_unless_a_trusted_proxy_says_otherwise() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let edge: IpAddr = "10.0.0.1".parse().unwrap();
        let trusted = [proxy, edge];
        // No proxy trusted: a header anyone can write changes nothing.
        assert_eq!(
            client_address(&from("203.0.113.9", &["198.51.100.7"]), &[]),
            "203.0.113.9"
        );
        // From a trusted proxy: the last hop it did not add itself.
        assert_eq!(
            client_address(&from("10.0.0.2", &["198.51.100.7"]), &trusted),
            "198.51.100.7"
        );
        // A client's own header before the proxies' is not believed; trusted hops are skipped.
        assert_eq!(
            client_address(
                &from("10.0.0.2", &["1.2.3.4, 198.51.100.7", "10.0.0.1"]),
                &trusted
            ),
            "198.51.100.7"
        );
        // Not from a trusted proxy: the header is ignored.
        assert_eq!(
            client_address(&from("192.0.2.50", &["198.51.100.7"]), &trusted),
            "192.0.2.50"
        );
        // From a trusted proxy that forwarded nothing readable: the proxy's own address.
        assert_eq!(client_address(&from("10.0.0.2", &[]), &trusted), "10.0.0.2");
        assert_eq!(
            client_address(&from("10.0.0.2", &["junk"]), &trusted),
            "10.0.0.2"
        );
        assert_eq!(client_address(&from("::1", &[]), &trusted), "::1");
        assert_eq!(
            client_address(&Request::new(axum::body::Body::empty()), &trusted),
            "unknown"
        );
    }
}
