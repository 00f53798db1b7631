//! Text detection and recognition with the PP-OCRv4 networks (Apache-2.0) shipped in the PyPI
//! wheel `rapidocr-onnxruntime==1.4.4`, run in pure Rust by tract. `scripts/lib.sh`
//! (`ensure_models`) unpacks the two model files into a models directory; nothing is fetched
//! at run time.
//!
//! * Detection (DBNet): a per-pixel text probability map; lines are the connected regions
//!   above [`DET_THRESHOLD`], kept when their mean probability reaches [`BOX_THRESHOLD`] and
//!   grown by the unclip ratio, as PaddleOCR's post-processing does for upright text.
//! * Recognition (SVTR/CRNN with CTC): a line crop scaled to 48 px high; greedy CTC decoding
//!   over the character list stored in the model's metadata (`character`).
//!
//! Both networks are optimised once for fixed input sizes ([`DET_SIDE`], [`DET_BAND`],
//! [`REC_WIDTH`]) so every call reuses the same plan: a page is letterboxed into the square
//! detection input (a wide strip, such as a page's MRZ band, into the [`DET_BAND`]-high
//! one, at two fifths of the cost) and a line is padded to the recognition width. A run
//! with nothing beside it (detection, a line read alone) spreads its matrix products over
//! the cores (tract's `multithread-mm` pool); lines read together take one core each.

use image::{imageops::FilterType, RgbImage};
use std::path::{Path, PathBuf};
use tract_linalg::multithread::{multithread_tract_scope, Executor};
use tract_onnx::prelude::*;

pub const DET_MODEL: &str = "ch_PP-OCRv4_det_infer.onnx";
pub const REC_MODEL: &str = "ch_PP-OCRv4_rec_infer.onnx";
/// Side of the square the page is letterboxed into for detection (a multiple of 32).
pub const DET_SIDE: u32 = 960;
/// Height of the second detection input, [`DET_SIDE`] wide, for strips at most this high
/// once scaled (a multiple of 32).
pub const DET_BAND: u32 = 384;
pub const REC_HEIGHT: u32 = 48;
/// Wide enough for a 44-character TD3 line at 48 px high.
pub const REC_WIDTH: u32 = 1600;
const DET_THRESHOLD: f32 = 0.3;
const BOX_THRESHOLD: f32 = 0.5;
const UNCLIP_RATIO: f32 = 1.6;

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("OCR model file {path} is missing or unreadable (run scripts/serve or scripts/test to unpack the models): {message}")]
    Model { path: PathBuf, message: String },
    #[error("OCR inference failed: {0}")]
    Inference(String),
}

fn inference(e: impl std::fmt::Display) -> OcrError {
    OcrError::Inference(e.to_string())
}

type Plan = std::sync::Arc<TypedRunnableModel>;

/// A text line found on the page, in the page's pixel coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextBox {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// Mean text probability inside the region.
    pub score: f32,
    /// Direction of the line in radians, clockwise from the x axis (y points down).
    pub angle: f32,
}

impl TextBox {
    /// How thick the line is across its direction: the box is the upright box around a
    /// line at [`TextBox::angle`], which a slant makes taller than the line.
    pub fn thickness(&self) -> f32 {
        let (w, h) = (self.w as f32, self.h as f32);
        (h - w * self.angle.sin().abs()).max(h * 0.25).max(2.0)
    }

    /// Where the line's centre line crosses the column `x` (it may lie outside the box).
    pub fn centre_at(&self, x: f32) -> f32 {
        let (cx, cy) = (
            self.x as f32 + self.w as f32 / 2.0,
            self.y as f32 + self.h as f32 / 2.0,
        );
        cy + (x - cx) * self.angle.tan()
    }

    /// The same line from its start to the column `right`, as thick and on the same centre
    /// line (a slanted line's upright box grows with its length).
    pub fn extended_to(&self, right: u32) -> TextBox {
        self.part(self.x, right)
    }

    /// The stretch of this line's centre line between the columns `x0` and `x1`, as thick.
    pub fn part(&self, x0: u32, x1: u32) -> TextBox {
        let w = x1.saturating_sub(x0).max(1);
        let cx = x0 as f32 + w as f32 / 2.0;
        let h = (self.thickness() + w as f32 * self.angle.sin().abs()).round();
        let y = (self.centre_at(cx) - h / 2.0).round().max(0.0);
        TextBox {
            x: x0,
            y: y as u32,
            w,
            h: h.max(1.0) as u32,
            ..*self
        }
    }

