//! `idgate backup DIR` and `idgate restore DIR`: the embedded default (SQLite and local
//! encrypted blobs) copied while the service runs, and put back into a new data directory.
//!
//! A backup holds the database (`VACUUM INTO`, a consistent copy) and the blobs as stored,
//! still encrypted; never the master key, the identity key, the webhook secret or the API
//! key, which are kept apart from it (whoever holds both could read every document). The
//! blobs are copied before and again after the database, so that those added meanwhile
//! are in it too. A restore refuses a data directory that already holds a database or
//! blobs, needs the master key and the identity key put back first, and opens every blob
//! with that master key before it is done: a wrong key or a damaged copy restores nothing.
//! PostgreSQL is backed up with `pg_dump` and an S3 store with its own versioning.

use crate::config::{Config, MasterKeySource, Storage};
use anyhow::{bail, Context};
use idgate_store::{BlobStore, Store, StoreError};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const MANIFEST: &str = "backup.json";
const DATABASE: &str = "idgate.db";
const BLOBS: &str = "blobs";
/// What a backup never holds.
const KEPT_APART: [&str; 4] = ["master key", "identity.key", "webhook-secret", "api-key"];

/// Owner-only, as everything in a data directory.
fn private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| path.display().to_string())?;
    }
    Ok(())
}

/// Every file under `dir`, as paths relative to it.
fn files_under(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        let here = dir.join(&rel);
        if !here.exists() {
            continue;
        }
        for entry in std::fs::read_dir(&here).with_context(|| here.display().to_string())? {
            let entry = entry?;
            let rel = rel.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                todo.push(rel);
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Copies the files of `from` missing in `to` (blobs never change once written):
/// (files copied, bytes).
fn copy_new(from: &Path, to: &Path) -> anyhow::Result<(usize, u64)> {
    let (mut n, mut bytes) = (0, 0);
    for rel in files_under(from)? {
        let dest = to.join(&rel);
        if dest.exists() {
            continue;
        }
        if let Some(parent) = dest.parent() {
            crate::files::create_private_dir(parent)?;
        }
        // A blob deleted since it was listed (a replaced upload) is simply not copied.
        match std::fs::copy(from.join(&rel), &dest) {
            Ok(b) => {
                private(&dest)?;
                n += 1;
                bytes += b;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("copying {}", rel.display())),
        }
    }
    Ok((n, bytes))
}

fn local_blobs(cfg: &Config) -> anyhow::Result<&Path> {
    match &cfg.storage {
        Storage::Local { dir } => Ok(dir),
        Storage::S3(_) => bail!(
            "the blobs are in S3: back them up with the bucket's versioning or replication; \
             `idgate backup` copies the embedded default (SQLite and local blobs)"
        ),
    }
}

/// Backs the running service's database and blobs up into `dest` (new or empty).
pub async fn backup(cfg: &Config, store: &Store, dest: &Path) -> anyhow::Result<Value> {
    let blobs = local_blobs(cfg)?;
    if dest.exists() && std::fs::read_dir(dest)?.next().is_some() {
        bail!(
            "{} is not empty: back up into a new directory",
            dest.display()
        );
    }
    crate::files::create_private_dir(dest)?;
    let started = store.now();
    let (first, first_bytes) = copy_new(blobs, &dest.join(BLOBS))?;
    store
        .backup_into(&dest.join(DATABASE))
        .await
        .context("copying the database")?;
    private(&dest.join(DATABASE))?;
    let (then, then_bytes) = copy_new(blobs, &dest.join(BLOBS))?;
    let manifest = json!({
        "format": "idgate-backup-1",
        "created_at": idgate_core::rfc3339(started),
        "database": DATABASE,
        "blobs": first + then,
        "blob_bytes": first_bytes + then_bytes,
        "not_included": KEPT_APART,
    });
    crate::files::write_private(
        &dest.join(MANIFEST),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    Ok(manifest)
}

/// The file of a `sqlite://` database URL.
fn sqlite_file(url: &str) -> anyhow::Result<PathBuf> {
    let Some(rest) = url.strip_prefix("sqlite://") else {
        bail!("restore puts back a SQLite database; PostgreSQL is restored with pg_restore");
    };
    Ok(PathBuf::from(rest.split('?').next().unwrap_or(rest)))
}

/// Restores the backup in `from` into the configured (empty) data directory, after the
/// master key and identity key were put back; every blob is opened before it is done.
pub async fn restore(cfg: &Config, from: &Path) -> anyhow::Result<Value> {
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(from.join(MANIFEST))
            .with_context(|| format!("{} holds no {MANIFEST}: not a backup", from.display()))?,
    )?;
    if manifest["format"] != "idgate-backup-1" {
        bail!("{MANIFEST} is not of a format this idgate restores");
    }
    let db = sqlite_file(&cfg.database_url.0)?;
    let blobs = local_blobs(cfg)?;
    if db.exists() {
        bail!("{} exists: restore into a new data directory", db.display());
    }
    if !files_under(blobs)?.is_empty() {
        bail!(
            "{} holds blobs: restore into a new data directory",
            blobs.display()
        );
    }
    let master = match &cfg.master_key {
        MasterKeySource::File(path) if !path.is_file() => bail!(
            "put the backed-up service's master key at {} first (backups never hold it)",
            path.display()
        ),
        _ => crate::service::master_keys(cfg, false)?,
    };
    let identity = cfg.data_dir.join("identity.key");
    if !identity.is_file() {
        bail!(
            "put the backed-up service's identity.key at {} first: without it earlier \
             identities would not be recognised as duplicates",
            identity.display()
        );
    }
    let copied = (|| {
        if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::files::create_private_dir(parent)?;
        }
        std::fs::copy(from.join(DATABASE), &db).context("copying the database")?;
        private(&db)?;
        copy_new(&from.join(BLOBS), blobs)
    })();
    let undo = || {
        let _ = std::fs::remove_file(&db);
        for rel in files_under(blobs).unwrap_or_default() {
            let _ = std::fs::remove_file(blobs.join(rel));
        }
    };
    let (count, bytes) = match copied {
        Ok(c) => c,
        Err(e) => {
            undo();
            return Err(e);
        }
    };
    let store = BlobStore::local(blobs, master)?;
    let (mut erased, mut opened_n, mut owner_keys) = (0, 0, 0);
    for rel in files_under(blobs)? {
        let key = rel.to_string_lossy().replace('\\', "/");
        // Owners' keys open with the objects; an erased applicant's objects open no more.
        if key.starts_with("keys/") {
            owner_keys += 1;
            continue;
        }
        let opened = store.get(&key).await;
        if matches!(opened, Err(StoreError::Erased)) {
            erased += 1;
            continue;
        }
        if opened.is_err() {
            undo();
            bail!(
                "blob {key} does not open with this master key (the wrong key, or a damaged \
                 backup): nothing was restored"
            );
        }
        opened_n += 1;
    }
    Ok(json!({
        "restored_from": manifest["created_at"],
        "database": db,
        "blobs": count,
        "blob_bytes": bytes,
        "blobs_opened": opened_n,
        "blobs_of_erased_applicants": erased,
        "owner_keys": owner_keys,
    }))
}
