//! What the checks saw on a case's images, kept for the reviewer: each side's document
//! outline, the regions its findings point at (a glare box, a cut corner), the MRZ read from
//! it, and the faces compared (the document portrait and the selfie, with their similarity).
//!
//! Geometry is in fractions of the image as shown, its EXIF orientation applied: x of its
//! width, y of its height, so a viewer draws it over the picture at any size. The record
//! holds personal data (the MRZ): it is stored only as a sealed blob
//! ([`keep`]), and `Debug` shows its shape, never its values.

use crate::edges::{Blobs, CaseStore};
use idgate_decide::Side;
use idgate_store::{Case, Owner, StoreError};
use idgate_vision::check::Report;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A case's evidence: one entry per document side checked, and the face comparison.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub sides: Vec<SideSeen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face: Option<FaceSeen>,
}

/// What one side's photo check saw.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SideSeen {
    pub side: String,
    /// The document's corners (top left, top right, bottom right, bottom left) when its
    /// outline was found.
    pub outline: Option<[[f32; 2]; 4]>,
    /// The regions the findings point at.
    pub marks: Vec<Mark>,
    pub mrz: Option<MrzSeen>,
}

/// A finding's region: `[x, y, w, h]`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    pub code: String,
    pub area: [f32; 4],
}

/// The MRZ as read from a side, valid or not: the reviewer reads the lines and which check
/// failed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct MrzSeen {
    pub format: Option<String>,
    pub valid: bool,
    pub lines: Vec<String>,
    /// Names of the check digits that failed.
    pub failed: Vec<String>,
    /// Where the lines were read: the band's corners.
    #[serde(default)]
    pub band: Option<[[f32; 2]; 4]>,
    /// The fields, when the lines parsed.
    pub fields: Option<MrzFields>,
}

/// An MRZ's fields as printed (dates as `YYYY-MM-DD` when they are calendar dates, else
/// as printed).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct MrzFields {
    pub document_type: String,
    pub issuing_country: String,
    pub surname: String,
    pub given_names: String,
    pub document_number: String,
    pub nationality: String,
    pub birth_date: String,
    pub sex: String,
    pub expiry_date: String,
    pub optional_data: String,
}

/// The faces the selfie check compared.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceSeen {
    /// The document portrait: the side it was found on and where.
    pub portrait: Option<(String, [f32; 4])>,
    /// The selfie's face.
    pub selfie: Option<[f32; 4]>,
    /// 1 − distance / 2 between the two faces' descriptors, when both were found.
    pub similarity: Option<f32>,
    /// The similarity from which two faces are taken as one person's.
    pub threshold: f32,
}

impl fmt::Debug for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evidence")
            .field("sides", &self.sides.len())
            .field(
                "mrz_read",
                &self.sides.iter().filter(|s| s.mrz.is_some()).count(),
            )
            .field("face", &self.face.is_some())
            .finish()
    }
}

impl Evidence {
    pub fn is_empty(&self) -> bool {
        self.sides.is_empty() && self.face.is_none()
    }
}

