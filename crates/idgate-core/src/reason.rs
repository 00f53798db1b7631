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
    MissingEntityDocument => "MISSING_ENTITY_DOCUMENT", Retry,
        "A document your organisation must provide is missing or was not accepted.",
        "Upload each document listed as missing, complete and legible, then submit again.";
    EntityDocumentOutdated => "ENTITY_DOCUMENT_OUTDATED", Retry,
        "A register or extract you provided is too old.",
        "Upload a copy issued within the period shown for that document.";
    OwnershipIncomplete => "OWNERSHIP_INCOMPLETE", Retry,
        "The ownership you declared does not show who ultimately owns or controls the organisation.",
        "Declare every shareholder of the organisation and of each entity that holds it, until the people behind them are named.";
    KeyPartyMissing => "KEY_PARTY_MISSING", Retry,
        "A key party your organisation must name is missing.",
        "Add a person for each role listed as missing, such as a director or an authorised signatory.";
    BeneficialOwnerNotVerified => "BENEFICIAL_OWNER_NOT_VERIFIED", Retry,
        "Not every beneficial owner or key party has completed identity verification.",
        "Ask each person listed to complete their own verification with the link sent to them.";
}

/// Languages the applicant-facing texts exist in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    /// Simplified Chinese.
    ZhHans,
}

impl Lang {
    /// From a BCP 47 tag: `zh`, `zh-CN`, `zh-Hans`... are Simplified Chinese; anything else English.
    pub fn from_tag(tag: &str) -> Lang {
        let t = tag.to_ascii_lowercase();
        if t == "zh" || t.starts_with("zh-hans") || t == "zh-cn" || t == "zh-sg" {
            Lang::ZhHans
        } else {
            Lang::En
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhHans => "zh-Hans",
        }
    }
}

