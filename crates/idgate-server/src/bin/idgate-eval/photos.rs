//! `idgate-eval photos`: the photo checks measured on generated labelled specimens, on the
//! shared real specimen photos and on folders of photos labelled elsewhere.

use idgate_core::ReasonCode;
use idgate_server::cli::check::error_json;
use idgate_specimen::{Defect, Fonts, Options as SpecimenOptions};
use idgate_vision::check::{check, CheckOptions, Report};
use idgate_vision::ocr::Ocr;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Per reason code: true and false positives and misses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub tp: u32,
    pub fp: u32,
    pub fn_: u32,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            f64::from(self.tp) / f64::from(self.tp + self.fp)
        }
    }
    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            f64::from(self.tp) / f64::from(self.tp + self.fn_)
        }
    }
}

#[derive(Debug, Default)]
pub struct Evaluation {
    pub per_code: BTreeMap<&'static str, Counts>,
    pub clean: u32,
    pub clean_pass: u32,
    pub clean_mrz_exact: u32,
    /// (specimen name, codes raised) for every specimen judged wrongly.
    pub errors: Vec<(String, Vec<&'static str>)>,
    /// (specimen name, lines read, lines printed) for every clean specimen whose MRZ was
    /// not read exactly (generated people, no one's personal data).
    pub misread: Vec<(String, Vec<String>, Vec<String>)>,
    pub check_ms: Vec<f64>,
}

impl Evaluation {
    pub fn clean_pass_rate(&self) -> f64 {
        f64::from(self.clean_pass) / f64::from(self.clean.max(1))
    }
    pub fn mrz_exact_rate(&self) -> f64 {
        f64::from(self.clean_mrz_exact) / f64::from(self.clean.max(1))
    }

