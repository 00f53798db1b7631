//! The master keys: the current one, which wraps every new key, and older ones kept
//! only to open what they wrapped until `idgate keys rotate` has re-wrapped it.
//!
//! A key file holds one key per line (64 hex characters), the current one first. Each
//! wrapped key names its master by a fingerprint, so a process that meets a fingerprint
//! it does not know reads its file again: a rotation by another process is picked up
//! without a restart. Before wrapping, a process whose file changed reads it again, so
//! new keys are wrapped under the newest master within a moment of a rotation.

use crate::error::StoreError;
use aes_gcm::{Aes256Gcm, Key};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

/// One master key. `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey(pub(crate) Key<Aes256Gcm>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        MasterKey(Key::<Aes256Gcm>::from(bytes))
    }

    /// Parses 64 hex characters (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<MasterKey, StoreError> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::MasterKey(
                "expected 64 hexadecimal characters (32 bytes)".into(),
            ));
        }
        let mut bytes = [0u8; 32];
        for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
            let s = std::str::from_utf8(chunk).map_err(|e| StoreError::MasterKey(e.to_string()))?;
            bytes[i] =
                u8::from_str_radix(s, 16).map_err(|e| StoreError::MasterKey(e.to_string()))?;
        }
        Ok(MasterKey::from_bytes(bytes))
    }

    pub fn generate() -> MasterKey {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        MasterKey::from_bytes(bytes)
    }

    pub(crate) fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Names the key without revealing it: the first 8 bytes of a domain-separated
    /// SHA-256 of it.
    pub fn fingerprint(&self) -> [u8; 8] {
        let digest = Sha256::new()
            .chain_update(b"idgate master key fingerprint\0")
            .chain_update(self.0.as_slice())
            .finalize();
        let mut out = [0u8; 8];
        out.copy_from_slice(&digest[..8]);
        out
    }
}

#[derive(Clone)]
struct Keys {
    all: Vec<MasterKey>,
    modified: Option<SystemTime>,
}

/// The master keys a process holds; cheap to clone (shared).
#[derive(Clone)]
pub struct Keyring {
    keys: Arc<RwLock<Keys>>,
    file: Option<PathBuf>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("keys", &self.len())
            .field("file", &self.file)
            .finish()
    }
}

impl From<MasterKey> for Keyring {
    fn from(key: MasterKey) -> Keyring {
        Keyring::of(vec![key], None, None)
    }
}

impl Keyring {
    fn of(all: Vec<MasterKey>, file: Option<PathBuf>, modified: Option<SystemTime>) -> Keyring {
        Keyring {
            keys: Arc::new(RwLock::new(Keys { all, modified })),
            file,
        }
    }

    /// Keys given as text: separated by commas, whitespace or lines, the current first.
    pub fn from_hex_list(text: &str) -> Result<Keyring, StoreError> {
        Ok(Keyring::of(parse_list(text)?, None, None))
    }

    /// The keys of a file, read again when it changes.
    pub fn from_file(path: &Path) -> Result<Keyring, StoreError> {
        let (all, modified) = read_file(path)?;
        Ok(Keyring::of(all, Some(path.to_path_buf()), modified))
    }

