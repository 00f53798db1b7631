//! `idgate check`: document photo checks on files, as text or JSON (the evaluation of the
//! checks is `idgate-eval photos`, outside the service binary).

use anyhow::Context;
use idgate_vision::check::{CheckError, CheckOptions, PhotoVerdict, Report};
use idgate_vision::ocr::Ocr;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Check options as of `today` (YYYY-MM-DD), or as of the clock's today.
pub fn options(today: Option<&str>) -> anyhow::Result<CheckOptions> {
    let today = match today {
        Some(s) => idgate_mrz::Date::parse_iso(s)
            .with_context(|| format!("--today {s:?} is not YYYY-MM-DD"))?,
        None => crate::cli::mrz::today(),
    };
    Ok(CheckOptions::new(today))
}

/// Checks every file and prints one report per file (text, or a JSON line each): the full
/// check with `ocr`, the instant gate without. One unreadable file does not stop the
/// others. True when every file passed.
pub fn run(files: &[PathBuf], json: bool, ocr: Option<&Ocr>, opts: &CheckOptions) -> bool {
    let mut all_pass = true;
    for file in files {
        let name = file.display().to_string();
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                all_pass = false;
                if json {
                    println!("{}", read_error_json(&name, &e));
                } else {
                    println!("{name}: error: cannot read the file: {e}");
                }
                continue;
            }
        };
        let result = match ocr {
            Some(ocr) => idgate_vision::check::check(&bytes, ocr, opts),
            None => idgate_vision::check::gate(&bytes, opts),
        };
        match result {
            Ok(report) => {
                all_pass &= report.verdict() == PhotoVerdict::Pass;
                if json {
                    println!("{}", crate::report::photo_report_json(&name, &report));
                } else {
                    print!("{}", report_text(&name, &report));
                }
            }
            Err(e) => {
                all_pass = false;
                if json {
                    println!("{}", error_json(&name, &e));
                } else {
                    println!("{name}: error: {e}");
                }
            }
        }
    }
    all_pass
}

/// Error line for a file that could not be checked.
pub fn error_json(file: &str, e: &CheckError) -> Value {
    let code = match e {
        CheckError::Input(i) => i.code(),
        CheckError::Ocr(_) => "ocr_failed",
    };
    json!({"file": file, "error": {"code": code, "message": e.to_string()}})
}

/// A file that could not be opened at all (missing, a directory, no permission).
pub fn read_error_json(file: &str, e: &std::io::Error) -> Value {
    json!({"file": file, "error": {"code": "unreadable_file", "message": e.to_string()}})
}

/// A person-readable report.
pub fn report_text(file: &str, report: &Report) -> String {
    let mut s = format!("{file}: {}\n", report.verdict().as_str());
    for f in &report.findings {
        s.push_str(&format!(
            "  {}: {}\n    fix: {}\n",
            f.code.as_str(),
            f.code.message(),
            f.code.fix()
        ));
    }
    if let Some(m) = &report.mrz {
        for l in &m.lines {
            s.push_str(&format!("  mrz: {l}\n"));
        }
    }
    s
}
