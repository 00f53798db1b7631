//! A perceptual hash of a face crop, to find a picture used again: the same frame or selfie
//! sent once more after re-encoding, resizing, cropping or added noise. The face is cut out
//! along its own landmarks (so a crop or a resize of the whole picture does not move it),
//! sampled at 64 × 64 with a little blur (noise and re-encoding average out), and the signs
//! of its 16 × 16 lowest-frequency DCT coefficients against their median make 256 bits.
//! Copies stay a few bits apart; a new capture of the same person (another pose, another
//! moment) differs in the fine structure those coefficients hold.
//!
//! The hash is derived from a face image: callers store it sealed, like the descriptors.

use crate::Landmarks;
use image::RgbImage;

/// 256 bits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FaceHash(pub [u64; 4]);

impl std::fmt::Debug for FaceHash {
    // Biometric-derived: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FaceHash(..)")
    }
}

const SIDE: usize = 64;
const KEEP: usize = 16;
/// The crop, in eye distances from the point between the eyes.
const X: (f32, f32) = (-1.1, 1.1);
const Y: (f32, f32) = (-0.75, 1.45);

impl FaceHash {
    /// Bits that differ (0 to 256).
    pub fn distance(&self, other: &FaceHash) -> u32 {
        self.0
            .iter()
            .zip(other.0.iter())
            .map(|(a, b)| (a ^ b).count_ones())
            .sum()
    }

    /// 32 bytes, little-endian: the stored form (sealed by the caller).
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, w) in self.0.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(b: &[u8]) -> Option<FaceHash> {
        if b.len() != 32 {
            return None;
        }
        let mut w = [0u64; 4];
        for (i, v) in w.iter_mut().enumerate() {
            *v = u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().ok()?);
        }
        Some(FaceHash(w))
    }

    /// The hash of the face `lm` places in `img` (`None` when the crop leaves the picture
    /// by more than a quarter).
    pub fn of(img: &RgbImage, lm: &Landmarks) -> Option<FaceHash> {
        let f = lm.frame();
        // Each sample averages a 3 × 3 neighbourhood one crop-pixel apart: a box blur at
        // the crop's scale, whatever the picture's.
        let step = (X.1 - X.0) / SIDE as f32;
        let luma = |x: f32, y: f32| -> Option<f32> {
            let p = f.to_image(x, y);
            if p[0] < 0.0 || p[1] < 0.0 {
                return None;
            }
            let (xi, yi) = (p[0] as u32, p[1] as u32);
            if xi >= img.width() || yi >= img.height() {
                return None;
            }
            let c = img.get_pixel(xi, yi).0;
            Some(0.299 * f32::from(c[0]) + 0.587 * f32::from(c[1]) + 0.114 * f32::from(c[2]))
        };
        let mut grid = vec![0f32; SIDE * SIDE];
        let mut missing = 0;
        for j in 0..SIDE {
            let y = Y.0 + (Y.1 - Y.0) * (j as f32 + 0.5) / SIDE as f32;
            for i in 0..SIDE {
                let x = X.0 + (X.1 - X.0) * (i as f32 + 0.5) / SIDE as f32;
                let (mut sum, mut n) = (0.0, 0);
                for dy in [-1.0, 0.0, 1.0] {
                    for dx in [-1.0, 0.0, 1.0] {
                        if let Some(v) = luma(x + dx * step / 2.0, y + dy * step / 2.0) {
                            sum += v;
                            n += 1;
                        }
                    }
                }
                if n == 0 {
                    missing += 1;
                }
                grid[j * SIDE + i] = if n > 0 { sum / n as f32 } else { f32::NAN };
            }
        }
        if missing * 4 > SIDE * SIDE {
            return None;
        }
        // Outside the picture: the crop's mean, so a cut edge adds no structure.
        let known: Vec<f32> = grid.iter().copied().filter(|v| v.is_finite()).collect();
        let mean = known.iter().sum::<f32>() / known.len() as f32;
        for v in grid.iter_mut() {
            if !v.is_finite() {
                *v = mean;
            }
        }
        // The 16 × 16 lowest frequencies of the 2-D DCT-II, rows then columns.
        let basis: Vec<f32> = (0..KEEP)
            .flat_map(|k| {
                (0..SIDE).map(move |n| {
                    (std::f32::consts::PI * k as f32 * (n as f32 + 0.5) / SIDE as f32).cos()
                })
            })
            .collect();
        let mut rows = vec![0f32; SIDE * KEEP]; // [row][k]
        for j in 0..SIDE {
            for k in 0..KEEP {
                rows[j * KEEP + k] = (0..SIDE)
                    .map(|n| grid[j * SIDE + n] * basis[k * SIDE + n])
                    .sum();
            }
        }
        let mut coef = Vec::with_capacity(KEEP * KEEP - 1);
        for l in 0..KEEP {
            for k in 0..KEEP {
                if k == 0 && l == 0 {
                    continue; // the mean brightness
                }
                coef.push(
                    (0..SIDE)
                        .map(|j| rows[j * KEEP + k] * basis[l * SIDE + j])
                        .sum::<f32>(),
                );
            }
        }
        let mut sorted = coef.clone();
        sorted.sort_by(f32::total_cmp);
        let median = sorted[sorted.len() / 2];
        let mut bits = [0u64; 4];
        for (i, c) in coef.iter().enumerate() {
            if *c > median {
                bits[i / 64] |= 1 << (i % 64);
            }
        }
        Some(FaceHash(bits))
    }
}

