//! End-to-end: the real `idgate` binary on a temporary data directory, polled through
//! its `healthcheck` subcommand, restarted and killed.

#[path = "support/server.rs"]
mod server;
use server::*;

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The reason codes of a case, in order.
fn reason_codes(case: &Value) -> Vec<&str> {
    case["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect()
}

#[test]
fn serve_answers_healthz_and_data_survives_a_restart() {
    let root = tempfile::tempdir().unwrap();
    // A data directory that does not exist yet, as on a first start.
    let data = root.path().join("data");
    let dir = &data;
    let port = free_port();
    let s = Server::start(dir, port, &[]);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir), 0o700, "data directory");
        assert_eq!(mode(&dir.join("master.key")), 0o600, "master key");
        assert_eq!(mode(&dir.join("api-key")), 0o600, "initial API key");
    }
    let health: Value = ureq::get(&s.url("/healthz"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(health["status"], "ok");
    let client = Client::new(dir);
    let case = client.submitted_case(&s, "restart-user", SAME_PERSON);
    // Passport read, data matched, selfie matches the portrait: approved with no person.
    let before = client.wait_for_status(&s, &case, "approved", Duration::from_secs(60));
    s.stop();

    let s = Server::start(dir, port, &[]);
    let after = client.get(&s.url(&format!("/v1/cases/{case}")));
    assert_eq!(
        after, before,
        "the case and its documents survive a restart"
    );
    // The original API key still works, and no second key file was made.
    assert_eq!(Client::new(dir).key, client.key);
    s.stop();
}

#[test]
fn killing_the_server_mid_job_loses_no_case() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Workers hold each job for 60 s, with a 1 s lease, so the kill lands mid-job.
    let slow = [
        ("IDGATE_JOB_DEBUG_DELAY_MS", "60000"),
        ("IDGATE_JOB_LEASE_SECS", "1"),
    ];
    let s = Server::start(dir.path(), port, &slow);
    let client = Client::new(dir.path());
    let case = client.submitted_case(&s, "crash-user", OTHER_PERSON);
    client.wait_for_status(&s, &case, "processing", Duration::from_secs(20));
    s.kill();

    let s = Server::start(dir.path(), port, &[("IDGATE_JOB_LEASE_SECS", "1")]);
    let done = client.wait_for_status(&s, &case, "resubmission_requested", Duration::from_secs(60));
    assert_eq!(done["reasons"][0]["code"], "FACE_MISMATCH", "{done}");
    assert_eq!(done["documents"].as_array().unwrap().len(), 2);
    let events = client.get(&s.url(&format!("/v1/cases/{case}/events")));
    let actions: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "created",
            "document_added",
            "document_added",
            "data_entered",
            "submitted",
            "processing_started",
            "decided"
        ]
    );
    let metrics = s.metrics();
    assert!(
        metrics.contains("idgate_jobs{state=\"running\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("idgate_jobs_completed_total 1"),
        "{metrics}"
    );
    s.stop();
}

