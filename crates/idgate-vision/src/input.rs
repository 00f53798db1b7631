//! Untrusted image bytes to pixels, safely: the format is sniffed from the content (never
//! from a file name; JPEG, PNG, WebP, and HEIC through libheif), the pixel count is read from the header and refused before anything
//! is decoded (decompression bombs), the decoder runs with memory limits, and the EXIF
//! orientation is applied so that "up" is where the camera's user saw it.

use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};
use std::io::Cursor;

#[derive(Clone, Copy, Debug)]
pub struct InputLimits {
    pub max_bytes: usize,
    pub max_pixels: u64,
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_bytes: 15 << 20,
            max_pixels: 50_000_000,
        }
    }
}

/// Why an input was refused; `code()` is the stable identifier clients see.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the content is not a supported image (JPEG, PNG, WebP or HEIC)")]
    Unsupported,
    #[error("the image is {width}x{height} pixels; the limit is {limit} pixels")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("the image could not be decoded: {0}")]
    Corrupt(String),
}

impl InputError {
    pub fn code(&self) -> &'static str {
        match self {
            InputError::Empty => "empty_file",
            InputError::TooLarge { .. } => "file_too_large",
            InputError::Unsupported => "unsupported_file_type",
            InputError::TooManyPixels { .. } => "image_too_large",
            InputError::Corrupt(_) => "unreadable_image",
        }
    }
}

/// The format a file was decoded from (never `Pdf`).
pub use crate::probe::Format;

/// A decoded, upright image and what was learnt on the way.
#[derive(Debug)]
pub struct Decoded {
    pub format: Format,
    pub image: RgbImage,
    /// Pixel size as stored, before orientation was applied.
    pub stored_width: u32,
    pub stored_height: u32,
    /// The file carried EXIF metadata (cameras write it; screenshots usually do not).
    pub has_exif: bool,
    /// Decoded pixels per stored pixel (1 unless a scaled decode was asked for).
    pub scale: f32,
    /// The grey centre of the picture at full resolution, when one was asked for
    /// ([`decode_scaled_with_centre`]) and the fast JPEG path made it.
    pub centre: Option<GrayImage>,
}

pub fn decode(bytes: &[u8], limits: InputLimits) -> Result<Decoded, InputError> {
    decode_scaled(bytes, limits, u32::MAX)
}

/// Like [`decode`], but a JPEG whose longer side exceeds `min_long_side` is decoded at
/// 1/2, 1/4 or 1/8 scale in the DCT domain (the largest reduction that keeps the longer
/// side at least `min_long_side`), which is cheaper than decoding every pixel. Other
/// formats are decoded in full.
pub fn decode_scaled(
    bytes: &[u8],
    limits: InputLimits,
    min_long_side: u32,
) -> Result<Decoded, InputError> {
    decode_with(bytes, limits, min_long_side, None)
}

/// Like [`decode_scaled`], and the `side` × `side` grey centre of the picture (in stored
/// orientation) at full resolution: a screen's pixel grid is the finest detail of a photo
/// of a screen, and any reduced decode averages it away. Only a JPEG the fast path of
/// [`crate::jpeg`] takes and reduces gets one; any other picture is decoded at full size
/// or by another decoder, and its grid is measured on the picture itself.
pub fn decode_scaled_with_centre(
    bytes: &[u8],
    limits: InputLimits,
    min_long_side: u32,
    side: u32,
) -> Result<Decoded, InputError> {
    decode_with(bytes, limits, min_long_side, Some(side))
}

