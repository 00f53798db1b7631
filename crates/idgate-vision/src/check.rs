//! The document photo check: everything an upload is judged on before a human or the
//! decision engine sees it. Each problem becomes a [`PhotoFinding`] with a catalogue code
//! (`idgate_core::ReasonCode`), the measured value and threshold, and where it is.
//!
//! Stages, each timed:
//! 1. decode (DCT-scaled for large JPEGs, see [`crate::input::decode_scaled`]);
//! 2. originality on the whole photo: greyscale, screenshot UI chrome, screen pixel grid;
//! 3. the document's outline ([`crate::document`]), then on the flattened page: exposure,
//!    glare, focus, resolution, photocopy;
//! 4. the MRZ: text lines found by the detection network on the flattened page (or the
//!    whole photo when the page fills it), read by the recogniser, parsed and repaired by
//!    idgate-mrz; validity and expiry against an injectable date.
//!
//! [`gate`] runs stages 1–3 only, on a smaller decode: the instant feedback while the
//! applicant still holds the phone.

use crate::band;
pub use crate::detail::{Detail, Measure};
use crate::document::{self, Outline};
use crate::input::{decode_scaled_with_centre, Decoded, InputError, InputLimits};
use crate::ocr::{self, Ocr, OcrError, Steps, TextBox};
use crate::quality;
use idgate_core::reason::{ReasonCode, RejectType};
use idgate_mrz::{Date, Mrz, OcrLine, ParseOptions};
use image::imageops::FilterType;
use image::{GrayImage, RgbImage};
use imageproc::geometric_transformations::Projection;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Instant;

/// Decision thresholds. Calibrated on generated specimens and checked against the shared
/// real photos by `idgate-eval photos`; see docs/benchmarks.md.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// Mean luma of the flattened page below which it is TOO_DARK.
    pub min_brightness: f32,
    /// Focus (variance of the Laplacian, exposure-normalised) of the page at
    /// [`PAGE_WIDTH`] below which it is BLURRY.
    pub min_focus: f32,
    /// Share of the page that one blown-out region (no print left in it) may cover before
    /// it is GLARE...
    pub max_glare: f32,
    /// ...on a page whose paper level (see [`quality::Glare::paper`]) is at most this: a
    /// brighter paper cannot be told from a reflection.
    pub max_glare_paper: u8,
    /// Document width in the photo's own pixels below which it is LOW_RESOLUTION.
    pub min_document_px: f32,
    /// Mean chroma (max − min channel, 0–255) below which the photo is BLACK_AND_WHITE:
    /// a greyscale file has next to none, while even a grey scene photographed in colour
    /// carries the sensor's colour noise.
    pub min_chroma_photo: f32,
    /// Share of colourful pixels on the page below which (in a colour photo) it is a
    /// PHOTOCOPY.
    pub min_colour_page: f32,
    /// Share of the photo's rows that are perfectly flat (drawn, not photographed) at and
    /// above which it is a SCREENSHOT.
    pub min_flat_rows: f32,
    /// Spectral peak ratio of a pixel grid (periods under 4.6 px at full resolution) at
    /// and above which the photo is a PHOTO_OF_SCREEN...
    pub min_grid_peak: f32,
    /// ...when it also peaks at right angles to its strongest peak at least this much (a
    /// grid, not stripes).
    pub min_grid_across: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_brightness: 70.0,
            min_focus: 30.0,
            max_glare: 0.003,
            max_glare_paper: 244,
            min_document_px: 600.0,
            min_chroma_photo: 1.5,
            min_colour_page: 0.02,
            min_flat_rows: 0.04,
            min_grid_peak: 250.0,
            min_grid_across: 100.0,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct CheckOptions {
    /// The day expiry is judged on.
    pub today: Date,
    pub limits: InputLimits,
    pub thresholds: Thresholds,
}

impl CheckOptions {
    pub fn new(today: Date) -> CheckOptions {
        CheckOptions {
            today,
            limits: InputLimits::default(),
            thresholds: Thresholds::default(),
        }
    }
}

/// Four corners (TL, TR, BR, BL) in some image's pixels.
pub type Quad = [[f32; 2]; 4];

/// MRZ lines read from an image, how many text lines it has, and where the MRZ lines are
/// (in that image's pixels).
pub(crate) type Found = (Vec<OcrLine>, usize, Option<Quad>);

/// Width the page is flattened to for the quality measures.
pub const PAGE_WIDTH: u32 = 1000;
/// Long side of the decode for the full check (enough for the MRZ) and for the gate.
pub const CHECK_SIDE: u32 = 1600;
pub const GATE_SIDE: u32 = 800;

/// One problem found in a photo (the engine's `idgate_decide::Finding` is made from it, with
/// the policy's reject type and the side it is about).
#[derive(Clone, Debug, PartialEq)]
pub struct PhotoFinding {
    pub code: ReasonCode,
    /// Machine detail: measured value, threshold, corner names...
    pub detail: Detail,
    /// Where, in the uploaded image's pixels: [x, y, w, h].
    pub region: Option<[u32; 4]>,
}

/// The lines are personal data: `Debug` shows how many there are.
#[derive(Clone)]
pub struct MrzReading {
    /// The lines as read (after repair when the parse succeeded).
    pub lines: Vec<String>,
    pub parsed: Option<Mrz>,
    /// Where the lines were read: the band's corners (TL, TR, BR, BL) in the uploaded
    /// image's pixels, as `Report::corners`.
    pub band: Option<Quad>,
}

impl std::fmt::Debug for MrzReading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MrzReading")
            .field("lines", &self.lines.len())
            .field("parsed", &self.parsed)
            .finish()
    }
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub findings: Vec<PhotoFinding>,
    /// Document corners (TL, TR, BR, BL) in the uploaded image's pixels.
    pub corners: Option<[[f32; 2]; 4]>,
    /// The uploaded image's size in the pixels of `corners` and the regions (its
    /// orientation applied): what they are fractions of.
    pub size: [f32; 2],
    pub mrz: Option<MrzReading>,
    /// Every measure taken, whether or not it crossed its threshold.
    pub measures: Vec<(&'static str, f64)>,
    pub timings_ms: Vec<(&'static str, f64)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhotoVerdict {
    Pass,
    Retry,
    Review,
}

impl PhotoVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            PhotoVerdict::Pass => "pass",
            PhotoVerdict::Retry => "retry",
            PhotoVerdict::Review => "review",
        }
    }
}

impl Report {
    /// Retry when the applicant can fix something; review when only a human can tell
    /// (e.g. check digits that fail on a sharp photo); pass otherwise.
    pub fn verdict(&self) -> PhotoVerdict {
        let types = self.findings.iter().map(|f| f.code.default_type());
        let types: Vec<RejectType> = types.collect();
        if types.iter().any(|t| *t != RejectType::Review) {
            PhotoVerdict::Retry
        } else if types.is_empty() {
            PhotoVerdict::Pass
        } else {
            PhotoVerdict::Review
        }
    }

