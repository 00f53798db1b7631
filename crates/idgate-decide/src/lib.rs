//! The decision engine: turns an application (what the applicant entered), what the
//! document photos yielded, the identities other accounts hold and the account's attempt
//! history into approved / resubmission requested / rejected / in review, with every reason.
//!
//! Architecture invariant: no I/O. The policy is parsed from TOML text the caller read; the
//! store, the image checks and the clock are the caller's.
//!
//! - [`kinds`]: steps, document kinds, upload kinds and sides.
//! - [`policy`]: levels and entitlements, the document catalog for every ISO 3166-1
//!   country, consistency rules, retry limits, reject-type overrides.
//! - [`assess`]: catalog, region, nationality and issuer rules; entered vs extracted data.
//! - [`names`]: ICAO transliteration and name comparison, Chinese characters vs pinyin.
//! - [`identity`]: keyed hashes of document and person; duplicate findings.
//! - [`attempts`]: cooldowns and escalation.
//! - [`engine`]: findings to an outcome.
//! - [`business`]: business applicants' entity kinds, documents, roles; LEI check digits.
//! - [`ownership`]: a business's ownership graph and its beneficial owners.
//! - [`onboarding`]: a business's submission judged: documents, ownership, its people.

pub mod assess;
pub mod attempts;
pub mod business;
pub mod country;
pub mod engine;
pub mod finding;
pub mod identity;
pub mod kinds;
pub mod names;
pub mod onboarding;
pub mod ownership;
pub mod policy;

pub use assess::{Application, DocumentChoice, Extracted};
pub use engine::{decide, throttle, Inputs, Outcome, Verdict};
pub use finding::{unique_codes, Finding};
pub use kinds::{DocKind, Side, Step, UploadKind};
pub use policy::{LivenessLimits, Policy};