    /// The stretch of this line that the shares `from..to` of its [`TextBox::straightened`]
    /// crop (with `margin`) show, within the box.
    pub fn crop_part(&self, margin: f32, from: f32, to: f32) -> TextBox {
        let cos = self.angle.cos();
        let (pad, length) = self.straight_length(margin);
        let (x0, x1) = (self.x as f32, (self.x + self.w) as f32);
        let x = |f: f32| (x0 + (f * length - pad) * cos).round().clamp(x0, x1) as u32;
        self.part(x(from), x(to))
    }

    /// The padding (`margin` of the thickness) and the length, padding included, of the
    /// line's [`TextBox::straightened`] crop.
    fn straight_length(&self, margin: f32) -> (f32, f32) {
        let pad = self.thickness() * margin;
        (
            pad,
            self.w as f32 / self.angle.cos().abs().max(0.5) + 2.0 * pad,
        )
    }

    /// The line straightened: the box's centre line at [`TextBox::angle`], as long as the
    /// box is wide and as thick as the box is tall less what the slant adds, plus `margin`
    /// (a share of the thickness) on every side, sampled bilinearly from `page`.
    pub fn straightened(&self, page: &RgbImage, margin: f32) -> RgbImage {
        let (cos, sin) = (self.angle.cos(), self.angle.sin());
        let thickness = self.thickness();
        let (pad, length) = self.straight_length(margin);
        let thick = thickness + 2.0 * pad;
        let (cx, cy) = (
            self.x as f32 + self.w as f32 / 2.0,
            self.y as f32 + self.h as f32 / 2.0,
        );
        let (ow, oh) = (
            length.round().max(1.0) as u32,
            thick.round().max(1.0) as u32,
        );
        RgbImage::from_fn(ow, oh, |u, v| {
            let (du, dv) = (u as f32 + 0.5 - length / 2.0, v as f32 + 0.5 - thick / 2.0);
            let x = cx + du * cos - dv * sin;
            let y = cy + du * sin + dv * cos;
            crate::document::bilinear(page, x - 0.5, y - 0.5)
        })
    }
}

/// The recogniser's class probabilities for one line: `probs` holds one row of `classes`
/// values per time step, left to right.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Steps {
    pub probs: Vec<f32>,
    pub classes: usize,
}

