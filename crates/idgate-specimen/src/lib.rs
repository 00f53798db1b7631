//! Labelled specimen photos for evaluating idgate's document checks.
//!
//! A specimen is a passport data page (TD3) or an ID card (TD1) drawn with a random but
//! valid identity and MRZ ([`document`]), then "photographed": warped into a tabletop scene
//! with camera light and noise ([`photo`]), either clean or with exactly one defect. Each
//! specimen carries its labels: the reason codes a correct check must raise, the codes it
//! may raise as a consequence (a blurred MRZ may also be unreadable), the printed MRZ and
//! the true document corners.
//!
//! Fonts come from Debian packages that `scripts/lib.sh` installs: OCR-B (fonts-ocr-b) for
//! the MRZ and DejaVu Sans (fonts-dejavu-core) for the visual zone.

pub mod document;
pub mod identity;
pub mod photo;

use ab_glyph::FontVec;
use document::{Layout, Page};
use identity::Identity;
use idgate_mrz::Date;
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_ellipse_mut, draw_filled_rect_mut, draw_text_mut};
use imageproc::rect::Rect;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};

pub const OCRB_FONT: &str = "/usr/share/fonts/opentype/ocr-b/OCRB.otf";
pub const SANS_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
pub const SANS_BOLD_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

#[derive(Debug, thiserror::Error)]
#[error("font {path} is missing or unreadable (scripts/lib.sh installs fonts-ocr-b and fonts-dejavu-core): {message}")]
pub struct FontError {
    pub path: PathBuf,
    pub message: String,
}

pub struct Fonts {
    pub ocrb: FontVec,
    pub sans: FontVec,
    pub sans_bold: FontVec,
}

impl Fonts {
    /// The Debian-packaged fonts.
    pub fn system() -> Result<Fonts, FontError> {
        let load = |p: &str| {
            let path = Path::new(p);
            let err = |message: String| FontError {
                path: path.to_path_buf(),
                message,
            };
            let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
            FontVec::try_from_vec(bytes).map_err(|e| err(e.to_string()))
        };
        Ok(Fonts {
            ocrb: load(OCRB_FONT)?,
            sans: load(SANS_FONT)?,
            sans_bold: load(SANS_BOLD_FONT)?,
        })
    }
}

/// What was done to the photo. `Clean` is the control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Defect {
    Clean,
    Glare,
    Defocus,
    Shake,
    TooDark,
    LowResolution,
    CornersCut,
    NoDocument,
    BlackAndWhite,
    Screenshot,
    PhotoOfScreen,
    Photocopy,
    Expired,
    MrzInvalid,
}

