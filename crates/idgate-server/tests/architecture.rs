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

/// The server's modules and the modules each names: a file under `src/` (not `bin/`) is a
/// module named by its path (`http/cases.rs` is `http::cases`, `http/mod.rs` is `http`,
/// `lib.rs` is `crate`); a `crate::a::b::item` path outside comments is an edge to the
/// longest module it starts with.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let name_of = |file: &Path| {
        let rel = file.strip_prefix(src).unwrap().with_extension("");
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        match parts.as_slice() {
            [one] if one == "lib" || one == "main" => "crate".to_string(),
            [dirs @ .., last] if last == "mod" => dirs.join("::"),
            all => all.join("::"),
        }
    };
    let files: Vec<_> = files
        .into_iter()
        .filter(|f| !f.strip_prefix(src).unwrap().starts_with("bin"))
        .collect();
    let modules: BTreeSet<String> = files.iter().map(|f| name_of(f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let from = name_of(file);
        let text = std::fs::read_to_string(file).unwrap();
        let mut to = BTreeSet::new();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let path: String = line[i + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
                let target = (1..=segments.len())
                    .rev()
                    .map(|n| segments[..n].join("::"))
                    .find(|m| modules.contains(m))
                    .unwrap_or_else(|| "crate".to_string());
                if target != from {
                    to.insert(target);
                }
            }
        }
        graph.insert(from, to);
    }
    graph
}

/// A circle in `graph`, if there is one, as the modules along it.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut c = path[at..].to_vec();
            c.push(m.to_string());
            return Some(c);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for next in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

/// The server split by what it serves: no module imports one that imports it back, and the
/// HTTP API and the file commands never import each other (what both need lives in
/// `state`, `report`, `validate` and `files`).
#[test]
fn the_server_modules_form_no_circle_and_http_and_cli_stay_apart() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph.len() > 20, "{} modules found", graph.len());
    assert!(graph["http::review"].contains("http::cases"), "{graph:?}");
    assert_eq!(circle(&graph), None, "the module graph has a circle");
    let area = |m: &str| m.split("::").next().unwrap_or("").to_string();
    for (from, to) in &graph {
        for t in to {
            let (a, b) = (area(from), area(t));
            assert!(
                !((a == "http" && b == "cli") || (a == "cli" && b == "http")),
                "{from} imports {t}"
            );
        }
    }
    // The printout the closing note quotes.
    for (from, to) in &graph {
        eprintln!(
            "{from} -> {}",
            to.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(circle(&g).map(|c| c.len()), Some(4));
    let mut acyclic = g.clone();
    acyclic.get_mut("c").unwrap().clear();
    assert_eq!(circle(&acyclic), None);
}

/// No source file is over ~600 lines unless it is one algorithm's module (the photo checks,
/// the outline search, the JPEG decoder, the liveness judge, the OCR reader, the MRZ
/// repair): a file that grows past it is split by what it serves.
#[test]
fn no_source_file_but_an_algorithm_is_over_600_lines() {
    let algorithms = [
        "idgate-vision/src/check.rs",
        "idgate-vision/src/document.rs",
        "idgate-vision/src/jpeg.rs",
        "idgate-vision/src/ocr.rs",
        "idgate-face/src/liveness.rs",
        "idgate-mrz/src/repair.rs",
        "idgate-specimen/src/lib.rs",
    ];
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            sources(&src, &mut files);
        }
    }
    let mut long = Vec::new();
    for file in &files {
        let lines = std::fs::read_to_string(file).unwrap().lines().count();
        let rel = file
            .strip_prefix(&crates)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if lines > 620 && !algorithms.contains(&rel.as_str()) {
            long.push(format!("{rel}: {lines}"));
        }
    }
    assert!(long.is_empty(), "split these by what they serve: {long:?}");
}