impl Steps {
    /// Number of time steps.
    pub fn len(&self) -> usize {
        self.probs.len().checked_div(self.classes).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The steps over a smaller alphabet, as log-probabilities: `symbol[class]` names the
    /// symbol (1..=`symbols`) a class stands for, or `None` for a class outside it; 0 stays
    /// the blank. A symbol takes the summed probability of its classes (`o` and `O` are one
    /// letter of an MRZ), and each step is renormalised over the alphabet.
    pub fn project(&self, symbol: &[Option<usize>], symbols: usize) -> Vec<f32> {
        let width = symbols + 1;
        let mut out = vec![0.0f32; self.len() * width];
        for (row, step) in out
            .chunks_exact_mut(width)
            .zip(self.probs.chunks_exact(self.classes))
        {
            row[0] = step[0];
            for (p, s) in step.iter().zip(symbol).skip(1) {
                if let Some(s) = *s {
                    row[s] += p;
                }
            }
            let total: f32 = row.iter().sum::<f32>().max(f32::MIN_POSITIVE);
            for v in row.iter_mut() {
                *v = (*v / total).max(1e-12).ln();
            }
        }
        out
    }
}

/// The most likely CTC path (blank is label 0) that spells exactly `length` labels, given
/// log-probabilities `logp` of `width` labels per step; `None` when no path of the steps
/// spells that many (too few steps). With `length` equal to the greedy reading's, this is
/// the greedy reading.
///
/// A reading that drops a thin letter, or merges a doubled one for want of a blank step
/// between, is one or two labels short of a line whose length is known (an MRZ line): the
/// path that spells the right number of labels puts them back where the recogniser was
/// least sure.
pub fn ctc_best_of_length(logp: &[f32], width: usize, length: usize) -> Option<Vec<usize>> {
    let steps = logp.len() / width.max(1);
    if width < 2 || steps == 0 || width > usize::from(u8::MAX) + 1 {
        return (length == 0).then(Vec::new);
    }
    const NONE: f32 = f32::NEG_INFINITY;
    let rows = length + 1;
    // score[n * width + k]: best path so far that spelled n labels and ends on label k.
    let mut score = vec![NONE; rows * width];
    let mut next = vec![NONE; rows * width];
    // back[(t * rows + n) * width + k]: the label the best path had at step t - 1.
    let mut back = vec![0u8; steps * rows * width];
    score[0] = 0.0;
    for t in 0..steps {
        let lp = &logp[t * width..(t + 1) * width];
        next.fill(NONE);
        for n in 0..rows {
            let row = &score[n * width..(n + 1) * width];
            // Staying on the blank or on the same label spells nothing new.
            // (Row n of `next` may already hold paths that spelled their n-th label here.)
            let (best_k, best) = argmax(row);
            let at = (t * rows + n) * width;
            if best > NONE && best + lp[0] > next[n * width] {
                next[n * width] = best + lp[0];
                back[at] = best_k as u8;
            }
            for k in 1..width {
                let v = row[k] + lp[k];
                if row[k] > NONE && v > next[n * width + k] {
                    next[n * width + k] = v;
                    back[at + k] = k as u8;
                }
            }
            // A label after the blank or a different label spells one more.
            if n + 1 < rows {
                let (second_k, second) = argmax_except(row, best_k);
                for k in 1..width {
                    let (from_k, from) = if k == best_k {
                        (second_k, second)
                    } else {
                        (best_k, best)
                    };
                    let v = from + lp[k];
                    let cell = (n + 1) * width + k;
                    if from > NONE && v > next[cell] {
                        next[cell] = v;
                        back[(t * rows + n + 1) * width + k] = from_k as u8;
                    }
                }
            }
        }
        std::mem::swap(&mut score, &mut next);
    }
    let (mut k, best) = argmax(&score[length * width..]);
    if best == NONE {
        return None;
    }
    // Walk back: a label is spelled where it starts (after a blank or another label).
    let mut n = length;
    let mut labels = Vec::with_capacity(length);
    for t in (0..steps).rev() {
        let prev = usize::from(back[(t * rows + n) * width + k]);
        if k != 0 && prev != k {
            labels.push(k);
            n -= 1;
        }
        k = prev;
    }
    labels.reverse();
    (labels.len() == length).then_some(labels)
}

/// How sure the recogniser was of each label of a reading: the steps are aligned to
/// `labels` by the most likely CTC path that spells exactly them (blank is 0, `logp` holds
/// `width` log-probabilities per step), and each label gets the highest probability it has
/// on a step the path spends on it. A character the recogniser hesitated over between two
/// look-alikes (`8` or `B`) never gets near 1 on any of its steps. All 0 when the steps
/// cannot spell `labels`.
pub fn ctc_label_confidence(logp: &[f32], width: usize, labels: &[usize]) -> Vec<f32> {
    let steps = logp.len() / width.max(1);
    let none = vec![0.0; labels.len()];
    if labels.is_empty() || width < 2 || labels.iter().any(|&k| k == 0 || k >= width) {
        return none;
    }
    // States: blank, label 1, blank, label 2, ..., label n, blank.
    let states = 2 * labels.len() + 1;
    let label = |s: usize| if s % 2 == 1 { labels[s / 2] } else { 0 };
    const NONE: f32 = f32::NEG_INFINITY;
    let mut score = vec![NONE; states];
    let mut next = vec![NONE; states];
    // back[t * states + s]: how many states back the path came from (0, 1 or 2).
    let mut back = vec![0u8; steps * states];
    for t in 0..steps {
        let lp = &logp[t * width..(t + 1) * width];
        if t == 0 {
            score[0] = lp[0];
            if states > 1 {
                score[1] = lp[label(1)];
            }
            continue;
        }
        for s in 0..states {
            let k = label(s);
            let mut best = (score[s], 0u8);
            if s >= 1 && score[s - 1] > best.0 {
                best = (score[s - 1], 1);
            }
            // Skipping a blank is allowed between two different labels.
            if s >= 2 && k != 0 && k != label(s - 2) && score[s - 2] > best.0 {
                best = (score[s - 2], 2);
            }
            next[s] = if best.0 > NONE { best.0 + lp[k] } else { NONE };
            back[t * states + s] = best.1;
        }
        std::mem::swap(&mut score, &mut next);
    }
    if steps == 0 {
        return none;
    }
    let mut s = if states >= 2 && score[states - 2] > score[states - 1] {
        states - 2
    } else {
        states - 1
    };
    if score[s] == NONE {
        return none;
    }
    let mut confidence = vec![0.0f32; labels.len()];
    for t in (0..steps).rev() {
        if s % 2 == 1 {
            let p = logp[t * width + label(s)].exp();
            let c = &mut confidence[s / 2];
            *c = c.max(p);
        }
        s -= usize::from(back[t * states + s]);
    }
    confidence
}

fn argmax(row: &[f32]) -> (usize, f32) {
    row.iter()
        .copied()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a })
}

