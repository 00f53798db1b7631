//! Back-pressure (issue #28): a caller over its allowance is told when to come back, a
//! case waiting behind others is told its place and how long it will wait, and uploads
//! past the process's turns wait for one instead of all being held in memory at once.

use super::*;

/// The raw answer to `req`: status, `Retry-After`, and the error code.
async fn refused(t: &T, req: Request<Body>) -> (StatusCode, Option<String>, Value) {
    let res = t.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        after,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_key_or_a_session_over_its_allowance_gets_429_with_retry_after() {
    let t = setup(Limits {
        api_key_per_minute: 6,
        session_per_minute: 3,
        ..limits()
    })
    .await;
    // Two of the key's six: an applicant and its session.
    let (_, a) = t
        .post_json("/v1/applicants", json!({"uid": "busy", "region": "DE"}))
        .await;
    let applicant = format!("/v1/applicants/{}", a["id"].as_str().unwrap());
    let list = || t.req("GET", &applicant).body(Body::empty()).unwrap();
    let (s, v) = t
        .post_json(&format!("{applicant}/sessions"), json!({}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let token = v["token"].as_str().unwrap().to_string();
    for _ in 0..4 {
        assert_eq!(refused(&t, list()).await.0, StatusCode::OK);
    }
    let (s, after, v) = refused(&t, list()).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(v["error"]["code"], "rate_limited");
    assert_eq!(
        after.as_deref(),
        Some("10"),
        "one request every ten seconds comes back"
    );
    assert!(v["error"]["retry_after"].is_string(), "{v}");

    // The session has its own allowance, and another key too.
    let session = || {
        Request::get("/flow/v1/session")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    for _ in 0..3 {
        assert_eq!(refused(&t, session()).await.0, StatusCode::OK);
    }
    let (s, after, v) = refused(&t, session()).await;
    assert_eq!(
        (s, after.as_deref()),
        (StatusCode::TOO_MANY_REQUESTS, Some("20")),
        "{v}"
    );
    let other = generate_api_key();
    t.state
        .store
        .create_api_key("other", &hash_api_key(&other))
        .await
        .unwrap();
    let with_other = Request::get(&applicant)
        .header("authorization", format!("Bearer {other}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(refused(&t, with_other).await.0, StatusCode::OK);

    // Ten seconds on, the key may make one request, not two.
    t.clock.advance_ms(10_000);
    assert_eq!(refused(&t, list()).await.0, StatusCode::OK);
    assert_eq!(refused(&t, list()).await.0, StatusCode::TOO_MANY_REQUESTS);
    // A wrong key is refused as before: unknown keys are not counted.
    let (s, _) = t
        .call(
            Request::get(&applicant)
                .header("authorization", "Bearer idg_wrong")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let text = t.metrics().await;
    assert!(text.contains("idgate_rate_limited_total 3"), "{text}");
}

#[tokio::test]
async fn a_waiting_case_says_its_place_and_how_long_it_will_wait() {
    let t = setup(limits()).await;
    // No worker runs here: submitted cases wait.
    let mut cases = Vec::new();
    for i in 0..3 {
        cases.push(submitted_case(&t, &format!("queue-{i}")).await);
        t.clock.advance_ms(5);
    }
    let queue = |i: usize| {
        let (t, id) = (&t, cases[i].clone());
        async move {
            let (s, v) = t.get(&format!("/v1/cases/{id}")).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            v["queue"].clone()
        }
    };
    for i in 0..3 {
        assert_eq!(
            queue(i).await,
            json!({"position": i + 1, "estimated_seconds": null}),
            "nothing timed yet"
        );
    }
    // A worker takes the first and spends 3 s on it.
    let store = &t.state.store;
    let job = store.claim_job(60_000).await.unwrap().unwrap();
    assert_eq!(job.case_id, cases[0]);
    assert_eq!(queue(0).await["position"], 0, "being checked");
    assert_eq!(
        queue(2).await["position"],
        3,
        "one running, one queued before it"
    );
    t.clock.advance_ms(3_000);
    store.complete_job(&job.id).await.unwrap();
    // One before it, then its own turn, 3 s each.
    assert_eq!(
        queue(2).await,
        json!({"position": 2, "estimated_seconds": 6})
    );
    // Uploads and drafts still go through with a deep queue.
    let fresh = t.draft_case("queue-late").await;
    let (s, v) = t
        .upload(&fresh, &[("kind", b"passport"), ("file", &specimen_jpeg())])
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, v) = t.get(&format!("/v1/cases/{fresh}")).await;
    assert!(v["queue"].is_null(), "a draft waits for nothing: {v}");
}

/// With one turn (`limits.uploads_at_once = 1`), a second upload waits, its body unread,
/// while the first is still arriving; once the first is done, the second goes through.
/// Nothing is refused.
#[tokio::test]
async fn uploads_past_the_turns_wait_and_then_go_through() {
    let t = setup(Limits {
        uploads_at_once: 1,
        ..limits()
    })
    .await;
    let (a, b) = (t.draft_case("turn-a").await, t.draft_case("turn-b").await);
    let fields: &[(&str, &[u8])] = &[("kind", b"passport"), ("file", &specimen_jpeg())];
    // The first upload's body arrives in two parts, the second when the test says.
    let (parts, body) =
        multipart_request(&t.key, &format!("/v1/cases/{a}/documents"), fields).into_parts();
    let whole = body.collect().await.unwrap().to_bytes();
    let half = whole.len() / 2;
    let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(2);
    tx.send(whole.slice(..half)).await.unwrap();
    let arriving = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    let first = tokio::spawn(
        t.router
            .clone()
            .oneshot(Request::from_parts(parts, Body::from_stream(arriving))),
    );
    let turns = || t.state.uploads.in_flight(1);
    for _ in 0..100 {
        if turns() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(turns(), 1, "the first upload holds the only turn");
    let second = tokio::spawn(t.router.clone().oneshot(multipart_request(
        &t.key,
        &format!("/v1/cases/{b}/documents"),
        fields,
    )));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!second.is_finished(), "the second waits for the turn");
    let waited = || {
        t.state
            .metrics
            .uploads_waited
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    assert_eq!(waited(), 1);
    assert!(t.state.store.documents(&b).await.unwrap().is_empty());

    tx.send(whole.slice(half..)).await.unwrap();
    drop(tx);
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let second = tokio::time::timeout(std::time::Duration::from_secs(30), second)
        .await
        .expect("the second goes through once the turn is free")
        .unwrap()
        .unwrap();
    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(t.state.store.documents(&b).await.unwrap().len(), 1);
    assert_eq!(turns(), 0);
    let text = t.metrics().await;
    assert!(
        text.contains("idgate_uploads_waited_total 1"),
        "the wait is a metric: {text}"
    );
}