impl Defect {
    pub const ALL: &'static [Defect] = &[
        Defect::Clean,
        Defect::Glare,
        Defect::Defocus,
        Defect::Shake,
        Defect::TooDark,
        Defect::LowResolution,
        Defect::CornersCut,
        Defect::NoDocument,
        Defect::BlackAndWhite,
        Defect::Screenshot,
        Defect::PhotoOfScreen,
        Defect::Photocopy,
        Defect::Expired,
        Defect::MrzInvalid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Defect::Clean => "clean",
            Defect::Glare => "glare",
            Defect::Defocus => "defocus",
            Defect::Shake => "shake",
            Defect::TooDark => "too_dark",
            Defect::LowResolution => "low_resolution",
            Defect::CornersCut => "corners_cut",
            Defect::NoDocument => "no_document",
            Defect::BlackAndWhite => "black_and_white",
            Defect::Screenshot => "screenshot",
            Defect::PhotoOfScreen => "photo_of_screen",
            Defect::Photocopy => "photocopy",
            Defect::Expired => "expired",
            Defect::MrzInvalid => "mrz_invalid",
        }
    }

    pub fn parse(s: &str) -> Option<Defect> {
        Defect::ALL.iter().copied().find(|d| d.name() == s)
    }

    /// Reason codes a correct check must raise.
    pub fn expected(self) -> &'static [&'static str] {
        match self {
            Defect::Clean => &[],
            Defect::Glare => &["GLARE"],
            Defect::Defocus | Defect::Shake => &["BLURRY"],
            Defect::TooDark => &["TOO_DARK"],
            Defect::LowResolution => &["LOW_RESOLUTION"],
            Defect::CornersCut => &["CORNERS_NOT_VISIBLE"],
            Defect::NoDocument => &["NO_DOCUMENT_FOUND"],
            Defect::BlackAndWhite => &["BLACK_AND_WHITE"],
            Defect::Screenshot => &["SCREENSHOT"],
            Defect::PhotoOfScreen => &["PHOTO_OF_SCREEN"],
            Defect::Photocopy => &["PHOTOCOPY"],
            Defect::Expired => &["DOCUMENT_EXPIRED"],
            Defect::MrzInvalid => &["MRZ_INVALID"],
        }
    }

    /// Codes that may follow from the defect without being a false alarm.
    pub fn allowed(self) -> &'static [&'static str] {
        match self {
            Defect::Glare | Defect::CornersCut => &["MRZ_UNREADABLE"],
            Defect::Defocus | Defect::Shake | Defect::TooDark => &["MRZ_UNREADABLE", "BLURRY"],
            Defect::LowResolution => &["MRZ_UNREADABLE", "BLURRY"],
            Defect::Photocopy => &["BLACK_AND_WHITE", "MRZ_UNREADABLE"],
            // The screen fills the frame, so its edges may run past it; an emissive screen
            // photographed at the gain a phone picks for it is dimmer than lit paper.
            Defect::PhotoOfScreen => &[
                "MRZ_UNREADABLE",
                "BLURRY",
                "GLARE",
                "CORNERS_NOT_VISIBLE",
                "TOO_DARK",
            ],
            Defect::Screenshot => &["LOW_RESOLUTION", "BLURRY", "MRZ_UNREADABLE"],
            _ => &[],
        }
    }
}

/// One labelled photo.
pub struct Specimen {
    pub defect: Defect,
    pub layout: Layout,
    /// The encoded file as an applicant would upload it.
    pub bytes: Vec<u8>,
    /// "jpeg" or "png".
    pub extension: &'static str,
    /// The MRZ printed on the document (empty when there is no document).
    pub mrz_lines: Vec<String>,
    /// Document corners in the photo (TL, TR, BR, BL of the page), where it was placed.
    pub corners: Option<[[f32; 2]; 4]>,
    /// The saturated part of a glare, as [x, y, w, h].
    pub glare: Option<[u32; 4]>,
}

impl Specimen {
    pub fn file_name(&self, seed: u64) -> String {
        format!(
            "{}-{:?}-{seed}.{}",
            self.defect.name(),
            self.layout,
            self.extension
        )
        .to_lowercase()
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Size of a camera photo.
    pub width: u32,
    pub height: u32,
    /// Day the documents are checked on: clean documents expire after it.
    pub today: Date,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            width: 1600,
            height: 1200,
            today: Date::new(2026, 11, 24).expect("valid date"),
        }
    }
}

