//! Debian's Chromium driven through `chromedriver` over the W3C WebDriver protocol (plain
//! HTTP and JSON, with ureq): the few commands the browser tests need.
#![allow(dead_code)]

use base64::Engine;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running chromedriver, stopped when dropped.
pub struct Driver {
    child: Child,
    base: String,
}

impl Driver {
    pub fn start() -> Driver {
        assert!(
            Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
            "chromium and chromium-driver are installed by scripts/test"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let d = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = ureq::get(&format!("{}/status", d.base))
                .call()
                .ok()
                .and_then(|r| r.into_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                return d;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A new headless browser window of `width`×`height` CSS pixels speaking `lang`.
    pub fn browser(&self, width: u32, height: u32, lang: &str) -> Browser {
        self.browser_with(width, height, lang, &[])
    }

    /// A browser whose fake camera plays the Y4M recording at `camera`.
    pub fn browser_with_camera(&self, width: u32, height: u32, camera: &Path) -> Browser {
        self.browser_with(
            width,
            height,
            "en-US",
            &[format!(
                "--use-file-for-fake-video-capture={}",
                camera.display()
            )],
        )
    }

    fn browser_with(&self, width: u32, height: u32, lang: &str, extra: &[String]) -> Browser {
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--use-fake-ui-for-media-stream".into(),
            "--use-fake-device-for-media-stream".into(),
            format!("--window-size={width},{height}"),
            format!("--lang={lang}"),
        ];
        args.extend(extra.iter().cloned());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                "prefs": {"intl.accept_languages": lang},
            },
        }}});
        let v = post(&format!("{}/session", self.base), caps);
        let id = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {v}"))
            .to_string();
        let b = Browser {
            url: format!("{}/session/{id}", self.base),
        };
        b.cmd(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        );
        b
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post(url: &str, body: Value) -> Value {
    match ureq::post(url).send_json(body) {
        Ok(r) => r.into_json().unwrap(),
        Err(ureq::Error::Status(_, r)) => r.into_json().unwrap_or(Value::Null),
        Err(e) => panic!("{url}: {e}"),
    }
}

/// Frames as a Y4M recording (4:2:0, BT.601) at `fps`, for Chromium's fake camera
/// (`--use-file-for-fake-video-capture`), which plays it in a loop. Every frame has the
/// first one's size (cut to even numbers).
pub fn y4m(frames: &[image::RgbImage], fps: u32) -> Vec<u8> {
    let (w, h) = (frames[0].width() & !1, frames[0].height() & !1);
    let mut out = format!("YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n").into_bytes();
    for img in frames {
        let mut y = Vec::with_capacity((w * h) as usize);
        let (mut u, mut v) = (Vec::new(), Vec::new());
        for row in 0..h {
            for col in 0..w {
                let p = img.get_pixel(col, row).0.map(f32::from);
                y.push((0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]).round() as u8);
            }
        }
        for row in (0..h).step_by(2) {
            for col in (0..w).step_by(2) {
                let mut sum = [0f32; 3];
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let p = img.get_pixel(col + dx, row + dy).0;
                    for c in 0..3 {
                        sum[c] += f32::from(p[c]) / 4.0;
                    }
                }
                let [r, g, b] = sum;
                let chroma = |x: f32| x.round().clamp(0.0, 255.0) as u8;
                u.push(chroma(128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b));
                v.push(chroma(128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b));
            }
        }
        out.extend(b"FRAME\n");
        out.extend(&y);
        out.extend(&u);
        out.extend(&v);
    }
    out
}

/// One browser window (a WebDriver session), closed when dropped.
pub struct Browser {
    url: String,
}

