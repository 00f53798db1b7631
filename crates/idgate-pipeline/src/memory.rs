//! In-memory edges for tests: a case store with the same decision semantics as the
//! database (status through the state machine, attempts, identity claims with one verified
//! holder per document, verified steps, flags, faces), blobs in a map, and a document
//! checker and face engine that answer what the test set up for each image. Compiled for
//! this crate's tests and with the `memory` feature; never in the service binary.

use crate::edges::{CaseStore, DocumentChecker, EngineError, FaceEngine};
use idgate_core::{
    CaseEvent, CaseStatus, ChallengeStatus, ClaimStatus, Clock, KeyKind, ReasonCode,
};
use idgate_face::Face;
use idgate_store::{
    Applicant, AttemptRow, Case, CaseDecision, Claim, ClaimChange, Document, DocumentData,
    FaceTemplate, LivenessChallenge, StoreError,
};
use idgate_vision::check::{CheckOptions, Report};
use image::RgbImage;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;

pub use crate::memory_blobs::MemoryBlobs;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Inner {
    next_id: u64,
    applicants: Vec<Applicant>,
    cases: Vec<Case>,
    documents: Vec<Document>,
    attempts: Vec<(String, AttemptRow)>,
    verified_steps: BTreeMap<String, BTreeSet<String>>,
    /// (uid, code, cleared)
    flags: Vec<(String, ReasonCode, bool)>,
    claims: Vec<Claim>,
    faces: Vec<FaceTemplate>,
    /// (applicant, case, blob key)
    frame_sets: Vec<(String, String, String)>,
    challenges: Vec<LivenessChallenge>,
    /// Findings stored per case (JSON, as the database keeps them).
    findings: HashMap<String, String>,
    /// (uid, entity, digest) screening matches reviewers cleared.
    clearances: Vec<(String, String, String)>,
    /// The evidence blob key per case.
    evidence: HashMap<String, String>,
}

impl Inner {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    fn case_mut(&mut self, id: &str) -> Result<&mut Case, StoreError> {
        self.cases
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or(StoreError::NotFound { what: "case" })
    }

    fn transition(
        &mut self,
        id: &str,
        event: CaseEvent,
        reasons: Option<&[ReasonCode]>,
        now: i64,
    ) -> Result<Case, StoreError> {
        let case = self.case_mut(id)?;
        case.status = case.status.apply(event)?;
        if let Some(r) = reasons {
            case.reasons = r.to_vec();
        }
        case.updated_at = now;
        Ok(case.clone())
    }
}

/// The case store in memory.
pub struct MemoryStore {
    inner: Mutex<Inner>,
    clock: Arc<dyn Clock>,
    /// The next claims read answers nothing: the read came before another account's
    /// approval was stored (a race).
    stale_claims: std::sync::atomic::AtomicBool,
}

