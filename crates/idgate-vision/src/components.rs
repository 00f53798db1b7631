//! 4-connected components of a binary mask, shared by text detection (probability map) and
//! glare location (saturated pixels).

/// One component: its bounding box (inclusive) and the indices of its pixels.
pub(crate) struct Component {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
    pub pixels: Vec<usize>,
}

/// Calls `f` for every component of the pixels where `on(index)` holds, within the `w`×`h`
/// top-left area of a buffer whose rows are `stride` long.
pub(crate) fn for_each(
    w: usize,
    h: usize,
    stride: usize,
    on: impl Fn(usize) -> bool,
    mut f: impl FnMut(Component),
) {
    let mut seen = vec![false; stride * h];
    let mut stack = Vec::new();
    for sy in 0..h {
        for sx in 0..w {
            let start = sy * stride + sx;
            if seen[start] || !on(start) {
                continue;
            }
            seen[start] = true;
            stack.push((sx, sy));
            let mut c = Component {
                x0: sx,
                y0: sy,
                x1: sx,
                y1: sy,
                pixels: Vec::new(),
            };
            while let Some((x, y)) = stack.pop() {
                c.pixels.push(y * stride + x);
                c.x0 = c.x0.min(x);
                c.x1 = c.x1.max(x);
                c.y0 = c.y0.min(y);
                c.y1 = c.y1.max(y);
                let neighbours = [
                    (x.wrapping_sub(1), y),
                    (x + 1, y),
                    (x, y.wrapping_sub(1)),
                    (x, y + 1),
                ];
                for (nx, ny) in neighbours {
                    if nx < w && ny < h {
                        let j = ny * stride + nx;
                        if !seen[j] && on(j) {
                            seen[j] = true;
                            stack.push((nx, ny));
                        }
                    }
                }
            }
            f(c);
        }
    }
}
