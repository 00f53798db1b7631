//! Identity keys: what an account is remembered by for duplicate detection — a keyed hash
//! of the document (issuer, kind, number) and one of the person (name, birth date,
//! nationality). `idgate-decide` computes them, `idgate-store` keeps who holds which.

/// What an identity key identifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    Document,
    Person,
}

impl KeyKind {
    pub const ALL: [KeyKind; 2] = [KeyKind::Document, KeyKind::Person];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Document => "document",
            KeyKind::Person => "person",
        }
    }

    pub fn parse(s: &str) -> Option<KeyKind> {
        KeyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One identity key: its kind and the keyed hash (hex HMAC-SHA256). The hash reveals no
/// personal value, so `Debug` may print it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdentityKey {
    pub kind: KeyKind,
    pub hash: String,
}

impl IdentityKey {
    pub fn new(kind: KeyKind, hash: impl Into<String>) -> IdentityKey {
        IdentityKey {
            kind,
            hash: hash.into(),
        }
    }
}

/// Where an account's hold on an identity key stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimStatus {
    /// Undecided or in review: blocks other accounts' approval until decided.
    Pending,
    /// Approved: the key belongs to this account.
    Verified,
}

impl ClaimStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Pending => "pending",
            ClaimStatus::Verified => "verified",
        }
    }

    pub fn parse(s: &str) -> Option<ClaimStatus> {
        [ClaimStatus::Pending, ClaimStatus::Verified]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_kinds_and_claim_statuses_read_back_what_they_write() {
        for k in KeyKind::ALL {
            assert_eq!(KeyKind::parse(k.as_str()), Some(k));
        }
        for c in [ClaimStatus::Pending, ClaimStatus::Verified] {
            assert_eq!(ClaimStatus::parse(c.as_str()), Some(c));
        }
        assert_eq!(KeyKind::parse("Document"), None);
        assert_eq!(ClaimStatus::parse("approved"), None);
    }
}
