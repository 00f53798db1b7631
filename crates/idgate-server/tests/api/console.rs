//! Reviewer sign-in for the console: an invitation, a password, TOTP with recovery codes,
//! cookie sessions and what guards them (CSRF, origin, fixation, timeouts, throttling,
//! fresh authentication, roles), and the security log. TOTP itself is checked against
//! the RFC 6238 / RFC 4226 vectors in the shared test data.

use super::*;
use idgate_server::signin;

const PASSWORD: &str = "violet-anchor-97-brisk-lantern";

/// What a browser keeps for the console: the cookie and the CSRF token it was given.
#[derive(Clone, Default)]
pub(super) struct Jar {
    pub(super) cookie: Option<String>,
    pub(super) csrf: Option<String>,
    address: Option<std::net::SocketAddr>,
    origin: Option<String>,
}

struct Answer {
    status: StatusCode,
    body: Value,
    set_cookie: Option<String>,
    retry_after: Option<String>,
}

impl Jar {
    fn from(address: [u8; 4]) -> Jar {
        Jar {
            address: Some((address, 40_000).into()),
            ..Jar::default()
        }
    }

    /// Sends a request as the console page would, keeping any cookie and CSRF token the
    /// answer gives.
    async fn send(&mut self, t: &T, method: &str, uri: &str, body: Option<Value>) -> Answer {
        let csrf = self.csrf.clone();
        self.send_with(t, method, uri, body, csrf.as_deref()).await
    }

    async fn send_with(
        &mut self,
        t: &T,
        method: &str,
        uri: &str,
        body: Option<Value>,
        csrf: Option<&str>,
    ) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "127.0.0.1:8080");
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        if let Some(c) = &self.cookie {
            req = req.header("cookie", format!("theme=dark; idgate_console={c}"));
        }
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        if let Some(o) = &self.origin {
            req = req.header("origin", o);
        }
        let mut req = req
            .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
            .unwrap();
        if let Some(a) = self.address {
            req.extensions_mut().insert(axum::extract::ConnectInfo(a));
        }
        let res = t.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let header = |n: &str| {
            res.headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let (set_cookie, retry_after) = (header("set-cookie"), header("retry-after"));
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if let Some(sc) = &set_cookie {
            let v = sc
                .strip_prefix("idgate_console=")
                .unwrap()
                .split(';')
                .next()
                .unwrap();
            self.cookie = (!v.is_empty()).then(|| v.to_string());
        }
        if let Some(c) = body["csrf_token"].as_str() {
            self.csrf = Some(c.to_string());
        }
        Answer {
            status,
            body,
            set_cookie,
            retry_after,
        }
    }
}

fn code(a: &Answer) -> &str {
    a.body["error"]["code"].as_str().unwrap_or("")
}

fn now_secs(t: &T) -> u64 {
    (t.state.store.now() / 1000) as u64
}

async fn invite(t: &T, name: &str, role: &str) -> String {
    let (st, body) = t
        .post_json("/v1/reviewer-invites", json!({"name": name, "role": role}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let url = body["url"].as_str().unwrap();
    let token = body["token"].as_str().unwrap().to_string();
    assert!(url.ends_with(&format!("/console#invite={token}")), "{url}");
    token
}

/// An invited reviewer with a password and a confirmed authenticator app, signed in.
/// Returns the browser and the TOTP secret.
pub(super) async fn enrolled(t: &T, name: &str, role: &str, from: [u8; 4]) -> (Jar, Vec<u8>) {
    let token = invite(t, name, role).await;
    let mut jar = Jar::from(from);
    let a = jar
        .send(
            t,
            "POST",
            "/console/v1/invites/accept",
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["stage"], "enrol");
    let e = jar.send(t, "POST", "/console/v1/totp/enrol", None).await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.body);
    let secret = super::base32::decode(e.body["secret"].as_str().unwrap());
    let c = jar
        .send(
            t,
            "POST",
            "/console/v1/totp/confirm",
            Some(json!({"code": signin::totp_at(&secret, now_secs(t))})),
        )
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.body);
    assert_eq!(c.body["stage"], "full");
    (jar, secret)
}