fn argmax_except(row: &[f32], skip: usize) -> (usize, f32) {
    row.iter()
        .copied()
        .enumerate()
        .filter(|&(k, _)| k != skip)
        .fold((0, f32::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a })
}

/// What the recogniser read in one line.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    pub text: String,
    /// Mean probability of the emitted characters (0 for an empty reading).
    pub confidence: f32,
}

pub struct Ocr {
    det: Plan,
    det_band: Plan,
    rec: Plan,
    /// The threads one network run's matrix products are spread over when nothing else
    /// runs beside it (the detector; a line read alone).
    pool: Executor,
    /// CTC classes: index 0 is the blank; then the model's characters; then a space.
    classes: Vec<String>,
}

impl std::fmt::Debug for Ocr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ocr")
            .field("classes", &self.classes.len())
            .finish_non_exhaustive()
    }
}

impl Ocr {
    /// Loads and optimises both networks from `dir` (a few seconds; do it once).
    pub fn load(dir: &Path) -> Result<Ocr, OcrError> {
        let det_path = dir.join(DET_MODEL);
        let det_proto = read_network(&det_path)?;
        let det = optimise(&det_path, &det_proto, [DET_SIDE, DET_SIDE])?;
        let det_band = optimise(&det_path, &det_proto, [DET_BAND, DET_SIDE])?;
        let rec_path = dir.join(REC_MODEL);
        let proto = read_network(&rec_path)?;
        let rec = optimise(&rec_path, &proto, [REC_HEIGHT, REC_WIDTH])?;
        let characters = proto
            .metadata_props
            .iter()
            .find(|p| p.key == "character")
            .ok_or_else(|| OcrError::Model {
                path: rec_path,
                message: "no `character` list in the model metadata".into(),
            })?;
        let mut classes = vec![String::new()];
        classes.extend(characters.value.lines().map(str::to_string));
        classes.push(" ".into());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let pool = if cores > 1 {
            Executor::multithread(cores)
        } else {
            Executor::SingleThread
        };
        Ok(Ocr {
            det,
            det_band,
            rec,
            pool,
            classes,
        })
    }

    /// Finds text lines, top to bottom.
    pub fn detect(&self, page: &RgbImage) -> Result<Vec<TextBox>, OcrError> {
        let (w, h) = page.dimensions();
        if w == 0 || h == 0 {
            return Ok(Vec::new());
        }
        let scale = DET_SIDE as f32 / w.max(h) as f32;
        let (sw, sh) = (
            ((w as f32 * scale).round() as u32).clamp(1, DET_SIDE),
            ((h as f32 * scale).round() as u32).clamp(1, DET_SIDE),
        );
        let small = image::imageops::resize(page, sw, sh, FilterType::Triangle);
        let side = DET_SIDE as usize;
        let (plan, height) = if sh <= DET_BAND {
            (&self.det_band, DET_BAND)
        } else {
            (&self.det, DET_SIDE)
        };
        let input = network_input(&small, [height, DET_SIDE])?;
        let out = multithread_tract_scope(self.pool.clone(), || plan.run(tvec!(input.into())))
            .map_err(inference)?;
        let prob = out[0].to_plain_array_view::<f32>().map_err(inference)?;
        let map: Vec<f32> = prob.iter().copied().collect();
        let boxes = regions(&map, side, sw as usize, sh as usize);
        let mut found: Vec<TextBox> = boxes
            .into_iter()
            .map(|b| {
                let to_page = |v: f32, limit: u32| ((v / scale).round().max(0.0) as u32).min(limit);
                let x0 = to_page(b.x0, w);
                let y0 = to_page(b.y0, h);
                let x1 = to_page(b.x1, w);
                let y1 = to_page(b.y1, h);
                TextBox {
                    x: x0,
                    y: y0,
                    w: x1.saturating_sub(x0).max(1),
                    h: y1.saturating_sub(y0).max(1),
                    score: b.score,
                    angle: b.angle,
                }
            })
            .collect();
        found.sort_by_key(|b| (b.y, b.x));
        Ok(found)
    }