impl Browser {
    /// A command; a WebDriver error comes back as `Err(value)`.
    fn try_cmd(&self, method: &str, path: &str, body: Value) -> Result<Value, Value> {
        let url = format!("{}{path}", self.url);
        let res = match method {
            "GET" => ureq::get(&url).call(),
            "DELETE" => ureq::delete(&url).call(),
            _ => ureq::post(&url).send_json(body),
        };
        match res {
            Ok(r) => Ok(r.into_json::<Value>().unwrap()["value"].take()),
            Err(ureq::Error::Status(_, r)) => Err(r.into_json().unwrap_or(Value::Null)),
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        self.try_cmd(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// A virtual platform authenticator (WebDriver's WebAuthn extension, as Chromium's
    /// DevTools offers it): resident keys, user verification that always succeeds. Answers
    /// its id.
    pub fn add_virtual_authenticator(&self) -> String {
        let v = self.cmd(
            "POST",
            "/webauthn/authenticator",
            json!({"protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
                   "hasUserVerification": true, "isUserVerified": true,
                   "isUserConsenting": true}),
        );
        v.as_str().expect("an authenticator id").to_string()
    }

    /// The credentials the virtual authenticator holds.
    pub fn virtual_credentials(&self, authenticator: &str) -> Vec<Value> {
        let v = self.cmd(
            "GET",
            &format!("/webauthn/authenticator/{authenticator}/credentials"),
            Value::Null,
        );
        v.as_array().cloned().unwrap_or_default()
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub fn js(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
    }

    /// The element `css` matches, waiting up to `within` for it to appear.
    pub fn wait(&self, css: &str, within: Duration) -> Element<'_> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(v) = self.try_cmd(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            ) {
                return Element {
                    b: self,
                    id: v[ELEMENT].as_str().unwrap().to_string(),
                };
            }
            assert!(
                Instant::now() < deadline,
                "no `{css}` within {within:?}; the page says: {}",
                self.text("main")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn find(&self, css: &str) -> Element<'_> {
        self.wait(css, Duration::from_secs(10))
    }

    /// Whether `css` matches anything now.
    pub fn has(&self, css: &str) -> bool {
        self.js(
            "return !!document.querySelector(arguments[0]);",
            json!([css]),
        ) == true
    }

    /// The text of the first element `css` matches ("" when none).
    pub fn text(&self, css: &str) -> String {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
            json!([css]),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Waits until the page's title heading (`#screen-title`) reads `want`.
    pub fn wait_title(&self, want: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let now = self.text("#screen-title");
            if now == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the page shows `{now}`, not `{want}`: {}",
                self.text("main")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// axe-core's violations on the page as it is now: `[{id, impact, help, nodes}]`. The
    /// rules run as a WebDriver script (not subject to the page's CSP, which allows no
    /// script but the page's own).
    /// No serious or critical accessibility violation on the page as it is (axe-core).
    pub fn assert_accessible(&self, screen: &str) {
        let bad: Vec<Value> = self
            .axe()
            .into_iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(bad.is_empty(), "{screen}: {}", Value::from(bad));
    }

    pub fn axe(&self) -> Vec<Value> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/browser/node_modules/axe-core/axe.min.js"
        );
        let source = std::fs::read_to_string(path)
            .expect("axe-core installed by scripts/test (npm ci in tests/browser)");
        let script = format!(
            "{source}\n;const done = arguments[arguments.length - 1];\n\
             window.axe.run(document, {{resultTypes: ['violations']}})\n\
             .then(r => done(r.violations.map(v => ({{id: v.id, impact: v.impact, help: v.help,\n\
               nodes: v.nodes.map(n => n.target.join(' '))}}))))\n\
             .catch(e => done([{{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}}]));"
        );
        self.cmd(
            "POST",
            "/execute/async",
            json!({"script": script, "args": []}),
        )
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    /// Types `keys` into whatever has the focus (`\u{E004}` Tab, `\u{E007}` Enter, `\u{E00D}`
    /// Space), as a keyboard would.
    pub fn keys(&self, keys: &str) {
        let active = self.cmd("GET", "/element/active", Value::Null);
        let id = active[ELEMENT].as_str().unwrap().to_string();
        self.cmd(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": keys }),
        );
    }

    /// Presses Tab until the focus is on what `css` matches (at most 40 times).
    pub fn tab_to(&self, css: &str) {
        for _ in 0..40 {
            if self.js(
                "return document.activeElement.matches(arguments[0]);",
                json!([css]),
            ) == true
            {
                return;
            }
            self.keys("\u{E004}");
        }
        panic!("Tab never reaches `{css}`");
    }

    /// Commands go to the document of the frame `css` matches, until [`Self::leave_frame`].
    pub fn enter_frame(&self, css: &str) {
        let el = self.find(css);
        let mut reference = serde_json::Map::new();
        reference.insert(ELEMENT.into(), Value::from(el.id.clone()));
        self.cmd("POST", "/frame", json!({ "id": reference }));
    }

    /// Back to the top-level document.
    pub fn leave_frame(&self) {
        self.cmd("POST", "/frame", json!({ "id": null }));
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let v = self.cmd("GET", "/screenshot", Value::Null);
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
    }

    /// A PNG of the whole page, however long (the window grown to the page's height).
    pub fn full_screenshot(&self, width: u32) -> Vec<u8> {
        // From a phone's height, so that a short page is not padded by an earlier long one.
        self.cmd(
            "POST",
            "/window/rect",
            json!({"width": width, "height": 812}),
        );
        self.js("window.scrollTo(0, 0);", json!([]));
        let height = self
            .js("return document.documentElement.scrollHeight;", json!([]))
            .as_u64()
            .unwrap_or(800)
            .clamp(812, 4000);
        self.cmd(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        );
        self.screenshot()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.try_cmd("DELETE", "", Value::Null);
    }
}

pub struct Element<'a> {
    b: &'a Browser,
    id: String,
}

impl Element<'_> {
    pub fn click(&self) {
        self.b
            .cmd("POST", &format!("/element/{}/click", self.id), json!({}));
    }

    /// Types `text`; for a file input, `text` is the path of the file to choose.
    pub fn send_keys(&self, text: &str) {
        self.b.cmd(
            "POST",
            &format!("/element/{}/value", self.id),
            json!({ "text": text }),
        );
    }

    pub fn text(&self) -> String {
        self.b
            .cmd("GET", &format!("/element/{}/text", self.id), Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn attr(&self, name: &str) -> Option<String> {
        self.b
            .cmd(
                "GET",
                &format!("/element/{}/attribute/{name}", self.id),
                Value::Null,
            )
            .as_str()
            .map(str::to_string)
    }
}
