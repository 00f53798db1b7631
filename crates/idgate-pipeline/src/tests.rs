//! The pipeline's decisions on in-memory edges: no model files, no database. Each test
//! sets up what the document checker and face engine answer for each image and asserts
//! what the pipeline decides and stores.

use crate::edges::{CaseStore, DocumentChecker, EngineError, FaceEngine};
use crate::memory::{MemoryBlobs, MemoryStore, ScriptedChecker, ScriptedFaces};
use crate::{Blobs, EnteredData, IdentityScreen, Pipeline, PipelineError};
use idgate_core::{CaseStatus, ChallengeStatus, ClaimStatus, FixedClock, KeyKind, ReasonCode};
use idgate_decide::{Application, Extracted, Finding, Outcome, Policy};
use idgate_face::occlusion::Measures;
use idgate_face::{Descriptor, Face, Landmarks};
use idgate_mrz::{Date, Format};
use idgate_store::Owner;
use idgate_vision::check::{CheckOptions, MrzReading, Report};
use std::sync::Arc;

/// 2026-11-24T10:00:00Z.
const NOW: i64 = 20_416 * 86_400_000 + 10 * 3_600_000;

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb([128, 128, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A face whose descriptor is `at` along the first axis (distances are differences of `at`).
fn face(at: f32, size: f32) -> Face {
    let mut d = [0.0f32; 128];
    d[0] = at;
    Face {
        rect: [10.0, 10.0, size, size],
        landmarks: Landmarks {
            eyes: [[[20.0, 30.0], [30.0, 30.0]], [[50.0, 30.0], [60.0, 30.0]]],
            nose: [40.0, 50.0],
        },
        descriptor: Descriptor(d),
        occlusion: Measures {
            eye_to_skin: 0.8,
            mouth_line: 0.5,
        },
        eye_openness: 0.3,
        hash: None,
    }
}

/// The holder of each passport number: three people named Zhang born the same day.
fn given_name(number: &str) -> &'static str {
    match number {
        "E12345678" => "Xiaoming",
        "G23456789" => "Min",
        _ => "Wei",
    }
}

/// The MRZ of the passport `number` of a Zhang, valid until 2035.
fn passport_report(number: &str) -> Report {
    let specimen = idgate_mrz::Specimen {
        document_code: "P".into(),
        issuing_country: "CHN".into(),
        surname: "ZHANG".into(),
        given_names: given_name(number).to_uppercase(),
        document_number: number.into(),
        nationality: "CHN".into(),
        birth_date: "950301".into(),
        sex: 'M',
        expiry_date: "350630".into(),
        optional_data: String::new(),
    };
    let lines = idgate_mrz::render(Format::Td3, &specimen).unwrap();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let opts = idgate_mrz::ParseOptions {
        today: Date::new(2026, 11, 24).unwrap(),
    };
    let parsed = idgate_mrz::parse(&refs, &opts).unwrap();
    assert!(parsed.valid());
    Report {
        mrz: Some(MrzReading {
            lines,
            parsed: Some(parsed),
            band: None,
        }),
        ..Report::default()
    }
}

fn entered(number: &str) -> EnteredData {
    serde_json::from_value(serde_json::json!({
        "nationality": "CN",
        "document": {"country": "CN", "type": "passport", "number": number},
        "name": {"given": given_name(number), "family": "Zhang"},
        "birth_date": "1995-03-01",
    }))
    .unwrap()
}

struct World {
    policy: Policy,
    clock: Arc<FixedClock>,
    store: MemoryStore,
    blobs: MemoryBlobs,
    checker: Arc<ScriptedChecker>,
    faces: Arc<ScriptedFaces>,
    screens: Vec<Arc<dyn IdentityScreen>>,
}

/// A submitted case's images: a passport page of a given size and a selfie of another.
struct Images {
    page: Vec<u8>,
    selfie: Vec<u8>,
}

impl World {
    fn new(liveness_required: bool) -> World {
        let mut policy = Policy::default();
        policy.liveness_required = liveness_required;
        let clock = Arc::new(FixedClock::new(NOW));
        World {
            policy,
            store: MemoryStore::new(clock.clone()),
            clock,
            blobs: MemoryBlobs::default(),
            checker: Arc::default(),
            faces: Arc::default(),
            screens: Vec::new(),
        }
    }

    fn pipeline(&self) -> Pipeline<'_, MemoryStore, MemoryBlobs> {
        Pipeline {
            policy: &self.policy,
            secret: b"test secret",
            store: &self.store,
            blobs: &self.blobs,
            documents: self.checker.clone(),
            faces: self.faces.clone(),
            clock: &*self.clock,
            check: CheckOptions::new(Date::new(2026, 11, 24).unwrap()),
            actor: "test",
            screens: self.screens.iter().map(|s| &**s).collect(),
        }
    }

    /// Images whose checks answer a clean passport page numbered `number` showing a
    /// portrait at `portrait`, and a selfie of the face at `selfie` (distinct sizes tell
    /// the images apart).
    fn images(&self, n: u32, number: &str, portrait: f32, selfie: f32) -> Images {
        let (page, selfie_png) = (png(200 + n, 140), png(100 + n, 120));
        self.checker.answer(&page, passport_report(number));
        self.faces.answer(200 + n, 140, vec![face(portrait, 30.0)]);
        self.faces.answer(100 + n, 120, vec![face(selfie, 80.0)]);
        Images {
            page,
            selfie: selfie_png,
        }
    }

    /// A submitted case of a new or existing applicant `uid` with the images and data.
    async fn submit(&self, uid: &str, level: &str, images: &Images, number: &str) -> String {
        let applicant = match self.store.applicant_by_uid_now(uid) {
            Some(a) => a,
            None => self.store.add_applicant(uid, "CN"),
        };
        let case = self.store.add_case(&applicant.id, level);
        for (kind, side, bytes) in [
            ("passport", "photo_page", &images.page),
            ("selfie", "face", &images.selfie),
        ] {
            let key = self
                .blobs
                .put(Owner::Applicant(&applicant.id), bytes)
                .await
                .unwrap();
            self.store.add_document(&case.id, kind, side, &key, bytes);
        }
        let data = serde_json::to_vec(&entered(number)).unwrap();
        let key = self
            .blobs
            .put(Owner::Applicant(&applicant.id), &data)
            .await
            .unwrap();
        self.store.set_data(&case.id, &key).unwrap();
        self.store.submit(&case.id).unwrap();
        case.id
    }

    fn codes(&self, case: &str) -> Vec<ReasonCode> {
        self.store.case_now(case).unwrap().reasons
    }
}

