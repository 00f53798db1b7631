//! The `idgate` binary: glue over the library crates. Arguments are validated into a
//! `Config` before anything runs.

use anyhow::Context;
use clap::{Parser, Subcommand};
use idgate_server::config::{self, Layer};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "idgate",
    version,
    about = "Self-hostable identity verification (KYC/KYB)"
)]
struct Cli {
    /// TOML configuration file (also IDGATE_CONFIG).
    #[arg(long, global = true, env = "IDGATE_CONFIG")]
    config: Option<PathBuf>,
    /// Directory for the SQLite database, encrypted blobs, master key and API key.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Address to listen on (serve) or to check (healthcheck).
    #[arg(long, global = true)]
    listen: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API and the workers.
    Serve {
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Exit 0 if the server at --listen answers /healthz.
    Healthcheck,
    /// Print the OpenAPI document.
    Openapi,
    /// Manage API keys.
    Apikey {
        #[command(subcommand)]
        action: ApikeyAction,
    },
    /// Read MRZ lines from stdin and report every field and check.
    Mrz {
        /// Input: JSON Lines {"id", "mrz"}; output: one JSON object per line.
        #[arg(long)]
        jsonl: bool,
    },
    /// Check document photos: quality, originality, document outline, MRZ, expiry.
    /// Exit status 2 when any file does not pass.
    Check {
        /// One JSON object per file on its own line.
        #[arg(long)]
        json: bool,
        /// Judge expiry as of this day (YYYY-MM-DD) instead of today.
        #[arg(long)]
        today: Option<String>,
        /// Only the instant photo-quality gate that `POST /v1/precheck` runs: every check
        /// but the MRZ, on a reduced decode, without loading the OCR models.
        #[arg(long)]
        quick: bool,
        /// Directory with the OCR models (scripts/lib.sh unpacks them); not needed with
        /// --quick.
        #[arg(long, env = "IDGATE_MODELS_DIR", required_unless_present = "quick")]
        models_dir: Option<PathBuf>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Decide one application offline with the service's pipeline: the application is
    /// stored as a submitted case in the configured store (by default --data-dir's, the one
    /// `serve` uses) and decided as a worker would; duplicates, attempts and verified steps
    /// persist between calls.
    /// Prints {"decision", "reasons", "level", "retry_after"?}; exit status 2 unless approved.
    Verify {
        /// Policy overrides (TOML) merged over the shipped defaults.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Language of messages and fixes: en or zh-Hans.
        #[arg(long, default_value = "en")]
        lang: String,
        /// Include reviewer-only detail (may contain personal data).
        #[arg(long)]
        internal: bool,
        /// Decide as of this time (Unix milliseconds) instead of now: replays and tests.
        #[arg(long)]
        now_ms: Option<i64>,
        #[arg(long, env = "IDGATE_MODELS_DIR")]
        models_dir: PathBuf,
        application: PathBuf,
    },
    /// Face detection, comparison and liveness on files.
    Face {
        #[command(subcommand)]
        action: FaceAction,
    },
}

#[derive(Subcommand)]
enum FaceAction {
    /// Compare the largest face of two images: prints {"faces_a", "faces_b", "similarity",
    /// "distance", "same_person", "threshold"}. Exit status 2 unless the same person.
    Compare {
        /// One JSON object (the default prints the same fields as text).
        #[arg(long)]
        json: bool,
        /// Directory with the face models (scripts/lib.sh unpacks them).
        #[arg(long, env = "IDGATE_MODELS_DIR")]
        models_dir: PathBuf,
        image_a: PathBuf,
        image_b: PathBuf,
    },
    /// Judge a liveness sequence: the image files of a folder, in name order, as frames
    /// --interval-ms apart, against the challenge's movements. Exit status 2 unless it passes.
    Liveness {
        /// Movements in order, comma-separated: turn_left, turn_right, blink.
        #[arg(long, value_delimiter = ',', required = true)]
        actions: Vec<String>,
        #[arg(long, default_value_t = 250)]
        interval_ms: i64,
        #[arg(long, env = "IDGATE_MODELS_DIR")]
        models_dir: PathBuf,
        frames: PathBuf,
    },
}

#[derive(Subcommand)]
enum ApikeyAction {
    /// Create a key and print it once.
    Create {
        #[arg(long)]
        name: String,
    },
    /// Revoke a key by id.
    Revoke { id: String },
}

fn load_config(cli: &Cli, extra: &[(&str, String)]) -> anyhow::Result<config::Config> {
    let mut layers = Vec::new();
    if let Some(path) = &cli.config {
        layers.push(config::toml_layer(path)?);
    }
    layers.push(config::env_layer(std::env::vars()));
    let mut flags = Layer::new();
    if let Some(d) = &cli.data_dir {
        flags.insert("data_dir".into(), d.display().to_string());
    }
    if let Some(u) = &cli.database_url {
        flags.insert("database_url".into(), u.clone());
    }
    if let Some(l) = &cli.listen {
        flags.insert("listen".into(), l.clone());
    }
    for (k, v) in extra {
        flags.insert((*k).into(), v.clone());
    }
    layers.push(flags);
    Ok(config::resolve(&layers)?)
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level).unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("idgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Serve { workers } => {
            let extra: Vec<(&str, String)> = workers
                .iter()
                .map(|w| ("jobs.workers", w.to_string()))
                .collect();
            let cfg = load_config(&cli, &extra)?;
            init_logging(&cfg.log);
            runtime()?.block_on(idgate_server::serve(cfg))?;
        }
        Command::Migrate => {
            let cfg = load_config(&cli, &[])?;
            init_logging(&cfg.log);
            runtime()?.block_on(idgate_server::open(&cfg))?;
            println!("migrations applied");
        }
        Command::Healthcheck => {
            let cfg = load_config(&cli, &[])?;
            if let Err(e) = idgate_server::healthcheck(cfg.listen) {
                eprintln!("idgate: unhealthy: {e:#}");
                return Ok(ExitCode::FAILURE);
            }
            println!("ok");
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&idgate_server::openapi::document())?
            );
        }
        Command::Apikey { action } => {
            let cfg = load_config(&cli, &[])?;
            let rt = runtime()?;
            let (store, _) = rt.block_on(idgate_server::open(&cfg))?;
            match action {
                ApikeyAction::Create { name } => {
                    let key = idgate_server::api::generate_api_key();
                    let k = rt.block_on(
                        store.create_api_key(name, &idgate_server::api::hash_api_key(&key)),
                    )?;
                    eprintln!(
                        "created API key {} ({}); it is shown only once:",
                        k.id, k.name
                    );
                    println!("{key}");
                }
                ApikeyAction::Revoke { id } => {
                    anyhow::ensure!(
                        rt.block_on(store.revoke_api_key(id))?,
                        "no active API key with id {id}"
                    );
                    println!("revoked");
                }
            }
        }
        Command::Mrz { jsonl } => {
            let opts = idgate_mrz::ParseOptions {
                today: idgate_server::mrz_cli::today(),
            };
            let stdin = std::io::stdin();
            if *jsonl {
                idgate_server::mrz_cli::run_jsonl(stdin.lock(), std::io::stdout().lock(), &opts)?;
            } else {
                let mut text = String::new();
                stdin
                    .lock()
                    .read_to_string(&mut text)
                    .context("reading stdin")?;
                let (report, valid) = idgate_server::mrz_cli::report(&text, &opts);
                print!("{report}");
                if !valid {
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Command::Check {
            json,
            today,
            quick,
            models_dir,
            files,
        } => {
            let opts = check_options(today.as_deref())?;
            let ocr = match (quick, models_dir) {
                (false, Some(dir)) => Some(idgate_vision::ocr::Ocr::load(dir)?),
                _ => None,
            };
            let mut all_pass = true;
            for file in files {
                let name = file.display().to_string();
                use idgate_server::check_cli::{
                    error_json, read_error_json, report_json, report_text,
                };
                let bytes = match std::fs::read(file) {
                    Ok(b) => b,
                    Err(e) => {
                        // One missing file does not stop the others from being checked.
                        all_pass = false;
                        if *json {
                            println!("{}", read_error_json(&name, &e));
                        } else {
                            println!("{name}: error: cannot read the file: {e}");
                        }
                        continue;
                    }
                };
                let result = match &ocr {
                    Some(ocr) => idgate_vision::check::check(&bytes, ocr, &opts),
                    None => idgate_vision::check::gate(&bytes, &opts),
                };
                match result {
                    Ok(report) => {
                        all_pass &= report.verdict() == idgate_vision::check::PhotoVerdict::Pass;
                        if *json {
                            println!("{}", report_json(&name, &report));
                        } else {
                            print!("{}", report_text(&name, &report));
                        }
                    }
                    Err(e) => {
                        all_pass = false;
                        if *json {
                            println!("{}", error_json(&name, &e));
                        } else {
                            println!("{name}: error: {e}");
                        }
                    }
                }
            }
            if !all_pass {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Verify {
            policy,
            lang,
            internal,
            now_ms,
            models_dir,
            application,
        } => {
            use idgate_server::verify_cli;
            let cfg = load_config(&cli, &[])?;
            let policy =
                idgate_server::read_policy(policy.as_deref().or(cfg.policy_file.as_deref()))?;
            let (file, _) = verify_cli::read_application(application)?;
            let files = verify_cli::read_files(&file)?;
            let clock: std::sync::Arc<dyn idgate_core::Clock> = match now_ms {
                Some(ms) => std::sync::Arc::new(idgate_core::FixedClock::new(*ms)),
                None => std::sync::Arc::new(idgate_core::SystemClock),
            };
            let models = std::sync::Arc::new(idgate_pipeline::Models::new(models_dir.clone()));
            // Missing models are an error before anything is stored.
            models.ocr()?;
            models.face_models()?;
            let rt = runtime()?;
            let (store, blobs) = rt.block_on(idgate_server::open_with_clock(&cfg, clock))?;
            let secret = verify_cli::load_or_create_secret(&cfg.data_dir.join("identity.key"))?;
            let mut check = idgate_vision::check::CheckOptions::new(
                idgate_mrz::Date::from_unix_days(store.now().div_euclid(86_400_000)),
            );
            check.limits = cfg.limits.input();
            let v = verify_cli::Verifier {
                policy: &policy,
                store: &store,
                blobs: &blobs,
                secret: &secret,
                models,
                check,
            };
            let decided = rt.block_on(verify_cli::verify(&v, &file, files))?;
            let lang = idgate_core::Lang::from_tag(lang);
            let after = decided.verified_after();
            println!(
                "{}",
                verify_cli::verdict_json(&policy, &decided.verdict, &after, lang, *internal)
            );
            rt.block_on(store.close());
            if decided.verdict.outcome != idgate_decide::Outcome::Approved {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Face { action } => return face_command(action),
    }
    Ok(ExitCode::SUCCESS)
}

fn check_options(today: Option<&str>) -> anyhow::Result<idgate_vision::check::CheckOptions> {
    let today = match today {
        Some(s) => idgate_mrz::Date::parse_iso(s)
            .with_context(|| format!("--today {s:?} is not YYYY-MM-DD"))?,
        None => idgate_server::mrz_cli::today(),
    };
    Ok(idgate_vision::check::CheckOptions::new(today))
}

fn face_command(action: &FaceAction) -> anyhow::Result<ExitCode> {
    use idgate_server::face_cli;
    match action {
        FaceAction::Compare {
            json,
            models_dir,
            image_a,
            image_b,
        } => {
            let models = idgate_face::FaceModels::load(models_dir)?;
            let out = face_cli::compare(&models, image_a, image_b)?;
            if *json {
                println!("{out}");
            } else {
                for (k, v) in out.as_object().into_iter().flatten() {
                    println!("{k}: {v}");
                }
            }
            Ok(exit_unless(
                out["same_person"] == serde_json::Value::Bool(true),
            ))
        }
        FaceAction::Liveness {
            actions,
            interval_ms,
            models_dir,
            frames,
        } => {
            let actions = actions
                .iter()
                .map(|a| {
                    idgate_face::liveness::Action::parse(a).ok_or_else(|| {
                        anyhow::anyhow!("unknown movement {a:?}: turn_left, turn_right or blink")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let models = idgate_face::FaceModels::load(models_dir)?;
            let out = face_cli::liveness_dir(&models, frames, &actions, *interval_ms)?;
            println!("{out}");
            Ok(exit_unless(out["passed"] == serde_json::Value::Bool(true)))
        }
    }
}

fn exit_unless(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
