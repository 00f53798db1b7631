//! End-to-end: the real `idgate` binary on a temporary data directory, polled through
//! its `healthcheck` subcommand, restarted and killed.

#[path = "../../testdata.rs"]
mod testdata;

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_idgate");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(data: &Path, port: u16, env: &[(&str, &str)]) -> Server {
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(BIN);
        cmd.args([
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            &addr,
            "serve",
        ])
        .env("IDGATE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let s = Server { child, addr };
        s.wait_healthy();
        s
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ok = Command::new(BIN)
                .args(["--listen", &self.addr, "healthcheck"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap()
                .success();
            if ok {
                return;
            }
            assert!(Instant::now() < deadline, "server did not become healthy");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGTERM and wait: a clean shutdown.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "clean shutdown exits 0: {status}");
    }

    /// SIGKILL: the process gets no chance to clean up.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

struct Client {
    key: String,
}

impl Client {
    fn new(data: &Path) -> Client {
        Client {
            key: std::fs::read_to_string(data.join("api-key"))
                .unwrap()
                .trim()
                .to_string(),
        }
    }

    fn post(&self, url: &str, body: Value) -> Value {
        ureq::post(url)
            .set("authorization", &format!("Bearer {}", self.key))
            .send_json(body)
            .unwrap()
            .into_json()
            .unwrap()
    }

    fn get(&self, url: &str) -> Value {
        ureq::get(url)
            .set("authorization", &format!("Bearer {}", self.key))
            .call()
            .unwrap()
            .into_json()
            .unwrap()
    }

    fn upload(&self, url: &str, file: &[u8]) -> Value {
        let boundary = "E2EBOUNDARY";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\npassport\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\n\r\n"
        )
        .into_bytes();
        body.extend(file);
        body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
        ureq::post(url)
            .set("authorization", &format!("Bearer {}", self.key))
            .set(
                "content-type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .send_bytes(&body)
            .unwrap()
            .into_json()
            .unwrap()
    }

    /// Creates an applicant and a case with one real passport photo, and submits it.
    fn submitted_case(&self, s: &Server, uid: &str) -> String {
        let a = self.post(
            &s.url("/v1/applicants"),
            json!({"uid": uid, "region": "DE"}),
        );
        let c = self.post(
            &s.url(&format!(
                "/v1/applicants/{}/cases",
                a["id"].as_str().unwrap()
            )),
            json!({}),
        );
        let case = c["id"].as_str().unwrap().to_string();
        self.upload(&s.url(&format!("/v1/cases/{case}/documents")), &specimen());
        let submitted = self.post(&s.url(&format!("/v1/cases/{case}/submit")), json!(null));
        assert_eq!(submitted["status"], "submitted");
        case
    }

    fn wait_for_status(&self, s: &Server, case: &str, want: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let c = self.get(&s.url(&format!("/v1/cases/{case}")));
            if c["status"] == want {
                return c;
            }
            assert!(
                Instant::now() < deadline,
                "case stayed {} (wanted {want})",
                c["status"]
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn specimen() -> Vec<u8> {
    testdata::read("fastmrz/data/td3.jpg")
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
    let case = client.submitted_case(&s, "restart-user");
    let before = client.wait_for_status(&s, &case, "in_review", Duration::from_secs(20));
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
    let case = client.submitted_case(&s, "crash-user");
    client.wait_for_status(&s, &case, "processing", Duration::from_secs(20));
    s.kill();

    let s = Server::start(dir.path(), port, &[("IDGATE_JOB_LEASE_SECS", "1")]);
    let done = client.wait_for_status(&s, &case, "in_review", Duration::from_secs(30));
    assert_eq!(done["documents"].as_array().unwrap().len(), 1);
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
            "submitted",
            "processing_started",
            "decided"
        ]
    );
    let metrics = ureq::get(&s.url("/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
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