#[tokio::test]
async fn a_clean_application_is_approved_and_its_face_and_document_are_kept() {
    let w = World::new(false);
    let images = w.images(1, "E12345678", 0.0, 0.1);
    let case = w.submit("zhang", "basic", &images, "E12345678").await;
    let decided = w.pipeline().decide_case(&case).await.unwrap().unwrap();
    assert_eq!(
        decided.verdict.outcome,
        Outcome::Approved,
        "{:?}",
        decided.verdict
    );
    let stored = w.store.case_now(&case).unwrap();
    assert_eq!(stored.status, CaseStatus::Approved);
    assert!(stored.checked);
    assert_eq!(w.store.attempts_of("zhang").len(), 1);
    assert!(w.store.claims().iter().any(|c| c.kind == KeyKind::Document
        && c.status == ClaimStatus::Verified
        && c.uid == "zhang"));
    let faces = w.store.face_templates();
    assert_eq!(faces.len(), 1);
    assert!(
        faces[0].verified,
        "the approved face joins the duplicate search"
    );
    // Deciding it again does nothing: it is decided.
    assert!(w.pipeline().decide_case(&case).await.unwrap().is_none());
    assert_eq!(w.store.attempts_of("zhang").len(), 1);
}

#[tokio::test]
async fn a_selfie_of_someone_else_is_sent_back_with_the_similarity() {
    let w = World::new(false);
    let images = w.images(1, "E12345678", 0.0, 0.9);
    let case = w.submit("zhang", "basic", &images, "E12345678").await;
    let decided = w.pipeline().decide_case(&case).await.unwrap().unwrap();
    assert_eq!(decided.verdict.outcome, Outcome::ResubmissionRequested);
    assert_eq!(w.codes(&case), [ReasonCode::FaceMismatch]);
    let f = &decided.verdict.findings[0];
    assert_eq!(f.subject.as_deref(), Some("selfie"));
    assert!(f.detail.contains("similarity"), "{}", f.detail);
    // Nothing of this account holds the document now.
    assert!(w.store.claims().is_empty());
}

