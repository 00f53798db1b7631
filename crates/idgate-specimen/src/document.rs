//! A document page drawn flat, at a fixed resolution: tinted security background, header,
//! portrait area, visual-zone fields and the MRZ in OCR-B at ICAO 9303 pitch.

use crate::identity::Identity;
use crate::Fonts;
use ab_glyph::{Font, PxScale};
use idgate_mrz::{render, Format};
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_ellipse_mut, draw_filled_rect_mut, draw_text_mut};
use imageproc::rect::Rect;
use rand::Rng;

/// Pixels per millimetre of the flat page.
pub const PX_PER_MM: f32 = 8.0;
/// ICAO 9303: ten MRZ characters per 25.4 mm.
const MRZ_PITCH_MM: f32 = 2.54;

/// The two physical layouts the generator draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// ID-1 card (85.6 × 54 mm), three 30-character MRZ lines.
    Td1,
    /// Passport data page (125 × 88 mm), two 44-character MRZ lines.
    Td3,
}

impl Layout {
    pub fn size_mm(self) -> (f32, f32) {
        match self {
            Layout::Td1 => (85.6, 54.0),
            Layout::Td3 => (125.0, 88.0),
        }
    }
    fn format(self) -> Format {
        match self {
            Layout::Td1 => Format::Td1,
            Layout::Td3 => Format::Td3,
        }
    }
}

/// A drawn page and the MRZ printed on it.
pub struct Page {
    pub image: RgbImage,
    pub mrz_lines: Vec<String>,
}

fn mm(v: f32) -> i32 {
    (v * PX_PER_MM).round() as i32
}

