//! The `idgate` binary: glue over the library crates. Arguments are validated into a
//! `Config` before anything runs.

use clap::{Parser, Subcommand};
use idgate_server::config::{self, Layer};
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
        /// all (default), api (the HTTP API only) or worker (the workers and the webhook
        /// dispatcher, with only the health routes).
        #[arg(long)]
        role: Option<String>,
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
    /// Sanctions and PEP lists: import a file as a new version, show the versions.
    Lists {
        #[command(subcommand)]
        action: ListsAction,
    },
    /// Copy the database (consistently, while the service runs) and the encrypted blobs
    /// into a new directory. Never the master key, identity key or other secrets: keep
    /// those apart. SQLite and local blobs only (PostgreSQL: pg_dump).
    Backup { dest: PathBuf },
    /// Put a backup back into a new data directory, after its master key and identity.key
    /// were put there; every blob is opened before it is done.
    Restore { from: PathBuf },
    /// The master key: `keys rotate` puts a new one first in the key file and wraps every
    /// applicant's key again under it while the service runs (images are not encrypted
    /// again); resumable.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
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
enum KeysAction {
    /// A new master key first in the key file (inline keys: put the new one first
    /// yourself), every owner's key wrapped again under it. Safe to run again.
    Rotate {
        /// Carry on an interrupted rotation without adding another key.
        #[arg(long)]
        resume: bool,
        /// When nothing is left under older keys, remove them from the key file.
        #[arg(long)]
        retire: bool,
    },
}

#[derive(Subcommand)]
enum ListsAction {
    /// Import FILE as the next version of the list SOURCE (refused whole when malformed).
    Import {
        /// The list's name, e.g. ofac_sdn, un, eu, opensanctions, peps.
        #[arg(long)]
        source: String,
        /// ofac_csv, ofac_xml, un_xml, eu_csv, uk_csv, ftm_jsonl or csv.
        #[arg(long)]
        format: String,
        /// OFAC's alias file (default: alt.csv or cons_alt.csv beside FILE).
        #[arg(long)]
        alt: Option<PathBuf>,
        /// OFAC's comments file (default: sdn_comments.csv or cons_comments.csv beside FILE).
        #[arg(long)]
        comments: Option<PathBuf>,
        file: PathBuf,
    },
    /// Every imported version, newest first (JSON Lines).
    Show,
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
    use idgate_server::cli;
    let passed = match &cli.command {
        Command::Serve { workers, role } => {
            let extra: Vec<(&str, String)> = workers
                .iter()
                .map(|w| ("jobs.workers", w.to_string()))
                .chain(role.iter().map(|r| ("role", r.clone())))
                .collect();
            let cfg = load_config(&cli, &extra)?;
            init_logging(&cfg.log);
            runtime()?.block_on(idgate_server::serve(cfg))?;
            true
        }
        Command::Migrate => {
            let cfg = load_config(&cli, &[])?;
            init_logging(&cfg.log);
            runtime()?.block_on(idgate_server::open(&cfg))?;
            println!("migrations applied");
            true
        }
        Command::Healthcheck => {
            let cfg = load_config(&cli, &[])?;
            if let Err(e) = idgate_server::healthcheck(cfg.listen) {
                eprintln!("idgate: unhealthy: {e:#}");
                return Ok(ExitCode::FAILURE);
            }
            println!("ok");
            true
        }
        Command::Openapi => {
            let doc = idgate_server::http::openapi::document();
            println!("{}", serde_json::to_string_pretty(&doc)?);
            true
        }
        Command::Apikey { action } => {
            let cfg = load_config(&cli, &[])?;
            let rt = runtime()?;
            let (store, _) = rt.block_on(idgate_server::open(&cfg))?;
            match action {
                ApikeyAction::Create { name } => rt.block_on(cli::apikey::create(&store, name))?,
                ApikeyAction::Revoke { id } => rt.block_on(cli::apikey::revoke(&store, id))?,
            }
            true
        }
        Command::Lists { action } => {
            let cfg = load_config(&cli, &[])?;
            let rt = runtime()?;
            let (store, _) = rt.block_on(idgate_server::open(&cfg))?;
            match action {
                ListsAction::Import {
                    source,
                    format,
                    alt,
                    comments,
                    file,
                } => rt.block_on(cli::lists::import(
                    &store,
                    &cli::lists::Import {
                        source,
                        format,
                        file,
                        alt: alt.as_deref(),
                        comments: comments.as_deref(),
                    },
                ))?,
                ListsAction::Show => rt.block_on(cli::lists::show(&store))?,
            }
            rt.block_on(store.close());
            true
        }
        Command::Backup { dest } => {
            let cfg = load_config(&cli, &[])?;
            let rt = runtime()?;
            let (store, _) = rt.block_on(idgate_server::open(&cfg))?;
            let manifest = rt.block_on(cli::backup::backup(&cfg, &store, dest))?;
            println!("{manifest}");
            rt.block_on(store.close());
            true
        }
        Command::Keys {
            action: KeysAction::Rotate { resume, retire },
        } => {
            let cfg = load_config(&cli, &[])?;
            let rt = runtime()?;
            let (store, blobs) = rt.block_on(idgate_server::open(&cfg))?;
            let how = cli::keys::Rotate {
                resume: *resume,
                retire: *retire,
            };
            let done = rt.block_on(cli::keys::rotate(&store, &blobs, how))?;
            println!("{done}");
            rt.block_on(store.close());
            true
        }
        Command::Restore { from } => {
            let cfg = load_config(&cli, &[])?;
            println!("{}", runtime()?.block_on(cli::backup::restore(&cfg, from))?);
            true
        }
        Command::Mrz { jsonl } => cli::mrz::run(*jsonl)?,
        Command::Check {
            json,
            today,
            quick,
            models_dir,
            files,
        } => {
            let opts = cli::check::options(today.as_deref())?;
            let ocr = match (quick, models_dir) {
                (false, Some(dir)) => Some(idgate_vision::ocr::Ocr::load(dir)?),
                _ => None,
            };
            cli::check::run(files, *json, ocr.as_ref(), &opts)
        }
        Command::Verify {
            policy,
            lang,
            internal,
            now_ms,
            models_dir,
            application,
        } => {
            let cfg = load_config(&cli, &[])?;
            let args = cli::verify::Args {
                policy: policy.as_deref(),
                lang,
                internal: *internal,
                now_ms: *now_ms,
                models_dir,
                application,
            };
            cli::verify::run(&cfg, &args, &runtime()?)?
        }
        Command::Face {
            action:
                FaceAction::Compare {
                    json,
                    models_dir,
                    image_a,
                    image_b,
                },
        } => cli::face::run_compare(models_dir, image_a, image_b, *json)?,
        Command::Face {
            action:
                FaceAction::Liveness {
                    actions,
                    interval_ms,
                    models_dir,
                    frames,
                },
        } => cli::face::run_liveness(models_dir, frames, actions, *interval_ms)?,
    };
    // Exit status 2: the command ran and its subject did not pass.
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
