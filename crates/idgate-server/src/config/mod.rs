//! Layered configuration: defaults → TOML file → `IDGATE_*` environment → flags.
//!
//! Every layer is a map from dotted keys (`jobs.lease_secs`) to text; later layers win.
//! Secrets may instead be given as a file path under the same key with `_file` appended
//! (`database_url_file`, `IDGATE_S3_SECRET_ACCESS_KEY_FILE`). The merged map is validated
//! once into a typed [`Config`], which is passed explicitly; nothing reads the
//! environment after that.

mod limits;
mod lists;
mod role;
pub use limits::{Limits, UPLOADS_AT_ONCE};
pub use lists::{valid_source, ListFeed, ListRefresh};
pub use role::Role;

use idgate_store::S3Config;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// (dotted key, environment variable, may come from a `_file`)
const KEYS: &[(&str, &str, bool)] = &[
    ("listen", "IDGATE_LISTEN", false),
    // What this process runs: `all` (the HTTP API and the workers), `api` (the API only) or
    // `worker` (the workers and the webhook dispatcher, with only the health routes on
    // `listen`). Several processes share one database and one object store.
    ("role", "IDGATE_ROLE", false),
    ("data_dir", "IDGATE_DATA_DIR", false),
    ("database_url", "IDGATE_DATABASE_URL", true),
    // A hex key given directly (`IDGATE_MASTER_KEY`), or a key file (`master_key_file`,
    // `IDGATE_MASTER_KEY_FILE`) that the embedded default creates on first start.
    ("master_key", "IDGATE_MASTER_KEY", true),
    ("log", "IDGATE_LOG", false),
    // Verification policy overrides (TOML) merged over idgate-decide's shipped defaults.
    ("policy_file", "IDGATE_POLICY_FILE", false),
    // OCR models (scripts/lib.sh unpacks them from the rapidocr-onnxruntime wheel).
    ("models_dir", "IDGATE_MODELS_DIR", false),
    // Webhooks to the platform: every status change is POSTed to `webhook.url`, signed
    // with HMAC-SHA256 under `webhook.secret` (created in <data_dir>/webhook-secret if unset).
    ("webhook.url", "IDGATE_WEBHOOK_URL", false),
    ("webhook.secret", "IDGATE_WEBHOOK_SECRET", true),
    ("webhook.max_attempts", "IDGATE_WEBHOOK_MAX_ATTEMPTS", false),
    (
        "webhook.retry_base_ms",
        "IDGATE_WEBHOOK_RETRY_BASE_MS",
        false,
    ),
    ("webhook.timeout_secs", "IDGATE_WEBHOOK_TIMEOUT_SECS", false),
    ("storage.kind", "IDGATE_STORAGE_KIND", false),
    ("storage.dir", "IDGATE_STORAGE_DIR", false),
    ("s3.bucket", "IDGATE_S3_BUCKET", false),
    ("s3.endpoint", "IDGATE_S3_ENDPOINT", false),
    ("s3.region", "IDGATE_S3_REGION", false),
    ("s3.access_key_id", "IDGATE_S3_ACCESS_KEY_ID", true),
    ("s3.secret_access_key", "IDGATE_S3_SECRET_ACCESS_KEY", true),
    ("s3.prefix", "IDGATE_S3_PREFIX", false),
    ("limits.max_upload_bytes", "IDGATE_MAX_UPLOAD_BYTES", false),
    ("limits.max_pixels", "IDGATE_MAX_PIXELS", false),
    ("limits.uploads_at_once", "IDGATE_UPLOADS_AT_ONCE", false),
    // Requests a minute per API key and per applicant session (0: no limit); over it the
    // answer is 429 with Retry-After. Counted in each API process.
    (
        "limits.api_key_per_minute",
        "IDGATE_API_KEY_PER_MINUTE",
        false,
    ),
    (
        "limits.session_per_minute",
        "IDGATE_SESSION_PER_MINUTE",
        false,
    ),
    // Sanctions and PEP lists fetched by the worker processes: `SOURCE FORMAT URL` entries
    // separated by `;`, every `lists.refresh_secs` (a day). Nothing is fetched unless set.
    ("lists.refresh", "IDGATE_LISTS_REFRESH", false),
    ("lists.refresh_secs", "IDGATE_LISTS_REFRESH_SECS", false),
    ("jobs.workers", "IDGATE_WORKERS", false),
    ("jobs.lease_secs", "IDGATE_JOB_LEASE_SECS", false),
    ("jobs.max_attempts", "IDGATE_JOB_MAX_ATTEMPTS", false),
    ("jobs.debug_delay_ms", "IDGATE_JOB_DEBUG_DELAY_MS", false),
    // The applicant's hosted flow: how long a session lasts, the address its links start
    // with (default http://<listen>), and the origins that may embed it and hear its events
    // (comma-separated; none by default, so the page may not be framed). A page following
    // its case hears of this process's changes at once and reads the case again every
    // `recheck_secs` for another process's.
    ("flow.session_ttl_secs", "IDGATE_SESSION_TTL_SECS", false),
    ("flow.recheck_secs", "IDGATE_FLOW_RECHECK_SECS", false),
    ("flow.public_url", "IDGATE_PUBLIC_URL", false),
    ("flow.embed_origins", "IDGATE_EMBED_ORIGINS", false),
    // The reviewer console: a session ends after this long without a request, and after
    // this long in all; a FINAL rejection or an admin action needs the password and second
    // factor proved this recently; an invitation link lasts this long; the cookie is
    // `Secure` when the public address is https (or when set to true).
    (
        "console.idle_timeout_secs",
        "IDGATE_CONSOLE_IDLE_TIMEOUT_SECS",
        false,
    ),
    (
        "console.max_session_secs",
        "IDGATE_CONSOLE_MAX_SESSION_SECS",
        false,
    ),
    (
        "console.fresh_auth_secs",
        "IDGATE_CONSOLE_FRESH_AUTH_SECS",
        false,
    ),
    (
        "console.invite_ttl_secs",
        "IDGATE_CONSOLE_INVITE_TTL_SECS",
        false,
    ),
    (
        "console.secure_cookie",
        "IDGATE_CONSOLE_SECURE_COOKIE",
        false,
    ),
    // The reverse proxies in front of the service (comma-separated IP addresses): behind
    // one of them the client's address is taken from `X-Forwarded-For`, for the sign-in
    // throttling per address and the security log. None by default: the socket's address.
    (
        "console.trusted_proxies",
        "IDGATE_CONSOLE_TRUSTED_PROXIES",
        false,
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("unknown configuration key `{0}`")]
    UnknownKey(String),
    #[error("invalid value for `{key}`: {message}")]
    Invalid { key: String, message: String },
    #[error("`{0}` is required when storage.kind = \"s3\"")]
    Missing(&'static str),
}

/// A string that must not be printed (URLs with passwords, secret keys).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// Where the blob master key comes from.
#[derive(Clone, Debug)]
pub enum MasterKeySource {
    /// 64 hex characters from config or `IDGATE_MASTER_KEY`.
    Inline(Secret),
    /// A key file; created with a fresh random key (0600) if missing.
    File(PathBuf),
}

#[derive(Clone, Debug)]
pub enum Storage {
    Local { dir: PathBuf },
    S3(S3Config),
}

#[derive(Clone, Debug)]
pub struct Jobs {
    pub workers: usize,
    pub lease_secs: u64,
    pub max_attempts: i64,
    /// Fault injection for crash tests: a worker waits this long before processing.
    pub debug_delay_ms: u64,
}

/// The applicant's hosted flow (`/flow`).
#[derive(Clone, Debug)]
pub struct Flow {
    pub session_ttl_secs: u64,
    /// How often a page's event stream reads its case again, for changes made by another
    /// process (this process's own are announced at once).
    pub recheck_secs: u64,
    /// What a session's link starts with, without a trailing slash.
    pub public_url: String,
    /// Origins (`https://app.example.com`) that may frame the flow and receive its
    /// `postMessage` events.
    pub embed_origins: Vec<String>,
}

impl Flow {
    /// The defaults for a service listening on `listen`.
    pub fn for_listen(listen: SocketAddr) -> Flow {
        Flow {
            session_ttl_secs: 1800,
            recheck_secs: 2,
            public_url: format!("http://{listen}"),
            embed_origins: Vec::new(),
        }
    }
}

/// The reviewer console's sign-in and sessions.
#[derive(Clone, Debug)]
pub struct Console {
    pub idle_timeout_secs: u64,
    pub max_session_secs: u64,
    pub fresh_auth_secs: u64,
    pub invite_ttl_secs: u64,
    pub secure_cookie: bool,
    /// Failed sign-ins per account name and per client address within the window before
    /// further attempts are refused (429) until the oldest failure leaves it.
    pub max_failures_per_account: i64,
    pub max_failures_per_address: i64,
    pub failure_window_secs: u64,
    /// Reverse proxies whose `X-Forwarded-For` tells the client's address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Console {
    /// The defaults for a service whose public address is `public_url`.
    pub fn for_public_url(public_url: &str) -> Console {
        Console {
            idle_timeout_secs: 1800,
            max_session_secs: 12 * 3600,
            fresh_auth_secs: 300,
            invite_ttl_secs: 72 * 3600,
            secure_cookie: public_url.starts_with("https://"),
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            failure_window_secs: 900,
            trusted_proxies: Vec::new(),
        }
    }
}

/// A web origin as a browser sends it: scheme, host and an optional port, nothing else.
fn origin(key: &str, v: &str) -> Result<String, ConfigError> {
    let bad = |m: &str| ConfigError::Invalid {
        key: key.into(),
        message: format!("`{v}`: {m}"),
    };
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .ok_or_else(|| bad("must start with http:// or https://"))?;
    if rest.is_empty()
        || !rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return Err(bad("an origin is scheme://host[:port], without a path"));
    }
    Ok(v.to_string())
}

