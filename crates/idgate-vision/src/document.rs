//! Finding the document in a photo and flattening it.
//!
//! The page is found as the largest closed outline in the edge map: Canny edges on a
//! downscaled colour image (the strongest channel's gradient, so a dark header on a dark
//! table of another hue still has its edge), closed by a small dilation, outer contours,
//! their convex hull. A hull away from the frame is the document: its corners are where
//! the lines along its four sides meet, which also puts back a corner the edge map lost.
//! A hull that runs into the frame's edge is a document cut off by the photo, and the
//! corners that fall outside are named. [`rectify`] maps the quadrilateral onto an
//! upright rectangle.

use crate::components;
use image::{GrayImage, RgbImage};
use imageproc::contours::find_contours;
use imageproc::geometric_transformations::Projection;
use imageproc::geometry::{approximate_polygon_dp, convex_hull};
use imageproc::point::Point;

/// Long side of the image the outline is searched in.
pub const SEARCH_SIDE: u32 = 512;
/// The outline must cover this share of the photo to be a document.
const MIN_AREA: f32 = 0.06;
/// The edge map is dilated by this many search pixels to close small gaps: the outer
/// outline lies that far outside the page's border.
const CLOSING: u8 = 2;
/// Within this many search pixels of the frame, a hull point touches the edge.
const EDGE: i32 = 3;

/// Corner names, in the order of [`Quad::corners`].
pub const CORNER_NAMES: [&str; 4] = ["top-left", "top-right", "bottom-right", "bottom-left"];

/// What the outline search found, in the coordinates of the image it was given.
#[derive(Clone, Debug, PartialEq)]
pub enum Outline {
    /// No closed outline large enough.
    None,
    /// All four corners in the frame: TL, TR, BR, BL as seen in the photo.
    Quad([[f32; 2]; 4]),
    /// As `Quad`, found as the hole in a pattern around the document (printed paper, a
    /// checked cloth). The page may stop short of a band along its border that is as busy
    /// as the pattern beside it, such as its MRZ.
    InPattern([[f32; 2]; 4]),
    /// The outline runs into the frame's edge; `missing` names the document corners
    /// (as seen in the photo) that are outside, `edges` the sides of the photo it crosses.
    Cut {
        missing: Vec<&'static str>,
        edges: Vec<&'static str>,
        /// Bounding box of the visible part [x, y, w, h].
        visible: [f32; 4],
    },
}

/// Searches `img` for the document's outline.
pub fn find(img: &RgbImage) -> Outline {
    let (w, h) = img.dimensions();
    if w < 16 || h < 16 {
        return Outline::None;
    }
    let k = SEARCH_SIDE as f32 / w.max(h) as f32;
    let (sw, sh) = (
        ((w as f32 * k).round() as u32).max(1),
        ((h as f32 * k).round() as u32).max(1),
    );
    let small = resize_triangle(img, sw, sh);
    let outline = find_in(&small);
    let back = |v: f32| v / k;
    match outline {
        Outline::Quad(c) => Outline::Quad(c.map(|p| p.map(back))),
        Outline::InPattern(c) => Outline::InPattern(c.map(|p| p.map(back))),
        Outline::Cut {
            missing,
            edges,
            visible,
        } => Outline::Cut {
            missing,
            edges,
            visible: visible.map(back),
        },
        Outline::None => Outline::None,
    }
}

/// Sobel gradients of a grey image (edge pixels repeated at the border), as imageproc's
/// `canny` computes them.
fn sobel(px: &[u8], w: usize, h: usize) -> (Vec<i32>, Vec<i32>) {
    let (mut gx, mut gy) = (vec![0i32; w * h], vec![0i32; w * h]);
    for y in 0..h {
        let (up, down) = (y.saturating_sub(1), (y + 1).min(h - 1));
        let (ru, r, rd) = (&px[up * w..][..w], &px[y * w..][..w], &px[down * w..][..w]);
        for x in 0..w {
            let (l, rt) = (x.saturating_sub(1), (x + 1).min(w - 1));
            let v = |row: &[u8], i: usize| i32::from(row[i]);
            gx[y * w + x] =
                -v(ru, l) + v(ru, rt) - 2 * v(r, l) + 2 * v(r, rt) - v(rd, l) + v(rd, rt);
            gy[y * w + x] =
                -v(ru, l) - 2 * v(ru, x) - v(ru, rt) + v(rd, l) + 2 * v(rd, x) + v(rd, rt);
        }
    }
    (gx, gy)
}

/// `imageproc::edges::canny`, the same edge map (its Gaussian blur, Sobel gradients,
/// non-maximum suppression and hysteresis, step for step) on raw buffers: the generic
/// version, with an `atan2` per pixel, was the slowest part of the outline search.
#[cfg(test)]
fn canny(image: &GrayImage, low: f32, high: f32) -> GrayImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    if w < 3 || h < 3 {
        return imageproc::edges::canny(image, low, high);
    }
    let blurred = imageproc::filter::gaussian_blur_f32(image, 1.4);
    let (gx, gy) = sobel(blurred.as_raw(), w, h);
    thin_and_link(&gx, &gy, w, h, low, high)
}

/// Canny edges of a colour image: per pixel, the gradient of the channel that changes
/// most. A dark blue header on a dark brown table is a strong edge in red and blue and
/// hardly one in brightness; on a grey image this is [`canny`] of its grey.
fn colour_canny(img: &RgbImage, low: f32, high: f32) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < 3 || h < 3 {
        return imageproc::edges::canny(&crate::quality::luma(img), low, high);
    }
    let (gx, gy, strength) = colour_gradients(img);
    // The thresholds stay above the noise: most of a photo is no edge, so the median
    // gradient is what sensor noise and JPEG blocks give, and in a dark photo (whose
    // contrast lowers the thresholds) the strongest channel's noise can reach them.
    let noise = {
        let mut sorted = strength;
        let mid = sorted.len() / 2;
        (*sorted.select_nth_unstable(mid).1 as f32).sqrt()
    };
    let (low, high) = (low.max(1.5 * noise), high.max(3.0 * noise));
    thin_and_link(&gx, &gy, w, h, low, high)
}