    pub fn has(&self, code: ReasonCode) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }

    fn flag(&mut self, code: ReasonCode, detail: Detail, region: Option<[u32; 4]>) {
        self.findings.push(PhotoFinding {
            code,
            detail,
            region,
        });
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Ocr(#[from] OcrError),
}

struct Stopwatch(Instant);

impl Stopwatch {
    fn lap(&mut self, report: &mut Report, stage: &'static str) {
        let now = Instant::now();
        report
            .timings_ms
            .push((stage, (now - self.0).as_secs_f64() * 1000.0));
        self.0 = now;
    }
}

/// Fewer text lines than this without a whole outline (and no MRZ): not a document. Even
/// a document cut by the frame, dark or shaken shows 11 or more on the generated
/// specimens; a table with a mug, a phone and wood grain shows 0–4, which the detector
/// takes for short lines of text.
const MIN_TEXT_LINES: usize = 6;

/// The quality gate: every check but the MRZ, on a reduced decode.
pub fn gate(bytes: &[u8], opts: &CheckOptions) -> Result<Report, CheckError> {
    timed(|| gate_stages(bytes, opts))
}

/// The full check, MRZ included.
pub fn check(bytes: &[u8], ocr: &Ocr, opts: &CheckOptions) -> Result<Report, CheckError> {
    timed(|| check_stages(bytes, ocr, opts))
}

/// The report of `run` with its wall time as the `total` timing (some stages overlap, so
/// the stages' times do not add up to it).
fn timed(run: impl FnOnce() -> Result<Report, CheckError>) -> Result<Report, CheckError> {
    let started = Instant::now();
    let mut report = run()?;
    let total = started.elapsed().as_secs_f64() * 1000.0;
    report.timings_ms.push(("total", total));
    Ok(report)
}

fn gate_stages(bytes: &[u8], opts: &CheckOptions) -> Result<Report, CheckError> {
    let mut clock = Stopwatch(Instant::now());
    let mut report = Report::default();
    let decoded = decode_scaled_with_centre(bytes, opts.limits, GATE_SIDE, SCREEN_PATCH as u32)?;
    clock.lap(&mut report, "decode");
    photo_checks(&decoded, opts, &mut report, &mut clock);
    Ok(report)
}

fn check_stages(bytes: &[u8], ocr: &Ocr, opts: &CheckOptions) -> Result<Report, CheckError> {
    let mut clock = Stopwatch(Instant::now());
    let mut report = Report::default();
    let decoded = decode_scaled_with_centre(bytes, opts.limits, CHECK_SIDE, SCREEN_PATCH as u32)?;
    clock.lap(&mut report, "decode");
    let page = photo_checks(&decoded, opts, &mut report, &mut clock);
    let cut = report.has(ReasonCode::CornersNotVisible);
    // Without an outline the MRZ is searched in the whole photo: a tightly cropped scan
    // fills the frame. If no MRZ is there either, there is no document. A flattened page
    // without an MRZ may be the wrong quadrilateral (a photo's frame, a card's picture):
    // the whole photo is searched then too.
    let on_page = page
        .as_ref()
        .map(|(page, _, _, to_photo)| {
            let found = page_mrz_lines(ocr, page, opts)?;
            Ok::<_, OcrError>(band::mapped(found, to_photo))
        })
        .transpose()?;
    // A page found as the hole in a pattern stops where its MRZ, as busy as the pattern
    // beside it, begins: without an MRZ it is searched again with its surroundings across
    // its short side.
    let around = match (&on_page, &page) {
        (Some(found), Some((_, corners, true, _))) if found.0.is_empty() => {
            widened(&decoded.image, corners)
                .map(|(p, to_photo)| {
                    let found = widened_mrz_lines(ocr, &p, opts)?;
                    Ok::<_, OcrError>(band::mapped(found, &to_photo))
                })
                .transpose()?
        }
        _ => None,
    };
    let (lines, text_boxes, band) = match (on_page, around) {
        (Some(found), _) if !found.0.is_empty() => found,
        (_, Some(found)) if !found.0.is_empty() => found,
        (on_page, _) => {
            let whole = mrz_lines(ocr, &decoded.image, false, opts)?;
            match on_page {
                Some(found) if whole.0.is_empty() => found,
                _ => whole,
            }
        }
    };
    clock.lap(&mut report, "mrz");
    // A hole in a pattern with no MRZ anywhere may be no page at all (a clear patch of a
    // cluttered table, a blank piece of a page busy with print): what was measured on it
    // is withdrawn, as when no outline is found.
    if lines.is_empty()
        && page
            .as_ref()
            .is_some_and(|(_, _, in_pattern, _)| *in_pattern)
    {
        report.corners = None;
        report.findings.retain(|f| {
            !matches!(
                f.code,
                ReasonCode::LowResolution
                    | ReasonCode::TooDark
                    | ReasonCode::Blurry
                    | ReasonCode::Glare
                    | ReasonCode::Photocopy
            )
        });
        flag_dark_photo(&decoded.image, &opts.thresholds, &mut report);
    }
    report.measures.push(("text_lines", text_boxes as f64));
    // An outline with hardly any text in it (a mug, a phone, a patterned cloth) is not a
    // document either: even a document's MRZ alone is two or three lines.
    // Without any outline, text still shows a document whose edges are lost (a tight scan,
    // a page on a screen); its MRZ verdict then stands alone.
    let no_outline = report.corners.is_none() && text_boxes < MIN_TEXT_LINES;
    // On a screen (photographed or captured) the moiré and the scaling hide what is shown:
    // the applicant is asked for a camera photo of the document, not told there is none.
    let on_screen = report.has(ReasonCode::PhotoOfScreen) || report.has(ReasonCode::Screenshot);
    if no_outline && lines.is_empty() && !on_screen {
        report.findings.retain(|f| {
            // On an empty table the page measures mean nothing.
            matches!(
                f.code,
                ReasonCode::BlackAndWhite | ReasonCode::Screenshot | ReasonCode::PhotoOfScreen
            ) || (f.code == ReasonCode::TooDark && !cut)
        });
        if cut {
            flag_dark_photo(&decoded.image, &opts.thresholds, &mut report);
        }
        report.flag(ReasonCode::NoDocumentFound, Detail::new(), None);
        return Ok(report);
    }
    mrz_findings(lines, opts, &mut report);
    if let Some(m) = report.mrz.as_mut() {
        let to_upload = 1.0 / decoded.scale;
        m.band = band.map(|q| q.map(|p| p.map(|v| v * to_upload)));
    }
    Ok(report)
}

/// The page of `corners` (TL, TR, BR, BL in `img`) with what lies beyond both its long
/// sides, 40 % of its short side deep, flattened with its long side across.
fn widened(img: &RgbImage, corners: &[[f32; 2]; 4]) -> Option<(RgbImage, Projection)> {
    let (w, h) = document::quad_size(corners);
    let [tl, tr, br, bl] = document::landscape(corners);
    // Moves a and b, the ends of a short side, 40 % of its length further apart.
    let apart = |a: [f32; 2], b: [f32; 2]| {
        let d = [0.4 * (b[0] - a[0]), 0.4 * (b[1] - a[1])];
        ([a[0] - d[0], a[1] - d[1]], [b[0] + d[0], b[1] + d[1]])
    };
    let ((tl, bl), (tr, br)) = (apart(tl, bl), apart(tr, br));
    let (long, short) = (w.max(h), w.min(h) * 1.8);
    let height = (PAGE_WIDTH as f32 * short / long.max(1.0)).round() as u32;
    document::warp(img, &[tl, tr, br, bl], PAGE_WIDTH, height.max(1))
}

/// The MRZ in a [`widened`] page: in its lower half, upright or turned over.
fn widened_mrz_lines(ocr: &Ocr, wide: &RgbImage, opts: &CheckOptions) -> Result<Found, OcrError> {
    let lower = |page: &RgbImage| {
        let (w, h) = page.dimensions();
        let part = image::imageops::crop_imm(page, 0, h / 2, w, h - h / 2).to_image();
        Ok::<_, OcrError>(band::below(mrz_lines(ocr, &part, true, opts)?, h / 2))
    };
    let found = lower(wide)?;
    if !found.0.is_empty() {
        return Ok(found);
    }
    let turned = lower(&image::imageops::rotate180(wide))?;
    Ok(band::turned(turned, band::Turn::Half, wide.dimensions()))
}

/// Originality on the whole photo, then the outline and the page measures. Returns the
/// flattened page, its corners in `decoded` and whether it was found as the hole in a
/// pattern, when the document was found whole.
fn photo_checks(
    decoded: &Decoded,
    opts: &CheckOptions,
    report: &mut Report,
    clock: &mut Stopwatch,
) -> Option<(RgbImage, [[f32; 2]; 4], bool, Projection)> {
    let t = &opts.thresholds;
    let img = &decoded.image;
    let to_upload = 1.0 / decoded.scale;
    report.size = [
        img.width() as f32 * to_upload,
        img.height() as f32 * to_upload,
    ];

    // The originality measures look at the whole photo and the outline search needs none
    // of them: on two cores they run side by side.
    let (originality, outline) = std::thread::scope(|s| {
        let measured = s.spawn(|| {
            let started = Instant::now();
            let chroma = mean_chroma(img);
            let flat = flat_row_share(img);
            let grid = match &decoded.centre {
                Some(centre) => grid_peaks(centre),
                None => screen_spectrum(img),
            };
            (chroma, flat, grid, started.elapsed())
        });
        let outline = document::find(img);
        (measured.join().expect("originality measures"), outline)
    });
    let (chroma, flat, grid, originality_time) = originality;
    report.measures.push(("chroma", f64::from(chroma)));
    let greyscale = chroma < t.min_chroma_photo;
    if greyscale {
        report.flag(
            ReasonCode::BlackAndWhite,
            Detail::new()
                .with("chroma", chroma)
                .with("threshold", t.min_chroma_photo),
            None,
        );
    }
    report.measures.push(("flat_rows", f64::from(flat)));
    if flat >= t.min_flat_rows {
        report.flag(
            ReasonCode::Screenshot,
            Detail::new()
                .with("flat_rows", flat)
                .with("threshold", t.min_flat_rows)
                .with("camera_metadata", decoded.has_exif),
            None,
        );
    }
    report.measures.push(("grid_peak", f64::from(grid.peak)));
    report
        .measures
        .push(("grid_across", f64::from(grid.across)));
    if grid.peak >= t.min_grid_peak && grid.across >= t.min_grid_across {
        report.flag(
            ReasonCode::PhotoOfScreen,
            Detail::new()
                .with("grid_peak", grid.peak)
                .with("threshold", t.min_grid_peak)
                .with("grid_across", grid.across)
                .with("across_threshold", t.min_grid_across),
            None,
        );
    }
    // The stages overlap: "originality" is its own time, "document" the wall time of both.
    report
        .timings_ms
        .push(("originality", originality_time.as_secs_f64() * 1000.0));
    clock.lap(report, "document");
    let (corners, in_pattern) = match outline {
        Outline::None => {
            flag_dark_photo(img, t, report);
            return None;
        }
        Outline::Cut {
            missing,
            edges,
            visible,
        } => {
            let region = visible.map(|v| (v * to_upload).max(0.0) as u32);
            report.flag(
                ReasonCode::CornersNotVisible,
                Detail::new()
                    .with("missing_corners", missing)
                    .with("photo_edges", edges),
                Some(region),
            );
            // The visible part is mostly page: its exposure is still worth a finding.
            let [x, y, w, h] = visible.map(|v| v.max(0.0) as u32);
            let part = image::imageops::crop_imm(img, x, y, w.max(1), h.max(1)).to_image();
            let light = quality::brightness(&quality::luma(&part));
            flag_too_dark(report, t, "brightness", light);
            return None;
        }
        Outline::Quad(c) => (c, false),
        Outline::InPattern(c) => (c, true),
    };
    report.corners = Some(corners.map(|p| p.map(|v| v * to_upload)));
    let (doc_w, doc_h) = document::quad_size(&corners);
    let doc_px = doc_w.max(doc_h) * to_upload;
    report.measures.push(("document_px", f64::from(doc_px)));
    if doc_px < t.min_document_px {
        report.flag(
            ReasonCode::LowResolution,
            Detail::new()
                .with("document_px", doc_px.round())
                .with("threshold", t.min_document_px),
            None,
        );
    }
    let (page, to_photo) = document::rectify(img, &corners, PAGE_WIDTH)?;
    // The colour measure on one core, the grey ones on the other.
    let (gray, raw_focus, glare, page_colour) = std::thread::scope(|s| {
        let colour = s.spawn(|| colourful_share(&page));
        let gray = quality::luma(&page);
        let raw_focus = quality::focus(&gray);
        let glare = quality::glare(&gray, 250);
        (
            gray,
            raw_focus,
            glare,
            colour.join().expect("colour measure"),
        )
    });
    let light = quality::brightness(&gray);
    flag_too_dark(report, t, "brightness", light);
    // Focus is normalised for exposure: a dim page has proportionally weaker edges.
    let focus = raw_focus / (light.max(10.0) / 128.0).powi(2);
    report.measures.push(("focus", f64::from(focus)));
    if focus < t.min_focus {
        report.flag(
            ReasonCode::Blurry,
            Detail::new()
                .with("focus", focus)
                .with("threshold", t.min_focus),
            None,
        );
    }
    if let Some(g) = glare {
        report.measures.push(("glare", f64::from(g.area_fraction)));
        report.measures.push(("paper_level", f64::from(g.paper)));
        // On a page whose paper is itself at the saturation level (a white card or band
        // exposed a little high) a blown region cannot be told from blank paper: the
        // measure cannot tell, so it does not reject.
        if g.area_fraction > t.max_glare && g.paper <= t.max_glare_paper {
            let box_corners = [
                (g.x, g.y),
                (g.x + g.w, g.y),
                (g.x + g.w, g.y + g.h),
                (g.x, g.y + g.h),
            ];
            let pts = box_corners.map(|(x, y)| to_photo * (x as f32, y as f32));
            let (x0, x1) = pts
                .iter()
                .fold((f32::MAX, f32::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
            let (y0, y1) = pts
                .iter()
                .fold((f32::MAX, f32::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
            let region = [x0, y0, x1 - x0, y1 - y0].map(|v| (v * to_upload).max(0.0) as u32);
            report.flag(
                ReasonCode::Glare,
                Detail::new()
                    .with("area_share", g.area_fraction)
                    .with("threshold", t.max_glare)
                    .with("paper_level", g.paper),
                Some(region),
            );
        }
    }
    report
        .measures
        .push(("page_colour_share", f64::from(page_colour)));
    // A page without a document's proportions is a part of one (on printed paper, often
    // the white MRZ band alone): its lack of colour says nothing of the document's, so the
    // colour is looked for in the whole photo, where a coloured portrait beside the band
    // counts. A photocopy has no colour there either.
    let (colour_name, colour) = if document::has_document_proportions(doc_w, doc_h) {
        ("page_colour_share", page_colour)
    } else {
        let whole = colourful_share(img);
        report
            .measures
            .push(("photo_colour_share", f64::from(whole)));
        ("photo_colour_share", whole)
    };
    if colour < t.min_colour_page && !greyscale {
        report.flag(
            ReasonCode::Photocopy,
            Detail::new()
                .with(colour_name, colour)
                .with("threshold", t.min_colour_page),
            None,
        );
    }
    clock.lap(report, "quality");
    Some((page, corners, in_pattern, to_photo))
}

/// Flags TOO_DARK when no document was found and nothing in the photo is as bright as paper
/// would be under usable light: the darkness is the likelier cause, and the fix to give.
fn flag_dark_photo(img: &RgbImage, t: &Thresholds, report: &mut Report) {
    let bright = percentile(&quality::luma(img), 99);
    flag_too_dark(report, t, "brightest", f32::from(bright));
}

/// Records the exposure measure `name` and flags TOO_DARK when it is under the threshold.
fn flag_too_dark(report: &mut Report, t: &Thresholds, name: &'static str, value: f32) {
    report.measures.push((name, f64::from(value)));
    if value < t.min_brightness {
        report.flag(
            ReasonCode::TooDark,
            Detail::new()
                .with(name, value)
                .with("threshold", t.min_brightness),
            None,
        );
    }
}

/// The `q`th percentile of a grey image's values.
fn percentile(gray: &GrayImage, q: usize) -> u8 {
    let mut hist = [0usize; 256];
    for v in gray.as_raw() {
        hist[usize::from(*v)] += 1;
    }
    let want = gray.as_raw().len() * q.min(100) / 100;
    let mut seen = 0;
    for (v, n) in hist.iter().enumerate() {
        seen += n;
        if seen > want {
            return v as u8;
        }
    }
    255
}

/// Each sampled pixel's strongest and weakest channel, about 200,000 samples evenly spread.
fn channel_spread(img: &RgbImage) -> impl Iterator<Item = (u8, u8)> + '_ {
    let step = ((img.width() * img.height()) as usize / 200_000).max(1);
    img.as_raw().chunks_exact(3).step_by(step).map(|p| {
        (
            p.iter().max().copied().unwrap_or(0),
            p.iter().min().copied().unwrap_or(0),
        )
    })
}

/// Levels (0–255) by which a pixel's channels must differ at least to count as colour.
const MIN_TINT: u8 = 10;

/// Share of pixels whose channels differ by more than a grey pixel's would: by
/// [`MIN_TINT`] levels and by 6 % of the brightest channel. A pale tint on bright paper
/// (a card printed pale blue: 220, 230, 245) is colour; sensor noise and a phone's white
/// balance on white paper are not. A dim pixel is colour when its channels differ by 15 %
/// of its brightness (at least 4 levels), so an underexposed colour photo is not taken for
/// a grey one. Near-black pixels carry no colour information.
///
/// A card printed in one uniform tint with black text looks, by colour alone, like a grey
/// copy under light of that tint: such a page counts as coloured (the measure cannot tell,
/// so it does not call it a photocopy), and a photocopy photographed under strongly tinted
/// light is missed.
fn colourful_share(img: &RgbImage) -> f32 {
    let (mut n, mut colourful) = (0usize, 0usize);
    for (hi, lo) in channel_spread(img) {
        n += 1;
        let spread = f32::from(hi - lo);
        let tint = hi >= 24 && spread >= (0.06 * f32::from(hi)).max(f32::from(MIN_TINT));
        let dim_colour = hi >= 12 && hi - lo >= 4 && spread > 0.15 * f32::from(hi);
        if tint || dim_colour {
            colourful += 1;
        }
    }
    colourful as f32 / n.max(1) as f32
}

/// Mean difference between a pixel's strongest and weakest channel.
fn mean_chroma(img: &RgbImage) -> f32 {
    let (mut n, mut sum) = (0u64, 0u64);
    for (hi, lo) in channel_spread(img) {
        n += 1;
        sum += u64::from(hi - lo);
    }
    sum as f32 / n.max(1) as f32
}

/// Share of rows in which every pixel has exactly the same value: drawn interface bars and
/// backgrounds. A camera's sensor noise never leaves a whole row flat.
fn flat_row_share(img: &RgbImage) -> f32 {
    let w = img.width() as usize * 3;
    if w == 0 {
        return 0.0;
    }
    let flat = img
        .as_raw()
        .chunks_exact(w)
        .filter(|row| row.chunks_exact(3).all(|p| p == &row[..3]))
        .count();
    flat as f32 / img.height().max(1) as f32
}

/// [`grid_peak`] of a colour photo: a screen's pixel grid photographed (a selfie or a
/// liveness frame filmed off another device) stands out against the
/// `Thresholds::min_grid_peak` the document check uses.
pub fn screen_grid(img: &RgbImage) -> f32 {
    screen_spectrum(img).peak
}

/// Side of the centre patch the screen grid is looked for in.
const SCREEN_PATCH: usize = 256;

/// The spectral peaks of the centre patch of a colour photo (its grey values).
fn screen_spectrum(img: &RgbImage) -> Peaks {
    const N: u32 = SCREEN_PATCH as u32;
    let (w, h) = img.dimensions();
    if w < N || h < N {
        return Peaks::default();
    }
    let centre = image::imageops::crop_imm(img, (w - N) / 2, (h - N) / 2, N, N).to_image();
    grid_peaks(&quality::luma(&centre))
}

/// How strongly single fine spatial frequencies stand out in a photo, each over the median
/// spectral magnitude (beyond the lowest frequencies).
///
/// Only periods under 4.6 pixels (radius 56 and up of 256) count as a screen's: its pixel
/// grid is the finest detail of a photo of a screen, while print photographed, even close
/// up, has its periodic strokes (lines of text, the MRZ's character pitch, guilloches) at
/// coarser periods and next to nothing this fine after the lens and the camera's noise
/// filter. Measured at full resolution: a reduced decode averages the grid away.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Peaks {
    /// The strongest fine peak. A screen's pixel grid, photographed, is a sharp periodic
    /// pattern with a very high ratio; paper and print spread their energy.
    peak: f32,
    /// The strongest fine peak at right angles (70°–110°) to it. A pixel grid is periodic
    /// across and down: its rows and its columns both peak; stripes (a woven cloth, a
    /// ruled pattern) peak one way only.
    across: f32,
}

/// [`Peaks`] of the grey picture's centre N×N patch.
fn grid_peaks(gray: &GrayImage) -> Peaks {
    use rustfft::{num_complex::Complex, FftPlanner};
    const N: usize = SCREEN_PATCH;
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    if w < N || h < N {
        return Peaks::default();
    }
    let (x0, y0) = ((w - N) / 2, (h - N) / 2);
    let hann: Vec<f32> = (0..N)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / (N - 1) as f32).cos())
        .collect();
    let mut data: Vec<Complex<f32>> = Vec::with_capacity(N * N);
    let mean = (0..N)
        .flat_map(|y| (0..N).map(move |x| (x, y)))
        .map(|(x, y)| f32::from(gray.get_pixel((x0 + x) as u32, (y0 + y) as u32)[0]))
        .sum::<f32>()
        / (N * N) as f32;
    for y in 0..N {
        for x in 0..N {
            let v = f32::from(gray.get_pixel((x0 + x) as u32, (y0 + y) as u32)[0]) - mean;
            data.push(Complex::new(v * hann[x] * hann[y], 0.0));
        }
    }
    let mut planner = FftPlanner::new();
    let fft = planner.plan_fft_forward(N);
    for row in data.chunks_exact_mut(N) {
        fft.process(row);
    }
    let mut col = vec![Complex::new(0.0, 0.0); N];
    for x in 0..N {
        for y in 0..N {
            col[y] = data[y * N + x];
        }
        fft.process(&mut col);
        for y in 0..N {
            data[y * N + x] = col[y];
        }
    }
    // Each bin's signed frequency (fx, fy) and magnitude, the lowest frequencies left out.
    let signed = |i: usize| {
        if i > N / 2 {
            i as f32 - N as f32
        } else {
            i as f32
        }
    };
    let bins: Vec<(f32, f32, f32)> = (0..N * N)
        .map(|i| (signed(i % N), signed(i / N), data[i].norm()))
        .filter(|&(fx, fy, _)| fx * fx + fy * fy >= 24.0 * 24.0)
        .collect();
    let fine = |&&(fx, fy, _): &&(f32, f32, f32)| fx * fx + fy * fy >= FINE_RADIUS * FINE_RADIUS;
    let Some(&(px, py, peak)) = bins.iter().filter(fine).max_by(|a, b| a.2.total_cmp(&b.2)) else {
        return Peaks::default();
    };
    let radius = px.hypot(py);
    let across = bins
        .iter()
        .filter(fine)
        .filter(|&&(fx, fy, _)| (fx * px + fy * py).abs() < 0.34 * radius * fx.hypot(fy))
        .map(|b| b.2)
        .fold(0.0f32, f32::max);
    let mut mags: Vec<f32> = bins.iter().map(|b| b.2).collect();
    let median = median_of(&mut mags).max(1e-3);
    Peaks {
        peak: peak / median,
        across: across / median,
    }
}

/// The lowest spectral radius (of [`SCREEN_PATCH`]) a screen's pixel grid is looked for at:
/// periods under 256 / 56 ≈ 4.6 pixels.
const FINE_RADIUS: f32 = 56.0;

/// The median of `values` (reordered), 0 when there are none.
fn median_of(values: &mut [f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, f32::total_cmp).1
}

/// The MRZ lines of a flattened page and how many text lines it has. Documents are wider
/// than tall, and an upright page's MRZ lies in its lower half (TD3: the lowest 27 %, TD1:
/// 43 %), so the lower 55 % is searched first, at two fifths of the cost of the whole page,
/// then the whole page. A page taller than wide was photographed turned a quarter: it is
/// turned back both ways; a page with no MRZ the right way up is turned over (its lower
/// half only, so the front of an ID card, which has no MRZ, costs one search more).
fn page_mrz_lines(ocr: &Ocr, page: &RgbImage, opts: &CheckOptions) -> Result<Found, OcrError> {
    use band::Turn;
    use image::imageops::{rotate180, rotate270, rotate90};
    let lower = |page: &RgbImage| {
        let (w, h) = page.dimensions();
        let top = h * 45 / 100;
        let part = image::imageops::crop_imm(page, 0, top, w, h - top).to_image();
        Ok::<_, OcrError>(band::below(mrz_lines(ocr, &part, true, opts)?, top))
    };
    let ((first, first_turn), (second, second_turn)) = if page.height() > page.width() {
        ((rotate270(page), Turn::Left), (rotate90(page), Turn::Right))
    } else {
        ((page.clone(), Turn::None), (rotate180(page), Turn::Half))
    };
    let size = page.dimensions();
    let found = lower(&first)?;
    if !found.0.is_empty() {
        return Ok(band::turned(found, first_turn, size));
    }
    let whole = mrz_lines(ocr, &first, true, opts)?;
    if !whole.0.is_empty() {
        return Ok(band::turned(whole, first_turn, size));
    }
    let turned = lower(&second)?;
    Ok(if turned.0.is_empty() {
        band::turned(whole, first_turn, size)
    } else {
        band::turned(turned, second_turn, size)
    })
}

/// MRZ-like text lines of `region`, read, and how many text lines of any kind it has.
/// `on_page`: the region is the flattened document, whose MRZ runs to near its right edge.
fn mrz_lines(
    ocr: &Ocr,
    region: &RgbImage,
    on_page: bool,
    opts: &CheckOptions,
) -> Result<Found, OcrError> {
    let boxes = ocr.detect(region)?;
    let text_boxes = boxes.len();
    // MRZ lines are long and thin and span much of the page.
    let mut candidates: Vec<TextBox> = join_rows(boxes.clone())
        .into_iter()
        .filter(|b| b.w >= 8 * b.h && b.w * 10 >= region.width() * 3)
        .collect();
    // All lines of an MRZ have the same length and start at the same margin; the detector
    // often loses runs of thin filler chevrons, leaving a line's last check digit as a far,
    // separate box or nothing at all. So every line is read to the right end of the last
    // text on any row of its block (the candidates starting at its margin, a line or two
    // above or below, in its direction), and on a second try to near the flattened page's
    // edge. Only its block: in a whole photo, print around the document (a page it lies
    // on) runs on well past the MRZ's end.
    candidates.sort_by_key(|b| b.y);
    // A document photographed on printed paper: rows of the print beside it continue its
    // lines, and a row joined from several boxes may hold both. Such a row is read once
    // and cut to its stretch that reads like an MRZ line, between words of the print
    // (lowercase, which no MRZ has); its row then ends there.
    let mut cut = vec![false; candidates.len()];
    if !on_page {
        let joined: Vec<usize> = (0..candidates.len())
            .filter(|&i| {
                let c = &candidates[i];
                let within = |b: &&TextBox| b.x >= c.x && b.x + b.w <= c.x + c.w;
                boxes.iter().filter(within).filter(|b| on_row(b, c)).count() >= 2
            })
            .collect();
        let crops: Vec<RgbImage> = joined
            .iter()
            .map(|&i| candidates[i].straightened(region, 0.1))
            .collect();
        for (&i, steps) in joined.iter().zip(ocr.steps_all(&crops)?) {
            if let Some((from, to)) = mrz_stretch(&ocr.greedy_at_steps(&steps), steps.len()) {
                candidates[i] = candidates[i].crop_part(0.1, from, to);
                cut[i] = true;
            }
        }
    }
    let candidates = candidates;
    let row_right = |c: &TextBox| {
        boxes
            .iter()
            .filter(|b| b.x >= c.x && on_row(b, c))
            .map(|b| b.x + b.w)
            .fold(c.x + c.w, u32::max)
    };
    let rows_right: Vec<u32> = candidates
        .iter()
        .zip(&cut)
        .map(|(c, &cut)| if cut { c.x + c.w } else { row_right(c) })
        .collect();
    let block_right = |b: &TextBox| {
        candidates
            .iter()
            .zip(&rows_right)
            .filter(|(c, _)| {
                let t = b.thickness().min(c.thickness());
                let x = (b.x + c.x) as f32 / 2.0;
                b.x.abs_diff(c.x) as f32 <= 2.0 * t
                    && (b.centre_at(x) - c.centre_at(x)).abs() <= 4.0 * t
                    && same_direction(b, c)
            })
            .map(|(_, &r)| r)
            .fold(b.x + b.w, u32::max)
    };
    // One candidate's crop (to its block's right end, or with `to_edge` to near a flattened
    // page's edge; with `margin` around it, drawn `stretch` times wider).
    let crop = |b: &TextBox, to_edge: bool, margin: f32, stretch: f32| {
        let mut right = block_right(b);
        if to_edge && on_page {
            right = right.max(region.width() * 99 / 100);
        }
        let b = b.extended_to(right);
        let mut line = b.straightened(region, margin);
        if stretch != 1.0 {
            let w = (line.width() as f32 * stretch).round() as u32;
            line = image::imageops::resize(&line, w, line.height(), FilterType::Triangle);
        }
        line
    };
    let symbols = mrz_symbols(ocr.class_names());
    // How sure the recogniser was of each character of a reading of `steps`.
    let confidence_of = |steps: &Steps, text: &str| -> Vec<f32> {
        let labels: Vec<usize> = text
            .bytes()
            .filter_map(|c| MRZ_ALPHABET.iter().position(|&m| m == c).map(|k| k + 1))
            .collect();
        if labels.len() != text.len() {
            return vec![0.0; text.len()];
        }
        let logp = steps.project(&symbols, MRZ_ALPHABET.len());
        ocr::ctc_label_confidence(&logp, MRZ_ALPHABET.len() + 1, &labels)
    };
    // Every reading settled on, with the recogniser's confidence in each character; a line
    // read alike from several crops keeps its surest value per character. The repair of
    // the MRZ swaps look-alikes only where the recogniser was unsure (`idgate_mrz`).
    let sureness: RefCell<HashMap<String, Vec<f32>>> = RefCell::default();
    let remember = |text: &str, confidence: Vec<f32>| {
        let mut map = sureness.borrow_mut();
        let known = map
            .entry(text.to_string())
            .or_insert_with(|| vec![0.0; confidence.len()]);
        for (k, c) in known.iter_mut().zip(confidence) {
            *k = k.max(c);
        }
    };
    // Greedy reading of `steps`; exactly `length` characters when the greedy one is a
    // few off it. With the confidence in each character.
    let decode = |steps: &Steps, length: usize| -> (String, Vec<f32>) {
        let greedy = normalise_mrz_text(&ocr.decode_greedy(steps).text);
        let text = if greedy.len() == length || greedy.len().abs_diff(length) > 3 {
            greedy
        } else {
            let logp = steps.project(&symbols, MRZ_ALPHABET.len());
            match ocr::ctc_best_of_length(&logp, MRZ_ALPHABET.len() + 1, length) {
                Some(labels) => labels
                    .iter()
                    .map(|&k| char::from(MRZ_ALPHABET[k - 1]))
                    .collect(),
                None => greedy,
            }
        };
        let confidence = confidence_of(steps, &text);
        (text, confidence)
    };
    // The reading of a line crop whose whole reading gave `steps`, when it looks like an
    // MRZ line. When the layout's line length is known and the whole reading is one or
    // two characters off it, the path of the right length is taken; when it is further
    // off, the two halves of the line are read apart, each to its known length: on a line
    // that is mostly filler (a short name and thirty chevrons) the recogniser can lose
    // the letters of the whole line yet read each half exactly.
    // `lost`: a line the MRZ must have though its whole reading does not look like one.
    // A line read with words of other print in it (lowercase runs, which no MRZ has) is
    // cut to its MRZ stretch and read again: print beside a document whose page was not
    // told apart from it (a pale card on printed paper) continues its lines.
    let settle = |line: &RgbImage, steps: &Steps, length: Option<usize>, lost: bool| {
        let (cut_line, cut_steps);
        let (line, steps) = match mrz_stretch(&ocr.greedy_at_steps(steps), steps.len()) {
            Some((from, to)) => {
                let w = line.width() as f32;
                let x0 = (from * w).floor() as u32;
                let x1 = ((to * w).ceil() as u32).clamp(x0 + 1, line.width());
                cut_line =
                    image::imageops::crop_imm(line, x0, 0, x1 - x0, line.height()).to_image();
                cut_steps = ocr
                    .steps_all(std::slice::from_ref(&cut_line))?
                    .pop()
                    .unwrap_or_default();
                (&cut_line, &cut_steps)
            }
            None => (line, steps),
        };
        let greedy = normalise_mrz_text(&ocr.decode_greedy(steps).text);
        let mrz_like = greedy.len() >= 28 && greedy.matches('<').count() >= 2;
        if !(mrz_like || lost && length.is_some()) {
            return Ok(None);
        }
        let noted = |(text, confidence): (String, Vec<f32>)| -> Result<_, OcrError> {
            remember(&text, confidence);
            Ok(Some(text))
        };
        let Some(n) = length.filter(|&n| n != greedy.len()) else {
            let confidence = confidence_of(steps, &greedy);
            return noted((greedy, confidence));
        };
        if n.abs_diff(greedy.len()) <= 2 {
            return noted(decode(steps, n));
        }
        if let Some((left, right)) = halves(line) {
            let steps = ocr.steps_all(&[left, right])?;
            let (a, mut ca) = decode(&steps[0], n / 2);
            let (b, cb) = decode(&steps[1], n - n / 2);
            if a.len() + b.len() == n {
                ca.extend(cb);
                return noted((a + &b, ca));
            }
        }
        noted(decode(steps, n))
    };
    // The first reading, bottom up: an MRZ is the last lines of its page. Candidates are
    // read two at a time (one per core) from the bottom until the MRZ is read: two long
    // lines (TD2, TD3), three (TD1), or text that is no MRZ above MRZ lines.
    let mut whole: Vec<Option<(RgbImage, Steps)>> = vec![None; candidates.len()];
    let mut found: Vec<usize> = Vec::new();
    let mut top = None;
    let mut bottom = None;
    // The name line's first extra crop (see below), read early beside a TD1's first line:
    // the candidate it was cropped from, the crop and its steps.
    let mut name_early: Option<(usize, RgbImage, Steps)> = None;
    let mut next = candidates.len();
    while next > 0 {
        // Two short lines read from the bottom are a TD1's last two (TD2 and TD3 lines are
        // longer); only its first line is left to read, so the other core reads the lowest
        // one, the TD1's names, from the name check's first extra crop instead of the line
        // above the MRZ, which the first line's reading makes needless.
        let td1_rest = match (found.as_slice(), bottom) {
            ([a, b], Some(i)) if *a <= 33 && *b <= 33 => Some(i),
            _ => None,
        };
        let from = next.saturating_sub(if td1_rest.is_some() { 1 } else { 2 });
        let mut crops: Vec<RgbImage> = candidates[from..next]
            .iter()
            .map(|b| crop(b, false, 0.1, 1.0))
            .collect();
        if let Some(i) = td1_rest {
            crops.push(crop(&candidates[i], false, NAME_MARGINS[0], 1.0));
        }
        let mut steps = ocr.steps_all(&crops)?;
        if let Some(i) = td1_rest {
            let (line, s) = (crops.pop(), steps.pop());
            name_early = line.zip(s).map(|(line, s)| (i, line, s));
        }
        let mut above_mrz = false;
        for (i, (line, s)) in (from..next).zip(crops.into_iter().zip(steps)).rev() {
            match settle(&line, &s, None, false)? {
                Some(t) => {
                    found.push(t.len());
                    top = Some(i);
                    bottom = bottom.or(Some(i));
                }
                None => above_mrz |= !found.is_empty(),
            }
            whole[i] = Some((line, s));
        }
        next = from;
        let long = found.len() == 2 && found.iter().all(|&n| n > 33);
        if above_mrz || long || found.len() >= 3 {
            break;
        }
    }
    // A line the recogniser lost whole (a reading too short to look like an MRZ line, as
    // when it gives up after the name): the candidate right above the topmost MRZ line,
    // starting at the same margin, is read as the MRZ line the layout still lacks.
    let mut lost = vec![false; candidates.len()];
    // `other` starts at the margin of the MRZ line `mrz` and is its neighbouring row
    // (candidates are sorted top down).
    let next_to = |mrz: &TextBox, other: &TextBox| {
        mrz.x.abs_diff(other.x) * 2 < 3 * mrz.h && mrz.y.abs_diff(other.y) < 3 * mrz.h
    };
    if let (Some(i), Some(&n)) = (top.filter(|&i| i > 0), found.first()) {
        let above = &candidates[i - 1];
        let lines_needed = if n > 33 { 2 } else { 3 };
        if found.len() < lines_needed && next_to(&candidates[i], above) {
            if whole[i - 1].is_none() {
                let line = crop(above, false, 0.1, 1.0);
                let steps = ocr.steps(&line)?;
                whole[i - 1] = Some((line, steps));
            }
            lost[i - 1] = true;
            found.push(n);
        }
    }
    // Likewise the line right below the lowest MRZ line: a TD1's last line is its names,
    // and a short name followed by twenty chevrons can read as a few letters and fillers.
    if let (Some(i), Some(&n)) = (bottom.filter(|&i| i + 1 < candidates.len()), found.first()) {
        let aligned = next_to(&candidates[i], &candidates[i + 1]);
        if n <= 33 && found.len() == 2 && aligned && whole[i + 1].is_some() {
            lost[i + 1] = true;
            found.push(n);
        }
    }
    let length = mrz_line_length(&found);
    let primary = whole
        .iter()
        .zip(&lost)
        .map(|(w, &lost)| match w {
            Some((line, steps)) => settle(line, steps, length, lost),
            None => Ok(None),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Read again: the candidates that read as MRZ lines the first time, two at a time.
    let read = |margin: f32, stretch: f32| {
        let again: Vec<usize> = (0..candidates.len())
            .filter(|&i| primary[i].is_some())
            .collect();
        let crops: Vec<RgbImage> = again
            .iter()
            .map(|&i| crop(&candidates[i], true, margin, stretch))
            .collect();
        let mut out = vec![None; candidates.len()];
        for ((i, line), steps) in again.into_iter().zip(&crops).zip(ocr.steps_all(&crops)?) {
            out[i] = settle(line, &steps, length, lost[i])?;
        }
        Ok(out)
    };
    let confidence = |text: &str| sureness.borrow().get(text).cloned().unwrap_or_default();
    let mut lines = checked_lines(&primary, &read, &confidence, opts)?;
    // Where the lines were read: around every candidate that read as an MRZ line, to the
    // right end of its block.
    let used: Vec<&TextBox> = (0..candidates.len())
        .filter(|&i| primary[i].is_some())
        .map(|i| &candidates[i])
        .collect();
    let band = match (
        used.iter().map(|b| b.x).min(),
        used.iter().map(|b| b.y).min(),
    ) {
        (Some(x0), Some(y0)) if !lines.is_empty() => {
            let x1 = used.iter().map(|b| block_right(b)).max().unwrap_or(x0);
            let y1 = used.iter().map(|b| b.y + b.h).max().unwrap_or(y0);
            Some(band::rect(x0, y0, x1, y1))
        }
        _ => None,
    };
    let checked = lines.clone();
    // The name line has no check digit, and the recogniser now and then drops a round
    // letter in it (HIROSHI read as HIRSHI). It is read from two more crops, and a reading
    // that is the current one plus the letters it dropped wins: dropping is what the
    // recogniser does, adding letters it hardly ever does.
    let name_line = match lines.len() {
        2 => Some(0),
        3 => Some(2),
        _ => None,
    };
    if let Some(k) = name_line {
        let candidate = primary
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_some())
            .nth(k)
            .map(|(i, _)| i);
        if let Some(b_index) = candidate {
            let b = &candidates[b_index];
            // TD3's first line opens with the document code and issuing state.
            let fixed = if k == 0 { 5 } else { 0 };
            // The names, up to the filler run that ends them (a filler misread as a letter
            // there is no name).
            let names = |t: &str| {
                let names = t.get(fixed..).unwrap_or("").as_bytes();
                let end = names
                    .windows(3)
                    .position(|w| w == b"<<<")
                    .unwrap_or(names.len());
                names[..end].to_vec()
            };
            // The crops in the order of NAME_MARGINS, with what was read early.
            let mut read: Vec<(RgbImage, Steps)> = Vec::new();
            let mut margins = &NAME_MARGINS[..];
            if let Some((_, line, steps)) = name_early.filter(|(i, ..)| *i == b_index) {
                read.push((line, steps));
                margins = &margins[1..];
            }
            let crops: Vec<RgbImage> = margins.iter().map(|&m| crop(b, false, m, 1.0)).collect();
            let steps = ocr.steps_all(&crops)?;
            read.extend(crops.into_iter().zip(steps));
            let mut alts = Vec::new();
            for (line, steps) in &read {
                if let Some(alt) = settle(line, steps, length, lost[b_index])? {
                    alts.push(alt);
                }
            }
            // Two more crops that read the line alike outvote the first reading: the
            // recogniser now and then puts a letter in too (KOWALSKA read as KOWALISKA).
            let outvoted = matches!(&alts[..], [a, b] if a == b
                && *a != lines[k]
                && a.len() == lines[k].len()
                && a.get(..fixed) == lines[k].get(..fixed));
            if outvoted {
                lines[k] = alts[0].clone();
            } else {
                for alt in alts {
                    let current = &lines[k];
                    let (now, other) = (names(current), names(&alt));
                    // Taken only when it is the current reading with one or two
                    // characters more: the ones the current reading dropped. A digit
                    // among them is no letter seen but a misreading (names have none),
                    // as O0 for O.
                    if alt.get(..fixed) == current.get(..fixed)
                        && !other.iter().any(u8::is_ascii_digit)
                        && (1..=2).contains(&other.len().saturating_sub(now.len()))
                        && is_subsequence(&now, &other)
                    {
                        lines[k] = alt;
                    } else if let Some(fixed_names) =
                        letters_for_fillers(current, &alt, fixed, other.len())
                    {
                        lines[k] = fixed_names;
                    }
                }
            }
            lines[k] = fillers_after_names(&lines[k], fixed);
        }
    }
    // Each line with the confidence of its reading; a name line put together from several
    // readings keeps the checked reading's confidence where it has the same character.
    let lines = lines
        .into_iter()
        .zip(checked)
        .map(|(text, before)| {
            let known = sureness.borrow().get(&text).cloned();
            let confidence = known.unwrap_or_else(|| {
                let was = confidence(&before);
                text.bytes()
                    .zip(before.bytes().chain(std::iter::repeat(0)))
                    .enumerate()
                    .map(|(i, (a, b))| {
                        if a == b {
                            was.get(i).copied().unwrap_or(0.0)
                        } else {
                            0.0
                        }
                    })
                    .collect()
            });
            OcrLine { text, confidence }
        })
        .collect();
    Ok((lines, text_boxes, band))
}

/// The margins (in line heights) of the name line's two extra crops.
const NAME_MARGINS: [f32; 2] = [0.2, 0.3];

/// The name line with everything after the names' closing filler run made filler: names
/// are separated by one or two fillers, so from a run of three on there is only padding,
/// and a letter read there (a `C` for the last chevron) is a misreading. `fixed`: the
/// characters before the names (TD3's document code and issuing state).
fn fillers_after_names(line: &str, fixed: usize) -> String {
    let Some(names) = line.get(fixed..) else {
        return line.to_string();
    };
    match names.find("<<<") {
        Some(end) => {
            let padded = fixed + end;
            format!("{}{}", &line[..padded], "<".repeat(line.len() - padded))
        }
        None => line.to_string(),
    }
}

/// The MRZ alphabet; symbol `k` (1..=37) of a projected reading is `MRZ_ALPHABET[k - 1]`,
/// 0 being the CTC blank.
const MRZ_ALPHABET: &[u8; 37] = b"<0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The MRZ symbol each recogniser class stands for, by [`normalise_mrz_text`]: `o` and `O`
/// are the same letter, `«` is a filler.
fn mrz_symbols(names: &[String]) -> Vec<Option<usize>> {
    names
        .iter()
        .map(|name| {
            let t = normalise_mrz_text(name);
            let &[c] = t.as_bytes() else { return None };
            MRZ_ALPHABET.iter().position(|&m| m == c).map(|k| k + 1)
        })
        .collect()
}

/// The length of every line of an MRZ whose lines were read `lengths` long: three lines
/// are TD1 (30), two are TD2 (36) or TD3 (44), whichever the readings are nearer.
fn mrz_line_length(lengths: &[usize]) -> Option<usize> {
    match lengths {
        [_, _, _] => Some(30),
        [a, b] => Some(if a + b >= 80 { 44 } else { 36 }),
        _ => None,
    }
}

/// A line crop cut in two at the middle of its ink: between the two middle characters of a
/// monospaced MRZ line with an even number of them. `None` when the crop has no ink.
fn halves(line: &RgbImage) -> Option<(RgbImage, RgbImage)> {
    let gray = quality::luma(line);
    let (w, h) = gray.dimensions();
    let mut values: Vec<u8> = gray.as_raw().clone();
    let mid = values.len() / 2;
    let background = f32::from(*values.select_nth_unstable(mid).1);
    // Darkness per column: how far its pixels fall below the background.
    let columns: Vec<f32> = (0..w)
        .map(|x| {
            (0..h)
                .map(|y| (background - f32::from(gray.get_pixel(x, y)[0])).max(0.0))
                .sum()
        })
        .collect();
    let peak = columns.iter().copied().fold(0.0f32, f32::max);
    if peak <= 0.0 {
        return None;
    }
    // A chevron's columns are faint beside a letter's stems.
    let inked = |c: &f32| *c >= 0.15 * peak;
    let x0 = columns.iter().position(inked)? as u32;
    let x1 = columns.iter().rposition(inked)? as u32;
    let cut = (x0 + x1).div_ceil(2);
    if cut == 0 || cut >= w {
        return None;
    }
    Some((
        image::imageops::crop_imm(line, 0, 0, cut, h).to_image(),
        image::imageops::crop_imm(line, cut, 0, w - cut, h).to_image(),
    ))
}

/// `current` with the names of `alt` (`len` characters from `start`) when the two differ
/// there only where `current` has a filler and `alt` a letter, and end on the same
/// character: the recogniser took a
/// letter for a chevron (K, whose right half is one, read as `<`). The rest of `current`
/// (its filler, which `alt` may have read worse) stays.
fn letters_for_fillers(current: &str, alt: &str, start: usize, len: usize) -> Option<String> {
    let span = start..start + len;
    let (now, other) = (current.get(span.clone())?, alt.get(span.clone())?);
    // Both readings end the names on the same letter: a letter `alt` saw in the filler
    // after them is not taken.
    if now.bytes().last() != other.bytes().last() {
        return None;
    }
    let mut differ = now
        .bytes()
        .zip(other.bytes())
        .filter(|(a, b)| a != b)
        .peekable();
    differ.peek()?;
    if !differ.all(|(a, b)| a == b'<' && b.is_ascii_uppercase()) {
        return None;
    }
    Some(format!(
        "{}{}{}",
        &current[..start],
        other,
        &current[span.end..]
    ))
}

/// `short` is `long` with some characters left out.
fn is_subsequence(short: &[u8], long: &[u8]) -> bool {
    let mut rest = long.iter();
    short.iter().all(|c| rest.any(|d| d == c))
}

/// The MRZ lines to parse: the primary readings when the MRZ they make is valid (check
/// digits, document code, country codes, dates), else the first combination with readings
/// from other crops that is, else the primary ones.
fn checked_lines(
    primary: &[Option<String>],
    read: &dyn Fn(f32, f32) -> Result<Vec<Option<String>>, OcrError>,
    confidence: &dyn Fn(&str) -> Vec<f32>,
    opts: &CheckOptions,
) -> Result<Vec<String>, OcrError> {
    let first: Vec<String> = primary.iter().flatten().cloned().collect();
    let parse = ParseOptions { today: opts.today };
    // Valid as read, look-alikes swapped only where the recogniser was unsure.
    let valid = |lines: &[String]| {
        let lines: Vec<OcrLine> = lines
            .iter()
            .map(|l| OcrLine {
                text: l.clone(),
                confidence: confidence(l),
            })
            .collect();
        idgate_mrz::read_ocr(&lines, &parse).is_ok_and(|m| m.valid())
    };
    if first.is_empty() || valid(&first) {
        return Ok(first);
    }
    // Something failed: a check digit beyond a filler run the detector did not see was
    // cut off, or the recogniser dropped or merged a character (the first letter of a
    // document code, a letter of a country code). Each line is read again from other
    // crops (on a flattened page to near its edge; more paper around it; characters drawn
    // wider, which gives the recogniser more steps per character), and the first
    // combination of readings that makes a valid MRZ is taken. Nothing is invented: every
    // line is one the recogniser read, and the check digits agree with it.
    let mut others: Vec<Vec<Option<String>>> = Vec::new();
    for (margin, stretch) in [(0.1, 1.0), (0.1, 1.4), (0.3, 1.0)] {
        others.push(read(margin, stretch)?);
        if let Some(lines) = first_valid_combination(primary, &others, &valid) {
            return Ok(lines);
        }
    }
    Ok(first)
}

/// The first combination of the candidates' readings (the primary one of each candidate
/// that has one, or one of its alternatives) that `valid` accepts.
fn first_valid_combination(
    primary: &[Option<String>],
    others: &[Vec<Option<String>>],
    valid: &dyn Fn(&[String]) -> bool,
) -> Option<Vec<String>> {
    let options: Vec<Vec<&String>> = primary
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let p = p.as_ref()?;
            let mut o = vec![p];
            for alt in others.iter().filter_map(|r| r[i].as_ref()) {
                if !o.contains(&alt) {
                    o.push(alt);
                }
            }
            Some(o)
        })
        .collect();
    let mut pick = vec![0usize; options.len()];
    loop {
        let lines: Vec<String> = pick
            .iter()
            .zip(&options)
            .map(|(&k, o)| o[k].clone())
            .collect();
        if valid(&lines) {
            return Some(lines);
        }
        // Next combination, like an odometer.
        let i = (0..pick.len()).find(|&i| pick[i] + 1 < options[i].len())?;
        pick[i] += 1;
        for p in &mut pick[..i] {
            *p = 0;
        }
    }
}