fn decode_with(
    bytes: &[u8],
    limits: InputLimits,
    min_long_side: u32,
    window: Option<u32>,
) -> Result<Decoded, InputError> {
    if bytes.is_empty() {
        return Err(InputError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(InputError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let format = match crate::probe::sniff(bytes) {
        Some(Format::Heic) => return decode_heic(bytes, limits),
        Some(Format::Jpeg) => ImageFormat::Jpeg,
        Some(Format::Png) => ImageFormat::Png,
        Some(Format::WebP) => ImageFormat::WebP,
        Some(Format::Pdf) | None => return Err(InputError::Unsupported),
    };
    let corrupt = |e: image::ImageError| InputError::Corrupt(e.to_string());
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(format);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(InputError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(width);
    decoder_limits.max_image_height = Some(height);
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    decoder.set_limits(decoder_limits).map_err(corrupt)?;
    let has_exif = decoder.exif_metadata().ok().flatten().is_some();
    let orientation = decoder.orientation().map_err(corrupt)?;
    let long = width.max(height);
    let reduction_for = |side: u32| {
        [8u32, 4, 2]
            .into_iter()
            .find(|r| long / r >= side)
            .unwrap_or(1)
    };
    let reduction = reduction_for(min_long_side);
    let mut centre = None;
    let scaled = match window {
        Some(side) if format == ImageFormat::Jpeg && reduction > 1 => {
            match crate::jpeg::decode_reduced_with_centre(bytes, reduction, 1, side as usize) {
                Some((img, grey)) => {
                    centre = Some(grey);
                    Some(img)
                }
                None => jpeg_scaled(bytes, (width, height), reduction)?,
            }
        }
        _ if format == ImageFormat::Jpeg && reduction > 1 => {
            jpeg_scaled(bytes, (width, height), reduction)?
        }
        _ => None,
    };
    let (mut image, scale) = match scaled {
        Some(img) => {
            let scale = img.width() as f32 / width as f32;
            (DynamicImage::ImageRgb8(img), scale)
        }
        None => (DynamicImage::from_decoder(decoder).map_err(corrupt)?, 1.0),
    };
    image.apply_orientation(orientation);
    Ok(Decoded {
        format: match format {
            ImageFormat::Jpeg => Format::Jpeg,
            ImageFormat::Png => Format::Png,
            _ => Format::WebP,
        },
        image: image.into_rgb8(),
        stored_width: width,
        stored_height: height,
        has_exif,
        scale,
        centre,
    })
}

/// HEIC through libheif: the primary image, its size checked against the pixel limit before
/// decoding; libheif applies the file's rotation and mirroring (HEIF keeps orientation in
/// its own boxes, not in EXIF).
fn decode_heic(bytes: &[u8], limits: InputLimits) -> Result<Decoded, InputError> {
    use libheif_rs::{ColorSpace, HeifContext, RgbChroma};
    let corrupt = |e: libheif_rs::HeifError| InputError::Corrupt(e.to_string());
    let ctx = HeifContext::read_from_bytes(bytes).map_err(corrupt)?;
    let handle = ctx.primary_image_handle().map_err(corrupt)?;
    let (width, height) = (handle.width(), handle.height());
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(InputError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    let has_exif = handle.number_of_metadata_blocks(b"Exif") > 0;
    let decoded = handle
        .decode(ColorSpace::Rgb(RgbChroma::Rgb), None)
        .map_err(corrupt)?;
    let planes = decoded.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| InputError::Corrupt("libheif gave no interleaved RGB plane".into()))?;
    let (w, h) = (plane.width, plane.height);
    let row = w as usize * 3;
    let mut pixels = Vec::with_capacity(row * h as usize);
    for y in 0..h as usize {
        let start = y * plane.stride;
        let line = plane
            .data
            .get(start..start + row)
            .ok_or_else(|| InputError::Corrupt("short HEIC plane".into()))?;
        pixels.extend_from_slice(line);
    }
    let image = RgbImage::from_raw(w, h, pixels)
        .ok_or_else(|| InputError::Corrupt("HEIC plane size mismatch".into()))?;
    Ok(Decoded {
        format: Format::Heic,
        image,
        stored_width: width,
        stored_height: height,
        has_exif,
        scale: 1.0,
        centre: None,
    })
}

/// A DCT-scaled JPEG decode: the camera-JPEG fast path of [`crate::jpeg`], else
/// jpeg-decoder's scaled decode; `None` for colour spaces neither turns into RGB (CMYK),
/// which then take the full decode.
fn jpeg_scaled(
    bytes: &[u8],
    (width, height): (u32, u32),
    reduction: u32,
) -> Result<Option<RgbImage>, InputError> {
    use jpeg_decoder::PixelFormat;
    // The box-filtered fast path serves the gate's 1/4 and 1/8 decodes; at 1/2 (the full
    // check, whose text reading and measures were calibrated on it) jpeg-decoder's scaled
    // inverse transform is kept: it leaves text sharper.
    if reduction >= 4 {
        if let Some(img) = crate::jpeg::decode_reduced(bytes, reduction) {
            return Ok(Some(img));
        }
    }
    let (w, h) = (width / reduction, height / reduction);
    let corrupt = |e: jpeg_decoder::Error| InputError::Corrupt(e.to_string());
    let mut d = jpeg_decoder::Decoder::new(bytes);
    d.read_info().map_err(corrupt)?;
    let (sw, sh) = d
        .scale(w.min(u16::MAX as u32) as u16, h.min(u16::MAX as u32) as u16)
        .map_err(corrupt)?;
    let format = d.info().map(|i| i.pixel_format);
    let pixels = d.decode().map_err(corrupt)?;
    let (sw, sh) = (u32::from(sw), u32::from(sh));
    let img = match format {
        Some(PixelFormat::RGB24) => RgbImage::from_raw(sw, sh, pixels),
        Some(PixelFormat::L8) => {
            RgbImage::from_raw(sw, sh, pixels.iter().flat_map(|&v| [v, v, v]).collect())
        }
        _ => None,
    };
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 3) as u8, 90]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
            .unwrap();
        out
    }

    #[test]
    fn refuses_by_content_size_and_pixels_before_decoding() {
        let ok = jpeg(40, 30);
        let d = decode(&ok, InputLimits::default()).unwrap();
        assert_eq!(d.scale, 1.0);
        assert_eq!((d.format, d.image.dimensions()), (Format::Jpeg, (40, 30)));
        assert_eq!(
            decode(&[], InputLimits::default()).unwrap_err(),
            InputError::Empty
        );
        let small = InputLimits {
            max_bytes: 100,
            max_pixels: 1000,
        };
        assert_eq!(decode(&ok, small).unwrap_err().code(), "file_too_large");
        let few = InputLimits {
            max_bytes: 1 << 20,
            max_pixels: 1000,
        };
        assert_eq!(decode(&ok, few).unwrap_err().code(), "image_too_large");
        // A name does not make a format: text is refused whatever it is called.
        assert_eq!(
            decode(b"%PDF-1.7 not an image", InputLimits::default())
                .unwrap_err()
                .code(),
            "unsupported_file_type"
        );
        let mut truncated = ok.clone();
        truncated.truncate(ok.len() / 2);
        assert_eq!(
            decode(&truncated, InputLimits::default())
                .unwrap_err()
                .code(),
            "unreadable_image"
        );
    }

    #[test]
    fn a_large_jpeg_is_decoded_at_a_dct_scale_keeping_the_requested_side() {
        let big = jpeg(1600, 1200);
        let d = decode_scaled(&big, InputLimits::default(), 400).unwrap();
        assert_eq!(d.image.dimensions(), (400, 300));
        assert_eq!((d.stored_width, d.scale), (1600, 0.25));
        let d = decode_scaled(&big, InputLimits::default(), 500).unwrap();
        assert_eq!(d.image.dimensions(), (800, 600));
        // The scaled pixels agree with a full decode shrunk the same way.
        let full = decode(&big, InputLimits::default()).unwrap().image;
        let halved =
            image::imageops::resize(&full, 800, 600, image::imageops::FilterType::Triangle);
        let diff: u64 = d
            .image
            .as_raw()
            .iter()
            .zip(halved.as_raw())
            .map(|(x, y)| u64::from(x.abs_diff(*y)))
            .sum();
        let mean = diff as f64 / d.image.as_raw().len() as f64;
        assert!(mean < 4.0, "mean difference {mean}");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_header_claiming_a_huge_image_is_refused_without_decoding() {
        // A valid PNG header for 100000 x 100000 pixels and no pixel data.
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\r".to_vec();
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        // An empty IDAT chunk: the decoder reads the header up to the first data chunk.
        png.extend_from_slice(&[0, 0, 0, 0]);
        png.extend_from_slice(b"IDAT");
        png.extend_from_slice(&crc32(b"IDAT").to_be_bytes());
        assert_eq!(
            decode(&png, InputLimits::default()).unwrap_err(),
            InputError::TooManyPixels {
                width: 100_000,
                height: 100_000,
                limit: 50_000_000
            }
        );
    }
}