    /// Reads one text line: greedy CTC decoding of [`Ocr::steps`].
    pub fn recognize(&self, line: &RgbImage) -> Result<Reading, OcrError> {
        Ok(self.decode_greedy(&self.steps(line)?))
    }

    /// The recogniser's class probabilities for one text line, one row per time step of
    /// the part of the input the line fills (a step covers 8 input pixels of the line
    /// scaled to 48 px high). Class 0 is the CTC blank; [`Ocr::class_names`] names the rest.
    pub fn steps(&self, line: &RgbImage) -> Result<Steps, OcrError> {
        let (w, h) = line.dimensions();
        let classes = self.classes.len();
        if w == 0 || h == 0 {
            return Ok(Steps {
                probs: Vec::new(),
                classes,
            });
        }
        let rw = (w as f32 * REC_HEIGHT as f32 / h as f32).ceil() as u32;
        let scaled = if rw <= REC_WIDTH {
            image::imageops::resize(line, rw.max(1), REC_HEIGHT, FilterType::Triangle)
        } else {
            // Too long for the input at 48 px high: scaled down whole, not squeezed (a
            // squeezed line's glyphs are no longer letters the recogniser knows), and
            // centred between rows of the line's own background.
            let rh = ((h as f32 * REC_WIDTH as f32 / w as f32).round() as u32).clamp(1, REC_HEIGHT);
            let small = image::imageops::resize(line, REC_WIDTH, rh, FilterType::Triangle);
            let mut framed = RgbImage::from_pixel(REC_WIDTH, REC_HEIGHT, border_colour(&small));
            image::imageops::replace(&mut framed, &small, 0, i64::from((REC_HEIGHT - rh) / 2));
            framed
        };
        let rw = scaled.width();
        let input = network_input(&scaled, [REC_HEIGHT, REC_WIDTH])?;
        let out = self.rec.run(tvec!(input.into())).map_err(inference)?;
        let probs = out[0].to_plain_array_view::<f32>().map_err(inference)?;
        let shape = probs.shape().to_vec();
        let (steps, width) = (shape[1], shape[2]);
        if width != classes {
            return Err(OcrError::Inference(format!(
                "the recogniser gives {width} classes, its character list names {classes}"
            )));
        }
        // Only the time steps that cover the line, not the padding.
        let used = ((steps as f32 * rw as f32 / REC_WIDTH as f32).ceil() as usize).min(steps);
        let probs: Vec<f32> = probs.iter().take(used * classes).copied().collect();
        Ok(Steps { probs, classes })
    }

    /// [`Ocr::steps`] of several lines, in order: on two threads when there are two cores
    /// (each recognition runs on one; two lines of an MRZ take the time of one); a line
    /// alone has its matrix products spread over the cores instead.
    pub fn steps_all(&self, lines: &[RgbImage]) -> Result<Vec<Steps>, OcrError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if lines.len() < 2 || cores < 2 {
            return multithread_tract_scope(self.pool.clone(), || {
                lines.iter().map(|l| self.steps(l)).collect()
            });
        }
        let (first, second) = lines.split_at(lines.len().div_ceil(2));
        std::thread::scope(|scope| {
            let other = scope.spawn(|| {
                second
                    .iter()
                    .map(|l| self.steps(l))
                    .collect::<Result<Vec<_>, _>>()
            });
            let mut out = first
                .iter()
                .map(|l| self.steps(l))
                .collect::<Result<Vec<_>, _>>()?;
            out.extend(other.join().expect("a recognition thread panicked")?);
            Ok(out)
        })
    }

    /// Greedy CTC decoding of a line's steps (the most likely class at every step).
    pub fn decode_greedy(&self, steps: &Steps) -> Reading {
        ctc_greedy(&steps.probs, steps.classes, &self.classes)
    }

    /// The greedy reading's characters, each with the time step it was read at (steps run
    /// evenly along the line, see [`Ocr::steps`]).
    pub fn greedy_at_steps(&self, steps: &Steps) -> Vec<(usize, &str)> {
        ctc_greedy_path(&steps.probs, steps.classes, &self.classes)
            .into_iter()
            .map(|(at, name, _)| (at, name))
            .collect()
    }

    /// The recogniser's classes: index 0 is the CTC blank (an empty name).
    pub fn class_names(&self) -> &[String] {
        &self.classes
    }

    /// Detects every line and reads it: (box, reading) top to bottom.
    pub fn read_page(&self, page: &RgbImage) -> Result<Vec<(TextBox, Reading)>, OcrError> {
        let mut out = Vec::new();
        for b in self.detect(page)? {
            let crop = image::imageops::crop_imm(page, b.x, b.y, b.w, b.h).to_image();
            out.push((b, self.recognize(&crop)?));
        }
        Ok(out)
    }
}