/// Per pixel of a colour image (at least 3×3), the Sobel gradient of the channel that
/// changes most, and its squared strength.
fn colour_gradients(img: &RgbImage) -> (Vec<i32>, Vec<i32>, Vec<i64>) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (mut gx, mut gy) = (vec![0i32; w * h], vec![0i32; w * h]);
    let mut strength = vec![-1i64; w * h];
    for c in 0..3 {
        let plane: Vec<u8> = img.as_raw().iter().skip(c).step_by(3).copied().collect();
        let plane = GrayImage::from_raw(w as u32, h as u32, plane).expect("one byte per pixel");
        let blurred = imageproc::filter::gaussian_blur_f32(&plane, 1.4);
        let (cx, cy) = sobel(blurred.as_raw(), w, h);
        for i in 0..w * h {
            let s = i64::from(cx[i]).pow(2) + i64::from(cy[i]).pow(2);
            if s > strength[i] {
                (strength[i], gx[i], gy[i]) = (s, cx[i], cy[i]);
            }
        }
    }
    (gx, gy, strength)
}

/// Canny's non-maximum suppression and hysteresis on Sobel gradients. The gradient
/// direction is classed by comparing |gy| with |gx|·tan(22.5°) and ·tan(67.5°) instead of
/// by its angle, which gives the same class for every integer gradient.
fn thin_and_link(gx: &[i32], gy: &[i32], w: usize, h: usize, low: f32, high: f32) -> GrayImage {
    let g: Vec<f32> = gx
        .iter()
        .zip(gy)
        .map(|(&a, &b)| (a as f32).hypot(b as f32))
        .collect();
    let (tan_low, tan_high) = (
        std::f64::consts::SQRT_2 - 1.0,
        std::f64::consts::SQRT_2 + 1.0,
    );
    let mut thin = vec![0.0f32; w * h];
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            let (ax, ay) = (f64::from(gx[i].abs()), f64::from(gy[i].abs()));
            let (a, b) = if (gx[i] == 0 && gy[i] == 0) || ay < tan_low * ax {
                (i - 1, i + 1)
            } else if ay >= tan_high * ax {
                (i - w, i + w)
            } else if (gx[i] > 0) == (gy[i] > 0) {
                (i + w + 1, i - w - 1)
            } else {
                (i + w - 1, i - w + 1)
            };
            if g[i] >= g[a] && g[i] >= g[b] {
                thin[i] = g[i];
            }
        }
    }
    let mut out = vec![0u8; w * h];
    let mut stack = Vec::new();
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            if thin[y * w + x] < high || out[y * w + x] != 0 {
                continue;
            }
            out[y * w + x] = 255;
            stack.push((x, y));
            while let Some((nx, ny)) = stack.pop() {
                // The same six neighbours, in the same order, as imageproc's hysteresis.
                for (qx, qy) in [
                    (nx + 1, ny),
                    (nx + 1, ny + 1),
                    (nx, ny + 1),
                    (nx.wrapping_sub(1), ny.wrapping_sub(1)),
                    (nx.wrapping_sub(1), ny),
                    (nx.wrapping_sub(1), ny + 1),
                ] {
                    if qx >= w || qy >= h {
                        continue;
                    }
                    let j = qy * w + qx;
                    if thin[j] >= low && out[j] == 0 {
                        out[j] = 255;
                        stack.push((qx, qy));
                    }
                }
            }
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).expect("one byte per pixel")
}

/// Triangle-filter weights of every output position along one axis: the first input index
/// and one weight per input index from it, computed exactly as `image::imageops::resize`
/// computes them.
fn triangle_weights(from: u32, to: u32) -> Vec<(usize, Vec<f32>)> {
    let ratio = from as f32 / to as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    let support = sratio;
    (0..to)
        .map(|out| {
            let centre = (out as f32 + 0.5) * ratio;
            let left = ((centre - support).floor() as i64).clamp(0, i64::from(from) - 1);
            let right = ((centre + support).ceil() as i64).clamp(left + 1, i64::from(from));
            let centre = centre - 0.5;
            let mut ws: Vec<f32> = (left..right)
                .map(|i| {
                    let x = ((i as f32 - centre) / sratio).abs();
                    if x < 1.0 {
                        1.0 - x
                    } else {
                        0.0
                    }
                })
                .collect();
            let sum: f32 = ws.iter().sum();
            for w in ws.iter_mut() {
                *w /= sum;
            }
            (left as usize, ws)
        })
        .collect()
}

/// `image::imageops::resize(img, w, h, FilterType::Triangle)`, pixel for pixel the same
/// (the same weights, summed in the same order, rounded the same way), but on RGB bytes
/// directly and with each pass split over the two cores: the generic version took a third
/// of the quality gate.
fn resize_triangle(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    let (iw, ih) = img.dimensions();
    if (iw, ih) == (w, h) || iw == 0 || ih == 0 || w == 0 || h == 0 {
        return image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle);
    }
    let src = img.as_raw();
    let in_row = iw as usize * 3;
    // Vertical pass first, into floats, as the generic version does.
    let rows = triangle_weights(ih, h);
    let mut tall = vec![0.0f32; in_row * h as usize];
    let vertical = |out: &mut [f32], first: usize| {
        for (k, acc) in out.chunks_exact_mut(in_row).enumerate() {
            let (top, ws) = &rows[first + k];
            for (i, w) in ws.iter().enumerate() {
                let line = &src[(top + i) * in_row..(top + i + 1) * in_row];
                for (a, &v) in acc.iter_mut().zip(line) {
                    *a += f32::from(v) * w;
                }
            }
        }
    };
    on_two_cores(&mut tall, in_row, vertical);
    let cols = triangle_weights(iw, w);
    let out_row = w as usize * 3;
    let mut out = vec![0u8; out_row * h as usize];
    let horizontal = |dst: &mut [u8], first: usize| {
        for (k, row) in dst.chunks_exact_mut(out_row).enumerate() {
            let line = &tall[(first + k) * in_row..(first + k + 1) * in_row];
            for (px, (left, ws)) in row.chunks_exact_mut(3).zip(&cols) {
                let mut t = [0.0f32; 3];
                for (i, w) in ws.iter().enumerate() {
                    let p = &line[(left + i) * 3..(left + i) * 3 + 3];
                    for c in 0..3 {
                        t[c] += p[c] * w;
                    }
                }
                for c in 0..3 {
                    px[c] = t[c].clamp(0.0, 255.0).round() as u8;
                }
            }
        }
    };
    on_two_cores(&mut out, out_row, horizontal);
    RgbImage::from_raw(w, h, out).expect("three bytes per pixel")
}

/// Fills the rows of `buf` (`row_len` values each) by `fill(rows, first_row)`: the top half
/// on a second thread, the bottom half on this one.
fn on_two_cores<T: Send>(buf: &mut [T], row_len: usize, fill: impl Fn(&mut [T], usize) + Sync) {
    let half = buf.len() / row_len.max(1) / 2;
    let (top, bottom) = buf.split_at_mut(row_len * half);
    std::thread::scope(|s| {
        s.spawn(|| fill(top, 0));
        fill(bottom, half);
    });
}

