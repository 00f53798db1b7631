//! The pipeline's edges: the few things it reads and writes ([`CaseStore`], [`Blobs`]) and
//! the engines it runs ([`DocumentChecker`], [`FaceEngine`]); the clock is
//! [`idgate_core::Clock`]. Each has its real implementation here (the database, the
//! encrypted blob store, the OCR models, the dlib face models) and an in-memory one in
//! [`crate::memory`] for tests that need neither model files nor a database.

use idgate_core::{CaseEvent, ReasonCode};
use idgate_face::{Face, FaceModels};
use idgate_store::{
    Applicant, AttemptRow, BlobStore, Case, CaseDecision, Claim, Document, FaceTemplate,
    LivenessChallenge, Owner, Store, StoreError,
};
use idgate_vision::check::{CheckError, CheckOptions, Report};
use idgate_vision::input::InputError;
use idgate_vision::ocr::Ocr;
use image::RgbImage;
use std::future::Future;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The cases, accounts and decisions the pipeline reads and writes.
pub trait CaseStore: Send + Sync {
    fn case(&self, id: &str) -> impl Future<Output = Result<Option<Case>, StoreError>> + Send;
    fn applicant(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<Applicant>, StoreError>> + Send;
    fn documents(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Vec<Document>, StoreError>> + Send;
    /// A status change without a decision record (processing started, nothing to check).
    fn transition(
        &self,
        case_id: &str,
        event: CaseEvent,
        actor: &str,
        reasons: Option<&[ReasonCode]>,
    ) -> impl Future<Output = Result<Case, StoreError>> + Send;
    /// The account's attempts since `since` (ms), oldest first.
    fn attempts_since(
        &self,
        uid: &str,
        since: i64,
    ) -> impl Future<Output = Result<Vec<AttemptRow>, StoreError>> + Send;
    /// Names of the steps the account verified.
    fn verified_steps(
        &self,
        uid: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// Suspicions an earlier decision left on the account and no person has cleared.
    fn open_flags(
        &self,
        uid: &str,
    ) -> impl Future<Output = Result<Vec<ReasonCode>, StoreError>> + Send;
    /// Claims accounts other than `except_uid` hold on any of the key hashes.
    fn claims_on(
        &self,
        hashes: &[String],
        except_uid: &str,
    ) -> impl Future<Output = Result<Vec<Claim>, StoreError>> + Send;
    /// Face templates of every case but this one (a picture used again).
    fn faces_except_case(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Vec<FaceTemplate>, StoreError>> + Send;
    /// Faces verified on other applicants' accounts (one person, two accounts).
    fn verified_faces_except(
        &self,
        applicant_id: &str,
    ) -> impl Future<Output = Result<Vec<FaceTemplate>, StoreError>> + Send;
    /// Keeps the case's face template; answers the blob key it replaced.
    fn put_face_template(
        &self,
        applicant_id: &str,
        case_id: &str,
        blob_key: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// (case id, blob key) of the face crops other applicants sent.
    fn frame_sets_except_applicant(
        &self,
        applicant_id: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;
    fn put_frame_set(
        &self,
        applicant_id: &str,
        case_id: &str,
        challenge_id: Option<&str>,
        blob_key: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn latest_challenge(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Option<LivenessChallenge>, StoreError>> + Send;
    /// Records the blob key of what the checks saw on the case's images; answers the key
    /// it replaced.
    fn put_case_evidence(
        &self,
        case_id: &str,
        blob_key: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// The (listed entity, digest) pairs a reviewer cleared for the account: screening
    /// matches judged false, until the entity's record changes.
    fn screening_clearances(
        &self,
        uid: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;
    /// Stores a decision and everything it changes at once; an approval of a document
    /// verified on another account meanwhile is [`StoreError::DuplicateDocument`].
    fn decide_case(
        &self,
        d: &CaseDecision<'_>,
    ) -> impl Future<Output = Result<Case, StoreError>> + Send;
}

/// Encrypted blobs: uploaded images, entered data, face templates.
pub trait Blobs: Send + Sync {
    fn get(&self, key: &str) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;
    /// Stores `data` as an object of `owner` (erasing an applicant erases theirs).
    fn put(
        &self,
        owner: Owner<'_>,
        data: &[u8],
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Why an engine gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The image itself cannot be read: the applicant uploads another.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The engine could not run (models missing, inference failed): retried, then a person.
    #[error("{0}")]
    Unavailable(String),
}

/// The photo checks and MRZ reading of one document image. CPU-bound.
pub trait DocumentChecker: Send + Sync {
    fn check(&self, image: &[u8], opts: &CheckOptions) -> Result<Report, EngineError>;
}

/// Faces in a decoded image, largest first. CPU-bound.
pub trait FaceEngine: Send + Sync {
    fn faces(&self, image: &RgbImage) -> Result<Vec<Face>, EngineError>;
}

impl CaseStore for Store {
    fn case(&self, id: &str) -> impl Future<Output = Result<Option<Case>, StoreError>> + Send {
        Store::case(self, id)
    }
    fn applicant(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<Applicant>, StoreError>> + Send {
        Store::applicant(self, id)
    }
    fn documents(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Vec<Document>, StoreError>> + Send {
        Store::documents(self, case_id)
    }
    fn transition(
        &self,
        case_id: &str,
        event: CaseEvent,
        actor: &str,
        reasons: Option<&[ReasonCode]>,
    ) -> impl Future<Output = Result<Case, StoreError>> + Send {
        Store::transition(self, case_id, event, actor, reasons)
    }
    fn attempts_since(
        &self,
        uid: &str,
        since: i64,
    ) -> impl Future<Output = Result<Vec<AttemptRow>, StoreError>> + Send {
        Store::attempts_since(self, uid, since)
    }
    fn verified_steps(
        &self,
        uid: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send {
        Store::verified_steps(self, uid)
    }
    fn open_flags(
        &self,
        uid: &str,
    ) -> impl Future<Output = Result<Vec<ReasonCode>, StoreError>> + Send {
        Store::open_flags(self, uid)
    }
    fn claims_on(
        &self,
        hashes: &[String],
        except_uid: &str,
    ) -> impl Future<Output = Result<Vec<Claim>, StoreError>> + Send {
        Store::claims_on(self, hashes, except_uid)
    }
    fn screening_clearances(
        &self,
        uid: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send {
        Store::screening_clearances(self, uid)
    }
    fn faces_except_case(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Vec<FaceTemplate>, StoreError>> + Send {
        Store::faces_except_case(self, case_id)
    }
    fn verified_faces_except(
        &self,
        applicant_id: &str,
    ) -> impl Future<Output = Result<Vec<FaceTemplate>, StoreError>> + Send {
        Store::verified_faces_except(self, applicant_id)
    }
    fn put_face_template(
        &self,
        applicant_id: &str,
        case_id: &str,
        blob_key: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        Store::put_face_template(self, applicant_id, case_id, blob_key)
    }
    fn put_case_evidence(
        &self,
        case_id: &str,
        blob_key: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        Store::put_case_evidence(self, case_id, blob_key)
    }
    fn frame_sets_except_applicant(
        &self,
        applicant_id: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send {
        Store::frame_sets_except_applicant(self, applicant_id)
    }
    fn put_frame_set(
        &self,
        applicant_id: &str,
        case_id: &str,
        challenge_id: Option<&str>,
        blob_key: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        Store::put_frame_set(self, applicant_id, case_id, challenge_id, blob_key)
    }
    fn latest_challenge(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Option<LivenessChallenge>, StoreError>> + Send {
        Store::latest_challenge(self, case_id)
    }
    fn decide_case(
        &self,
        d: &CaseDecision<'_>,
    ) -> impl Future<Output = Result<Case, StoreError>> + Send {
        Store::decide_case(self, d)
    }
}

impl Blobs for BlobStore {
    fn get(&self, key: &str) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send {
        BlobStore::get(self, key)
    }
    fn put(
        &self,
        owner: Owner<'_>,
        data: &[u8],
    ) -> impl Future<Output = Result<String, StoreError>> + Send {
        BlobStore::put(self, owner, data)
    }
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        BlobStore::delete(self, key)
    }
}

impl DocumentChecker for Ocr {
    fn check(&self, image: &[u8], opts: &CheckOptions) -> Result<Report, EngineError> {
        match idgate_vision::check::check(image, self, opts) {
            Ok(report) => Ok(report),
            Err(CheckError::Input(e)) => Err(EngineError::Input(e)),
            Err(e) => Err(EngineError::Unavailable(format!("reading the MRZ: {e}"))),
        }
    }
}

impl FaceEngine for FaceModels {
    fn faces(&self, image: &RgbImage) -> Result<Vec<Face>, EngineError> {
        Ok(FaceModels::faces(self, image))
    }
}

/// The OCR and face models of a directory, each loaded on first use (a service whose
/// models are missing says so at its first case, or at start when it asks early).
pub struct Models {
    dir: PathBuf,
    ocr: OnceLock<Ocr>,
    faces: OnceLock<FaceModels>,
}

impl Models {
    pub fn new(dir: PathBuf) -> Models {
        Models {
            dir,
            ocr: OnceLock::new(),
            faces: OnceLock::new(),
        }
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub fn ocr(&self) -> anyhow::Result<&Ocr> {
        if let Some(o) = self.ocr.get() {
            return Ok(o);
        }
        let loaded = Ocr::load(&self.dir)?;
        Ok(self.ocr.get_or_init(|| loaded))
    }

    pub fn face_models(&self) -> anyhow::Result<&FaceModels> {
        if let Some(f) = self.faces.get() {
            return Ok(f);
        }
        let loaded = FaceModels::load(&self.dir)?;
        Ok(self.faces.get_or_init(|| loaded))
    }
}

impl DocumentChecker for Models {
    fn check(&self, image: &[u8], opts: &CheckOptions) -> Result<Report, EngineError> {
        let ocr = self
            .ocr()
            .map_err(|e| EngineError::Unavailable(format!("{e:#}")))?;
        DocumentChecker::check(ocr, image, opts)
    }
}

impl FaceEngine for Models {
    fn faces(&self, image: &RgbImage) -> Result<Vec<Face>, EngineError> {
        let models = self
            .face_models()
            .map_err(|e| EngineError::Unavailable(format!("{e:#}")))?;
        Ok(models.faces(image))
    }
}