/// The median colour of an image's first and last rows (a text line's background).
fn border_colour(img: &RgbImage) -> image::Rgb<u8> {
    let (w, h) = img.dimensions();
    let mut px: Vec<[u8; 3]> = (0..w)
        .flat_map(|x| [img.get_pixel(x, 0).0, img.get_pixel(x, h - 1).0])
        .collect();
    let mid = px.len() / 2;
    image::Rgb(std::array::from_fn(|c| {
        *px.select_nth_unstable_by_key(mid, |p| p[c])
            .1
            .get(c)
            .unwrap_or(&255)
    }))
}

fn model_error(path: &Path) -> impl Fn(TractError) -> OcrError + '_ {
    move |e| OcrError::Model {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Reads an ONNX file (parsed once, however many input sizes it is optimised for).
fn read_network(path: &Path) -> Result<tract_onnx::pb::ModelProto, OcrError> {
    let mut proto = tract_onnx::onnx()
        .proto_model_for_path(path)
        .map_err(model_error(path))?;
    forget_dim_names(&mut proto);
    Ok(proto)
}

/// The network read from `path` optimised for a fixed `[1, 3, height, width]` input.
fn optimise(
    path: &Path,
    proto: &tract_onnx::pb::ModelProto,
    [height, width]: [u32; 2],
) -> Result<Plan, OcrError> {
    let shape = [1, 3, height as usize, width as usize];
    tract_onnx::onnx()
        .model_for_proto_model(proto)
        .and_then(|m| m.with_input_fact(0, f32::fact(shape).into()))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map_err(model_error(path))
}

/// `img` in the top-left of a zero (mid-grey after normalisation) `[1, 3, height, width]`
/// tensor: BGR, as the networks were trained on OpenCV images, scaled to (v/255 - 0.5) / 0.5.
fn network_input(img: &RgbImage, [height, width]: [u32; 2]) -> Result<Tensor, OcrError> {
    let mut input =
        Tensor::zero::<f32>(&[1, 3, height as usize, width as usize]).map_err(inference)?;
    let mut view = input.to_plain_array_view_mut::<f32>().map_err(inference)?;
    for (x, y, p) in img.enumerate_pixels() {
        for (c, v) in [p[2], p[1], p[0]].into_iter().enumerate() {
            view[[0, c, y as usize, x as usize]] = f32::from(v) / 127.5 - 1.0;
        }
    }
    Ok(input)
}

/// The exported models name their dynamic dimensions `p2o.DynamicDimension.N`, which tract
/// cannot parse as symbols; they are turned into unknowns, and the input sizes are then fixed
/// with `with_input_fact`.
fn forget_dim_names(model: &mut tract_onnx::pb::ModelProto) {
    use tract_onnx::pb::{tensor_shape_proto::dimension, type_proto};
    let Some(graph) = model.graph.as_mut() else {
        return;
    };
    let infos = graph
        .input
        .iter_mut()
        .chain(graph.output.iter_mut())
        .chain(graph.value_info.iter_mut());
    for info in infos {
        let Some(type_proto::Value::TensorType(t)) =
            info.r#type.as_mut().and_then(|t| t.value.as_mut())
        else {
            continue;
        };
        for d in t.shape.iter_mut().flat_map(|s| s.dim.iter_mut()) {
            if let Some(dimension::Value::DimParam(name)) = &mut d.value {
                *name = "?".into();
            }
        }
    }
}

/// Greedy CTC: best class per step, repeats merged, blanks dropped.
fn ctc_greedy(probs: &[f32], classes: usize, names: &[String]) -> Reading {
    let path = ctc_greedy_path(probs, classes, names);
    let n = path.len();
    Reading {
        text: path.iter().map(|&(_, name, _)| name).collect(),
        confidence: if n == 0 {
            0.0
        } else {
            path.iter().map(|&(.., p)| p).sum::<f32>() / n as f32
        },
    }
}

/// The characters greedy CTC emits: (time step, name, probability).
fn ctc_greedy_path<'a>(
    probs: &[f32],
    classes: usize,
    names: &'a [String],
) -> Vec<(usize, &'a str, f32)> {
    let mut out = Vec::new();
    let mut previous = usize::MAX;
    for (at, step) in probs.chunks_exact(classes.max(1)).enumerate() {
        let (best, p) = step
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::MIN), |a, b| if b.1 > a.1 { b } else { a });
        if best != 0 && best != previous {
            if let Some(name) = names.get(best) {
                out.push((at, name.as_str(), p));
            }
        }
        previous = best;
    }
    out
}

