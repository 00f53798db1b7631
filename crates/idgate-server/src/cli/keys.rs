//! `idgate keys rotate`: a new master key, and every owner's key wrapped again under it,
//! while the service runs. Images are never encrypted again: only the small owners' keys
//! are rewritten (and objects from before owners existed get a new header, their sealed
//! data copied as it is).

use idgate_store::{BlobStore, Store};
use serde_json::{json, Value};

/// What a rotation is asked to do.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rotate {
    /// Carry on an interrupted rotation: no new key, only what is left re-wrapped.
    pub resume: bool,
    /// Once nothing is left under older keys, drop them from the key file.
    pub retire: bool,
}

/// Rotates. With a key file, a new key is put first in it (unless `resume`); with keys
/// given inline, the operator puts the new key first and this re-wraps under it.
/// Re-running is safe: what is already under the current key is left alone.
pub async fn rotate(store: &Store, blobs: &BlobStore, how: Rotate) -> anyhow::Result<Value> {
    let masters = blobs.masters();
    let from_file = masters.file().is_some();
    let added = if from_file && !how.resume {
        masters.add_new_key()?;
        true
    } else {
        false
    };
    let done = blobs.rewrap().await?;
    // An applicant erased while the keys were rewritten may have had a key written back
    // over its tombstone: erase every erased applicant's key again.
    let erased = store.erased_applicants().await?;
    for id in &erased {
        blobs.erase_owner(id).await?;
    }
    // A second pass finds what a process still holding the old key wrapped meanwhile.
    let again = blobs.rewrap().await?;
    let left = again.keys;
    let retired = if how.retire && left == 0 && from_file {
        masters.retire_older()?
    } else {
        0
    };
    Ok(json!({
        "new_key": added,
        "owner_keys_rewrapped": done.keys + again.keys,
        "owner_keys_already_current": again.keys_current,
        "objects_examined": done.objects,
        "objects_adopted": done.adopted + again.adopted,
        "erased_applicants_kept_erased": erased.len(),
        "older_keys_retired": retired,
        "master_keys_held": masters.len(),
    }))
}
