//! `idgate-eval load`: the service under load, as a platform's campaign would put it (issue
//! #28). The real `idgate serve` runs beside this process on a temporary data directory
//! (SQLite, or a PostgreSQL database given by URL); whole applications are driven through
//! its API with several at once — an applicant and a case, a passport photo, an answered
//! liveness challenge (a synthetic live recording made by this process on the same
//! machine, as a phone would film it), the entered data, submit, then polled
//! until decided — while a probe times the routes that do no image work (a case's status,
//! the lists) every 50 ms. Then 50 draft cases each receive a 15 MB photo at once and the
//! server's peak memory is read. Reported: decisions per minute, the probe's p50/p99 while
//! the workers are saturated, and the peak resident memory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use idgate_face::FaceModels;
use serde_json::{json, Value};

/// What `idgate-eval load` is told.
pub struct Load<'a> {
    pub testdata: &'a Path,
    pub models_dir: &'a Path,
    /// A PostgreSQL database for the service (SQLite in the data directory when `None`).
    pub database: Option<&'a str>,
    pub applications: usize,
    pub concurrency: usize,
    pub uploads: usize,
    pub upload_bytes: usize,
}

struct Service {
    child: Child,
    base: String,
    key: String,
    dir: PathBuf,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Service {
    /// The peak resident memory of the service so far, in MB.
    fn peak_mb(&self) -> f64 {
        crate::status_mb(&self.child.id().to_string(), "VmHWM")
    }
}

/// A new schema of the PostgreSQL database at `base`, as a URL whose connections use it.
pub fn fresh_schema(base: &str) -> anyhow::Result<String> {
    let schema = format!("load_{}", uuid::Uuid::new_v4().simple());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let admin = idgate_store::Store::connect(base, Arc::new(idgate_core::SystemClock)).await?;
        admin
            .execute_raw(&format!("CREATE SCHEMA {schema}"))
            .await?;
        admin.close().await;
        anyhow::Ok(())
    })?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

