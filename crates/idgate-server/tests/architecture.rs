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
