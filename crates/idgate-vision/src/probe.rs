//! The one file probe: what a file really is, read from its first bytes (never from its
//! name or declared type), its pixel size from the header (so oversized images are refused
//! before anything decodes them) and whether it arrived whole. The upload checks and
//! [`crate::input`]'s decoders both ask it, so an upload and a decode never disagree on
//! what a file is.

/// The file formats idgate takes: photos, and PDF for a proof of address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    WebP,
    /// HEIF with HEVC, as iPhones save photos.
    Heic,
    Pdf,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::WebP => "image/webp",
            Format::Heic => "image/heic",
            Format::Pdf => "application/pdf",
        }
    }
}

/// The format by content; `None` for anything else.
pub fn sniff(b: &[u8]) -> Option<Format> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some(Format::WebP)
    } else if b.len() >= 12
        && &b[4..8] == b"ftyp"
        && matches!(
            &b[8..12],
            b"heic" | b"heix" | b"mif1" | b"msf1" | b"heim" | b"heis"
        )
    {
        Some(Format::Heic)
    } else if b.starts_with(b"%PDF-") {
        Some(Format::Pdf)
    } else {
        None
    }
}

/// Does the JPEG end its last scan with an end-of-image marker? A file cut short in transfer
/// stops inside the entropy-coded data of its last scan, where `FF D9` cannot occur
/// (0xFF is always stuffed there); an EXIF thumbnail's markers come before the main scan,
/// and trailers some phones append (a second MPF image) end with their own marker.
pub fn jpeg_complete(b: &[u8]) -> bool {
    let Some(last_scan) = b.windows(2).rposition(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    b[last_scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Does the PDF carry its end-of-file marker near its end (a cut-off file does not)?
pub fn pdf_complete(b: &[u8]) -> bool {
    let tail = &b[b.len().saturating_sub(1024)..];
    tail.windows(5).any(|w| w == b"%%EOF")
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le_n(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    Some(
        s.iter()
            .rev()
            .fold(0u32, |acc, x| (acc << 8) | u32::from(*x)),
    )
}

/// Width and height from the header; `None` when the header is truncated or malformed
/// (and for HEIC/PDF, whose size is read when they are decoded).
pub fn dimensions(format: Format, b: &[u8]) -> Option<(u32, u32)> {
    match format {
        Format::Png => {
            if b.get(12..16)? != b"IHDR" {
                return None;
            }
            Some((be32(b, 16)?, be32(b, 20)?))
        }
        Format::Jpeg => {
            let mut at = 2;
            loop {
                while *b.get(at)? != 0xFF {
                    at += 1;
                }
                while *b.get(at)? == 0xFF {
                    at += 1;
                }
                let marker = *b.get(at)?;
                at += 1;
                match marker {
                    0xD8 | 0x01 | 0xD0..=0xD7 => continue,
                    0xD9 | 0xDA => return None,
                    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
                    0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                        return Some((be16(b, at + 5)?, be16(b, at + 3)?));
                    }
                    _ => at += be16(b, at)? as usize,
                }
            }
        }
        Format::WebP => match b.get(12..16)? {
            b"VP8 " => Some((le_n(b, 26, 2)? & 0x3FFF, le_n(b, 28, 2)? & 0x3FFF)),
            b"VP8L" => {
                let bits = le_n(b, 21, 4)?;
                Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
            }
            b"VP8X" => Some((le_n(b, 24, 3)? + 1, le_n(b, 27, 3)? + 1)),
            _ => None,
        },
        Format::Heic | Format::Pdf => None,
    }
}

#[cfg(test)]
#[path = "../../testdata.rs"]
mod testdata;

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 2, 0, 0, 0]);
        b
    }

    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
        b.extend(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        b.extend([0xFF, 0xC0, 0, 17, 8]);
        b.extend(h.to_be_bytes());
        b.extend(w.to_be_bytes());
        b.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b
    }

    #[test]
    fn formats_are_told_by_content_not_name() {
        assert_eq!(sniff(&png(1, 1)), Some(Format::Png));
        assert_eq!(sniff(&jpeg(1, 1)), Some(Format::Jpeg));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::WebP));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), Some(Format::Heic));
        assert_eq!(sniff(b"%PDF-1.7"), Some(Format::Pdf));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn header_dimensions() {
        assert_eq!(
            dimensions(Format::Png, &png(4000, 3000)),
            Some((4000, 3000))
        );
        assert_eq!(
            dimensions(Format::Jpeg, &jpeg(65000, 65000)),
            Some((65000, 65000))
        );
        assert_eq!(
            dimensions(Format::Jpeg, &jpeg(4032, 3024)[..20]),
            None,
            "truncated"
        );
        assert_eq!(dimensions(Format::Png, &png(1, 1)[..18]), None);
    }

    #[test]
    fn real_jpegs_from_the_test_data() {
        let bytes = super::testdata::read("fastmrz/data/td3.jpg");
        let (w, h) = dimensions(sniff(&bytes).unwrap(), &bytes).unwrap();
        assert!(w > 100 && h > 100, "{w}x{h}");
    }
}