#[tokio::test]
async fn the_reviewer_sees_the_outline_the_mrz_and_the_faces_the_checks_compared() {
    let w = World::new(false);
    let images = w.images(1, "E12345678", 0.0, 0.9);
    let mut report = passport_report("E12345678");
    report.size = [201.0, 140.0];
    report.corners = Some([[20.1, 14.0], [180.9, 14.0], [180.9, 126.0], [20.1, 126.0]]);
    if let Some(m) = report.mrz.as_mut() {
        m.band = Some([[20.1, 98.0], [180.9, 98.0], [180.9, 126.0], [20.1, 126.0]]);
    }
    w.checker.answer(&images.page, report);
    let case = w.submit("zhang", "basic", &images, "E12345678").await;
    w.pipeline().decide_case(&case).await.unwrap();
    let key = w.store.evidence_key(&case).expect("evidence kept");
    // Kept as the applicant's: erasing them erases it.
    let applicant = CaseStore::case(&w.store, &case)
        .await
        .unwrap()
        .unwrap()
        .applicant_id;
    assert_eq!(w.blobs.owner_of(&key), Some(applicant));
    let seen = crate::evidence::read(&w.blobs.get(&key).await.unwrap()).unwrap();
    assert_eq!(seen.sides.len(), 1);
    let side = &seen.sides[0];
    assert_eq!(side.side, "photo_page");
    assert_eq!(side.outline.unwrap()[0], [0.1, 0.1]);
    let mrz = side.mrz.as_ref().unwrap();
    assert!(mrz.valid);
    assert_eq!(mrz.format.as_deref(), Some("TD3"));
    assert_eq!(mrz.band.unwrap()[0], [0.1, 0.7]);
    let fields = mrz.fields.as_ref().unwrap();
    assert_eq!(
        (fields.surname.as_str(), fields.birth_date.as_str()),
        ("ZHANG", "1995-03-01")
    );
    // The portrait (a face 30 px wide at 10,10 on the 201×140 page) and the selfie's face
    // (80 px on 101×120), with the similarity of their descriptors 0.9 apart.
    let face = seen.face.unwrap();
    let (on, area) = face.portrait.unwrap();
    assert_eq!(on, "photo_page");
    assert!((area[2] - 30.0 / 201.0).abs() < 1e-6, "{area:?}");
    assert!((face.selfie.unwrap()[3] - 80.0 / 120.0).abs() < 1e-6);
    assert!((face.similarity.unwrap() - 0.55).abs() < 1e-6);
    assert!(face.similarity.unwrap() < face.threshold);
    // Decided again after a stopped worker: one record, the old blob deleted.
    let blobs = w.blobs.len();
    let decided_case = CaseStore::case(&w.store, &case).await.unwrap().unwrap();
    crate::evidence::keep(
        &w.store,
        &w.blobs,
        &decided_case,
        &seen_again(&key, &w).await,
    )
    .await
    .unwrap();
    assert_ne!(w.store.evidence_key(&case).unwrap(), key);
    assert_eq!(w.blobs.len(), blobs);
}

async fn seen_again(key: &str, w: &World) -> crate::Evidence {
    crate::evidence::read(&w.blobs.get(key).await.unwrap()).unwrap()
}

#[tokio::test]
async fn liveness_is_required_of_every_selfie_and_an_expired_challenge_is_a_timeout() {
    let w = World::new(true);
    let images = w.images(1, "E12345678", 0.0, 0.1);
    let case = w.submit("zhang", "basic", &images, "E12345678").await;
    w.pipeline().decide_case(&case).await.unwrap();
    assert_eq!(w.codes(&case), [ReasonCode::LivenessFailed]);

    let images = w.images(2, "E12345678", 0.0, 0.2);
    let case = w.submit("zhang", "basic", &images, "E12345678").await;
    w.store
        .add_challenge(&case, ChallengeStatus::Issued, NOW - 1);
    w.clock.advance_ms(120 * 60_000); // past the cooldown of the first failure
    w.pipeline().decide_case(&case).await.unwrap();
    assert_eq!(w.codes(&case), [ReasonCode::LivenessTimeout]);

    let images = w.images(3, "E12345678", 0.0, 0.3);
    let case = w.submit("zhang", "basic", &images, "E12345678").await;
    w.store
        .add_challenge(&case, ChallengeStatus::Passed, NOW + 600_000_000);
    w.clock.advance_ms(240 * 60_000);
    let decided = w.pipeline().decide_case(&case).await.unwrap().unwrap();
    assert_eq!(
        decided.verdict.outcome,
        Outcome::Approved,
        "{:?}",
        decided.verdict
    );
}

