//! Where the MRZ was read, carried back from the image it was read in (a crop of a page
//! turned upright, a flattened page, the photo) to the photo: each step's inverse applied
//! to the band's corners.

use crate::check::{Found, Quad};
use imageproc::geometric_transformations::Projection;

/// The box from (x0, y0) to (x1, y1) as corners (TL, TR, BR, BL).
pub(crate) fn rect(x0: u32, y0: u32, x1: u32, y1: u32) -> Quad {
    let [x0, y0, x1, y1] = [x0, y0, x1, y1].map(|v| v as f32);
    [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
}

/// How an image was turned before it was searched (`image::imageops`' rotations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Turn {
    None,
    /// `rotate90`: a quarter clockwise.
    Right,
    Half,
    /// `rotate270`: a quarter anticlockwise.
    Left,
}

/// A point of an image made by turning one of `size` (width, height), in that image.
fn unturn([x, y]: [f32; 2], turn: Turn, (w, h): (u32, u32)) -> [f32; 2] {
    let (w, h) = (w as f32, h as f32);
    match turn {
        Turn::None => [x, y],
        // rotate90 puts (x, y) at (h - y, x).
        Turn::Right => [y, h - x],
        Turn::Half => [w - x, h - y],
        // rotate270 puts (x, y) at (y, w - x).
        Turn::Left => [w - y, x],
    }
}

/// Corners keep their names (TL stays the top left as the image shows it) after a turn.
fn reordered(q: Quad) -> Quad {
    let centre = q
        .iter()
        .fold([0.0, 0.0], |c, p| [c[0] + p[0] / 4.0, c[1] + p[1] / 4.0]);
    let corner = |left: bool, top: bool| {
        *q.iter()
            .find(|p| (p[0] < centre[0]) == left && (p[1] < centre[1]) == top)
            .unwrap_or(&q[0])
    };
    [
        corner(true, true),
        corner(false, true),
        corner(false, false),
        corner(true, false),
    ]
}

/// A band found in a crop that starts `top` rows down its image.
pub(crate) fn below(found: Found, top: u32) -> Found {
    let (lines, boxes, band) = found;
    let moved = band.map(|q| q.map(|[x, y]| [x, y + top as f32]));
    (lines, boxes, moved)
}

/// A band found in an image turned by `turn` from one of `size`, in that one.
pub(crate) fn turned(found: Found, turn: Turn, size: (u32, u32)) -> Found {
    let (lines, boxes, band) = found;
    let back = band.map(|q| reordered(q.map(|p| unturn(p, turn, size))));
    (lines, boxes, back)
}

/// A band found in a flattened page, in the photo the page was flattened from.
pub(crate) fn mapped(found: Found, to_photo: &Projection) -> Found {
    let (lines, boxes, band) = found;
    let photo = band.map(|q| {
        q.map(|[x, y]| {
            let (u, v) = *to_photo * (x, y);
            [u, v]
        })
    });
    (lines, boxes, photo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_band_found_in_a_turned_image_is_put_back_where_it_was() {
        // A 100 × 60 image; a band along its right edge, rows 10..50 at x 80..95.
        let band = rect(80, 10, 95, 50);
        for (turn, turned_img) in [
            (
                Turn::Right,
                image::imageops::rotate90 as fn(&image::GrayImage) -> image::GrayImage,
            ),
            (Turn::Left, image::imageops::rotate270),
            (Turn::Half, image::imageops::rotate180),
        ] {
            // Mark the band's pixels, turn the image, find the marked pixels' box there and
            // carry it back: it must be the band again.
            let mut img = image::GrayImage::new(100, 60);
            for y in 10..50 {
                for x in 80..95 {
                    img.put_pixel(x, y, image::Luma([255]));
                }
            }
            let t = turned_img(&img);
            let lit: Vec<(u32, u32)> = t
                .enumerate_pixels()
                .filter(|(_, _, p)| p[0] == 255)
                .map(|(x, y, _)| (x, y))
                .collect();
            let (x0, y0) = (
                lit.iter().map(|p| p.0).min().unwrap(),
                lit.iter().map(|p| p.1).min().unwrap(),
            );
            let (x1, y1) = (
                lit.iter().map(|p| p.0).max().unwrap() + 1,
                lit.iter().map(|p| p.1).max().unwrap() + 1,
            );
            let (_, _, back) = turned((Vec::new(), 0, Some(rect(x0, y0, x1, y1))), turn, (100, 60));
            assert_eq!(back, Some(band), "{turn:?}");
        }
        let (_, _, moved) = below((Vec::new(), 0, Some(rect(0, 0, 10, 5))), 40);
        assert_eq!(moved, Some(rect(0, 40, 10, 45)));
    }

    #[test]
    fn a_band_on_a_flattened_page_lands_on_the_photo() {
        // The page 200 × 100 flattened from a quad in the photo, shifted and doubled.
        let to_photo = Projection::from_control_points(
            [(0.0, 0.0), (200.0, 0.0), (200.0, 100.0), (0.0, 100.0)],
            [(50.0, 20.0), (450.0, 20.0), (450.0, 220.0), (50.0, 220.0)],
        )
        .unwrap();
        let (_, _, on_photo) = mapped((Vec::new(), 0, Some(rect(10, 70, 190, 95))), &to_photo);
        let q = on_photo.unwrap();
        let near =
            |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).abs() < 0.01 && (a[1] - b[1]).abs() < 0.01;
        assert!(
            near(q[0], [70.0, 160.0]) && near(q[2], [430.0, 210.0]),
            "{q:?}"
        );
    }
}