fn find_in(small: &RgbImage) -> Outline {
    let gray = crate::quality::luma(small);
    // Edge thresholds follow the photo's contrast (a dim photo has weak edges), and a
    // second, smoother pass copes with noise and shake; the first four-cornered outline
    // wins, else the first cut one.
    let contrast = {
        let mut v: Vec<u8> = gray.as_raw().iter().step_by(7).copied().collect();
        v.sort_unstable();
        let at = |q: usize| f32::from(v[(v.len() - 1) * q / 100]);
        at(98) - at(2)
    };
    let k = (contrast / 160.0).clamp(0.25, 1.0);
    let mut fallback = Outline::None;
    for (pass, (sigma, low, high)) in [(1.4, 12.0 * k, 36.0 * k), (3.0, 6.0 * k, 18.0 * k)]
        .into_iter()
        .enumerate()
    {
        let blurred = imageproc::filter::gaussian_blur_f32(small, sigma);
        let edges = colour_canny(&blurred, low, high);
        let outline = outline_in(&edges);
        // On a pattern (printed paper, a checked cloth) the pattern's edges run into the
        // page's and close around anything, or around a part of the page; when the outline
        // is no page's shape, the page is the hole in the pattern. The pattern's edges are
        // read without the noise floor: a pattern covering most of the photo is its
        // median gradient, which would lift the floor over the pattern itself.
        if pass == 0 && !matches!(&outline, Outline::Quad(q) if document_shaped(q)) {
            if let Some(quad) = hole_in_pattern(&pattern_edges(&blurred, low, high)) {
                return Outline::InPattern(order(&quad));
            }
        }
        match outline {
            q @ Outline::Quad(_) => return q,
            c @ Outline::Cut { .. } if fallback == Outline::None => fallback = c,
            _ => {}
        }
    }
    fallback
}

/// Side of the square, in search pixels, over which the share of edge pixels is measured.
const DENSITY_WINDOW: u32 = 11;
/// A neighbourhood with at least this share of edge pixels is pattern or print. A page's
/// blank areas have none; its border alone, crossing a window, gives 0.09.
const BUSY: f32 = 0.04;
/// The surroundings are a pattern when this share of the frame's outer ring is busy.
const BUSY_RING: f32 = 0.5;

/// Canny edges of a (blurred) colour image at the given thresholds, with no floor
/// raised for noise: a pattern's edges.
fn pattern_edges(blurred: &RgbImage, low: f32, high: f32) -> GrayImage {
    let (w, h) = (blurred.width() as usize, blurred.height() as usize);
    if w < 3 || h < 3 {
        return GrayImage::new(w as u32, h as u32);
    }
    let (gx, gy, _) = colour_gradients(blurred);
    thin_and_link(&gx, &gy, w, h, low, high)
}

/// Per pixel, whether the `DENSITY_WINDOW` square around it is busy with edges.
fn busy_map(edges: &GrayImage) -> Vec<bool> {
    let (w, h) = (edges.width() as usize, edges.height() as usize);
    // Summed-area table of edge pixels, one row and column of zeros in front.
    let mut sum = vec![0u32; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0;
        for x in 0..w {
            row += u32::from(edges.as_raw()[y * w + x] > 0);
            sum[(y + 1) * (w + 1) + x + 1] = sum[y * (w + 1) + x + 1] + row;
        }
    }
    let r = (DENSITY_WINDOW / 2) as usize;
    let mut busy = vec![false; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let n = sum[y1 * (w + 1) + x1] + sum[y0 * (w + 1) + x0]
                - sum[y0 * (w + 1) + x1]
                - sum[y1 * (w + 1) + x0];
            busy[y * w + x] = n as f32 >= BUSY * ((y1 - y0) * (x1 - x0)) as f32;
        }
    }
    busy
}

/// Whether the outer ring (4 % of the long side deep) of a `w`-wide [`busy_map`] is mostly
/// pattern: the document lies on printed paper or a patterned cloth, not on a plain table.
fn busy_surroundings(busy: &[bool], w: usize) -> bool {
    let h = busy.len() / w.max(1);
    let depth = (w.max(h) * 4 / 100).max(1);
    let (mut ring, mut hits) = (0usize, 0usize);
    for y in 0..h {
        for x in 0..w {
            if x < depth || y < depth || x >= w - depth.min(w) || y >= h - depth.min(h) {
                ring += 1;
                hits += usize::from(busy[y * w + x]);
            }
        }
    }
    ring > 0 && hits as f32 >= BUSY_RING * ring as f32
}

