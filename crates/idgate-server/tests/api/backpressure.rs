//! Back-pressure (issue #28): a caller over its allowance is told when to come back, and
//! a case waiting behind others is told its place and how long it will wait.

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
    let metrics = t
        .router
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text = String::from_utf8(
        metrics
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
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
