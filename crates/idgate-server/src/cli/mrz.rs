//! `idgate mrz`: MRZ lines on stdin → a report (or JSON Lines with `--jsonl`).

use idgate_mrz::{read, read_ocr, Date, Mrz, OcrLine, ParseOptions};
use serde_json::Value;
use std::io::{BufRead, Write};

pub fn today() -> Date {
    let ms = idgate_core::Clock::now_ms(&idgate_core::SystemClock);
    Date::from_unix_days(ms.div_euclid(86_400_000))
}

/// `idgate mrz`: stdin as JSON Lines (`jsonl`) or as one MRZ; prints the report. True
/// unless a single MRZ was read and found invalid.
pub fn run(jsonl: bool) -> anyhow::Result<bool> {
    use anyhow::Context;
    use std::io::Read;
    let opts = ParseOptions { today: today() };
    let stdin = std::io::stdin();
    if jsonl {
        run_jsonl(stdin.lock(), std::io::stdout().lock(), &opts)?;
        return Ok(true);
    }
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .context("reading stdin")?;
    let (report, valid) = report(&text, &opts);
    print!("{report}");
    Ok(valid)
}

pub fn run_jsonl(
    input: impl BufRead,
    mut out: impl Write,
    opts: &ParseOptions,
) -> std::io::Result<()> {
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let value = match serde_json::from_str::<Value>(&line) {
            Ok(v) => match v.get("mrz").and_then(Value::as_str) {
                Some(mrz) => crate::report::mrz_json(v["id"].clone(), read_line(mrz, &v, opts)),
                None => crate::report::mrz_json(
                    v.get("id").cloned().unwrap_or(Value::Null),
                    Err("missing string field `mrz`".into()),
                ),
            },
            Err(e) => crate::report::mrz_json(Value::Null, Err(format!("invalid JSON: {e}"))),
        };
        writeln!(out, "{value}")?;
    }
    Ok(())
}

/// One `--jsonl` record: typed text (every character certain), or OCR output when the
/// record carries `confidence`, one array of numbers (0–1) per line of `mrz`, one number
/// per character, so that look-alikes are swapped only where the reader was unsure.
fn read_line(mrz: &str, record: &Value, opts: &ParseOptions) -> Result<Mrz, String> {
    let Some(confidence) = record.get("confidence").filter(|c| !c.is_null()) else {
        return read(mrz, opts).map_err(|e| e.to_string());
    };
    let texts: Vec<&str> = mrz.lines().collect();
    let per_line = confidence
        .as_array()
        .filter(|a| a.len() == texts.len())
        .ok_or("`confidence` must hold one array per line of `mrz`")?;
    let mut lines = Vec::with_capacity(texts.len());
    for (i, (text, c)) in texts.iter().zip(per_line).enumerate() {
        let values: Option<Vec<f32>> = c
            .as_array()
            .and_then(|a| a.iter().map(|v| v.as_f64().map(|v| v as f32)).collect());
        match values {
            Some(v)
                if v.len() == text.chars().count() && v.iter().all(|p| (0.0..=1.0).contains(p)) =>
            {
                lines.push(OcrLine {
                    text: (*text).to_string(),
                    confidence: v,
                })
            }
            _ => {
                return Err(format!(
                    "`confidence` line {}: one number from 0 to 1 per character",
                    i + 1
                ))
            }
        }
    }
    read_ocr(&lines, opts).map_err(|e| e.to_string())
}

pub fn report(text: &str, opts: &ParseOptions) -> (String, bool) {
    let m = match read(text, opts) {
        Ok(m) => m,
        Err(e) => return (format!("not an MRZ: {e}\n"), false),
    };
    let f = &m.fields;
    let date = |d: Option<Date>, raw: &str| d.map_or(format!("invalid ({raw})"), |d| d.to_string());
    let mut s = format!(
        "format:           {}\nvalid:            {}\n",
        m.format,
        if m.valid() { "yes" } else { "NO" }
    );
    if m.repaired() {
        s.push_str("repaired:         yes (see the corrections below)\n");
    }
    for (label, value) in [
        ("document type", f.document_type.clone()),
        ("issuing country", f.issuing_country.clone()),
        ("surname", f.surname.clone()),
        ("given names", f.given_names.clone()),
        ("document number", f.document_number.clone()),
        ("nationality", f.nationality.clone()),
        ("birth date", date(f.birth_date, &f.birth_date_raw)),
        ("sex", f.sex.as_str().to_string()),
        (
            "expiry date",
            if f.expiry_date_raw.is_empty() {
                "not in MRZ".into()
            } else {
                date(f.expiry_date, &f.expiry_date_raw)
            },
        ),
        ("optional data", f.optional_data.clone()),
    ] {
        s.push_str(&format!("{:<18}{value}\n", format!("{label}:")));
    }
    for c in &m.checks {
        s.push_str(&format!(
            "check {:<24}{}\n",
            c.name,
            if c.ok { "ok" } else { "FAILED" }
        ));
    }
    for c in &m.corrections {
        s.push_str(&format!("corrected {c}\n"));
    }
    if m.is_expired(opts.today) {
        s.push_str("note: the document has expired\n");
    }
    (s, m.valid())
}
