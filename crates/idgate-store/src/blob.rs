//! Encrypted blob storage: uploaded images, entered data, face templates, secrets.
//!
//! Every object belongs to an owner: an applicant, or the system (reviewers' secrets).
//! Each object is sealed under its own random data key; the data key is wrapped by its
//! owner's key; the owner's key, stored as the small object `keys/<owner>`, is wrapped by
//! the master key (layouts in `seal.rs`). So:
//! * erasing an applicant (crypto-shredding) is replacing one small object by a
//!   tombstone: every object of theirs, in this store and in any copy of it, can no
//!   longer be opened, and nothing new can be stored for them;
//! * rotating the master key re-wraps the owners' keys, never the images
//!   ([`BlobStore::rewrap`]); objects written before owners existed are adopted by the
//!   system there, their sealed data copied as it is.
//!
//! An owner's key is kept in memory for [`OWNER_KEY_TTL`] after it is read: another
//! process's erasure takes effect here within that time (at once in the erasing process).

use crate::error::StoreError;
pub use crate::keyring::{Keyring, MasterKey};
use crate::seal::{self, Aes};
use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutMode, PutOptions, PutPayload};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an owner's key read from the store is used without reading it again.
pub const OWNER_KEY_TTL: Duration = Duration::from_secs(30);

/// Whose object it is: what erasing that owner makes unreadable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner<'a> {
    /// The service's own secrets (reviewers' TOTP secrets).
    System,
    /// An applicant, by the store's id (a UUID).
    Applicant(&'a str),
    /// A business applicant (its entity documents), by the store's id (a UUID).
    Business(&'a str),
}

impl Owner<'_> {
    fn id(&self) -> Result<[u8; 16], StoreError> {
        match self {
            Owner::System => Ok([0; 16]),
            Owner::Applicant(id) | Owner::Business(id) => uuid::Uuid::parse_str(id)
                .map(|u| *u.as_bytes())
                .map_err(|_| StoreError::Corrupt("an owner id that is not a UUID".into())),
        }
    }
}

fn key_name(owner: &[u8; 16]) -> String {
    if owner == &[0; 16] {
        "keys/system".into()
    } else {
        format!("keys/{}", uuid::Uuid::from_bytes(*owner))
    }
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
    masters: Keyring,
    owner_keys: Arc<Mutex<OwnerKeys>>,
}

/// Owners' keys read recently, with when they were read.
type OwnerKeys = HashMap<[u8; 16], (Aes, Instant)>;

/// What [`BlobStore::rewrap`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rewrapped {
    /// Owners' keys wrapped again under the current master key.
    pub keys: usize,
    /// Owners' keys already under it.
    pub keys_current: usize,
    /// Objects from before owners existed, adopted by the system.
    pub adopted: usize,
    /// Objects looked at.
    pub objects: usize,
}

impl BlobStore {
    pub fn new(
        inner: Arc<dyn ObjectStore>,
        prefix: &str,
        masters: impl Into<Keyring>,
    ) -> BlobStore {
        BlobStore {
            inner,
            prefix: prefix.trim_matches('/').to_string(),
            masters: masters.into(),
            owner_keys: Arc::default(),
        }
    }

    /// The master keys this store wraps owners' keys with.
    pub fn masters(&self) -> &Keyring {
        &self.masters
    }

    /// Objects as files under `dir` (created if missing).
    pub fn local(dir: &Path, masters: impl Into<Keyring>) -> Result<BlobStore, StoreError> {
        std::fs::create_dir_all(dir)?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(BlobStore::new(Arc::new(fs), "", masters))
    }

