//! idgate's one verification pipeline: everything that decides a case, from the stored
//! images and entered data to the stored decision. The service's workers and
//! `idgate verify` both call [`Pipeline::decide_case`]; workers keep only leasing,
//! heartbeats and backoff around it.
//!
//! The pipeline reaches the world through narrow traits ([`edges`]): the case store, the
//! blob store, the document checker, the face engine and the clock. Each has its real
//! implementation (the database, the encrypted blobs, the OCR and face models) and an
//! in-memory one ([`memory`], with the `memory` feature) for tests that need neither model
//! files nor a database.

pub mod case;
pub mod change;
pub mod edges;
pub mod entered;
pub mod error;
pub mod evidence;
pub mod faces;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
#[cfg(any(test, feature = "memory"))]
mod memory_blobs;
pub mod photo;
pub mod record;
#[cfg(test)]
mod tests;

pub use case::{Decided, IdentityScreen, Pipeline, PipelineError, Plan, Prepared, Submission};
pub use edges::{Blobs, CaseStore, DocumentChecker, EngineError, FaceEngine, Models};
pub use entered::{DocumentFile, EnteredData, NameFile};
pub use evidence::Evidence;