/// A face as kept to find copies: its crop's hash and its descriptor.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub hash: FaceHash,
    pub descriptor: crate::Descriptor,
}

/// 32 + 512 bytes per face.
pub const SEEN_BYTES: usize = 32 + 512;

impl Seen {
    /// Is `self` a copy of `other` (see [`crate::Thresholds::copy_hash_bits`])?
    pub fn copies(&self, other: &Seen, t: &crate::Thresholds) -> bool {
        let bits = self.hash.distance(&other.hash);
        bits <= t.copy_hash_bits
            || (bits <= t.copy_hash_bits_close_face
                && self.descriptor.distance(&other.descriptor) <= t.copy_face_distance)
    }

    /// Several faces as one stored blob (sealed by the caller).
    pub fn encode(all: &[Seen]) -> Vec<u8> {
        let mut out = Vec::with_capacity(all.len() * SEEN_BYTES);
        for s in all {
            out.extend_from_slice(&s.hash.to_bytes());
            out.extend_from_slice(&s.descriptor.to_bytes());
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Vec<Seen>> {
        if !bytes.len().is_multiple_of(SEEN_BYTES) {
            return None;
        }
        bytes
            .chunks_exact(SEEN_BYTES)
            .map(|c| {
                Some(Seen {
                    hash: FaceHash::from_bytes(&c[..32])?,
                    descriptor: crate::Descriptor::from_bytes(&c[32..]).ok()?,
                })
            })
            .collect()
    }
}

/// How many of `new` are copies of any of `stored`.
pub fn copied(new: &[Seen], stored: &[Seen], t: &crate::Thresholds) -> usize {
    new.iter()
        .filter(|n| stored.iter().any(|s| n.copies(s, t)))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_and_count_bits() {
        let a = FaceHash([0, 1, 3, u64::MAX]);
        let b = FaceHash([0, 0, 0, 0]);
        assert_eq!(a.distance(&b), 1 + 2 + 64);
        assert_eq!(FaceHash::from_bytes(&a.to_bytes()), Some(a));
        assert_eq!(FaceHash::from_bytes(&[0; 31]), None);
        assert_eq!(format!("{a:?}"), "FaceHash(..)");
        let d = crate::Descriptor([0.1; 128]);
        let seen = vec![
            Seen {
                hash: a,
                descriptor: d.clone(),
            },
            Seen {
                hash: b,
                descriptor: crate::Descriptor([0.3; 128]),
            },
        ];
        assert_eq!(Seen::decode(&Seen::encode(&seen)), Some(seen.clone()));
        assert_eq!(Seen::decode(&[0; 100]), None);
        let t = crate::Thresholds::default();
        // 20 bits apart: a copy only with the same face.
        let near = FaceHash([0xFFFFF, 0, 0, 0]);
        let probe = Seen {
            hash: near,
            descriptor: crate::Descriptor([0.3; 128]),
        };
        assert!(probe.copies(&seen[1], &t));
        let other_face = Seen {
            hash: near,
            descriptor: crate::Descriptor([0.0; 128]),
        };
        assert!(!other_face.copies(&seen[1], &t));
        assert_eq!(copied(&[probe, other_face], &seen, &t), 1);
    }
}
