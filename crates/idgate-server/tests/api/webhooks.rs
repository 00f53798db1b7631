//! Signed status webhooks: retried, ordered and logged.

use super::*;

/// (signature header, raw body) of every request a receiver got.
type Received = Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// A receiver that answers 500 to its first request and 204 afterwards, keeping what it got.
async fn flaky_receiver() -> (String, Received) {
    use axum::routing::post;
    let got: Received = Default::default();
    let store = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let store = store.clone();
                async move {
                    let sig = headers["x-idgate-signature"].to_str().unwrap().to_string();
                    let mut g = store.lock().unwrap();
                    g.push((sig, body.to_vec()));
                    if g.len() == 1 {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

#[tokio::test]
async fn status_changes_reach_the_platform_signed_retried_and_logged() {
    // The dispatcher's retries wait on the store's clock: a real one here.
    let unused = Arc::new(idgate_core::FixedClock::new(0));
    let mut t = setup_with_clock(limits(), unused, Arc::new(SystemClock)).await;
    // The same state with the outbox on, as `serve` builds it when a webhook URL is set.
    let store = t
        .state
        .store
        .clone()
        .with_webhooks(Some(idgate_server::webhooks::renderer()));
    let (flow, console) = (t.state.flow.clone(), t.state.console.clone());
    t.rebuild(store, flow, console);
    let s2 = t.state.clone();
    let (url, got) = flaky_receiver().await;
    let hook = idgate_server::config::Webhook {
        url,
        secret: None,
        max_attempts: 5,
        retry_base_ms: 50,
        timeout_secs: 5,
    };
    let secret = b"whsec-test".to_vec();
    let dispatcher = idgate_server::webhooks::Dispatcher::new(&hook, secret.clone()).unwrap();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(idgate_server::webhooks::run(
        s2.clone(),
        dispatcher,
        stop_rx,
    ));

    let case = case_in_review(&t, "hooked").await;
    // submitted, processing, in_review: three deliveries, the first one retried once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, d) = t.get("/v1/webhooks/deliveries").await;
        let list = d["deliveries"].as_array().unwrap().clone();
        if list.len() == 3 && list.iter().all(|x| x["status"] == "delivered") {
            let with = |status: &str| {
                list.iter()
                    .find(|x| x["body"]["data"]["status"] == status)
                    .unwrap_or_else(|| panic!("no delivery for {status}: {d}"))
                    .clone()
            };
            let codes = |x: &Value| -> Vec<i64> {
                x["attempts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["status_code"].as_i64().unwrap())
                    .collect()
            };
            let retried: Vec<Vec<i64>> = ["submitted", "processing", "in_review"]
                .iter()
                .map(|st| codes(&with(st)))
                .filter(|c| c.len() == 2)
                .collect();
            assert_eq!(
                retried,
                [vec![500, 204]],
                "one delivery retried after the 500"
            );
            let review = with("in_review");
            assert_eq!(review["body"]["data"]["previous_status"], "processing");
            assert_eq!(
                review["body"]["data"]["reasons"],
                json!(["COMPLIANCE_REVIEW"])
            );
            assert_eq!(review["body"]["data"]["case_id"], case.as_str());
            assert_eq!(codes(&review).last(), Some(&204));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "deliveries: {d}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let received = got.lock().unwrap().clone();
    assert_eq!(received.len(), 4);
    let now = idgate_core::Clock::now_ms(&idgate_core::SystemClock) / 1000;
    let mut order = Vec::new();
    for (sig, body) in &received {
        use idgate_server::webhooks::{verify_signature, SignatureError};
        assert_eq!(verify_signature(&secret, body, sig, now, 300), Ok(()));
        assert_eq!(
            verify_signature(b"other", body, sig, now, 300),
            Err(SignatureError::Mismatch)
        );
        // Replayed an hour later, the same request is refused.
        assert!(matches!(
            verify_signature(&secret, body, sig, now + 3600, 300),
            Err(SignatureError::Stale(_))
        ));
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["type"], "case.status_changed");
        assert_eq!(v["data"]["uid"], "hooked");
        assert!(
            v["data"].get("name").is_none(),
            "no personal data in webhooks"
        );
        order.push((
            v["sequence"].as_i64().unwrap(),
            v["data"]["status"].as_str().unwrap().to_string(),
        ));
    }
    // In the case's order, the first retried before anything later was sent.
    assert_eq!(
        order,
        [
            (1, "submitted".to_string()),
            (1, "submitted".to_string()),
            (2, "processing".to_string()),
            (3, "in_review".to_string())
        ]
    );
    // The retry carries the same body (its signature is new: a new timestamp).
    assert_eq!(received[0].1, received[1].1);
    // A redelivery on request.
    let (_, d) = t.get("/v1/webhooks/deliveries").await;
    let id = d["deliveries"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(d["deliveries"][0]["status"], "delivered");
    let (s, _) = t
        .post_json(
            &format!("/v1/webhooks/deliveries/{id}/redeliver"),
            json!(null),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while got.lock().unwrap().len() < 5 {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    task.await.unwrap();
}
