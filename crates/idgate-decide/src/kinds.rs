//! The words of the catalog: the steps a level is made of, the kinds of identity document,
//! what an upload is and the sides photographed. Stored and sent as words, parsed once
//! where they enter.

use serde::Deserialize;

/// A step an applicant completes once; levels are sets of steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    IdentityDocument,
    Selfie,
    ProofOfAddress,
}

impl Step {
    pub const ALL: [Step; 3] = [Step::IdentityDocument, Step::Selfie, Step::ProofOfAddress];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::IdentityDocument => "identity_document",
            Step::Selfie => "selfie",
            Step::ProofOfAddress => "proof_of_address",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The kinds of identity document in the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Passport,
    NationalId,
    DriversLicense,
    ResidencePermit,
    InternationalDrivingPermit,
}

impl DocKind {
    pub const ALL: [DocKind; 5] = [
        DocKind::Passport,
        DocKind::NationalId,
        DocKind::DriversLicense,
        DocKind::ResidencePermit,
        DocKind::InternationalDrivingPermit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Passport => "passport",
            DocKind::NationalId => "national_id",
            DocKind::DriversLicense => "drivers_license",
            DocKind::ResidencePermit => "residence_permit",
            DocKind::InternationalDrivingPermit => "international_driving_permit",
        }
    }

    pub fn parse(s: &str) -> Option<DocKind> {
        DocKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A side of an upload to photograph: a passport's photo page, a card's front or back, the
/// selfie's face, a proof of address's page.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    PhotoPage,
    Front,
    Back,
    Face,
    Page,
}

impl Side {
    pub const ALL: [Side; 5] = [
        Side::PhotoPage,
        Side::Front,
        Side::Back,
        Side::Face,
        Side::Page,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Side::PhotoPage => "photo_page",
            Side::Front => "front",
            Side::Back => "back",
            Side::Face => "face",
            Side::Page => "page",
        }
    }

    pub fn parse(s: &str) -> Option<Side> {
        Side::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an upload is: a side of an identity document of a catalog kind, a selfie or a
/// proof of address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UploadKind {
    Identity(DocKind),
    Selfie,
    ProofOfAddress,
}

impl UploadKind {
    /// Every kind, identity documents first, in the catalog's order.
    pub fn all() -> impl Iterator<Item = UploadKind> {
        DocKind::ALL
            .into_iter()
            .map(UploadKind::Identity)
            .chain([UploadKind::Selfie, UploadKind::ProofOfAddress])
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UploadKind::Identity(k) => k.as_str(),
            UploadKind::Selfie => "selfie",
            UploadKind::ProofOfAddress => "proof_of_address",
        }
    }

    pub fn parse(s: &str) -> Option<UploadKind> {
        UploadKind::all().find(|k| k.as_str() == s)
    }

    /// A PDF is accepted only for what people receive as PDFs (a bank statement or a
    /// utility bill); identity documents and selfies are photographed.
    pub fn accepts_pdf(self) -> bool {
        self == UploadKind::ProofOfAddress
    }
}
