//! The authorisation matrix (issue #28): every operation of the OpenAPI document, called
//! with every kind of credential (the console's cookie among them). Only the credential its
//! security scheme names gets past authentication; no credential, a wrong or revoked key,
//! a revoked session, and every other kind of credential are refused with 401 before
//! anything is done. An auditor
//! passes the review API's authentication and may only read. Every answer carries the
//! security headers: no sniffing, and on the API no caching and no framing.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cred {
    None,
    WrongKey,
    RevokedKey,
    ApiKey,
    Reviewer,
    Auditor,
    Session,
    RevokedSession,
    /// A signed-in admin's console cookie, with its CSRF token.
    ConsoleCookie,
}

const ALL: [Cred; 9] = [
    Cred::None,
    Cred::WrongKey,
    Cred::RevokedKey,
    Cred::ApiKey,
    Cred::Reviewer,
    Cred::Auditor,
    Cred::Session,
    Cred::RevokedSession,
    Cred::ConsoleCookie,
];

/// (applicant id, session token) of a new applicant with a draft case opened by its page.
async fn session(t: &T, uid: &str) -> (String, String, String) {
    let (_, a) = t
        .post_json("/v1/applicants", json!({"uid": uid, "region": "DE"}))
        .await;
    let applicant = a["id"].as_str().unwrap().to_string();
    let (_, v) = t
        .post_json(&format!("/v1/applicants/{applicant}/sessions"), json!({}))
        .await;
    let token = v["token"].as_str().unwrap().to_string();
    let (s, c) = t
        .as_reviewer(&token, "POST", "/flow/v1/cases", Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    (applicant, v["id"].as_str().unwrap().to_string(), token)
}

#[tokio::test]
async fn every_route_admits_only_the_credential_it_names() {
    let t = setup(limits()).await;
    let revoked_key = generate_api_key();
    let stored = t
        .state
        .store
        .create_api_key("old", &hash_api_key(&revoked_key))
        .await
        .unwrap();
    assert!(t.state.store.revoke_api_key(&stored.id).await.unwrap());
    let reviewer = t.reviewer("rita", "reviewer").await;
    let auditor = t.reviewer("carl", "auditor").await;
    let (_, _, token) = session(&t, "matrix-1").await;
    let (gone_applicant, gone_id, gone_token) = session(&t, "matrix-2").await;
    assert!(t
        .state
        .store
        .revoke_session(&gone_applicant, &gone_id)
        .await
        .unwrap());
    // The session's current case: a flow route on another case is refused for that.
    let (_, flow) = t.as_reviewer(&token, "GET", "/flow/v1/session", None).await;
    let case = flow["case"]["id"].as_str().unwrap().to_string();
    let bearer = |c: Cred| -> Option<String> {
        match c {
            Cred::None => None,
            Cred::WrongKey => Some("idg_0000000000000000000000000000000000000000".into()),
            Cred::RevokedKey => Some(revoked_key.clone()),
            Cred::ApiKey => Some(t.key.clone()),
            Cred::Reviewer => Some(reviewer.clone()),
            Cred::Auditor => Some(auditor.clone()),
            Cred::Session => Some(token.clone()),
            Cred::RevokedSession => Some(gone_token.clone()),
            Cred::ConsoleCookie => None,
        }
    };
    // The console's admin, signed in again after the route that signs out.
    let (mut admins, mut console) = (0u8, None::<super::console::Jar>);

    let doc = idgate_server::http::openapi::document();
    let global = doc["security"].clone();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let security = op.get("security").unwrap_or(&global);
            let schemes: Vec<&str> = security
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| r.as_object().unwrap().keys().map(String::as_str))
                .collect();
            // Identifiers that exist where a wrong one would be refused for that alone.
            let uri = path
                .replace("/flow/v1/cases/{id}", &format!("/flow/v1/cases/{case}"))
                .replace("/v1/catalog/{country}", "/v1/catalog/DE")
                .replace(['{', '}'], "");
            // A public route (health, pages, catalogue, sign-in) answers without one.
            let creds: &[Cred] = if schemes.is_empty() {
                &[Cred::None]
            } else {
                &ALL
            };
            for &cred in creds {
                let admitted = match cred {
                    Cred::ApiKey => schemes.contains(&"apiKey"),
                    Cred::Reviewer | Cred::Auditor => schemes.contains(&"reviewerToken"),
                    Cred::Session => schemes.contains(&"sessionToken"),
                    Cred::ConsoleCookie => schemes.contains(&"consoleSession"),
                    _ => false,
                };
                let mut req = Request::builder()
                    .method(method.to_uppercase().as_str())
                    .uri(&uri)
                    .header("content-type", "application/json")
                    .header("origin", "http://127.0.0.1:8080");
                if let Some(b) = bearer(cred) {
                    req = req.header("authorization", format!("Bearer {b}"));
                }
                if cred == Cred::ConsoleCookie {
                    if console.is_none() {
                        admins += 1;
                        let name = format!("matrix-admin-{admins}");
                        let from = [10, 0, 0, admins];
                        console = Some(super::console::enrolled(&t, &name, "admin", from).await.0);
                    }
                    let jar = console.as_ref().unwrap();
                    req = req
                        .header(
                            "cookie",
                            format!("idgate_console={}", jar.cookie.as_deref().unwrap()),
                        )
                        .header("x-csrf-token", jar.csrf.as_deref().unwrap());
                    if uri.ends_with("/sign-out") {
                        console = None;
                    }
                }
                let body = if method == "get" || method == "delete" {
                    Body::empty()
                } else {
                    Body::from("{}")
                };
                let res = t
                    .router
                    .clone()
                    .oneshot(req.body(body).unwrap())
                    .await
                    .unwrap();
                let status = res.status();
                let headers = res.headers().clone();
                // An event stream stays open: its headers are the answer.
                let streams = headers
                    .get("content-type")
                    .is_some_and(|c| c.as_bytes().starts_with(b"text/event-stream"));
                let bytes = if streams {
                    Default::default()
                } else {
                    res.into_body().collect().await.unwrap().to_bytes()
                };
                let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                let header = |n: &str| headers.get(n).and_then(|h| h.to_str().ok());
                let api = ["/v1/", "/flow/v1/", "/console/v1/"]
                    .iter()
                    .any(|p| uri.starts_with(p));
                if header("x-content-type-options") != Some("nosniff")
                    || (api && header("cache-control") != Some("no-store"))
                    || (api
                        && !header("content-security-policy")
                            .is_some_and(|c| c.contains("frame-ancestors 'none'")))
                {
                    wrong.push(format!("{method} {path} as {cred:?}: headers {headers:?}"));
                }
                checked += 1;
                let ok = if schemes.is_empty() {
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::NOT_FOUND
                } else if admitted {
                    // Past authentication: any answer but 401 (save a password or code in
                    // the body found wrong); a 403 only for an auditor's change (the role)
                    // and never for the credential itself.
                    (status != StatusCode::UNAUTHORIZED || v["error"]["code"] == "bad_credentials")
                        && (status != StatusCode::FORBIDDEN
                            || (cred == Cred::Auditor && method != "get"))
                } else {
                    status == StatusCode::UNAUTHORIZED
                        || (schemes.contains(&"consoleSession") && status == StatusCode::FORBIDDEN)
                };
                if !ok {
                    wrong.push(format!("{method} {path} as {cred:?}: {status} {v}"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked}:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        checked > 500,
        "{checked} calls: every secured route × 9 credentials"
    );
}