    pub fn s3(cfg: &S3Config, master: impl Into<Keyring>) -> Result<BlobStore, StoreError> {
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
        // Owners' keys are created once: of two processes creating one at the same
        // moment, the second must read the first's (If-None-Match), not replace it.
        b = b.with_conditional_put(object_store::aws::S3ConditionalPut::ETagMatch);
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

    /// Whether the object store answers (readiness): a lookup of a name no object has, to
    /// which "not found" is an answer.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self.inner.head(&self.path("readiness-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Encrypts and stores `data` as a new object of `owner`; answers its name.
    pub async fn put(&self, owner: Owner<'_>, data: &[u8]) -> Result<String, StoreError> {
        let owner = owner.id()?;
        let owner_key = self.owner_key(&owner, true).await?;
        let key = format!("blobs/{}", uuid::Uuid::new_v4());
        let sealed = seal::seal_object(&key, &owner, &owner_key, data)
            .ok_or_else(|| StoreError::MasterKey("encryption failed".into()))?;
        self.inner
            .put(&self.path(&key), PutPayload::from(Bytes::from(sealed)))
            .await?;
        Ok(key)
    }

    /// Reads and decrypts. Fails with `Erased` if its owner was erased, `Decrypt` if the
    /// bytes were changed or the keys differ.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let sealed = self.inner.get(&self.path(key)).await?.bytes().await?;
        let bad = || StoreError::Decrypt {
            key: key.to_string(),
        };
        if let Some(owner) = seal::object_owner(&sealed) {
            let owner_key = self.owner_key(&owner, false).await?;
            return seal::open_object(key, &owner_key, &sealed).ok_or_else(bad);
        }
        let masters = self.all_masters();
        seal::open_legacy(key, masters.iter(), &sealed).ok_or_else(bad)
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

    /// Deletes an object; one already gone is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.inner.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Crypto-shredding: replaces the applicant's key by a tombstone, after which none of
    /// their objects opens (here at once; in other processes within [`OWNER_KEY_TTL`])
    /// and no new object can be stored for them.
    pub async fn erase_owner(&self, applicant_id: &str) -> Result<(), StoreError> {
        let owner = Owner::Applicant(applicant_id).id()?;
        self.inner
            .put(
                &self.path(&key_name(&owner)),
                PutPayload::from_static(seal::TOMBSTONE),
            )
            .await?;
        // After the tombstone: a key read before it is not used again here.
        self.forget(&owner);
        Ok(())
    }

    /// Deletes each object, carrying on past failures: answers (deleted, not deleted).
    pub async fn delete_each(&self, keys: &[String]) -> (usize, usize) {
        let mut failed = 0;
        for key in keys {
            if self.delete(key).await.is_err() {
                failed += 1;
            }
        }
        (keys.len() - failed, failed)
    }

    fn remember(&self, owner: &[u8; 16], key: Aes) {
        self.owner_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(*owner, (key, Instant::now()));
    }

    fn forget(&self, owner: &[u8; 16]) {
        self.owner_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(owner);
    }

    fn all_masters(&self) -> Vec<Aes> {
        self.masters.all().into_iter().map(|k| k.0).collect()
    }

    /// The owner's key: from memory while fresh, else read (and unwrapped with the master
    /// it names), else, if `create`, made and stored unless another process stored one
    /// first. A missing key when reading means the owner was erased.
    async fn owner_key(&self, owner: &[u8; 16], create: bool) -> Result<Aes, StoreError> {
        if let Some((key, at)) = self
            .owner_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(owner)
        {
            if at.elapsed() < OWNER_KEY_TTL {
                return Ok(*key);
            }
        }
        let name = key_name(owner);
        let path = self.path(&name);
        for _ in 0..3 {
            match self.inner.get(&path).await {
                Ok(found) => {
                    let wrapped = found.bytes().await?;
                    if wrapped.as_ref() == seal::TOMBSTONE {
                        return Err(StoreError::Erased);
                    }
                    let key = self.unwrap_owner_key(&name, &wrapped)?;
                    self.remember(owner, key);
                    return Ok(key);
                }
                Err(object_store::Error::NotFound { .. }) if !create => {
                    return Err(StoreError::Erased);
                }
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            let key = seal::random_key();
            let master = self.masters.current();
            let wrapped = seal::wrap(&name, master.fingerprint(), &master.0, &key)
                .ok_or_else(|| StoreError::MasterKey("encryption failed".into()))?;
            let create_only = PutOptions::from(PutMode::Create);
            match self
                .inner
                .put_opts(&path, PutPayload::from(Bytes::from(wrapped)), create_only)
                .await
            {
                Ok(_) => {
                    self.remember(owner, key);
                    return Ok(key);
                }
                // Another process made it first: read theirs.
                Err(object_store::Error::AlreadyExists { .. })
                | Err(object_store::Error::Precondition { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(
            "an owner's key kept changing while it was read",
        ))
    }

    fn unwrap_owner_key(&self, name: &str, wrapped: &[u8]) -> Result<Aes, StoreError> {
        let fingerprint = seal::wrapped_by(wrapped).ok_or_else(|| StoreError::Decrypt {
            key: name.to_string(),
        })?;
        let master = self.masters.find(fingerprint).ok_or_else(|| {
            StoreError::MasterKey(format!(
                "{name} is wrapped under a master key this process does not hold"
            ))
        })?;
        seal::unwrap(name, &master.0, wrapped).ok_or_else(|| StoreError::Decrypt {
            key: name.to_string(),
        })
    }

    /// Master-key rotation, online and resumable: every owner's key not wrapped under the
    /// current master is wrapped again under it, and every object from before owners
    /// existed is adopted by the system (its data key wrapped by the system's key, its
    /// sealed data copied unchanged). Running it again does only what is left.
    ///
    /// An owner erased while this runs may have its key written back over its tombstone
    /// by it: the caller erases again the owners its database says were erased (`idgate
    /// keys rotate` does).
    pub async fn rewrap(&self) -> Result<Rewrapped, StoreError> {
        let mut done = Rewrapped::default();
        let current = self.masters.current();
        for name in self.list("keys").await? {
            let wrapped = match self.inner.get(&self.path(&name)).await {
                Ok(found) => found.bytes().await?,
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            if wrapped.as_ref() == seal::TOMBSTONE {
                continue;
            }
            if seal::wrapped_by(&wrapped) == Some(current.fingerprint()) {
                done.keys_current += 1;
                continue;
            }
            let key = self.unwrap_owner_key(&name, &wrapped)?;
            let again = seal::wrap(&name, current.fingerprint(), &current.0, &key)
                .ok_or_else(|| StoreError::MasterKey("encryption failed".into()))?;
            self.inner
                .put(&self.path(&name), PutPayload::from(Bytes::from(again)))
                .await?;
            done.keys += 1;
        }
        let system = Owner::System.id()?;
        for name in self.list("blobs").await? {
            done.objects += 1;
            let path = self.path(&name);
            let head = match self.inner.get_range(&path, 0..5).await {
                Ok(head) => head,
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            if head.as_ref() != seal::LEGACY {
                continue;
            }
            let sealed = self.inner.get(&path).await?.bytes().await?;
            let system_key = self.owner_key(&system, true).await?;
            let masters = self.all_masters();
            let adopted = seal::adopt_legacy(&name, masters.iter(), &system, &system_key, &sealed)
                .ok_or_else(|| StoreError::Decrypt { key: name.clone() })?;
            self.inner
                .put(&path, PutPayload::from(Bytes::from(adopted)))
                .await?;
            done.adopted += 1;
        }
        Ok(done)
    }

    /// The names of the objects under `dir` (`keys`, `blobs`), without the store's prefix.
    async fn list(&self, dir: &str) -> Result<Vec<String>, StoreError> {
        let base = self.path(dir);
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut names = Vec::new();
        let mut listing = self.inner.list(Some(&base));
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            let full = meta.location.to_string();
            names.push(full.strip_prefix(&strip).unwrap_or(&full).to_string());
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    const A: &str = "0b9d6a4e-5f1c-4d3e-9a61-2f7c8e1d3b10";
    const B: &str = "7f3e2d1c-0b9a-4877-a665-544332211000";

    /// Whether the applicant has a usable key: not erased, and has stored something.
    async fn owner_exists(s: &BlobStore, applicant_id: &str) -> bool {
        let owner = Owner::Applicant(applicant_id).id().unwrap();
        match s.inner.get(&s.path(&key_name(&owner))).await {
            Ok(found) => found.bytes().await.unwrap().as_ref() != seal::TOMBSTONE,
            Err(object_store::Error::NotFound { .. }) => false,
            Err(e) => panic!("{e}"),
        }
    }

    fn store(master: MasterKey) -> (Arc<InMemory>, BlobStore) {
        let mem = Arc::new(InMemory::new());
        (mem.clone(), BlobStore::new(mem, "p", master))
    }

    #[tokio::test]
    async fn round_trip_and_nothing_readable_at_rest() {
        let (_, s) = store(MasterKey::generate());
        let image = b"\xff\xd8\xff\xe0 pretend this is a passport photo".repeat(50);
        for owner in [Owner::Applicant(A), Owner::System] {
            let key = s.put(owner, &image).await.unwrap();
            assert_eq!(s.get(&key).await.unwrap(), image);
            let raw = s.get_raw(&key).await.unwrap();
            assert!(
                !raw.windows(16).any(|w| image.windows(16).any(|i| i == w)),
                "plaintext at rest"
            );
        }
        assert!(matches!(
            s.put(Owner::Applicant("not-a-uuid"), b"x").await,
            Err(StoreError::Corrupt(_))
        ));
    }

    #[tokio::test]
    async fn wrong_master_key_or_tampering_fails_to_open() {
        let (mem, s) = store(MasterKey::generate());
        let key = s.put(Owner::Applicant(A), b"secret").await.unwrap();
        let other = BlobStore::new(mem.clone(), "p", MasterKey::generate());
        assert!(matches!(
            other.get(&key).await,
            Err(StoreError::MasterKey(_))
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
        let key = s
            .put(Owner::Applicant(A), b"one applicant's image")
            .await
            .unwrap();
        let raw = s.get_raw(&key).await.unwrap();
        mem.put(&ObjectPath::from("p/blobs/other"), PutPayload::from(raw))
            .await
            .unwrap();
        assert!(matches!(
            s.get("blobs/other").await,
            Err(StoreError::Decrypt { .. })
        ));
    }

    #[tokio::test]
    async fn erasing_an_applicant_leaves_nothing_of_theirs_that_opens() {
        let (mem, s) = store(MasterKey::generate());
        let theirs = s.put(Owner::Applicant(A), b"A's passport").await.unwrap();
        let kept_copy = s.get_raw(&theirs).await.unwrap();
        let other = s.put(Owner::Applicant(B), b"B's passport").await.unwrap();
        let system = s.put(Owner::System, b"a reviewer's secret").await.unwrap();
        // A second process that has read A's key before the erasure.
        let elsewhere = BlobStore::new(mem.clone(), "p", s.masters.clone());
        assert_eq!(elsewhere.get(&theirs).await.unwrap(), b"A's passport");

        assert!(owner_exists(&s, A).await);
        s.erase_owner(A).await.unwrap();
        assert!(!owner_exists(&s, A).await);
        assert!(matches!(s.get(&theirs).await, Err(StoreError::Erased)));
        // A copy of the object (a backup of the bucket) opens no more than the object.
        mem.put(
            &ObjectPath::from(format!("p/{theirs}")),
            PutPayload::from(kept_copy),
        )
        .await
        .unwrap();
        assert!(matches!(s.get(&theirs).await, Err(StoreError::Erased)));
        // The other process stops opening it once its remembered key is stale.
        let fresh = BlobStore::new(mem.clone(), "p", s.masters.clone());
        assert!(matches!(fresh.get(&theirs).await, Err(StoreError::Erased)));
        assert_eq!(s.get(&other).await.unwrap(), b"B's passport");
        assert_eq!(s.get(&system).await.unwrap(), b"a reviewer's secret");
        // Nothing new is stored for them; erasing twice is the same as once.
        assert!(matches!(
            s.put(Owner::Applicant(A), b"more").await,
            Err(StoreError::Erased)
        ));
        s.erase_owner(A).await.unwrap();
        assert!(owner_exists(&s, B).await);
        assert!(!owner_exists(&s, "1d2c3b4a-0000-4000-8000-000000000000").await);
    }

    #[tokio::test]
    async fn two_processes_making_one_owners_key_agree_on_it() {
        let mem = Arc::new(InMemory::new());
        let master = MasterKey::generate();
        let one = BlobStore::new(mem.clone(), "p", master.clone());
        let two = BlobStore::new(mem.clone(), "p", master);
        let (a, b) = tokio::join!(
            one.put(Owner::Applicant(A), b"front"),
            two.put(Owner::Applicant(A), b"back")
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let three = BlobStore::new(mem, "p", one.masters.clone());
        assert_eq!(three.get(&a).await.unwrap(), b"front");
        assert_eq!(three.get(&b).await.unwrap(), b"back");
    }

    #[tokio::test]
    async fn rotation_rewraps_keys_and_adopts_old_objects_without_touching_their_data() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("master.key");
        let masters = Keyring::load_or_create(&key_file).unwrap();
        let old = masters.current();
        let mem = Arc::new(InMemory::new());
        let s = BlobStore::new(mem.clone(), "p", masters.clone());
        let image = b"an image".repeat(100);
        let ours = s.put(Owner::Applicant(A), &image).await.unwrap();
        let mine = s.put(Owner::System, b"totp").await.unwrap();
        let legacy = seal::seal_legacy("blobs/legacy", &old.0, &image);
        let legacy_data = legacy[legacy.len() - image.len() - 16..].to_vec();
        mem.put(
            &ObjectPath::from("p/blobs/legacy"),
            PutPayload::from(legacy),
        )
        .await
        .unwrap();
        let before = s.get_raw(&ours).await.unwrap();

        // Another process serving throughout, holding only the old key in memory.
        let serving = BlobStore::new(mem.clone(), "p", Keyring::from_file(&key_file).unwrap());
        let new = masters.add_new_key().unwrap();
        let done = s.rewrap().await.unwrap();
        assert_eq!(
            done,
            Rewrapped {
                keys: 2,
                keys_current: 0,
                adopted: 1,
                objects: 3
            }
        );
        // The images' sealed bytes are the same; the adopted one keeps its sealed data.
        assert_eq!(s.get_raw(&ours).await.unwrap(), before);
        let adopted = s.get_raw("blobs/legacy").await.unwrap();
        assert_eq!(&adopted[..5], seal::OBJECT);
        assert!(adopted.ends_with(&legacy_data));
        assert_eq!(s.get("blobs/legacy").await.unwrap(), image);

        // Resumable: a second run finds nothing left.
        let again = s.rewrap().await.unwrap();
        assert_eq!((again.keys, again.keys_current, again.adopted), (0, 2, 0));

        // Only the new key kept: everything opens under it, in a new process and in
        // the one that served throughout.
        masters.retire_older().unwrap();
        let only_new = BlobStore::new(mem.clone(), "p", new);
        assert_eq!(only_new.get(&ours).await.unwrap(), image);
        assert_eq!(only_new.get(&mine).await.unwrap(), b"totp");
        assert_eq!(only_new.get("blobs/legacy").await.unwrap(), image);
        let later = serving.put(Owner::Applicant(B), b"after").await.unwrap();
        assert_eq!(only_new.get(&later).await.unwrap(), b"after");
        assert_eq!(serving.get(&ours).await.unwrap(), image);
        let with_old = BlobStore::new(mem, "p", old);
        assert!(with_old.get("blobs/legacy").await.is_err());
    }
}