/// The recogniser's reading reduced to the MRZ alphabet: spaces dropped, look-alikes from
/// its larger alphabet mapped (× for X, « for <), stray punctuation removed.
fn normalise_mrz_text(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c.to_ascii_uppercase() {
            c @ ('A'..='Z' | '0'..='9' | '<') => Some(c),
            '×' | 'Х' => Some('X'),
            '«' | '‹' | '＜' => Some('<'),
            _ => None,
        })
        .collect()
}

/// Whether box `b` lies on the row of line `c`: its middle near `c`'s centre line, in `c`'s
/// direction.
fn on_row(b: &TextBox, c: &TextBox) -> bool {
    let x = b.x as f32 + b.w as f32 / 2.0;
    (b.centre_at(x) - c.centre_at(x)).abs() < 0.35 * c.thickness().min(b.thickness())
        && same_direction(b, c)
}

/// Where, in a line's greedy reading (characters with their time steps, of `steps`), the
/// MRZ-like text lies between words of other print, as shares of the line's length: the
/// longest run of MRZ characters (at least 20) that runs of three or more lowercase letters
/// (no MRZ has one) set apart from the rest. `None` when the reading has no such words.
fn mrz_stretch(read: &[(usize, &str)], steps: usize) -> Option<(f32, f32)> {
    // (first step, last step, MRZ characters) of each run between words.
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    let mut current: Option<(usize, usize, usize)> = None;
    let (mut lower, mut words) = (0, false);
    for &(at, name) in read {
        if name.len() == 1 && name.as_bytes()[0].is_ascii_lowercase() {
            lower += 1;
            if lower >= 3 {
                words = true;
                runs.extend(current.take());
            }
            continue;
        }
        if normalise_mrz_text(name).is_empty() {
            continue; // a space or punctuation: neither
        }
        lower = 0;
        current = Some(match current {
            Some((first, _, n)) => (first, at, n + 1),
            None => (at, at, 1),
        });
    }
    runs.extend(current);
    let (first, last, n) = runs.into_iter().max_by_key(|r| r.2)?;
    if !words || n < 20 || steps == 0 {
        return None;
    }
    // Two steps (a third of a character) of slack either side.
    let share = |at: f32| (at / steps as f32).clamp(0.0, 1.0);
    Some((share(first as f32 - 2.0), share(last as f32 + 3.0)))
}