#[tokio::test]
async fn totp_codes_follow_the_rfc_vectors() {
    let v: Value = serde_json::from_slice(&testdata::read(
        "totp_webauthn_vectors/totp_hotp_vectors.json",
    ))
    .unwrap();
    let rfc = &v["rfc6238_totp"];
    let digits = rfc["digits"].as_u64().unwrap() as usize;
    let mut n = 0;
    for case in rfc["cases"].as_array().unwrap() {
        let secret = case["secret_ascii"].as_str().unwrap().as_bytes();
        let alg = case["algorithm"].as_str().unwrap();
        for pair in case["values"].as_array().unwrap() {
            let t = pair[0].as_u64().unwrap();
            let want = pair[1].as_str().unwrap();
            assert_eq!(
                signin::totp_code(alg, digits, secret, t).as_deref(),
                Some(want),
                "{alg} t={t}"
            );
            n += 1;
        }
    }
    assert_eq!(n, 18);
    // RFC 4226's HOTP values are the TOTP codes of step = counter.
    let hotp = &v["rfc4226_hotp"];
    for h in [hotp, &hotp["other_secret"]] {
        let secret = super::base32::decode(h["secret_base32"].as_str().unwrap());
        for pair in h["values"].as_array().unwrap() {
            let counter = pair[0].as_u64().unwrap();
            assert_eq!(
                signin::totp_code("SHA1", 6, &secret, counter * 30).unwrap(),
                pair[1].as_str().unwrap()
            );
        }
    }
    // Verification: a code is taken for its own step, or one step either side.
    for case in v["totp_verification"].as_array().unwrap() {
        let secret = super::base32::decode(case["secret_base32"].as_str().unwrap());
        let Some(t) = case["unix_time"].as_u64() else {
            continue; // negative times: no console clock reads before 1970
        };
        let step = (t / 30) as i64;
        if let Some(code) = case["code"].as_str() {
            let valid = case["expected_valid"].as_bool().unwrap();
            let found = signin::totp_step(&secret, code, t);
            assert_eq!(found == Some(step), valid, "{case}");
        }
        if let Some(accepted) = case["accepted_codes"].as_object() {
            for code in accepted.keys() {
                assert!(signin::totp_step(&secret, code, t).is_some(), "{code}");
            }
            for code in case["rejected_codes"].as_array().unwrap() {
                assert_eq!(signin::totp_step(&secret, code.as_str().unwrap(), t), None);
            }
        }
    }
    // The provisioning URI's label: issuer and account percent-encoded.
    for case in v["provisioning_uri_cases"].as_array().unwrap() {
        let (Some(name), Some(issuer), None) = (
            case["name"].as_str(),
            case["issuer"].as_str(),
            case["digits"].as_u64(),
        ) else {
            continue;
        };
        if case["type"] != "totp" {
            continue;
        }
        let secret = super::base32::decode(case["secret"].as_str().unwrap());
        let uri = signin::otpauth_uri(&secret, issuer, name);
        let path = uri.strip_prefix("otpauth://totp").unwrap();
        assert!(
            path.starts_with(&format!("{}?", case["expected_path"].as_str().unwrap())),
            "{uri}"
        );
        assert!(uri
            .to_lowercase()
            .contains(&format!("secret={}", case["secret"].as_str().unwrap())));
    }
}