    pub fn to_json(&self) -> Value {
        let mut sorted = self.check_ms.clone();
        let median = crate::median(&mut sorted);
        json!({
            "per_code": self.per_code.iter().map(|(k, c)| (k.to_string(), json!({
                "tp": c.tp, "fp": c.fp, "fn": c.fn_,
                "precision": (c.precision() * 1000.0).round() / 1000.0,
                "recall": (c.recall() * 1000.0).round() / 1000.0,
            }))).collect::<serde_json::Map<_, _>>(),
            "clean": self.clean,
            "clean_pass_rate": (self.clean_pass_rate() * 1000.0).round() / 1000.0,
            "clean_mrz_exact_rate": (self.mrz_exact_rate() * 1000.0).round() / 1000.0,
            "median_check_ms": median.round(),
            "errors": self.errors.iter().map(|(n, c)| json!({"specimen": n, "codes": c})).collect::<Vec<_>>(),
            "mrz_misread": self.misread.iter().map(|(n, read, printed)| json!({"specimen": n, "read": read, "printed": printed})).collect::<Vec<_>>(),
        })
    }
}

/// One specimen checked: its defect, seed, the MRZ lines printed on it, and the report.
type Checked = (Defect, u64, Vec<String>, Result<Report, String>);

/// Generates `per_defect` specimens of each of `defects` (seeds `first_seed..`) at `width` ×
/// `height` pixels, checks each and scores the codes raised against the labels.
pub fn evaluate(
    ocr: &Ocr,
    fonts: &Fonts,
    defects: &[Defect],
    per_defect: u64,
    first_seed: u64,
    (width, height): (u32, u32),
    opts: &CheckOptions,
) -> Evaluation {
    let gen_opts = SpecimenOptions {
        width,
        height,
        today: opts.today,
    };
    let jobs: Vec<(Defect, u64)> = defects
        .iter()
        .flat_map(|&d| (first_seed..first_seed + per_defect).map(move |s| (d, s)))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let results: Vec<Checked> = std::thread::scope(|scope| {
        let chunks: Vec<Vec<(Defect, u64)>> = (0..threads)
            .map(|t| jobs.iter().copied().skip(t).step_by(threads).collect())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|(d, seed)| {
                            let s = idgate_specimen::generate(fonts, d, seed, &gen_opts);
                            let r = check(&s.bytes, ocr, opts).map_err(|e| e.to_string());
                            (d, seed, s.mrz_lines, r)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("evaluation thread"))
            .collect()
    });
    let mut ev = Evaluation::default();
    for code in ReasonCode::ALL {
        if defects
            .iter()
            .any(|d| d.expected().contains(&code.as_str()))
        {
            ev.per_code.insert(code.as_str(), Counts::default());
        }
    }
    for (defect, seed, printed, result) in results {
        let name = format!("{}-{seed}", defect.name());
        let report = match result {
            Ok(r) => r,
            Err(e) => {
                ev.errors.push((format!("{name}: {e}"), Vec::new()));
                continue;
            }
        };
        if let Some(&(_, total)) = report.timings_ms.iter().find(|t| t.0 == "total") {
            ev.check_ms.push(total);
        }
        let raised: Vec<&'static str> = report.findings.iter().map(|f| f.code.as_str()).collect();
        let mut wrong = false;
        for code in defect.expected() {
            let c = ev.per_code.entry(code).or_default();
            if raised.contains(code) {
                c.tp += 1;
            } else {
                c.fn_ += 1;
                wrong = true;
            }
        }
        for code in &raised {
            if !defect.expected().contains(code) && !defect.allowed().contains(code) {
                ev.per_code.entry(code).or_default().fp += 1;
                wrong = true;
            }
        }
        if defect == Defect::Clean {
            ev.clean += 1;
            if report.verdict() == idgate_vision::check::PhotoVerdict::Pass {
                ev.clean_pass += 1;
            }
            match report.mrz.as_ref() {
                Some(m) if m.lines == printed => ev.clean_mrz_exact += 1,
                m => ev.misread.push((
                    name.clone(),
                    m.map(|m| m.lines.clone()).unwrap_or_default(),
                    printed,
                )),
            }
        }
        if wrong {
            ev.errors.push((name, raised));
        }
    }
    ev
}

/// The real specimen photos in ../shared/testdata whose manifests give the printed MRZ:
/// how many are read exactly and what the checks say about them.
pub fn evaluate_real(ocr: &Ocr, testdata: &Path, opts: &CheckOptions) -> Value {
    let sets = [
        ("fastmrz", "manifest.json"),
        ("passporteye", "images_manifest.json"),
        ("mrz_arg0s1080", "images_manifest.json"),
    ];
    let mut out = serde_json::Map::new();
    for (set, manifest) in sets {
        let Ok(bytes) = std::fs::read(testdata.join(set).join(manifest)) else {
            continue;
        };
        let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        let entries = v
            .get("images")
            .or(Some(&v))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let (mut total, mut exact, mut pass) = (0u32, 0u32, 0u32);
        let mut codes: BTreeMap<String, u32> = BTreeMap::new();
        for e in entries {
            let Some(printed) = e["printed_mrz_lines"].as_array().filter(|a| !a.is_empty()) else {
                continue;
            };
            let printed: Vec<String> = printed
                .iter()
                .filter_map(|l| l.as_str().map(str::to_string))
                .collect();
            let Some(name) = e["image"].as_str() else {
                continue;
            };
            let Ok(file) = std::fs::read(testdata.join(set).join(name)) else {
                continue;
            };
            total += 1;
            match check(&file, ocr, opts) {
                Ok(r) => {
                    if r.mrz.as_ref().is_some_and(|m| m.lines == printed) {
                        exact += 1;
                    }
                    if r.verdict() == idgate_vision::check::PhotoVerdict::Pass {
                        pass += 1;
                    }
                    for f in &r.findings {
                        *codes.entry(f.code.as_str().to_string()).or_default() += 1;
                    }
                }
                Err(e) => {
                    *codes
                        .entry(format!("error:{}", error_json(name, &e)["error"]["code"]))
                        .or_default() += 1
                }
            }
        }
        out.insert(
            set.to_string(),
            json!({"images": total, "mrz_exact": exact, "pass": pass, "codes": codes}),
        );
    }
    Value::Object(out)
}

/// Labelled photos from another generator (`bench/photos.py`) or any folder with a
/// `manifest.json` of `{"photos": [{"file", "kind", "expected", "allowed", "mrz_lines"}]}`:
/// per kind, how many pass, the recall of each expected code, the false alarms (codes
/// neither expected nor allowed), how many MRZs were read exactly, and the time per check.
pub fn evaluate_labelled(ocr: &Ocr, dir: &Path, opts: &CheckOptions) -> Result<Value, String> {
    let manifest = dir.join("manifest.json");
    let bytes = std::fs::read(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let photos = v["photos"]
        .as_array()
        .ok_or_else(|| format!("{}: no `photos` array", manifest.display()))?;
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    #[derive(Default)]
    struct Kind {
        photos: u32,
        pass: u32,
        mrz_exact: u32,
        recall: BTreeMap<String, (u32, u32)>,
        false_alarms: BTreeMap<String, u32>,
        ms: Vec<f64>,
        misses: Vec<Value>,
    }
    let mut kinds: BTreeMap<String, Kind> = BTreeMap::new();
    for p in photos {
        let file = p["file"].as_str().ok_or("a photo without `file`")?;
        let kind = p["kind"].as_str().unwrap_or("unlabelled").to_string();
        let (expected, allowed, printed) = (
            strings(&p["expected"]),
            strings(&p["allowed"]),
            strings(&p["mrz_lines"]),
        );
        let bytes = std::fs::read(dir.join(file)).map_err(|e| format!("{file}: {e}"))?;
        let k = kinds.entry(kind).or_default();
        k.photos += 1;
        let started = std::time::Instant::now();
        let raised: Vec<String> = match check(&bytes, ocr, opts) {
            Ok(r) => {
                k.ms.push(started.elapsed().as_secs_f64() * 1000.0);
                if r.mrz.as_ref().is_some_and(|m| m.lines == printed) {
                    k.mrz_exact += 1;
                }
                if expected.is_empty() && r.verdict() == idgate_vision::check::PhotoVerdict::Pass {
                    k.pass += 1;
                }
                r.findings
                    .iter()
                    .map(|f| f.code.as_str().to_string())
                    .collect()
            }
            Err(e) => vec![format!("error:{}", error_json(file, &e)["error"]["code"])],
        };
        let mut wrong = false;
        for code in &expected {
            let c = k.recall.entry(code.clone()).or_default();
            c.1 += 1;
            if raised.contains(code) {
                c.0 += 1;
            } else {
                wrong = true;
            }
        }
        for code in &raised {
            if !expected.contains(code) && !allowed.contains(code) {
                *k.false_alarms.entry(code.clone()).or_default() += 1;
                wrong = true;
            }
        }
        if wrong {
            k.misses.push(json!({"file": file, "codes": raised}));
        }
    }
    let rate = |a: u32, b: u32| (f64::from(a) / f64::from(b.max(1)) * 1000.0).round() / 1000.0;
    let out: serde_json::Map<String, Value> = kinds
        .into_iter()
        .map(|(name, mut k)| {
            let median = crate::median(&mut k.ms);
            let max = k.ms.last().copied().unwrap_or(0.0);
            let clean = k.recall.is_empty();
            let mut v = json!({
                "photos": k.photos,
                "mrz_exact": k.mrz_exact,
                "recall": k.recall.iter().map(|(c, (hit, all))| (c.clone(), json!(rate(*hit, *all)))).collect::<serde_json::Map<_, _>>(),
                "false_alarms": k.false_alarms,
                "median_ms": median.round(),
                "max_ms": max.round(),
                "misses": k.misses,
            });
            if clean {
                v["pass_rate"] = json!(rate(k.pass, k.photos));
            }
            (name, v)
        })
        .collect();
    Ok(Value::Object(out))
}