/// A webhook receiver on a plain socket: answers 204 and hands over (signature, body).
fn receiver() -> (String, std::sync::mpsc::Receiver<(String, Vec<u8>)>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/idgate", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let (mut len, mut sig) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                if lower.starts_with("x-idgate-signature:") {
                    sig = line["x-idgate-signature:".len()..].trim().to_string();
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let _ = conn.write_all(
                b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            if tx.send((sig, body)).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

#[test]
fn a_reviewer_approves_and_the_platform_hears_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let (url, hooks) = receiver();
    let secret = "whsec-e2e";
    // This platform has a person look at face mismatches instead of asking for a retry.
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[reject_types]\nFACE_MISMATCH = \"REVIEW\"\n").unwrap();
    let s = Server::start(
        dir.path(),
        free_port(),
        &[
            ("IDGATE_WEBHOOK_URL", &url),
            ("IDGATE_WEBHOOK_SECRET", secret),
            ("IDGATE_POLICY_FILE", policy.to_str().unwrap()),
        ],
    );
    let client = Client::new(dir.path());
    let case = client.submitted_case(&s, "zhang-1", OTHER_PERSON);
    // The worker read the passport and matched the data; the selfie is someone else's.
    let c = client.wait_for_status(&s, &case, "in_review", Duration::from_secs(60));
    let codes = reason_codes(&c);
    assert_eq!(codes, ["FACE_MISMATCH"], "{c}");
    let r = client.post(
        &s.url("/v1/reviewers"),
        json!({"name": "rita", "role": "reviewer"}),
    );
    let token = r["token"].as_str().unwrap();
    let review = |method: &str, path: &str, body: Value| -> Value {
        ureq::request(method, &s.url(path))
            .set("authorization", &format!("Bearer {token}"))
            .send_json(body)
            .unwrap()
            .into_json()
            .unwrap_or(Value::Null)
    };
    let detail = review("GET", &format!("/v1/review/cases/{case}"), json!(null));
    assert!(
        detail["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["subject"] == "selfie"),
        "{detail}"
    );
    // What the checks saw, for the reviewer: the page's outline and its MRZ, the entered
    // data beside the MRZ, and the two faces with a similarity under the threshold.
    let ev = &detail["evidence"];
    let side = &ev["sides"][0];
    let corners = side["outline"].as_array().expect("the outline was found");
    assert_eq!(corners.len(), 4);
    let within = |v: &Value| v.as_f64().is_some_and(|x| (0.0..=1.0).contains(&x));
    assert!(
        corners
            .iter()
            .flat_map(|p| p.as_array().unwrap())
            .all(within),
        "{side}"
    );
    assert_eq!(side["mrz"]["valid"], true, "{side}");
    assert_eq!(side["mrz"]["fields"]["surname"], "ZHANG");
    // The MRZ band lies across the lower part of the page's outline.
    let ys = |q: &Value| -> Vec<f64> {
        q.as_array()
            .unwrap()
            .iter()
            .map(|p| p[1].as_f64().unwrap())
            .collect()
    };
    let (page, band) = (ys(&side["outline"]), ys(&side["mrz"]["band"]));
    let (top, bottom) = (
        page.iter().cloned().fold(1.0, f64::min),
        page.iter().cloned().fold(0.0, f64::max),
    );
    let band_top = band.iter().cloned().fold(1.0, f64::min);
    assert!(band_top > top + 0.5 * (bottom - top), "{side}");
    assert!(band.iter().all(|&y| y <= bottom + 0.03), "{side}");
    let row = |f: &str| {
        ev["compare"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["field"] == f)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        (
            row("family_name")["document"].as_str(),
            row("family_name")["mismatch"].as_bool()
        ),
        (Some("ZHANG"), Some(false))
    );
    let face = &ev["face"];
    assert!(
        face["portrait"][1].as_array().unwrap().iter().all(within),
        "{face}"
    );
    assert!(
        face["similarity"].as_f64().unwrap() < face["threshold"].as_f64().unwrap(),
        "{face}"
    );
    assert_eq!(detail["history"][0]["id"], case.as_str());
    review("POST", &format!("/v1/review/cases/{case}/claim"), json!({}));
    let decided = review(
        "POST",
        &format!("/v1/review/cases/{case}/decision"),
        json!({"decision": "approve", "internal_comment": "twins; confirmed by video call"}),
    );
    assert_eq!(decided["status"], "approved");
    let e = client.get(&s.url("/v1/entitlements/zhang-1"));
    assert_eq!(
        (e["level"].as_str(), e["entitlements"]["withdraw"].as_bool()),
        (Some("basic"), Some(true))
    );

    let mut seen = Vec::new();
    while seen.len() < 4 {
        let (sig, body) = hooks
            .recv_timeout(Duration::from_secs(30))
            .expect("a webhook for every status change");
        let now = idgate_core::Clock::now_ms(&idgate_core::SystemClock) / 1000;
        assert_eq!(
            idgate_server::webhooks::verify_signature(secret.as_bytes(), &body, &sig, now, 300),
            Ok(()),
            "signature over the timestamp and the raw body"
        );
        let v: Value = serde_json::from_slice(&body).unwrap();
        seen.push(v["data"]["status"].as_str().unwrap().to_string());
    }
    // One case's events arrive in their order.
    assert_eq!(seen, ["submitted", "processing", "in_review", "approved"]);
    s.stop();
}

#[test]
fn a_face_verified_on_another_account_goes_to_a_person() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), free_port(), &[]);
    let client = Client::new(dir.path());
    let first = client.submitted_case(&s, "zhang-a", SAME_PERSON);
    client.wait_for_status(&s, &first, "approved", Duration::from_secs(60));
    // Another passport, another name, the same face: a second account of one person?
    // A new capture of the same man (the same picture again would be a replay).
    let again = "face_recognition_ageitgey/tests/test_images/obama2.jpg";
    let second = client.submitted_case_of(&s, "zhang-b", &ZHANG_MIN, again);
    let c = client.wait_for_status(&s, &second, "in_review", Duration::from_secs(60));
    let codes = reason_codes(&c);
    // (The OCR may also flag this generated passport's MRZ for review: issue #4.)
    assert!(codes.contains(&"DUPLICATE_FACE"), "{c}");
    let duplicate = &c["reasons"][codes.iter().position(|c| *c == "DUPLICATE_FACE").unwrap()];
    assert_eq!(
        duplicate["reject_type"], "REVIEW",
        "the shipped policy sends it to a person"
    );
    s.stop();
}