/// The page as the hole in a pattern: the largest region without the pattern's edges that
/// does not reach the frame, with what it encloses (the page's own print, its portrait)
/// filled in and thin leaks between the pattern's gaps cut off. Its hull's four sides give
/// the corners, moved out by half the density window (the region stops that far inside the
/// page's border). `None` when there is no such region of a document's shape.
fn hole_in_pattern(edges: &GrayImage) -> Option<Vec<[f32; 2]>> {
    let (w, h) = (edges.width() as usize, edges.height() as usize);
    let busy = busy_map(edges);
    if !busy_surroundings(&busy, w) {
        return None;
    }
    let at_frame =
        |c: &components::Component| c.x0 == 0 || c.y0 == 0 || c.x1 == w - 1 || c.y1 == h - 1;
    // Busy pixels the pattern does not reach from the frame are the page's own print.
    let mut outside = vec![false; w * h];
    components::for_each(
        w,
        h,
        w,
        |i| busy[i],
        |c| {
            if at_frame(&c) {
                for i in c.pixels {
                    outside[i] = true;
                }
            }
        },
    );
    let open: Vec<u8> = outside.iter().map(|&o| if o { 0 } else { 255 }).collect();
    let open = GrayImage::from_raw(w as u32, h as u32, open).expect("one byte per pixel");
    let open = imageproc::morphology::open(&open, imageproc::distance_transform::Norm::L2, 2);
    let frame_area = (w * h) as f32;
    let mut regions = Vec::new();
    components::for_each(
        w,
        h,
        w,
        |i| open.as_raw()[i] > 0,
        |c| {
            if !at_frame(&c) && c.pixels.len() as f32 >= 0.01 * frame_area {
                regions.push(c);
            }
        },
    );
    // The page's own print (a header band, a portrait, text reaching its border) splits
    // its blank parts into several regions: the largest, and those whose middle lies
    // within three quarters of its long side around it (both ways: the largest may be a
    // strip, such as the band around an MRZ).
    let largest = regions.iter().max_by_key(|r| r.pixels.len())?;
    let reach = 0.75 * (largest.x1 - largest.x0).max(largest.y1 - largest.y0) as f32;
    let near = |r: &components::Component| {
        let (cx, cy) = ((r.x0 + r.x1) as f32 / 2.0, (r.y0 + r.y1) as f32 / 2.0);
        cx >= largest.x0 as f32 - reach
            && cx <= largest.x1 as f32 + reach
            && cy >= largest.y0 as f32 - reach
            && cy <= largest.y1 as f32 + reach
    };
    let mut in_page = vec![false; w * h];
    let mut union = 0usize;
    for r in regions.iter().filter(|r| near(r)) {
        union += r.pixels.len();
        for &i in &r.pixels {
            in_page[i] = true;
        }
    }
    if (union as f32) < 0.04 * frame_area {
        return None;
    }
    // The regions do not reach the frame: every pixel of theirs has four neighbours.
    let border: Vec<Point<i32>> = (0..w * h)
        .filter(|&i| {
            in_page[i] && !(in_page[i - 1] && in_page[i + 1] && in_page[i - w] && in_page[i + w])
        })
        .map(|i| Point::new((i % w) as i32, (i / w) as i32))
        .collect();
    let hull = convex_hull(border);
    let area = polygon_area(hull.iter().map(xy));
    // Blank parts that are only a little of what they span are pieces of a busy page (or
    // of the pattern): measured as the page they would be a wrong one, so none is taken.
    if area < MIN_AREA * frame_area || (union as f32) < 0.6 * area {
        return None;
    }
    let poly = approximate_polygon_dp(&hull, perimeter(&hull) * 0.02, true);
    let out = (DENSITY_WINDOW / 2) as f32;
    let square = |q: &Vec<[f32; 2]>| {
        (0..4).all(|k| {
            let (a, c, b) = (q[(k + 3) % 4], q[k], q[(k + 1) % 4]);
            let (u, v) = ([a[0] - c[0], a[1] - c[1]], [b[0] - c[0], b[1] - c[1]]);
            let cos = (u[0] * v[0] + u[1] * v[1]) / (dist(a, c) * dist(b, c)).max(1e-3);
            cos.abs() < 20f32.to_radians().sin()
        })
    };
    let sides = corners_from_sides(&hull, &poly, area, (w as i32, h as i32), -out);
    let quad = match sides.filter(square) {
        Some(quad) => quad,
        None => {
            // A corner of the page whose print reaches its border is cut off the region
            // (a header running to the edge), and the sides then meet askew: the smallest
            // rectangle around the rest, when the region fills most of it.
            let rect = to_f32(&imageproc::geometry::min_area_rect(&hull));
            if area < 0.7 * polygon_area(rect.iter().map(|&[x, y]| [x.into(), y.into()])) {
                return None;
            }
            let unit = |p: [f32; 2], q: [f32; 2]| {
                let d = dist(p, q).max(1e-3);
                [(p[0] - q[0]) / d, (p[1] - q[1]) / d]
            };
            (0..4)
                .map(|k| {
                    let (c, a, b) = (rect[k], rect[(k + 3) % 4], rect[(k + 1) % 4]);
                    let (u, v) = (unit(c, a), unit(c, b));
                    [c[0] + out * (u[0] + v[0]), c[1] + out * (u[1] + v[1])]
                })
                .collect()
        }
    };
    document_shaped(&order(&quad)).then_some(quad)
}

/// Whether a quadrilateral has a document's proportions (1.41 for a passport page, 1.59
/// for a card), give or take the perspective and a band along one side that a search
/// missed (an MRZ along the border is as busy as a pattern beside it). A white MRZ band
/// found alone (about 1:5) is not.
fn document_shaped(quad: &[[f32; 2]; 4]) -> bool {
    let (w, h) = quad_size(quad);
    has_document_proportions(w, h)
}

/// [`document_shaped`] for a page of `w` × `h`.
pub fn has_document_proportions(w: f32, h: f32) -> bool {
    (1.1..=2.6).contains(&(w.max(h) / w.min(h).max(1.0)))
}

/// The outline in an edge map (the largest closed outline, its corners or where the frame
/// cuts it).
fn outline_in(edges: &GrayImage) -> Outline {
    let (w, h) = (edges.width() as i32, edges.height() as i32);
    let closed =
        imageproc::morphology::dilate(edges, imageproc::distance_transform::Norm::LInf, CLOSING);
    let frame_area = (w * h) as f32;
    let mut best: Option<(f32, Vec<Point<i32>>)> = None;
    for c in find_contours::<i32>(&closed) {
        // Holes count too: an outline running into the frame's edge can come out as the
        // hole of the edge band, with no outer border around it.
        if c.points.len() < 8 {
            continue;
        }
        let hull = convex_hull(c.points);
        let area = polygon_area(hull.iter().map(xy));
        if area >= MIN_AREA * frame_area && best.as_ref().is_none_or(|b| area > b.0) {
            best = Some((area, hull));
        }
    }
    let Some((area, hull)) = best else {
        return Outline::None;
    };
    let on_edge = |p: &Point<i32>| p.x < EDGE || p.y < EDGE || p.x >= w - EDGE || p.y >= h - EDGE;
    let touching: Vec<&Point<i32>> = hull.iter().filter(|p| on_edge(p)).collect();
    if touching.is_empty() {
        let poly = approximate_polygon_dp(&hull, perimeter(&hull) * 0.02, true);
        if let Some(quad) = corners_from_sides(&hull, &poly, area, (w, h), f32::from(CLOSING)) {
            return Outline::Quad(order(&quad));
        }
        let quad = largest_quad(&poly);
        // A four-cornered outline fills its hull; anything rounder is not a page.
        if polygon_area(quad.iter().map(xy)) < 0.85 * area || quad.len() != 4 {
            return Outline::None;
        }
        return Outline::Quad(order(&to_f32(&quad)));
    }
    // Filling the frame on every side: the outline is the photo itself, not a page in it.
    if area > 0.97 * frame_area {
        return Outline::None;
    }
    // A page has straight sides: its cut hull simplifies to at most six corners (four of
    // the page's, or fewer, plus where the frame cuts it). Round things do not.
    let poly = approximate_polygon_dp(&hull, perimeter(&hull) * 0.02, true);
    if poly.len() > 6 {
        return Outline::None;
    }
    // And at least one long straight side inside the photo: the arc of a round object cut
    // by the frame simplifies to a few short chords.
    let longest_inner_side = (0..poly.len())
        .map(|i| (poly[i], poly[(i + 1) % poly.len()]))
        .filter(|(a, b)| {
            let along_frame = (a.x < EDGE && b.x < EDGE)
                || (a.y < EDGE && b.y < EDGE)
                || (a.x >= w - EDGE && b.x >= w - EDGE)
                || (a.y >= h - EDGE && b.y >= h - EDGE);
            !along_frame
        })
        .map(|(a, b)| f64::from((a.x - b.x).pow(2) + (a.y - b.y).pow(2)).sqrt())
        .fold(0.0, f64::max);
    if longest_inner_side < 0.2 * f64::from(w.max(h)) {
        return Outline::None;
    }
    let mut edges = Vec::new();
    for (name, hit) in [
        ("left", touching.iter().any(|p| p.x < EDGE)),
        ("top", touching.iter().any(|p| p.y < EDGE)),
        ("right", touching.iter().any(|p| p.x >= w - EDGE)),
        ("bottom", touching.iter().any(|p| p.y >= h - EDGE)),
    ] {
        if hit {
            edges.push(name);
        }
    }
    // Corners as seen in the photo: the hull's extreme points towards each diagonal. A
    // corner whose extreme lies on the frame's edge is outside.
    let extreme = |sx: i32, sy: i32| {
        hull.iter()
            .copied()
            .max_by_key(|p| sx * p.x + sy * p.y)
            .expect("non-empty hull")
    };
    let missing = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
        .iter()
        .zip(CORNER_NAMES)
        .filter(|((sx, sy), _)| on_edge(&extreme(*sx, *sy)))
        .map(|(_, n)| n)
        .collect();
    let (x0, x1) = hull
        .iter()
        .fold((i32::MAX, i32::MIN), |a, p| (a.0.min(p.x), a.1.max(p.x)));
    let (y0, y1) = hull
        .iter()
        .fold((i32::MAX, i32::MIN), |a, p| (a.0.min(p.y), a.1.max(p.y)));
    Outline::Cut {
        missing,
        edges,
        visible: [x0 as f32, y0 as f32, (x1 - x0) as f32, (y1 - y0) as f32],
    }
}