#[tokio::test]
async fn a_face_seen_before_is_a_replay_and_a_face_verified_elsewhere_goes_to_a_person() {
    let w = World::new(false);
    let first = w.images(1, "E12345678", 0.0, 0.1);
    let case = w.submit("zhang", "basic", &first, "E12345678").await;
    w.pipeline().decide_case(&case).await.unwrap();
    assert_eq!(
        w.store.case_now(&case).unwrap().status,
        CaseStatus::Approved
    );

    // The same face again (within re-encoding) on another account: a picture used again.
    let again = w.images(2, "G23456789", 0.0, 0.1 + 0.01);
    let case = w.submit("copy", "basic", &again, "G23456789").await;
    w.pipeline().decide_case(&case).await.unwrap();
    assert!(
        w.codes(&case).contains(&ReasonCode::LivenessFailed),
        "{:?}",
        w.codes(&case)
    );

    // A new capture of the same person (close, not a copy) on a third account.
    let twin = w.images(3, "K34567890", 0.0, 0.1 + 0.3);
    let case = w.submit("twin", "basic", &twin, "K34567890").await;
    let decided = w.pipeline().decide_case(&case).await.unwrap().unwrap();
    assert_eq!(
        decided.verdict.outcome,
        Outcome::InReview,
        "{:?}",
        decided.verdict
    );
    assert_eq!(w.codes(&case), [ReasonCode::DuplicateFace]);
}

#[tokio::test]
async fn a_document_verified_on_another_account_is_not_approved_again() {
    let w = World::new(false);
    let first = w.images(1, "E12345678", 0.0, 0.1);
    let case = w.submit("zhang", "basic", &first, "E12345678").await;
    w.pipeline().decide_case(&case).await.unwrap();

    // Another face, the same passport, another account: the engine sees the claim.
    let second = w.images(2, "E12345678", 2.0, 2.05);
    let case = w.submit("other", "basic", &second, "E12345678").await;
    let decided = w.pipeline().decide_case(&case).await.unwrap().unwrap();
    assert_eq!(decided.verdict.outcome, Outcome::Rejected);
    assert_eq!(w.codes(&case), [ReasonCode::DuplicateIdentity]);

    // A third account whose claims were read just before the first approval was stored:
    // the engine approves, the store refuses, and the rejection is what is stored.
    let third = w.images(3, "E12345678", 4.0, 4.05);
    let case = w.submit("third", "basic", &third, "E12345678").await;
    w.store.read_claims_before_a_race();
    let decided = w.pipeline().decide_case(&case).await.unwrap().unwrap();
    assert_eq!(
        decided.verdict.outcome,
        Outcome::Rejected,
        "{:?}",
        decided.verdict
    );
    assert_eq!(w.codes(&case), [ReasonCode::DuplicateIdentity]);
    assert_eq!(
        decided.verdict.findings[0].detail,
        "verified on another account meanwhile"
    );
    let verified: Vec<_> = w
        .store
        .claims()
        .into_iter()
        .filter(|c| c.kind == KeyKind::Document && c.status == ClaimStatus::Verified)
        .map(|c| c.uid)
        .collect();
    assert_eq!(verified, ["zhang"], "one verified holder per document");
}

