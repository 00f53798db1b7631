//! Issue #28: several `idgate serve` processes with roles on one PostgreSQL database and one
//! S3-compatible store (moto's, started by scripts/test): two API processes that answer one
//! liveness challenge once between them and decide nothing, two worker processes that
//! decide every case and send every webhook exactly once, and the probes an orchestrator
//! uses (liveness apart from readiness).

#[path = "support/server.rs"]
mod server;
use server::*;

use serde_json::Value;
use std::time::{Duration, Instant};

/// A fresh schema of the test database, as a URL whose connections use it.
fn fresh_postgres() -> String {
    let base = std::env::var("IDGATE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("scale_{}", uuid::Uuid::new_v4().simple());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let clock = std::sync::Arc::new(idgate_core::SystemClock);
        let admin = idgate_store::Store::connect(&base, clock)
            .await
            .expect("PostgreSQL reachable (IDGATE_TEST_POSTGRES_URL)");
        admin
            .execute_raw(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
        admin.close().await;
    });
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

/// The S3 settings of the test's object store (its own prefix), or the data directory's
/// local store when no S3 server is configured.
fn object_store() -> Vec<(&'static str, String)> {
    match std::env::var("IDGATE_TEST_S3_ENDPOINT") {
        Ok(endpoint) => vec![
            ("IDGATE_STORAGE_KIND", "s3".into()),
            ("IDGATE_S3_ENDPOINT", endpoint),
            (
                "IDGATE_S3_BUCKET",
                std::env::var("IDGATE_TEST_S3_BUCKET").unwrap_or_else(|_| "idgate-test".into()),
            ),
            ("IDGATE_S3_REGION", "us-east-1".into()),
            ("IDGATE_S3_ACCESS_KEY_ID", "idgate-test".into()),
            ("IDGATE_S3_SECRET_ACCESS_KEY", "idgate-test-secret".into()),
            (
                "IDGATE_S3_PREFIX",
                format!("scale-{}", uuid::Uuid::new_v4().simple()),
            ),
        ],
        Err(_) => Vec::new(),
    }
}

/// A webhook receiver on a plain socket: answers 204 and hands over each body.
fn receiver() -> (String, std::sync::mpsc::Receiver<Vec<u8>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let _ = conn.write_all(
                b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            if tx.send(body).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

fn get(url: &str) -> (u16, Value) {
    match ureq::get(url).call() {
        Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("{url}: {e}"),
    }
}

/// `case` was moved to processing once and out of it (decided) once, by its events.
fn assert_decided_once(client: &Client, api: &Server, case: &str) {
    let ev = client.get(&api.url(&format!("/v1/cases/{case}/events")));
    let moves: Vec<(String, String)> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            Some((
                e["from_status"].as_str()?.to_string(),
                e["to_status"].as_str()?.to_string(),
            ))
        })
        .collect();
    let started = moves.iter().filter(|(_, to)| to == "processing").count();
    let decided = moves.iter().filter(|(f, _)| f == "processing").count();
    assert_eq!((started, decided), (1, 1), "{case}: {moves:?}");
}

/// The first `n` webhooks the receiver got, per case: (sequence, status), each delivery id
/// seen once.
fn webhooks(
    hooks: &std::sync::mpsc::Receiver<Vec<u8>>,
    n: usize,
) -> std::collections::BTreeMap<String, Vec<(i64, String)>> {
    let mut got: std::collections::BTreeMap<String, Vec<(i64, String)>> = Default::default();
    let mut ids = std::collections::BTreeSet::new();
    while got.values().map(Vec::len).sum::<usize>() < n {
        let body = hooks
            .recv_timeout(Duration::from_secs(60))
            .expect("a webhook for every status change");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(ids.insert(v["id"].to_string()), "delivered twice: {v}");
        got.entry(v["data"]["case_id"].as_str().unwrap().to_string())
            .or_default()
            .push((
                v["sequence"].as_i64().unwrap(),
                v["data"]["status"].to_string(),
            ));
    }
    got
}

#[test]
fn an_api_process_and_two_workers_decide_every_case_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_postgres();
    let (hook_url, hooks) = receiver();
    let mut env: Vec<(&str, String)> = vec![
        ("IDGATE_DATABASE_URL", database),
        ("IDGATE_WEBHOOK_URL", hook_url),
        ("IDGATE_WEBHOOK_SECRET", "whsec-scale".into()),
    ];
    env.extend(object_store());
    let with = |role: &'static str| -> Vec<(&str, &str)> {
        let mut e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        e.push(("IDGATE_ROLE", role));
        e
    };
    let api = Server::start(dir.path(), free_port(), &with("api"));
    let api2 = Server::start(dir.path(), free_port(), &with("api"));
    let client = Client::new(dir.path());
    // One liveness challenge answered at once through both API processes: one answer is
    // judged and kept, the other refused; the case has one selfie.
    let case = client.new_case(&api, "scale-race");
    let (path, frames, stamps) = client.liveness_recording(&api, &case, SAME_PERSON);
    let (a, b) = std::thread::scope(|t| {
        let one = t.spawn(|| client.answer_recording_status(&api, &path, &frames, &stamps));
        let two = t.spawn(|| client.answer_recording_status(&api2, &path, &frames, &stamps));
        (one.join().unwrap(), two.join().unwrap())
    });
    let mut answers = [(a.0, a.1["status"].clone()), (b.0, b.1["status"].clone())];
    answers.sort_by_key(|(code, _)| *code);
    assert_eq!(answers[0], (200, Value::from("passed")), "{a:?} {b:?}");
    assert_eq!(answers[1].0, 409, "{a:?} {b:?}");
    let c = client.get(&api2.url(&format!("/v1/cases/{case}")));
    let selfies = c["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "selfie")
        .count();
    assert_eq!(selfies, 1, "{c}");
    api2.stop();
    // Readiness names what it checked; liveness asks nothing outside the process.
    let (status, ready) = get(&api.url("/readyz"));
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["checks"]["database"], "ok", "{ready}");
    assert_eq!(ready["checks"]["blobs"], "ok", "{ready}");
    assert_eq!(ready["checks"]["models"], "ok", "{ready}");
    assert_eq!(get(&api.url("/livez")).0, 200);

    // Four cases with an uploaded selfie (the same picture on four accounts: a live
    // recording of it would be refused as a copy, and how each case ends does not matter
    // here, only that it is decided once).
    let selfie = testdata::read(SAME_PERSON);
    let cases: Vec<String> = (0..4)
        .map(|i| {
            let case = client.new_case(&api, &format!("scale-{i}"));
            let docs = api.url(&format!("/v1/cases/{case}/documents"));
            client.upload(&docs, "passport", &passport_photo(&ZHANG));
            client.upload(&docs, "selfie", &selfie);
            client.enter_and_submit(&api, &case, &ZHANG);
            case
        })
        .collect();
    // The API process decides nothing: the cases wait for a worker.
    std::thread::sleep(Duration::from_secs(2));
    for case in &cases {
        let c = client.get(&api.url(&format!("/v1/cases/{case}")));
        assert_eq!(c["status"], "submitted", "{c}");
    }
    let w1 = Server::start(dir.path(), free_port(), &with("worker"));
    let w2 = Server::start(dir.path(), free_port(), &with("worker"));
    // A worker answers the probes and the metrics, and nothing of the API.
    assert_eq!(get(&w1.url("/readyz")).0, 200);
    assert_eq!(get(&w1.url("/metrics")).0, 200);
    let (status, body) = get(&w1.url(&format!("/v1/cases/{}", cases[0])));
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &Value::from("not_found"))
    );

    let deadline = Instant::now() + Duration::from_secs(180);
    for case in &cases {
        loop {
            let c = client.get(&api.url(&format!("/v1/cases/{case}")));
            if !matches!(c["status"].as_str(), Some("submitted" | "processing")) {
                break;
            }
            assert!(Instant::now() < deadline, "case still {}", c["status"]);
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    // Exactly once: one start of processing and one decision per case, and the two
    // workers shared the work (each job claimed by one of them).
    for case in &cases {
        assert_decided_once(&client, &api, case);
    }
    // Each ended in a decision (one passport on four accounts: duplicates, whichever
    // worker came first).
    for case in &cases {
        let c = client.get(&api.url(&format!("/v1/cases/{case}")));
        assert!(
            matches!(
                c["status"].as_str(),
                Some("approved" | "in_review" | "resubmission_requested" | "rejected")
            ),
            "{c}"
        );
    }
    let completed = |s: &Server| -> u64 {
        let text = s.metrics();
        text.lines()
            .find_map(|l| l.strip_prefix("idgate_jobs_completed_total "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    let (n1, n2) = (completed(&w1), completed(&w2));
    assert_eq!(n1 + n2, 4, "every job completed once: {n1} + {n2}");
    assert_eq!(completed(&api), 0, "the API process ran no job");
    // Both workers dispatch webhooks: every case's three changes (submitted, processing,
    // its decision) arrive once each, in order, whichever worker sent them.
    let got = webhooks(&hooks, 12);
    for case in &cases {
        let seq: Vec<i64> = got[case].iter().map(|(n, _)| *n).collect();
        assert_eq!(seq, [1, 2, 3], "{case}: {:?}", got[case]);
        assert_eq!(got[case][1].1, "\"processing\"", "{:?}", got[case]);
    }
    std::thread::sleep(Duration::from_secs(2));
    assert!(hooks.try_recv().is_err(), "nothing delivered a second time");
    w1.stop();
    w2.stop();
    api.stop();
}

/// The request never reached the service: the connection was refused (the process is
/// stopped, or not started again yet), or reset or closed before any answer began (the
/// kernel had completed the handshake into the backlog of a listener that then closed:
/// a stopping process finishes every request it accepted, so a reset is of one it never
/// read). Safe to send elsewhere; a request that was handled after all would be caught by
/// the assertions (a second applicant with the same uid, a second submit).
fn unhandled(t: &ureq::Transport) -> bool {
    use std::error::Error;
    t.kind() == ureq::ErrorKind::ConnectionFailed
        || t.source()
            .and_then(|e| e.downcast_ref::<std::io::Error>())
            .is_some_and(|e| {
                matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
                )
            })
}

/// One request sent as a load balancer sends it: to whichever API process takes the
/// connection. One that never reached a process ([`unhandled`]) is sent to the next;
/// any other failure (a connection cut mid-answer) fails the test, since the request may
/// have been lost half done.
fn through_any(
    bases: &[String],
    key: &str,
    method: &str,
    path: &str,
    body: (&str, &[u8]),
) -> (u16, Value) {
    let agent = ureq::AgentBuilder::new().max_idle_connections(0).build();
    for _ in 0..300 {
        for base in bases {
            let sent = agent
                .request(method, &format!("{base}{path}"))
                .set("authorization", &format!("Bearer {key}"))
                .set("content-type", body.0)
                .send_bytes(body.1);
            match sent {
                Ok(r) => return (r.status(), r.into_json().unwrap_or(Value::Null)),
                Err(ureq::Error::Status(code, r)) => {
                    return (code, r.into_json().unwrap_or(Value::Null))
                }
                Err(ureq::Error::Transport(t)) if unhandled(&t) => {}
                Err(e) => panic!("{method} {path}: {e}"),
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{method} {path}: no API process took the connection for 30 s");
}

/// One whole application through whichever API process answers: applicant, case, passport
/// photo, selfie, data, submit. Returns the case.
fn application(bases: &[String], key: &str, uid: &str, passport: &[u8], selfie: &[u8]) -> String {
    let json = |v: Value| v.to_string().into_bytes();
    let ok = |(status, v): (u16, Value)| {
        assert!((200..300).contains(&status), "{status} {v}");
        v
    };
    let body = json(serde_json::json!({"uid": uid, "region": "CN"}));
    let a = ok(through_any(
        bases,
        key,
        "POST",
        "/v1/applicants",
        ("application/json", &body),
    ));
    let path = format!("/v1/applicants/{}/cases", a["id"].as_str().unwrap());
    let c = ok(through_any(
        bases,
        key,
        "POST",
        &path,
        ("application/json", b"{}"),
    ));
    let case = c["id"].as_str().unwrap().to_string();
    for (kind, file) in [("passport", passport), ("selfie", selfie)] {
        let boundary = "ROLLBOUNDARY";
        let mut form = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\n\r\n"
        )
        .into_bytes();
        form.extend(file);
        form.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
        let ct = format!("multipart/form-data; boundary={boundary}");
        ok(through_any(
            bases,
            key,
            "POST",
            &format!("/v1/cases/{case}/documents"),
            (&ct, &form),
        ));
    }
    let data = json(entered(&ZHANG));
    let path = format!("/v1/cases/{case}/data");
    ok(through_any(
        bases,
        key,
        "PUT",
        &path,
        ("application/json", &data),
    ));
    let path = format!("/v1/cases/{case}/submit");
    let s = ok(through_any(
        bases,
        key,
        "POST",
        &path,
        ("application/json", b"null"),
    ));
    assert_eq!(s["status"], "submitted", "{s}");
    case
}

/// Stops `s` cleanly (SIGTERM: its requests in flight and its job at hand finish; the
/// process exits 0) and starts it again on the same port.
fn restart(s: Server, data: &std::path::Path, env: &[(&str, &str)]) -> Server {
    let port: u16 = s.addr.rsplit(':').next().unwrap().parse().unwrap();
    s.stop();
    Server::start(data, port, env)
}

/// A rolling restart under load: two API processes and two workers on one PostgreSQL
/// database and one object store, each stopped and started again in turn while
/// applications keep coming through whichever API process takes them. Nothing is lost:
/// every application submitted has both its photos, every case is moved to processing once
/// and decided once, and every status change reaches the webhook receiver once, each
/// case's in order.
#[test]
fn a_rolling_restart_under_load_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (hook_url, hooks) = receiver();
    let mut env: Vec<(&str, String)> = vec![
        ("IDGATE_DATABASE_URL", fresh_postgres()),
        ("IDGATE_WEBHOOK_URL", hook_url),
        ("IDGATE_WEBHOOK_SECRET", "whsec-roll".into()),
    ];
    env.extend(object_store());
    let with = |role: &'static str| -> Vec<(&str, &str)> {
        let mut e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        e.push(("IDGATE_ROLE", role));
        e
    };
    let (api_env, worker_env) = (with("api"), with("worker"));
    let a = Server::start(dir.path(), free_port(), &api_env);
    let b = Server::start(dir.path(), free_port(), &api_env);
    let w1 = Server::start(dir.path(), free_port(), &worker_env);
    let w2 = Server::start(dir.path(), free_port(), &worker_env);
    let key = Client::new(dir.path()).key;
    let bases = [a.url(""), b.url("")];
    let (passport, selfie) = (passport_photo(&ZHANG), testdata::read(SAME_PERSON));
    let rolled = std::sync::atomic::AtomicBool::new(false);
    let (cases, servers) = std::thread::scope(|t| {
        let load = t.spawn(|| {
            let mut cases = Vec::new();
            while cases.len() < 6 || !rolled.load(std::sync::atomic::Ordering::SeqCst) {
                let uid = format!("roll-{}", cases.len());
                cases.push(application(&bases, &key, &uid, &passport, &selfie));
                // A steady trickle, not a flood: the workers of this debug build decide
                // about one a second, and every case must be decided before the end.
                std::thread::sleep(Duration::from_millis(1000));
            }
            cases
        });
        // One process at a time, each while applications are coming in and cases are
        // being checked.
        let pause = || std::thread::sleep(Duration::from_millis(1500));
        let rolling = Instant::now();
        pause();
        let w1 = restart(w1, dir.path(), &worker_env);
        pause();
        let w2 = restart(w2, dir.path(), &worker_env);
        pause();
        let a = restart(a, dir.path(), &api_env);
        pause();
        let b = restart(b, dir.path(), &api_env);
        rolled.store(true, std::sync::atomic::Ordering::SeqCst);
        println!(
            "rolling restart: four processes restarted in {:?}",
            rolling.elapsed()
        );
        (load.join().unwrap(), [a, b, w1, w2])
    });
    let client = Client::new(dir.path());
    let api = &servers[0];
    let deadline = Instant::now() + Duration::from_secs(300);
    for case in &cases {
        loop {
            let c = client.get(&api.url(&format!("/v1/cases/{case}")));
            if !matches!(c["status"].as_str(), Some("submitted" | "processing")) {
                let docs = c["documents"].as_array().unwrap().len();
                assert_eq!(docs, 2, "both photos kept: {c}");
                break;
            }
            assert!(Instant::now() < deadline, "case still {}", c["status"]);
            std::thread::sleep(Duration::from_millis(200));
        }
        assert_decided_once(&client, api, case);
    }
    let got = webhooks(&hooks, 3 * cases.len());
    for case in &cases {
        let seq: Vec<i64> = got[case].iter().map(|(n, _)| *n).collect();
        assert_eq!(seq, [1, 2, 3], "{case}: {:?}", got[case]);
    }
    std::thread::sleep(Duration::from_secs(2));
    assert!(hooks.try_recv().is_err(), "nothing delivered a second time");
    println!(
        "rolling restart: {} applications, every process restarted once, nothing lost",
        cases.len()
    );
    for s in servers {
        s.stop();
    }
}