/// The area of a polygon from its corners in order around it (the shoelace formula). In
/// `f64`, which is exact for pixel coordinates.
fn polygon_area(corners: impl Iterator<Item = [f64; 2]> + Clone) -> f32 {
    let next = corners.clone().cycle().skip(1);
    let twice: f64 = corners
        .zip(next)
        .map(|(a, b)| a[0] * b[1] - b[0] * a[1])
        .sum();
    (twice.abs() / 2.0) as f32
}

fn xy(p: &Point<i32>) -> [f64; 2] {
    [p.x.into(), p.y.into()]
}

fn perimeter(p: &[Point<i32>]) -> f64 {
    let n = p.len();
    (0..n)
        .map(|i| {
            let (a, b) = (p[i], p[(i + 1) % n]);
            f64::from((a.x - b.x).pow(2) + (a.y - b.y).pow(2)).sqrt()
        })
        .sum()
}

/// The four vertices of a convex polygon enclosing the largest area (all of them when
/// there are four or fewer). Exhaustive: simplified hulls have a handful of vertices.
fn largest_quad(poly: &[Point<i32>]) -> Vec<Point<i32>> {
    let n = poly.len();
    if n <= 4 || n > 24 {
        return poly.to_vec();
    }
    let mut best = (0.0f32, [0usize; 4]);
    for a in 0..n {
        for b in a + 1..n {
            for c in b + 1..n {
                for d in c + 1..n {
                    let q = [poly[a], poly[b], poly[c], poly[d]];
                    let area = polygon_area(q.iter().map(xy));
                    if area > best.0 {
                        best = (area, [a, b, c, d]);
                    }
                }
            }
        }
    }
    best.1.iter().map(|&i| poly[i]).collect()
}

fn to_f32(p: &[Point<i32>]) -> Vec<[f32; 2]> {
    p.iter().map(|p| [p.x as f32, p.y as f32]).collect()
}

/// The page's corners where the lines along four of its sides meet. The simplified hull
/// `poly` says roughly where the sides are, but its vertices are hull points anywhere
/// within the simplification's tolerance of a corner, and a corner the edge map lost (a
/// dark header on a dark table, a glare spilling over the border) is cut off by a chord.
/// Each side of `poly` is therefore taken as the line of the longest `hull` edge along it
/// (the straight run of the page's border), and four sides' lines, extended, meet where
/// the corners are. The four are the longest set that meet at plausible angles, make a
/// convex quadrilateral that holds the hull (of `area`) with little to spare and lies in
/// the `frame`. The lines are moved `inset` pixels towards the middle (outwards when
/// negative) onto the page's border. `None` when no such set exists.
fn corners_from_sides(
    hull: &[Point<i32>],
    poly: &[Point<i32>],
    area: f32,
    frame: (i32, i32),
    inset: f32,
) -> Option<Vec<[f32; 2]>> {
    let n = poly.len();
    if !(4..=8).contains(&n) {
        return None;
    }
    let at: Vec<usize> = poly
        .iter()
        .map(|v| hull.iter().position(|p| p == v))
        .collect::<Option<_>>()?;
    let m = hull.len();
    let pts = to_f32(hull);
    let point = |i: usize| pts[i % m];
    let centre = pts.iter().fold([0.0f32; 2], |c, p| {
        [c[0] + p[0] / m as f32, c[1] + p[1] / m as f32]
    });
    // The line through a and b, moved in (by the dilation) onto the page's border.
    let moved = |a: [f32; 2], b: [f32; 2]| {
        let len = dist(a, b).max(1e-3);
        let mut normal = [(b[1] - a[1]) / len, (a[0] - b[0]) / len];
        if normal[0] * (centre[0] - a[0]) + normal[1] * (centre[1] - a[1]) < 0.0 {
            normal = normal.map(|v| -v);
        }
        let shift = |p: [f32; 2]| [p[0] + normal[0] * inset, p[1] + normal[1] * inset];
        (shift(a), shift(b))
    };
    // Side k of `poly` as (its length, the longest hull edge along it, that line moved in).
    type Line = ([f32; 2], [f32; 2]);
    let sides: Vec<(f32, Line, Line)> = (0..n)
        .map(|k| {
            let (from, to) = (at[k], at[(k + 1) % n]);
            let steps = (to + m - from) % m;
            let (a, b) = (0..steps.max(1))
                .map(|j| (point(from + j), point(from + j + 1)))
                .max_by(|x, y| dist(x.0, x.1).total_cmp(&dist(y.0, y.1)))
                .expect("at least one edge");
            (dist(point(from), point(to)), (a, b), moved(a, b))
        })
        .collect();
    // Sides of a photographed rectangle meet at 90° give or take the perspective: between
    // 50° and 130°.
    let max_cos = 50f32.to_radians().cos();
    let meet = |(a, b): Line, (c, d): Line| -> Option<[f32; 2]> {
        let (u, v) = ([b[0] - a[0], b[1] - a[1]], [d[0] - c[0], d[1] - c[1]]);
        let cross = u[0] * v[1] - u[1] * v[0];
        let (lu, lv) = (u[0].hypot(u[1]), v[0].hypot(v[1]));
        if lu == 0.0 || lv == 0.0 || ((u[0] * v[0] + u[1] * v[1]) / (lu * lv)).abs() > max_cos {
            return None;
        }
        let t = ((c[0] - a[0]) * v[1] - (c[1] - a[1]) * v[0]) / cross;
        Some([a[0] + t * u[0], a[1] + t * u[1]])
    };
    let inside = |p: &[f32; 2]| {
        let e = EDGE as f32;
        p[0] >= -e && p[1] >= -e && p[0] <= frame.0 as f32 + e && p[1] <= frame.1 as f32 + e
    };
    let mut best: Option<(f32, [usize; 4])> = None;
    for a in 0..n {
        for b in a + 1..n {
            for c in b + 1..n {
                for d in c + 1..n {
                    let chosen = [a, b, c, d];
                    let corners: Option<Vec<[f32; 2]>> = (0..4)
                        .map(|k| meet(sides[chosen[k]].1, sides[chosen[(k + 1) % 4]].1))
                        .collect();
                    let Some(corners) = corners else { continue };
                    let turns = (0..4).map(|k| {
                        let (p, q, r) = (corners[k], corners[(k + 1) % 4], corners[(k + 2) % 4]);
                        (q[0] - p[0]) * (r[1] - q[1]) - (q[1] - p[1]) * (r[0] - q[0])
                    });
                    let convex = turns.clone().all(|t| t > 0.0) || turns.clone().all(|t| t < 0.0);
                    let quad_area =
                        polygon_area(corners.iter().map(|&[x, y]| [x.into(), y.into()]));
                    if !convex
                        || quad_area < 0.97 * area
                        || quad_area > 1.15 * area
                        || !corners.iter().all(inside)
                    {
                        continue;
                    }
                    let total: f32 = chosen.iter().map(|&i| sides[i].0).sum();
                    if best.as_ref().is_none_or(|b| total > b.0) {
                        best = Some((total, chosen));
                    }
                }
            }
        }
    }
    // The corners of the chosen sides' lines moved in onto the page's border.
    let (_, chosen) = best?;
    (0..4)
        .map(|k| meet(sides[chosen[k]].2, sides[chosen[(k + 1) % 4]].2))
        .collect()
}