fn start(database: Option<&str>) -> anyhow::Result<Service> {
    let exe = std::env::current_exe()?;
    let bin = exe.with_file_name("idgate");
    if !bin.is_file() {
        bail!("{} not found: build it beside idgate-eval", bin.display());
    }
    let dir = std::env::temp_dir().join(format!("idgate-load-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(&bin);
    cmd.args([
        "--data-dir",
        dir.to_str().context("data dir")?,
        "--listen",
        &listen,
        "serve",
    ])
    .env("IDGATE_LOG", "warn")
    // The load is one platform's: its key is not to be throttled here.
    .env("IDGATE_API_KEY_PER_MINUTE", "0")
    .stdout(Stdio::null())
    .stderr(Stdio::inherit());
    if let Some(url) = database {
        cmd.env("IDGATE_DATABASE_URL", url);
    }
    let child = cmd.spawn().with_context(|| bin.display().to_string())?;
    let base = format!("http://{listen}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ok = std::net::TcpStream::connect(&listen).is_ok() && dir.join("api-key").is_file();
        if ok {
            break;
        }
        if Instant::now() > deadline {
            bail!("the service did not start");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let key = std::fs::read_to_string(dir.join("api-key"))?
        .trim()
        .to_string();
    Ok(Service {
        child,
        base,
        key,
        dir,
    })
}

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<(Vec<u8>, String)>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some((bytes, kind)) = body {
            req = req.header("content-type", kind).body(bytes);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let bytes = res.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let (status, v) = self
            .send(
                method,
                path,
                Some((serde_json::to_vec(&body)?, "application/json".into())),
            )
            .await?;
        if !(200..300).contains(&status) {
            bail!("{path}: {status} {v}");
        }
        Ok(v)
    }

    /// A new applicant `uid` resident in China and a draft case of it: the case's id.
    async fn draft_case(&self, uid: &str) -> anyhow::Result<String> {
        let a = self
            .json(
                reqwest::Method::POST,
                "/v1/applicants",
                json!({"uid": uid, "region": "CN"}),
            )
            .await?;
        let c = self
            .json(
                reqwest::Method::POST,
                &format!("/v1/applicants/{}/cases", a["id"].as_str().unwrap_or("")),
                json!({}),
            )
            .await?;
        Ok(c["id"].as_str().unwrap_or("").to_string())
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let (status, v) = self.send(reqwest::Method::GET, path, None).await?;
        if status != 200 {
            bail!("{path}: {status} {v}");
        }
        Ok(v)
    }

    async fn multipart(
        &self,
        path: &str,
        fields: &[(&str, &[u8])],
    ) -> anyhow::Result<(u16, Value)> {
        let boundary = "IDGATELOADBOUNDARY";
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
        self.send(
            reqwest::Method::POST,
            path,
            Some((body, format!("multipart/form-data; boundary={boundary}"))),
        )
        .await
    }
}

struct Holder {
    number: String,
    given: String,
}

const GIVEN: [&str; 8] = ["Xiaoming", "Wei", "Min", "Jun", "Lei", "Yang", "Jie", "Tao"];

/// A photo of a Chinese passport of `h` with the portrait `portrait`.
fn passport(h: &Holder, portrait: &image::RgbImage) -> anyhow::Result<Vec<u8>> {
    use idgate_mrz::Date;
    let id = idgate_specimen::identity::Identity {
        document_code: "P<".into(),
        country: "CHN".into(),
        country_name: "CHINA".into(),
        surname: "ZHANG".into(),
        given_names: h.given.to_uppercase(),
        nationality: "CHN".into(),
        document_number: h.number.clone(),
        birth: Date::new(1995, 3, 1).context("date")?,
        sex: 'M',
        expiry: Date::new(2035, 6, 30).context("date")?,
    };
    let fonts = idgate_specimen::Fonts::system().context("fonts (scripts/lib.sh installs them)")?;
    let opts = idgate_specimen::Options::default();
    Ok(idgate_specimen::photograph_with_portrait(
        &fonts,
        idgate_specimen::Defect::Clean,
        idgate_specimen::document::Layout::Td3,
        &id,
        3,
        &opts,
        Some(portrait),
    )
    .bytes)
}

/// One application made ready before the clock starts: its draft case and its number (the
/// person, passport and holder).
struct Ready {
    case: String,
    holder: usize,
}

fn percentile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 * q) as usize).min(v.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
}

/// A JPEG of noise just under `bytes` long (noise does not compress: the size is the
/// file's, not a stand-in's).
fn large_photo(bytes: usize) -> anyhow::Result<Vec<u8>> {
    let mut side = 1500u32;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    loop {
        let img = image::RgbImage::from_fn(side * 4 / 3, side, |_, _| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            image::Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8])
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92).encode_image(&img)?;
        if out.len() > bytes {
            bail!("a {side}px photo is already {} bytes", out.len());
        }
        if out.len() * 100 >= bytes * 97 {
            return Ok(out);
        }
        let grow = (bytes as f64 * 0.985 / out.len() as f64).sqrt();
        side = ((side as f64 * grow) as u32).max(side + 1);
    }
}

