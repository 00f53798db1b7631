//! The byte layouts of sealed objects and wrapped keys (AES-256-GCM throughout).
//!
//! ```text
//! object, owner's key  "IDGB2" | owner (16, nil = the system) | key nonce (12)
//!                       | data key sealed under the owner's key (32 + 16)
//!                       | data nonce (12) | data sealed under the data key
//! object, before owners "IDGB1" | key nonce | data key sealed under a master key | data nonce | sealed data
//! owner's key           "IDGK1" | master fingerprint (8) | nonce (12) | key sealed under that master (32 + 16)
//! erased owner's key    "IDGX1 erased"
//! ```
//!
//! An object's name is the associated data of both its seals, so an object copied to
//! another name does not open; an owner's key is sealed with its own name.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rand::RngCore;

pub(crate) const OBJECT: &[u8; 5] = b"IDGB2";
pub(crate) const LEGACY: &[u8; 5] = b"IDGB1";
const WRAPPED: &[u8; 5] = b"IDGK1";
/// What an erased owner's key is replaced by.
pub(crate) const TOMBSTONE: &[u8] = b"IDGX1 erased";
const NONCE: usize = 12;
const SEALED_KEY: usize = 32 + 16;
/// The bytes of an object before its sealed data.
pub(crate) const OBJECT_HEADER: usize = 5 + 16 + NONCE + SEALED_KEY + NONCE;
const LEGACY_HEADER: usize = 5 + NONCE + SEALED_KEY + NONCE;
const WRAPPED_LEN: usize = 5 + 8 + NONCE + SEALED_KEY;

pub(crate) type Aes = Key<Aes256Gcm>;

pub(crate) fn random_key() -> Aes {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Aes::from(bytes)
}

fn nonce() -> [u8; NONCE] {
    let mut n = [0u8; NONCE];
    rand::rngs::OsRng.fill_bytes(&mut n);
    n
}

fn encrypt(key: &Aes, nonce: &[u8], msg: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    Aes256Gcm::new(key)
        .encrypt(Nonce::from_slice(nonce), Payload { msg, aad })
        .ok()
}

fn decrypt(key: &Aes, nonce: &[u8], msg: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    Aes256Gcm::new(key)
        .decrypt(Nonce::from_slice(nonce), Payload { msg, aad })
        .ok()
}

/// `data` sealed as the object `name` of `owner`, under a new data key wrapped by
/// `owner_key`.
pub(crate) fn seal_object(
    name: &str,
    owner: &[u8; 16],
    owner_key: &Aes,
    data: &[u8],
) -> Option<Vec<u8>> {
    let data_key = random_key();
    let (key_nonce, data_nonce) = (nonce(), nonce());
    let sealed_key = encrypt(owner_key, &key_nonce, data_key.as_slice(), name.as_bytes())?;
    let sealed = encrypt(&data_key, &data_nonce, data, name.as_bytes())?;
    let mut out = Vec::with_capacity(OBJECT_HEADER + sealed.len());
    out.extend_from_slice(OBJECT);
    out.extend_from_slice(owner);
    out.extend_from_slice(&key_nonce);
    out.extend_from_slice(&sealed_key);
    out.extend_from_slice(&data_nonce);
    out.extend_from_slice(&sealed);
    Some(out)
}

/// The owner an object names, if it is an object with an owner.
pub(crate) fn object_owner(sealed: &[u8]) -> Option<[u8; 16]> {
    if sealed.len() < OBJECT_HEADER + 16 || &sealed[..5] != OBJECT {
        return None;
    }
    sealed[5..21].try_into().ok()
}

pub(crate) fn open_object(name: &str, owner_key: &Aes, sealed: &[u8]) -> Option<Vec<u8>> {
    object_owner(sealed)?;
    let at = 21;
    let key_nonce = &sealed[at..at + NONCE];
    let sealed_key = &sealed[at + NONCE..at + NONCE + SEALED_KEY];
    let data_nonce = &sealed[at + NONCE + SEALED_KEY..OBJECT_HEADER];
    let data_key = decrypt(owner_key, key_nonce, sealed_key, name.as_bytes())?;
    if data_key.len() != 32 {
        return None;
    }
    let data_key = Aes::clone_from_slice(&data_key);
    decrypt(
        &data_key,
        data_nonce,
        &sealed[OBJECT_HEADER..],
        name.as_bytes(),
    )
}

pub(crate) fn is_legacy(sealed: &[u8]) -> bool {
    sealed.len() >= LEGACY_HEADER + 16 && &sealed[..5] == LEGACY
}

/// A legacy object's data key, opened with one of `masters`.
fn legacy_data_key<'a>(
    name: &str,
    masters: impl IntoIterator<Item = &'a Aes>,
    sealed: &[u8],
) -> Option<Aes> {
    if !is_legacy(sealed) {
        return None;
    }
    let key_nonce = &sealed[5..5 + NONCE];
    let sealed_key = &sealed[5 + NONCE..5 + NONCE + SEALED_KEY];
    masters
        .into_iter()
        .find_map(|m| decrypt(m, key_nonce, sealed_key, name.as_bytes()))
        .filter(|k| k.len() == 32)
        .map(|k| Aes::clone_from_slice(&k))
}

