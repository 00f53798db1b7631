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
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
}