#[tokio::test]
async fn an_invited_reviewer_chooses_a_password_enrols_an_app_and_signs_in() {
    let t = setup(limits()).await;
    let token = invite(&t, "li.wei", "reviewer").await;
    let mut jar = Jar::from([10, 0, 0, 1]);
    let i = jar
        .send(
            &t,
            "POST",
            "/console/v1/invites/inspect",
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(i.status, StatusCode::OK);
    assert_eq!(i.body["name"], "li.wei");
    assert_eq!(i.body["needs_second_factor"], true);
    // Weak passwords are refused and the invitation stays usable.
    for (pw, want) in [
        ("short1!", "password_too_short"),
        ("password123456", "password_too_common"),
        ("li.weili.weili.wei", "password_too_common"),
    ] {
        let a = jar
            .send(
                &t,
                "POST",
                "/console/v1/invites/accept",
                Some(json!({"token": token, "password": pw})),
            )
            .await;
        assert_eq!((a.status, code(&a)), (StatusCode::BAD_REQUEST, want));
    }
    let a = jar
        .send(
            &t,
            "POST",
            "/console/v1/invites/accept",
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["stage"], "enrol");
    let flags = a.set_cookie.unwrap();
    for f in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=600"] {
        assert!(flags.contains(f), "{flags}");
    }
    assert!(!flags.contains("Secure"), "plain http: no Secure flag");
    // Used once.
    let again = Jar::from([10, 0, 0, 1])
        .send(
            &t,
            "POST",
            "/console/v1/invites/accept",
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        (again.status, code(&again)),
        (StatusCode::GONE, "invite_used_or_expired")
    );

    // Before a second factor, the review API stays closed.
    let q = jar.send(&t, "GET", "/v1/review/queue", None).await;
    assert_eq!(
        (q.status, code(&q)),
        (StatusCode::UNAUTHORIZED, "sign_in_incomplete")
    );
    let e = jar.send(&t, "POST", "/console/v1/totp/enrol", None).await;
    assert!(e.body["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/idgate:li.wei?secret="));
    assert!(e.body["qr_svg"].as_str().unwrap().starts_with("<?xml"));
    let secret = super::base32::decode(e.body["secret"].as_str().unwrap());
    let wrong = jar
        .send(
            &t,
            "POST",
            "/console/v1/totp/confirm",
            Some(json!({"code": "000000"})),
        )
        .await;
    assert_eq!(code(&wrong), "wrong_code");
    let enrol_cookie = jar.cookie.clone();
    let now_code = signin::totp_at(&secret, now_secs(&t));
    let c = jar
        .send(
            &t,
            "POST",
            "/console/v1/totp/confirm",
            Some(json!({"code": now_code})),
        )
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.body);
    assert!(c.set_cookie.as_deref().unwrap().contains("Max-Age=43200"));
    let recovery: Vec<String> = c.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(recovery.len(), 10);
    // A new token for the signed-in session; the enrolment one is over.
    assert_ne!(jar.cookie, enrol_cookie);
    let mut old = Jar {
        cookie: enrol_cookie,
        ..jar.clone()
    };
    let o = old.send(&t, "GET", "/console/v1/me", None).await;
    assert_eq!(
        (o.status, code(&o)),
        (StatusCode::UNAUTHORIZED, "signed_out")
    );
    let q = jar.send(&t, "GET", "/v1/review/queue", None).await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    let me = jar.send(&t, "GET", "/console/v1/me", None).await;
    assert_eq!(me.body["role"], "reviewer");
    assert_eq!(me.body["totp"], true);
    assert_eq!(me.body["recovery_codes_left"], 10);

    // Signed out, then in again: password, then the app's code, never the same one twice.
    let out = jar.send(&t, "POST", "/console/v1/sign-out", None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    let mut jar = Jar::from([10, 0, 0, 1]);
    let wrong_pw = jar
        .send(
            &t,
            "POST",
            "/console/v1/sign-in",
            Some(json!({"name": "li.wei", "password": "violet-anchor-97-brisk-lanterN"})),
        )
        .await;
    assert_eq!(
        (wrong_pw.status, code(&wrong_pw)),
        (StatusCode::UNAUTHORIZED, "bad_credentials")
    );
    let unknown = jar
        .send(
            &t,
            "POST",
            "/console/v1/sign-in",
            Some(json!({"name": "nobody", "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        unknown.body, wrong_pw.body,
        "an unknown name answers as a wrong password"
    );
    let p = jar
        .send(
            &t,
            "POST",
            "/console/v1/sign-in",
            Some(json!({"name": "li.wei", "password": PASSWORD})),
        )
        .await;
    assert_eq!(p.body["stage"], "second_factor", "{}", p.body);
    let q = jar.send(&t, "GET", "/v1/review/queue", None).await;
    assert_eq!(q.status, StatusCode::UNAUTHORIZED);
    let replay = jar
        .send(
            &t,
            "POST",
            "/console/v1/sign-in/second-factor",
            Some(json!({"code": now_code})),
        )
        .await;
    assert_eq!(code(&replay), "bad_credentials", "a code is accepted once");
    t.clock.advance_ms(30_000);
    let f = jar
        .send(
            &t,
            "POST",
            "/console/v1/sign-in/second-factor",
            Some(json!({"code": signin::totp_at(&secret, now_secs(&t))})),
        )
        .await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.body);
    assert_eq!(f.body["stage"], "full");

    // A recovery code instead of the app, once.
    for (i, want) in [(0, StatusCode::OK), (1, StatusCode::UNAUTHORIZED)] {
        let mut j = Jar::from([10, 0, 0, 1]);
        j.send(
            &t,
            "POST",
            "/console/v1/sign-in",
            Some(json!({"name": "li.wei", "password": PASSWORD})),
        )
        .await;
        let r = j
            .send(
                &t,
                "POST",
                "/console/v1/sign-in/second-factor",
                Some(json!({"recovery_code": recovery[0].to_uppercase()})),
            )
            .await;
        assert_eq!(r.status, want, "attempt {i}: {}", r.body);
        if want == StatusCode::OK {
            assert_eq!(r.body["recovery_codes_left"], 9);
        }
    }

    let kinds: Vec<String> = t
        .state
        .store
        .security_events(100)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| format!("{}:{}", e.kind, e.detail))
        .collect();
    for k in [
        "invite_created:reviewer",
        "invite_accepted:reviewer",
        "totp_enrolled:",
        "sign_out:",
        "signin_failed:password",
        "signin_password_ok:",
        "signin_failed:second_factor",
        "signin_ok:totp",
        "signin_ok:recovery_code",
    ] {
        assert!(kinds.contains(&k.to_string()), "{k} not in {kinds:?}");
    }
    // No secret in the log.
    let log = format!("{kinds:?}");
    assert!(!log.contains(PASSWORD) && !log.contains(&recovery[1]));
}

#[tokio::test]
async fn state_changes_need_the_csrf_token_and_the_own_origin() {
    let t = setup(limits()).await;
    let case = case_in_review(&t, "u-csrf").await;
    let (mut jar, _) = enrolled(&t, "csrf.rev", "reviewer", [10, 0, 0, 2]).await;
    let claim = format!("/v1/review/cases/{case}/claim");
    let none = jar.send_with(&t, "POST", &claim, None, None).await;
    assert_eq!((none.status, code(&none)), (StatusCode::FORBIDDEN, "csrf"));
    let wrong = jar.send_with(&t, "POST", &claim, None, Some("0123")).await;
    assert_eq!(code(&wrong), "csrf");
    let mut evil = Jar {
        origin: Some("https://evil.example".into()),
        ..jar.clone()
    };
    let x = evil.send(&t, "POST", &claim, None).await;
    assert_eq!(
        (x.status, code(&x)),
        (StatusCode::FORBIDDEN, "cross_origin")
    );
    let x = evil
        .send(
            &t,
            "POST",
            "/console/v1/sign-in",
            Some(json!({"name": "csrf.rev", "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        code(&x),
        "cross_origin",
        "no sign-in from another site's form"
    );
    // Reading needs no token; the page's own origin is fine.
    let mut own = Jar {
        origin: Some("http://127.0.0.1:8080".into()),
        ..jar.clone()
    };
    assert_eq!(
        own.send(&t, "GET", "/v1/review/queue", None).await.status,
        StatusCode::OK
    );
    let ok = own.send(&t, "POST", &claim, None).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body["claimed_by"].is_string());
    let ok = jar
        .send(
            &t,
            "POST",
            &format!("/v1/review/cases/{case}/comments"),
            Some(json!({"visibility": "internal", "body": "looked at the photo"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    // The audit trail names the console reviewer.
    let (_, detail) = t
        .as_reviewer(
            &t.reviewer("auditor.bot", "auditor").await,
            "GET",
            &format!("/v1/review/cases/{case}"),
            None,
        )
        .await;
    assert!(detail["events"].to_string().contains("reviewer:csrf.rev"));
}

#[tokio::test]
async fn a_cookie_planted_before_sign_in_never_becomes_a_session() {
    let t = setup(limits()).await;
    let (mut jar, secret) = enrolled(&t, "fix.rev", "reviewer", [10, 0, 0, 3]).await;
    jar.send(&t, "POST", "/console/v1/sign-out", None).await;
    // The attacker's chosen value, and then a real pre-sign-in session of theirs.
    let mut victim = Jar::from([10, 0, 0, 3]);
    victim.cookie = Some("idc_attackerchosen".into());
    let planted = victim.cookie.clone();
    let p = victim
        .send(
            &t,
            "POST",
            "/console/v1/sign-in",
            Some(json!({"name": "fix.rev", "password": PASSWORD})),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert_ne!(victim.cookie, planted);
    let half = victim.cookie.clone();
    t.clock.advance_ms(30_000);
    victim
        .send(
            &t,
            "POST",
            "/console/v1/sign-in/second-factor",
            Some(json!({"code": signin::totp_at(&secret, now_secs(&t))})),
        )
        .await;
    assert_ne!(victim.cookie, half);
    for c in [planted, half] {
        let mut attacker = Jar {
            cookie: c,
            ..Jar::from([10, 0, 0, 66])
        };
        let q = attacker.send(&t, "GET", "/v1/review/queue", None).await;
        assert_eq!(q.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        victim
            .send(&t, "GET", "/v1/review/queue", None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_absolute_lifetime() {
    let t = setup(limits()).await;
    let (mut jar, _) = enrolled(&t, "idle.rev", "reviewer", [10, 0, 0, 4]).await;
    // Active every 20 minutes: alive until 12 hours after sign-in, not a minute longer.
    let mut elapsed = 0;
    while elapsed + 20 * 60_000 < 12 * 3_600_000 {
        t.clock.advance_ms(20 * 60_000);
        elapsed += 20 * 60_000;
        let me = jar.send(&t, "GET", "/console/v1/me", None).await;
        assert_eq!(me.status, StatusCode::OK, "after {elapsed} ms");
    }
    t.clock.advance_ms(12 * 3_600_000 - elapsed);
    let me = jar.send(&t, "GET", "/console/v1/me", None).await;
    assert_eq!(
        (me.status, code(&me)),
        (StatusCode::UNAUTHORIZED, "signed_out")
    );

    let (mut jar, _) = enrolled(&t, "idle.two", "reviewer", [10, 0, 0, 4]).await;
    t.clock.advance_ms(29 * 60_000);
    assert_eq!(
        jar.send(&t, "GET", "/console/v1/me", None).await.status,
        StatusCode::OK
    );
    t.clock.advance_ms(30 * 60_000);
    let me = jar.send(&t, "GET", "/v1/review/queue", None).await;
    assert_eq!(
        (me.status, code(&me)),
        (StatusCode::UNAUTHORIZED, "signed_out")
    );
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_account_and_per_address() {
    let t = setup(limits()).await;
    let (mut first, _) = enrolled(&t, "slow.rev", "reviewer", [10, 0, 0, 5]).await;
    first.send(&t, "POST", "/console/v1/sign-out", None).await;
    let sign_in = |pw: &'static str, name: &'static str| json!({"name": name, "password": pw});
    let mut jar = Jar::from([10, 0, 0, 5]);
    for _ in 0..5 {
        let a = jar
            .send(
                &t,
                "POST",
                "/console/v1/sign-in",
                Some(sign_in("wrong password here", "slow.rev")),
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    // The right password is not even checked now, from any address.
    for addr in [[10, 0, 0, 5], [192, 168, 7, 7]] {
        let a = Jar::from(addr)
            .send(
                &t,
                "POST",
                "/console/v1/sign-in",
                Some(sign_in(PASSWORD, "slow.rev")),
            )
            .await;
        assert_eq!(
            (a.status, code(&a)),
            (StatusCode::TOO_MANY_REQUESTS, "signin_throttled")
        );
        assert_eq!(a.retry_after.as_deref(), Some("900"));
    }
    t.clock.advance_ms(15 * 60_000);
    let a = Jar::from([10, 0, 0, 5])
        .send(
            &t,
            "POST",
            "/console/v1/sign-in",
            Some(sign_in(PASSWORD, "slow.rev")),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    // One address guessing many names: stopped after 20, whatever the name.
    let names = [
        "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11", "a12", "a13", "a14",
        "a15", "a16", "a17", "a18", "a19", "a20",
    ];
    let mut spray = Jar::from([203, 0, 113, 9]);
    for n in names {
        let a = spray
            .send(
                &t,
                "POST",
                "/console/v1/sign-in",
                Some(sign_in("Winter2026!Winter", n)),
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let a = spray
        .send(
            &t,
            "POST",
            "/console/v1/sign-in",
            Some(sign_in(PASSWORD, "slow.rev")),
        )
        .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    // The account itself is fine from elsewhere.
    let a = Jar::from([10, 0, 0, 5])
        .send(
            &t,
            "POST",
            "/console/v1/sign-in",
            Some(sign_in(PASSWORD, "slow.rev")),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let events = t.state.store.security_events(200).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.kind == "signin_throttled" && e.address == "203.0.113.9"));
    assert_eq!(
        events.iter().filter(|e| e.kind == "signin_failed").count(),
        25
    );
}

#[tokio::test]
async fn a_final_rejection_needs_the_reviewer_to_prove_who_they_are_again() {
    let t = setup(limits()).await;
    let case = case_in_review(&t, "u-final").await;
    let (mut jar, secret) = enrolled(&t, "final.rev", "reviewer", [10, 0, 0, 6]).await;
    jar.send(&t, "POST", &format!("/v1/review/cases/{case}/claim"), None)
        .await;
    t.clock.advance_ms(6 * 60_000);
    let reject = json!({"decision": "reject", "reasons": ["DUPLICATE_IDENTITY"]});
    let path = format!("/v1/review/cases/{case}/decision");
    let r = jar.send(&t, "POST", &path, Some(reject.clone())).await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::FORBIDDEN, "reauthentication_required")
    );
    let bad = jar
        .send(
            &t,
            "POST",
            "/console/v1/reauth",
            Some(json!({"password": PASSWORD, "code": "123456"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let ok = jar
        .send(
            &t,
            "POST",
            "/console/v1/reauth",
            Some(json!({"password": PASSWORD, "code": signin::totp_at(&secret, now_secs(&t))})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let r = jar.send(&t, "POST", &path, Some(reject)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "rejected");
}

#[tokio::test]
async fn roles_admins_invite_and_disable_auditors_only_read() {
    let t = setup(limits()).await;
    let case = case_in_review(&t, "u-roles").await;
    let (mut admin, secret) = enrolled(&t, "root.admin", "admin", [10, 0, 0, 7]).await;
    let (mut rev, _) = enrolled(&t, "plain.rev", "reviewer", [10, 0, 0, 8]).await;
    // An auditor signs in with a password alone and only reads.
    let token = invite(&t, "read.only", "auditor").await;
    let mut aud = Jar::from([10, 0, 0, 9]);
    let a = aud
        .send(
            &t,
            "POST",
            "/console/v1/invites/accept",
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    assert_eq!(a.body["stage"], "full");
    assert_eq!(
        aud.send(&t, "GET", &format!("/v1/review/cases/{case}"), None)
            .await
            .status,
        StatusCode::OK
    );
    let c = aud
        .send(&t, "POST", &format!("/v1/review/cases/{case}/claim"), None)
        .await;
    assert_eq!(c.status, StatusCode::FORBIDDEN);
    let i = aud
        .send(
            &t,
            "POST",
            "/console/v1/invites",
            Some(json!({"name": "x1", "role": "admin"})),
        )
        .await;
    assert_eq!(i.status, StatusCode::FORBIDDEN);
    // A reviewer does not administer.
    assert_eq!(
        rev.send(&t, "GET", "/console/v1/reviewers", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        rev.send(&t, "GET", "/console/v1/security-events", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // A reviewer cannot decide a case another holds.
    rev.send(&t, "POST", &format!("/v1/review/cases/{case}/claim"), None)
        .await;
    let taken = admin
        .send(
            &t,
            "POST",
            &format!("/v1/review/cases/{case}/decision"),
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);

    // The admin invites (fresh from sign-in) and, after re-authenticating, disables.
    let i = admin
        .send(
            &t,
            "POST",
            "/console/v1/invites",
            Some(json!({"name": "new.rev", "role": "reviewer"})),
        )
        .await;
    assert_eq!(i.status, StatusCode::CREATED, "{}", i.body);
    assert!(i.body["url"]
        .as_str()
        .unwrap()
        .contains("/console#invite=idi_"));
    let list = admin.send(&t, "GET", "/console/v1/reviewers", None).await;
    let rev_id = list.body["reviewers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "plain.rev")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.clock.advance_ms(6 * 60_000);
    let d = admin
        .send(
            &t,
            "DELETE",
            &format!("/console/v1/reviewers/{rev_id}"),
            None,
        )
        .await;
    assert_eq!(code(&d), "reauthentication_required");
    admin
        .send(
            &t,
            "POST",
            "/console/v1/reauth",
            Some(json!({"password": PASSWORD, "code": signin::totp_at(&secret, now_secs(&t))})),
        )
        .await;
    let d = admin
        .send(
            &t,
            "DELETE",
            &format!("/console/v1/reviewers/{rev_id}"),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.body);
    let gone = rev.send(&t, "GET", "/v1/review/queue", None).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
    let log = admin
        .send(&t, "GET", "/console/v1/security-events", None)
        .await;
    let kinds: Vec<&str> = log.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"reviewer_disabled") && kinds.contains(&"reauth_ok"));
}

#[tokio::test]
async fn the_cookie_is_secure_behind_https() {
    let mut t = setup(limits()).await;
    let mut flow = t.state.flow.clone();
    flow.public_url = "https://kyc.example.com".into();
    let console = idgate_server::config::Console::for_public_url(&flow.public_url);
    let store = t.state.store.clone();
    t.rebuild(store, flow, console);
    let token = invite(&t, "tls.rev", "reviewer").await;
    let mut jar = Jar::from([10, 0, 0, 10]);
    jar.origin = Some("https://kyc.example.com".into());
    let a = jar
        .send(
            &t,
            "POST",
            "/console/v1/invites/accept",
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert!(a.set_cookie.unwrap().ends_with("; Secure"));
}

#[tokio::test]
async fn hostile_input_never_becomes_markup_and_the_console_is_never_framed() {
    let t = setup(limits()).await;
    // A name carrying markup is refused where it enters.
    let case = t.draft_case("u-xss").await;
    let mut data = erika();
    data["name"]["given"] = json!("<img src=x onerror=alert(1)>");
    let (s, body) = t
        .send_json("PUT", &format!("/v1/cases/{case}/data"), data)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    // SVG and HTML are not images idgate takes, whatever the part's content type says.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>"#;
    let html = b"<!doctype html><html><body><script>alert(1)</script></body></html>";
    for file in [&svg[..], &html[..]] {
        let (s, body) = t
            .upload(&case, &[("kind", b"passport"), ("file", file)])
            .await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
        assert_eq!(body["error"]["code"], "unsupported_file_type");
    }
    let (_, c) = t.get(&format!("/v1/cases/{case}")).await;
    assert_eq!(c["documents"].as_array().map(Vec::len), Some(0), "{c}");

    // The console's page and assets: this origin's scripts only, never in a frame.
    for path in [
        "/console",
        "/console/assets/app.js",
        "/console/assets/dom.js",
    ] {
        let res = t
            .router
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        for want in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(want), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    }
    // An image as the console shows it: not sniffed, not run, not framed.
    let case = case_in_review(&t, "u-img").await;
    let token = t.reviewer("img.rev", "reviewer").await;
    let (_, detail) = t
        .as_reviewer(&token, "GET", &format!("/v1/review/cases/{case}"), None)
        .await;
    let doc = detail["documents"][0]["id"].as_str().unwrap();
    let res = t
        .reviewer_image(
            &token,
            &format!("/v1/review/cases/{case}/documents/{doc}/image"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("sandbox") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
}

#[tokio::test]
async fn passkeys_need_a_domain_name_and_ask_for_discoverable_verified_credentials() {
    let mut t = setup(limits()).await;
    let (mut jar, _) = enrolled(&t, "pk.rev", "reviewer", [10, 0, 0, 11]).await;
    // On an IP address no browser would accept the relying party.
    let r = jar
        .send(&t, "POST", "/console/v1/passkeys/register/start", None)
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::CONFLICT, "passkeys_unavailable")
    );
    let mut anon = Jar::from([10, 0, 0, 12]);
    let r = anon
        .send(&t, "POST", "/console/v1/passkeys/sign-in/start", None)
        .await;
    assert_eq!(code(&r), "passkeys_unavailable");

    let mut flow = t.state.flow.clone();
    flow.public_url = "http://localhost:8080".into();
    let (store, console) = (t.state.store.clone(), t.state.console.clone());
    t.rebuild(store, flow, console);
    let r = jar
        .send(&t, "POST", "/console/v1/passkeys/register/start", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let pk = &r.body["options"]["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["user"]["name"], "pk.rev");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    assert!(pk["challenge"].as_str().unwrap().len() >= 43);
    // A ceremony is taken once: a made-up answer spends it and the second finds nothing.
    let fake = json!({"id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {"attestationObject": "AAAA", "clientDataJSON": "AAAA"}, "extensions": {}});
    for _ in 0..2 {
        let f = jar
            .send(
                &t,
                "POST",
                "/console/v1/passkeys/register/finish",
                Some(json!({"ceremony": r.body["ceremony"], "credential": fake})),
            )
            .await;
        assert_eq!(
            (f.status, code(&f)),
            (StatusCode::BAD_REQUEST, "passkey_refused"),
            "{}",
            f.body
        );
    }
    let s = anon
        .send(&t, "POST", "/console/v1/passkeys/sign-in/start", None)
        .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    assert!(s.body["options"].get("mediation").is_none());
    assert_eq!(
        s.body["options"]["publicKey"]["userVerification"],
        "required"
    );
    let l = jar.send(&t, "GET", "/console/v1/passkeys", None).await;
    assert_eq!(l.body["passkeys"], json!([]));
}