struct Region {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
    score: f32,
    angle: f32,
}

/// Connected regions of the probability map above the threshold, within the `w`×`h` area the
/// page occupies, as unclipped boxes in map coordinates.
fn regions(map: &[f32], stride: usize, w: usize, h: usize) -> Vec<Region> {
    let mut out = Vec::new();
    crate::components::for_each(
        w,
        h,
        stride,
        |i| map[i] >= DET_THRESHOLD,
        |c| {
            let score = c.pixels.iter().map(|&i| map[i]).sum::<f32>() / c.pixels.len() as f32;
            let (bw, bh) = ((c.x1 - c.x0 + 1) as f32, (c.y1 - c.y0 + 1) as f32);
            if score < BOX_THRESHOLD || bw < 3.0 || bh < 3.0 {
                return;
            }
            // The line's direction from the region's second moments: a page flattened from
            // a slightly wrong outline leaves lines a degree or two off the horizontal, and
            // a document photographed whole lies at any small angle.
            let n = c.pixels.len() as f32;
            let (mut mx, mut my) = (0.0f32, 0.0f32);
            for &i in c.pixels.iter() {
                mx += (i % stride) as f32;
                my += (i / stride) as f32;
            }
            (mx, my) = (mx / n, my / n);
            let (mut sxx, mut syy, mut sxy) = (0.0f32, 0.0f32, 0.0f32);
            for &i in c.pixels.iter() {
                let (dx, dy) = ((i % stride) as f32 - mx, (i / stride) as f32 - my);
                sxx += dx * dx;
                syy += dy * dy;
                sxy += dx * dy;
            }
            let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
            // DBNet shrinks text regions when training; grow them back by
            // area * ratio / perimeter on every side, measured along and across the line:
            // the upright box of a slanted line is far taller than the line, and growing
            // by its area would swell the line over its neighbours above and below.
            let (cos, sin) = (angle.cos(), angle.sin());
            let (mut along, mut across) = ((f32::MAX, f32::MIN), (f32::MAX, f32::MIN));
            for &i in c.pixels.iter() {
                let (dx, dy) = ((i % stride) as f32 - mx, (i / stride) as f32 - my);
                let (u, v) = (dx * cos + dy * sin, dy * cos - dx * sin);
                along = (along.0.min(u), along.1.max(u));
                across = (across.0.min(v), across.1.max(v));
            }
            let (length, thickness) = (along.1 - along.0 + 1.0, across.1 - across.0 + 1.0);
            let d = length * thickness * UNCLIP_RATIO / (2.0 * (length + thickness));
            out.push(Region {
                angle,
                x0: c.x0 as f32 - d,
                y0: c.y0 as f32 - d,
                x1: (c.x1 + 1) as f32 + d,
                y1: (c.y1 + 1) as f32 + d,
                score,
            });
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["", "A", "B", "<", " "].map(String::from).to_vec()
    }

    fn steps(best: &[usize]) -> Vec<f32> {
        best.iter()
            .flat_map(|&b| (0..5).map(move |c| if c == b { 0.9 } else { 0.025 }))
            .collect()
    }

    #[test]
    fn ctc_merges_repeats_and_drops_blanks() {
        let r = ctc_greedy(&steps(&[0, 1, 1, 0, 1, 2, 2, 3, 0, 3]), 5, &names());
        assert_eq!(r.text, "AAB<<");
        assert!((r.confidence - 0.9).abs() < 1e-6);
        assert_eq!(ctc_greedy(&steps(&[0, 0]), 5, &names()).text, "");
    }

    /// Log-probabilities over blank, A, B: `rows` gives each step's (blank, A, B).
    fn log_steps(rows: &[[f32; 3]]) -> Vec<f32> {
        rows.iter().flatten().map(|p| p.ln()).collect()
    }

    #[test]
    fn a_path_of_the_known_length_restores_a_merged_double_and_a_dropped_letter() {
        // Three steps sure of A: greedy reads one A. Two As need a blank between them,
        // taken where it costs least (the middle step, least sure of A).
        let merged = log_steps(&[[0.05, 0.9, 0.05], [0.3, 0.65, 0.05], [0.05, 0.9, 0.05]]);
        assert_eq!(ctc_best_of_length(&merged, 3, 1), Some(vec![1]));
        assert_eq!(ctc_best_of_length(&merged, 3, 2), Some(vec![1, 1]));
        // A faint B between two As: greedy reads AA (the blank wins the middle step); three
        // labels put the B back, not a third A.
        let faint = log_steps(&[[0.05, 0.9, 0.05], [0.55, 0.1, 0.35], [0.05, 0.9, 0.05]]);
        assert_eq!(ctc_best_of_length(&faint, 3, 2), Some(vec![1, 1]));
        assert_eq!(ctc_best_of_length(&faint, 3, 3), Some(vec![1, 2, 1]));
        // The length greedy reads gives greedy's reading.
        let three = log_steps(&[[0.05, 0.9, 0.05], [0.05, 0.3, 0.65], [0.05, 0.05, 0.9]]);
        assert_eq!(ctc_best_of_length(&three, 3, 2), Some(vec![1, 2]));
        // Three steps cannot spell four labels.
        assert_eq!(ctc_best_of_length(&three, 3, 4), None);
        assert_eq!(ctc_best_of_length(&[], 3, 0), Some(vec![]));
    }

    #[test]
    fn a_label_the_recogniser_hesitated_over_has_low_confidence() {
        // Blank, A, B. A sure A, a step torn between A and B that spells B, a sure B.
        let logp = log_steps(&[
            [0.05, 0.9, 0.05],
            [0.9, 0.05, 0.05],
            [0.1, 0.45, 0.45],
            [0.9, 0.05, 0.05],
            [0.05, 0.05, 0.9],
        ]);
        let c = ctc_label_confidence(&logp, 3, &[1, 2, 2]);
        assert!((c[0] - 0.9).abs() < 1e-5, "{c:?}");
        assert!((c[1] - 0.45).abs() < 1e-5, "{c:?}");
        assert!((c[2] - 0.9).abs() < 1e-5, "{c:?}");
        // Labels the steps cannot spell (too many) are all unsure.
        assert_eq!(
            ctc_label_confidence(&logp, 3, &[1, 2, 1, 2, 1, 2]),
            vec![0.0; 6]
        );
        assert!(ctc_label_confidence(&logp, 3, &[]).is_empty());
    }

    #[test]
    fn projection_sums_the_classes_of_one_symbol_and_renormalises() {
        // Classes: blank, a, A, #; symbols: 1 = A (a and A), # outside the alphabet.
        let steps = Steps {
            probs: vec![0.1, 0.3, 0.3, 0.3],
            classes: 4,
        };
        let logp = steps.project(&[None, Some(1), Some(1), None], 1);
        let p: Vec<f32> = logp.iter().map(|v| v.exp()).collect();
        assert!(
            (p[0] - 0.1 / 0.7).abs() < 1e-6 && (p[1] - 0.6 / 0.7).abs() < 1e-6,
            "{p:?}"
        );
    }

    #[test]
    fn regions_are_found_scored_and_grown() {
        let stride = 64;
        let mut map = vec![0.0f32; stride * stride];
        // A 20x4 line of text at (10, 10) and a faint blob that scores too low.
        for y in 10..14 {
            for x in 10..30 {
                map[y * stride + x] = 0.9;
            }
        }
        for y in 40..44 {
            for x in 40..44 {
                map[y * stride + x] = 0.35;
            }
        }
        let r = regions(&map, stride, 60, 60);
        assert_eq!(r.len(), 1);
        let d = 20.0 * 4.0 * UNCLIP_RATIO / (2.0 * 24.0);
        assert!((r[0].x0 - (10.0 - d)).abs() < 1e-4);
        assert!((r[0].y1 - (14.0 + d)).abs() < 1e-4);
        // Outside the page area nothing is found.
        assert!(regions(&map, stride, 5, 5).is_empty());
    }
}