    /// Reads the key file, or creates it with a new random key, readable by the owner only.
    pub fn load_or_create(path: &Path) -> Result<Keyring, StoreError> {
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let key = MasterKey::generate();
            write_private(path, format!("{}\n", key.to_hex()).as_bytes())?;
        }
        Keyring::from_file(path)
    }

    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    pub fn len(&self) -> usize {
        self.read().all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> Keys {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reads the file again if it changed since it was read (`force`: whatever its time).
    fn reload(&self, force: bool) -> Result<(), StoreError> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        if !force && modified == self.read().modified {
            return Ok(());
        }
        let (all, modified) = read_file(path)?;
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Keys { all, modified };
        Ok(())
    }

    /// The key that wraps new keys (the file read again first if it changed).
    pub fn current(&self) -> MasterKey {
        // A file that cannot be read now keeps the keys read before.
        let _ = self.reload(false);
        self.read().all[0].clone()
    }

    /// Every key held, the current one first.
    pub fn all(&self) -> Vec<MasterKey> {
        let _ = self.reload(false);
        self.read().all
    }

    /// The key with this fingerprint; an unknown one makes the file be read again once.
    pub fn find(&self, fingerprint: [u8; 8]) -> Option<MasterKey> {
        let look = |keys: &Keys| {
            keys.all
                .iter()
                .find(|k| k.fingerprint() == fingerprint)
                .cloned()
        };
        if let Some(key) = look(&self.read()) {
            return Some(key);
        }
        self.reload(true).ok()?;
        look(&self.read())
    }

    /// Puts a new random key first in the file (the others kept after it) and holds it.
    pub fn add_new_key(&self) -> Result<MasterKey, StoreError> {
        let path = self.file.as_ref().ok_or_else(|| {
            StoreError::MasterKey("the master key is not read from a file".into())
        })?;
        self.reload(true)?;
        let new = MasterKey::generate();
        let mut all = vec![new.clone()];
        all.extend(self.read().all);
        replace_file(path, &all)?;
        self.reload(true)?;
        Ok(new)
    }

    /// Leaves only the current key in the file: after every wrapped key is under it.
    pub fn retire_older(&self) -> Result<usize, StoreError> {
        let path = self.file.as_ref().ok_or_else(|| {
            StoreError::MasterKey("the master key is not read from a file".into())
        })?;
        self.reload(true)?;
        let all = self.read().all;
        replace_file(path, &all[..1])?;
        self.reload(true)?;
        Ok(all.len() - 1)
    }
}

fn parse_list(text: &str) -> Result<Vec<MasterKey>, StoreError> {
    let all = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(MasterKey::from_hex)
        .collect::<Result<Vec<_>, _>>()?;
    if all.is_empty() {
        return Err(StoreError::MasterKey("no key given".into()));
    }
    Ok(all)
}

fn read_file(path: &Path) -> Result<(Vec<MasterKey>, Option<SystemTime>), StoreError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| StoreError::MasterKey(format!("cannot read {}: {e}", path.display())))?;
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    Ok((parse_list(&text)?, modified))
}

/// Writes the keys to a new private file beside `path` and moves it over `path`, so a
/// reader sees the old file or the new one, never half of one.
fn replace_file(path: &Path, keys: &[MasterKey]) -> Result<(), StoreError> {
    let text: String = keys.iter().map(|k| format!("{}\n", k.to_hex())).collect();
    let fresh = path.with_extension(format!("new-{}", uuid::Uuid::new_v4()));
    write_private(&fresh, text.as_bytes())?;
    std::fs::rename(&fresh, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&fresh);
    })?;
    Ok(())
}

/// Writes a file that only its owner can read (0600), failing if it already exists.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/master.key");
        let a = Keyring::load_or_create(&path).unwrap().current();
        let b = Keyring::load_or_create(&path).unwrap().current();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(MasterKey::from_hex("abc").is_err());
        assert!(!format!("{a:?}").contains(&a.to_hex()));
        assert!(!format!("{:?}", Keyring::from(a.clone())).contains(&a.to_hex()));
    }

    #[test]
    fn a_new_key_goes_first_and_another_process_finds_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let rotating = Keyring::load_or_create(&path).unwrap();
        let serving = Keyring::from_file(&path).unwrap();
        let old = serving.current();

        let new = rotating.add_new_key().unwrap();
        assert_eq!(rotating.len(), 2);
        assert_ne!(new.fingerprint(), old.fingerprint());
        // The serving process meets a key wrapped under the new master: it reads the file.
        assert_eq!(serving.find(new.fingerprint()).unwrap().0, new.0);
        assert_eq!(serving.find(old.fingerprint()).unwrap().0, old.0);
        assert!(serving.find([0; 8]).is_none());
        assert_eq!(serving.current().0, new.0);

        assert_eq!(rotating.retire_older().unwrap(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim(), new.to_hex());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_list_of_keys_puts_the_first_in_use() {
        let (a, b) = (MasterKey::generate(), MasterKey::generate());
        let ring = Keyring::from_hex_list(&format!("{}, {}", a.to_hex(), b.to_hex())).unwrap();
        assert_eq!(ring.current().0, a.0);
        assert!(ring.find(b.fingerprint()).is_some());
        assert!(Keyring::from_hex_list(" ,").is_err());
        assert!(ring.add_new_key().is_err(), "no file to write a new key to");
    }
}
