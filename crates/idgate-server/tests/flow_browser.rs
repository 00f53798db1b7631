//! Issue #25: the applicant's hosted flow in a real browser — Debian's Chromium driven by
//! chromedriver — against the real `idgate` binary and its workers. The photos are
//! idgate-specimen's passports and the shared face images; the checks are the service's own.
//!
//! Screenshots of every step go to `$IDGATE_FLOW_SCREENSHOTS` when it is set (the README's
//! are made that way: `IDGATE_FLOW_SCREENSHOTS=docs/flow`), else to a temporary directory.

#[path = "support/server.rs"]
mod server;
#[path = "support/webdriver.rs"]
mod webdriver;

use serde_json::{json, Value};
use server::*;
use std::path::PathBuf;
use std::time::Duration;
use webdriver::{Browser, Driver};

const SECS: fn(u64) -> Duration = Duration::from_secs;
const SELFIE: &str = "face_recognition_ageitgey/tests/test_images/obama2.jpg";

struct Flow {
    s: Server,
    client: Client,
    files: PathBuf,
    shots: PathBuf,
    _dir: tempfile::TempDir,
}

impl Flow {
    /// The service without active liveness (the face step takes a selfie file; the live
    /// camera's recording is another test's), and a folder for the files to choose.
    fn start() -> Flow {
        Flow::start_with("liveness_required = false\n")
    }

    /// The service under `policy` (TOML merged over the shipped one).
    fn start_with(policy_toml: &str) -> Flow {
        Flow::start_with_env(policy_toml, &[])
    }

    /// ... with more of its environment (`IDGATE_EMBED_ORIGINS`).
    fn start_with_env(policy_toml: &str, env: &[(&str, &str)]) -> Flow {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.toml");
        std::fs::write(&policy, policy_toml).unwrap();
        let data = dir.path().join("data");
        let mut env = env.to_vec();
        env.push(("IDGATE_POLICY_FILE", policy.to_str().unwrap()));
        let s = Server::start(&data, free_port(), &env);
        let client = Client::new(&data);
        let files = dir.path().join("files");
        std::fs::create_dir_all(&files).unwrap();
        let shots = std::env::var("IDGATE_FLOW_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|_| dir.path().join("shots"));
        std::fs::create_dir_all(&shots).unwrap();
        Flow {
            s,
            client,
            files,
            shots,
            _dir: dir,
        }
    }

    /// A new applicant resident in `region` and a session link for it.
    fn link(&self, uid: &str, region: &str, body: Value) -> Value {
        let a = self.client.post(
            &self.s.url("/v1/applicants"),
            json!({"uid": uid, "region": region}),
        );
        let (status, v) = self.client.send(
            "POST",
            &self.s.url(&format!(
                "/v1/applicants/{}/sessions",
                a["id"].as_str().unwrap()
            )),
            Some(body),
        );
        assert_eq!(status, 201, "{v}");
        v
    }

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.files.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    }

    fn shot(&self, b: &Browser, name: &str, width: u32) {
        let png = b.full_screenshot(width);
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }
}

/// The photo scaled to 12 megapixels, as a phone's camera takes it.
fn at_12_mp(jpeg: &[u8]) -> Vec<u8> {
    let img = image::load_from_memory(jpeg).unwrap();
    let k = (12.0e6 / f64::from(img.width() * img.height())).sqrt();
    let mut big = img
        .resize_exact(
            (f64::from(img.width()) * k) as u32,
            (f64::from(img.height()) * k) as u32,
            image::imageops::FilterType::Triangle,
        )
        .into_rgb8();
    // A sensor's noise, so that the file is not the smooth upscale's few hundred kilobytes.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for p in big.pixels_mut() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = (seed % 13) as i16 - 6;
        for c in p.0.iter_mut() {
            *c = (i16::from(*c) + n).clamp(0, 255) as u8;
        }
    }
    let big = image::DynamicImage::ImageRgb8(big);
    let mut out = Vec::new();
    big.write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    out
}