impl MemoryStore {
    pub fn new(clock: Arc<dyn Clock>) -> MemoryStore {
        MemoryStore {
            inner: Mutex::default(),
            clock,
            stale_claims: Default::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_applicant(&self, uid: &str, region: &str) -> Applicant {
        let mut g = self.lock();
        let a = Applicant {
            id: g.id("applicant"),
            uid: uid.into(),
            region: region.into(),
            created_at: self.clock.now_ms(),
            erased_at: None,
        };
        g.applicants.push(a.clone());
        a
    }

    /// A draft case of `applicant_id` at `level`.
    pub fn add_case(&self, applicant_id: &str, level: &str) -> Case {
        let mut g = self.lock();
        let now = self.clock.now_ms();
        let case = Case {
            id: g.id("case"),
            applicant_id: applicant_id.into(),
            level: level.into(),
            status: CaseStatus::Draft,
            reasons: Vec::new(),
            data_key: None,
            claimed_by: None,
            claimed_at: None,
            checked: false,
            retry_after: None,
            created_at: now,
            updated_at: now,
            origin: Default::default(),
        };
        g.cases.push(case.clone());
        case
    }

    /// A document of the case: the image is in `blob_key`, with its digest.
    pub fn add_document(
        &self,
        case_id: &str,
        kind: &str,
        side: &str,
        blob_key: &str,
        image: &[u8],
    ) {
        let mut g = self.lock();
        let doc = Document {
            id: g.id("document"),
            created_at: self.clock.now_ms(),
            data: DocumentData {
                case_id: case_id.into(),
                kind: kind.into(),
                side: side.into(),
                blob_key: blob_key.into(),
                content_type: "image/png".into(),
                size_bytes: image.len() as i64,
                sha256: hex::encode(Sha256::digest(image)),
                width: None,
                height: None,
            },
        };
        g.documents.push(doc);
    }

    pub fn set_data(&self, case_id: &str, data_key: &str) -> Result<(), StoreError> {
        self.lock().case_mut(case_id)?.data_key = Some(data_key.into());
        Ok(())
    }

    pub fn submit(&self, case_id: &str) -> Result<Case, StoreError> {
        let now = self.clock.now_ms();
        self.lock()
            .transition(case_id, CaseEvent::Submit, None, now)
    }

    /// A liveness challenge on the case in `status` (issued, passed, failed, expired).
    pub fn add_challenge(&self, case_id: &str, status: ChallengeStatus, expires_at: i64) {
        let mut g = self.lock();
        let c = LivenessChallenge {
            id: g.id("challenge"),
            case_id: case_id.into(),
            actions: vec!["turn_left".into()],
            issued_at: self.clock.now_ms(),
            expires_at,
            status,
            result: None,
            answered_at: None,
        };
        g.challenges.push(c);
    }

    pub fn applicant_by_uid_now(&self, uid: &str) -> Option<Applicant> {
        self.lock()
            .applicants
            .iter()
            .find(|a| a.uid == uid)
            .cloned()
    }

    pub fn case_now(&self, case_id: &str) -> Option<Case> {
        self.lock().cases.iter().find(|c| c.id == case_id).cloned()
    }

    /// Every attempt recorded for `uid`.
    pub fn attempts_of(&self, uid: &str) -> Vec<AttemptRow> {
        let g = self.lock();
        g.attempts
            .iter()
            .filter(|(u, _)| u == uid)
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// The claims every account holds.
    pub fn claims(&self) -> Vec<Claim> {
        self.lock().claims.clone()
    }

    /// The blob key of the case's evidence record, once one was kept.
    pub fn evidence_key(&self, case_id: &str) -> Option<String> {
        self.lock().evidence.get(case_id).cloned()
    }

    pub fn face_templates(&self) -> Vec<FaceTemplate> {
        self.lock().faces.clone()
    }

    /// The next claims read misses every claim, as a read made just before another
    /// account's approval was stored.
    pub fn read_claims_before_a_race(&self) {
        self.stale_claims
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

pub(crate) fn ready<T: Send>(v: T) -> impl Future<Output = T> + Send {
    std::future::ready(v)
}

impl CaseStore for MemoryStore {
    fn case(&self, id: &str) -> impl Future<Output = Result<Option<Case>, StoreError>> + Send {
        ready(Ok(self.case_now(id)))
    }
    fn applicant(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<Applicant>, StoreError>> + Send {
        ready(Ok(self
            .lock()
            .applicants
            .iter()
            .find(|a| a.id == id)
            .cloned()))
    }
    fn documents(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Vec<Document>, StoreError>> + Send {
        let g = self.lock();
        let docs = g.documents.iter().filter(|d| d.data.case_id == case_id);
        ready(Ok(docs.cloned().collect()))
    }
    fn transition(
        &self,
        case_id: &str,
        event: CaseEvent,
        _actor: &str,
        reasons: Option<&[ReasonCode]>,
    ) -> impl Future<Output = Result<Case, StoreError>> + Send {
        let now = self.clock.now_ms();
        ready(self.lock().transition(case_id, event, reasons, now))
    }
    fn attempts_since(
        &self,
        uid: &str,
        since: i64,
    ) -> impl Future<Output = Result<Vec<AttemptRow>, StoreError>> + Send {
        let all = self.attempts_of(uid);
        ready(Ok(all.into_iter().filter(|a| a.at >= since).collect()))
    }
    fn verified_steps(
        &self,
        uid: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send {
        let g = self.lock();
        let steps = g.verified_steps.get(uid).cloned().unwrap_or_default();
        ready(Ok(steps.into_iter().collect()))
    }
    fn open_flags(
        &self,
        uid: &str,
    ) -> impl Future<Output = Result<Vec<ReasonCode>, StoreError>> + Send {
        let g = self.lock();
        let mut out: Vec<ReasonCode> = Vec::new();
        for (u, code, cleared) in &g.flags {
            if u == uid && !cleared && !out.contains(code) {
                out.push(*code);
            }
        }
        ready(Ok(out))
    }
    fn claims_on(
        &self,
        hashes: &[String],
        except_uid: &str,
    ) -> impl Future<Output = Result<Vec<Claim>, StoreError>> + Send {
        if self
            .stale_claims
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            return ready(Ok(Vec::new()));
        }
        let g = self.lock();
        let found = g
            .claims
            .iter()
            .filter(|c| c.uid != except_uid && hashes.contains(&c.key_hash));
        ready(Ok(found.cloned().collect()))
    }
    fn faces_except_case(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Vec<FaceTemplate>, StoreError>> + Send {
        let g = self.lock();
        let found = g.faces.iter().filter(|f| f.case_id != case_id);
        ready(Ok(found.cloned().collect()))
    }
    fn verified_faces_except(
        &self,
        applicant_id: &str,
    ) -> impl Future<Output = Result<Vec<FaceTemplate>, StoreError>> + Send {
        let g = self.lock();
        let found = g
            .faces
            .iter()
            .filter(|f| f.verified && f.applicant_id != applicant_id);
        ready(Ok(found.cloned().collect()))
    }
    fn put_case_evidence(
        &self,
        case_id: &str,
        blob_key: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        let mut g = self.lock();
        let known = g.case_mut(case_id).map(|_| ());
        ready(known.map(|()| g.evidence.insert(case_id.into(), blob_key.into())))
    }
    fn put_face_template(
        &self,
        applicant_id: &str,
        case_id: &str,
        blob_key: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        let mut g = self.lock();
        let old = g
            .faces
            .iter()
            .position(|f| f.case_id == case_id)
            .map(|i| g.faces.remove(i).blob_key);
        let id = g.id("face");
        g.faces.push(FaceTemplate {
            id,
            applicant_id: applicant_id.into(),
            case_id: case_id.into(),
            blob_key: blob_key.into(),
            verified: false,
        });
        ready(Ok(old))
    }
    fn frame_sets_except_applicant(
        &self,
        applicant_id: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send {
        let g = self.lock();
        let found = g
            .frame_sets
            .iter()
            .filter(|(a, _, _)| a != applicant_id)
            .map(|(_, c, k)| (c.clone(), k.clone()));
        ready(Ok(found.collect()))
    }
    fn put_frame_set(
        &self,
        applicant_id: &str,
        case_id: &str,
        _challenge_id: Option<&str>,
        blob_key: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.lock()
            .frame_sets
            .push((applicant_id.into(), case_id.into(), blob_key.into()));
        ready(Ok(()))
    }
    fn latest_challenge(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Option<LivenessChallenge>, StoreError>> + Send {
        let g = self.lock();
        let latest = g.challenges.iter().rev().find(|c| c.case_id == case_id);
        ready(Ok(latest.cloned()))
    }
    fn screening_clearances(
        &self,
        uid: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send {
        let g = self.lock();
        let out = g
            .clearances
            .iter()
            .filter(|(u, _, _)| u == uid)
            .map(|(_, e, d)| (e.clone(), d.clone()))
            .collect();
        ready(Ok(out))
    }
    fn decide_case(
        &self,
        d: &CaseDecision<'_>,
    ) -> impl Future<Output = Result<Case, StoreError>> + Send {
        ready(self.decide_now(d))
    }
}

impl MemoryStore {
    /// [`CaseStore::decide_case`]: everything or nothing, as in one transaction.
    fn decide_now(&self, d: &CaseDecision<'_>) -> Result<Case, StoreError> {
        let now = self.clock.now_ms();
        let mut g = self.lock();
        let status = g
            .cases
            .iter()
            .find(|c| c.id == d.case_id)
            .ok_or(StoreError::NotFound { what: "case" })?
            .status
            .apply(d.event)?;
        if let Some(rec) = &d.record {
            if rec.claims == ClaimChange::Verified {
                // One verified holder per document, as the database's unique index keeps.
                let taken = rec.keys.iter().any(|k| {
                    k.kind == KeyKind::Document
                        && g.claims.iter().any(|c| {
                            c.key_hash == k.hash
                                && c.uid != rec.uid
                                && c.status == ClaimStatus::Verified
                        })
                });
                if taken {
                    return Err(StoreError::DuplicateDocument);
                }
            }
        }
        let case = g.case_mut(d.case_id)?;
        case.status = status;
        case.reasons = d.reasons.to_vec();
        case.retry_after = d.retry_after;
        case.checked |= d.checked;
        case.updated_at = now;
        let case = case.clone();
        if let Some(findings) = d.findings {
            g.findings.insert(d.case_id.into(), findings.into());
        }
        if case.status == CaseStatus::Approved && d.reviewer_id.is_some() {
            let uid = g
                .applicants
                .iter()
                .find(|a| a.id == case.applicant_id)
                .map(|a| a.uid.clone())
                .unwrap_or_default();
            for (entity, digest) in d.cleared_matches {
                g.clearances.retain(|(u, e, _)| !(*u == uid && e == entity));
                g.clearances
                    .push((uid.clone(), entity.clone(), digest.clone()));
            }
        }
        if let Some(rec) = &d.record {
            g.attempts.push((
                rec.uid.into(),
                AttemptRow {
                    at: now,
                    outcome: rec.outcome.into(),
                    reasons: rec.reasons.to_vec(),
                },
            ));
            match rec.claims {
                ClaimChange::Release => g
                    .claims
                    .retain(|c| !(c.uid == rec.uid && c.status == ClaimStatus::Pending)),
                change => {
                    let status = if change == ClaimChange::Verified {
                        ClaimStatus::Verified
                    } else {
                        ClaimStatus::Pending
                    };
                    for k in rec.keys {
                        g.claims
                            .retain(|c| !(c.uid == rec.uid && c.key_hash == k.hash));
                        g.claims.push(Claim {
                            key_hash: k.hash.clone(),
                            kind: k.kind,
                            uid: rec.uid.into(),
                            status,
                        });
                    }
                }
            }
            for code in rec.raise {
                g.flags.push((rec.uid.into(), *code, false));
            }
            let steps = g.verified_steps.entry(rec.uid.into()).or_default();
            steps.extend(rec.steps.iter().map(|s| s.to_string()));
            if rec.outcome == "rejected" {
                steps.clear();
            }
        }
        if case.status == CaseStatus::Approved {
            for f in g.faces.iter_mut().filter(|f| f.case_id == d.case_id) {
                f.verified = true;
            }
        }
        Ok(case)
    }
}

/// Answers the report set up for each image (by its bytes); any other image is one it
/// cannot read.
#[derive(Default)]
pub struct ScriptedChecker {
    reports: Mutex<HashMap<Vec<u8>, Report>>,
}

impl ScriptedChecker {
    pub fn answer(&self, image: &[u8], report: Report) {
        if let Ok(mut r) = self.reports.lock() {
            r.insert(image.to_vec(), report);
        }
    }
}

impl DocumentChecker for ScriptedChecker {
    fn check(&self, image: &[u8], _opts: &CheckOptions) -> Result<Report, EngineError> {
        let found = self.reports.lock().ok().and_then(|r| r.get(image).cloned());
        found.ok_or(EngineError::Input(
            idgate_vision::input::InputError::Unsupported,
        ))
    }
}

/// Answers the faces set up for each decoded image, told apart by its size.
#[derive(Default)]
pub struct ScriptedFaces {
    faces: Mutex<HashMap<(u32, u32), Vec<Face>>>,
}

impl ScriptedFaces {
    pub fn answer(&self, width: u32, height: u32, faces: Vec<Face>) {
        if let Ok(mut f) = self.faces.lock() {
            f.insert((width, height), faces);
        }
    }
}

impl FaceEngine for ScriptedFaces {
    fn faces(&self, image: &RgbImage) -> Result<Vec<Face>, EngineError> {
        let found = self
            .faces
            .lock()
            .ok()
            .and_then(|f| f.get(&image.dimensions()).cloned());
        Ok(found.unwrap_or_default())
    }
}
