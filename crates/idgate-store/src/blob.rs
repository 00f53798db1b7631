//! Encrypted blob storage for uploaded images.
//!
//! Each object gets a fresh 256-bit data key. The data is sealed with AES-256-GCM under
//! that key, and the key is sealed under the master key; both use the object's name as
//! associated data, so an object copied to another name fails to open. Layout:
//!
//! ```text
//! "IDGB1" | key nonce (12) | sealed data key (32 + 16) | data nonce (12) | sealed data
//! ```
//!
//! Rotating the master key means re-sealing the small data keys, not the images.

use crate::error::StoreError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use rand::RngCore;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

const MAGIC: &[u8; 5] = b"IDGB1";
const NONCE: usize = 12;
const SEALED_KEY: usize = 32 + 16;
const HEADER: usize = MAGIC.len() + NONCE + SEALED_KEY + NONCE;

/// The key that wraps every data key. `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey(Key<Aes256Gcm>);

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

    fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_file(path: &Path) -> Result<MasterKey, StoreError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| StoreError::MasterKey(format!("cannot read {}: {e}", path.display())))?;
        MasterKey::from_hex(&text)
    }

    /// Reads the key file, or creates it with a new random key, readable by the owner only.
    pub fn load_or_create(path: &Path) -> Result<MasterKey, StoreError> {
        if path.exists() {
            return MasterKey::from_file(path);
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let key = MasterKey::generate();
        write_private(path, format!("{}\n", key.to_hex()).as_bytes())?;
        Ok(key)
    }
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

/// Where an S3-compatible bucket is and how to reach it.
#[derive(Clone, Default)]
pub struct S3Config {
    pub bucket: String,
    /// e.g. `http://127.0.0.1:9000` for a self-hosted service; `None` for AWS.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Prefix inside the bucket.
    pub prefix: String,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    prefix: String,
    master: MasterKey,
}

impl BlobStore {
    pub fn new(inner: Arc<dyn ObjectStore>, prefix: &str, master: MasterKey) -> BlobStore {
        BlobStore {
            inner,
            prefix: prefix.trim_matches('/').to_string(),
            master,
        }
    }

    /// Objects as files under `dir` (created if missing).
    pub fn local(dir: &Path, master: MasterKey) -> Result<BlobStore, StoreError> {
        std::fs::create_dir_all(dir)?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(BlobStore::new(Arc::new(fs), "", master))
    }

    pub fn s3(cfg: &S3Config, master: MasterKey) -> Result<BlobStore, StoreError> {
        let mut b = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&cfg.bucket)
            .with_region(&cfg.region)
            .with_access_key_id(&cfg.access_key_id)
            .with_secret_access_key(&cfg.secret_access_key)
            // Uploads happen inside an applicant's request: fail within seconds rather than
            // the library's default of retrying for three minutes.
            .with_retry(object_store::RetryConfig {
                backoff: Default::default(),
                max_retries: 3,
                retry_timeout: std::time::Duration::from_secs(15),
            })
            .with_client_options(
                object_store::ClientOptions::new()
                    .with_connect_timeout(std::time::Duration::from_secs(5))
                    .with_timeout(std::time::Duration::from_secs(60)),
            );
        if let Some(endpoint) = &cfg.endpoint {
            b = b
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        Ok(BlobStore::new(Arc::new(b.build()?), &cfg.prefix, master))
    }

    fn path(&self, key: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        }
    }

    /// Encrypts and stores `data` under a new random key, which it returns.
    /// Whether the object store answers (readiness): a lookup of a name no object has, to
    /// which "not found" is an answer.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self.inner.head(&self.path("readiness-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn put(&self, data: &[u8]) -> Result<String, StoreError> {
        let key = format!("blobs/{}", uuid::Uuid::new_v4());
        let sealed = self.seal(&key, data)?;
        self.inner
            .put(&self.path(&key), PutPayload::from(Bytes::from(sealed)))
            .await?;
        Ok(key)
    }

    /// Reads and decrypts; fails if the bytes were changed or the master key differs.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let sealed = self.inner.get(&self.path(key)).await?.bytes().await?;
        self.open(key, &sealed)
    }

    /// The stored (encrypted) bytes, for tests and audits of at-rest encryption.
    pub async fn get_raw(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        Ok(self
            .inner
            .get(&self.path(key))
            .await?
            .bytes()
            .await?
            .to_vec())
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(&self.path(key)).await?;
        Ok(())
    }

    fn seal(&self, key: &str, data: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut rng = rand::rngs::OsRng;
        let mut data_key = [0u8; 32];
        rng.fill_bytes(&mut data_key);
        let (mut key_nonce, mut data_nonce) = ([0u8; NONCE], [0u8; NONCE]);
        rng.fill_bytes(&mut key_nonce);
        rng.fill_bytes(&mut data_nonce);
        let fail = || StoreError::MasterKey("encryption failed".into());
        let sealed_key = Aes256Gcm::new(&self.master.0)
            .encrypt(
                Nonce::from_slice(&key_nonce),
                Payload {
                    msg: &data_key,
                    aad: key.as_bytes(),
                },
            )
            .map_err(|_| fail())?;
        let sealed_data = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&data_key))
            .encrypt(
                Nonce::from_slice(&data_nonce),
                Payload {
                    msg: data,
                    aad: key.as_bytes(),
                },
            )
            .map_err(|_| fail())?;
        let mut out = Vec::with_capacity(HEADER + sealed_data.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&key_nonce);
        out.extend_from_slice(&sealed_key);
        out.extend_from_slice(&data_nonce);
        out.extend_from_slice(&sealed_data);
        Ok(out)
    }

    fn open(&self, key: &str, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        let bad = || StoreError::Decrypt {
            key: key.to_string(),
        };
        if sealed.len() < HEADER + 16 || &sealed[..MAGIC.len()] != MAGIC {
            return Err(bad());
        }
        let mut at = MAGIC.len();
        let key_nonce = &sealed[at..at + NONCE];
        at += NONCE;
        let sealed_key = &sealed[at..at + SEALED_KEY];
        at += SEALED_KEY;
        let data_nonce = &sealed[at..at + NONCE];
        at += NONCE;
        let data_key = Aes256Gcm::new(&self.master.0)
            .decrypt(
                Nonce::from_slice(key_nonce),
                Payload {
                    msg: sealed_key,
                    aad: key.as_bytes(),
                },
            )
            .map_err(|_| bad())?;
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&data_key))
            .decrypt(
                Nonce::from_slice(data_nonce),
                Payload {
                    msg: &sealed[at..],
                    aad: key.as_bytes(),
                },
            )
            .map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    fn store(master: MasterKey) -> (Arc<InMemory>, BlobStore) {
        let mem = Arc::new(InMemory::new());
        (mem.clone(), BlobStore::new(mem, "p", master))
    }

    #[tokio::test]
    async fn round_trip_and_nothing_readable_at_rest() {
        let (_, s) = store(MasterKey::generate());
        let image = b"\xff\xd8\xff\xe0 pretend this is a passport photo".repeat(50);
        let key = s.put(&image).await.unwrap();
        assert_eq!(s.get(&key).await.unwrap(), image);
        let raw = s.get_raw(&key).await.unwrap();
        assert!(
            !raw.windows(16).any(|w| image.windows(16).any(|i| i == w)),
            "plaintext at rest"
        );
    }

    #[tokio::test]
    async fn wrong_master_key_or_tampering_fails_to_open() {
        let (mem, s) = store(MasterKey::generate());
        let key = s.put(b"secret").await.unwrap();
        let other = BlobStore::new(mem.clone(), "p", MasterKey::generate());
        assert!(matches!(
            other.get(&key).await,
            Err(StoreError::Decrypt { .. })
        ));

        let mut raw = s.get_raw(&key).await.unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        mem.put(&ObjectPath::from(format!("p/{key}")), PutPayload::from(raw))
            .await
            .unwrap();
        assert!(matches!(s.get(&key).await, Err(StoreError::Decrypt { .. })));
    }

    #[tokio::test]
    async fn an_object_moved_to_another_name_does_not_open() {
        let (mem, s) = store(MasterKey::generate());
        let key = s.put(b"one applicant's image").await.unwrap();
        let raw = s.get_raw(&key).await.unwrap();
        mem.put(&ObjectPath::from("p/blobs/other"), PutPayload::from(raw))
            .await
            .unwrap();
        assert!(matches!(
            s.get("blobs/other").await,
            Err(StoreError::Decrypt { .. })
        ));
    }

    #[test]
    fn key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/master.key");
        let a = MasterKey::load_or_create(&path).unwrap();
        let b = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(MasterKey::from_hex("abc").is_err());
        assert!(!format!("{a:?}").contains(&a.to_hex()));
    }
}