fn url_of(link: &Value) -> String {
    link["url"].as_str().unwrap().to_string()
}

/// The document step: a passport of the applicant's country, then the data as printed.
fn choose_passport_and_enter(b: &Browser, who: &Holder, number: &str) {
    b.wait_title("Choose your document", SECS(10));
    assert_eq!(
        b.js(
            "return document.getElementById('country').value;",
            json!([])
        ),
        "CN",
        "the country of issue defaults to the residence"
    );
    b.find("input[name=kind][value=passport]").click();
    b.find("#next").click();
    b.wait_title("Your details", SECS(10));
    // Inline validation before anything is sent.
    b.find("#next").click();
    assert!(b.text("#family-error").contains("Enter your name"));
    b.find("#given").send_keys(who.given);
    b.find("#family").send_keys(who.family);
    b.js(
        "document.getElementById('birth').value = arguments[0];",
        json!([who.birth]),
    );
    b.find("#number").send_keys(number);
}

/// Chooses the file at `path` for the side shown and waits for the pre-check's answer;
/// returns the pre-check's time in the page (ms).
fn precheck(b: &Browser, path: &str) -> f64 {
    b.find("#file").send_keys(path);
    let result = b.wait("#precheck", SECS(60));
    assert!(result.attr("data-verdict").is_some());
    b.js("return window.idgatePrecheckMs;", json!([]))
        .as_f64()
        .unwrap()
}

