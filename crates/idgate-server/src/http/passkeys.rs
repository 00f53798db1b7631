//! Passkeys (WebAuthn, relying party by `webauthn-rs`) for the console: a reviewer registers
//! discoverable credentials from a session, and signs in with one alone — the authenticator
//! verifies the person (user verification is required), so a passkey is both factors. The
//! relying party is the host of `flow.public_url`, which must be a domain name (browsers
//! refuse an IP address as a relying party).
//!
//! Ceremonies (their challenge and policy) are kept in the store for five minutes and
//! taken once. Credentials are found by their id; a credential whose signature counter does
//! not move forward is refused by webauthn-rs (`CredentialPossibleCompromise`: a cloned
//! authenticator), and the security log says so.

use crate::http::console::{
    failed, full, log_by, past_second_factor, require_fresh, session_of, start_session, throttle,
    Address,
};
use crate::http::error::{parse_json, ApiError, ApiResult};
use crate::signin;
use crate::state::Shared;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use idgate_store::{ConsoleSession, SessionStage};
use serde::Deserialize;
use serde_json::{json, Value};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};

const CEREMONY_MS: i64 = 5 * 60_000;

/// The relying party for the service's public address.
fn relying_party(s: &Shared) -> ApiResult<Webauthn> {
    let unavailable = || {
        ApiError::new(
            StatusCode::CONFLICT,
            "passkeys_unavailable",
            "passkeys need the console on a domain name: set flow.public_url (for example \
             https://kyc.example.com, or http://localhost:8080 on one machine)",
        )
    };
    let url = Url::parse(&s.flow.public_url).map_err(|_| unavailable())?;
    let host = url.host_str().ok_or_else(unavailable)?.to_string();
    let bracketed = host.trim_start_matches('[').trim_end_matches(']');
    if bracketed.parse::<std::net::IpAddr>().is_ok() {
        return Err(unavailable());
    }
    let origin = Url::parse(&url.origin().ascii_serialization()).map_err(|_| unavailable())?;
    WebauthnBuilder::new(&host, &origin)
        .and_then(|b| b.rp_name("idgate").build())
        .map_err(|_| unavailable())
}

fn refused(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "passkey_refused",
        format!("the passkey's answer was not accepted: {what}"),
    )
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("passkey state: {e}"))
}

fn reviewer_uuid(id: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| ApiError::internal("reviewer id is not a UUID".into()))
}

// ---- registration (from a session) ----

