//! `idgate verify` end to end: generated photos of chosen documents, the real binary, state
//! kept in a data directory between calls. The stories of ../shared/seeds that need the
//! photos or the persistence (approval, a reused document, an expired document, glare,
//! blind retries); the engine's own scenarios are in idgate-decide/tests/scenarios.rs.

use idgate_mrz::Date;
use idgate_specimen::document::Layout;
use idgate_specimen::identity::Identity;
use idgate_specimen::{photograph, Defect, Fonts, Options};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_idgate");

fn today() -> Date {
    Date::new(2026, 11, 24).unwrap()
}

/// 2026-11-24T10:00:00Z.
fn now_ms() -> i64 {
    today().unix_days() * 86_400_000 + 10 * 3_600_000
}

fn models_dir() -> PathBuf {
    PathBuf::from(
        std::env::var("IDGATE_MODELS_DIR").expect(
            "IDGATE_MODELS_DIR: run the tests through scripts/test, which unpacks the models",
        ),
    )
}

fn zhang(expired: bool) -> Identity {
    Identity {
        document_code: "P<".into(),
        country: "CHN".into(),
        country_name: "CHINA".into(),
        surname: "ZHANG".into(),
        given_names: "XIAOMING".into(),
        nationality: "CHN".into(),
        document_number: "E12345678".into(),
        birth: Date::new(1995, 3, 1).unwrap(),
        sex: 'M',
        expiry: if expired {
            Date::new(2025, 6, 30).unwrap()
        } else {
            Date::new(2031, 6, 30).unwrap()
        },
    }
}

fn photo(dir: &Path, name: &str, id: &Identity, defect: Defect, seed: u64) -> PathBuf {
    let fonts = Fonts::system().expect("fonts installed by scripts/lib.sh");
    let opts = Options {
        today: today(),
        ..Options::default()
    };
    let s = photograph(&fonts, defect, Layout::Td3, id, seed, &opts);
    let path = dir.join(name);
    std::fs::write(&path, &s.bytes).unwrap();
    path
}

/// The level needs only the document, so a clean application can be approved outright
/// (`face`, which also needs the face step, is there for the refusal without a selfie).
const ID_ONLY: &str = r#"
[[levels]]
name = "id"
requires = ["identity_document"]
entitlements = { deposit = true, trade = true, withdraw = true, withdraw_limit_usd_per_day = 1000 }

[[levels]]
name = "face"
requires = ["identity_document", "selfie"]
entitlements = { deposit = true, trade = true, withdraw = true, withdraw_limit_usd_per_day = 5000 }
"#;

fn application(dir: &Path, uid: &str, page: &Path, number: &str) -> PathBuf {
    let app = json!({
        "uid": uid,
        "region": "CN",
        "level": "id",
        "nationality": "CN",
        "document": {"country": "CN", "type": "passport", "number": number},
        "name": {"given": "Xiaoming", "family": "Zhang", "local": "张晓明"},
        "birth_date": "1995-03-01",
        // Relative to the application file.
        "images": {"photo_page": page.file_name().unwrap().to_str().unwrap()},
    });
    let path = dir.join(format!("{uid}-{number}.json"));
    std::fs::write(&path, app.to_string()).unwrap();
    path
}

struct Run {
    code: Option<i32>,
    out: Value,
    stderr: String,
}