/// Issue #29: one reviewer approved a change of name, nationality, document and a birth
/// date that made the person 11 years old, and nothing was checked again. Now a request that
/// changes nothing is refused; identity fields need a new document the checks hold the new
/// data against (the minimum age among them) and two different reviewers; the new document
/// is verified on this account, so no other account can use it.
#[test]
fn a_change_request_cannot_rewrite_an_identity() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), free_port(), &[]);
    let client = Client::new(dir.path());
    let case = client.submitted_case(&s, "change-1", SAME_PERSON);
    let approved = client.wait_for_status(&s, &case, "approved", Duration::from_secs(60));
    let applicant = approved["applicant_id"].as_str().unwrap().to_string();
    let reviewer = |name: &str| {
        let r = client.post(
            &s.url("/v1/reviewers"),
            json!({"name": name, "role": "reviewer"}),
        );
        r["token"].as_str().unwrap().to_string()
    };
    let (alice, bob) = (reviewer("alice"), reviewer("bob"));
    let as_reviewer = |token: &str, url: &str, body: Value| -> (u16, Value) {
        match ureq::post(url)
            .set("authorization", &format!("Bearer {token}"))
            .send_json(body)
        {
            Ok(r) => (r.status(), r.into_json().unwrap()),
            Err(ureq::Error::Status(c, r)) => (c, r.into_json().unwrap()),
            Err(e) => panic!("{e}"),
        }
    };
    let data = entered;
    let requests = s.url(&format!("/v1/applicants/{applicant}/change-requests"));
    let (status, v) = client.send(
        "POST",
        &requests,
        Some(json!({"data": data(&ZHANG), "reason": "nothing really"})),
    );
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (422, Some("no_change"))
    );

    // A passport of an 11-year-old with this account's name: refused by the checks.
    let child = Holder {
        number: "E87654321",
        birth: "2015-03-01",
        ..ZHANG
    };
    let (status, cr) = client.send(
        "POST",
        &requests,
        Some(json!({"data": data(&child), "reason": "new passport"})),
    );
    assert_eq!(status, 201, "{cr}");
    assert_eq!(cr["status"], "awaiting_documents");
    assert_eq!(cr["changes"], json!(["birth_date", "document.number"]));
    assert_eq!(cr["second_approval"], true);
    let id = cr["id"].as_str().unwrap().to_string();
    let decide = s.url(&format!("/v1/review/change-requests/{id}/decision"));
    let (status, v) = as_reviewer(&alice, &decide, json!({"decision": "approve"}));
    assert_eq!(status, 409, "nothing is approved before its checks: {v}");
    let (status, _) = client.send(
        "POST",
        &s.url(&format!("/v1/change-requests/{id}/submit")),
        None,
    );
    assert_eq!(status, 409, "the new document comes first");
    client.upload(
        &s.url(&format!("/v1/change-requests/{id}/documents")),
        "passport",
        &passport_photo(&child),
    );
    let (status, _) = client.send(
        "POST",
        &s.url(&format!("/v1/change-requests/{id}/submit")),
        None,
    );
    assert_eq!(status, 202);
    let done = wait_for_change(&client, &s, &id, &["rejected"]);
    let codes: Vec<&str> = done["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"UNDERAGE"), "{done}");

    // A renewed passport (a new number, the same person and data): two reviewers.
    let renewed = Holder {
        number: "E87654321",
        ..ZHANG
    };
    let (status, cr) = client.send(
        "POST",
        &requests,
        Some(json!({"data": data(&renewed), "reason": "passport renewed"})),
    );
    assert_eq!(
        (status, cr["changes"].clone()),
        (201, json!(["document.number"]))
    );
    let id = cr["id"].as_str().unwrap().to_string();
    client.upload(
        &s.url(&format!("/v1/change-requests/{id}/documents")),
        "passport",
        &passport_photo(&renewed),
    );
    client.send(
        "POST",
        &s.url(&format!("/v1/change-requests/{id}/submit")),
        None,
    );
    let checked = wait_for_change(&client, &s, &id, &["pending"]);
    assert_eq!(checked["reasons"], json!([]), "{checked}");
    let decide = s.url(&format!("/v1/review/change-requests/{id}/decision"));
    let (status, v) = as_reviewer(&alice, &decide, json!({"decision": "approve"}));
    assert_eq!(
        (status, v["status"].as_str()),
        (200, Some("awaiting_second_approval"))
    );
    let (status, v) = as_reviewer(&alice, &decide, json!({"decision": "approve"}));
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (409, Some("second_reviewer_required"))
    );
    let a = client.get(&s.url(&format!("/v1/applicants/{applicant}")));
    assert_eq!(
        a["verified_data"]["document"]["number"], "E12345678",
        "unchanged until the second approval"
    );
    let (status, v) = as_reviewer(&bob, &decide, json!({"decision": "approve"}));
    assert_eq!((status, v["status"].as_str()), (200, Some("approved")));
    let a = client.get(&s.url(&format!("/v1/applicants/{applicant}")));
    assert_eq!(a["verified_data"]["document"]["number"], "E87654321");

    // The new passport is now this account's: another account cannot verify with it.
    let thief = client.submitted_case_of(&s, "change-2", &renewed, SAME_PERSON_AGAIN);
    let c = client.wait_for_status(&s, &thief, "rejected", Duration::from_secs(60));
    assert!(reason_codes(&c).contains(&"DUPLICATE_IDENTITY"), "{c}");
    s.stop();
}

