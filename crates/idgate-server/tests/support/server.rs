//! The real `idgate` binary on a temporary data directory, and a platform's client of its
//! API: shared by the end-to-end and browser tests (each includes this file with `#[path]`).
#![allow(dead_code)]

#[path = "../../../face_models.rs"]
pub mod face_models;
#[path = "../../../testdata.rs"]
pub mod testdata;

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_idgate");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Server {
    pub fn start(data: &Path, port: u16, env: &[(&str, &str)]) -> Server {
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

    pub fn wait_healthy(&self) {
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

    /// The `/metrics` text.
    pub fn metrics(&self) -> String {
        ureq::get(&self.url("/metrics"))
            .call()
            .unwrap()
            .into_string()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGTERM and wait: a clean shutdown.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "clean shutdown exits 0: {status}");
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

pub struct Client {
    pub key: String,
}

impl Client {
    pub fn new(data: &Path) -> Client {
        Client {
            key: std::fs::read_to_string(data.join("api-key"))
                .unwrap()
                .trim()
                .to_string(),
        }
    }

    pub fn post(&self, url: &str, body: Value) -> Value {
        ureq::post(url)
            .set("authorization", &format!("Bearer {}", self.key))
            .send_json(body)
            .unwrap()
            .into_json()
            .unwrap()
    }

    /// A request whose answer may be an error: (status, body).
    pub fn send(&self, method: &str, url: &str, body: Option<Value>) -> (u16, Value) {
        let req = ureq::request(method, url).set("authorization", &format!("Bearer {}", self.key));
        let res = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        match res {
            Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
            Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or(Value::Null)),
            Err(e) => panic!("{method} {url}: {e}"),
        }
    }

    pub fn get(&self, url: &str) -> Value {
        ureq::get(url)
            .set("authorization", &format!("Bearer {}", self.key))
            .call()
            .unwrap()
            .into_json()
            .unwrap()
    }

    pub fn put(&self, url: &str, body: Value) -> u16 {
        ureq::put(url)
            .set("authorization", &format!("Bearer {}", self.key))
            .send_json(body)
            .unwrap()
            .status()
    }

    pub fn upload(&self, url: &str, kind: &str, file: &[u8]) -> Value {
        self.multipart(url, &[("kind", kind.as_bytes()), ("file", file)])
    }

    pub fn multipart(&self, url: &str, fields: &[(&str, &[u8])]) -> Value {
        let (status, v) = self.multipart_status(url, fields);
        assert!((200..300).contains(&status), "{url}: {status} {v}");
        v
    }

    /// A multipart POST whose answer may be an error: (status, body).
    pub fn multipart_status(&self, url: &str, fields: &[(&str, &[u8])]) -> (u16, Value) {
        let boundary = "E2EBOUNDARY";
        let mut body = Vec::new();
        for (name, data) in fields {
            let file = if *name == "kind" || *name == "timestamps_ms" {
                ""
            } else {
                "; filename=\"p.jpg\""
            };
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend(*data);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        let sent = ureq::post(url)
            .set("authorization", &format!("Bearer {}", self.key))
            .set(
                "content-type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .send_bytes(&body);
        match sent {
            Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
            Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or(Value::Null)),
            Err(e) => panic!("{url}: {e}"),
        }
    }

    /// Creates an applicant and a case with a photo of Zhang's passport (the portrait is
    /// obama.jpg), a selfie and the entered data, and submits it.
    pub fn submitted_case(&self, s: &Server, uid: &str, selfie: &str) -> String {
        self.submitted_case_of(s, uid, &ZHANG, selfie)
    }

    /// Like `submitted_case`, for the holder `who` of another passport (same portrait).
    pub fn submitted_case_of(&self, s: &Server, uid: &str, who: &Holder, selfie: &str) -> String {
        let case = self.new_case(s, uid);
        // The liveness first: with the document already there every frame would be held
        // against its portrait at once (the api tests cover that); here the worker's match
        // of the kept frame decides.
        self.live_selfie(s, &case, selfie);
        let docs = s.url(&format!("/v1/cases/{case}/documents"));
        self.upload(&docs, "passport", &passport_photo(who));
        self.enter_and_submit(s, &case, who);
        case
    }

    /// A new applicant `uid` resident in China, and a draft case of it.
    pub fn new_case(&self, s: &Server, uid: &str) -> String {
        let a = self.post(
            &s.url("/v1/applicants"),
            json!({"uid": uid, "region": "CN"}),
        );
        let c = self.post(
            &s.url(&format!(
                "/v1/applicants/{}/cases",
                a["id"].as_str().unwrap()
            )),
            json!({}),
        );
        c["id"].as_str().unwrap().to_string()
    }

    /// Enters `who`'s data on the case and submits it.
    pub fn enter_and_submit(&self, s: &Server, case: &str, who: &Holder) {
        assert_eq!(
            self.put(&s.url(&format!("/v1/cases/{case}/data")), entered(who)),
            204
        );
        let submitted = self.post(&s.url(&format!("/v1/cases/{case}/submit")), json!(null));
        assert_eq!(submitted["status"], "submitted");
    }

    /// Answers a liveness challenge with a synthetic recording of the face in `photo`
    /// performing the movements asked; the passed sequence leaves the case's selfie.
    pub fn live_selfie(&self, s: &Server, case: &str, photo: &str) {
        let r = self.answer_liveness(s, case, photo);
        assert_eq!(r["status"], "passed", "{r}");
    }

    /// Answers a liveness challenge on `case` with a new live recording of `photo`.
    pub fn answer_liveness(&self, s: &Server, case: &str, photo: &str) -> Value {
        let (path, frames, stamps) = self.liveness_recording(s, case, photo);
        self.answer_recording(s, &path, &frames, &stamps)
    }

    /// Asks for a liveness challenge on `case` and makes a live recording of the face in
    /// `photo` doing its movements: (the answer's path, the JPEG frames, the timestamps).
    pub fn liveness_recording(
        &self,
        s: &Server,
        case: &str,
        photo: &str,
    ) -> (String, Vec<Vec<u8>>, String) {
        let c = self.post(&s.url(&format!("/v1/cases/{case}/liveness")), json!(null));
        let actions: Vec<idgate_face::liveness::Action> = c["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| idgate_face::liveness::Action::parse(a.as_str().unwrap()).unwrap())
            .collect();
        let models = face_models::get();
        let img = image::load_from_memory(&testdata::read(photo))
            .unwrap()
            .into_rgb8();
        let lm = models.faces(&img)[0].landmarks;
        // A live recording (the head turning in 3-D, lids closing), seeded by the case, in
        // which the detector sees the face in every frame. Checked as sent: the frames the
        // server decodes carry the case's marks and their own JPEG encoding, and a face at
        // the edge of detection in one of them fails the whole answer (a random case id
        // made that happen now and then).
        let mut seed = case
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        let mut tries = 0;
        let frames = loop {
            let frames = idgate_face::synth::camera_frames(
                idgate_face::synth::detectable_recording(
                    models, &img, &lm, &actions, 22.0, seed, 8,
                ),
                case.as_bytes(),
            );
            let one_face_each = frames.iter().all(|f| {
                image::load_from_memory(f)
                    .map(|d| models.faces(&d.into_rgb8()).len() == 1)
                    .unwrap_or(false)
            });
            tries += 1;
            if one_face_each || tries == 10 {
                break frames;
            }
            seed = seed.wrapping_add(8);
        };
        let stamps: Vec<String> = (0..frames.len()).map(|i| (i * 250).to_string()).collect();
        let path = format!("/v1/cases/{case}/liveness/{}", c["id"].as_str().unwrap());
        (path, frames, stamps.join(","))
    }

    /// Sends a recording as the answer at `path` of the server `s`.
    pub fn answer_recording(
        &self,
        s: &Server,
        path: &str,
        frames: &[Vec<u8>],
        stamps: &str,
    ) -> Value {
        let (status, v) = self.answer_recording_status(s, path, frames, stamps);
        assert_eq!(status, 200, "{v}");
        v
    }

    /// [`Client::answer_recording`] whose answer may be an error: (status, body).
    pub fn answer_recording_status(
        &self,
        s: &Server,
        path: &str,
        frames: &[Vec<u8>],
        stamps: &str,
    ) -> (u16, Value) {
        let mut fields: Vec<(&str, &[u8])> =
            frames.iter().map(|f| ("frame", f.as_slice())).collect();
        fields.push(("timestamps_ms", stamps.as_bytes()));
        self.multipart_status(&s.url(path), &fields)
    }

    pub fn wait_for_status(&self, s: &Server, case: &str, want: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let c = self.get(&s.url(&format!("/v1/cases/{case}")));
            if c["status"] == want {
                return c;
            }
            assert!(
                Instant::now() < deadline,
                "case stayed {} (wanted {want}): {}",
                c["status"],
                c["reasons"]
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The same person as the passport portrait, in another photo.
pub const SAME_PERSON: &str = "face_recognition_ageitgey/examples/obama-480p.jpg";
/// Someone else.
pub const OTHER_PERSON: &str = "face_recognition_ageitgey/tests/test_images/biden.jpg";

pub struct Holder {
    pub number: &'static str,
    pub family: &'static str,
    pub given: &'static str,
    /// YYYY-MM-DD.
    pub birth: &'static str,
}

pub const ZHANG: Holder = Holder {
    number: "E12345678",
    family: "Zhang",
    given: "Xiaoming",
    birth: "1995-03-01",
};

/// Another holder of a Chinese passport, with the same portrait as Zhang's (a second
/// account of one face, or a relative the reviewer tells apart).
pub const ZHANG_MIN: Holder = Holder {
    number: "G23456789",
    family: "Zhang",
    given: "Min",
    birth: "1995-03-01",
};

/// What `who` enters: the data printed in the passport `passport_photo` makes.
pub fn entered(who: &Holder) -> Value {
    json!({
        "nationality": "CN",
        "document": {"country": "CN", "type": "passport", "number": who.number},
        "name": {"given": who.given, "family": who.family},
        "birth_date": who.birth,
    })
}

pub fn passport_photo(who: &Holder) -> Vec<u8> {
    passport_photo_with(who, idgate_specimen::Defect::Clean)
}

/// A generated photo of `who`'s passport with one defect (glare, blur...).
pub fn passport_photo_with(who: &Holder, defect: idgate_specimen::Defect) -> Vec<u8> {
    use idgate_mrz::Date;
    let id = idgate_specimen::identity::Identity {
        document_code: "P<".into(),
        country: "CHN".into(),
        country_name: "CHINA".into(),
        surname: who.family.to_uppercase(),
        given_names: who.given.to_uppercase(),
        nationality: "CHN".into(),
        document_number: who.number.into(),
        birth: Date::parse_iso(who.birth).unwrap(),
        sex: 'M',
        expiry: Date::new(2035, 6, 30).unwrap(),
    };
    let fonts = idgate_specimen::Fonts::system().expect("fonts installed by scripts/lib.sh");
    let opts = idgate_specimen::Options {
        today: Date::new(2026, 11, 24).unwrap(),
        ..Default::default()
    };
    let portrait = image::load_from_memory(&testdata::read(
        "face_recognition_ageitgey/tests/test_images/obama.jpg",
    ))
    .unwrap()
    .into_rgb8();
    idgate_specimen::photograph_with_portrait(
        &fonts,
        defect,
        idgate_specimen::document::Layout::Td3,
        &id,
        3,
        &opts,
        Some(&portrait),
    )
    .bytes
}

pub fn wait_decided(client: &Client, s: &Server, case: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let c = client.get(&s.url(&format!("/v1/cases/{case}")));
        if !matches!(c["status"].as_str(), Some("submitted" | "processing")) {
            return c;
        }
        assert!(Instant::now() < deadline, "case still {}", c["status"]);
        std::thread::sleep(Duration::from_millis(100));
    }
}
