//! The data directory's private files: the directory itself (0700), and the secrets kept
//! in it (0600), created on first use and never logged.

use anyhow::Context;
use std::path::Path;

/// Creates the data directory readable by its owner only (0700): it holds the database with
/// personal data, the master key and the initial API key. An existing directory is left as
/// the operator set it up.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

pub fn write_private(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents)
}

/// The text of a secret file, created on first use with 32 random bytes in hex (0600).
pub fn secret_file(path: &std::path::Path) -> anyhow::Result<String> {
    if !path.exists() {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        write_private(path, format!("{}\n", hex::encode(key)).as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// The identity secret of a data directory: 32 random bytes in `identity.key` (0600),
/// created on first use. Keys made under another secret never match.
pub fn identity_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = secret_file(path)?;
    let key = hex::decode(text.trim()).with_context(|| format!("{} is not hex", path.display()))?;
    anyhow::ensure!(
        key.len() >= 16,
        "{} holds fewer than 16 bytes",
        path.display()
    );
    Ok(key)
}

/// The webhook secret in `path` (created with 32 random bytes, hex, 0600): shared with
/// the platform once, never logged.
pub fn webhook_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = secret_file(path)?;
    anyhow::ensure!(!text.trim().is_empty(), "{} is empty", path.display());
    Ok(text.trim().as_bytes().to_vec())
}