/// TL, TR, BR, BL: sorted around the centre, starting from the corner nearest the top left.
fn order(pts: &[[f32; 2]]) -> [[f32; 2]; 4] {
    let cx = pts.iter().map(|p| p[0]).sum::<f32>() / 4.0;
    let cy = pts.iter().map(|p| p[1]).sum::<f32>() / 4.0;
    let mut sorted = pts.to_vec();
    // Clockwise on screen (y down) is increasing atan2.
    sorted.sort_by(|a, b| {
        (a[1] - cy)
            .atan2(a[0] - cx)
            .total_cmp(&(b[1] - cy).atan2(b[0] - cx))
    });
    let start = (0..4)
        .min_by(|&i, &j| (sorted[i][0] + sorted[i][1]).total_cmp(&(sorted[j][0] + sorted[j][1])))
        .expect("four points");
    std::array::from_fn(|i| sorted[(start + i) % 4])
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Width and height of the quadrilateral (mean of opposite sides).
pub fn quad_size(c: &[[f32; 2]; 4]) -> (f32, f32) {
    (
        (dist(c[0], c[1]) + dist(c[3], c[2])) / 2.0,
        (dist(c[0], c[3]) + dist(c[1], c[2])) / 2.0,
    )
}

/// The document flattened to `width` pixels wide, upright and landscape (a page held in
/// portrait is turned so its long side runs across), with the projection used.
pub fn rectify(
    img: &RgbImage,
    corners: &[[f32; 2]; 4],
    width: u32,
) -> Option<(RgbImage, Projection)> {
    let c = landscape(corners);
    let (qw, qh) = quad_size(&c);
    let aspect = (qw / qh.max(1.0)).clamp(1.2, 1.8);
    let height = (width as f32 / aspect).round() as u32;
    warp(img, &c, width, height)
}

/// The corners (TL, TR, BR, BL) of a quadrilateral, started at another corner when it is
/// taller than wide, so that its long side runs from the first to the second. Documents
/// with an MRZ are landscape; a portrait outline is the page turned by 90°.
pub fn landscape(corners: &[[f32; 2]; 4]) -> [[f32; 2]; 4] {
    let (qw, qh) = quad_size(corners);
    if qh > qw {
        [corners[3], corners[0], corners[1], corners[2]]
    } else {
        *corners
    }
}

/// The quadrilateral `c` (TL, TR, BR, BL) of `img` mapped onto a `width` × `height`
/// picture as it is, with the projection used.
pub fn warp(
    img: &RgbImage,
    c: &[[f32; 2]; 4],
    width: u32,
    height: u32,
) -> Option<(RgbImage, Projection)> {
    let (wf, hf) = (width as f32, height as f32);
    let to_photo = Projection::from_control_points(
        [(0.0, 0.0), (wf, 0.0), (wf, hf), (0.0, hf)],
        c.map(|[x, y]| (x, y)),
    )?;
    let row_len = width as usize * 3;
    let mut flat = vec![0u8; row_len * height as usize];
    let fill = |rows: &mut [u8], first: usize| {
        for (y, row) in rows.chunks_exact_mut(row_len).enumerate() {
            let y = (first + y) as f32 + 0.5;
            for (x, px) in row.chunks_exact_mut(3).enumerate() {
                let (u, v) = to_photo * (x as f32 + 0.5, y);
                px.copy_from_slice(&bilinear_fixed(img, u - 0.5, v - 0.5));
            }
        }
    };
    on_two_cores(&mut flat, row_len, fill);
    let flat = RgbImage::from_raw(width, height, flat)?;
    Some((flat, to_photo))
}

/// [`bilinear`] in 8-bit fixed point, for whole pictures.
#[inline(always)]
fn bilinear_fixed(img: &RgbImage, x: f32, y: f32) -> [u8; 3] {
    let (w, h) = (img.width() as i32, img.height() as i32);
    // Positions in 1/256 pixel; outside the picture they are pinned to its edge.
    let xf = ((x * 256.0) as i32).clamp(0, (w - 1) * 256);
    let yf = ((y * 256.0) as i32).clamp(0, (h - 1) * 256);
    let (x0, y0) = (xf >> 8, yf >> 8);
    let (wx, wy) = ((xf & 255) as u32, (yf & 255) as u32);
    let x1 = (x0 + 1).min(w - 1);
    let y1 = (y0 + 1).min(h - 1);
    let raw = img.as_raw();
    let row = 3 * w as usize;
    let at = |xx: i32, yy: i32| yy as usize * row + 3 * xx as usize;
    let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
    let mut out = [0u8; 3];
    for (i, o) in out.iter_mut().enumerate() {
        let top = u32::from(raw[a + i]) * (256 - wx) + u32::from(raw[b + i]) * wx;
        let bottom = u32::from(raw[c + i]) * (256 - wx) + u32::from(raw[d + i]) * wx;
        *o = ((top * (256 - wy) + bottom * wy + (1 << 15)) >> 16) as u8;
    }
    out
}

/// The colour at (x, y), interpolated from the four nearest pixels; outside, the edge's.
#[inline]
pub(crate) fn bilinear(img: &RgbImage, x: f32, y: f32) -> image::Rgb<u8> {
    let (w, h) = (img.width() as i32, img.height() as i32);
    let (x0, y0) = (x.floor() as i32, y.floor() as i32);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let raw = img.as_raw();
    let row = 3 * w as usize;
    // At the border the edge pixels stand in for those outside.
    let (xa, xb, ya, yb) = (
        x0.clamp(0, w - 1),
        (x0 + 1).clamp(0, w - 1),
        y0.clamp(0, h - 1),
        (y0 + 1).clamp(0, h - 1),
    );
    let at = |xx: i32, yy: i32| yy as usize * row + 3 * xx as usize;
    let (a, b, c, d) = (at(xa, ya), at(xb, ya), at(xa, yb), at(xb, yb));
    let (pa, pb, pc, pd) = (
        &raw[a..a + 3],
        &raw[b..b + 3],
        &raw[c..c + 3],
        &raw[d..d + 3],
    );
    let mut out = [0u8; 3];
    for i in 0..3 {
        let (va, vb, vc, vd) = (
            f32::from(pa[i]),
            f32::from(pb[i]),
            f32::from(pc[i]),
            f32::from(pd[i]),
        );
        let top = va + (vb - va) * fx;
        let bottom = vc + (vd - vc) * fx;
        // A blend of bytes is within 0..=255: adding ½ and truncating rounds it.
        out[i] = (top + (bottom - top) * fy + 0.5) as u8;
    }
    image::Rgb(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// A light page with dark text-like bars.
    fn plain_page(u: f32, v: f32) -> Rgb<u8> {
        if (v as u32 % 20) < 4 && (20.0..280.0).contains(&u) {
            Rgb([30, 30, 30])
        } else {
            Rgb([220, 215, 200])
        }
    }

    /// The page on a dark table, without noise.
    fn scene(corners: [[f32; 2]; 4]) -> RgbImage {
        photo(corners, plain_page, Rgb([70, 50, 40]), 0, 1.0)
    }

    #[test]
    fn finds_the_four_corners_of_a_tilted_page() {
        let truth = [
            [120.0, 90.0],
            [520.0, 110.0],
            [505.0, 380.0],
            [110.0, 360.0],
        ];
        let Outline::Quad(found) = find(&scene(truth)) else {
            panic!("no quad");
        };
        for (f, t) in found.iter().zip(truth) {
            assert!(dist(*f, t) < 8.0, "{found:?}");
        }
        let (flat, _) = rectify(&scene(truth), &found, 400).unwrap();
        // Upright: the page's background fills the rectified corners.
        assert!(flat.get_pixel(5, 5)[0] > 150);
    }

    /// A 640×480 photo of a 300×200 page warped onto `corners`: `page(u, v)` paints the
    /// page, `table` the rest, then every channel gets up to ±`noise` of noise and is
    /// scaled by `light`.
    fn photo(
        corners: [[f32; 2]; 4],
        page: impl Fn(f32, f32) -> Rgb<u8>,
        table: Rgb<u8>,
        noise: u32,
        light: f32,
    ) -> RgbImage {
        photo_on(corners, page, |_, _| table, noise, light)
    }

    /// [`photo`] on a table painted by `table(x, y)`.
    fn photo_on(
        corners: [[f32; 2]; 4],
        page: impl Fn(f32, f32) -> Rgb<u8>,
        table: impl Fn(u32, u32) -> Rgb<u8>,
        noise: u32,
        light: f32,
    ) -> RgbImage {
        let proj = Projection::from_control_points(
            [(0.0, 0.0), (300.0, 0.0), (300.0, 200.0), (0.0, 200.0)],
            corners.map(|[x, y]| (x, y)),
        )
        .unwrap()
        .invert();
        let mut seed = 0x9e37_79b9u32;
        RgbImage::from_fn(640, 480, |x, y| {
            let (u, v) = proj * (x as f32, y as f32);
            let inside = (0.0..300.0).contains(&u) && (0.0..200.0).contains(&v);
            let p = if inside { page(u, v) } else { table(x, y) };
            Rgb(p.0.map(|c| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let n = (seed % (2 * noise + 1)) as f32 - noise as f32;
                ((f32::from(c) + n) * light).round().clamp(0.0, 255.0) as u8
            }))
        })
    }

    fn assert_corners_near(found: &Outline, truth: [[f32; 2]; 4], tolerance: f32) {
        let (Outline::Quad(found) | Outline::InPattern(found)) = found else {
            panic!("no quad: {found:?}");
        };
        for (f, t) in found.iter().zip(truth) {
            assert!(dist(*f, t) < tolerance, "{found:?} vs {truth:?}");
        }
    }

    const TILTED: [[f32; 2]; 4] = [
        [120.0, 90.0],
        [520.0, 110.0],
        [505.0, 380.0],
        [110.0, 360.0],
    ];

    fn id_card(u: f32, v: f32) -> Rgb<u8> {
        if v < 40.0 {
            // A dark blue header band: as dark as the brown table, another hue.
            Rgb([30, 40, 110])
        } else {
            plain_page(u, v)
        }
    }

    /// A pale ID card: a header, a portrait, a few lines of print and three MRZ-like rows of
    /// bars along its bottom, with blank card between them.
    fn pale_card(u: f32, v: f32) -> Rgb<u8> {
        let ink = Rgb([35, 35, 40]);
        let header = (15.0..25.0).contains(&v) && (15.0..150.0).contains(&u) && (u as u32 % 9) < 6;
        let portrait = (20.0..85.0).contains(&u) && (40.0..125.0).contains(&v);
        let print =
            (100.0..170.0).contains(&u) && (45.0..120.0).contains(&v) && (v as u32 % 15) < 4;
        let mrz = (15.0..285.0).contains(&u) && (145.0..185.0).contains(&v) && {
            let row = (v - 145.0) % 14.0;
            row < 8.0 && (u as u32 % 8) < 5
        };
        if portrait {
            Rgb([150, 110, 90])
        } else if header || print || mrz {
            ink
        } else {
            Rgb([226, 228, 222])
        }
    }

    /// A checked cloth of 12-pixel squares, dark blue and off-white.
    fn checked(x: u32, y: u32) -> Rgb<u8> {
        if (x / 12 + y / 12).is_multiple_of(2) {
            Rgb([40, 52, 105])
        } else {
            Rgb([205, 205, 212])
        }
    }

    /// On a checked cloth the pattern's edges close around everything: the largest outline
    /// is the photo itself. The card is the hole in the pattern, found whole, its MRZ rows
    /// along its border included.
    #[test]
    fn a_card_on_a_checked_cloth_is_the_hole_in_the_pattern() {
        let cloth = photo_on(TILTED, pale_card, checked, 6, 1.0);
        let k = SEARCH_SIDE as f32 / 640.0;
        let small = resize_triangle(&cloth, 512, 384);
        let blurred = imageproc::filter::gaussian_blur_f32(&small, 1.4);
        let edges = colour_canny(&blurred, 12.0, 36.0);
        assert!(busy_surroundings(
            &busy_map(&pattern_edges(&blurred, 12.0, 36.0)),
            512
        ));
        // The outline alone does not find the card.
        let alone = outline_in(&edges);
        let near = |o: &Outline| match o {
            Outline::Quad(q) => q
                .iter()
                .zip(TILTED)
                .all(|(f, t)| dist(*f, t.map(|v| v * k)) < 8.0),
            _ => false,
        };
        assert!(!near(&alone), "{alone:?}");
        let found = find(&cloth);
        assert!(matches!(found, Outline::InPattern(_)), "{found:?}");
        assert_corners_near(&found, TILTED, 9.0);
        // On a plain table the pattern rule stays out of the way.
        let table = photo(TILTED, pale_card, Rgb([70, 50, 40]), 6, 1.0);
        let small = resize_triangle(&table, 512, 384);
        let blurred = imageproc::filter::gaussian_blur_f32(&small, 1.4);
        assert!(!busy_surroundings(
            &busy_map(&pattern_edges(&blurred, 12.0, 36.0)),
            512
        ));
        let found = find(&table);
        assert!(matches!(found, Outline::Quad(_)), "{found:?}");
        assert_corners_near(&found, TILTED, 8.0);
    }

    #[test]
    fn a_dark_header_on_a_dark_table_of_another_hue_is_part_of_the_page() {
        let brown = Rgb([90, 38, 20]);
        let grey = |c: Rgb<u8>| crate::quality::luma(&RgbImage::from_pixel(1, 1, c))[(0, 0)][0];
        assert!(
            grey(brown).abs_diff(grey(Rgb([30, 40, 110]))) < 8,
            "the header is as bright as the table"
        );
        assert_corners_near(&find(&photo(TILTED, id_card, brown, 0, 1.0)), TILTED, 8.0);
    }

    #[test]
    fn a_corner_lost_in_the_edge_map_is_where_its_sides_meet() {
        // The top-right corner is as dark as the table (a header in shadow), cut off by a
        // chord from 50 units along the top to 50 down the side.
        let table = Rgb([70, 50, 40]);
        let page = |u: f32, v: f32| {
            if (300.0 - u) + v < 50.0 {
                table
            } else {
                id_card(u, v.max(40.0))
            }
        };
        assert_corners_near(&find(&photo(TILTED, page, table, 0, 1.0)), TILTED, 8.0);
    }

    #[test]
    fn the_noise_of_a_dark_photo_is_no_edge() {
        // At a sixth of the light the edge thresholds follow the low contrast down, to
        // where the noise of the strongest channel would reach them and join the page to
        // the frame's edge.
        let photo = photo(TILTED, id_card, Rgb([30, 45, 70]), 24, 0.16);
        assert_corners_near(&find(&photo), TILTED, 8.0);
    }

    #[test]
    fn a_page_running_off_the_left_edge_is_cut_there() {
        let truth = [
            [-80.0, 90.0],
            [380.0, 100.0],
            [370.0, 380.0],
            [-90.0, 370.0],
        ];
        match find(&scene(truth)) {
            Outline::Cut { missing, edges, .. } => {
                assert_eq!(edges, vec!["left"]);
                assert_eq!(missing, vec!["top-left", "bottom-left"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_fast_resize_is_the_image_crates_triangle_resize_exactly() {
        let mut seed = 0x2545_f491u32;
        let noisy = RgbImage::from_fn(1003, 751, |x, y| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            Rgb([(x * 7 + y) as u8, (seed & 0xff) as u8, (y * 3) as u8])
        });
        for (w, h) in [(512, 383), (333, 250), (1003, 600), (1500, 1000), (1, 1)] {
            let want = image::imageops::resize(&noisy, w, h, image::imageops::FilterType::Triangle);
            assert!(resize_triangle(&noisy, w, h) == want, "{w}x{h}");
        }
    }

    #[test]
    fn the_fast_canny_is_imageprocs_canny_exactly() {
        let mut seed = 0x1234_5679u32;
        let photo = crate::quality::luma(&scene([
            [120.0, 90.0],
            [520.0, 110.0],
            [505.0, 380.0],
            [110.0, 360.0],
        ]));
        let noisy = GrayImage::from_fn(401, 299, |x, y| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let ring = (((x as f32 - 200.0).hypot(y as f32 - 150.0) / 9.0).sin() * 90.0) as i32;
            image::Luma([(128 + ring + (seed % 40) as i32 - 20).clamp(0, 255) as u8])
        });
        // On a grey photo without noise the colour edges are the grey ones.
        let grey_rgb = RgbImage::from_fn(photo.width(), photo.height(), |x, y| {
            let v = photo[(x, y)][0];
            Rgb([v, v, v])
        });
        for (low, high) in [(12.0, 36.0), (3.0, 9.0)] {
            let want = imageproc::edges::canny(&photo, low, high);
            assert!(colour_canny(&grey_rgb, low, high) == want, "{low} {high}");
        }
        for img in [photo, noisy] {
            for (low, high) in [(12.0, 36.0), (3.0, 9.0), (30.0, 90.0)] {
                let want = imageproc::edges::canny(&img, low, high);
                assert!(canny(&img, low, high) == want, "{low} {high}");
            }
        }
    }

    #[test]
    fn an_empty_table_has_no_document() {
        let table = RgbImage::from_pixel(640, 480, Rgb([70, 50, 40]));
        assert_eq!(find(&table), Outline::None);
    }
}
