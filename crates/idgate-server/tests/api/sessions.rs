//! Applicant sessions (issue #25): the hosted flow's credential reaches its applicant's
//! current case and nothing else, expires, is revoked; the page and its assets carry a
//! strict policy; a case is not submitted without its face step.

use super::*;

/// (session id, token) for a new applicant `uid`, and the applicant's id.
async fn session(t: &T, uid: &str, body: Value) -> (String, String, String) {
    let (_, a) = t
        .post_json("/v1/applicants", json!({"uid": uid, "region": "DE"}))
        .await;
    let applicant = a["id"].as_str().unwrap().to_string();
    let (s, v) = t
        .post_json(&format!("/v1/applicants/{applicant}/sessions"), body)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let token = v["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("igs_"), "{v}");
    assert_eq!(
        v["url"].as_str().unwrap(),
        format!("http://127.0.0.1:8080/flow#s={token}"),
        "the token rides in the fragment, never sent to a server"
    );
    (v["id"].as_str().unwrap().to_string(), token, applicant)
}

async fn raw(t: &T, req: Request<Body>) -> axum::http::Response<axum::body::Bytes> {
    let res = t.router.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    axum::http::Response::from_parts(parts, bytes)
}

#[tokio::test]
async fn a_session_reaches_only_its_applicants_current_case() {
    let t = setup(limits()).await;
    let (_, token, applicant) = session(&t, "sess-1", json!({})).await;
    let other_case = t.draft_case("sess-other").await;
    let call = |method: &'static str, uri: String, body: Option<Value>| {
        let token = token.clone();
        let t = &t;
        async move { t.as_reviewer(&token, method, &uri, body).await }
    };

    let (s, v) = call("GET", "/flow/v1/session".into(), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["applicant"]["id"], applicant.as_str());
    assert_eq!(v["applicant"]["region"], "DE");
    assert!(v["case"].is_null() && v["document"].is_null());
    let basic = v["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "basic")
        .unwrap();
    assert_eq!(basic["missing"], json!(["identity_document", "selfie"]));

    // Without a token, with the platform's key, with a reviewer's: not a session.
    let (s, v) = t
        .call(
            Request::get("/flow/v1/session")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (s, _) = t.get("/flow/v1/session").await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "the platform key is no session"
    );
    // And the session is no platform key.
    let (s, _) = call("GET", format!("/v1/cases/{other_case}"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call("GET", format!("/v1/applicants/{applicant}"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // The link as a QR code for a phone, only for the session.
    let res = raw(
        &t,
        Request::get("/flow/v1/qr")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let svg = std::str::from_utf8(res.body()).unwrap();
    assert!(svg.contains("<svg") && svg.contains("<path"), "{svg}");
    let res = raw(&t, Request::get("/flow/v1/qr").body(Body::empty()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Opening the case twice gives the same draft.
    let (s, c) = call("POST", "/flow/v1/cases".into(), None).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let case = c["id"].as_str().unwrap().to_string();
    let (s, again) = call("POST", "/flow/v1/cases".into(), None).await;
    assert_eq!(
        (s, again["id"].as_str()),
        (StatusCode::OK, Some(case.as_str()))
    );

    // Another applicant's case is out of reach, whatever the route.
    for (method, uri) in [
        ("GET", format!("/flow/v1/cases/{other_case}")),
        ("PUT", format!("/flow/v1/cases/{other_case}/data")),
        ("POST", format!("/flow/v1/cases/{other_case}/submit")),
        ("POST", format!("/flow/v1/cases/{other_case}/liveness")),
    ] {
        let (s, v) = call(method, uri.clone(), Some(erika())).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("not_this_session")),
            "{method} {uri}"
        );
    }
    let (s, _) = t
        .multipart_as(
            &token,
            &format!("/flow/v1/cases/{other_case}/documents"),
            &[("kind", b"passport"), ("file", &specimen_jpeg())],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(t
        .state
        .store
        .documents(&other_case)
        .await
        .unwrap()
        .is_empty());

    // Its own case: data, photo, and the face step asked for before submitting.
    let (s, v) = call("PUT", format!("/flow/v1/cases/{case}/data"), Some(erika())).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (_, v) = call("GET", "/flow/v1/session".into(), None).await;
    assert_eq!(
        v["document"],
        json!({"country": "DE", "type": "passport"}),
        "another device carries on from the chosen document"
    );
    let (s, v) = t
        .multipart_as(
            &token,
            &format!("/flow/v1/cases/{case}/documents"),
            &[("kind", b"passport"), ("file", &specimen_jpeg())],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = call("POST", format!("/flow/v1/cases/{case}/submit"), None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("missing_step")),
        "{v}"
    );
    assert!(v["error"]["message"].as_str().unwrap().contains("liveness"));
    let (s, v) = t
        .multipart_as(
            &token,
            &format!("/flow/v1/cases/{case}/documents"),
            &[("kind", b"selfie"), ("file", &specimen_jpeg())],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = call("POST", format!("/flow/v1/cases/{case}/submit"), None).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::ACCEPTED, Some("submitted")),
        "{v}"
    );
    let (s, v) = call("GET", format!("/flow/v1/cases/{case}?lang=zh-Hans"), None).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("submitted"))
    );
    // While it is checked, no second case.
    let (s, v) = call("POST", "/flow/v1/cases".into(), None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
}

#[tokio::test]
async fn sessions_expire_are_revoked_and_are_never_longer_than_configured() {
    let t = setup(limits()).await;
    let now = idgate_core::Clock::now_ms(&*t.clock);
    let (_, a) = t
        .post_json("/v1/applicants", json!({"uid": "sess-2", "region": "DE"}))
        .await;
    let applicant = a["id"].as_str().unwrap();
    let uri = format!("/v1/applicants/{applicant}/sessions");
    let (s, v) = t.post_json(&uri, json!({"ttl_secs": 999_999})).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        v["expires_at"],
        idgate_core::rfc3339(now + 1_800_000),
        "capped at the configured 30 minutes"
    );
    let long = v["token"].as_str().unwrap().to_string();
    for (body, code) in [
        (json!({"ttl_secs": 0}), "invalid_ttl"),
        (
            json!({"redirect_url": "https://evil.example/x"}),
            "invalid_redirect_url",
        ),
        (json!({"levle": "basic"}), "invalid_json"),
    ] {
        let (s, v) = t.post_json(&uri, body).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{v}"
        );
    }
    let (s, _) = t
        .post_json("/v1/applicants/nobody/sessions", json!({}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, v) = t.post_json(&uri, json!({"ttl_secs": 60})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (short, short_id) = (
        v["token"].as_str().unwrap().to_string(),
        v["id"].as_str().unwrap().to_string(),
    );
    let (s, _) = t.as_reviewer(&short, "GET", "/flow/v1/session", None).await;
    assert_eq!(s, StatusCode::OK);
    t.clock.advance_ms(60_000);
    let (s, v) = t.as_reviewer(&short, "GET", "/flow/v1/session", None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_expired"))
    );
    let (s, _) = t.as_reviewer(&long, "GET", "/flow/v1/session", None).await;
    assert_eq!(s, StatusCode::OK, "the longer one still works");

    // Revoked by the platform: refused from then on, and only once.
    let (_, v) = t.post_json(&uri, json!({})).await;
    let id = v["id"].as_str().unwrap();
    let (s, _) = t
        .call(
            t.req("DELETE", &format!("{uri}/{id}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = t
        .as_reviewer(
            v["token"].as_str().unwrap(),
            "GET",
            "/flow/v1/session",
            None,
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("session_revoked"))
    );
    let (s, _) = t
        .call(
            t.req("DELETE", &format!("{uri}/{id}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Another applicant's session cannot be revoked through this one.
    let (_, b) = t
        .post_json("/v1/applicants", json!({"uid": "sess-3", "region": "DE"}))
        .await;
    let (s, _) = t
        .call(
            t.req(
                "DELETE",
                &format!(
                    "/v1/applicants/{}/sessions/{short_id}",
                    b["id"].as_str().unwrap()
                ),
            )
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_page_and_its_assets_carry_a_strict_policy() {
    let t = setup(limits()).await;
    let res = raw(
        &t,
        Request::get("/flow")
            .header("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval") && !csp.contains("http")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    let html = std::str::from_utf8(res.body()).unwrap();
    assert!(
        html.contains("<html lang=\"zh-Hans\">"),
        "Accept-Language picks the page's language"
    );
    // Only this origin's script, no inline script or style, no other host.
    for (i, _) in html.match_indices("<script") {
        assert!(html[i..].starts_with("<script type=\"module\" src=\"/flow/assets/"));
    }
    assert!(!html.contains("style=") && !html.contains("<style") && !html.contains("//cdn"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    let res = raw(
        &t,
        Request::get("/flow?lang=en")
            .header("accept-language", "zh")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(std::str::from_utf8(res.body())
        .unwrap()
        .contains("<html lang=\"en\">"));

    let mut total = 0;
    for (name, ty) in [
        ("app.js", "text/javascript"),
        ("app.css", "text/css"),
        ("en.json", "application/json"),
        ("zh-Hans.json", "application/json"),
    ] {
        let res = raw(
            &t,
            Request::get(format!("/flow/assets/{name}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(ty));
        assert!(res.headers().contains_key("content-security-policy"));
        total += res.body().len();
    }
    assert!(
        total < 150_000,
        "the whole flow is {total} bytes uncompressed"
    );
    // Sent compressed to a browser that takes gzip: the same bytes once unpacked.
    let mut packed_total = 0;
    for name in ["app.js", "dom.js", "app.css", "en.json", "zh-Hans.json"] {
        let get = |gzip: bool| {
            let mut req = Request::get(format!("/flow/assets/{name}"));
            if gzip {
                req = req.header("accept-encoding", "gzip, deflate, br");
            }
            raw(&t, req.body(Body::empty()).unwrap())
        };
        let (plain, packed) = (get(false).await, get(true).await);
        assert!(!plain.headers().contains_key("content-encoding"), "{name}");
        assert_eq!(packed.headers()["content-encoding"], "gzip", "{name}");
        assert_eq!(packed.headers()["vary"], "Accept-Encoding", "{name}");
        assert!(packed.headers().contains_key("content-security-policy"));
        let mut unpacked = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(packed.body().as_ref()),
            &mut unpacked,
        )
        .unwrap();
        assert_eq!(unpacked, plain.body().as_ref(), "{name}");
        packed_total += packed.body().len();
    }
    println!("the flow's assets: {packed_total} bytes sent with gzip");
    assert!(packed_total < total / 2, "{packed_total} of {total}");
    let (s, v) = t.get("/flow/assets/..%2Fsecret").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn embedding_origins_may_frame_the_page_and_receive_the_applicant_back() {
    let mut t = setup(limits()).await;
    // The same state, as `serve` builds it from `flow.embed_origins` and `flow.public_url`.
    let mut flow = idgate_server::config::Flow::for_listen(([127, 0, 0, 1], 8080).into());
    flow.embed_origins = vec!["https://app.example.com".into()];
    flow.public_url = "https://kyc.example.com".into();
    let store = t.state.store.clone();
    let console = t.state.console.clone();
    t.rebuild(store, flow, console);
    let res = raw(&t, Request::get("/flow").body(Body::empty()).unwrap()).await;
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors https://app.example.com"),
        "{csp}"
    );
    let (_, a) = t
        .post_json("/v1/applicants", json!({"uid": "sess-4", "region": "DE"}))
        .await;
    let uri = format!("/v1/applicants/{}/sessions", a["id"].as_str().unwrap());
    let (s, v) = t
        .post_json(
            &uri,
            json!({"redirect_url": "https://app.example.com/kyc/done"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(v["url"]
        .as_str()
        .unwrap()
        .starts_with("https://kyc.example.com/flow#s=igs_"));
    let (_, me) = t
        .as_reviewer(
            v["token"].as_str().unwrap(),
            "GET",
            "/flow/v1/session",
            None,
        )
        .await;
    assert_eq!(me["redirect_url"], "https://app.example.com/kyc/done");
    assert_eq!(me["embed_origins"], json!(["https://app.example.com"]));
    let (s, _) = t
        .post_json(
            &uri,
            json!({"redirect_url": "https://app.example.com.evil.net/x"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "a look-alike host is not the origin"
    );
}

#[tokio::test]
async fn the_platform_chooses_the_level_a_session_verifies_for() {
    let t = setup(limits()).await;
    let (_, a) = t
        .post_json(
            "/v1/applicants",
            json!({"uid": "sess-level", "region": "DE"}),
        )
        .await;
    let applicant = a["id"].as_str().unwrap();
    let (s, v) = t
        .post_json(
            &format!("/v1/applicants/{applicant}/sessions"),
            json!({"level": "gold"}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_level")),
        "{v}"
    );
    let (_, token, _) = session(&t, "sess-level-2", json!({"level": "advanced"})).await;
    let (s, v) = t.as_reviewer(&token, "GET", "/flow/v1/session", None).await;
    assert_eq!(
        (s, v["level"].as_str()),
        (StatusCode::OK, Some("advanced")),
        "{v}"
    );
    // The page cannot open its case at another level than the platform asked for.
    let (s, c) = t
        .as_reviewer(
            &token,
            "POST",
            "/flow/v1/cases",
            Some(json!({"level": "basic"})),
        )
        .await;
    assert_eq!(
        (s, c["level"].as_str()),
        (StatusCode::CREATED, Some("advanced")),
        "{c}"
    );
    // Without a level the page's choice stands, `basic` by default.
    let (_, token, _) = session(&t, "sess-level-3", json!({})).await;
    let (_, v) = t.as_reviewer(&token, "GET", "/flow/v1/session", None).await;
    assert!(v["level"].is_null(), "{v}");
    let (_, c) = t.as_reviewer(&token, "POST", "/flow/v1/cases", None).await;
    assert_eq!(c["level"], "basic", "{c}");
}
