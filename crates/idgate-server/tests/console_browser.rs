//! Issue #26: the reviewer console in a real browser (Debian's Chromium through
//! chromedriver) against the real `idgate` binary, its workers and a case the pipeline sent
//! to review. An invited administrator chooses a password, sets up TOTP (the test computes
//! the codes as an authenticator app would), signs in again with password and code, claims
//! the case and decides it, and the applicant's own status page changes.
//!
//! Screenshots go to `$IDGATE_CONSOLE_SCREENSHOTS` when set (`docs/console` for the README),
//! else to a temporary directory.

#[path = "support/base32.rs"]
mod base32;
#[path = "support/server.rs"]
mod server;
#[path = "support/webdriver.rs"]
mod webdriver;

use serde_json::json;
use server::*;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use webdriver::{Browser, Driver};

const SECS: fn(u64) -> Duration = Duration::from_secs;
const PASSWORD: &str = "quartz-meadow-41-sleepy-harbour";

fn shots() -> PathBuf {
    let dir = std::env::var("IDGATE_CONSOLE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join("idgate-console-shots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn shot(b: &Browser, name: &str, width: u32) {
    let png = b.full_screenshot(width);
    assert!(png.starts_with(b"\x89PNG"));
    std::fs::write(shots().join(format!("{name}.png")), png).unwrap();
}

/// An authenticator app: the code of a step after the last one used (the console takes
/// each step once) and at most one step ahead of the clock, waiting for the clock if needed.
struct App {
    secret: Vec<u8>,
    last: u64,
}

impl App {
    fn code(&mut self) -> String {
        loop {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
                / 30;
            let step = (now.saturating_sub(1)).max(self.last + 1);
            if step <= now + 1 {
                self.last = step;
                return idgate_server::signin::totp_at(&self.secret, step * 30);
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

fn type_into(b: &Browser, css: &str, text: &str) {
    b.find(css).send_keys(text);
}

#[test]
fn an_invited_admin_signs_in_with_totp_and_decides_a_case_the_applicant_sees() {
    let dir = tempfile::tempdir().unwrap();
    // A face mismatch goes to a person instead of back to the applicant.
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[reject_types]\nFACE_MISMATCH = \"REVIEW\"\n").unwrap();
    let s = Server::start(
        &dir.path().join("data"),
        free_port(),
        &[("IDGATE_POLICY_FILE", policy.to_str().unwrap())],
    );
    let client = Client::new(&dir.path().join("data"));
    let case = client.submitted_case(&s, "console-1", OTHER_PERSON);
    // Another applicant, verified by the checks alone, who will ask to change the address.
    let min = Holder {
        number: "G23456789",
        family: "Zhang",
        given: "Min",
        birth: "1995-03-01",
    };
    let verified = client.submitted_case_of(&s, "console-2", &min, SAME_PERSON);
    let c = client.wait_for_status(&s, &case, "in_review", SECS(90));
    let applicant = c["applicant_id"].as_str().unwrap().to_string();

    // The applicant keeps the hosted flow's status page open on a phone.
    let (st, link) = client.send(
        "POST",
        &s.url(&format!("/v1/applicants/{applicant}/sessions")),
        Some(json!({})),
    );
    assert_eq!(st, 201, "{link}");
    let driver = Driver::start();
    let phone = driver.browser(375, 812, "en-US");
    phone.goto(link["url"].as_str().unwrap());
    phone.wait("[data-status=in_review]", SECS(20));

    // The platform invites the first administrator.
    let invite = client.post(
        &s.url("/v1/reviewer-invites"),
        json!({"name": "rita", "role": "admin"}),
    );
    let b = driver.browser(1280, 900, "en-US");
    b.goto(invite["url"].as_str().unwrap());
    b.wait_title("Set up your account", SECS(10));
    assert!(
        !b.js("return location.href;", json!([]))
            .as_str()
            .unwrap()
            .contains("idi_"),
        "the invitation leaves the address bar"
    );
    shot(&b, "01-invite-desktop", 1280);
    b.assert_accessible("invite");
    let pw = b.find("#accept input[type=password]");
    pw.send_keys(PASSWORD);
    b.js(
        "document.querySelectorAll('#accept input[type=password]')[1].focus();",
        json!([]),
    );
    b.keys(PASSWORD);
    b.find("#accept button[type=submit]").click();
    b.wait_title("Set up your authenticator app", SECS(10));
    b.wait("img.qr", SECS(5));
    shot(&b, "02-enrol-desktop", 1280);
    b.assert_accessible("enrol");
    let secret = base32::decode(
        b.js(
            "return document.getElementById('totp-secret').textContent;",
            json!([]),
        )
        .as_str()
        .unwrap(),
    );
    assert_eq!(secret.len(), 20);
    // Enrolment takes the current step.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30;
    let mut app = App {
        secret,
        last: now - 1,
    };
    let first = idgate_server::signin::totp_at(&app.secret, now * 30);
    app.last = now;
    type_into(&b, "#confirm input", &first);
    b.find("#confirm button[type=submit]").click();
    b.wait_title("Your recovery codes", SECS(10));
    let codes = b.js(
        "return [...document.querySelectorAll('#recovery-codes code')].map(c => c.textContent);",
        json!([]),
    );
    assert_eq!(codes.as_array().unwrap().len(), 10);
    b.find("#codes-stored").click();
    b.wait_title("Cases waiting for review", SECS(10));

    // Signed out, then in again with the password and the app's next code.
    b.find("#sign-out").click();
    b.wait_title("Sign in", SECS(10));
    type_into(&b, "#signin input[name=username]", "rita");
    type_into(
        &b,
        "#signin input[name=password]",
        "not the password at all",
    );
    b.find("#signin button[type=submit]").click();
    b.wait("#signin .notice.bad", SECS(10));
    assert!(b
        .text("#signin")
        .contains("Wrong account name, password or code"));
    b.js(
        "document.querySelector('#signin input[name=password]').value = '';",
        json!([]),
    );
    type_into(&b, "#signin input[name=password]", PASSWORD);
    shot(&b, "03-signin-desktop", 1280);
    b.assert_accessible("sign-in");
    b.find("#signin button[type=submit]").click();
    b.wait_title("Second factor", SECS(10));
    b.assert_accessible("second factor");
    type_into(&b, "#second-factor input", &app.code());
    b.find("#second-factor button[type=submit]").click();
    b.wait_title("Cases waiting for review", SECS(10));
    let row = format!("tr[data-case='{case}']");
    b.wait(&row, SECS(10));
    assert!(b.text(&row).contains("FACE_MISMATCH"));
    assert!(b.text(&row).contains("console-1"));
    shot(&b, "04-queue-desktop", 1280);
    b.assert_accessible("queue");

    // The case: claimed, then sent back to the applicant with the reason and a note.
    let queue_ms = b.js(
        "return Number(document.getElementById('queue-count').textContent.match(/\\((\\d+)/)[1]);",
        json!([]),
    );
    b.js("window.idgateT0 = performance.now();", json!([]));
    b.find(&format!("{row} a")).click();
    b.wait_title(&format!("Case {}", &case[..8]), SECS(10));
    assert!(b.has(".doc img"), "the document images are shown");
    let loaded = b.js(
        "const imgs = [...document.querySelectorAll('.doc img')]; \
         return Promise.all(imgs.map(i => i.decode().catch(() => null))) \
           .then(() => ({widths: imgs.map(i => i.naturalWidth), \
                         ms: performance.now() - window.idgateT0}));",
        json!([]),
    );
    assert!(
        loaded["widths"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w.as_u64() > Some(0)),
        "every image decodes: {loaded}"
    );
    // What the checks saw, drawn over the passport page in the image's own fractions (so
    // the drawing covers the picture exactly), the MRZ as read, the entered data beside
    // the document's, and the two faces compared.
    let drawn = b.js(
        "const svg = document.querySelector('.doc .overlay'); \
         const p = svg && svg.querySelector('polygon.outline'); if (!p) return null; \
         const r = svg.getBoundingClientRect(), i = svg.previousElementSibling.getBoundingClientRect(); \
         return {points: p.getAttribute('points').split(' ').length, \
                 aligned: Math.abs(r.width - i.width) < 1 && Math.abs(r.height - i.height) < 1};",
        json!([]),
    );
    assert_eq!(drawn, json!({"points": 4, "aligned": true}));
    assert!(
        b.has(".doc .overlay polygon.mrz-band"),
        "the MRZ band is drawn"
    );
    assert!(
        b.text(".mrz-read").contains("every check digit holds"),
        "{}",
        b.text(".mrz-read")
    );
    assert!(b
        .text("#compare tr[data-field=family_name]")
        .contains("ZHANG"));
    b.wait("#faces .crop[data-loaded] + figcaption", SECS(10));
    assert!(
        b.text("#similarity").contains("below"),
        "{}",
        b.text("#similarity")
    );
    assert!(b.text("#history").contains("This case"));
    println!(
        "console: queue answered in the page after {queue_ms} ms; the case's document images \
         shown {:.0} ms after the click",
        loaded["ms"].as_f64().unwrap()
    );
    b.find("#claim").click();
    b.wait("#decide", SECS(10));
    assert_eq!(b.text("#case-holder"), "You");
    // A comment carrying markup is stored and shown as the text it is, never run.
    let payload = "<img src=x onerror=\"window.idgateXss=1\"><script>window.idgateXss=2</script>";
    b.find("#comment textarea").send_keys(payload);
    b.find("#comment button[type=submit]").click();
    b.wait(".comments li", SECS(10));
    assert!(
        b.text(".comments").contains(payload),
        "{}",
        b.text(".comments")
    );
    assert_eq!(
        b.js(
            "return window.idgateXss === undefined && !document.querySelector('.comments img, .comments script');",
            json!([])
        ),
        true,
        "the comment's markup stayed text"
    );
    b.find("#decide input[value=retry]").click();
    b.find("#reason-picker input[value=FACE_MISMATCH]").click();
    assert!(
        b.text("#applicant-preview")
            .contains("Your selfie does not match the photo on the document."),
        "the applicant's message is shown before deciding: {}",
        b.text("#applicant-preview")
    );
    b.find("#decide textarea")
        .send_keys("Please take the selfie yourself, in good light.");
    shot(&b, "05-case-desktop", 1280);
    b.assert_accessible("case");
    b.find("#decide button[type=submit]").click();
    b.wait("#case-status", SECS(10));
    let deadline = std::time::Instant::now() + SECS(10);
    while b.text("#case-status") != "Resubmission requested" {
        assert!(std::time::Instant::now() < deadline, "{}", b.text("main"));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(b.text("#audit").contains("reviewer:rita"));

    // The applicant's page followed.
    phone.wait("[data-status=resubmission_requested]", SECS(20));
    assert!(phone
        .text("main")
        .contains("Please take the selfie yourself, in good light."));

    // A change request: the current and the requested data side by side, the change marked.
    let v = client.wait_for_status(&s, &verified, "approved", SECS(90));
    let mut data = entered(&min);
    data["address"] = json!("8 Jianguo Road, Chaoyang, Beijing");
    let (st, cr) = client.send(
        "POST",
        &s.url(&format!(
            "/v1/applicants/{}/change-requests",
            v["applicant_id"].as_str().unwrap()
        )),
        Some(json!({"data": data, "reason": "I moved"})),
    );
    assert_eq!(st, 201, "{cr}");
    let cr_id = cr["id"].as_str().unwrap().to_string();
    b.find("nav a[href='#/changes']").click();
    b.wait_title("Requests to change verified data", SECS(10));
    let section = format!("section[data-change='{cr_id}']");
    b.wait(&section, SECS(10));
    let row = format!("{section} tr[data-field=address]");
    assert_eq!(b.find(&row).attr("class").as_deref(), Some("changed"));
    assert!(b.text(&row).contains("8 Jianguo Road"));
    assert!(b.text(&section).contains("I moved"));
    shot(&b, "09-change-request-desktop", 1280);
    b.assert_accessible("change requests");
    b.find(&format!("{section} button[data-decision=approve]"))
        .click();
    let deadline = std::time::Instant::now() + SECS(10);
    while b.has(&section) {
        assert!(std::time::Instant::now() < deadline, "{}", b.text("main"));
        std::thread::sleep(Duration::from_millis(100));
    }
    let decided = client.get(&s.url(&format!("/v1/change-requests/{cr_id}")));
    assert_eq!(decided["status"], "approved", "{decided}");

    // The phone-sized console, and the console in Chinese.
    let small = driver.browser(375, 812, "zh-CN");
    small.goto(&s.url("/console"));
    small.wait_title("登录", SECS(10));
    type_into(&small, "#signin input[name=username]", "rita");
    type_into(&small, "#signin input[name=password]", PASSWORD);
    small.find("#signin button[type=submit]").click();
    small.wait_title("第二重验证", SECS(10));
    type_into(&small, "#second-factor input", &app.code());
    small.find("#second-factor button[type=submit]").click();
    small.wait_title("等待审核的案件", SECS(10));
    shot(&small, "06-queue-phone-zh", 375);
    small.assert_accessible("queue (zh)");
    small.goto(&s.url("/console#/admin"));
    small.wait_title("管理", SECS(10));
    assert!(small.text("#security-log").contains("signin_failed"));
    shot(&small, "07-admin-phone-zh", 375);
}

/// A reviewer invited on a service whose public address is a domain name (`localhost`, as
/// browsers take no IP address as a WebAuthn relying party) enrols a passkey instead of an
/// app, through Chromium's virtual authenticator, and later signs in with the passkey
/// alone — no name, no password — or as the second factor after the password.
#[test]
fn a_reviewer_enrols_a_passkey_and_signs_in_with_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let public = format!("http://localhost:{port}");
    let s = Server::start(
        &dir.path().join("data"),
        port,
        &[("IDGATE_PUBLIC_URL", public.as_str())],
    );
    let client = Client::new(&dir.path().join("data"));
    let invite = client.post(
        &s.url("/v1/reviewer-invites"),
        json!({"name": "pia", "role": "supervisor"}),
    );
    let url = invite["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{public}/console#invite=")),
        "{url}"
    );
    let driver = Driver::start();
    let b = driver.browser(1280, 900, "en-US");
    b.goto(&format!("{public}/healthz"));
    let authenticator = b.add_virtual_authenticator();
    b.goto(url);
    b.wait_title("Set up your account", SECS(10));
    b.find("#accept input[type=password]").send_keys(PASSWORD);
    b.js(
        "document.querySelectorAll('#accept input[type=password]')[1].focus();",
        json!([]),
    );
    b.keys(PASSWORD);
    b.find("#accept button[type=submit]").click();
    b.wait_title("Set up your authenticator app", SECS(10));
    b.find("#enrol-passkey").click();
    b.wait_title("Your recovery codes", SECS(20));
    assert_eq!(b.virtual_credentials(&authenticator).len(), 1);
    b.find("#codes-stored").click();
    b.wait_title("Cases waiting for review", SECS(10));
    b.goto(&format!("{public}/console#/account"));
    b.wait_title("My account", SECS(10));
    assert!(b.text("#passkeys").contains("passkey"));
    shot(&b, "08-account-desktop", 1280);
    b.assert_accessible("account");
    b.find("#sign-out").click();
    b.wait_title("Sign in", SECS(10));

    // The passkey alone.
    b.find("#passkey-signin").click();
    b.wait_title("Cases waiting for review", SECS(20));
    assert!(b.text("nav").contains("pia"));
    let me = b.js(
        "return fetch('/console/v1/me').then(r => r.json());",
        json!([]),
    );
    assert_eq!(me["stage"], "full");
    assert_eq!(me["passkeys"], 1);
    // With the password, the passkey is the second factor.
    b.find("#sign-out").click();
    b.wait_title("Sign in", SECS(10));
    b.find("#signin input[name=username]").send_keys("pia");
    b.find("#signin input[name=password]").send_keys(PASSWORD);
    b.find("#signin button[type=submit]").click();
    b.wait_title("Second factor", SECS(10));
    b.find("#passkey-signin").click();
    b.wait_title("Cases waiting for review", SECS(20));
}
