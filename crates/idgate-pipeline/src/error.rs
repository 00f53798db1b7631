//! Why a case could not be decided now, and whether trying again can help.

use crate::edges::EngineError;
use idgate_store::StoreError;

/// Why a case could not be decided now (the job is retried, then goes to a person).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored image does not match its recorded digest")]
    DigestMismatch,
    /// The checks could not run (models missing, a task panicked).
    #[error("checks failed: {0}")]
    Checks(String),
}

impl PipelineError {
    /// A stored image no longer is what was stored (its authentication or its SHA-256
    /// fails): changed on disk or in the bucket, or read with another key. Trying again
    /// cannot help.
    pub fn is_integrity(&self) -> bool {
        matches!(
            self,
            PipelineError::Store(StoreError::Decrypt { .. }) | PipelineError::DigestMismatch
        )
    }

    /// A class of failure for logs: never personal data.
    pub fn class(&self) -> &'static str {
        match self {
            PipelineError::Store(StoreError::Decrypt { .. }) => "blob_decrypt",
            PipelineError::Store(StoreError::Blob(_)) => "blob_unavailable",
            PipelineError::Store(_) => "store",
            PipelineError::DigestMismatch => "digest_mismatch",
            PipelineError::Checks(_) => "checks_failed",
        }
    }
}

impl From<EngineError> for PipelineError {
    fn from(e: EngineError) -> Self {
        PipelineError::Checks(e.to_string())
    }
}
