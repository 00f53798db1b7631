//! The service's shared state: the store, the blobs, the policy, the models and the
//! counters every request handler and worker reads.

use crate::metrics::Metrics;
use idgate_store::{BlobStore, Store};
use std::sync::Arc;
use tokio::sync::Notify;

pub struct AppState {
    pub store: Store,
    pub blobs: BlobStore,
    pub metrics: Metrics,
    pub limits: crate::config::Limits,
    /// Requests per API key and per applicant session, against `limits`.
    pub rate: crate::ratelimit::RateLimiters,
    /// Wakes idle workers when a case is submitted.
    pub jobs_ready: Notify,
    /// Tells the applicant's page that its case moved (see [`crate::live`]).
    pub live: crate::live::Live,
    /// Turns for the requests that carry files (`limits.uploads_at_once`).
    pub uploads: crate::admission::UploadGate,
    /// Levels, the document catalog and the decision rules.
    pub policy: idgate_decide::Policy,
    /// The HMAC secret of identity keys (duplicates).
    pub identity_secret: Vec<u8>,
    /// The OCR and face models, loaded on first use.
    pub models: Arc<idgate_pipeline::Models>,
    /// Sanctions and PEP screening over the store's current lists; the workers reload it
    /// when a new list version lands.
    pub screen: Arc<crate::screening::ListScreen>,
    /// The applicant's hosted flow: session lifetime, link address, embedding origins.
    pub flow: crate::config::Flow,
    /// The reviewer console: session timeouts, fresh-authentication window, throttling.
    pub console: crate::config::Console,
}

impl AppState {
    /// Photo-check options for `today` under the configured upload limits.
    pub fn check_options(&self, today: idgate_mrz::Date) -> idgate_vision::check::CheckOptions {
        let mut opts = idgate_vision::check::CheckOptions::new(today);
        opts.limits = self.limits.input();
        opts
    }

    /// Today by the store's clock (UTC), for dates entered and documents' validity.
    pub fn today(&self) -> idgate_mrz::Date {
        idgate_mrz::Date::from_unix_days(self.store.now().div_euclid(86_400_000))
    }

    /// The OCR models, loaded once.
    pub fn ocr(&self) -> anyhow::Result<&idgate_vision::ocr::Ocr> {
        self.models.ocr()
    }

    /// The face models, loaded on first use (from the same models directory).
    pub fn faces(&self) -> anyhow::Result<&idgate_face::FaceModels> {
        self.models.face_models()
    }

    /// The verification pipeline over this state's store, blobs and models.
    pub fn pipeline(&self) -> idgate_pipeline::Pipeline<'_, Store, BlobStore> {
        idgate_pipeline::Pipeline {
            policy: &self.policy,
            secret: &self.identity_secret,
            store: &self.store,
            blobs: &self.blobs,
            documents: self.models.clone(),
            faces: self.models.clone(),
            clock: self.store.clock(),
            check: self.check_options(self.today()),
            actor: "worker",
            screens: vec![&*self.screen],
        }
    }
}

pub type Shared = Arc<AppState>;