/// Draws `id` on a `layout` page. `mrz_override` replaces the rendered MRZ lines (used to
/// print a deliberately wrong check digit).
pub fn draw(
    fonts: &Fonts,
    layout: Layout,
    id: &Identity,
    mrz_override: Option<Vec<String>>,
    portrait: Option<&RgbImage>,
    rng: &mut impl Rng,
) -> Page {
    let (wmm, hmm) = layout.size_mm();
    let (w, h) = (mm(wmm) as u32, mm(hmm) as u32);
    let hue = rng.gen_range(0.0..360.0f32);
    let base = hsv(hue, 0.12, 0.92);
    let ink = hsv(hue, 0.35, 0.80);
    let mut page = RgbImage::from_pixel(w, h, base);

    // Guilloche-like background: interfering sine curves in a tint of the base colour.
    let (fa, fb) = (rng.gen_range(0.02..0.05f32), rng.gen_range(0.01..0.03f32));
    for (x, y, p) in page.enumerate_pixels_mut() {
        let (xf, yf) = (x as f32, y as f32);
        let v =
            (xf * fa + (yf * fb).sin() * 6.0).sin() * (yf * fa * 0.7 + (xf * fb).cos() * 5.0).sin();
        if v > 0.93 {
            *p = ink;
        }
    }

    let dark = Rgb([25, 25, 35]);
    let accent = hsv(hue, 0.6, 0.45);
    let title = match (layout, id.document_code.as_str()) {
        (Layout::Td3, _) => "PASSPORT",
        (Layout::Td1, "IR") => "RESIDENCE PERMIT",
        _ => "IDENTITY CARD",
    };
    draw_filled_rect_mut(&mut page, Rect::at(0, 0).of_size(w, mm(9.0) as u32), accent);
    let header = format!("{}  {}", title, id.country_name);
    draw_text_mut(
        &mut page,
        Rgb([250, 250, 250]),
        mm(4.0),
        mm(2.0),
        PxScale::from(mm(5.0) as f32),
        &fonts.sans_bold,
        &header,
    );

    // Portrait: a plain backdrop with a head and shoulders.
    let (px, py, pw, ph) = match layout {
        Layout::Td1 => (mm(4.0), mm(12.0), mm(22.0), mm(27.0)),
        Layout::Td3 => (mm(6.0), mm(14.0), mm(32.0), mm(40.0)),
    };
    draw_filled_rect_mut(
        &mut page,
        Rect::at(px, py).of_size(pw as u32, ph as u32),
        Rgb([200, 210, 222]),
    );
    if let Some(photo) = portrait {
        // The photo scaled to cover the area, centred, the excess cut off.
        let (sw, sh) = (photo.width().max(1) as f32, photo.height().max(1) as f32);
        let scale = (pw as f32 / sw).max(ph as f32 / sh);
        let (rw, rh) = (
            ((sw * scale).ceil() as u32).max(pw as u32),
            ((sh * scale).ceil() as u32).max(ph as u32),
        );
        let resized = image::imageops::resize(photo, rw, rh, image::imageops::FilterType::Triangle);
        let (ox, oy) = ((rw - pw as u32) / 2, (rh - ph as u32) / 2);
        let crop = image::imageops::crop_imm(&resized, ox, oy, pw as u32, ph as u32).to_image();
        image::imageops::overlay(&mut page, &crop, i64::from(px), i64::from(py));
    } else {
        let skin = [
            Rgb([241, 194, 160]),
            Rgb([198, 134, 96]),
            Rgb([141, 85, 56]),
            Rgb([224, 172, 105]),
        ][rng.gen_range(0..4)];
        let hair =
            [Rgb([40, 30, 25]), Rgb([110, 75, 40]), Rgb([200, 170, 110])][rng.gen_range(0..3)];
        let (cx, cy) = (px + pw / 2, py + ph * 2 / 5);
        draw_filled_ellipse_mut(
            &mut page,
            (cx, py + ph),
            pw * 9 / 20,
            ph / 3,
            Rgb([60, 70, 90]),
        );
        draw_filled_ellipse_mut(&mut page, (cx, cy - ph / 12), pw * 7 / 24, ph / 4, hair);
        draw_filled_ellipse_mut(&mut page, (cx, cy), pw / 4, ph * 3 / 10, skin);
        for dx in [-pw / 10, pw / 10] {
            draw_filled_ellipse_mut(
                &mut page,
                (cx + dx, cy - ph / 20),
                pw / 40 + 1,
                ph / 60 + 1,
                dark,
            );
        }
        draw_filled_rect_mut(
            &mut page,
            Rect::at(cx - pw / 12, cy + ph / 8).of_size((pw / 6) as u32, (ph / 60 + 1) as u32),
            Rgb([150, 70, 70]),
        );
    }

    // Visual zone.
    let fields = [
        ("Surname", id.surname.clone()),
        ("Given names", id.given_names.clone()),
        ("Nationality", id.nationality.clone()),
        ("Date of birth", id.birth.to_string()),
        ("Sex", id.sex.to_string()),
        ("Date of expiry", id.expiry.to_string()),
        ("Document no.", id.document_number.clone()),
    ];
    let x0 = px + pw + mm(5.0);
    let (label_size, value_size, step) = match layout {
        Layout::Td1 => (mm(1.6), mm(2.5), mm(3.3)),
        Layout::Td3 => (mm(2.2), mm(3.6), mm(5.3)),
    };
    for (i, (label, value)) in fields.iter().enumerate() {
        let y = py + i as i32 * step;
        draw_text_mut(
            &mut page,
            accent,
            x0,
            y,
            PxScale::from(label_size as f32),
            &fonts.sans,
            label,
        );
        draw_text_mut(
            &mut page,
            dark,
            x0 + mm(24.0),
            y - (value_size - label_size) / 2,
            PxScale::from(value_size as f32),
            &fonts.sans_bold,
            value,
        );
    }

    // MRZ: white band, OCR-B at ICAO pitch, bottom-aligned.
    let mrz_lines = mrz_override.unwrap_or_else(|| {
        render(layout.format(), &id.mrz_specimen()).expect("identities are rendered valid")
    });
    let pitch = mm(MRZ_PITCH_MM) as f32;
    let advance = fonts.ocrb.h_advance_unscaled(fonts.ocrb.glyph_id('0'));
    let em = fonts.ocrb.units_per_em().unwrap_or(1000.0);
    let scale = PxScale::from(pitch * em / advance);
    let line_step = match layout {
        Layout::Td1 => mm(4.2),
        Layout::Td3 => mm(4.8),
    };
    let n = mrz_lines.len() as i32;
    let band_top = h as i32 - mm(3.0) - n * line_step;
    draw_filled_rect_mut(
        &mut page,
        Rect::at(0, band_top - mm(1.5)).of_size(w, (h as i32 - band_top + mm(1.5)) as u32),
        Rgb([234, 234, 230]),
    );
    let line_width = pitch * mrz_lines[0].len() as f32;
    let left = ((w as f32 - line_width) / 2.0).round() as i32;
    for (i, line) in mrz_lines.iter().enumerate() {
        for (j, c) in line.chars().enumerate() {
            draw_text_mut(
                &mut page,
                Rgb([10, 10, 10]),
                left + (j as f32 * pitch).round() as i32,
                band_top + i as i32 * line_step,
                scale,
                &fonts.ocrb,
                &c.to_string(),
            );
        }
    }
    Page {
        image: page,
        mrz_lines,
    }
}

/// Colour from hue (degrees), saturation and value (0–1).
pub fn hsv(h: f32, s: f32, v: f32) -> Rgb<u8> {
    let c = v * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let (r, g, b) = match (h / 60.0) as u32 % 6 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    let to = |f: f32| ((f + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    Rgb([to(r), to(g), to(b)])
}
