//! JSON renderings the command line and the HTTP API share: an MRZ read, a photo check's
//! report, a liveness judgement and a decision. The server alone renders JSON.

use idgate_core::Lang;
use idgate_decide::{Policy, Step, Verdict};
use idgate_face::liveness;
use idgate_mrz::{Date, Mrz};
use idgate_pipeline::record::detail_object;
use idgate_vision::check::Report;
use serde_json::{json, Map, Value};

/// An MRZ read (or the reason it could not be read) as `idgate mrz --jsonl` prints it.
pub fn mrz_json(id: Value, result: Result<Mrz, String>) -> Value {
    match result {
        Ok(m) => {
            let f = &m.fields;
            let checks: Map<String, Value> = m
                .checks
                .iter()
                .map(|c| (c.name.to_string(), Value::Bool(c.ok)))
                .collect();
            let date = |d: Option<Date>| d.map_or(Value::Null, |d| Value::String(d.to_string()));
            json!({
                "id": id,
                "format": m.format.name(),
                "valid": m.valid(),
                "repaired": m.repaired(),
                "doubtful": m.doubtful,
                "checks": checks,
                "fields": {
                    "document_type": f.document_type,
                    "issuing_country": f.issuing_country,
                    "surname": f.surname,
                    "given_names": f.given_names,
                    "document_number": f.document_number,
                    "nationality": f.nationality,
                    "birth_date": date(f.birth_date),
                    "sex": f.sex.as_str(),
                    "expiry_date": date(f.expiry_date),
                    "optional_data": f.optional_data,
                },
                "corrections": m.corrections.iter().map(|c| json!({
                    "line": c.line + 1, "column": c.column + 1,
                    "from": c.from.map(String::from), "to": c.to.map(String::from), "reason": c.reason,
                })).collect::<Vec<_>>(),
                "errors": m.failed_checks().map(|c| format!("{c} failed")).collect::<Vec<_>>(),
            })
        }
        Err(e) => json!({
            "id": id, "format": null, "valid": false, "repaired": false, "doubtful": false,
            "checks": {}, "fields": null,
            "corrections": [], "errors": [e],
        }),
    }
}

/// A photo check's report: verdict, reasons with fixes and regions, measures, the
/// document outline and the MRZ.
pub fn photo_report_json(file: &str, report: &Report) -> Value {
    let reasons: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut r = json!({
                "code": f.code.as_str(),
                "message": f.code.message(),
                "fix": f.code.fix(),
                "detail": idgate_pipeline::record::photo_detail_json(&f.detail),
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
        if let Some(band) = m.band {
            mrz["band"] = json!(band.map(|p| p.map(f32::round)));
        }
        if let Some(p) = &m.parsed {
            let full = mrz_json(Value::Null, Ok(p.clone()));
            mrz["fields"] = full["fields"].clone();
        }
        out["mrz"] = mrz;
    }
    out
}

pub fn judgement_json(j: &liveness::Judgement) -> Value {
    json!({
        "passed": j.passed(),
        "failure": j.failure.as_ref().map(|f| f.message()),
        "seen": j.seen.iter().map(|(a, at)| json!({"action": a.as_str(), "frame": at})).collect::<Vec<_>>(),
        "yaw": j.yaw.iter().map(|v| round3(*v)).collect::<Vec<_>>(),
        "eye_openness": j.openness.iter().map(|v| round3(*v)).collect::<Vec<_>>(),
        "eye_change": j.eye_change.iter().map(|v| round3(*v)).collect::<Vec<_>>(),
        "best_frame": j.best_frame,
        "turns": j.turns.iter().map(|(f, follow, fore)| json!({"frame": f, "eye_follow": round3(*follow), "foreshortening": round3(*fore)})).collect::<Vec<_>>(),
        "blink": j.blink.map(|(f, tex, relief)| json!({"frame": f, "lid_texture": round3(tex), "lid_relief": round3(relief)})),
    })
}

/// Three decimals, for printed measures.
pub fn round3(v: f32) -> f64 {
    (f64::from(v) * 1000.0).round() / 1000.0
}

/// The decision as the applicant's side sees it; `internal` adds reviewer-only detail.
pub fn verdict_json(
    policy: &Policy,
    verdict: &Verdict,
    verified_after: &[Step],
    lang: Lang,
    internal: bool,
) -> Value {
    let reasons: Vec<Value> = verdict
        .findings
        .iter()
        .map(|f| {
            let mut r = json!({
                "code": f.code.as_str(),
                "reject_type": f.reject_type.as_str(),
                "message": f.code.message_in(lang),
                "fix": f.code.fix_in(lang),
            });
            if let Some(s) = &f.subject {
                r["subject"] = json!(s);
            }
            if internal {
                r["detail"] = detail_object(&f.detail);
            }
            r
        })
        .collect();
    let mut out = json!({
        "decision": verdict.outcome.as_str(),
        "reasons": reasons,
        "level": verdict.level,
        "entitlements": policy.entitlements(verified_after),
    });
    if let Some(at) = verdict.retry_after_ms {
        out["retry_after"] = json!(idgate_core::rfc3339(at));
    }
    out
}

/// A list version as `lists import|show` print it and `GET /v1/lists` answers it.
pub fn list_version_json(v: &idgate_store::ListVersion) -> serde_json::Value {
    serde_json::json!({
        "source": v.source,
        "version": v.version,
        "format": v.format,
        "sha256": v.file_sha256,
        "imported_at": idgate_core::rfc3339(v.imported_at),
        "entities": v.entities,
        "added": v.added.len(),
        "changed": v.changed.len(),
        "removed": v.removed.len(),
    })
}