/// Another capture of the passport holder (a new selfie, not the same picture again).
const SAME_PERSON_AGAIN: &str = "face_recognition_ageitgey/tests/test_images/obama2.jpg";

fn wait_for_change(client: &Client, s: &Server, id: &str, want: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let c = client.get(&s.url(&format!("/v1/change-requests/{id}")));
        if want.contains(&c["status"].as_str().unwrap_or("")) {
            return c;
        }
        assert!(Instant::now() < deadline, "change request stayed {c}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Issue #30: `idgate verify` and the service decide through one pipeline. The same
/// application (a passport photo, the entered data and a selfie) goes to the running
/// service and to the offline command, each on its own data directory: the decision and
/// every finding (code, type, subject and the measured detail, the faces' similarity
/// included) are the same.
#[test]
fn idgate_verify_and_the_service_decide_an_application_alike() {
    let dir = tempfile::tempdir().unwrap();
    // Without active liveness, so that both can be handed the same selfie file.
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "liveness_required = false\n").unwrap();
    let service_dir = dir.path().join("service");
    let s = Server::start(
        &service_dir,
        free_port(),
        &[("IDGATE_POLICY_FILE", policy.to_str().unwrap())],
    );
    let client = Client::new(&service_dir);
    let reviewer = client.post(
        &s.url("/v1/reviewers"),
        json!({"name": "rita", "role": "reviewer"}),
    );
    let token = reviewer["token"].as_str().unwrap().to_string();
    let other = Holder {
        number: "G23456789",
        family: "Zhang",
        given: "Min",
        birth: "1995-03-01",
    };
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let mut outcomes = Vec::new();
    for (uid, who, selfie) in [
        (
            "alike-1",
            &ZHANG,
            "face_recognition_ageitgey/tests/test_images/obama2.jpg",
        ),
        ("alike-2", &other, OTHER_PERSON),
    ] {
        let page = passport_photo(who);
        let selfie = testdata::read(selfie);
        // Through the service.
        let case = client.new_case(&s, uid);
        let docs = s.url(&format!("/v1/cases/{case}/documents"));
        client.upload(&docs, "passport", &page);
        client.upload(&docs, "selfie", &selfie);
        client.enter_and_submit(&s, &case, who);
        let decided = wait_decided(&client, &s, &case);
        let review = ureq::get(&s.url(&format!("/v1/review/cases/{case}")))
            .set("authorization", &format!("Bearer {token}"))
            .call()
            .unwrap()
            .into_json::<Value>()
            .unwrap();
        let service: Vec<Value> = review["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| json!([f["code"], f["reject_type"], f["subject"], f["detail"]]))
            .collect();

        // Through `idgate verify`.
        let page_path = files.join(format!("{uid}-page.jpg"));
        let selfie_path = files.join(format!("{uid}-selfie.jpg"));
        std::fs::write(&page_path, &page).unwrap();
        std::fs::write(&selfie_path, &selfie).unwrap();
        let mut app = entered(who);
        app["uid"] = json!(uid);
        app["region"] = json!("CN");
        app["images"] = json!({"photo_page": page_path});
        app["selfie"] = json!(selfie_path);
        let app_path = files.join(format!("{uid}.json"));
        std::fs::write(&app_path, app.to_string()).unwrap();
        let out = Command::new(BIN)
            .arg("--data-dir")
            .arg(dir.path().join("cli"))
            .arg("verify")
            .arg("--policy")
            .arg(&policy)
            .arg("--internal")
            .arg(&app_path)
            .env("IDGATE_LOG", "warn")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let cli: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
            panic!(
                "verify printed {stdout:?}; stderr {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let offline: Vec<Value> = cli["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| json!([f["code"], f["reject_type"], f["subject"], f["detail"]]))
            .collect();
        assert_eq!(decided["status"], cli["decision"], "{decided} / {cli}");
        assert_eq!(service, offline, "{uid}");
        outcomes.push((cli["decision"].clone(), offline));
    }
    // The two applications differ where they should: one approved, one whose selfie is
    // someone else (the similarity measured the same way on both paths).
    assert_eq!(outcomes[0].0, "approved", "{:?}", outcomes[0]);
    assert_eq!(outcomes[1].0, "resubmission_requested", "{:?}", outcomes[1]);
    assert_eq!(outcomes[1].1[0][0], "FACE_MISMATCH", "{:?}", outcomes[1]);
    assert!(
        outcomes[1].1[0][3]["similarity"].is_number(),
        "{:?}",
        outcomes[1]
    );
    s.stop();
}

/// A UN consolidated list naming Eric Badege and, with `zhang`, Xiaoming Zhang (born
/// 1995-03-01, Chinese): the holder of the specimen passport the tests submit.
fn un_list(zhang: bool) -> String {
    let zhang = if zhang {
        r#"<INDIVIDUAL>
      <DATAID>900001</DATAID>
      <FIRST_NAME>XIAOMING</FIRST_NAME>
      <SECOND_NAME>ZHANG</SECOND_NAME>
      <UN_LIST_TYPE>TEST</UN_LIST_TYPE>
      <NATIONALITY><VALUE>China</VALUE></NATIONALITY>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1995-03-01</DATE></INDIVIDUAL_DATE_OF_BIRTH>
    </INDIVIDUAL>"#
    } else {
        ""
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST>
  <INDIVIDUALS>
    {zhang}
    <INDIVIDUAL>
      <DATAID>900002</DATAID>
      <FIRST_NAME>ERIC</FIRST_NAME>
      <SECOND_NAME>BADEGE</SECOND_NAME>
    </INDIVIDUAL>
  </INDIVIDUALS>
</CONSOLIDATED_LIST>
"#
    )
}

/// `idgate lists ARGS` on the data directory.
fn lists(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(["--data-dir", data.to_str().unwrap(), "lists"])
        .args(args)
        .output()
        .unwrap()
}

/// `idgate lists import` of `file` as the next version of the UN list.
fn import_un(data: &std::path::Path, file: &std::path::Path) -> std::process::Output {
    lists(
        data,
        &[
            "import",
            "--source",
            "un",
            "--format",
            "un_xml",
            file.to_str().unwrap(),
        ],
    )
}

/// Issue #31: a list imported while the service runs is screened against from the next
/// case on. The listed man's case goes to a person with SANCTIONS_MATCH and the match's
/// reasons (which names met, the qualifiers); a cut file is refused and changes nothing.
#[test]
fn a_listed_person_goes_to_a_reviewer_with_the_match_explained() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), free_port(), &[]);
    let client = Client::new(dir.path());
    let list = dir.path().join("un.xml");
    std::fs::write(&list, un_list(true)).unwrap();
    let lists = |args: &[&str]| lists(dir.path(), args);
    let out = import_un(dir.path(), &list);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            v["version"].as_i64(),
            v["entities"].as_i64(),
            v["added"].as_i64()
        ),
        (Some(1), Some(2), Some(2))
    );
    // A file cut short is refused whole; version 1 stays in use.
    let text = std::fs::read_to_string(&list).unwrap();
    let cut = dir.path().join("cut.xml");
    std::fs::write(&cut, &text[..text.find("<INDIVIDUAL>").unwrap() + 40]).unwrap();
    let out = import_un(dir.path(), &cut);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = lists(&["show"]);
    assert_eq!(String::from_utf8_lossy(&shown.stdout).lines().count(), 1);

    let case = client.submitted_case(&s, "zhang-listed", SAME_PERSON);
    let c = client.wait_for_status(&s, &case, "in_review", Duration::from_secs(60));
    assert!(reason_codes(&c).contains(&"SANCTIONS_MATCH"), "{c}");
    let r = client.post(
        &s.url("/v1/reviewers"),
        json!({"name": "sam", "role": "reviewer"}),
    );
    let detail: Value = ureq::get(&s.url(&format!("/v1/review/cases/{case}")))
        .set(
            "authorization",
            &format!("Bearer {}", r["token"].as_str().unwrap()),
        )
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let finding = detail["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "SANCTIONS_MATCH")
        .cloned()
        .unwrap_or_else(|| panic!("{detail}"));
    assert_eq!(finding["reject_type"], "REVIEW");
    let m = &finding["detail"]["matches"][0];
    assert_eq!(m["entity_id"], "un:900001", "{finding}");
    assert_eq!(m["listed_name"], "XIAOMING ZHANG", "{finding}");
    let qualifiers: Vec<&str> = m["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["qualifier"].as_str().unwrap())
        .collect();
    assert_eq!(
        qualifiers,
        ["birth_date_match", "nationality_match"],
        "{finding}"
    );
    // The match leads the reviewer to the listed record it was made on.
    let token = format!("Bearer {}", r["token"].as_str().unwrap());
    // (status, body) of a reviewer's GET.
    let get = |path: &str| -> (u16, Value) {
        match ureq::get(&s.url(path)).set("authorization", &token).call() {
            Ok(res) => (res.status(), res.into_json().unwrap()),
            Err(ureq::Error::Status(code, res)) => (code, res.into_json().unwrap_or(Value::Null)),
            Err(e) => panic!("{path}: {e}"),
        }
    };
    let (status, entity) = get("/v1/review/list-entities/un:900001");
    assert_eq!(status, 200, "{entity}");
    assert_eq!(entity["names"][0], "XIAOMING ZHANG", "{entity}");
    assert_eq!(entity["nationalities"], json!(["CN"]), "{entity}");
    assert_eq!(entity["digest"], m["entity_digest"], "{entity}");
    let (status, body) = get("/v1/review/list-entities/un:nobody");
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("not_found")),
        "{body}"
    );
    // ...and the applicant's other attempts.
    let (_, cases) = get("/v1/review/applicants/zhang-listed/cases");
    assert_eq!(cases["cases"][0]["id"], case.as_str());
    assert_eq!(cases["cases"][0]["reasons"][0], "SANCTIONS_MATCH");
    s.stop();
}