#[derive(Clone, Debug)]
pub struct Webhook {
    pub url: String,
    /// `None`: the secret file in the data directory (created on first start).
    pub secret: Option<Secret>,
    pub max_attempts: i64,
    /// First retry after this long; each further one waits twice as long (at most 1 h).
    pub retry_base_ms: i64,
    pub timeout_secs: u64,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub role: Role,
    pub data_dir: PathBuf,
    pub database_url: Secret,
    pub master_key: MasterKeySource,
    pub log: String,
    pub storage: Storage,
    pub limits: Limits,
    pub lists: ListRefresh,
    pub jobs: Jobs,
    pub policy_file: Option<PathBuf>,
    pub models_dir: PathBuf,
    pub webhook: Option<Webhook>,
    pub flow: Flow,
    pub console: Console,
}

pub type Layer = BTreeMap<String, String>;

/// Reads a TOML file into a layer; tables become dotted prefixes.
pub fn toml_layer(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.into(),
        source,
    })?;
    let value: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Toml {
            path: path.into(),
            message: e.message().into(),
        })?;
    let mut layer = Layer::new();
    flatten("", &toml::Value::Table(value), &mut layer);
    Ok(layer)
}

fn flatten(prefix: &str, v: &toml::Value, out: &mut Layer) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.into(), s.clone());
        }
        other => {
            out.insert(prefix.into(), other.to_string());
        }
    }
}

