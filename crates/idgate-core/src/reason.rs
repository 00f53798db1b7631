//! The reason catalog: stable codes (part of the public API), their default reject
//! type, and the applicant-facing message and fix. Codes never change meaning once
//! released; new ones may be added.

use std::fmt;

/// Whether the applicant may try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectType {
    /// Fix the problem and resubmit.
    Retry,
    /// Decided for good; the applicant is pointed to support.
    Final,
    /// Neither: a human reviewer decides.
    Review,
}

impl RejectType {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectType::Retry => "RETRY",
            RejectType::Final => "FINAL",
            RejectType::Review => "REVIEW",
        }
    }
    pub fn parse(s: &str) -> Option<RejectType> {
        [RejectType::Retry, RejectType::Final, RejectType::Review]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

macro_rules! catalog {
    ($( $variant:ident => $code:literal, $ty:ident, $message:literal, $fix:literal; )*) => {
        /// Every finding carries one of these codes.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ReasonCode { $( $variant, )* }

        impl ReasonCode {
            pub const ALL: &'static [ReasonCode] = &[ $( ReasonCode::$variant, )* ];

            /// The stable UPPER_SNAKE_CASE code.
            pub fn as_str(self) -> &'static str {
                match self { $( ReasonCode::$variant => $code, )* }
            }

            /// Default reject type; deployments may override it.
            pub fn default_type(self) -> RejectType {
                match self { $( ReasonCode::$variant => RejectType::$ty, )* }
            }

            /// What went wrong, in words an applicant understands.
            pub fn message(self) -> &'static str {
                match self { $( ReasonCode::$variant => $message, )* }
            }

            /// What to do about it.
            pub fn fix(self) -> &'static str {
                match self { $( ReasonCode::$variant => $fix, )* }
            }
        }
    };
}

