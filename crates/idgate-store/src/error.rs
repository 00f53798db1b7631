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
    /// An approval would verify a document another account verified first.
    #[error("this document is verified on another account")]
    DuplicateDocument,
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
}