#[tokio::test]
async fn without_documents_or_readable_data_no_check_runs() {
    let w = World::new(false);
    let a = w.store.add_applicant("empty", "CN");
    let case = w.store.add_case(&a.id, "basic");
    w.store.submit(&case.id).unwrap();
    let decided = w.pipeline().decide_case(&case.id).await.unwrap().unwrap();
    assert_eq!(decided.verdict.outcome, Outcome::ResubmissionRequested);
    assert_eq!(w.codes(&case.id), [ReasonCode::MissingSide]);
    assert!(w.store.attempts_of("empty").is_empty(), "not an attempt");

    let case = w.store.add_case(&a.id, "basic");
    let page = png(50, 50);
    let key = w.blobs.put(Owner::Applicant(&a.id), &page).await.unwrap();
    w.store
        .add_document(&case.id, "passport", "photo_page", &key, &page);
    let garbage = w
        .blobs
        .put(Owner::Applicant(&a.id), b"{not json")
        .await
        .unwrap();
    w.store.set_data(&case.id, &garbage).unwrap();
    w.store.submit(&case.id).unwrap();
    w.pipeline().decide_case(&case.id).await.unwrap();
    let stored = w.store.case_now(&case.id).unwrap();
    assert_eq!(stored.status, CaseStatus::InReview);
    assert_eq!(stored.reasons, [ReasonCode::ComplianceReview]);
    assert!(
        !stored.checked,
        "a person cannot approve what was never checked"
    );
}

#[tokio::test]
async fn an_image_changed_in_storage_or_an_engine_that_cannot_run_decides_nothing() {
    let w = World::new(false);
    let images = w.images(1, "E12345678", 0.0, 0.1);
    let case = w.submit("zhang", "basic", &images, "E12345678").await;
    // The stored page is replaced behind the store's back.
    let docs = w.store.documents(&case).await.unwrap();
    w.blobs.replace(&docs[0].data.blob_key, b"other bytes");
    let err = w.pipeline().decide_case(&case).await.unwrap_err();
    assert!(matches!(err, PipelineError::DigestMismatch), "{err}");
    assert_eq!(
        w.store.case_now(&case).unwrap().status,
        CaseStatus::Processing
    );

    struct Broken;
    impl DocumentChecker for Broken {
        fn check(&self, _: &[u8], _: &CheckOptions) -> Result<Report, EngineError> {
            Err(EngineError::Unavailable("models missing".into()))
        }
    }
    impl FaceEngine for Broken {
        fn faces(&self, _: &image::RgbImage) -> Result<Vec<Face>, EngineError> {
            Err(EngineError::Unavailable("models missing".into()))
        }
    }
    let images = w.images(2, "E12345678", 0.0, 0.1);
    let case = w.submit("zhang2", "basic", &images, "E12345678").await;
    let mut p = w.pipeline();
    p.documents = Arc::new(Broken);
    p.faces = Arc::new(Broken);
    let err = p.decide_case(&case).await.unwrap_err();
    assert_eq!(err.class(), "checks_failed");
    assert!(w.store.attempts_of("zhang2").is_empty());
    // A later run with working engines carries on from `processing`.
    let decided = w.pipeline().decide_case(&case).await.unwrap().unwrap();
    assert_eq!(
        decided.verdict.outcome,
        Outcome::Approved,
        "{:?}",
        decided.verdict
    );
}

#[tokio::test]
async fn an_identity_screen_plugs_in_before_the_engine() {
    struct Listed;
    impl IdentityScreen for Listed {
        fn screen(
            &self,
            app: &Application,
            extracted: &Extracted,
            _cleared: &[(String, String)],
        ) -> Vec<Finding> {
            let listed = app.family_name == "Zhang"
                && extracted
                    .mrz
                    .as_ref()
                    .is_some_and(|m| m.document_number == "E12345678");
            let code = ReasonCode::SanctionsMatch;
            if listed {
                vec![Finding::new(code, code.default_type(), "listed").about("identity")]
            } else {
                Vec::new()
            }
        }
    }
    let mut w = World::new(false);
    w.screens.push(Arc::new(Listed));
    let images = w.images(1, "E12345678", 0.0, 0.1);
    let case = w.submit("zhang", "basic", &images, "E12345678").await;
    let decided = w.pipeline().decide_case(&case).await.unwrap().unwrap();
    assert_ne!(decided.verdict.outcome, Outcome::Approved);
    assert_eq!(w.codes(&case), [ReasonCode::SanctionsMatch]);
    let images = w.images(2, "G23456789", 0.0, 0.5);
    let case = w.submit("zhang-b", "basic", &images, "G23456789").await;
    let decided = w.pipeline().decide_case(&case).await.unwrap().unwrap();
    assert_eq!(
        decided.verdict.outcome,
        Outcome::Approved,
        "{:?}",
        decided.verdict
    );
}
