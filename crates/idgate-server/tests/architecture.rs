//! The crate graph ARCHITECTURE.md writes down is the one Cargo builds: every idgate crate's
//! normal dependencies on other idgate crates are among those its line allows, and every
//! workspace crate has a line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// The rules block of ARCHITECTURE.md: crate → the idgate crates it may depend on.
fn rules(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some((name, allowed)) = line.split_once('→') else {
            continue;
        };
        let name = name.trim();
        if !name.starts_with("idgate-") || name.contains(' ') {
            continue;
        }
        let allowed = allowed.split_whitespace().map(str::to_string).collect();
        out.insert(name.to_string(), allowed);
    }
    out
}

#[test]
fn crates_depend_only_on_what_the_architecture_allows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let rules = rules(&text);
    assert!(rules.len() >= 9, "the rules block was not found: {rules:?}");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut broken = Vec::new();
    for package in meta["packages"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap();
        let Some(allowed) = rules.get(name) else {
            broken.push(format!("{name} has no line in ARCHITECTURE.md"));
            continue;
        };
        for dep in package["dependencies"].as_array().unwrap() {
            let dep_name = dep["name"].as_str().unwrap();
            // Normal and build dependencies; tests may use more.
            if dep["kind"].as_str() == Some("dev") || !dep_name.starts_with("idgate-") {
                continue;
            }
            if !allowed.contains(dep_name) {
                broken.push(format!("{name} depends on {dep_name}"));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn the_rules_reader_sees_a_forbidden_edge() {
    let text = "```text\nidgate-a → idgate-b\nidgate-b →\n```\nnot → a rule\n";
    let r = rules(text);
    assert_eq!(r.len(), 2);
    assert!(r["idgate-a"].contains("idgate-b"));
    assert!(!r["idgate-b"].contains("idgate-a"), "b may not depend on a");
}

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Invariant 9: time comes from a `Clock`. No product source reads the wall clock except
/// `SystemClock` itself (a stopwatch's `Instant` measures durations, not the time of day);
/// tests may, to make unique names.
#[test]
fn nothing_but_the_system_clock_reads_the_time_of_day() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            sources(&src, &mut files);
        }
    }
    assert!(files.len() > 50, "{} sources found", files.len());
    let clock = Path::new("idgate-core/src/clock.rs");
    let mut readers = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let reads = ["SystemTime::now", "UNIX_EPOCH", "Utc::now", "Local::now"]
            .iter()
            .any(|p| text.contains(p));
        if reads && !file.ends_with(clock) {
            readers.push(file.display().to_string());
        }
    }
    assert!(
        readers.is_empty(),
        "read the time outside SystemClock: {readers:?}"
    );
}