/// `[x, y]` in pixels of an image of `size` as fractions of it (0 for an empty image).
fn fraction(p: [f32; 2], size: [f32; 2]) -> [f32; 2] {
    let of = |v: f32, n: f32| {
        if n > 0.0 {
            (v / n).clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    [of(p[0], size[0]), of(p[1], size[1])]
}

/// `[x, y, w, h]` in pixels of an image of `size` as fractions of it.
pub fn area_of(rect: [f32; 4], size: [f32; 2]) -> [f32; 4] {
    let [x0, y0] = fraction([rect[0], rect[1]], size);
    let [x1, y1] = fraction([rect[0] + rect[2], rect[1] + rect[3]], size);
    [x0, y0, x1 - x0, y1 - y0]
}

/// What a side's photo check report shows a reviewer.
pub fn side_seen(side: Side, report: &Report) -> SideSeen {
    let size = report.size;
    SideSeen {
        side: side.as_str().to_string(),
        outline: report.corners.map(|c| c.map(|p| fraction(p, size))),
        marks: report
            .findings
            .iter()
            .filter_map(|f| {
                let r = f.region?.map(|v| v as f32);
                Some(Mark {
                    code: f.code.as_str().to_string(),
                    area: area_of(r, size),
                })
            })
            .collect(),
        mrz: report.mrz.as_ref().map(|m| {
            let parsed = m.parsed.as_ref();
            let date = |d: Option<idgate_mrz::Date>, raw: &str| {
                d.map_or_else(|| raw.to_string(), |d| d.to_string())
            };
            MrzSeen {
                format: parsed.map(|p| p.format.name().to_string()),
                valid: parsed.is_some_and(|p| p.valid()),
                lines: m.lines.clone(),
                failed: parsed
                    .map(|p| p.failed_checks().map(str::to_string).collect())
                    .unwrap_or_default(),
                band: m.band.map(|q| q.map(|p| fraction(p, size))),
                fields: parsed.map(|p| {
                    let f = &p.fields;
                    MrzFields {
                        document_type: f.document_type.clone(),
                        issuing_country: f.issuing_country.clone(),
                        surname: f.surname.clone(),
                        given_names: f.given_names.clone(),
                        document_number: f.document_number.clone(),
                        nationality: f.nationality.clone(),
                        birth_date: date(f.birth_date, &f.birth_date_raw),
                        sex: f.sex.as_str().to_string(),
                        expiry_date: date(f.expiry_date, &f.expiry_date_raw),
                        optional_data: f.optional_data.clone(),
                    }
                }),
            }
        }),
    }
}

/// Seals the evidence in the blob store and records it for the case, replacing (and
/// deleting) an earlier record of the same case. Nothing is kept when nothing was seen.
pub async fn keep<S: CaseStore, B: Blobs>(
    store: &S,
    blobs: &B,
    case: &Case,
    evidence: &Evidence,
) -> Result<(), StoreError> {
    if evidence.is_empty() {
        return Ok(());
    }
    let bytes = serde_json::to_vec(evidence).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let key = blobs
        .put(Owner::Applicant(&case.applicant_id), &bytes)
        .await?;
    if let Some(old) = store.put_case_evidence(&case.id, &key).await? {
        blobs.delete(&old).await?;
    }
    Ok(())
}

/// A stored record read back; `None` for bytes that are not one (a record of a later
/// version's shape).
pub fn read(bytes: &[u8]) -> Option<Evidence> {
    serde_json::from_slice(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use idgate_core::ReasonCode;
    use idgate_vision::check::PhotoFinding;
    use idgate_vision::detail::Detail;

    #[test]
    fn geometry_is_kept_as_fractions_of_the_shown_image() {
        let report = Report {
            corners: Some([[100.0, 50.0], [900.0, 50.0], [900.0, 650.0], [100.0, 650.0]]),
            size: [1000.0, 800.0],
            findings: vec![PhotoFinding {
                code: ReasonCode::Glare,
                detail: Detail::new(),
                region: Some([500, 400, 250, 200]),
            }],
            ..Report::default()
        };
        let seen = side_seen(Side::Front, &report);
        assert_eq!(seen.side, "front");
        assert_eq!(
            seen.outline,
            Some([[0.1, 0.0625], [0.9, 0.0625], [0.9, 0.8125], [0.1, 0.8125]])
        );
        assert_eq!(seen.marks.len(), 1);
        assert_eq!(seen.marks[0].code, "GLARE");
        assert_eq!(seen.marks[0].area, [0.5, 0.5, 0.25, 0.25]);
        assert!(seen.mrz.is_none());
        // A region reaching past the image is cut at its edge.
        assert_eq!(
            area_of([900.0, 700.0, 400.0, 400.0], [1000.0, 800.0]),
            [0.9, 0.875, 0.100000024, 0.125]
        );
    }

    #[test]
    fn debug_shows_the_shape_never_the_values() {
        let ev = Evidence {
            sides: vec![SideSeen {
                side: "page".into(),
                outline: None,
                marks: Vec::new(),
                mrz: Some(MrzSeen {
                    format: Some("TD3".into()),
                    valid: true,
                    lines: vec!["P<CHNZHANG<<WEI".into()],
                    failed: Vec::new(),
                    band: None,
                    fields: None,
                }),
            }],
            face: None,
        };
        let shown = format!("{ev:?}");
        assert!(!shown.contains("ZHANG"), "{shown}");
        assert!(shown.contains("mrz_read: 1"), "{shown}");
        assert_eq!(read(&serde_json::to_vec(&ev).unwrap()), Some(ev));
        assert_eq!(read(b"not json"), None);
    }
}