pub fn run(l: &Load<'_>) -> anyhow::Result<Value> {
    let models = FaceModels::load(l.models_dir).context("face models")?;
    // One person per application: the service rightly fails a recording whose frames are
    // another applicant's (the same photo filmed again), so each applicant is a different
    // public face photo with exactly one face, its own passport (that photo as the
    // portrait) and its own number.
    let mut people = Vec::new();
    for dir in [
        "deepface_pairs/dataset",
        "face_recognition_ageitgey/tests/test_images",
        "face_recognition_ageitgey/examples",
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(l.testdata.join(dir))
            .with_context(|| dir.to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "jpeg"))
            .collect();
        files.sort();
        for f in files {
            if people.len() >= l.applications {
                break;
            }
            let Ok(img) = image::open(&f) else { continue };
            // Frames as a phone's web page sends them (640 px), whatever the photo's size.
            let img = if img.width() > 640 {
                img.resize(
                    640,
                    640 * img.height() / img.width(),
                    image::imageops::FilterType::Triangle,
                )
            } else {
                img
            }
            .into_rgb8();
            let faces = models.faces(&img);
            if let [one] = faces.as_slice() {
                let landmarks = one.landmarks;
                people.push((img, landmarks));
            }
        }
    }
    if people.is_empty() {
        bail!("no face photo with one face in the test data");
    }
    let holders: Vec<Holder> = (0..l.applications)
        .map(|i| Holder {
            number: format!("E{:08}", 31_000_000 + i * 7),
            given: GIVEN[i % GIVEN.len()].to_string(),
        })
        .collect();
    let photos: Vec<Vec<u8>> = holders
        .iter()
        .enumerate()
        .map(|(i, h)| passport(h, &people[i % people.len()].0))
        .collect::<anyhow::Result<_>>()?;
    let distinct_people = people.len().min(l.applications);
    let large = large_photo(l.upload_bytes)?;
    let large_bytes = large.len();
    let service = start(l.database)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let api = Api {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(600))
            .build()?,
        base: service.base.clone(),
        key: service.key.clone(),
    };
    let people = Arc::new(people);
    // Ready: the applicants and their draft cases (untimed).
    let mut ready = Vec::new();
    for i in 0..l.applications {
        let case = rt.block_on(api.draft_case(&format!("load-{i}")))?;
        ready.push(Ready { case, holder: i });
    }
    let ready = Arc::new(ready);
    let photos = Arc::new(photos);
    let holders = Arc::new(holders);
    let (decided, probe, outcomes, wall) = rt.block_on(async {
        let started = Instant::now();
        let next = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        // The probe: a case's status and the lists, every 50 ms, until every case is decided.
        let probe = {
            let (api, done, ready) = (api.clone(), done.clone(), ready.clone());
            let total = l.applications;
            tokio::spawn(async move {
                let mut ms = Vec::new();
                let mut i = 0usize;
                while done.load(Ordering::SeqCst) < total {
                    let path = if i.is_multiple_of(2) {
                        format!("/v1/cases/{}", ready[i % ready.len()].case)
                    } else {
                        "/v1/lists".to_string()
                    };
                    let t = Instant::now();
                    if api.get(&path).await.is_ok() {
                        ms.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    i += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                ms
            })
        };
        let mut tasks = Vec::new();
        for _ in 0..l.concurrency {
            let (api, next, done, ready, photos, holders, people) = (
                api.clone(),
                next.clone(),
                done.clone(),
                ready.clone(),
                photos.clone(),
                holders.clone(),
                people.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(r) = ready.get(i) else { break };
                    let h = &holders[r.holder];
                    let (s, v) = api
                        .multipart(
                            &format!("/v1/cases/{}/documents", r.case),
                            &[
                                ("kind", b"passport".as_slice()),
                                ("file", photos[r.holder].as_slice()),
                            ],
                        )
                        .await?;
                    if !(200..300).contains(&s) {
                        bail!("upload: {s} {v}");
                    }
                    // The challenge, answered by a recording of its movements in order.
                    let ch = api
                        .json(
                            reqwest::Method::POST,
                            &format!("/v1/cases/{}/liveness", r.case),
                            Value::Null,
                        )
                        .await?;
                    let order: Vec<idgate_face::liveness::Action> = ch["actions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|a| a.as_str().and_then(idgate_face::liveness::Action::parse))
                        .collect();
                    // A new live recording of the face doing them (the person's own head
                    // movement, seeded by the case: no two applications send the same),
                    // made here as the applicant's phone would film it.
                    let (people, person, tag) = (people.clone(), r.holder, r.case.clone());
                    let seed = tag
                        .bytes()
                        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
                    let frames = tokio::task::spawn_blocking(move || {
                        let (img, lm) = &people[person % people.len()];
                        let raw = idgate_face::synth::live_recording(img, lm, &order, 22.0, seed);
                        idgate_face::synth::camera_frames(raw, tag.as_bytes())
                    })
                    .await?;
                    let stamps: Vec<String> =
                        (0..frames.len()).map(|i| (i * 250).to_string()).collect();
                    let stamps = stamps.join(",");
                    let mut fields: Vec<(&str, &[u8])> =
                        frames.iter().map(|f| ("frame", f.as_slice())).collect();
                    fields.push(("timestamps_ms", stamps.as_bytes()));
                    let answer = format!(
                        "/v1/cases/{}/liveness/{}",
                        r.case,
                        ch["id"].as_str().unwrap_or("")
                    );
                    let (s, v) = match api.multipart(&answer, &fields).await {
                        Ok(answered) => answered,
                        Err(e) => (0, json!({"status": format!("not sent: {e}")})),
                    };
                    if s != 200 || v["status"] != "passed" {
                        // An honest person failing the face step: counted, not submitted.
                        done.fetch_add(1, Ordering::SeqCst);
                        out.push(format!(
                            "liveness {}",
                            v["status"].as_str().unwrap_or("error")
                        ));
                        continue;
                    }
                    let entered = json!({
                        "nationality": "CN",
                        "document": {"country": "CN", "type": "passport", "number": h.number},
                        "name": {"given": h.given, "family": "Zhang"},
                        "birth_date": "1995-03-01",
                    });
                    let (s, v) = api
                        .send(
                            reqwest::Method::PUT,
                            &format!("/v1/cases/{}/data", r.case),
                            Some((serde_json::to_vec(&entered)?, "application/json".into())),
                        )
                        .await?;
                    if s != 204 {
                        bail!("data: {s} {v}");
                    }
                    api.json(
                        reqwest::Method::POST,
                        &format!("/v1/cases/{}/submit", r.case),
                        Value::Null,
                    )
                    .await?;
                    // Polled as a platform would, until decided.
                    let status = loop {
                        let c = api.get(&format!("/v1/cases/{}", r.case)).await?;
                        let s = c["status"].as_str().unwrap_or("").to_string();
                        if !matches!(s.as_str(), "submitted" | "processing" | "draft") {
                            break s;
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    };
                    done.fetch_add(1, Ordering::SeqCst);
                    out.push(status);
                }
                anyhow::Ok(out)
            }));
        }
        let mut outcomes: std::collections::BTreeMap<String, usize> = Default::default();
        for t in tasks {
            for s in t.await?? {
                *outcomes.entry(s).or_default() += 1;
            }
        }
        let wall = started.elapsed().as_secs_f64();
        let probe = probe.await?;
        anyhow::Ok((done.load(Ordering::SeqCst), probe, outcomes, wall))
    })?;
    let peak_after_applications = service.peak_mb();
    // Decided: every case the workers answered (a failed face step is no decision).
    let decided = decided
        - outcomes
            .iter()
            .filter(|(k, _)| k.starts_with("liveness"))
            .map(|(_, n)| n)
            .sum::<usize>();
    // Memory: many large uploads at once, each to its own draft case.
    let (uploaded, refused, upload_s) = rt.block_on(async {
        let mut cases = Vec::new();
        for i in 0..l.uploads {
            cases.push(api.draft_case(&format!("big-{i}")).await?);
        }
        let large = Arc::new(large);
        let started = Instant::now();
        let tasks: Vec<_> = cases
            .into_iter()
            .map(|case| {
                let (api, large) = (api.clone(), large.clone());
                tokio::spawn(async move {
                    api.multipart(
                        &format!("/v1/cases/{case}/documents"),
                        &[("kind", b"passport".as_slice()), ("file", large.as_slice())],
                    )
                    .await
                })
            })
            .collect();
        let (mut ok, mut refused) = (0, std::collections::BTreeMap::<String, usize>::new());
        for t in tasks {
            let (s, v) = t.await??;
            if (200..300).contains(&s) {
                ok += 1;
            } else {
                *refused
                    .entry(format!("{s} {}", v["error"]["code"].as_str().unwrap_or("")))
                    .or_default() += 1;
            }
        }
        anyhow::Ok((ok, refused, started.elapsed().as_secs_f64()))
    })?;
    let peak = service.peak_mb();
    let mut probe = probe;
    Ok(json!({
        "database": if l.database.is_some() { "postgresql" } else { "sqlite" },
        "applications": l.applications,
        "distinct_people": distinct_people,
        "concurrency": l.concurrency,
        "decided": decided,
        "outcomes": outcomes,
        "wall_s": (wall * 10.0).round() / 10.0,
        "decisions_per_minute": (decided as f64 / wall * 60.0 * 10.0).round() / 10.0,
        "probe": {
            "requests": probe.len(),
            "p50_ms": (percentile(&mut probe, 0.5) * 10.0).round() / 10.0,
            "p99_ms": (percentile(&mut probe, 0.99) * 10.0).round() / 10.0,
            "max_ms": (percentile(&mut probe, 1.0) * 10.0).round() / 10.0,
        },
        "peak_rss_mb_after_applications": peak_after_applications,
        "large_uploads": {
            "uploads": l.uploads,
            "bytes_each": large_bytes,
            "accepted": uploaded,
            "refused": refused,
            "seconds": (upload_s * 10.0).round() / 10.0,
            "peak_rss_mb": peak,
        },
    }))
}