/// Issue #31, ongoing monitoring: a person approved before a list named him is found when
/// the list is imported again. The import queues a re-screen of the approved applicants
/// against what it added; the match opens a review (origin `monitoring`) and the platform
/// hears a signed `applicant.screening_match`; the reviewer confirms it and the account's
/// entitlements are withdrawn. An import that adds nothing opens nothing.
#[test]
fn an_approved_person_later_listed_goes_back_to_a_reviewer_and_loses_the_entitlements() {
    let dir = tempfile::tempdir().unwrap();
    let (url, hooks) = receiver();
    let secret = "whsec-monitoring";
    let s = Server::start(
        dir.path(),
        free_port(),
        &[
            ("IDGATE_WEBHOOK_URL", &url),
            ("IDGATE_WEBHOOK_SECRET", secret),
        ],
    );
    let client = Client::new(dir.path());
    let list = dir.path().join("un.xml");
    let import = |zhang: bool| {
        std::fs::write(&list, un_list(zhang)).unwrap();
        let out = import_un(dir.path(), &list);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    import(false);
    let case = client.submitted_case(&s, "zhang-monitored", SAME_PERSON);
    let c = client.wait_for_status(&s, &case, "approved", Duration::from_secs(90));
    assert_eq!(c["origin"], "applicant", "{c}");
    let entitled = || client.get(&s.url("/v1/entitlements/zhang-monitored"));
    assert_eq!(entitled()["entitlements"]["withdraw"], true);

    import(true);
    // The platform hears of the match, signed, after the review case's own status event.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let alert = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let (sig, body) = hooks
            .recv_timeout(left)
            .expect("an applicant.screening_match webhook");
        let now = idgate_core::Clock::now_ms(&idgate_core::SystemClock) / 1000;
        assert_eq!(
            idgate_server::webhooks::verify_signature(secret.as_bytes(), &body, &sig, now, 300),
            Ok(())
        );
        let v: Value = serde_json::from_slice(&body).unwrap();
        if v["type"] == "applicant.screening_match" {
            break v;
        }
    };
    let data = &alert["data"];
    assert_eq!(data["uid"], "zhang-monitored", "{alert}");
    assert_eq!(data["reasons"], json!(["SANCTIONS_MATCH"]), "{alert}");
    assert_eq!(data["entities"], json!(["un:900001"]), "{alert}");
    assert_eq!(
        data["list"],
        json!({"source": "un", "version": 2}),
        "{alert}"
    );
    assert_eq!(alert["sequence"], 2, "after the case's in_review event");
    let review_case = data["case_id"].as_str().unwrap().to_string();
    assert_ne!(review_case, case);
    let c = client.get(&s.url(&format!("/v1/cases/{review_case}")));
    assert_eq!(
        (&c["status"], &c["origin"]),
        (&json!("in_review"), &json!("monitoring")),
        "{c}"
    );
    // Until a person confirms the match, the account keeps what it may do.
    assert_eq!(entitled()["entitlements"]["withdraw"], true);

    let r = client.post(
        &s.url("/v1/reviewers"),
        json!({"name": "mona", "role": "reviewer"}),
    );
    let token = format!("Bearer {}", r["token"].as_str().unwrap());
    let review = |method: &str, path: &str, body: Value| -> Value {
        ureq::request(method, &s.url(path))
            .set("authorization", &token)
            .send_json(body)
            .unwrap()
            .into_json()
            .unwrap_or(Value::Null)
    };
    let detail = review(
        "GET",
        &format!("/v1/review/cases/{review_case}"),
        json!(null),
    );
    assert_eq!(detail["origin"], "monitoring", "{detail}");
    let m = &detail["findings"][0]["detail"]["matches"][0];
    assert_eq!(m["entity_id"], "un:900001", "{detail}");
    assert_eq!(detail["entered"]["name"]["family"], "Zhang", "{detail}");
    review(
        "POST",
        &format!("/v1/review/cases/{review_case}/claim"),
        json!({}),
    );
    let decided = review(
        "POST",
        &format!("/v1/review/cases/{review_case}/decision"),
        json!({"decision": "reject", "reasons": ["SANCTIONS_MATCH"]}),
    );
    assert_eq!(decided["status"], "rejected", "{decided}");
    let e = entitled();
    assert_eq!(
        (&e["level"], &e["entitlements"]["withdraw"]),
        (&Value::Null, &json!(false)),
        "{e}"
    );

    // The same list again adds nothing: no re-screen, no review.
    import(true);
    std::thread::sleep(Duration::from_secs(2));
    let cases = review(
        "GET",
        "/v1/review/applicants/zhang-monitored/cases",
        json!(null),
    );
    assert_eq!(cases["cases"].as_array().unwrap().len(), 2, "{cases}");
    s.stop();
}