/// The `IDGATE_*` variables present in `vars`.
pub fn env_layer(vars: impl IntoIterator<Item = (String, String)>) -> Layer {
    let vars: BTreeMap<String, String> = vars.into_iter().collect();
    let mut layer = Layer::new();
    for (key, env, secret) in KEYS {
        if let Some(v) = vars.get(*env) {
            layer.insert((*key).into(), v.clone());
        }
        if *secret {
            if let Some(v) = vars.get(&format!("{env}_FILE")) {
                layer.insert(format!("{key}_file"), v.clone());
            }
        }
    }
    layer
}

/// Merges layers (later wins; a value and its `_file` form replace each other) and
/// validates the result.
pub fn resolve(layers: &[Layer]) -> Result<Config, ConfigError> {
    let mut merged = Layer::new();
    for layer in layers {
        for (k, v) in layer {
            if let Some(base) = k.strip_suffix("_file").filter(|b| is_secret(b)) {
                merged.remove(base);
            } else {
                merged.remove(&format!("{k}_file"));
            }
            merged.insert(k.clone(), v.clone());
        }
    }
    for k in merged.keys() {
        let base = k
            .strip_suffix("_file")
            .filter(|b| is_secret(b))
            .unwrap_or(k);
        if !KEYS.iter().any(|(key, _, _)| *key == base) {
            return Err(ConfigError::UnknownKey(k.clone()));
        }
    }
    let get = |key: &str| -> Result<Option<String>, ConfigError> {
        if let Some(v) = merged.get(key) {
            return Ok(Some(v.clone()));
        }
        match merged.get(&format!("{key}_file")) {
            Some(path) => std::fs::read_to_string(path)
                .map(|s| Some(s.trim_end_matches(['\n', '\r']).to_string()))
                .map_err(|source| ConfigError::Read {
                    path: path.into(),
                    source,
                }),
            None => Ok(None),
        }
    };
    let data_dir = PathBuf::from(get("data_dir")?.unwrap_or_else(|| "data".into()));
    let listen = parse(
        "listen",
        get("listen")?,
        SocketAddr::from(([127, 0, 0, 1], 8080)),
    )?;
    let database_url = get("database_url")?
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("idgate.db").display()));
    if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
        return Err(ConfigError::Invalid {
            key: "database_url".into(),
            message: "must start with sqlite:// or postgres://".into(),
        });
    }
    // Not `get`: the key file may not exist yet and is then created, not read here.
    let master_key = match (merged.get("master_key"), merged.get("master_key_file")) {
        (Some(hex), _) => MasterKeySource::Inline(Secret(hex.clone())),
        (None, Some(path)) => MasterKeySource::File(PathBuf::from(path)),
        (None, None) => MasterKeySource::File(data_dir.join("master.key")),
    };
    let storage = match get("storage.kind")?.as_deref().unwrap_or("local") {
        "local" => Storage::Local {
            dir: get("storage.dir")?
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("blobs")),
        },
        "s3" => Storage::S3(S3Config {
            bucket: get("s3.bucket")?.ok_or(ConfigError::Missing("s3.bucket"))?,
            endpoint: get("s3.endpoint")?,
            region: get("s3.region")?.unwrap_or_else(|| "us-east-1".into()),
            access_key_id: get("s3.access_key_id")?
                .ok_or(ConfigError::Missing("s3.access_key_id"))?,
            secret_access_key: get("s3.secret_access_key")?
                .ok_or(ConfigError::Missing("s3.secret_access_key"))?,
            prefix: get("s3.prefix")?.unwrap_or_default(),
        }),
        other => {
            return Err(ConfigError::Invalid {
                key: "storage.kind".into(),
                message: format!("`{other}`: expected \"local\" or \"s3\""),
            })
        }
    };
    let limits = limits::limits(&get)?;
    let lists = lists::list_refresh(&get)?;
    let jobs = Jobs {
        workers: parse("jobs.workers", get("jobs.workers")?, 2usize)?,
        lease_secs: positive(
            "jobs.lease_secs",
            parse("jobs.lease_secs", get("jobs.lease_secs")?, 30u64)?,
        )?,
        max_attempts: positive(
            "jobs.max_attempts",
            parse("jobs.max_attempts", get("jobs.max_attempts")?, 5u64)?,
        )? as i64,
        debug_delay_ms: parse("jobs.debug_delay_ms", get("jobs.debug_delay_ms")?, 0u64)?,
    };
    let webhook = match get("webhook.url")? {
        None => None,
        Some(url) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::Invalid {
                    key: "webhook.url".into(),
                    message: "must start with http:// or https://".into(),
                });
            }
            Some(Webhook {
                url,
                secret: get("webhook.secret")?.map(Secret),
                max_attempts: positive(
                    "webhook.max_attempts",
                    parse("webhook.max_attempts", get("webhook.max_attempts")?, 12u64)?,
                )? as i64,
                retry_base_ms: positive(
                    "webhook.retry_base_ms",
                    parse(
                        "webhook.retry_base_ms",
                        get("webhook.retry_base_ms")?,
                        10_000u64,
                    )?,
                )? as i64,
                timeout_secs: positive(
                    "webhook.timeout_secs",
                    parse("webhook.timeout_secs", get("webhook.timeout_secs")?, 10u64)?,
                )?,
            })
        }
    };
    let mut flow = Flow::for_listen(listen);
    for (key, field) in [
        ("flow.session_ttl_secs", &mut flow.session_ttl_secs),
        ("flow.recheck_secs", &mut flow.recheck_secs),
    ] {
        *field = positive(key, parse(key, get(key)?, *field)?)?;
    }
    if let Some(url) = get("flow.public_url")? {
        // A path prefix (behind a reverse proxy) is allowed here, unlike in an origin.
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                key: "flow.public_url".into(),
                message: "must start with http:// or https://".into(),
            });
        }
        flow.public_url = url.trim_end_matches('/').to_string();
    }
    if let Some(list) = get("flow.embed_origins")? {
        flow.embed_origins = list
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| origin("flow.embed_origins", o))
            .collect::<Result<_, _>>()?;
    }
    let mut console = Console::for_public_url(&flow.public_url);
    for (key, field) in [
        ("console.idle_timeout_secs", &mut console.idle_timeout_secs),
        ("console.max_session_secs", &mut console.max_session_secs),
        ("console.fresh_auth_secs", &mut console.fresh_auth_secs),
        ("console.invite_ttl_secs", &mut console.invite_ttl_secs),
    ] {
        *field = positive(key, parse(key, get(key)?, *field)?)?;
    }
    console.secure_cookie = parse(
        "console.secure_cookie",
        get("console.secure_cookie")?,
        console.secure_cookie,
    )?;
    if let Some(list) = get("console.trusted_proxies")? {
        console.trusted_proxies = list
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| {
                a.parse().map_err(|_| ConfigError::Invalid {
                    key: "console.trusted_proxies".into(),
                    message: format!("{a:?} is not an IP address"),
                })
            })
            .collect::<Result<_, _>>()?;
    }
    let role = match get("role")? {
        None => Role::All,
        Some(word) => Role::parse(word.trim()).ok_or_else(|| ConfigError::Invalid {
            key: "role".into(),
            message: format!("{word:?} is not one of all, api, worker"),
        })?,
    };
    Ok(Config {
        role,
        console,
        flow,
        models_dir: get("models_dir")?
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("models")),
        webhook,
        listen,
        data_dir,
        database_url: Secret(database_url),
        master_key,
        log: get("log")?.unwrap_or_else(|| "info".into()),
        storage,
        limits,
        lists,
        jobs,
        policy_file: get("policy_file")?.map(PathBuf::from),
    })
}

/// `v` parsed, or `default` when not given.
fn parse<T: std::str::FromStr>(key: &str, v: Option<String>, default: T) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    match v {
        None => Ok(default),
        Some(s) => s.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
            key: key.into(),
            message: e.to_string(),
        }),
    }
}

/// `n`, refused when 0.
fn positive(key: &str, n: u64) -> Result<u64, ConfigError> {
    if n == 0 {
        Err(ConfigError::Invalid {
            key: key.into(),
            message: "must be greater than 0".into(),
        })
    } else {
        Ok(n)
    }
}

fn is_secret(key: &str) -> bool {
    KEYS.iter().any(|(k, _, secret)| *secret && *k == key)
}

#[cfg(test)]
mod tests;