fn verify(data: &Path, app: &Path, at_ms: i64, extra: &[&str]) -> Run {
    let policy = data.parent().unwrap().join("policy.toml");
    std::fs::write(&policy, ID_ONLY).unwrap();
    let out = Command::new(BIN)
        .arg("verify")
        .arg("--data-dir")
        .arg(data)
        .arg("--policy")
        .arg(&policy)
        .arg("--models-dir")
        .arg(models_dir())
        .args(["--now-ms", &at_ms.to_string()])
        .args(extra)
        .arg(app)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    Run {
        code: out.status.code(),
        out: serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn codes(v: &Value) -> Vec<&str> {
    v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect()
}

#[test]
fn an_approved_passport_cannot_verify_a_second_account() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let page = photo(tmp.path(), "page.jpg", &zhang(false), Defect::Clean, 11);
    let first = verify(
        &data,
        &application(tmp.path(), "alice", &page, "E12345678"),
        now_ms(),
        &[],
    );
    assert_eq!(first.code, Some(0), "{} {}", first.out, first.stderr);
    assert_eq!(first.out["decision"], "approved");
    assert_eq!(first.out["level"], "id");
    assert_eq!(first.out["entitlements"]["withdraw"], true);
    assert!(codes(&first.out).is_empty());
    // The data dir keeps the identity as keyed hashes only.
    let db = std::fs::read(data.join("idgate.db")).unwrap();
    assert!(!db.windows(9).any(|w| w == b"E12345678"));
    assert!(data.join("identity.key").exists());

    // Another account, the same passport: refused for good, pointed to support, in Chinese.
    let second = verify(
        &data,
        &application(tmp.path(), "bob", &page, "E12345678"),
        now_ms() + 60_000,
        &["--lang", "zh-CN"],
    );
    assert_eq!(second.code, Some(2));
    assert_eq!(second.out["decision"], "rejected");
    assert_eq!(codes(&second.out), ["DUPLICATE_IDENTITY"]);
    let r = &second.out["reasons"][0];
    assert_eq!(r["reject_type"], "FINAL");
    assert!(r["fix"].as_str().unwrap().contains("客服"), "{r}");
    // Reviewer-only detail (which account holds it) is not in the applicant's answer...
    assert!(r.get("detail").is_none());
    assert!(!second.out.to_string().contains("alice"));
    // ...but is with --internal.
    let internal = verify(
        &data,
        &application(tmp.path(), "carol", &page, "E12345678"),
        now_ms() + 120_000,
        &["--internal"],
    );
    // (The detail is an object, as reviewers get it from the API.)
    let detail = &internal.out["reasons"][0]["detail"];
    assert!(
        detail.is_object() && detail.to_string().contains("alice"),
        "{detail}"
    );
    // The first account is still approved at its level (nothing it holds changed).
    let again = verify(
        &data,
        &application(tmp.path(), "alice", &page, "E12345678"),
        now_ms() + 180_000,
        &[],
    );
    assert_eq!(again.out["level"], "id");
}

#[test]
fn an_expired_passport_and_glare_are_sent_back_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let expired = photo(tmp.path(), "expired.jpg", &zhang(true), Defect::Clean, 12);
    let run = verify(
        &data,
        &application(tmp.path(), "dan", &expired, "E12345678"),
        now_ms(),
        &[],
    );
    assert_eq!(run.out["decision"], "resubmission_requested", "{}", run.out);
    assert_eq!(codes(&run.out), ["DOCUMENT_EXPIRED"]);
    assert_eq!(run.out["reasons"][0]["subject"], "side:photo_page");
    assert_eq!(run.out["retry_after"], "2026-11-24T10:00:00Z");
    assert_eq!(run.out["level"], Value::Null);
    assert_eq!(run.out["entitlements"]["withdraw"], false);

    let glare = photo(tmp.path(), "glare.jpg", &zhang(false), Defect::Glare, 13);
    let run = verify(
        &data,
        &application(tmp.path(), "erin", &glare, "E12345678"),
        now_ms(),
        &[],
    );
    assert_eq!(run.out["decision"], "resubmission_requested", "{}", run.out);
    assert!(codes(&run.out).contains(&"GLARE"), "{}", run.out);
    let glare_reason = &run.out["reasons"].as_array().unwrap()
        [codes(&run.out).iter().position(|c| *c == "GLARE").unwrap()];
    assert!(glare_reason["fix"].as_str().unwrap().contains("flash"));
}

#[test]
fn blind_retries_wait_longer_each_time_across_calls() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let page = photo(tmp.path(), "page.jpg", &zhang(false), Defect::Clean, 14);
    // A typo in the number, submitted again and again without fixing it.
    let app = application(tmp.path(), "fay", &page, "E12345687");
    let t0 = now_ms();
    let first = verify(&data, &app, t0, &[]);
    assert_eq!(codes(&first.out), ["DOCUMENT_NUMBER_MISMATCH"]);
    assert_eq!(first.out["retry_after"], "2026-11-24T10:00:00Z");
    let second = verify(&data, &app, t0 + 30_000, &[]);
    assert_eq!(codes(&second.out), ["DOCUMENT_NUMBER_MISMATCH"]);
    // One minute after the second failure.
    assert_eq!(second.out["retry_after"], "2026-11-24T10:01:30Z");
    // Coming back early: refused without looking, told when.
    let early = verify(&data, &app, t0 + 45_000, &[]);
    assert_eq!(early.code, Some(2));
    assert_eq!(codes(&early.out), ["TOO_MANY_ATTEMPTS"]);
    assert_eq!(early.out["retry_after"], "2026-11-24T10:01:30Z");
    // Fixed and on time: approved.
    let fixed = application(tmp.path(), "fay", &page, "E12345678");
    let ok = verify(&data, &fixed, t0 + 90_000, &[]);
    assert_eq!(ok.out["decision"], "approved", "{}", ok.out);
}

#[test]
fn a_bad_application_is_a_clear_error_and_records_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let missing = tmp.path().join("nowhere.jpg");
    let app = application(tmp.path(), "gus", &missing, "E12345678");
    let run = verify(&data, &app, now_ms(), &[]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("photo_page image"), "{}", run.stderr);
    std::fs::write(tmp.path().join("broken.json"), "{\"uid\": \"gus\"").unwrap();
    let run = verify(&data, &tmp.path().join("broken.json"), now_ms(), &[]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("not a valid application"),
        "{}",
        run.stderr
    );
    // A level that needs the face step, with no selfie: refused as the API refuses to
    // submit it, not answered FACE_NOT_FOUND.
    let page = photo(tmp.path(), "nowhere.jpg", &zhang(false), Defect::Clean, 15);
    let mut basic: Value = serde_json::from_str(
        &std::fs::read_to_string(application(tmp.path(), "gus", &page, "E12345678")).unwrap(),
    )
    .unwrap();
    basic["level"] = json!("face");
    let basic_app = tmp.path().join("gus-face.json");
    std::fs::write(&basic_app, basic.to_string()).unwrap();
    let run = verify(&data, &basic_app, now_ms(), &[]);
    assert_eq!(run.code, Some(1), "{:?}", run.out);
    assert!(
        run.stderr.contains("missing_step") && run.stderr.contains("selfie"),
        "{}",
        run.stderr
    );
    // Nothing was counted against the account: a good attempt right after is judged.
    let app = application(tmp.path(), "gus", &page, "E12345678");
    assert_eq!(
        verify(&data, &app, now_ms(), &[]).out["decision"],
        "approved"
    );
}