/// Two devices, one session: a desktop starts (document and data), a phone opens the same
/// link and carries on from the photo (the choice came from the server), the desktop
/// follows, and the applicant ends approved with no person involved.
#[test]
fn an_applicant_walks_the_flow_to_approval_on_two_devices() {
    let f = Flow::start();
    let link = f.link(
        "flow-1",
        "CN",
        json!({"redirect_url": null, "ttl_secs": 900}),
    );
    let url = url_of(&link);
    assert!(url.contains("/flow#s=igs_"), "{url}");
    let driver = Driver::start();
    let desktop = driver.browser(1280, 900, "en-US");
    desktop.goto(&url);
    desktop.wait_title("Verify your identity", SECS(10));
    let paint = desktop.js(
        "const p = performance.getEntriesByName('first-contentful-paint')[0]; \
         return p ? p.startTime : null;",
        json!([]),
    );
    println!("flow: first contentful paint {paint} ms");
    assert!(
        !desktop
            .js("return location.href;", json!([]))
            .as_str()
            .unwrap()
            .contains("igs_"),
        "the token leaves the address bar"
    );
    f.shot(&desktop, "01-intro-desktop", 1280);
    desktop.find("#start").click();
    choose_passport_and_enter(&desktop, &ZHANG, ZHANG.number);
    f.shot(&desktop, "03-data-desktop", 1280);
    desktop.assert_accessible("data");
    desktop.find("#next").click();
    let side_title = "Photograph the photo page of your Passport";
    desktop.wait_title(side_title, SECS(10));

    // The phone opens the same link and is at the same step.
    let phone = driver.browser(375, 812, "en-US");
    phone.goto(&url);
    phone.wait_title(side_title, SECS(10));
    f.shot(&phone, "04-side-phone", 375);
    let photo = at_12_mp(&passport_photo(&ZHANG));
    let ms = precheck(&phone, &f.file("passport.jpg", &photo));
    // Measured here, reported in docs/benchmarks.md (goal: under 500 ms for 12 MP), beside
    // the same request sent by a plain client: what the page adds.
    let started = std::time::Instant::now();
    let direct: Value = ureq::post(&f.s.url("/v1/precheck"))
        .set("authorization", &format!("Bearer {}", f.client.key))
        .send_bytes(&photo)
        .unwrap()
        .into_json()
        .unwrap();
    let direct_ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(direct["verdict"], "pass");
    println!(
        "flow: pre-check of a {} KB 12 MP photo answered in the page after {ms:.0} ms \
         (the same request from a plain client: {direct_ms:.0} ms)",
        photo.len() / 1024
    );
    assert_eq!(
        phone.find("#precheck").attr("data-verdict").as_deref(),
        Some("pass")
    );
    assert!(phone.text("main").contains("The photo looks good."));
    f.shot(&phone, "05-precheck-pass-phone", 375);
    phone.find("#use-photo").click();
    phone.wait_title("Face scan", SECS(10));
    f.shot(&phone, "06-face-phone", 375);
    phone.assert_accessible("face");
    phone
        .find("#selfie")
        .send_keys(&f.file("selfie.jpg", &testdata::read(SELFIE)));
    phone.wait_title("Check and send", SECS(10));
    let shown = |b: &Browser| {
        b.js("return window.idgateShownAt;", json!([]))
            .as_f64()
            .unwrap()
    };
    let phone_shown = shown(&phone);
    f.shot(&phone, "07-review-phone", 375);
    phone.assert_accessible("review");
    // The desktop followed the phone, by push: it heard the case's versions instead of
    // asking again.
    desktop.wait_title("Check and send", SECS(10));
    let pushes = desktop.js("return window.idgatePushes || 0;", json!([]));
    assert!(pushes.as_u64().unwrap() >= 2, "{pushes} versions pushed");
    // Measured here, reported in docs/benchmarks.md: how soon the other device follows,
    // and how often it read the session meanwhile (both pages' clocks are this machine's).
    let reads = desktop.js(
        "return performance.getEntriesByType('resource')\
         .filter((e) => e.name.includes('/flow/v1/session')).length;",
        json!([]),
    );
    println!(
        "flow: the desktop showed the phone's step {:.0} ms after the phone did; \
         it read the session {reads} times in all, over {pushes} versions pushed",
        shown(&desktop) - phone_shown
    );
    // Going back on the desktop, the details come back as they were entered.
    desktop.find("#edit").click();
    desktop.wait_title("Choose your document", SECS(10));
    desktop.find("#next").click();
    desktop.wait_title("Your details", SECS(10));
    desktop.wait("form[data-prefilled]", SECS(10));
    f.shot(&desktop, "11-data-refilled-desktop", 1280);
    let value = |css: &str| {
        desktop.js(
            "return document.querySelector(arguments[0]).value;",
            json!([css]),
        )
    };
    assert_eq!(value("#given"), ZHANG.given);
    assert_eq!(value("#family"), ZHANG.family);
    assert_eq!(value("#birth"), ZHANG.birth);
    assert_eq!(value("#number"), ZHANG.number);
    desktop.find("#next").click();
    desktop.wait_title("Check and send", SECS(10));
    // The phone heard that too; it sends once it shows the same version.
    let version = desktop.js(
        "return document.getElementById('app').dataset.version;",
        json!([]),
    );
    phone.wait(
        &format!("#app[data-version='{}']", version.as_str().unwrap()),
        SECS(10),
    );
    phone.find("#submit").click();
    phone.wait("[data-status=approved]", SECS(120));
    f.shot(&phone, "08-approved-phone", 375);
    phone.assert_accessible("approved");
    desktop.wait("[data-status=approved]", SECS(10));
    assert!(phone.text("main").contains("Your identity is verified"));
    // The platform sees the same.
    let ent = f.client.get(&f.s.url("/v1/entitlements/flow-1"));
    assert_eq!(ent["level"], "basic", "{ent}");
}