/// The specimen for (`defect`, `seed`): the same inputs always give the same bytes.
pub fn generate(fonts: &Fonts, defect: Defect, seed: u64, opts: &Options) -> Specimen {
    let mut rng = StdRng::seed_from_u64(seed ^ (defect as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let layout = if seed.is_multiple_of(2) {
        Layout::Td1
    } else {
        Layout::Td3
    };
    let id = Identity::random(
        &mut rng,
        layout == Layout::Td1,
        opts.today,
        defect == Defect::Expired,
    );
    photograph_with(fonts, defect, layout, &id, &mut rng, opts, None)
}

/// A photo of the document of a given holder (`id`), with `defect`: for scenarios that
/// need to know, or choose, what the document says.
pub fn photograph(
    fonts: &Fonts,
    defect: Defect,
    layout: Layout,
    id: &Identity,
    seed: u64,
    opts: &Options,
) -> Specimen {
    photograph_with_portrait(fonts, defect, layout, id, seed, opts, None)
}

/// Like [`photograph`], with `portrait` (a photo of a face) printed in the portrait area
/// instead of the drawn head: documents whose holder a face check can find and compare.
pub fn photograph_with_portrait(
    fonts: &Fonts,
    defect: Defect,
    layout: Layout,
    id: &Identity,
    seed: u64,
    opts: &Options,
    portrait: Option<&RgbImage>,
) -> Specimen {
    let mut rng = StdRng::seed_from_u64(seed);
    photograph_with(fonts, defect, layout, id, &mut rng, opts, portrait)
}

fn photograph_with(
    fonts: &Fonts,
    defect: Defect,
    layout: Layout,
    id: &Identity,
    rng: &mut StdRng,
    opts: &Options,
    portrait: Option<&RgbImage>,
) -> Specimen {
    let id = id.clone();
    let mrz_override = (defect == Defect::MrzInvalid).then(|| wrong_check_digit(layout, &id, rng));
    let page = document::draw(fonts, layout, &id, mrz_override, portrait, rng);
    let (w, h) = match defect {
        Defect::LowResolution => {
            let w = rng.gen_range(480..720);
            (w, w * 3 / 4)
        }
        _ => (opts.width, opts.height),
    };
    let mut out = Specimen {
        defect,
        layout,
        bytes: Vec::new(),
        extension: "jpeg",
        mrz_lines: page.mrz_lines.clone(),
        corners: None,
        glare: None,
    };
    let mut camera_exif = true;
    let image = match defect {
        Defect::NoDocument => {
            out.mrz_lines.clear();
            let mut scene = photo::table(w, h, rng);
            clutter(&mut scene, rng);
            photo::camera(&mut scene, 1.0, 3.0, rng);
            scene
        }
        Defect::Screenshot => {
            let shot = shoot(&page, w, h, 0.75, rng, &mut out);
            out.corners = None;
            out.extension = "png";
            camera_exif = false;
            screenshot(fonts, &shot, rng)
        }
        Defect::PhotoOfScreen => {
            let shot = shoot(&page, w / 2, h / 2, 0.8, rng, &mut out);
            let block = 4;
            let screen = photo::screen_pixels(&shot, block);
            let mut scene = photo::table(w, h, rng);
            // The screen nearly fills the frame, slightly turned so the pixel grid beats
            // against the camera's.
            let width = w as f32 * rng.gen_range(0.9..1.02);
            let corners = photo::place(
                screen.width() as f32,
                screen.height() as f32,
                width,
                (w as f32 / 2.0, h as f32 / 2.0),
                rng.gen_range(-0.05..0.05),
                w as f32 * 0.01,
                rng,
            );
            photo::paste(&mut scene, &screen, corners);
            out.corners = None;
            photo::camera(&mut scene, 2.6, 3.0, rng);
            scene
        }
        Defect::Photocopy => {
            let copy = photo::photocopy(&page.image, rng);
            // The copy sits on a larger sheet of white paper.
            let margin = copy.width() / 8;
            let mut sheet = RgbImage::from_pixel(
                copy.width() + 2 * margin,
                copy.height() + 3 * margin,
                Rgb([232, 232, 228]),
            );
            image::imageops::overlay(&mut sheet, &copy, margin as i64, margin as i64);
            let mut scene = photo::table(w, h, rng);
            // The whole sheet in the frame: a cut corner would be a second defect.
            let (sw, sh) = (sheet.width() as f32, sheet.height() as f32);
            let fit = (w as f32 * 0.9).min(h as f32 * 0.9 * sw / sh);
            let width = fit * rng.gen_range(0.75..0.92);
            let corners = photo::place(
                sheet.width() as f32,
                sheet.height() as f32,
                width,
                (w as f32 / 2.0, h as f32 / 2.0),
                rng.gen_range(-0.08..0.08),
                w as f32 * 0.01,
                rng,
            );
            photo::paste(&mut scene, &sheet, corners);
            photo::camera(&mut scene, 1.0, 3.0, rng);
            scene
        }
        _ => {
            let mut scene = shoot(&page, w, h, 1.0, rng, &mut out);
            match defect {
                Defect::Glare => {
                    let c = out.corners.expect("placed");
                    let t = (rng.gen_range(0.2..0.8f32), rng.gen_range(0.15..0.6f32));
                    let at = lerp_quad(c, t);
                    let doc_w = dist(c[0], c[1]);
                    out.glare = Some(photo::glare(
                        &mut scene,
                        (at[0], at[1]),
                        doc_w * rng.gen_range(0.05..0.09),
                    ));
                }
                Defect::Defocus => {
                    let sigma = rng.gen_range(3.0..6.0) * w as f32 / 1600.0;
                    scene = imageproc::filter::gaussian_blur_f32(&scene, sigma);
                }
                Defect::Shake => {
                    let length = rng.gen_range(14.0..28.0) * w as f32 / 1600.0;
                    scene = photo::motion_blur(
                        &scene,
                        length,
                        rng.gen_range(0.0..std::f32::consts::PI),
                    );
                }
                Defect::TooDark => {
                    for p in scene.pixels_mut() {
                        *p = Rgb(p.0.map(|c| (c as f32 * 0.16) as u8));
                    }
                    photo::camera(&mut scene, 1.0, 2.5, rng);
                }
                Defect::BlackAndWhite => scene = photo::grayscale(&scene),
                _ => {}
            }
            // Browsers and messengers often strip metadata: a third of the photos carry none,
            // so no check may lean on EXIF alone.
            camera_exif = rng.gen_ratio(2, 3);
            scene
        }
    };
    out.bytes = encode(&image, out.extension, camera_exif, rng);
    out
}

/// The page photographed on a table: placed, lit, noisy. `fill` scales how much of the
/// frame the page takes. CornersCut pushes it partly out of the frame.
fn shoot(page: &Page, w: u32, h: u32, fill: f32, rng: &mut StdRng, out: &mut Specimen) -> RgbImage {
    let (pw, ph) = (page.image.width() as f32, page.image.height() as f32);
    let mut scene = photo::table(w, h, rng);
    let (wf, hf) = (w as f32, h as f32);
    // Largest width that keeps the page inside the frame with a margin.
    let fit = (wf * 0.92).min(hf * 0.92 * pw / ph);
    let width = fit * rng.gen_range(0.62..0.92) * fill;
    let height = width * ph / pw;
    let angle = rng.gen_range(-0.1..0.1f32);
    let slack_x = ((wf - width) / 2.0 - wf * 0.05).max(0.0);
    let slack_y = ((hf - height) / 2.0 - hf * 0.05).max(0.0);
    let mut centre = (
        wf / 2.0 + rng.gen_range(-slack_x..=slack_x) * 0.5,
        hf / 2.0 + rng.gen_range(-slack_y..=slack_y) * 0.5,
    );
    if out.defect == Defect::CornersCut {
        // Push one or two corners out past an edge by 6–18 % of the page width.
        let push = width * rng.gen_range(0.06..0.18);
        match rng.gen_range(0..4) {
            0 => centre.0 = width / 2.0 - push,
            1 => centre.0 = wf - width / 2.0 + push,
            2 => centre.1 = height / 2.0 - push,
            _ => centre.1 = hf - height / 2.0 + push,
        }
    }
    let corners = photo::place(pw, ph, width, centre, angle, width * 0.015, rng);
    photo::paste(&mut scene, &page.image, corners);
    photo::camera(
        &mut scene,
        rng.gen_range(0.88..1.0),
        rng.gen_range(1.5..4.0),
        rng,
    );
    out.corners = Some(corners);
    scene
}

/// A phone screenshot of a photo shown in a chat or gallery app: status bar, title bar,
/// flat background and a button bar, all drawn without camera noise.
fn screenshot(fonts: &Fonts, shot: &RgbImage, rng: &mut StdRng) -> RgbImage {
    let (w, h) =
        [(1080u32, 2340u32), (1170, 2532), (1284, 2778), (1080, 1920)][rng.gen_range(0..4)];
    let dark = rng.gen_bool(0.5);
    let (bg, bar, text) = if dark {
        (Rgb([0, 0, 0]), Rgb([28, 28, 30]), Rgb([240, 240, 240]))
    } else {
        (
            Rgb([242, 242, 247]),
            Rgb([255, 255, 255]),
            Rgb([20, 20, 20]),
        )
    };
    let mut screen = RgbImage::from_pixel(w, h, bg);
    let status = h / 28;
    let title = h / 14;
    draw_filled_rect_mut(&mut screen, Rect::at(0, 0).of_size(w, status + title), bar);
    let scale = ab_glyph::PxScale::from(status as f32 * 0.6);
    draw_text_mut(
        &mut screen,
        text,
        (w / 20) as i32,
        (status / 4) as i32,
        scale,
        &fonts.sans_bold,
        "9:41",
    );
    draw_text_mut(
        &mut screen,
        text,
        (w / 3) as i32,
        (status + title / 4) as i32,
        ab_glyph::PxScale::from(title as f32 * 0.45),
        &fonts.sans_bold,
        "Photos",
    );
    let shown = image::imageops::resize(
        shot,
        w,
        w * shot.height() / shot.width(),
        image::imageops::FilterType::Triangle,
    );
    let top = (h - shown.height()) / 2;
    image::imageops::overlay(&mut screen, &shown, 0, top as i64);
    draw_filled_rect_mut(
        &mut screen,
        Rect::at(0, (h - title) as i32).of_size(w, title),
        bar,
    );
    for i in 0..4 {
        let cx = (w / 8 + i * w / 4) as i32;
        draw_filled_ellipse_mut(
            &mut screen,
            (cx, (h - title / 2) as i32),
            (title / 6) as i32,
            (title / 6) as i32,
            text,
        );
    }
    screen
}

/// Objects that are not documents: a mug, a phone, a pen.
fn clutter(scene: &mut RgbImage, rng: &mut StdRng) {
    let (w, h) = (scene.width() as i32, scene.height() as i32);
    for _ in 0..rng.gen_range(1..4) {
        let colour = document::hsv(
            rng.gen_range(0.0..360.0),
            rng.gen_range(0.2..0.8),
            rng.gen_range(0.2..0.9),
        );
        let r = rng.gen_range(w / 14..w / 6);
        let c = (rng.gen_range(0..w), rng.gen_range(0..h));
        draw_filled_ellipse_mut(scene, c, r, r * rng.gen_range(6..12) / 10, colour);
    }
}

/// TD1 or TD3 lines for `id` with the birth-date check digit changed.
/// A tampered MRZ: either the birth date's check digit changed, or (as a forger who edits
/// the document number does) one digit of the document number changed and its check digit
/// left as it was.
fn wrong_check_digit(layout: Layout, id: &Identity, rng: &mut StdRng) -> Vec<String> {
    let format = match layout {
        Layout::Td1 => idgate_mrz::Format::Td1,
        Layout::Td3 => idgate_mrz::Format::Td3,
    };
    let mut lines = idgate_mrz::render(format, &id.mrz_specimen()).expect("valid identity");
    let (check, number) = match layout {
        Layout::Td1 => ((1, 6), (0, 5..14)),
        Layout::Td3 => ((1, 19), (1, 0..9)),
    };
    let digits: Vec<usize> = number
        .1
        .clone()
        .filter(|&c| lines[number.0].as_bytes()[c].is_ascii_digit())
        .collect();
    let (line, col) = if rng.gen_bool(0.5) && !digits.is_empty() {
        (number.0, digits[rng.gen_range(0..digits.len())])
    } else {
        check
    };
    let mut chars: Vec<char> = lines[line].chars().collect();
    let old = chars[col].to_digit(10).unwrap_or(0);
    chars[col] = char::from_digit((old + rng.gen_range(1..10)) % 10, 10).expect("digit");
    lines[line] = chars.into_iter().collect();
    lines
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// The point at fractions (`u`, `v`) across a quadrilateral TL, TR, BR, BL.
fn lerp_quad(c: [[f32; 2]; 4], (u, v): (f32, f32)) -> [f32; 2] {
    let top = [
        c[0][0] + (c[1][0] - c[0][0]) * u,
        c[0][1] + (c[1][1] - c[0][1]) * u,
    ];
    let bottom = [
        c[3][0] + (c[2][0] - c[3][0]) * u,
        c[3][1] + (c[2][1] - c[3][1]) * u,
    ];
    [
        top[0] + (bottom[0] - top[0]) * v,
        top[1] + (bottom[1] - top[1]) * v,
    ]
}

/// JPEG (with a camera's EXIF block when `camera_exif`) or PNG bytes.
fn encode(img: &RgbImage, extension: &str, camera_exif: bool, rng: &mut StdRng) -> Vec<u8> {
    let mut bytes = Vec::new();
    if extension == "png" {
        img.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .expect("encoding to memory");
        return bytes;
    }
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, rng.gen_range(82..95))
        .encode_image(img)
        .expect("encoding to memory");
    if camera_exif {
        bytes.splice(2..2, exif_app1("SpecimenCam", "Generator 1"));
    }
    bytes
}

/// An APP1 segment with a little-endian TIFF IFD0 holding Make and Model, as a phone
/// camera writes (among much else).
fn exif_app1(make: &str, model: &str) -> Vec<u8> {
    let strings = [(0x010fu16, make), (0x0110u16, model)];
    let ifd_len = 2 + strings.len() * 12 + 4;
    let mut data_off = 8 + ifd_len;
    let mut tiff = vec![b'I', b'I', 42, 0, 8, 0, 0, 0];
    tiff.extend((strings.len() as u16).to_le_bytes());
    let mut tail = Vec::new();
    for (tag, s) in strings {
        let count = s.len() as u32 + 1;
        tiff.extend(tag.to_le_bytes());
        tiff.extend(2u16.to_le_bytes());
        tiff.extend(count.to_le_bytes());
        tiff.extend((data_off as u32).to_le_bytes());
        tail.extend(s.as_bytes());
        tail.push(0);
        data_off += count as usize;
    }
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(tail);
    let mut seg = vec![0xff, 0xe1];
    seg.extend(((2 + 6 + tiff.len()) as u16).to_be_bytes());
    seg.extend(b"Exif\0\0");
    seg.extend(tiff);
    seg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specimens_are_deterministic_and_labelled() {
        let fonts = Fonts::system().expect("fonts installed by scripts/lib.sh");
        let opts = Options {
            width: 640,
            height: 480,
            ..Options::default()
        };
        let a = generate(&fonts, Defect::Clean, 7, &opts);
        let b = generate(&fonts, Defect::Clean, 7, &opts);
        assert_eq!(a.bytes, b.bytes);
        assert_ne!(a.bytes, generate(&fonts, Defect::Clean, 8, &opts).bytes);
        let parse = |lines: &[String]| {
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            let opts = idgate_mrz::ParseOptions { today: opts.today };
            idgate_mrz::parse(&lines, &opts).unwrap()
        };
        assert!(parse(&a.mrz_lines).valid());
        let bad = generate(&fonts, Defect::MrzInvalid, 7, &opts);
        assert!(!parse(&bad.mrz_lines).valid());
        let shot = generate(&fonts, Defect::Screenshot, 1, &opts);
        assert_eq!(shot.extension, "png");
        assert!(image::load_from_memory(&shot.bytes).is_ok());
        // Corners of a cut document lie partly outside the frame; a clean one's inside.
        let cut = generate(&fonts, Defect::CornersCut, 3, &opts)
            .corners
            .unwrap();
        let outside = |c: &[f32; 2]| c[0] < 0.0 || c[1] < 0.0 || c[0] >= 640.0 || c[1] >= 480.0;
        assert!(cut.iter().any(outside));
        assert!(!a.corners.unwrap().iter().any(outside));
    }

    #[test]
    fn exif_segment_is_well_formed() {
        let seg = exif_app1("A", "BC");
        assert_eq!(&seg[..2], &[0xff, 0xe1]);
        assert_eq!(u16::from_be_bytes([seg[2], seg[3]]) as usize, seg.len() - 2);
        assert_eq!(&seg[4..10], b"Exif\0\0");
    }
}
