//! idgate persistence.
//!
//! * [`Store`]: applicants, cases, documents, audit events, API keys and the durable job
//!   queue, in SQLite (the embedded default) or PostgreSQL, through sqlx's `Any` driver
//!   so one implementation serves both; migrations are per dialect and embedded.
//!   Decisions leave identity keys (duplicates), attempts and verified steps behind.
//!   Reviewers claim, comment on and decide cases in review; verified data changes only
//!   through an approved change request; every status change writes a webhook delivery
//!   (outbox) in its own transaction. Selfie face templates (sealed descriptors) count for
//!   duplicate search once their case is approved; liveness challenges are single use and
//!   no frame is accepted twice. Sanctions and PEP lists are kept as versions with their
//!   diffs, each source's latest entities replaced in one transaction. Applicant sessions
//!   (the hosted flow's credential) are kept as token digests with their expiry.
//!   Reviewer accounts sign in to the console: invitations, password hashes, a sealed TOTP
//!   secret's key with its last accepted step, recovery-code digests, cookie sessions with
//!   their stage and expiry, sign-in failures for throttling, and the security log;
//!   passkeys (the WebAuthn library's records) and the ceremonies in progress, used once.
//!   Business applicants (KYB) with their key parties and the relations between them.
//! * [`BlobStore`]: uploaded images, encrypted at rest with AES-256-GCM under a per-object
//!   data key, wrapped by its owner's key (an applicant's, or the system's), itself wrapped
//!   by the master key ([`Keyring`]: the current key and older ones until a rotation is
//!   done); erasing an applicant deletes their key. On the local filesystem or any
//!   S3-compatible service through `object_store`.
//!
//! Architecture invariant: every case status change goes through
//! `idgate_core::CaseStatus::apply` inside [`Store::transition`], in the same transaction
//! as its audit event.

mod accounts;
mod blob;
mod business_onboarding;
mod businesses;
mod changes;
mod db;
mod decisions;
mod documents;
mod erasure;
mod error;
mod faces;
mod jobs;
mod keyring;
mod keys;
mod monitoring;
mod passkeys;
mod review;
mod screening;
mod seal;
mod sessions;
mod signins;
mod webhooks;

pub use accounts::{Credentials, Invite};
pub use blob::{BlobStore, Keyring, MasterKey, Owner, Rewrapped, S3Config, OWNER_KEY_TTL};
pub use business_onboarding::{BusinessDocument, DocumentPage};
pub use businesses::{
    Business, BusinessData, BusinessParty, BusinessRelation, EntityParty, NewParty,
};
pub use changes::{ChangeCheckResult, ChangeRequest, NewChange};
pub use db::{
    Added, Applicant, AuditEvent, Case, CaseOrigin, Dialect, Document, DocumentData, Store,
};
pub use decisions::{AttemptRow, Claim, ClaimChange, DecisionRecord};
pub use erasure::{Erasure, Expired};
pub use error::StoreError;
pub use faces::{FaceTemplate, LivenessChallenge, LivenessShot};
pub use jobs::{Job, JobKind, QueuePlace};
pub use keys::ApiKey;
pub use monitoring::{Monitored, ScreeningAlert};
pub use passkeys::StoredPasskey;
pub use review::{CaseDecision, Comment, Holder, QueueEntry, QueueFilter, Reviewer};
pub use screening::{ListChanges, ListEntity, ListImport, ListVersion};
pub use sessions::ApplicantSession;
pub use signins::{ConsoleSession, SecurityEvent, SessionStage};
pub use webhooks::{
    AttemptResult, Delivery, DeliveryAttempt, Envelope, RenderWebhook, WebhookEvent,
};