/// A file served over HTTP on 127.0.0.1 at `/NAME` (its current contents at each request;
/// anything else is 404): the address an operator configures a list to be fetched from.
fn serve_file(name: &'static str, path: std::path::PathBuf) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let line = String::from_utf8_lossy(&head)
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            let wanted = line.split_whitespace().nth(1) == Some(&format!("/{name}"));
            let (status, body) = match std::fs::read(&path) {
                Ok(body) if wanted => ("200 OK", body),
                _ => ("404 Not Found", Vec::new()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    port
}

/// Issue #31: lists configured by address are fetched at start and on schedule. An
/// unchanged file makes no new version, a cut one is refused and changes nothing, a new
/// one is imported and screened against.
#[test]
fn configured_lists_are_fetched_on_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("published.xml");
    std::fs::write(&file, un_list(false)).unwrap();
    let port = serve_file("un.xml", file.clone());
    let feeds = format!("un un_xml http://127.0.0.1:{port}/un.xml");
    let s = Server::start(
        dir.path(),
        free_port(),
        &[
            ("IDGATE_LISTS_REFRESH", feeds.as_str()),
            ("IDGATE_LISTS_REFRESH_SECS", "1"),
        ],
    );
    let client = Client::new(dir.path());
    let until = |what: &str, ok: &dyn Fn(&Value, &str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let lists = client.get(&s.url("/v1/lists"));
            let metrics = s.metrics();
            if ok(&lists, &metrics) {
                return lists;
            }
            assert!(Instant::now() < deadline, "{what}: {lists} {metrics}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let count = |metrics: &str, outcome: &str| -> u64 {
        let key = format!("idgate_list_refreshes_total{{outcome=\"{outcome}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&key))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    let v = until("the first fetch", &|l, _| l["sources"][0]["version"] == 1);
    assert_eq!(v["sources"][0]["entities"], 1, "{v}");
    until("two unchanged fetches", &|_, m| count(m, "unchanged") >= 2);
    assert_eq!(client.get(&s.url("/v1/lists"))["sources"][0]["versions"], 1);

    let text = un_list(true);
    std::fs::write(&file, &text[..text.find("<INDIVIDUAL>").unwrap() + 40]).unwrap();
    until("the cut file refused", &|_, m| count(m, "refused") >= 1);
    assert_eq!(client.get(&s.url("/v1/lists"))["sources"][0]["versions"], 1);

    std::fs::write(&file, &text).unwrap();
    let v = until("the new version", &|l, _| l["sources"][0]["version"] == 2);
    assert_eq!(
        (&v["sources"][0]["added"], &v["entities_screened"]),
        (&json!(1), &json!(2)),
        "{v}"
    );
    let found = client.post(
        &s.url("/v1/screening/search"),
        json!({"name": "Zhang Xiaoming", "birth_date": "1995-03-01"}),
    );
    assert_eq!(found["matches"][0]["entity_id"], "un:900001", "{found}");
    s.stop();
}

/// Issue #28: a stored image changed on disk is not retried as if the disk were slow:
/// the case goes to a reviewer at once and a metric counts it, to alert on.
#[test]
fn a_changed_image_sends_the_case_to_review_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), free_port(), &[]);
    let client = Client::new(dir.path());
    let case = client.new_case(&s, "tampered");
    let docs = s.url(&format!("/v1/cases/{case}/documents"));
    client.upload(&docs, "passport", &passport_photo(&ZHANG));
    client.upload(
        &docs,
        "selfie",
        &testdata::read("face_recognition_ageitgey/examples/obama-480p.jpg"),
    );
    // Someone with the disk flips a byte in the middle of every stored image.
    let blobs = dir.path().join("blobs/blobs");
    let mut changed = 0;
    for entry in std::fs::read_dir(&blobs).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        std::fs::write(&path, bytes).unwrap();
        changed += 1;
    }
    assert_eq!(changed, 2);
    client.enter_and_submit(&s, &case, &ZHANG);
    let c = client.wait_for_status(&s, &case, "in_review", Duration::from_secs(30));
    assert_eq!(reason_codes(&c), ["COMPLIANCE_REVIEW"], "{c}");
    let metrics = s.metrics();
    assert!(
        metrics.contains("idgate_blob_integrity_failures_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("idgate_jobs_retried_total 0"),
        "no retry: {metrics}"
    );
    s.stop();
}
