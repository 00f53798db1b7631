//! `idgate-eval`: the evaluation commands, in their own binary so the service binary
//! (`idgate`) carries neither them nor the specimen generator. `scripts/bench-photos`, the
//! tests and docs/benchmarks.md run them.

mod console;
mod faces;
mod liveness;
mod load;
mod photos;
mod screening;
mod watchman;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "idgate-eval",
    version,
    about = "Measure idgate's checks on labelled data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure the photo checks: precision and recall per reason code on generated
    /// specimens, clean pass rate and MRZ exactness; with --testdata, also the shared real
    /// photos.
    Photos {
        /// Specimens per defect (and clean controls).
        #[arg(long, default_value_t = 20)]
        per_defect: u64,
        /// First generator seed.
        #[arg(long, default_value_t = 1000)]
        seed: u64,
        #[arg(long)]
        testdata: Option<PathBuf>,
        /// Also a folder of labelled photos from another generator (`bench/photos.py`,
        /// with its manifest.json); repeatable. `--per-defect 0` skips the generated ones.
        #[arg(long = "photos")]
        photos: Vec<PathBuf>,
        /// Write the generated specimens here (to look at them).
        #[arg(long)]
        write_specimens: Option<PathBuf>,
        /// Size of the generated photos, WIDTHxHEIGHT: 4000x3000 takes the checks through
        /// the DCT-scaled decoding a 12 MP phone photo gets.
        #[arg(long, default_value = "1600x1200", value_parser = parse_size)]
        size: (u32, u32),
        /// Only these kinds of specimen (clean, glare, expired, ...; repeatable); all
        /// when not given.
        #[arg(long = "defect", value_parser = parse_defect)]
        defects: Vec<idgate_specimen::Defect>,
        #[arg(long, env = "IDGATE_MODELS_DIR")]
        models_dir: PathBuf,
    },
    /// Measure face matching, face counts, occlusion and liveness on the shared labelled
    /// face photos (and synthetic variants of them).
    Faces {
        #[arg(long, env = "IDGATE_TESTDATA")]
        testdata: PathBuf,
        #[arg(long, env = "IDGATE_MODELS_DIR")]
        models_dir: PathBuf,
    },
    /// Measure sanctions and PEP screening on the shared list snapshots and labelled
    /// queries: recall as listed and with typing changes, false positives, time.
    /// The reviewer console's server time with many cases: the queue, a filtered queue, a
    /// case and a document image, against a baseline of 100 cases in the same run.
    Console {
        /// Cases to seed (40 % of them in review).
        #[arg(long, default_value_t = 10_000)]
        cases: usize,
        /// A PostgreSQL URL (a fresh database: the cases are added to it); SQLite in a
        /// temporary folder when not given.
        #[arg(long)]
        database: Option<String>,
        /// Requests per route.
        #[arg(long, default_value_t = 100)]
        requests: usize,
        /// The document image every case holds (a JPEG).
        #[arg(long)]
        image: PathBuf,
    },
    /// The service under load: whole applications driven through the real `idgate serve`
    /// (beside this binary) with several at once, the routes without image work timed
    /// meanwhile, then many large uploads at once and the service's peak memory.
    Load {
        #[arg(long, env = "IDGATE_TESTDATA")]
        testdata: PathBuf,
        #[arg(long, env = "IDGATE_MODELS_DIR")]
        models_dir: PathBuf,
        /// A PostgreSQL URL for the service; SQLite in its temporary data directory when not
        /// given.
        #[arg(long)]
        database: Option<String>,
        /// With --database: a new schema of that database for this run.
        #[arg(long)]
        fresh_schema: bool,
        /// Whole applications to drive.
        #[arg(long, default_value_t = 40)]
        applications: usize,
        /// Applications in flight at once.
        #[arg(long, default_value_t = 6)]
        concurrency: usize,
        /// Large uploads sent at once, each to its own case.
        #[arg(long, default_value_t = 50)]
        uploads: usize,
        /// Size of each large upload.
        #[arg(long, default_value_t = 15_000_000)]
        upload_bytes: usize,
    },
    Screening {
        #[arg(long, env = "IDGATE_TESTDATA")]
        testdata: PathBuf,
        /// Match threshold instead of the default's (repeatable: one run each).
        #[arg(long = "threshold")]
        thresholds: Vec<f64>,
        /// Candidates scored per name instead of the default's (repeatable: one run each).
        #[arg(long = "candidates")]
        candidates: Vec<usize>,
        /// Also write the entities and every labelled query as JSON lines into this
        /// folder, for a peer to screen the same (bench/screening_peer.py).
        #[arg(long)]
        export: Option<PathBuf>,
        /// Instead, measure how time grows with the lists: grow them to this many entities
        /// (repeatable; the real lists' size is the baseline) with made-up people built
        /// from the listed names' words.
        #[arg(long = "grow")]
        grow: Vec<usize>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("idgate-eval: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Photos {
            per_defect,
            seed,
            testdata,
            photos,
            write_specimens,
            size,
            defects,
            models_dir,
        } => {
            // The specimens' validity is judged on a fixed day, so runs compare.
            let today = idgate_mrz::Date::parse_iso("2026-11-24").context("the fixed day")?;
            let opts = idgate_vision::check::CheckOptions::new(today);
            let defects = if defects.is_empty() {
                idgate_specimen::Defect::ALL
            } else {
                defects.as_slice()
            };
            let fonts = idgate_specimen::Fonts::system()?;
            if let Some(dir) = write_specimens {
                std::fs::create_dir_all(dir)?;
                let gen = idgate_specimen::Options {
                    width: size.0,
                    height: size.1,
                    today: opts.today,
                };
                for &d in defects {
                    for s in *seed..*seed + *per_defect {
                        let sp = idgate_specimen::generate(&fonts, d, s, &gen);
                        std::fs::write(dir.join(sp.file_name(s)), &sp.bytes)?;
                    }
                }
            }
            let ocr = idgate_vision::ocr::Ocr::load(models_dir)?;
            let ev = photos::evaluate(&ocr, &fonts, defects, *per_defect, *seed, *size, &opts);
            let mut out = serde_json::json!({"generated": ev.to_json()});
            if let Some(dir) = testdata {
                out["real"] = photos::evaluate_real(&ocr, dir, &opts);
            }
            for dir in photos {
                let labelled = photos::evaluate_labelled(&ocr, dir, &opts)
                    .map_err(|e| anyhow::anyhow!("--photos {e}"))?;
                out["photos"][dir.display().to_string()] = labelled;
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Command::Faces {
            testdata,
            models_dir,
        } => {
            let models = idgate_face::FaceModels::load(models_dir)?;
            let out = faces::evaluate(&models, testdata)?;
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Command::Console {
            cases,
            database,
            requests,
            image,
        } => {
            let bytes =
                std::fs::read(image).with_context(|| format!("reading {}", image.display()))?;
            let out = console::evaluate(database.as_deref(), *cases, *requests, &bytes)?;
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Command::Load {
            testdata,
            models_dir,
            database,
            fresh_schema,
            applications,
            concurrency,
            uploads,
            upload_bytes,
        } => {
            let database = match (database, fresh_schema) {
                (Some(url), true) => Some(load::fresh_schema(url)?),
                (url, _) => url.clone(),
            };
            let out = load::run(&load::Load {
                testdata,
                models_dir,
                database: database.as_deref(),
                applications: *applications,
                concurrency: *concurrency,
                uploads: *uploads,
                upload_bytes: *upload_bytes,
            })?;
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Command::Screening {
            testdata,
            thresholds,
            candidates,
            export,
            grow,
        } => {
            if !grow.is_empty() {
                // One run per number of candidates asked for (the default's when none).
                let default = idgate_screen::Settings::default();
                let mut runs = Vec::new();
                for c in candidates
                    .iter()
                    .copied()
                    .chain(candidates.is_empty().then_some(default.candidates))
                {
                    let s = idgate_screen::Settings {
                        candidates: c,
                        ..default.clone()
                    };
                    runs.push(screening::growth(testdata, &s, grow)?);
                }
                println!("{}", serde_json::to_string_pretty(&runs)?);
                return Ok(());
            }
            if let Some(dir) = export {
                screening::export(testdata, dir)?;
            }
            let default = idgate_screen::Settings::default();
            let mut runs = vec![default.clone()];
            runs.extend(thresholds.iter().map(|&t| idgate_screen::Settings {
                threshold: t,
                ..default.clone()
            }));
            runs.extend(candidates.iter().map(|&c| idgate_screen::Settings {
                candidates: c,
                ..default.clone()
            }));
            let out: Vec<serde_json::Value> = runs
                .iter()
                .map(|s| screening::evaluate(testdata, s))
                .collect::<anyhow::Result<_>>()?;
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
    }
    Ok(())
}

/// A memory figure (`VmRSS`, `VmHWM`) of process `pid` (or `self`) from Linux's
/// `/proc/PID/status`, in MB; 0 elsewhere.
fn status_mb(pid: &str, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| (kb / 1024.0).round())
}

/// The middle value of `v` (sorted in place: its last value is then the largest); 0 when
/// empty. Every evaluation reports medians this way.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// A specimen kind by its name (`clean`, `glare`, ...).
fn parse_defect(s: &str) -> Result<idgate_specimen::Defect, String> {
    idgate_specimen::Defect::parse(s).ok_or_else(|| {
        let names: Vec<&str> = idgate_specimen::Defect::ALL
            .iter()
            .map(|d| d.name())
            .collect();
        format!("unknown specimen kind {s:?}; one of {}", names.join(", "))
    })
}

/// `WIDTHxHEIGHT`, each 64 to 8000 pixels.
fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once('x')
        .ok_or_else(|| format!("{s:?} is not WIDTHxHEIGHT"))?;
    let side = |v: &str| {
        v.parse::<u32>()
            .ok()
            .filter(|n| (64..=8000).contains(n))
            .ok_or_else(|| format!("{v:?} is not a side of 64 to 8000 pixels"))
    };
    Ok((side(w)?, side(h)?))
}
