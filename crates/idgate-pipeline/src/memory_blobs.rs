//! Blobs in memory for the pipeline's tests and for callers' tests (feature `memory`).

use crate::edges::Blobs;
use crate::memory::ready;
use idgate_store::{Owner, StoreError};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

/// Blobs in a map (unencrypted: nothing leaves the test).
#[derive(Default)]
pub struct MemoryBlobs {
    blobs: Mutex<HashMap<String, Vec<u8>>>,
    /// The applicant each object was stored for.
    owners: Mutex<HashMap<String, String>>,
    next: Mutex<u64>,
}

impl MemoryBlobs {
    /// The applicant an object was stored for (`None`: the system's, or unknown).
    pub fn owner_of(&self, key: &str) -> Option<String> {
        self.owners.lock().ok()?.get(key).cloned()
    }

    pub fn len(&self) -> usize {
        self.blobs.lock().map(|b| b.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Changes a stored blob behind the pipeline's back (tampering, bit rot).
    pub fn replace(&self, key: &str, data: &[u8]) {
        if let Ok(mut b) = self.blobs.lock() {
            b.insert(key.into(), data.to_vec());
        }
    }
}

impl Blobs for MemoryBlobs {
    fn get(&self, key: &str) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send {
        let found = self.blobs.lock().ok().and_then(|b| b.get(key).cloned());
        ready(found.ok_or(StoreError::NotFound { what: "blob" }))
    }
    fn put(
        &self,
        owner: Owner<'_>,
        data: &[u8],
    ) -> impl Future<Output = Result<String, StoreError>> + Send {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        *next += 1;
        let key = format!("blobs/{}", *next);
        if let Ok(mut b) = self.blobs.lock() {
            b.insert(key.clone(), data.to_vec());
        }
        if let (Ok(mut owners), Owner::Applicant(id)) = (self.owners.lock(), owner) {
            owners.insert(key.clone(), id.to_string());
        }
        ready(Ok(key))
    }
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        if let Ok(mut b) = self.blobs.lock() {
            b.remove(key);
        }
        ready(Ok(()))
    }
}
