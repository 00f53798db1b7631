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
//! Both networks are optimised once for fixed input sizes ([`DET_SIDE`], [`REC_WIDTH`]) so
//! every call reuses the same plan: a page is letterboxed into the square detection input
//! and a line is padded to the recognition width.

use image::{imageops::FilterType, RgbImage};
use std::path::{Path, PathBuf};
use tract_onnx::prelude::*;

pub const DET_MODEL: &str = "ch_PP-OCRv4_det_infer.onnx";
pub const REC_MODEL: &str = "ch_PP-OCRv4_rec_infer.onnx";
/// Side of the square the page is letterboxed into for detection (a multiple of 32).
pub const DET_SIDE: u32 = 960;
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
    /// The line straightened: the box's centre line at [`TextBox::angle`], as long as the
    /// box is wide and as thick as the box is tall less what the slant adds, plus `margin`
    /// (a share of the thickness) on every side, sampled bilinearly from `page`.
    pub fn straightened(&self, page: &RgbImage, margin: f32) -> RgbImage {
        let (cos, sin) = (self.angle.cos(), self.angle.sin());
        let (w, h) = (self.w as f32, self.h as f32);
        let thickness = (h - w * sin.abs()).max(h * 0.25).max(2.0);
        let pad = thickness * margin;
        let length = w / cos.abs().max(0.5) + 2.0 * pad;
        let thick = thickness + 2.0 * pad;
        let (cx, cy) = (self.x as f32 + w / 2.0, self.y as f32 + h / 2.0);
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

/// What the recogniser read in one line.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    pub text: String,
    /// Mean probability of the emitted characters (0 for an empty reading).
    pub confidence: f32,
}

pub struct Ocr {
    det: Plan,
    rec: Plan,
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
        let (det, _) = load_network(&dir.join(DET_MODEL), [DET_SIDE, DET_SIDE])?;
        let rec_path = dir.join(REC_MODEL);
        let (rec, proto) = load_network(&rec_path, [REC_HEIGHT, REC_WIDTH])?;
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
        Ok(Ocr { det, rec, classes })
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
        let input = network_input(&small, [DET_SIDE, DET_SIDE])?;
        let out = self.det.run(tvec!(input.into())).map_err(inference)?;
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

    /// Reads one line crop.
    pub fn recognize(&self, line: &RgbImage) -> Result<Reading, OcrError> {
        let (w, h) = line.dimensions();
        if w == 0 || h == 0 {
            return Ok(Reading {
                text: String::new(),
                confidence: 0.0,
            });
        }
        let rw = ((w as f32 * REC_HEIGHT as f32 / h as f32).ceil() as u32).clamp(1, REC_WIDTH);
        let scaled = image::imageops::resize(line, rw, REC_HEIGHT, FilterType::Triangle);
        let input = network_input(&scaled, [REC_HEIGHT, REC_WIDTH])?;
        let out = self.rec.run(tvec!(input.into())).map_err(inference)?;
        let probs = out[0].to_plain_array_view::<f32>().map_err(inference)?;
        let shape = probs.shape().to_vec();
        let (steps, classes) = (shape[1], shape[2]);
        // Only the time steps that cover the line, not the padding.
        let used = ((steps as f32 * rw as f32 / REC_WIDTH as f32).ceil() as usize).min(steps);
        let flat: Vec<f32> = probs.iter().copied().collect();
        Ok(ctc_greedy(&flat[..used * classes], classes, &self.classes))
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

/// Reads an ONNX file and optimises it for a fixed `[1, 3, height, width]` input; the parsed
/// proto is returned too, for its metadata.
fn load_network(
    path: &Path,
    [height, width]: [u32; 2],
) -> Result<(Plan, tract_onnx::pb::ModelProto), OcrError> {
    let err = |e: TractError| OcrError::Model {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let onnx = tract_onnx::onnx();
    let mut proto = onnx.proto_model_for_path(path).map_err(err)?;
    forget_dim_names(&mut proto);
    let shape = [1, 3, height as usize, width as usize];
    let plan = onnx
        .model_for_proto_model(&proto)
        .and_then(|m| m.with_input_fact(0, f32::fact(shape).into()))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map_err(err)?;
    Ok((plan, proto))
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
    let mut text = String::new();
    let (mut sum, mut n) = (0.0f32, 0usize);
    let mut previous = usize::MAX;
    for step in probs.chunks_exact(classes) {
        let (best, p) = step
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::MIN), |a, b| if b.1 > a.1 { b } else { a });
        if best != 0 && best != previous {
            if let Some(name) = names.get(best) {
                text.push_str(name);
                sum += p;
                n += 1;
            }
        }
        previous = best;
    }
    Reading {
        text,
        confidence: if n == 0 { 0.0 } else { sum / n as f32 },
    }
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
            // DBNet shrinks text regions when training; grow them back by
            // area * ratio / perimeter on every side.
            let d = bw * bh * UNCLIP_RATIO / (2.0 * (bw + bh));
            // The line's direction from the region's second moments: a page flattened from
            // a slightly wrong outline leaves lines a degree or two off the horizontal.
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