/// Before submitting, a photo with glare is shown with its box and its fix; after, a
/// document number typed wrong comes back as a resubmission with what to fix.
#[test]
fn glare_is_shown_before_and_a_wrong_number_explained_after() {
    let f = Flow::start();
    let min = Holder {
        number: "G23456789",
        family: "Zhang",
        given: "Min",
        birth: "1995-03-01",
    };
    // The phone's camera films the clean passport page (Chromium's fake camera).
    let clean = passport_photo(&min);
    let camera = f.files.join("camera.y4m");
    let still = image::load_from_memory(&clean).unwrap().into_rgb8();
    std::fs::write(&camera, webdriver::y4m(&[still], 5)).unwrap();
    let driver = Driver::start();
    let phone = driver.browser_with_camera(375, 812, &camera);
    // The platform verifies this applicant for the level that also needs a proof of address.
    phone.goto(&url_of(&f.link(
        "flow-2",
        "CN",
        json!({"level": "advanced"}),
    )));
    phone.wait_title("Verify your identity", SECS(10));
    f.shot(&phone, "01-intro-phone", 375);
    phone.assert_accessible("intro");
    phone.find("#start").click();
    phone.wait_title("Choose your document", SECS(10));
    f.shot(&phone, "02-document-phone", 375);
    phone.assert_accessible("document");
    choose_passport_and_enter(&phone, &min, "G23456780");
    // The level asks for the address, checked before anything is sent.
    phone.find("#next").click();
    assert!(phone.text("#address-error").contains("Enter your address"));
    phone
        .find("#address")
        .send_keys("88 Jianguo Road, Chaoyang, Beijing");
    phone.find("#next").click();
    phone.wait_title("Photograph the photo page of your Passport", SECS(10));
    let glare = passport_photo_with(&min, idgate_specimen::Defect::Glare);
    precheck(&phone, &f.file("glare.jpg", &glare));
    assert!(phone.has("#precheck canvas"), "the photo is shown");
    assert!(
        phone.has("li[data-code=GLARE]"),
        "glare found: {}",
        phone.text("main")
    );
    let glare_text = phone.text("li[data-code=GLARE]").to_lowercase();
    assert!(
        glare_text.contains("glare") || glare_text.contains("reflection"),
        "{glare_text}"
    );
    assert!(phone.has("#retake") && !phone.has("#use-photo"));
    f.shot(&phone, "05-precheck-glare-phone", 375);
    phone.assert_accessible("pre-check");
    phone.find("#retake").click();
    // The retake with the live camera: its frame, not a file, goes to the pre-check.
    phone.find("#camera").click();
    phone.wait("#take:not([disabled])", SECS(10)).click();
    let result = phone.wait("#precheck", SECS(60));
    assert_eq!(
        result.attr("data-verdict").as_deref(),
        Some("pass"),
        "{}",
        phone.text("main")
    );
    f.shot(&phone, "05-camera-pass-phone", 375);
    phone.find("#use-photo").click();
    phone.wait_title("Face scan", SECS(10));
    phone
        .find("#selfie")
        .send_keys(&f.file("selfie.jpg", &testdata::read(SELFIE)));
    // The proof of address, a PDF here (a photo works too).
    phone.wait_title("A document that shows your address", SECS(10));
    f.shot(&phone, "07-address-phone", 375);
    phone.assert_accessible("proof of address");
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    phone.find("#poa-file").send_keys(&f.file("bill.pdf", pdf));
    phone.wait_title("Check and send", SECS(10));
    assert!(
        phone.text("main").contains("Proof of address"),
        "{}",
        phone.text("main")
    );
    phone.find("#submit").click();
    phone.wait("[data-status=resubmission_requested]", SECS(120));
    let codes: Vec<String> = phone
        .js(
            "return [...document.querySelectorAll('.reasons li')].map(l => l.dataset.code);",
            json!([]),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert!(!codes.is_empty(), "{}", phone.text("main"));
    assert!(phone.has("#again"), "a way to start again");
    f.shot(&phone, "09-resubmission-phone", 375);
    phone.assert_accessible("resubmission");
    // Starting again opens a new case for the same session.
    if phone.find("#again").attr("disabled").is_none() {
        phone.find("#again").click();
        phone.wait_title("Choose your document", SECS(10));
    }
}

/// Simplified Chinese from the browser's language, the switcher, and the pages for a link
/// that expired or lost its token.
#[test]
fn the_flow_speaks_chinese_and_says_when_a_link_no_longer_works() {
    let f = Flow::start();
    let driver = Driver::start();
    let b = driver.browser(375, 812, "zh-CN");
    b.goto(&url_of(&f.link("flow-3", "CN", json!({}))));
    b.wait_title("验证您的身份", SECS(10));
    assert_eq!(
        b.js("return document.documentElement.lang;", json!([])),
        "zh-Hans"
    );
    f.shot(&b, "01-intro-phone-zh", 375);
    b.assert_accessible("intro zh");
    b.find("#start").click();
    b.wait_title("选择您的证件", SECS(10));
    f.shot(&b, "02-document-phone-zh", 375);
    b.js(
        "const s = document.getElementById('lang'); s.value = 'en'; s.dispatchEvent(new Event('change'));",
        json!([]),
    );
    b.wait_title("Choose your document", SECS(10));

    let short = f.link("flow-4", "CN", json!({"ttl_secs": 1}));
    std::thread::sleep(Duration::from_millis(1500));
    let b2 = driver.browser(375, 812, "en-US");
    b2.goto(&url_of(&short));
    b2.wait_title("This session has expired", SECS(10));
    f.shot(&b2, "10-expired-phone", 375);
    b2.assert_accessible("expired");
    b2.goto(&f.s.url("/flow"));
    b2.wait_title("This link is incomplete", SECS(10));
}

/// The face step as the service asks for it by default: active liveness. The page shows the
/// movements asked, then films them with the phone's front camera — Chromium's fake camera,
/// playing a synthetic live recording of the passport holder doing those movements
/// (idgate-face's `detectable_recording`) — and the server's judgement passes it: its best
/// frame becomes the selfie and the case is approved.
#[test]
fn the_face_scan_passes_with_a_live_recording_from_the_camera() {
    let f = Flow::start_with("");
    let wei = Holder {
        number: "E87654321",
        family: "Zhang",
        given: "Wei",
        birth: "1990-07-15",
    };
    let face = image::load_from_memory(&testdata::read(SELFIE))
        .unwrap()
        .into_rgb8();
    // Until the challenge is known the camera films the face still; the recording of the
    // movements asked replaces it before the camera starts.
    let camera = f.files.join("face.y4m");
    std::fs::write(&camera, webdriver::y4m(std::slice::from_ref(&face), 4)).unwrap();
    let driver = Driver::start();
    let phone = driver.browser_with_camera(375, 812, &camera);
    phone.goto(&url_of(&f.link("flow-5", "CN", json!({}))));
    phone.wait_title("Verify your identity", SECS(10));
    phone.find("#start").click();
    choose_passport_and_enter(&phone, &wei, wei.number);
    phone.find("#next").click();
    phone.wait_title("Photograph the photo page of your Passport", SECS(10));
    precheck(&phone, &f.file("passport.jpg", &passport_photo(&wei)));
    phone.find("#use-photo").click();
    phone.wait_title("Face scan", SECS(10));
    assert!(
        !phone.has("#selfie"),
        "no photo upload stands in for liveness"
    );
    phone.find("#liveness").click();
    phone.wait("#actions li", SECS(10));
    f.shot(&phone, "06-face-actions-phone", 375);
    phone.assert_accessible("face actions");
    let actions: Vec<idgate_face::liveness::Action> = phone
        .js(
            "return [...document.querySelectorAll('#actions li')].map(l => l.dataset.action);",
            json!([]),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|a| idgate_face::liveness::Action::parse(a.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(actions.len(), 3);
    let models = face_models::get();
    let lm = models.faces(&face)[0].landmarks;
    let mut frames =
        idgate_face::synth::detectable_recording(models, &face, &lm, &actions, 22.0, 25, 8);
    // Facing the camera after the last movement, so that the loop does not start again
    // while the page films (about 7 s, up to 12 s when the guide answers slowly).
    let last = frames.last().unwrap().clone();
    while frames.len() < 72 {
        frames.push(last.clone());
    }
    // As a camera delivers it: 8 frames a second (each recorded frame twice), no two alike
    // (a camera's sensor never gives the same picture twice; the frame number is written
    // into the top row), so that the page's captures, 250 ms apart, never repeat a frame.
    let video: Vec<image::RgbImage> = frames
        .iter()
        .flat_map(|f| [f.clone(), f.clone()])
        .enumerate()
        .map(|(i, mut f)| {
            for x in 0..16.min(f.width()) {
                f.put_pixel(
                    x,
                    0,
                    image::Rgb([(i * 7 % 256) as u8, (x * 16) as u8, i as u8]),
                );
            }
            f
        })
        .collect();
    std::fs::write(&camera, webdriver::y4m(&video, 8)).unwrap();
    phone.find("#ready").click();
    // The server's guide answers while the camera films: its advice is shown on the video.
    phone.wait("#hint[data-advice]", SECS(20));
    f.shot(&phone, "06-face-recording-phone", 375);
    let deadline = std::time::Instant::now() + SECS(90);
    while phone.text("#screen-title") != "Check and send" {
        if phone.has("#liveness-failed") {
            let why = phone.js(
                "const e = document.getElementById('liveness-failed'); \
                 return [e.dataset.failure, e.dataset.frames];",
                json!([]),
            );
            panic!(
                "the live recording failed: {why} (actions {actions:?}, {} frames)",
                frames.len()
            );
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            phone.text("main")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    f.shot(&phone, "07-review-after-liveness-phone", 375);
    phone.find("#submit").click();
    phone.wait("[data-status=approved]", SECS(120));
}

/// A platform's own page on another origin, framing the flow: every request is answered
/// with `page` (a minimal HTTP/1.1 server on a thread).
fn platform_site(page: String) -> (String, std::thread::JoinHandle<()>) {
    platform_site_on(0, page)
}

/// [`platform_site`] on `port` (0: any free one).
fn platform_site_on(port: u16, page: String) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = page.as_bytes();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }
    });
    (origin, handle)
}

/// The flow framed by the platform's page on an allowed origin: the page hears every event
/// (started, each step, submitted, decided) by postMessage, and the decided case offers
/// the way back to the platform. Framed by an origin not on the list, the flow does not load.
#[test]
fn an_embedding_platform_hears_the_events_and_gets_the_applicant_back() {
    // The platform's origin must be known before the service starts: bind it first.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let platform = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let f = Flow::start_with_env(
        "liveness_required = false\n",
        &[("IDGATE_EMBED_ORIGINS", platform.as_str())],
    );
    let link = f.link(
        "flow-6",
        "CN",
        json!({"redirect_url": format!("{platform}/kyc/done")}),
    );
    let flow_origin = f.s.url("");
    let page = format!(
        "<!doctype html><title>platform</title>\
         <iframe id=kyc allow=camera width=420 height=800 src=\"{}\"></iframe>\
         <script>window.seen = []; addEventListener('message', e => {{ \
           if (e.origin === '{flow_origin}') window.seen.push(e.data); }});</script>",
        url_of(&link)
    );
    // Served on the very port the service was told about.
    let port: u16 = platform.rsplit(':').next().unwrap().parse().unwrap();
    let (site, _server) = platform_site_on(port, page);
    assert_eq!(site, platform);

    let driver = Driver::start();
    let b = driver.browser(1024, 900, "en-US");
    b.goto(&format!("{platform}/"));
    b.enter_frame("#kyc");
    b.wait_title("Verify your identity", SECS(10));
    b.find("#start").click();
    let wei = Holder {
        number: "E55555555",
        family: "Zhang",
        given: "Hua",
        birth: "1993-05-20",
    };
    choose_passport_and_enter(&b, &wei, wei.number);
    b.find("#next").click();
    b.wait_title("Photograph the photo page of your Passport", SECS(10));
    precheck(&b, &f.file("passport.jpg", &passport_photo(&wei)));
    b.find("#use-photo").click();
    b.wait_title("Face scan", SECS(10));
    b.find("#selfie")
        .send_keys(&f.file("selfie.jpg", &testdata::read(SELFIE)));
    b.wait_title("Check and send", SECS(10));
    b.find("#submit").click();
    b.wait("[data-status=approved]", SECS(120));
    let back = b.find("a.button");
    assert_eq!(
        back.attr("href").as_deref(),
        Some(format!("{platform}/kyc/done").as_str())
    );
    b.leave_frame();
    let seen = b.js("return window.seen;", json!([]));
    let events: Vec<String> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["source"], "idgate");
            match e["step"].as_str() {
                Some(step) => format!("step:{step}"),
                None => e["event"].as_str().unwrap().to_string(),
            }
        })
        .collect();
    assert_eq!(
        events,
        [
            "started",
            "step:data",
            "step:document.photo_page",
            "step:face",
            "submitted",
            "decided"
        ],
        "{seen}"
    );
    assert_eq!(seen[5]["status"], "approved");

    // Framed by a site that is not on the list: the browser refuses to show the flow.
    let other = format!(
        "<!doctype html><title>other</title><iframe id=kyc src=\"{}\"></iframe>",
        url_of(&f.link("flow-7", "CN", json!({})))
    );
    let (elsewhere, _other) = platform_site(other);
    b.goto(&format!("{elsewhere}/"));
    b.enter_frame("#kyc");
    // The frame ends on the browser's own error page (frame-ancestors), never on the flow.
    let deadline = std::time::Instant::now() + SECS(10);
    loop {
        let href = b.js("return location.href;", json!([]));
        assert!(
            !b.has("#screen-title"),
            "the flow loaded in a frame elsewhere"
        );
        if href
            .as_str()
            .is_some_and(|h| h.starts_with("chrome-error:"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the frame shows {href}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Keyboard only: from the first screen to the photo step with Tab, Space, typing and Enter,
/// each control reached in order and labelled.
#[test]
fn the_flow_can_be_walked_with_the_keyboard_alone() {
    const TAB: &str = "\u{E004}";
    const ENTER: &str = "\u{E007}";
    const SPACE: &str = "\u{E00D}";
    let f = Flow::start();
    let driver = Driver::start();
    let b = driver.browser(375, 812, "en-US");
    b.goto(&url_of(&f.link("flow-8", "CN", json!({}))));
    b.wait_title("Verify your identity", SECS(10));
    b.tab_to("#start");
    b.keys(ENTER);
    b.wait_title("Choose your document", SECS(10));
    b.tab_to("input[name=kind][value=passport]");
    b.keys(SPACE);
    b.tab_to("#next");
    b.keys(ENTER);
    b.wait_title("Your details", SECS(10));
    // The fields in reading order, each reached by Tab from the one before.
    b.tab_to("#given");
    b.keys("Xiaoming");
    b.keys(TAB);
    b.keys("Zhang");
    b.tab_to("#birth");
    b.js(
        "document.getElementById('birth').value = '1995-03-01';",
        json!([]),
    );
    b.tab_to("#number");
    b.keys("E12345678");
    let order = b.js(
        "return [...document.querySelectorAll('main input, main select, main button')].map(e => e.id);",
        json!([]),
    );
    assert_eq!(
        order,
        json!([
            "given",
            "family",
            "local",
            "birth",
            "nationality",
            "number",
            "",
            "next"
        ]),
        "the controls in reading order (the unnamed one is Back)"
    );
    b.keys(ENTER);
    b.wait_title("Photograph the photo page of your Passport", SECS(10));
    // The photo's file field is reachable too (its label is the visible button).
    b.tab_to("#file");
}