impl ReasonCode {
    /// [`ReasonCode::message`] in `lang`.
    pub fn message_in(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.message(),
            Lang::ZhHans => self.message_zh_hans(),
        }
    }

    /// [`ReasonCode::fix`] in `lang`.
    pub fn fix_in(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.fix(),
            Lang::ZhHans => self.fix_zh_hans(),
        }
    }

    fn message_zh_hans(self) -> &'static str {
        match self {
            ReasonCode::NoDocumentFound => "照片中没有找到证件。",
            ReasonCode::CornersNotVisible => "证件有一部分在画面之外。",
            ReasonCode::Glare => "反光遮住了证件的一部分。",
            ReasonCode::Blurry => "照片没有对焦或拍摄时晃动了。",
            ReasonCode::TooDark => "照片太暗，无法看清。",
            ReasonCode::LowResolution => "证件在照片中太小，无法辨认。",
            ReasonCode::BlackAndWhite => "照片是黑白的。",
            ReasonCode::Screenshot => "这是一张截图，而不是证件的照片。",
            ReasonCode::PhotoOfScreen => "照片拍的是屏幕，而不是证件本身。",
            ReasonCode::Photocopy => "这是扫描件或复印件。",
            ReasonCode::EditedImage => "照片似乎经过编辑。",
            ReasonCode::DocumentExpired => "证件已过期。",
            ReasonCode::UnsupportedDocument => "所选国家或地区不接受这种证件。",
            ReasonCode::MissingSide => "缺少证件要求的某一面或某一页。",
            ReasonCode::UnsupportedLanguage => "我们无法识别该证件的语言。",
            ReasonCode::DamagedDocument => "证件似乎有损坏，部分内容无法核验。",
            ReasonCode::MrzUnreadable => "无法读取证件底部的机读码。",
            ReasonCode::MrzInvalid => "机读码未通过自身的校验。",
            ReasonCode::DocumentNumberInvalid => "该证件号码不是此类证件的有效号码。",
            ReasonCode::MissingDateOfBirth => "证件上找不到出生日期。",
            ReasonCode::NameMismatch => "您填写的姓名与证件上的姓名不一致。",
            ReasonCode::BirthDateMismatch => "您填写的出生日期与证件不一致。",
            ReasonCode::DocumentNumberMismatch => "您填写的证件号码与证件不一致。",
            ReasonCode::NationalityMismatch => "您选择的国籍与证件不一致。",
            ReasonCode::RegionMismatch => "证件与您选择的国家或地区不符。",
            ReasonCode::FaceNotFound => "照片中找不到人脸。",
            ReasonCode::MultipleFaces => "照片中有不止一张人脸。",
            ReasonCode::FaceObstructed => "您的脸部有一部分被遮挡。",
            ReasonCode::FaceMismatch => "您的自拍与证件上的照片不符。",
            ReasonCode::LivenessFailed => "无法确认自拍是实时拍摄的。",
            ReasonCode::LivenessTimeout => "活体检测用时过长。",
            ReasonCode::DuplicateIdentity => "该证件已在另一个账户上完成认证。",
            ReasonCode::DuplicateFace => "您的面部与另一个账户上已认证的身份相符。",
            ReasonCode::Underage => "您未达到使用本服务的最低年龄。",
            ReasonCode::RegionNotSupported => "我们无法在您所在的国家或地区提供认证。",
            ReasonCode::SanctionsMatch => "我们无法完成您的认证。",
            ReasonCode::PepMatch => "我们无法在线完成您的认证。",
            ReasonCode::ForgerySuspected => "我们无法接受该证件。",
            ReasonCode::ComplianceReview => "您的申请需要人工审核。",
            ReasonCode::TooManyAttempts => "您在短时间内尝试次数过多。",
            ReasonCode::MissingEntityDocument => "贵机构必须提供的一份文件缺失或未被接受。",
            ReasonCode::EntityDocumentOutdated => "您提供的登记册或摘录过旧。",
            ReasonCode::OwnershipIncomplete => "您申报的股权结构未能显示谁最终拥有或控制该机构。",
            ReasonCode::KeyPartyMissing => "贵机构必须指定的一名关键人员缺失。",
            ReasonCode::BeneficialOwnerNotVerified => {
                "并非每位受益所有人或关键人员都已完成身份认证。"
            }
        }
    }

    fn fix_zh_hans(self) -> &'static str {
        match self {
            ReasonCode::NoDocumentFound => {
                "请把证件放在纯色、深色的平面上，让证件占满画面的大部分。"
            }
            ReasonCode::CornersNotVisible => "请把手机拿远一些，让证件的四个角都在画面内。",
            ReasonCode::Glare => "请倾斜证件或关闭闪光灯，避免证件表面反光，然后重新拍摄。",
            ReasonCode::Blurry => "请拿稳手机，在屏幕上点击证件对焦，并在光线充足的地方重新拍摄。",
            ReasonCode::TooDark => "请在光线充足的室内或窗边拍摄，不要让阴影挡住证件。",
            ReasonCode::LowResolution => {
                "请靠近一些，让证件占满画面的大部分，并上传原始照片而不是压缩后的副本。"
            }
            ReasonCode::BlackAndWhite => "请上传证件原件的彩色照片。",
            ReasonCode::Screenshot => "请用相机重新拍摄证件原件。",
            ReasonCode::PhotoOfScreen => "请拍摄证件原件，不要翻拍其他设备上显示的图片。",
            ReasonCode::Photocopy => "请拍摄证件原件；不接受复印件和扫描件。",
            ReasonCode::EditedImage => "请上传相机直接拍摄、未经编辑的照片。",
            ReasonCode::DocumentExpired => "请使用目前仍在有效期内的证件。",
            ReasonCode::UnsupportedDocument => {
                "请从您所在国家或地区列出的证件类型中选择，并上传该证件。"
            }
            ReasonCode::MissingSide => "请上传页面要求的每一面，例如身份证的正面和背面。",
            ReasonCode::UnsupportedLanguage => "请使用拉丁字母证件或带机读区的证件，例如护照。",
            ReasonCode::DamagedDocument => "请使用完好的证件，或改用其他可接受的证件类型。",
            ReasonCode::MrzUnreadable => "请确保证件底部的两到三行字符清晰、未被遮挡且没有反光。",
            ReasonCode::MrzInvalid => "您暂时无需操作：审核人员会查看您的证件。",
            ReasonCode::DocumentNumberInvalid => {
                "请按证件上印刷的内容准确填写证件号码，包括字母，不要加空格。"
            }
            ReasonCode::MissingDateOfBirth => "请上传显示完整出生日期的证件。",
            ReasonCode::NameMismatch => "请按证件上印刷的内容准确填写姓名。",
            ReasonCode::BirthDateMismatch => "请按证件上印刷的内容准确填写出生日期。",
            ReasonCode::DocumentNumberMismatch => "请按证件上印刷的内容准确填写证件号码。",
            ReasonCode::NationalityMismatch => {
                "请选择证件上显示的国籍，或使用您所选国家签发的证件。"
            }
            ReasonCode::RegionMismatch => {
                "请选择签发该证件的国家或地区，或上传您所选国家或地区的证件。"
            }
            ReasonCode::FaceNotFound => "请在光线充足处正对镜头，让整张脸都在画面内。",
            ReasonCode::MultipleFaces => "请确保画面中只有您一个人。",
            ReasonCode::FaceObstructed => "请摘下墨镜、口罩或帽子，并且不要用手遮挡脸部。",
            ReasonCode::FaceMismatch => "请本人在光线充足处自拍，并使用您本人的证件。",
            ReasonCode::LivenessFailed => "请亲自按照屏幕提示完成动作，全程让脸部保持在画面内。",
            ReasonCode::LivenessTimeout => "请重新开始自拍步骤，并在提示时完成动作。",
            ReasonCode::DuplicateIdentity => "请登录您之前认证过的账户，或联系客服找回该账户。",
            ReasonCode::DuplicateFace => "请登录您已有的账户；如果您认为这是误判，请联系客服。",
            ReasonCode::Underage => "达到最低年龄后即可进行认证。",
            ReasonCode::RegionNotSupported => "如果您认为国家或地区选择有误，请联系客服。",
            ReasonCode::SanctionsMatch => "请联系客服了解更多信息。",
            ReasonCode::PepMatch => "请联系客服了解更多信息。",
            ReasonCode::ForgerySuspected => "请联系客服了解更多信息。",
            ReasonCode::ComplianceReview => "您无需操作：审核完成后我们会通知您。",
            ReasonCode::TooManyAttempts => "请等到显示的时间，核对上次的每一条原因后再试。",
            ReasonCode::MissingEntityDocument => {
                "请上传列为缺失的每份文件，确保完整清晰，然后重新提交。"
            }
            ReasonCode::EntityDocumentOutdated => "请上传在该文件所示期限内签发的副本。",
            ReasonCode::OwnershipIncomplete => {
                "请申报该机构及每个持股实体的全部股东，直至列明其背后的自然人。"
            }
            ReasonCode::KeyPartyMissing => {
                "请为列为缺失的每个角色添加一名人员，例如董事或授权签字人。"
            }
            ReasonCode::BeneficialOwnerNotVerified => {
                "请让列出的每个人使用发送给他们的链接完成各自的身份认证。"
            }
        }
    }
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
        assert_eq!(ReasonCode::ALL.len(), 45);
    }

    #[test]
    fn every_code_speaks_simplified_chinese_too() {
        let mut messages = std::collections::HashSet::new();
        for &c in ReasonCode::ALL {
            for text in [c.message_in(Lang::ZhHans), c.fix_in(Lang::ZhHans)] {
                assert!(text.ends_with('。'), "{c}: {text}");
                assert!(
                    text.chars()
                        .any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)),
                    "{c}"
                );
            }
            messages.insert(c.message_in(Lang::ZhHans));
            assert_eq!(c.message_in(Lang::En), c.message());
        }
        // Only the deliberately vague compliance texts share wording.
        assert!(messages.len() >= 43, "{}", messages.len());
        assert_eq!(Lang::from_tag("zh-CN"), Lang::ZhHans);
        assert_eq!(Lang::from_tag("zh-Hans-SG"), Lang::ZhHans);
        assert_eq!(Lang::from_tag("zh-TW"), Lang::En);
        assert_eq!(Lang::from_tag("fr"), Lang::En);
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
