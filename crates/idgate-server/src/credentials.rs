//! The service's own credentials: platform API keys (`idg_...`), reviewer tokens
//! (`idr_...`) and applicant-session tokens (`igs_...`), 32 random bytes each, stored only
//! as SHA-256 digests. Used by the HTTP layer to authenticate and by `idgate apikey` and
//! start-up to issue them.

use sha2::{Digest, Sha256};

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    hex::encode(bytes)
}

/// A new random API key: `idg_` and 64 hex characters.
pub fn generate_api_key() -> String {
    format!("idg_{}", random_hex())
}

/// A new reviewer token: `idr_` and 64 hex characters.
pub fn generate_token() -> String {
    format!("idr_{}", random_hex())
}

/// A new applicant-session token: `igs_` and 64 hex characters.
pub fn generate_session_token() -> String {
    format!("igs_{}", random_hex())
}

/// SHA-256 of an API key, the only form in which keys are stored.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// SHA-256 of a reviewer token, the only form in which tokens are stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_tokens_are_fresh_prefixed_and_stored_only_as_digests() {
        let (a, b) = (generate_api_key(), generate_api_key());
        assert!(a.starts_with("idg_") && a.len() == 68 && a != b);
        assert!(generate_token().starts_with("idr_"));
        assert!(generate_session_token().starts_with("igs_"));
        let h = hash_api_key(&a);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&a[4..]));
        assert_eq!(h, hash_api_key(&a));
        assert_ne!(h, hash_api_key(&b));
    }
}