/// Whether two text boxes can be parts of one line by their direction: a document lying
/// askew on printed paper has its lines at an angle to the print around it, whose rows its
/// lines' extensions cross. A box too short for its direction to be measured (a lone check
/// digit, a few chevrons) goes with any.
fn same_direction(a: &TextBox, b: &TextBox) -> bool {
    let measured = |t: &TextBox| t.w as f32 >= 4.0 * t.thickness();
    !(measured(a) && measured(b)) || (a.angle - b.angle).abs() < 0.035
}

/// Joins boxes that continue one another on the same text row. The detector splits a line
/// where a run of thin filler chevrons leaves a wide gap of little ink (a TD1 first line
/// is often half filler; a passport's name line lost eight chevrons between its name and
/// the rest of its filler), and the parts alone are neither long enough nor readable.
fn join_rows(mut boxes: Vec<TextBox>) -> Vec<TextBox> {
    boxes.sort_by_key(|b| b.x);
    let mut rows: Vec<TextBox> = Vec::with_capacity(boxes.len());
    for b in boxes {
        let joined = rows.iter_mut().find(|r| {
            // Rows are compared across their direction, where the row's centre line meets
            // the box's middle: a slanted line's upright box spans the rows of its
            // neighbours too (a document photographed at an angle on printed paper).
            let (tr, tb) = (r.thickness(), b.thickness());
            let h = tr.min(tb);
            let x = b.x as f32 + b.w as f32 / 2.0;
            let (cr, cb) = (r.centre_at(x), b.centre_at(x));
            // A run of chevrons alone makes a lower box than letters: the lower box lies
            // within the higher one's rows.
            let overlap =
                ((cr + tr / 2.0).min(cb + tb / 2.0) - (cr - tr / 2.0).max(cb - tb / 2.0)).max(0.0);
            let same_row = (cr - cb).abs() < 0.35 * h || overlap >= 0.8 * h;
            let gap = b.x as f32 - (r.x + r.w) as f32;
            same_row && gap < 12.0 * h && same_direction(r, &b)
        });
        match joined {
            Some(r) => {
                if b.w > r.w {
                    r.angle = b.angle;
                }
                let (x1, y1) = ((r.x + r.w).max(b.x + b.w), (r.y + r.h).max(b.y + b.h));
                r.y = r.y.min(b.y);
                r.w = x1 - r.x;
                r.h = y1 - r.y;
                r.score = r.score.min(b.score);
            }
            None => rows.push(b),
        }
    }
    rows
}

