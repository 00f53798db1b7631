//! The applicant's page follows its case by push (`GET /flow/v1/events`, issue #25): told
//! at once of what this process changes, at the next recheck of what another process
//! changes, never of other applicants' cases, and told when its session ends. Going back,
//! it finds what was entered (`GET /flow/v1/cases/{id}/data`).

use super::*;
use std::time::Duration;

/// A session for a new applicant `uid`, its token and its applicant's id.
async fn session(t: &T, uid: &str) -> (String, String, String) {
    let (_, a) = t
        .post_json("/v1/applicants", json!({"uid": uid, "region": "DE"}))
        .await;
    let applicant = a["id"].as_str().unwrap().to_string();
    let (s, v) = t
        .post_json(&format!("/v1/applicants/{applicant}/sessions"), json!({}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (
        v["id"].as_str().unwrap().to_string(),
        v["token"].as_str().unwrap().to_string(),
        applicant,
    )
}

/// The service again with `recheck_secs`; the previous router is the "other process".
fn with_recheck(t: &mut T, secs: u64) {
    let mut flow = t.state.flow.clone();
    flow.recheck_secs = secs;
    let console = t.state.console.clone();
    t.rebuild(t.state.store.clone(), flow, console);
}

/// An open event stream, read as the page reads it.
struct Events {
    body: Body,
    buf: String,
}

impl Events {
    /// The answer to `GET /flow/v1/events` with `token`, as it starts.
    async fn request(router: &axum::Router, token: &str) -> axum::response::Response {
        router
            .clone()
            .oneshot(
                Request::get("/flow/v1/events")
                    .header("authorization", format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap()
    }

    async fn open(router: &axum::Router, token: &str) -> Events {
        let res = Events::request(router, token).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        assert_eq!(res.headers()["cache-control"], "no-store");
        Events {
            body: res.into_body(),
            buf: String::new(),
        }
    }

    /// The next event (name, data) within `wait`; None when none came or the stream closed.
    async fn next(&mut self, wait: Duration) -> Option<(String, String)> {
        tokio::time::timeout(wait, async {
            loop {
                if let Some(end) = self.buf.find("\n\n") {
                    let block: String = self.buf.drain(..end + 2).collect();
                    let field = |k: &str| {
                        block
                            .lines()
                            .find_map(|l| l.strip_prefix(k))
                            .map(|v| v.trim().to_string())
                    };
                    match (field("event:"), field("data:")) {
                        (Some(name), Some(data)) => return Some((name, data)),
                        // A keep-alive comment.
                        _ => continue,
                    }
                }
                let frame = self.body.frame().await?.ok()?;
                if let Ok(bytes) = frame.into_data() {
                    self.buf.push_str(std::str::from_utf8(&bytes).unwrap());
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// The stream ends within `SOON` (keep-alive comments aside, nothing else comes).
    async fn closes(&mut self) -> bool {
        tokio::time::timeout(SOON, async {
            while let Some(Ok(frame)) = self.body.frame().await {
                let data = frame.into_data().unwrap_or_default();
                assert!(
                    std::str::from_utf8(&data).unwrap().starts_with(':'),
                    "only comments before the end"
                );
            }
        })
        .await
        .is_ok()
    }

    /// The version the next `case` event carries.
    async fn version(&mut self, wait: Duration) -> Option<String> {
        let (name, data) = self.next(wait).await?;
        assert_eq!(name, "case", "{data}");
        let v: Value = serde_json::from_str(&data).unwrap();
        Some(v["version"].as_str().unwrap().to_string())
    }
}

/// Erika's data entered on `case` through the page's session.
async fn enter(t: &T, token: &str, case: &str) {
    let (s, v) = t
        .as_reviewer(
            token,
            "PUT",
            &format!("/flow/v1/cases/{case}/data"),
            Some(erika()),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
}

const QUIET: Duration = Duration::from_millis(300);
const SOON: Duration = Duration::from_secs(5);

#[tokio::test]
async fn the_page_hears_its_case_move_when_it_moves_and_only_then() {
    let mut t = setup(limits()).await;
    // An hour between rechecks: within this test only the announcements can wake a stream.
    with_recheck(&mut t, 3600);
    let (sid, token, applicant) = session(&t, "follow-1").await;
    let mut events = Events::open(&t.router, &token).await;
    let first = events.version(SOON).await.expect("the version at once");
    let (_, v) = t.as_reviewer(&token, "GET", "/flow/v1/session", None).await;
    assert_eq!(v["version"], first.as_str(), "the page starts from it");
    assert_eq!(
        events.next(QUIET).await,
        None,
        "nothing moved, nothing said"
    );

    // The page opens its case, enters data, and the platform adds a photo: each is heard.
    let (s, c) = t.as_reviewer(&token, "POST", "/flow/v1/cases", None).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let case = c["id"].as_str().unwrap().to_string();
    let opened = events.version(SOON).await.expect("the new case is heard");
    assert_ne!(opened, first);
    enter(&t, &token, &case).await;
    let entered = events.version(SOON).await.expect("the data is heard");
    assert_ne!(entered, opened);
    let (s, v) = t
        .multipart(
            &format!("/v1/cases/{case}/documents"),
            &[("kind", b"passport"), ("file", &specimen_jpeg())],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let photo = events.version(SOON).await.expect("the photo is heard");
    assert_ne!(photo, entered);
    let (_, v) = t.as_reviewer(&token, "GET", "/flow/v1/session", None).await;
    assert_eq!(v["version"], photo.as_str());

    // Another applicant's case moving says nothing to this page; a refused request either.
    let other = t.draft_case("follow-other").await;
    let (s, _) = t
        .send_json("PUT", &format!("/v1/cases/{other}/data"), erika())
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t
        .send_json(
            "PUT",
            &format!("/v1/cases/{case}/data"),
            json!({"nationality": 5}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(events.next(QUIET).await, None);

    // The platform revokes the session: the page is told, and the stream closes.
    let (s, _) = t
        .call(
            t.req(
                "DELETE",
                &format!("/v1/applicants/{applicant}/sessions/{sid}"),
            )
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        events.next(SOON).await,
        Some(("ended".to_string(), "revoked".to_string()))
    );
    assert!(events.closes().await, "closed");
    // And cannot be opened again.
    let res = Events::request(&t.router, &token).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_change_made_by_another_process_is_found_at_the_recheck() {
    let mut t = setup(limits()).await;
    with_recheck(&mut t, 1);
    let (_, token, _) = session(&t, "follow-2").await;
    let (_, c) = t.as_reviewer(&token, "POST", "/flow/v1/cases", None).await;
    let case = c["id"].as_str().unwrap().to_string();
    // This process serves the page's stream...
    let this = t.router.clone();
    let mut events = Events::open(&this, &token).await;
    let first = events.version(SOON).await.unwrap();
    // ...and another one, on the same store, takes the data: nothing is announced here.
    with_recheck(&mut t, 3600);
    enter(&t, &token, &case).await;
    let found = events
        .version(SOON)
        .await
        .expect("found by reading the case again");
    assert_ne!(found, first);
    // The session's end is found the same way.
    t.clock.advance_ms(31 * 60 * 1000);
    assert_eq!(
        events.next(SOON).await,
        Some(("ended".to_string(), "expired".to_string()))
    );
}

/// A process that stops serving lets go of its streams, so that its graceful shutdown does
/// not wait on pages that never hang up (they connect again, elsewhere or to it restarted).
#[tokio::test]
async fn a_process_that_stops_lets_its_streams_go() {
    let t = setup(limits()).await;
    let (_, token, _) = session(&t, "follow-5").await;
    let mut events = Events::open(&t.router, &token).await;
    assert!(events.version(SOON).await.is_some());
    t.state.live.close();
    assert!(events.closes().await, "the stream ends");
}

#[tokio::test]
async fn going_back_the_page_finds_what_was_entered_until_it_is_submitted() {
    let t = setup(limits()).await;
    let (_, token, applicant) = session(&t, "follow-3").await;
    let (_, c) = t.as_reviewer(&token, "POST", "/flow/v1/cases", None).await;
    let case = c["id"].as_str().unwrap().to_string();
    let data = format!("/flow/v1/cases/{case}/data");
    let (s, v) = t.as_reviewer(&token, "GET", &data, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "nothing entered yet: {v}");
    let (s, _) = t.as_reviewer(&token, "PUT", &data, Some(erika())).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = t.as_reviewer(&token, "GET", &data, None).await;
    assert_eq!((s, &v), (StatusCode::OK, &erika()));

    // Entered again with another name: the new one comes back.
    let mut changed = erika();
    changed["name"]["given"] = json!("Erika Maria");
    let (s, _) = t
        .as_reviewer(&token, "PUT", &data, Some(changed.clone()))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // A second device of the same applicant (another session) reads the same.
    let (_, second) = t
        .post_json(&format!("/v1/applicants/{applicant}/sessions"), json!({}))
        .await;
    let second = second["token"].as_str().unwrap();
    let (s, v) = t.as_reviewer(second, "GET", &data, None).await;
    assert_eq!((s, &v), (StatusCode::OK, &changed));
    // Another applicant's session cannot.
    let (_, stranger, _) = session(&t, "follow-4").await;
    let (s, _) = t.as_reviewer(&stranger, "GET", &data, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Once submitted, the page no longer reads it.
    for kind in ["passport", "selfie"] {
        let (s, v) = t
            .multipart_as(
                &token,
                &format!("/flow/v1/cases/{case}/documents"),
                &[("kind", kind.as_bytes()), ("file", &specimen_jpeg())],
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, v) = t
        .as_reviewer(
            &token,
            "POST",
            &format!("/flow/v1/cases/{case}/submit"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let (s, v) = t.as_reviewer(&token, "GET", &data, None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
}
