//! Running the service: opening the store and the blobs, the first API key, the workers,
//! the webhook dispatcher and the HTTP server, and the container health check.

use crate::config::{Config, MasterKeySource, Storage};
use crate::state::{AppState, Shared};
use anyhow::Context;
use idgate_core::SystemClock;
use idgate_store::{BlobStore, Keyring, Store};
use std::sync::Arc;

/// Opens the database (migrating it) and the blob store described by `cfg`.
pub async fn open(cfg: &Config) -> anyhow::Result<(Store, BlobStore)> {
    open_with_clock(cfg, Arc::new(SystemClock)).await
}

/// [`open`] with the store reading time from `clock` (`idgate verify --now-ms`).
pub async fn open_with_clock(
    cfg: &Config,
    clock: Arc<dyn idgate_core::Clock>,
) -> anyhow::Result<(Store, BlobStore)> {
    if cfg.database_url.0.starts_with("sqlite:") || matches!(cfg.storage, Storage::Local { .. }) {
        crate::files::create_private_dir(&cfg.data_dir)
            .with_context(|| format!("creating data directory {}", cfg.data_dir.display()))?;
    }
    let store = Store::connect(&cfg.database_url.0, clock)
        .await
        .context("opening the database")?;
    store.migrate().await.context("migrating the database")?;
    let master = master_keys(cfg, true)?;
    let blobs = match &cfg.storage {
        Storage::Local { dir } => BlobStore::local(dir, master)?,
        Storage::S3(s3) => BlobStore::s3(s3, master)?,
    };
    Ok((store, blobs))
}

/// The master keys the configuration names: keys given inline (`IDGATE_MASTER_KEY`, the
/// current one first, commas between), or a key file (`create`: made with a new key if
/// missing), read again when it changes.
pub fn master_keys(cfg: &Config, create: bool) -> anyhow::Result<Keyring> {
    match &cfg.master_key {
        MasterKeySource::Inline(hex) => Keyring::from_hex_list(&hex.0),
        MasterKeySource::File(path) if create => Keyring::load_or_create(path),
        MasterKeySource::File(path) => Keyring::from_file(path),
    }
    .context("loading the master key")
}

/// Creates an API key on first start so the platform can call the API; the key is
/// written to `<data_dir>/api-key` (owner-only) and never logged.
async fn bootstrap_api_key(cfg: &Config, store: &Store) -> anyhow::Result<()> {
    if store.count_api_keys().await? > 0 {
        return Ok(());
    }
    let path = cfg.data_dir.join("api-key");
    let key = crate::credentials::generate_api_key();
    std::fs::create_dir_all(&cfg.data_dir)?;
    let _ = std::fs::remove_file(&path);
    crate::files::write_private(&path, format!("{key}\n").as_bytes())
        .context("writing the initial API key")?;
    store
        .create_api_key("initial", &crate::credentials::hash_api_key(&key))
        .await?;
    tracing::info!(path = %path.display(), "created the initial API key");
    Ok(())
}

/// The shipped policy with the overrides in `file` (TOML) merged over it.
pub fn read_policy(file: Option<&std::path::Path>) -> anyhow::Result<idgate_decide::Policy> {
    Ok(match file {
        Some(path) => idgate_decide::Policy::from_toml(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading the policy {}", path.display()))?,
        )?,
        None => idgate_decide::Policy::default(),
    })
}

pub async fn serve(cfg: Config) -> anyhow::Result<()> {
    let (store, blobs) = open(&cfg).await?;
    bootstrap_api_key(&cfg, &store).await?;
    let store = store.with_webhooks(cfg.webhook.is_some().then(crate::webhooks::renderer));
    let policy = read_policy(cfg.policy_file.as_deref())?;
    let screen = crate::screening::ListScreen::open(&policy, &store).await?;
    let state: Shared = Arc::new(AppState {
        store,
        blobs,
        metrics: Default::default(),
        limits: cfg.limits.clone(),
        rate: Default::default(),
        jobs_ready: Default::default(),
        live: Default::default(),
        uploads: Default::default(),
        policy,
        identity_secret: crate::files::identity_secret(&cfg.data_dir.join("identity.key"))?,
        models: Arc::new(idgate_pipeline::Models::new(cfg.models_dir.clone())),
        screen,
        flow: cfg.flow.clone(),
        console: cfg.console.clone(),
    });
    // Fail at start, not on the first case, when the models are missing.
    state.ocr().with_context(|| {
        format!(
            "loading the OCR models from {} (scripts/serve unpacks them; set models_dir)",
            cfg.models_dir.display()
        )
    })?;
    state.faces().with_context(|| {
        format!(
            "loading the face models from {} (scripts/serve unpacks them; set models_dir)",
            cfg.models_dir.display()
        )
    })?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker_cfg = crate::worker::WorkerConfig {
        lease_ms: (cfg.jobs.lease_secs * 1000) as i64,
        max_attempts: cfg.jobs.max_attempts,
        debug_delay_ms: cfg.jobs.debug_delay_ms,
    };
    let mut workers = Vec::new();
    let worker_count = if cfg.role.works() {
        cfg.jobs.workers
    } else {
        0
    };
    for _ in 0..worker_count {
        workers.push(tokio::spawn(crate::worker::run(
            state.clone(),
            worker_cfg,
            stop_rx.clone(),
        )));
    }
    if let Some(hook) = cfg.webhook.as_ref().filter(|_| cfg.role.works()) {
        let secret = match &hook.secret {
            Some(s) => s.0.clone().into_bytes(),
            None => crate::files::webhook_secret(&cfg.data_dir.join("webhook-secret"))?,
        };
        workers.push(tokio::spawn(crate::webhooks::run(
            state.clone(),
            crate::webhooks::Dispatcher::new(hook, secret)?,
            stop_rx.clone(),
        )));
    }
    if cfg.role.works() && state.policy.retention.images_days > 0 {
        workers.push(tokio::spawn(crate::retention::run(
            state.clone(),
            stop_rx.clone(),
        )));
    }
    if cfg.role.works() && !cfg.lists.feeds.is_empty() {
        workers.push(tokio::spawn(crate::refresh::run(
            state.clone(),
            cfg.lists.clone(),
            stop_rx.clone(),
        )));
    }
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    tracing::info!(listen = %cfg.listen, role = cfg.role.as_str(), workers = worker_count, "idgate serving");
    let router = if cfg.role.serves_api() {
        crate::http::app(state.clone())
    } else {
        crate::http::health(state.clone())
    };
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown({
        let state = state.clone();
        async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            // Pages following their case are let go first: their streams never end alone.
            state.live.close();
        }
    })
    .await?;
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    state.store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// `idgate healthcheck`: GET /healthz over plain HTTP/1.0; Ok when it answers 200.
pub fn healthcheck(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let timeout = std::time::Duration::from_secs(3);
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("connecting to {addr}"))?;
    s.set_read_timeout(Some(timeout))?;
    write!(s, "GET /healthz HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    s.read_to_string(&mut response)?;
    let status = response.split_whitespace().nth(1).unwrap_or("");
    anyhow::ensure!(status == "200", "health check answered {status:?}");
    Ok(())
}
