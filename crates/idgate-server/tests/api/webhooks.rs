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
    t.with_outbox();
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

/// What a receiver that was down accepted once it was back: (case, sequence) in arrival
/// order; and how many requests it refused while down.
type Accepted = Arc<std::sync::Mutex<Vec<(String, i64)>>>;

/// A receiver answering 503 until `up` is set, then 204.
async fn receiver_down_until(
    up: Arc<std::sync::atomic::AtomicBool>,
) -> (String, Accepted, Arc<std::sync::atomic::AtomicUsize>) {
    use axum::routing::post;
    use std::sync::atomic::Ordering;
    let accepted: Accepted = Default::default();
    let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (keep, count) = (accepted.clone(), refused.clone());
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: axum::body::Bytes| {
            let (keep, count, up) = (keep.clone(), count.clone(), up.clone());
            async move {
                if !up.load(Ordering::SeqCst) {
                    count.fetch_add(1, Ordering::SeqCst);
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let v: Value = serde_json::from_slice(&body).unwrap();
                let case = v["data"]["case_id"].as_str().unwrap().to_string();
                keep.lock()
                    .unwrap()
                    .push((case, v["sequence"].as_i64().unwrap()));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), accepted, refused)
}

/// The receiver is down for an hour of the store's clock while three cases move. With the
/// default settings (12 attempts, the first retry after 10 s, doubling up to an hour) the
/// dispatcher keeps trying; once the receiver is back, every status change arrives exactly
/// once, each case's in its order, and nothing was given up.
#[tokio::test]
async fn a_receiver_down_for_an_hour_gets_everything_afterwards_in_order() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut t = setup(limits()).await;
    t.with_outbox();
    let up = Arc::new(AtomicBool::new(false));
    let (url, accepted, refused) = receiver_down_until(up.clone()).await;
    let config =
        idgate_server::config::resolve(&[[("webhook.url".to_string(), url)].into_iter().collect()])
            .unwrap();
    let hook = config.webhook.expect("a webhook URL was set");
    assert_eq!((hook.max_attempts, hook.retry_base_ms), (12, 10_000));
    let dispatcher = idgate_server::webhooks::Dispatcher::new(&hook, b"s".to_vec()).unwrap();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(idgate_server::webhooks::run(
        t.state.clone(),
        dispatcher,
        stop_rx,
    ));
    let started = t.state.store.now();
    let mut cases = Vec::new();
    for i in 0..3 {
        cases.push(case_in_review(&t, &format!("down-{i}")).await);
    }

    // The clock moves from one due attempt to the next, each waited for, the receiver
    // down for the first hour and up after it.
    let store = t.state.store.clone();
    let mut steps = 0;
    loop {
        let all = store.webhook_deliveries(100).await.unwrap();
        assert_eq!(all.len(), 9, "three status changes of three cases");
        assert!(all.iter().all(|d| d.status != "failed"), "nothing given up");
        let heads: Vec<_> = all
            .iter()
            .filter(|d| d.status == "pending")
            .filter(|d| {
                !all.iter()
                    .any(|e| e.subject == d.subject && e.seq < d.seq && e.status == "pending")
            })
            .collect();
        let Some(next) = heads.iter().min_by_key(|d| d.next_at) else {
            break;
        };
        let now = store.now();
        // Back up for every attempt made after the hour.
        if next.next_at.max(now) - started >= 3_600_000 {
            up.store(true, Ordering::SeqCst);
        }
        if next.next_at > now {
            t.clock.advance_ms(next.next_at - now);
        }
        let tried = store.webhook_attempts(&next.id).await.unwrap().len();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while store.webhook_attempts(&next.id).await.unwrap().len() == tried {
            assert!(std::time::Instant::now() < deadline, "the dispatcher tries");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        steps += 1;
        assert!(steps < 200, "the retries end");
    }
    let _ = stop.send(true);
    task.await.unwrap();

    // Refused all through the hour, delivered after it.
    let first = store
        .webhook_deliveries(100)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.subject == cases[0] && d.seq == 1)
        .unwrap();
    let attempts = store.webhook_attempts(&first.id).await.unwrap();
    let (refused_at, delivered): (Vec<_>, Vec<_>) =
        attempts.iter().partition(|a| a.status_code != Some(204));
    assert_eq!(delivered.len(), 1, "delivered once");
    assert!(delivered[0].at - started >= 3_600_000, "after the hour");
    assert!(
        refused_at.len() >= 8 && refused_at.iter().all(|a| a.at - started < 3_600_000),
        "{} attempts refused within the hour",
        refused_at.len()
    );
    assert!(refused.load(Ordering::SeqCst) >= refused_at.len());
    // Afterwards: each change once, each case's in order.
    let got = accepted.lock().unwrap().clone();
    assert_eq!(got.len(), 9, "{got:?}");
    for case in &cases {
        let seqs: Vec<i64> = got
            .iter()
            .filter(|(c, _)| c == case)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(seqs, [1, 2, 3], "{case}");
    }
}