fn mrz_findings(lines: Vec<OcrLine>, opts: &CheckOptions, report: &mut Report) {
    if lines.is_empty() {
        report.flag(
            ReasonCode::MrzUnreadable,
            Detail::new().with("lines_found", 0usize),
            None,
        );
        return;
    }
    let parse = ParseOptions { today: opts.today };
    match idgate_mrz::read_ocr(&lines, &parse) {
        Ok(mrz) => {
            if !mrz.valid() {
                let failed: Vec<&str> = mrz.failed_checks().collect();
                // A failing check is what a forged document looks like (one digit changed,
                // its check digit left), so it goes to a person (MRZ_INVALID) unless the
                // photo explains it: a blurred or too small MRZ is misread anywhere, and on
                // an otherwise poor photo (glare, dark, cut off, a screen) a failure where
                // the recogniser was unsure of a character is likelier a misreading. A
                // sharp MRZ read with confidence whose checks fail is the document's.
                let blurred =
                    report.has(ReasonCode::Blurry) || report.has(ReasonCode::LowResolution);
                let poor_photo = report.findings.iter().any(|f| {
                    matches!(
                        f.code,
                        ReasonCode::Glare
                            | ReasonCode::TooDark
                            | ReasonCode::CornersNotVisible
                            | ReasonCode::PhotoOfScreen
                            | ReasonCode::Screenshot
                    )
                });
                let code = if blurred || (poor_photo && mrz.doubtful) {
                    ReasonCode::MrzUnreadable
                } else {
                    ReasonCode::MrzInvalid
                };
                report.flag(
                    code,
                    Detail::new()
                        .with("failed_checks", failed)
                        .with("read_with_confidence", !mrz.doubtful)
                        .with("repaired", mrz.repaired()),
                    None,
                );
            }
            if mrz.is_expired(opts.today) {
                report.flag(
                    ReasonCode::DocumentExpired,
                    Detail::new()
                        .with("expiry_date", mrz.fields.expiry_date.map(|d| d.to_string()))
                        .with("today", opts.today.to_string()),
                    None,
                );
            }
            report.mrz = Some(MrzReading {
                lines: mrz.lines.clone(),
                parsed: Some(mrz),
                band: None,
            });
        }
        Err(e) => {
            report.flag(
                ReasonCode::MrzUnreadable,
                Detail::new()
                    .with("lines_found", lines.len())
                    .with("error", e.to_string()),
                None,
            );
            report.mrz = Some(MrzReading {
                lines: lines.into_iter().map(|l| l.text).collect(),
                parsed: None,
                band: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn text_box(x: u32, y: u32, w: u32, h: u32, angle: f32) -> TextBox {
        TextBox {
            x,
            y,
            w,
            h,
            score: 0.9,
            angle,
        }
    }

    /// A document lying askew on printed paper: its MRZ line (4° off the horizontal, its
    /// upright box five lines tall) is not joined to the print rows its extension crosses;
    /// a run of lost chevrons on its own row still is.
    #[test]
    fn rows_join_only_along_their_own_direction() {
        let mrz = text_box(300, 740, 800, 92, -0.07);
        let print_left = text_box(26, 800, 212, 34, 0.0);
        let chevrons = text_box(1130, 733, 120, 34, -0.07);
        let rows = join_rows(vec![print_left, mrz, chevrons]);
        assert_eq!(rows.len(), 2, "{rows:?}");
        let joined = rows.iter().find(|r| r.x == 300).unwrap();
        assert_eq!(joined.x + joined.w, 1250);
        assert!(rows.contains(&print_left));
        // A box too short to have a direction (a lone check digit) goes with the row.
        assert!(same_direction(&mrz, &text_box(1270, 700, 30, 34, 0.4)));
    }

    /// The stretch of a reading that is an MRZ line between words of print.
    #[test]
    fn the_mrz_stretch_lies_between_lowercase_words() {
        let read = |text: &str| -> Vec<(usize, String)> {
            text.chars()
                .enumerate()
                .map(|(i, c)| (2 * i, c.to_string()))
                .collect()
        };
        let stretch = |text: &str| {
            let r = read(text);
            let r: Vec<(usize, &str)> = r.iter().map(|(at, c)| (*at, c.as_str())).collect();
            mrz_stretch(&r, 2 * text.chars().count())
        };
        let line = "I<AUS9199952668<<<<<<<<<<<<<<<";
        // 18 characters of print, the line, 13 of print.
        let (from, to) = stretch(&format!("rose shows figures{line}res in annual")).unwrap();
        let n = 18.0 + 30.0 + 13.0;
        assert!((from - 17.0 / n).abs() < 0.02, "{from}");
        assert!((to - 48.5 / n).abs() < 0.02, "{to}");
        // An MRZ line alone, or with a stray lowercase letter, is left whole.
        assert_eq!(stretch(line), None);
        assert_eq!(stretch("P<GBRSMiTH<<JOHN<<<<<<<<<<<<<<<<<<<<<<<<<<<"), None);
        // Print with a few capitals is no MRZ.
        assert_eq!(stretch("the REPORT of annual figures"), None);
    }

    #[test]
    fn a_pale_tint_is_colour_and_white_balance_on_grey_is_not() {
        // A card back printed pale blue on white, with black text.
        let card = RgbImage::from_fn(200, 100, |x, y| match (x % 20, y % 10) {
            (0..=3, _) => Rgb([30, 30, 34]),
            (_, 0..=4) => Rgb([220, 230, 245]),
            _ => Rgb([248, 248, 250]),
        });
        assert!(colourful_share(&card) > 0.3, "{}", colourful_share(&card));
        // A grey copy on white paper, photographed with a slightly warm white balance and
        // sensor noise.
        let copy = RgbImage::from_fn(200, 100, |x, y| {
            let v: f32 = if x % 20 < 4 { 40.0 } else { 235.0 };
            let noise = ((x * 7 + y * 13) % 5) as f32;
            Rgb([v * 1.025 + noise, v + noise / 2.0, v * 0.99].map(|c| c as u8))
        });
        assert!(colourful_share(&copy) < 0.02, "{}", colourful_share(&copy));
        // A colour card photographed far too dark: small differences, but large for the
        // brightness (a dark photo is TOO_DARK, not also a photocopy).
        let dim = RgbImage::from_fn(200, 100, |x, _| {
            if x % 20 < 4 {
                Rgb([8, 8, 9])
            } else {
                Rgb([34, 29, 26])
            }
        });
        assert!(colourful_share(&dim) > 0.3, "{}", colourful_share(&dim));
    }

    #[test]
    fn grey_and_flat_measures_tell_drawn_from_photographed() {
        let grey = RgbImage::from_fn(300, 300, |x, y| {
            Rgb([(x % 200) as u8, (x % 200) as u8, (y % 200) as u8 / 100])
        });
        assert!(colourful_share(&grey) > 0.5);
        let grey = RgbImage::from_fn(300, 300, |x, _| Rgb([(x % 250) as u8; 3]));
        assert_eq!(colourful_share(&grey), 0.0);
        assert_eq!(mean_chroma(&grey), 0.0);
        let tinted = RgbImage::from_fn(300, 300, |x, _| Rgb([(x % 250) as u8, (x % 250) as u8, 0]));
        assert!(mean_chroma(&tinted) > 100.0);
        let mut drawn = RgbImage::from_pixel(200, 100, Rgb([242, 242, 247]));
        for y in 50..100 {
            for x in 0..200 {
                drawn.put_pixel(x, y, Rgb([(x + y) as u8, 0, 0]));
            }
        }
        assert!((flat_row_share(&drawn) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn letters_read_as_fillers_are_taken_from_a_reading_that_saw_them() {
        let current = "P<FIN<OWALSKA<<<WAME<<<<<<<<<<";
        let alt = "P<FINKOWALSKA<<KWAME<<<<<<C<<K";
        assert_eq!(
            letters_for_fillers(current, alt, 5, 15).as_deref(),
            Some("P<FINKOWALSKA<<KWAME<<<<<<<<<<")
        );
        // Any other difference, or a letter after the names, and the reading stays.
        assert_eq!(
            letters_for_fillers(current, "P<FIN<OWALSKE<<<WAME<<<", 5, 15),
            None
        );
        assert_eq!(
            letters_for_fillers("P<UTOSMITH<<JOHN<<<", "P<UTOSMITH<<JOHNK<<", 5, 12),
            None
        );
        assert_eq!(letters_for_fillers(current, current, 5, 15), None);
    }

    #[test]
    fn nothing_but_fillers_follows_the_names() {
        assert_eq!(
            fillers_after_names("P<FRAKIM<<SIOBHAN<<<<<<<<<<<<C", 5),
            "P<FRAKIM<<SIOBHAN<<<<<<<<<<<<<"
        );
        assert_eq!(
            fillers_after_names("KOWALSKA<<ANNA<MARIA<<<<K<<", 0),
            "KOWALSKA<<ANNA<MARIA<<<<<<<"
        );
        // One or two fillers separate names; a line the names fill is left alone.
        assert_eq!(
            fillers_after_names("P<UTOSMITH<<JOHN<PAUL", 5),
            "P<UTOSMITH<<JOHN<PAUL"
        );
        // The document code and issuing state are not names.
        assert_eq!(fillers_after_names("P<<<X", 3), "P<<<X");
    }

    #[test]
    fn a_reading_with_dropped_letters_is_a_subsequence_of_the_full_one() {
        assert!(is_subsequence(b"HIRSHI", b"HIROSHI"));
        assert!(is_subsequence(b"SHMIDT", b"SCHMIDT"));
        assert!(is_subsequence(b"", b"A"));
        // A different letter is not a dropped one.
        assert!(!is_subsequence(b"NDVAK", b"NOVAK"));
        assert!(!is_subsequence(b"DUBOIS<<JI<WO", b"DUBIS<<JI<WOO"));
    }

    #[test]
    fn a_pixel_grid_stands_out_in_the_spectrum() {
        let paper = GrayImage::from_fn(300, 300, |x, y| {
            image::Luma([
                (128.0 + 40.0 * ((x as f32 * 0.05).sin() + (y as f32 * 0.031).cos())) as u8,
            ])
        });
        let grid = GrayImage::from_fn(300, 300, |x, y| {
            let base = paper.get_pixel(x, y)[0];
            image::Luma([if x % 3 == 2 || y % 3 == 2 {
                base / 4
            } else {
                base
            }])
        });
        let (p, g) = (grid_peaks(&paper), grid_peaks(&grid));
        assert!(g.peak > 10.0 * p.peak, "paper {p:?} grid {g:?}");
        // The grid is periodic down as much as across.
        assert!(g.across > 0.5 * g.peak, "grid {g:?}");
        // Stripes one way only (what motion blur leaves of print) peak just as high, but
        // nothing stands out at right angles to them.
        let stripes = GrayImage::from_fn(300, 300, |x, y| {
            let base = paper.get_pixel(x, y)[0];
            image::Luma([if y % 3 == 2 { base / 4 } else { base }])
        });
        let s = grid_peaks(&stripes);
        assert!(s.peak > 10.0 * p.peak, "paper {p:?} stripes {s:?}");
        assert!(s.across < 0.1 * s.peak, "stripes {s:?}");
        assert!(s.across < g.across / 4.0, "stripes {s:?} grid {g:?}");
    }

    #[test]
    fn only_fine_periods_count_as_a_screen_grid() {
        // Paper's grain: noise at every frequency.
        let mut state = 0x2545_f491_u32;
        let mut noise = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            f32::from((state >> 24) as u8) / 12.0
        };
        let grain: Vec<f32> = (0..300 * 300).map(|_| noise()).collect();
        let tau = 2.0 * std::f32::consts::PI;
        let picture = |period: f32, both_ways: bool| {
            GrayImage::from_fn(300, 300, |x, y| {
                let across = (tau * x as f32 / period).cos();
                let down = if both_ways {
                    (tau * y as f32 / period).cos()
                } else {
                    0.0
                };
                let v = 110.0 + grain[(y * 300 + x) as usize] + 40.0 * (across + down);
                image::Luma([v.clamp(0.0, 255.0) as u8])
            })
        };
        let t = Thresholds::default();
        // A grid at an 8-pixel period (print's strokes photographed close up, smoothed by
        // the lens) peaks far above the grain, but coarser than any screen's grid.
        let coarse = grid_peaks(&picture(8.0, true));
        assert!(coarse.peak < t.min_grid_peak / 2.0, "coarse {coarse:?}");
        // The same grid at a 2.5-pixel period: a screen's pixels.
        let fine = grid_peaks(&picture(2.5, true));
        assert!(fine.peak >= 2.0 * t.min_grid_peak, "fine {fine:?}");
        assert!(fine.across >= 2.0 * t.min_grid_across, "fine {fine:?}");
        // Fine stripes one way only are not a grid.
        let stripes = grid_peaks(&picture(2.5, false));
        assert!(stripes.peak >= t.min_grid_peak, "stripes {stripes:?}");
        assert!(
            stripes.across < t.min_grid_across / 2.0,
            "stripes {stripes:?}"
        );
    }
}
