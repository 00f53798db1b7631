//! Backup and restore (issue #28) with the real binary: a backup taken while the service
//! runs, restored into a new data directory, serves the same cases and opens every image;
//! a restore without the keys, or over existing data, restores nothing.

#[path = "support/server.rs"]
mod server;
use server::*;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn idgate(data: &Path, args: &[&str]) -> (bool, Value, String) {
    let out = Command::new(BIN)
        .args(["--data-dir", data.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    (
        out.status.success(),
        serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn copy_key(from: &Path, to: &Path, name: &str) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::copy(from.join(name), to.join(name)).unwrap();
}

#[test]
fn a_backup_taken_while_serving_restores_with_every_image() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("backup"),
        dir.path().join("c"),
    );
    let s = Server::start(&a, free_port(), &[]);
    let client = Client::new(&a);
    let case = client.submitted_case(&s, "backup-1", SAME_PERSON);
    let decided = wait_decided(&client, &s, &case);
    // A draft with an upload, still open when the backup is taken.
    let draft = client.new_case(&s, "backup-2");
    client.upload(
        &s.url(&format!("/v1/cases/{draft}/documents")),
        "passport",
        &passport_photo(&ZHANG),
    );

    let (ok, manifest, err) = idgate(&a, &["backup", b.to_str().unwrap()]);
    assert!(ok, "{err}");
    // Two passport photos, the selfie, the entered data, the evidence, liveness frames.
    assert!(manifest["blobs"].as_u64().unwrap() >= 5, "{manifest}");
    assert_eq!(manifest["not_included"][0], "master key");
    assert!(!b.join("master.key").exists() && !b.join("identity.key").exists());
    let (ok, _, err) = idgate(&a, &["backup", b.to_str().unwrap()]);
    assert!(!ok && err.contains("not empty"), "{err}");
    s.stop();

    // Without the keys nothing is restored; with another master key neither.
    let (ok, _, err) = idgate(&c, &["restore", b.to_str().unwrap()]);
    assert!(!ok && err.contains("master key"), "{err}");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::write(c.join("master.key"), "11".repeat(32)).unwrap();
    copy_key(&a, &c, "identity.key");
    let (ok, _, err) = idgate(&c, &["restore", b.to_str().unwrap()]);
    assert!(!ok && err.contains("does not open"), "{err}");
    assert!(!c.join("idgate.db").exists(), "nothing left behind");
    copy_key(&a, &c, "master.key");
    let (ok, restored, err) = idgate(&c, &["restore", b.to_str().unwrap()]);
    assert!(ok, "{err}");
    let opened = restored["blobs_opened"].as_u64().unwrap();
    let keys = restored["owner_keys"].as_u64().unwrap();
    assert!(keys >= 1, "{restored}");
    assert_eq!(
        opened + keys,
        manifest["blobs"].as_u64().unwrap(),
        "{restored}"
    );
    let (ok, _, err) = idgate(&c, &["restore", b.to_str().unwrap()]);
    assert!(!ok && err.contains("new data directory"), "{err}");

    // The restored service: the same case, and every image as uploaded.
    copy_key(&a, &c, "api-key");
    let s = Server::start(&c, free_port(), &[]);
    let client = Client::new(&c);
    let again = client.get(&s.url(&format!("/v1/cases/{case}")));
    assert_eq!(again["status"], decided["status"], "{again}");
    assert_eq!(again["reasons"], decided["reasons"]);
    let r = client.post(
        &s.url("/v1/reviewers"),
        json!({"name": "rita", "role": "reviewer"}),
    );
    let token = r["token"].as_str().unwrap().to_string();
    let image = |path: &str| -> Vec<u8> {
        let res = ureq::get(&s.url(path))
            .set("authorization", &format!("Bearer {token}"))
            .timeout(Duration::from_secs(30))
            .call()
            .unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut res.into_reader(), &mut bytes).unwrap();
        bytes
    };
    let mut opened = 0;
    for id in [&case, &draft] {
        let c = client.get(&s.url(&format!("/v1/cases/{id}")));
        for doc in c["documents"].as_array().unwrap() {
            let bytes = image(&format!(
                "/v1/review/cases/{id}/documents/{}/image",
                doc["id"].as_str().unwrap()
            ));
            assert_eq!(hex::encode(Sha256::digest(&bytes)), doc["sha256"], "{doc}");
            opened += 1;
        }
    }
    assert_eq!(opened, 3, "two passports and the selfie");
    let detail: Value = ureq::get(&s.url(&format!("/v1/review/cases/{case}")))
        .set("authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let frames: Vec<&Value> = detail["liveness"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["frames"].as_array().unwrap())
        .collect();
    assert!(!frames.is_empty(), "{detail}");
    for f in frames {
        let bytes = image(&format!(
            "/v1/review/cases/{case}/liveness/{}/image",
            f["id"].as_str().unwrap()
        ));
        assert!(image::load_from_memory(&bytes).is_ok());
    }
    s.stop();
}

/// `idgate keys rotate` while the service serves (issue #28): a new master key, every
/// owner's key wrapped again under it, every image still opening in the running process
/// and after a restart with only the new key.
#[test]
fn a_master_key_rotated_while_serving_keeps_every_image_open() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let s = Server::start(&a, free_port(), &[]);
    let client = Client::new(&a);
    let case = client.submitted_case(&s, "rotate-1", SAME_PERSON);
    wait_decided(&client, &s, &case);
    let draft = client.new_case(&s, "rotate-2");
    client.upload(
        &s.url(&format!("/v1/cases/{draft}/documents")),
        "passport",
        &passport_photo(&ZHANG),
    );
    let r = client.post(
        &s.url("/v1/reviewers"),
        json!({"name": "rita", "role": "reviewer"}),
    );
    let token = r["token"].as_str().unwrap().to_string();
    let images_open = |s: &Server, cases: &[&str]| {
        for id in cases {
            let c = client.get(&s.url(&format!("/v1/cases/{id}")));
            for doc in c["documents"].as_array().unwrap() {
                let url = s.url(&format!(
                    "/v1/review/cases/{id}/documents/{}/image",
                    doc["id"].as_str().unwrap()
                ));
                let res = ureq::get(&url)
                    .set("authorization", &format!("Bearer {token}"))
                    .call()
                    .unwrap_or_else(|e| panic!("{id}: {e}"));
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut res.into_reader(), &mut bytes).unwrap();
                assert_eq!(hex::encode(Sha256::digest(&bytes)), doc["sha256"], "{doc}");
            }
        }
    };
    let key_file = a.join("master.key");
    let old = std::fs::read_to_string(&key_file).unwrap();

    let (ok, done, err) = idgate(&a, &["keys", "rotate"]);
    assert!(ok, "{err}");
    assert_eq!(done["new_key"], true, "{done}");
    assert_eq!(done["owner_keys_rewrapped"], 2, "two applicants: {done}");
    let lines: Vec<String> = std::fs::read_to_string(&key_file)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1], old.trim(), "the old key kept after the new one");
    // The running process opens keys wrapped under a master it did not hold, and wraps a
    // new applicant's key under the new one.
    images_open(&s, &[&case, &draft]);
    let third = client.new_case(&s, "rotate-3");
    client.upload(
        &s.url(&format!("/v1/cases/{third}/documents")),
        "passport",
        &passport_photo(&ZHANG),
    );

    let (ok, done, err) = idgate(&a, &["keys", "rotate", "--resume", "--retire"]);
    assert!(ok, "{err}");
    assert_eq!(done["new_key"], false, "{done}");
    assert_eq!(done["owner_keys_rewrapped"], 0, "{done}");
    assert_eq!(done["owner_keys_already_current"], 3, "{done}");
    assert_eq!(done["older_keys_retired"], 1, "{done}");
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap().trim(),
        lines[0],
        "only the new key is left"
    );
    images_open(&s, &[&case, &draft, &third]);
    s.stop();
    let s = Server::start(&a, free_port(), &[]);
    images_open(&s, &[&case, &draft, &third]);
    s.stop();
}
