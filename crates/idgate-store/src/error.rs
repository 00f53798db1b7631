use idgate_core::TransitionError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("blob storage: {0}")]
    Blob(#[from] object_store::Error),
    #[error("blob {key} failed authentication: wrong master key or tampered data")]
    Decrypt { key: String },
    /// The object's owner was erased: its key is gone, and with it the object.
    #[error("erased")]
    Erased,
    #[error("master key: {0}")]
    MasterKey(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("unsupported database URL scheme (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{0}")]
    Conflict(&'static str),
    /// A single-use or expiring thing (an invitation) that was used or has expired.
    #[error("{0}")]
    Gone(&'static str),
    /// An approval would verify a document another account verified first.
    #[error("this document is verified on another account")]
    DuplicateDocument,
    /// A reviewer tried to approve a case the automated checks never decided (it reached
    /// review because they could not run): only a retry or a rejection is possible.
    #[error("the automated checks did not run on this case")]
    Unchecked,
    /// The reviewer who gave a change request its first approval tried to give the second.
    #[error("a second, different reviewer must approve this change")]
    SecondReviewerRequired,
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    BusinessTransition(#[from] idgate_core::BusinessTransitionError),
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// An object the store does not hold (deleted by retention or an erasure).
    pub fn is_missing_object(&self) -> bool {
        matches!(self, StoreError::Blob(object_store::Error::NotFound { .. }))
    }

    /// The database or the object store did not answer (down, restarting, unreachable),
    /// as opposed to refusing or missing what was asked: the same request may succeed a
    /// moment later.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Blob(e) => !matches!(
                e,
                object_store::Error::NotFound { .. }
                    | object_store::Error::AlreadyExists { .. }
                    | object_store::Error::Precondition { .. }
                    | object_store::Error::NotModified { .. }
                    | object_store::Error::InvalidPath { .. }
            ),
            StoreError::Database(e) => matches!(
                e,
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed
            ),
            _ => false,
        }
    }
}