/// Opens an object written before objects had owners (its data key wrapped directly by
/// a master key).
pub(crate) fn open_legacy<'a>(
    name: &str,
    masters: impl IntoIterator<Item = &'a Aes>,
    sealed: &[u8],
) -> Option<Vec<u8>> {
    let data_key = legacy_data_key(name, masters, sealed)?;
    let data_nonce = &sealed[5 + NONCE + SEALED_KEY..LEGACY_HEADER];
    decrypt(
        &data_key,
        data_nonce,
        &sealed[LEGACY_HEADER..],
        name.as_bytes(),
    )
}

/// A legacy object with its data key wrapped again by `owner_key` as an object of
/// `owner`: the sealed data is copied as it is, not encrypted again.
pub(crate) fn adopt_legacy<'a>(
    name: &str,
    masters: impl IntoIterator<Item = &'a Aes>,
    owner: &[u8; 16],
    owner_key: &Aes,
    sealed: &[u8],
) -> Option<Vec<u8>> {
    let data_key = legacy_data_key(name, masters, sealed)?;
    let key_nonce = nonce();
    let sealed_key = encrypt(owner_key, &key_nonce, data_key.as_slice(), name.as_bytes())?;
    let rest = &sealed[5 + NONCE + SEALED_KEY..];
    let mut out = Vec::with_capacity(OBJECT_HEADER + rest.len());
    out.extend_from_slice(OBJECT);
    out.extend_from_slice(owner);
    out.extend_from_slice(&key_nonce);
    out.extend_from_slice(&sealed_key);
    out.extend_from_slice(rest);
    Some(out)
}

/// An owner's key wrapped under a master key (named by its fingerprint).
pub(crate) fn wrap(name: &str, fingerprint: [u8; 8], master: &Aes, key: &Aes) -> Option<Vec<u8>> {
    let n = nonce();
    let sealed = encrypt(master, &n, key.as_slice(), name.as_bytes())?;
    let mut out = Vec::with_capacity(WRAPPED_LEN);
    out.extend_from_slice(WRAPPED);
    out.extend_from_slice(&fingerprint);
    out.extend_from_slice(&n);
    out.extend_from_slice(&sealed);
    Some(out)
}

/// The fingerprint of the master a wrapped key names.
pub(crate) fn wrapped_by(wrapped: &[u8]) -> Option<[u8; 8]> {
    if wrapped.len() != WRAPPED_LEN || &wrapped[..5] != WRAPPED {
        return None;
    }
    wrapped[5..13].try_into().ok()
}

pub(crate) fn unwrap(name: &str, master: &Aes, wrapped: &[u8]) -> Option<Aes> {
    wrapped_by(wrapped)?;
    let key = decrypt(master, &wrapped[13..25], &wrapped[25..], name.as_bytes())?;
    (key.len() == 32).then(|| Aes::clone_from_slice(&key))
}

/// An object as written before objects had owners, for tests of reading and adopting
/// them.
#[cfg(test)]
pub(crate) fn seal_legacy(name: &str, master: &Aes, data: &[u8]) -> Vec<u8> {
    let data_key = random_key();
    let (key_nonce, data_nonce) = (nonce(), nonce());
    let mut out = LEGACY.to_vec();
    out.extend_from_slice(&key_nonce);
    out.extend(encrypt(master, &key_nonce, data_key.as_slice(), name.as_bytes()).unwrap());
    out.extend_from_slice(&data_nonce);
    out.extend(encrypt(&data_key, &data_nonce, data, name.as_bytes()).unwrap());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_opens_under_its_name_and_owner_key_only() {
        let (k, other) = (random_key(), random_key());
        let owner = [7u8; 16];
        let sealed = seal_object("blobs/a", &owner, &k, b"portrait").unwrap();
        assert_eq!(object_owner(&sealed), Some(owner));
        assert_eq!(open_object("blobs/a", &k, &sealed).unwrap(), b"portrait");
        assert!(open_object("blobs/b", &k, &sealed).is_none());
        assert!(open_object("blobs/a", &other, &sealed).is_none());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(open_object("blobs/a", &k, &flipped).is_none());
    }

    #[test]
    fn a_wrapped_key_names_its_master() {
        let (master, key) = (random_key(), random_key());
        let w = wrap("keys/x", [1; 8], &master, &key).unwrap();
        assert_eq!(wrapped_by(&w), Some([1; 8]));
        assert_eq!(unwrap("keys/x", &master, &w).unwrap(), key);
        assert!(unwrap("keys/y", &master, &w).is_none());
        assert!(unwrap("keys/x", &random_key(), &w).is_none());
    }
}