catalog! {
    NoDocumentFound => "NO_DOCUMENT_FOUND", Retry,
        "We could not find an identity document in the photo.",
        "Place the document on a plain, dark surface and fill most of the frame with it.";
    CornersNotVisible => "CORNERS_NOT_VISIBLE", Retry,
        "Part of the document is cut off.",
        "Move the camera back until all four corners of the document are inside the frame.";
    Glare => "GLARE", Retry,
        "A reflection hides part of the document.",
        "Tilt the document or turn off the flash so no light reflects off it, then retake the photo.";
    Blurry => "BLURRY", Retry,
        "The photo is out of focus or shaken.",
        "Hold the phone still, tap the document on screen to focus, and retake the photo in good light.";
    TooDark => "TOO_DARK", Retry,
        "The photo is too dark to read.",
        "Take the photo in a well-lit room or near a window, without covering the document with a shadow.";
    LowResolution => "LOW_RESOLUTION", Retry,
        "The document is too small in the photo to read.",
        "Move closer so the document fills most of the frame, and upload the original photo, not a resized copy.";
    BlackAndWhite => "BLACK_AND_WHITE", Retry,
        "The photo is in black and white.",
        "Upload a colour photo of the original document.";
    Screenshot => "SCREENSHOT", Retry,
        "The image is a screenshot, not a photo of the document.",
        "Take a new photo of the physical document with your camera.";
    PhotoOfScreen => "PHOTO_OF_SCREEN", Retry,
        "The photo shows a screen, not the document itself.",
        "Photograph the physical document, not an image of it on another device.";
    Photocopy => "PHOTOCOPY", Retry,
        "The image is a scan or a photocopy.",
        "Photograph the original document; copies and scans are not accepted.";
    EditedImage => "EDITED_IMAGE", Retry,
        "The image appears to have been edited.",
        "Upload an unedited photo straight from your camera.";
    DocumentExpired => "DOCUMENT_EXPIRED", Retry,
        "The document has expired.",
        "Use a document that is still valid today.";
    UnsupportedDocument => "UNSUPPORTED_DOCUMENT", Retry,
        "This type of document is not accepted for the selected country.",
        "Choose one of the document types listed for your country and upload that document.";
    MissingSide => "MISSING_SIDE", Retry,
        "A required side or page of the document is missing.",
        "Upload every side the page asks for, for example both the front and the back of an ID card.";
    UnsupportedLanguage => "UNSUPPORTED_LANGUAGE", Retry,
        "We cannot read the language of this document.",
        "Use a document with Latin script or a machine-readable zone, such as a passport.";
    DamagedDocument => "DAMAGED_DOCUMENT", Retry,
        "The document looks damaged, so parts of it cannot be checked.",
        "Use an undamaged document, or another accepted document type.";
    MrzUnreadable => "MRZ_UNREADABLE", Retry,
        "We could not read the machine-readable lines at the bottom of the document.",
        "Make sure the two or three lines of characters at the bottom are sharp, uncovered and free of glare.";
    MrzInvalid => "MRZ_INVALID", Review,
        "The machine-readable lines do not pass their own checks.",
        "No action needed for now: a reviewer will look at your document.";
    DocumentNumberInvalid => "DOCUMENT_NUMBER_INVALID", Retry,
        "The document number is not a valid number for this document.",
        "Enter the document number exactly as printed, including letters, without spaces.";
    MissingDateOfBirth => "MISSING_DATE_OF_BIRTH", Retry,
        "We could not find a date of birth on the document.",
        "Upload a document that shows your full date of birth.";
    NameMismatch => "NAME_MISMATCH", Retry,
        "The name you entered does not match the name on the document.",
        "Enter your name exactly as it is printed on the document.";
    BirthDateMismatch => "BIRTH_DATE_MISMATCH", Retry,
        "The date of birth you entered does not match the document.",
        "Enter your date of birth exactly as it is printed on the document.";
    DocumentNumberMismatch => "DOCUMENT_NUMBER_MISMATCH", Retry,
        "The document number you entered does not match the document.",
        "Enter the document number exactly as printed on the document.";
    NationalityMismatch => "NATIONALITY_MISMATCH", Retry,
        "The nationality you selected does not match the document.",
        "Select the nationality shown on your document, or use a document issued by the country you selected.";
    RegionMismatch => "REGION_MISMATCH", Retry,
        "The document does not fit the country or region you selected.",
        "Select the country or region that issued your document, or upload a document from the one you selected.";
    FaceNotFound => "FACE_NOT_FOUND", Retry,
        "We could not find a face in the photo.",
        "Face the camera in good light, with your whole face inside the frame.";
    MultipleFaces => "MULTIPLE_FACES", Retry,
        "More than one face is in the photo.",
        "Make sure you are alone in the frame.";
    FaceObstructed => "FACE_OBSTRUCTED", Retry,
        "Part of your face is covered.",
        "Remove sunglasses, masks or hats and keep your hands away from your face.";
    FaceMismatch => "FACE_MISMATCH", Retry,
        "Your selfie does not match the photo on the document.",
        "Take the selfie yourself, in good light, and use your own document.";
    LivenessFailed => "LIVENESS_FAILED", Retry,
        "We could not confirm that the selfie was taken live.",
        "Follow the on-screen movements yourself, with your face in the frame the whole time.";
    LivenessTimeout => "LIVENESS_TIMEOUT", Retry,
        "The live check took too long.",
        "Start the selfie step again and complete the movements when asked.";
    DuplicateIdentity => "DUPLICATE_IDENTITY", Final,
        "This identity document is already verified on another account.",
        "Sign in to the account you verified before, or contact support to recover it.";
    DuplicateFace => "DUPLICATE_FACE", Final,
        "Your face matches an identity verified on another account.",
        "Sign in to your existing account, or contact support if you think this is a mistake.";
    Underage => "UNDERAGE", Final,
        "You are below the minimum age for this service.",
        "You can verify once you reach the minimum age.";
    RegionNotSupported => "REGION_NOT_SUPPORTED", Final,
        "We cannot offer verification in your country or region.",
        "Contact support if you believe your country was selected by mistake.";
    SanctionsMatch => "SANCTIONS_MATCH", Final,
        "We cannot complete your verification.",
        "Contact support for more information.";
    PepMatch => "PEP_MATCH", Final,
        "We cannot complete your verification online.",
        "Contact support for more information.";
    ForgerySuspected => "FORGERY_SUSPECTED", Final,
        "We cannot accept this document.",
        "Contact support for more information.";
    ComplianceReview => "COMPLIANCE_REVIEW", Review,
        "Your application needs a manual review.",
        "No action needed: we will notify you when the review is complete.";
    TooManyAttempts => "TOO_MANY_ATTEMPTS", Retry,
        "You have made too many attempts in a short time.",
        "Wait until the time shown, check every reason from your last attempt, then try again.";
}

impl ReasonCode {
    pub fn parse(code: &str) -> Option<ReasonCode> {
        ReasonCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_upper_snake_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for &c in ReasonCode::ALL {
            let s = c.as_str();
            assert!(
                s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{s}"
            );
            assert!(seen.insert(s), "{s} twice");
            assert_eq!(ReasonCode::parse(s), Some(c));
            assert!(c.message().ends_with('.') && c.fix().ends_with('.'), "{s}");
        }
        assert_eq!(ReasonCode::ALL.len(), 40);
    }

    #[test]
    fn default_types_follow_the_product_catalog() {
        use ReasonCode::*;
        for (code, ty) in [
            (Glare, RejectType::Retry),
            (MrzInvalid, RejectType::Review),
            (DuplicateIdentity, RejectType::Final),
            (DuplicateFace, RejectType::Final),
            (Underage, RejectType::Final),
            (SanctionsMatch, RejectType::Final),
            (ComplianceReview, RejectType::Review),
            (TooManyAttempts, RejectType::Retry),
        ] {
            assert_eq!(code.default_type(), ty, "{code}");
        }
    }
}