/// `POST /console/v1/passkeys/register/start`: the options for
/// `navigator.credentials.create`, asking for a discoverable credential with user
/// verification, excluding the reviewer's registered ones.
pub async fn register_start(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
) -> ApiResult<Json<Value>> {
    past_second_factor(&sess)?;
    let wa = relying_party(&s)?;
    let mut existing = Vec::new();
    for p in s.store.passkeys_of(&sess.reviewer.id).await? {
        let pk: Passkey = serde_json::from_str(&p.passkey).map_err(internal)?;
        existing.push(pk.cred_id().clone());
    }
    let name = &sess.reviewer.name;
    let (ccr, reg) = wa
        .start_passkey_registration(
            reviewer_uuid(&sess.reviewer.id)?,
            name,
            name,
            Some(existing),
        )
        .map_err(internal)?;
    let mut options = serde_json::to_value(&ccr).map_err(internal)?;
    // A passkey that signs in alone must be discoverable (stored on the authenticator).
    let sel = &mut options["publicKey"]["authenticatorSelection"];
    sel["residentKey"] = json!("required");
    sel["requireResidentKey"] = json!(true);
    let state = serde_json::to_string(&reg).map_err(internal)?;
    let ceremony = s
        .store
        .start_ceremony("register", Some(&sess.reviewer.id), &state, CEREMONY_MS)
        .await?;
    Ok(Json(json!({"ceremony": ceremony, "options": options})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterFinish {
    ceremony: String,
    #[serde(default)]
    name: Option<String>,
    credential: RegisterPublicKeyCredential,
}

/// `POST /console/v1/passkeys/register/finish`: the authenticator's answer. The first
/// second factor of an account also brings its ten recovery codes; a session that had to
/// enrol is signed in from here.
pub async fn register_finish(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
    Extension(Address(address)): Extension<Address>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    past_second_factor(&sess)?;
    let f: RegisterFinish = parse_json(&body)?;
    let name = f.name.as_deref().map(str::trim).unwrap_or("").to_string();
    let name = if name.is_empty() {
        "passkey".to_string()
    } else {
        crate::validate::text("invalid_name", "name", &name, 64)?;
        name
    };
    let wa = relying_party(&s)?;
    let Some((Some(owner), state)) = s.store.take_ceremony(&f.ceremony, "register").await? else {
        return Err(refused("the registration expired; start again"));
    };
    if owner != sess.reviewer.id {
        return Err(refused("the registration belongs to another session"));
    }
    let reg: PasskeyRegistration = serde_json::from_str(&state).map_err(internal)?;
    let pk = wa
        .finish_passkey_registration(&f.credential, &reg)
        .map_err(|e| refused(&e.to_string()))?;
    let first_factor = {
        let creds = s.store.credentials(&sess.reviewer.id).await?;
        !creds.has_totp() && s.store.passkeys_of(&sess.reviewer.id).await?.is_empty()
    };
    let stored = serde_json::to_string(&pk).map_err(internal)?;
    let added = s
        .store
        .add_passkey(
            &sess.reviewer.id,
            &hex::encode(pk.cred_id()),
            &name,
            &stored,
        )
        .await?;
    log_by(&s, &sess, "passkey_enrolled", &address, &name).await?;
    let mut body = json!({"id": added.id, "name": added.name});
    if first_factor {
        let codes = signin::new_recovery_codes();
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| signin::hash_recovery_code(c))
            .collect();
        s.store
            .replace_recovery_codes(&sess.reviewer.id, &hashes)
            .await?;
        body["recovery_codes"] = json!(codes);
    }
    if sess.stage == SessionStage::Enrol {
        s.store.clear_signin_failures(&sess.reviewer.name).await?;
        let mut res =
            start_session(&s, &sess.reviewer, SessionStage::Full, Some(&sess), body).await?;
        *res.status_mut() = StatusCode::CREATED;
        return Ok(res);
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /console/v1/passkeys`: the reviewer's own passkeys.
pub async fn list(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
) -> ApiResult<Json<Value>> {
    let list: Vec<Value> = s
        .store
        .passkeys_of(&sess.reviewer.id)
        .await?
        .into_iter()
        .map(|p| {
            json!({"id": p.id, "name": p.name, "created_at": idgate_core::rfc3339(p.created_at),
                   "last_used_at": p.last_used_at.map(idgate_core::rfc3339)})
        })
        .collect();
    Ok(Json(json!({ "passkeys": list })))
}

/// `DELETE /console/v1/passkeys/{id}` (fresh authentication): not the last second factor
/// of a role that needs one.
pub async fn remove(
    State(s): State<Shared>,
    Extension(sess): Extension<ConsoleSession>,
    Extension(Address(address)): Extension<Address>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    full(&sess)?;
    require_fresh(&s, &sess)?;
    let creds = s.store.credentials(&sess.reviewer.id).await?;
    let count = s.store.passkeys_of(&sess.reviewer.id).await?.len();
    if sess.reviewer.role.needs_second_factor() && !creds.has_totp() && count <= 1 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "last_second_factor",
            "set up another passkey or an authenticator app before removing this one",
        ));
    }
    if !s.store.delete_passkey(&sess.reviewer.id, &id).await? {
        return Err(ApiError::not_found("passkey"));
    }
    log_by(&s, &sess, "passkey_removed", &address, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- signing in (no session needed) ----

/// `POST /console/v1/passkeys/sign-in/start`: options for `navigator.credentials.get`
/// that let the authenticator offer any of its passkeys for this site.
pub async fn sign_in_start(State(s): State<Shared>) -> ApiResult<Json<Value>> {
    let wa = relying_party(&s)?;
    let (rcr, auth) = wa.start_discoverable_authentication().map_err(internal)?;
    let mut options = serde_json::to_value(&rcr).map_err(internal)?;
    // A button press, not the browser's autofill (conditional mediation).
    if let Some(o) = options.as_object_mut() {
        o.remove("mediation");
    }
    let state = serde_json::to_string(&auth).map_err(internal)?;
    let ceremony = s
        .store
        .start_ceremony("sign_in", None, &state, CEREMONY_MS)
        .await?;
    Ok(Json(json!({"ceremony": ceremony, "options": options})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInFinish {
    ceremony: String,
    credential: PublicKeyCredential,
    /// `reauth`: prove it is still the signed-in reviewer (fresh authentication).
    #[serde(default)]
    purpose: Option<String>,
}

/// `POST /console/v1/passkeys/sign-in/finish`: the authenticator's assertion. Signs in
/// (a new session; any half-finished one ends), or with `purpose: reauth` refreshes the
/// signed-in reviewer's session.
pub async fn sign_in_finish(
    State(s): State<Shared>,
    Extension(Address(address)): Extension<Address>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let f: SignInFinish = parse_json(&body)?;
    let wa = relying_party(&s)?;
    let (user, cred_id) = wa
        .identify_discoverable_authentication(&f.credential)
        .map_err(|e| refused(&e.to_string()))?;
    let cred_id = hex::encode(cred_id);
    let account = format!("passkey:{}", &cred_id[..cred_id.len().min(16)]);
    throttle(&s, &account, &address).await?;
    let Some((None, state)) = s.store.take_ceremony(&f.ceremony, "sign_in").await? else {
        return Err(refused("the sign-in expired; start again"));
    };
    let stored = s.store.passkey(&cred_id).await?;
    let Some(stored) = stored.filter(|p| p.reviewer_id == user.to_string()) else {
        return Err(failed(&s, &account, None, &address, "passkey").await?);
    };
    let mut pk: Passkey = serde_json::from_str(&stored.passkey).map_err(internal)?;
    let auth: DiscoverableAuthentication = serde_json::from_str(&state).map_err(internal)?;
    let result = match wa.finish_discoverable_authentication_v2(&f.credential, auth, &pk) {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(error = %e, "passkey assertion refused");
            // The library refuses a signature counter that does not move forward: a
            // copied authenticator, logged as such.
            let why = match e {
                WebauthnError::CredentialPossibleCompromise => "passkey_counter",
                _ => "passkey",
            };
            return Err(failed(&s, &account, Some(&stored.reviewer_id), &address, why).await?);
        }
    };
    pk.update_credential(&result);
    s.store
        .passkey_used(&cred_id, &serde_json::to_string(&pk).map_err(internal)?)
        .await?;
    let Some(reviewer) = s.store.reviewer_by_id(&stored.reviewer_id).await? else {
        return Err(failed(&s, &account, None, &address, "passkey").await?);
    };
    let current = session_of(&s, &Method::POST, &headers).await.ok().flatten();
    if f.purpose.as_deref() == Some("reauth") {
        let Some(sess) =
            current.filter(|c| c.reviewer.id == reviewer.id && c.stage == SessionStage::Full)
        else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "reauthentication_required",
                "sign in as the reviewer whose passkey this is",
            ));
        };
        s.store.refresh_console_session(&sess.id).await?;
        s.store
            .security_event(
                "reauth_ok",
                &reviewer.name,
                Some(&reviewer.id),
                &address,
                "passkey",
            )
            .await?;
        let until = s.store.now() + s.console.fresh_auth_secs as i64 * 1000;
        return Ok(Json(json!({"fresh_until": idgate_core::rfc3339(until)})).into_response());
    }
    s.store.clear_signin_failures(&reviewer.name).await?;
    s.store
        .security_event(
            "signin_ok",
            &reviewer.name,
            Some(&reviewer.id),
            &address,
            "passkey",
        )
        .await?;
    start_session(
        &s,
        &reviewer,
        SessionStage::Full,
        current.as_ref(),
        json!({}),
    )
    .await
}
