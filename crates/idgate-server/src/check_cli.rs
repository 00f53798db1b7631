//! `idgate check`: document photo checks on files, as text or JSON (the evaluation of the
//! checks is `idgate-eval photos`, outside the service binary).

use crate::mrz_cli;
use idgate_vision::check::{CheckError, Report};
use serde_json::{json, Value};

/// The JSON line for one checked file.
pub fn report_json(file: &str, report: &Report) -> Value {
    let reasons: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut r = json!({
                "code": f.code.as_str(),
                "message": f.code.message(),
                "fix": f.code.fix(),
                "detail": f.detail,
            });
            if let Some(region) = f.region {
                r["region"] = json!(region);
            }
            r
        })
        .collect();
    let mut out = json!({
        "file": file,
        "verdict": report.verdict().as_str(),
        "reasons": reasons,
        "measures": report.measures.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "timings_ms": report.timings_ms.iter().map(|(k, v)| (k.to_string(), json!((v * 10.0).round() / 10.0))).collect::<serde_json::Map<_, _>>(),
    });
    if let Some(c) = report.corners {
        out["document"] = json!({"corners": c.map(|p| p.map(f32::round))});
    }
    if let Some(m) = &report.mrz {
        let mut mrz =
            json!({"lines": m.lines, "valid": m.parsed.as_ref().is_some_and(|p| p.valid())});
        if let Some(p) = &m.parsed {
            let full = mrz_cli::to_json(Value::Null, Ok(p.clone()));
            mrz["fields"] = full["fields"].clone();
        }
        out["mrz"] = mrz;
    }
    out
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
