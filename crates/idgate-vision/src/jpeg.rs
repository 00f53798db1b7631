//! Reduced-size decoding of the baseline JPEGs cameras write, for the checks that only need
//! a 1/2, 1/4 or 1/8 size picture.
//!
//! Every Huffman code must still be read, but nothing else of the full picture is made:
//! each 8×8 block becomes its 4×4, 2×2 or 1×1 cell means straight from the DCT
//! coefficients (the mean of a cell of cosines is a constant, so a cell's mean is a short
//! weighted sum of the block's coefficients), chroma is upsampled at the reduced size, and
//! colour is converted at the reduced size. That is the box-filtered picture, not an
//! approximation of it.
//!
//! Only what cameras and phones produce is taken: 8-bit baseline or extended sequential
//! Huffman, one interleaved scan, greyscale or YCbCr, sampling factors 1, 2 or 4. Anything else
//! (progressive, arithmetic coding, CMYK, Adobe RGB transforms, 12-bit, several scans, data
//! that ends early or a restart marker out of place) returns `None`, and the caller decodes
//! the file another way. Every read is bounds-checked: the input is untrusted.

use image::RgbImage;

/// Zigzag position → natural (row-major) position in the 8×8 block.
const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Decodes `bytes` at `1/reduction` of its size (2, 4 or 8): `None` when the file is not a
/// JPEG this decoder takes (see the module documentation).
pub fn decode_reduced(bytes: &[u8], reduction: u32) -> Option<RgbImage> {
    let cells = match reduction {
        2 => 4,
        4 => 2,
        8 => 1,
        _ => return None,
    };
    let (frame, tables, scan, data) = parse(bytes)?;
    let planes = decode_scan(&frame, &tables, &scan, data, cells, &mut None)?;
    Some(to_rgb(&frame, &planes, cells))
}

/// Like [`decode_reduced`], and also the `side` × `side` grey samples at the picture's
/// centre decoded at `1/fine` of its size (`fine` 1, 2 or 4, below `reduction`; 1 is the
/// full inverse DCT): box means of the luma straight from the same blocks, for a measure
/// that needs finer detail than the rest (a screen's pixel grid) where decoding the whole
/// picture finer would cost more.
/// `None` also when the picture is smaller than the window.
pub fn decode_reduced_with_centre(
    bytes: &[u8],
    reduction: u32,
    fine: u32,
    side: usize,
) -> Option<(RgbImage, image::GrayImage)> {
    let cells = match reduction {
        2 => 4,
        4 => 2,
        8 => 1,
        _ => return None,
    };
    let fine_cells = match fine {
        1 => 8,
        2 => 4,
        4 => 2,
        _ => return None,
    };
    if fine_cells <= cells || !side.is_multiple_of(fine_cells) {
        return None;
    }
    let (frame, tables, scan, data) = parse(bytes)?;
    // The window in luma block units, centred on the picture.
    let blocks = side / fine_cells;
    let (cx, cy) = (frame.width / 16, frame.height / 16);
    let window = Window {
        x0: cx.checked_sub(blocks / 2)?,
        y0: cy.checked_sub(blocks / 2)?,
        blocks,
        cells: fine_cells,
        samples: vec![0; side * side],
    };
    if window.x0 + blocks > frame.width / 8 || window.y0 + blocks > frame.height / 8 {
        return None;
    }
    let mut window = Some(window);
    let planes = decode_scan(&frame, &tables, &scan, data, cells, &mut window)?;
    let window = window?;
    let centre = image::GrayImage::from_raw(side as u32, side as u32, window.samples)?;
    Some((to_rgb(&frame, &planes, cells), centre))
}

/// Luma blocks `x0..x0 + blocks` × `y0..y0 + blocks` decoded to `cells` × `cells` means
/// each, besides the reduced planes.
struct Window {
    x0: usize,
    y0: usize,
    blocks: usize,
    cells: usize,
    samples: Vec<u8>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant: usize,
}

#[derive(Debug)]
struct Frame {
    width: usize,
    height: usize,
    components: Vec<Component>,
    h_max: usize,
    v_max: usize,
}

/// A canonical Huffman table: a 9-bit lookup for short codes, the code ranges per length
/// for the rest.
#[derive(Clone)]
struct Huffman {
    /// (code length << 8 | symbol), 0 when the code is longer than [`LOOKUP_BITS`].
    lookup: Vec<u16>,
    /// For AC tables: (value << 16 | run << 8 | code and value length), 0 when not short.
    fast_ac: Vec<i32>,
    /// Largest code of each length 1..=16 (−1 when none), and where its symbols start.
    max_code: [i32; 18],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

const LOOKUP_BITS: u32 = 9;

impl Huffman {
    fn new(counts: &[u8; 16], symbols: Vec<u8>) -> Option<Huffman> {
        let mut lookup = vec![0u16; 1 << LOOKUP_BITS];
        let mut max_code = [-1i32; 18];
        let mut offset = [0i32; 17];
        let (mut code, mut k) = (0i32, 0usize);
        for len in 1..=16usize {
            let n = usize::from(counts[len - 1]);
            offset[len] = k as i32 - code;
            for _ in 0..n {
                let symbol = *symbols.get(k)?;
                if code >= 1 << len {
                    return None;
                }
                if len as u32 <= LOOKUP_BITS {
                    let shift = LOOKUP_BITS - len as u32;
                    let first = (code as usize) << shift;
                    for e in &mut lookup[first..first + (1 << shift)] {
                        *e = ((len as u16) << 8) | u16::from(symbol);
                    }
                }
                code += 1;
                k += 1;
            }
            max_code[len] = if n > 0 { code - 1 } else { -1 };
            code <<= 1;
        }
        max_code[17] = i32::MAX;
        // Short AC codes whose value bits also fit in the lookup: run, value and total
        // length at once.
        let mut fast_ac = vec![0i32; 1 << LOOKUP_BITS];
        for (index, e) in lookup.iter().enumerate() {
            let (len, rs) = (u32::from(e >> 8), *e as u8);
            let (run, size) = (i32::from(rs >> 4), u32::from(rs & 15));
            if len == 0 || size == 0 || len + size > LOOKUP_BITS {
                continue;
            }
            let raw = (index as u32 >> (LOOKUP_BITS - len - size)) & ((1 << size) - 1);
            let value = extend(raw as i32, size);
            fast_ac[index] = value << 16 | run << 8 | (len + size) as i32;
        }
        Some(Huffman {
            lookup,
            fast_ac,
            max_code,
            offset,
            symbols,
        })
    }
}

/// A coefficient's `n` raw bits to its signed value (F.2.2.1's EXTEND).
#[inline(always)]
fn extend(v: i32, n: u32) -> i32 {
    if n > 0 && v < 1 << (n - 1) {
        v - (1 << n) + 1
    } else {
        v
    }
}

#[derive(Default)]
struct Tables {
    /// Quantisation tables in zigzag order.
    quant: [Option<[u16; 64]>; 4],
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
    restart_interval: usize,
}

/// The scan's components: index into `Frame::components`, DC and AC table numbers.
struct Scan {
    parts: Vec<(usize, usize, usize)>,
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(*b.get(at)?) << 8 | usize::from(*b.get(at + 1)?))
}

/// Reads the markers up to the first scan: the frame, the tables and where the entropy-coded
/// data starts.
fn parse(b: &[u8]) -> Option<(Frame, Tables, Scan, &[u8])> {
    if b.get(0..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut at = 2;
    let mut frame: Option<Frame> = None;
    let mut tables = Tables::default();
    let mut adobe_rgb = false;
    loop {
        // Markers may be preceded by fill bytes.
        if *b.get(at)? != 0xFF {
            return None;
        }
        while *b.get(at)? == 0xFF {
            at += 1;
        }
        let marker = *b.get(at)?;
        at += 1;
        if matches!(marker, 0x01 | 0xD0..=0xD7) {
            continue;
        }
        let len = be16(b, at)?;
        if len < 2 {
            return None;
        }
        let seg = b.get(at + 2..at + len)?;
        at += len;
        match marker {
            0xC0 | 0xC1 => frame = Some(parse_frame(seg)?),
            // Progressive, lossless, hierarchical or arithmetic-coded frames.
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xC4 => parse_huffman(seg, &mut tables)?,
            0xDB => parse_quant(seg, &mut tables)?,
            0xDD => tables.restart_interval = be16(seg, 0)?,
            // Adobe's marker: transform 0 means the three channels are RGB, not YCbCr.
            0xEE if seg.starts_with(b"Adobe") => adobe_rgb = seg.get(11) == Some(&0),
            0xDA => {
                let frame = frame?;
                let rgb_ids = frame.components.iter().map(|c| c.id).eq(*b"RGB");
                if (frame.components.len() == 3 && (adobe_rgb || rgb_ids))
                    || !matches!(frame.components.len(), 1 | 3)
                {
                    return None;
                }
                let scan = parse_scan(seg, &frame)?;
                return Some((frame, tables, scan, b.get(at..)?));
            }
            0xD9 => return None,
            _ => {}
        }
    }
}

fn parse_frame(seg: &[u8]) -> Option<Frame> {
    if *seg.first()? != 8 {
        return None;
    }
    let height = be16(seg, 1)?;
    let width = be16(seg, 3)?;
    let n = usize::from(*seg.get(5)?);
    if width == 0 || height == 0 || n == 0 {
        return None;
    }
    let mut components = Vec::with_capacity(n);
    for i in 0..n {
        let c = seg.get(6 + 3 * i..9 + 3 * i)?;
        let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
        if !matches!(h, 1 | 2 | 4) || !matches!(v, 1 | 2 | 4) || c[2] > 3 {
            return None;
        }
        components.push(Component {
            id: c[0],
            h,
            v,
            quant: usize::from(c[2]),
        });
    }
    if n == 1 {
        // A lone component's scan is not interleaved: its blocks simply cover the picture.
        components[0].h = 1;
        components[0].v = 1;
    }
    let h_max = components.iter().map(|c| c.h).max()?;
    let v_max = components.iter().map(|c| c.v).max()?;
    // Chroma is upsampled by whole factors.
    if components
        .iter()
        .any(|c| h_max % c.h != 0 || v_max % c.v != 0)
    {
        return None;
    }
    Some(Frame {
        width,
        height,
        components,
        h_max,
        v_max,
    })
}

fn parse_huffman(mut seg: &[u8], tables: &mut Tables) -> Option<()> {
    while !seg.is_empty() {
        let class_id = seg[0];
        let counts: [u8; 16] = seg.get(1..17)?.try_into().ok()?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let symbols = seg.get(17..17 + total)?.to_vec();
        let table = Huffman::new(&counts, symbols)?;
        let id = usize::from(class_id & 15);
        match class_id >> 4 {
            0 => *tables.dc.get_mut(id)? = Some(table),
            1 => *tables.ac.get_mut(id)? = Some(table),
            _ => return None,
        }
        seg = &seg[17 + total..];
    }
    Some(())
}

fn parse_quant(mut seg: &[u8], tables: &mut Tables) -> Option<()> {
    while !seg.is_empty() {
        let (precision, id) = (seg[0] >> 4, usize::from(seg[0] & 15));
        let mut q = [0u16; 64];
        let size = if precision == 0 { 1 } else { 2 };
        let values = seg.get(1..1 + 64 * size)?;
        for (i, v) in q.iter_mut().enumerate() {
            *v = if size == 1 {
                u16::from(values[i])
            } else {
                u16::from(values[2 * i]) << 8 | u16::from(values[2 * i + 1])
            };
        }
        *tables.quant.get_mut(id)? = Some(q);
        seg = &seg[1 + 64 * size..];
    }
    Some(())
}

fn parse_scan(seg: &[u8], frame: &Frame) -> Option<Scan> {
    let n = usize::from(*seg.first()?);
    // One scan holding every component: what cameras write.
    if n != frame.components.len() {
        return None;
    }
    let mut parts = Vec::with_capacity(n);
    for i in 0..n {
        let s = seg.get(1 + 2 * i..3 + 2 * i)?;
        let index = frame.components.iter().position(|c| c.id == s[0])?;
        parts.push((index, usize::from(s[1] >> 4), usize::from(s[1] & 15)));
    }
    let spectral = seg.get(1 + 2 * n..4 + 2 * n)?;
    if spectral != [0, 63, 0] {
        return None;
    }
    Some(Scan { parts })
}

/// Reads the entropy-coded bits, undoing the 0xFF00 stuffing and stopping at markers
/// (zero bits are fed after one; `short` tells whether any of them were used).
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
    acc: u64,
    count: u32,
    /// Zero bits fed in place of data after a marker or the end.
    padded: u32,
}

impl<'a> Bits<'a> {
    /// Tops the buffer up to at least 57 bits: eight bytes at a time while there is no 0xFF
    /// among them, else byte by byte.
    #[inline(always)]
    fn refill(&mut self) {
        if let Some(next) = self.data.get(self.at..self.at + 8) {
            let word = u64::from_be_bytes(next.try_into().expect("eight bytes"));
            let inverted = !word;
            let has_ff =
                inverted.wrapping_sub(0x0101_0101_0101_0101) & !inverted & 0x8080_8080_8080_8080;
            if has_ff == 0 {
                let take = (64 - self.count) / 8;
                let fill = take * 8;
                self.acc |= (word >> (64 - fill)) << (64 - fill - self.count);
                self.count += fill;
                self.at += take as usize;
                return;
            }
        }
        self.refill_bytes();
    }

    fn refill_bytes(&mut self) {
        while self.count <= 56 {
            let byte = match self.data.get(self.at) {
                // A stuffed 0xFF data byte.
                Some(0xFF) if self.data.get(self.at + 1) == Some(&0) => {
                    self.at += 2;
                    0xFF
                }
                Some(&b) if b != 0xFF => {
                    self.at += 1;
                    b
                }
                // A marker or the end: zeros, counted.
                _ => {
                    self.padded += 8;
                    0
                }
            };
            self.acc |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    #[inline(always)]
    fn peek(&self, n: u32) -> u32 {
        (self.acc >> (64 - n)) as u32
    }

    #[inline(always)]
    fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.count -= n;
    }

    /// More bits were used than the data held.
    fn short(&self) -> bool {
        self.padded > self.count
    }

    /// The next Huffman symbol; the caller has made sure 16 bits are buffered.
    #[inline(always)]
    fn symbol(&mut self, t: &Huffman) -> Option<u8> {
        let e = t.lookup[self.peek(LOOKUP_BITS) as usize];
        if e != 0 {
            self.consume(u32::from(e >> 8));
            return Some(e as u8);
        }
        let code16 = self.peek(16) as i32;
        for len in LOOKUP_BITS as usize + 1..=16 {
            let code = code16 >> (16 - len);
            if code <= t.max_code[len] {
                self.consume(len as u32);
                return t.symbols.get((code + t.offset[len]) as usize).copied();
            }
        }
        None
    }

    /// An `n`-bit signed coefficient value (n ≤ 15); the caller has made sure `n` bits
    /// are buffered.
    #[inline(always)]
    fn value(&mut self, n: u32) -> i32 {
        if n == 0 {
            return 0;
        }
        let v = self.peek(n) as i32;
        self.consume(n);
        extend(v, n)
    }

    /// One block: the DC difference added to `pred`, then the AC coefficients up to the
    /// end of block; `sink` gets each coefficient's natural position and value.
    #[inline(always)]
    fn block(
        &mut self,
        dc: &Huffman,
        ac: &Huffman,
        pred: &mut i32,
        mut sink: impl FnMut(usize, i32),
    ) -> Option<()> {
        // 57 buffered bits cover a code (≤ 16) and its value (≤ 15) twice over.
        if self.count < 32 {
            self.refill();
        }
        let s = u32::from(self.symbol(dc)?);
        if s > 11 {
            return None;
        }
        *pred += self.value(s);
        sink(0, *pred);
        let mut k = 1usize;
        while k < 64 {
            if self.count < 32 {
                self.refill();
            }
            let fast = ac.fast_ac[self.peek(LOOKUP_BITS) as usize];
            let (run, value) = if fast != 0 {
                self.consume((fast & 255) as u32);
                ((fast >> 8 & 255) as usize, fast >> 16)
            } else {
                let rs = self.symbol(ac)?;
                let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
                if size == 0 {
                    if run != 15 {
                        break;
                    }
                    k += 16;
                    continue;
                }
                (run, self.value(size))
            };
            k += run;
            sink(usize::from(*ZIGZAG.get(k)?), value);
            k += 1;
        }
        if k > 64 {
            return None;
        }
        Some(())
    }

    /// At a restart interval's end: the byte-aligned RSTn marker must follow. Reading
    /// stops at markers, so at most the last byte's padding bits are left unread; more
    /// means the data is out of step.
    fn restart(&mut self) -> Option<()> {
        if self.short() || self.count - self.padded >= 8 {
            return None;
        }
        let m = self.data.get(self.at..self.at + 2)?;
        if m[0] != 0xFF || !(0xD0..=0xD7).contains(&m[1]) {
            return None;
        }
        self.at += 2;
        self.acc = 0;
        self.count = 0;
        self.padded = 0;
        Some(())
    }
}

/// What one unit of the coefficient at each natural position adds to each cell mean
/// (`cells` × `cells` of them, row by row), dequantisation included:
/// q · w(cy, v) · w(cx, u), where w(c, u) = ½ C(u) × the mean over cell c's pixels of
/// cos((2x+1)uπ/16) (the 2-D DCT's ¼ split between the two dimensions).
/// `N` is at least `cells`²: 16 for the reduced planes, 64 for a full-size window.
fn contributions<const N: usize>(cells: usize, quant: &[u16; 64]) -> Vec<[f32; N]> {
    let width = 8 / cells;
    let w = |c: usize, u: usize| {
        let cu = if u == 0 {
            std::f32::consts::FRAC_1_SQRT_2
        } else {
            1.0
        };
        let mean = (c * width..(c + 1) * width)
            .map(|x| ((2 * x + 1) as f32 * u as f32 * std::f32::consts::PI / 16.0).cos())
            .sum::<f32>()
            / width as f32;
        // Terms that vanish by symmetry are made exactly zero.
        if mean.abs() < 1e-6 {
            0.0
        } else {
            0.5 * cu * mean
        }
    };
    let mut out = vec![[0f32; N]; 64];
    for (z, &n) in ZIGZAG.iter().enumerate() {
        let (v, u) = (usize::from(n) / 8, usize::from(n) % 8);
        let q = f32::from(quant[z]);
        for cy in 0..cells {
            for cx in 0..cells {
                out[usize::from(n)][cy * cells + cx] = q * w(cy, v) * w(cx, u);
            }
        }
    }
    out
}

/// One reduced plane per component, `cells` samples per block side, whole blocks.
struct Plane {
    width: usize,
    samples: Vec<u8>,
}

/// Writes a block's `cells`×`cells` box means (level-shifted back, rounded, clamped) into
/// `samples`, a plane `width` samples wide, with the box's top-left sample at `(x0, y0)`.
fn store(means: &[f32], cells: usize, samples: &mut [u8], width: usize, (x0, y0): (usize, usize)) {
    for cy in 0..cells {
        let row = (y0 + cy) * width + x0;
        for cx in 0..cells {
            let v = means[cy * cells + cx] + 128.5;
            samples[row + cx] = v.clamp(0.0, 255.0) as u8;
        }
    }
}

fn decode_scan(
    frame: &Frame,
    tables: &Tables,
    scan: &Scan,
    data: &[u8],
    cells: usize,
    window: &mut Option<Window>,
) -> Option<Vec<Plane>> {
    let mcu_w = 8 * frame.h_max;
    let mcu_h = 8 * frame.v_max;
    let mcus_x = frame.width.div_ceil(mcu_w);
    let mcus_y = frame.height.div_ceil(mcu_h);
    let mut planes: Vec<Plane> = frame
        .components
        .iter()
        .map(|c| {
            let (width, height) = (mcus_x * c.h * cells, mcus_y * c.v * cells);
            Plane {
                width,
                samples: vec![0; width * height],
            }
        })
        .collect();
    struct Part<'t> {
        index: usize,
        h: usize,
        v: usize,
        contrib: Vec<[f32; 16]>,
        dc_quant: f32,
        dc: &'t Huffman,
        ac: &'t Huffman,
        pred: i32,
    }
    // The window's own contributions (luma's quantisation table).
    let fine = match window {
        Some(w) => {
            let q = tables.quant[frame.components[0].quant].as_ref()?;
            contributions::<64>(w.cells, q)
        }
        None => Vec::new(),
    };
    let mut parts = Vec::with_capacity(scan.parts.len());
    for &(index, dc, ac) in &scan.parts {
        let c = frame.components[index];
        let q = tables.quant[c.quant].as_ref()?;
        parts.push(Part {
            index,
            h: c.h,
            v: c.v,
            contrib: contributions::<16>(cells, q),
            dc_quant: f32::from(q[0]),
            dc: tables.dc.get(dc)?.as_ref()?,
            ac: tables.ac.get(ac)?.as_ref()?,
            pred: 0,
        });
    }
    let mut bits = Bits {
        data,
        at: 0,
        acc: 0,
        count: 0,
        padded: 0,
    };
    let interval = tables.restart_interval;
    let n_cells = cells * cells;
    let total = mcus_x * mcus_y;
    for mcu in 0..total {
        if interval > 0 && mcu > 0 && mcu % interval == 0 {
            bits.restart()?;
            for p in &mut parts {
                p.pred = 0;
            }
        }
        let (mx, my) = (mcu % mcus_x, mcu / mcus_x);
        for p in &mut parts {
            for by in 0..p.v {
                for bx in 0..p.h {
                    let plane = &mut planes[p.index];
                    let (block_x, block_y) = (mx * p.h + bx, my * p.v + by);
                    let (x0, y0) = (block_x * cells, block_y * cells);
                    let in_window = p.index == 0
                        && window.as_ref().is_some_and(|w| {
                            (w.x0..w.x0 + w.blocks).contains(&block_x)
                                && (w.y0..w.y0 + w.blocks).contains(&block_y)
                        });
                    if in_window {
                        let w = window.as_mut()?;
                        let fine_cells = w.cells * w.cells;
                        let (mut out, mut detail) = ([0f32; 16], [0f32; 64]);
                        let contrib = &p.contrib;
                        bits.block(p.dc, p.ac, &mut p.pred, |n, value| {
                            let value = value as f32;
                            for (o, c) in out[..n_cells].iter_mut().zip(&contrib[n][..n_cells]) {
                                *o += value * c;
                            }
                            for (o, c) in
                                detail[..fine_cells].iter_mut().zip(&fine[n][..fine_cells])
                            {
                                *o += value * c;
                            }
                        })?;
                        store(&out, cells, &mut plane.samples, plane.width, (x0, y0));
                        let side = w.blocks * w.cells;
                        let (wx, wy) = ((block_x - w.x0) * w.cells, (block_y - w.y0) * w.cells);
                        store(&detail, w.cells, &mut w.samples, side, (wx, wy));
                        continue;
                    }
                    if cells == 1 {
                        // 1/8: the block's mean is its DC coefficient.
                        bits.block(p.dc, p.ac, &mut p.pred, |_, _| {})?;
                        let v = p.pred as f32 * p.dc_quant / 8.0 + 128.5;
                        plane.samples[y0 * plane.width + x0] = v.clamp(0.0, 255.0) as u8;
                        continue;
                    }
                    let mut out = [0f32; 16];
                    let contrib = &p.contrib;
                    bits.block(p.dc, p.ac, &mut p.pred, |n, value| {
                        let value = value as f32;
                        for (o, c) in out[..n_cells].iter_mut().zip(&contrib[n][..n_cells]) {
                            *o += value * c;
                        }
                    })?;
                    store(&out, cells, &mut plane.samples, plane.width, (x0, y0));
                }
            }
        }
    }
    if bits.short() {
        return None;
    }
    Some(planes)
}

/// Where output position `x` falls between two samples of a plane subsampled by `step`:
/// (first, second, weight of the second in 1/256), as the full decoder's interpolating
/// upsampler places it (sample centres at (i + 0.5) · step).
fn taps(len: usize, step: usize, samples: usize) -> Vec<(usize, usize, i32)> {
    (0..len)
        .map(|x| {
            let pos = ((x as f32 + 0.5) / step as f32 - 0.5).max(0.0);
            let first = (pos as usize).min(samples - 1);
            let second = (first + 1).min(samples - 1);
            (first, second, ((pos - first as f32) * 256.0).round() as i32)
        })
        .collect()
}

/// Crops the planes to the reduced picture, upsamples chroma by interpolation and converts
/// to RGB.
fn to_rgb(frame: &Frame, planes: &[Plane], cells: usize) -> RgbImage {
    let width = (frame.width * cells).div_ceil(8);
    let height = (frame.height * cells).div_ceil(8);
    let mut out = vec![0u8; width * height * 3];
    if planes.len() == 1 {
        let p = &planes[0];
        for y in 0..height {
            for x in 0..width {
                let v = p.samples[y * p.width + x];
                out[(y * width + x) * 3..][..3].fill(v);
            }
        }
    } else {
        // Per component: column and row taps, and whether it is sampled at full width
        // (luma: its rows are taken as they are).
        let taps: Vec<_> = frame
            .components
            .iter()
            .zip(planes)
            .map(|(c, p)| {
                let rows = p.samples.len() / p.width;
                (
                    taps(width, frame.h_max / c.h, p.width),
                    taps(height, frame.v_max / c.v, rows),
                    c.h == frame.h_max,
                )
            })
            .collect();
        // Each output row: every component brought to full width (vertical blend of two
        // plane rows, then horizontal taps), then converted.
        let mut upsampled = vec![vec![0i32; width]; 3];
        let mut blended = Vec::new();
        for y in 0..height {
            for (k, (p, (cols, rows, full_width))) in planes.iter().zip(&taps).enumerate() {
                let (r0, r1, wy) = rows[y];
                let top = &p.samples[r0 * p.width..][..p.width];
                let bottom = &p.samples[r1 * p.width..][..p.width];
                let row = &mut upsampled[k];
                if *full_width && wy == 0 {
                    for (o, &v) in row.iter_mut().zip(top) {
                        *o = i32::from(v) << 16;
                    }
                    continue;
                }
                blended.clear();
                blended.extend(
                    top.iter()
                        .zip(bottom)
                        .map(|(&a, &b)| i32::from(a) * (256 - wy) + i32::from(b) * wy),
                );
                for (o, &(c0, c1, wx)) in row.iter_mut().zip(cols) {
                    *o = blended[c0] * (256 - wx) + blended[c1] * wx;
                }
            }
            let line = &mut out[y * width * 3..][..width * 3];
            for (x, px) in line.chunks_exact_mut(3).enumerate() {
                let round = |v: i32| (v + (1 << 15)) >> 16;
                let luma = round(upsampled[0][x]);
                let cb = round(upsampled[1][x]) - 128;
                let cr = round(upsampled[2][x]) - 128;
                // JFIF's YCbCr → RGB in 16.16 fixed point.
                let r = luma + ((91_881 * cr + 32_768) >> 16);
                let g = luma - ((22_554 * cb + 46_802 * cr + 32_768) >> 16);
                let b = luma + ((116_130 * cb + 32_768) >> 16);
                px[0] = r.clamp(0, 255) as u8;
                px[1] = g.clamp(0, 255) as u8;
                px[2] = b.clamp(0, 255) as u8;
            }
        }
    }
    RgbImage::from_raw(width as u32, height as u32, out).expect("buffer sized to the picture")
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, ImageFormat};
    use std::io::Cursor;

    /// Sharp luma detail (stripes, edges) over smooth colour, as in photos.
    fn photo(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let (xf, yf) = (x as f32, y as f32);
            let detail = if (x / 3 + y / 5) % 2 == 0 {
                60.0
            } else {
                -20.0
            };
            let base = 90.0 + 0.3 * xf + detail;
            let tint = 40.0 * (xf * 0.02).sin() * (yf * 0.015).cos();
            image::Rgb([
                (base + tint).clamp(0.0, 255.0) as u8,
                (base - 0.5 * tint).clamp(0.0, 255.0) as u8,
                (base + 30.0 * (yf * 0.01).sin()).clamp(0.0, 255.0) as u8,
            ])
        })
    }

    fn jpeg(img: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img.clone())
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
            .unwrap();
        out
    }

    fn box_mean(img: &RgbImage, r: u32) -> RgbImage {
        RgbImage::from_fn(img.width().div_ceil(r), img.height().div_ceil(r), |x, y| {
            let mut s = [0u32; 3];
            let mut n = 0;
            for yy in y * r..((y + 1) * r).min(img.height()) {
                for xx in x * r..((x + 1) * r).min(img.width()) {
                    let p = img.get_pixel(xx, yy);
                    for c in 0..3 {
                        s[c] += u32::from(p[c]);
                    }
                    n += 1;
                }
            }
            image::Rgb(s.map(|v| (v / n) as u8))
        })
    }

    fn mean_diff(a: &RgbImage, b: &RgbImage) -> f64 {
        assert_eq!(a.dimensions(), b.dimensions());
        let d: u64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| u64::from(x.abs_diff(*y)))
            .sum();
        d as f64 / a.as_raw().len() as f64
    }

    #[test]
    fn reduced_decodes_are_the_box_means_of_the_full_decode() {
        // An odd size: partial MCUs at the right and bottom edges.
        let img = photo(203, 141);
        let bytes = jpeg(&img);
        let full = image::load_from_memory(&bytes).unwrap().to_rgb8();
        for r in [2, 4, 8] {
            let small = decode_reduced(&bytes, r).expect("baseline JPEG");
            assert_eq!(small.dimensions(), (203u32.div_ceil(r), 141u32.div_ceil(r)));
            // Full-resolution chroma is upsampled by the full decoder with interpolation,
            // here by repetition: a small difference remains.
            let d = mean_diff(&small, &box_mean(&full, r));
            assert!(d < 3.0, "1/{r}: mean difference {d}");
        }
    }

    #[test]
    fn the_centre_window_is_the_finer_box_means_of_the_same_blocks() {
        let img = photo(640, 480);
        let bytes = jpeg(&img);
        let full = image::load_from_memory(&bytes).unwrap().to_rgb8();
        let (small, centre) = decode_reduced_with_centre(&bytes, 4, 2, 128).expect("baseline");
        // The picture itself is the plain reduced decode.
        assert_eq!(small, decode_reduced(&bytes, 4).unwrap());
        // The centre: 256 × 256 full-size pixels around (320, 240), at 1/2.
        let half = box_mean(&full, 2);
        let grey = |p: &image::Rgb<u8>| {
            0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
        };
        let mut diff = 0.0;
        for y in 0..128 {
            for x in 0..128 {
                let want = grey(half.get_pixel(96 + x, 56 + y));
                diff += (want - f32::from(centre.get_pixel(x, y)[0])).abs();
            }
        }
        let diff = diff / (128.0 * 128.0);
        assert!(diff < 3.0, "mean difference {diff}");
        // At full size the window is the inverse DCT: the full decoder's luma, pixel for
        // pixel (which went through its chroma upsampling and colour conversion and back,
        // so it differs a little), and one pixel off it is far from it.
        let (_, exact) = decode_reduced_with_centre(&bytes, 4, 1, 128).expect("baseline");
        let luma = image::load_from_memory(&bytes).unwrap().to_luma8();
        let diff_at = |dx: u32, dy: u32| {
            let mut diff = 0u32;
            for y in 0..128 {
                for x in 0..128 {
                    let full = luma.get_pixel(255 + dx + x, 175 + dy + y)[0];
                    diff += u32::from(full.abs_diff(exact.get_pixel(x, y)[0]));
                }
            }
            f64::from(diff) / (128.0 * 128.0)
        };
        let aligned = diff_at(1, 1);
        assert!(aligned < 3.0, "mean difference {aligned}");
        for (dx, dy) in [(0, 1), (2, 1), (1, 0), (1, 2)] {
            let off = diff_at(dx, dy);
            assert!(
                off > 3.0 * aligned,
                "({dx}, {dy}) off: {off}, aligned {aligned}"
            );
        }
        // Finer than the rest only, and inside the picture only.
        assert!(decode_reduced_with_centre(&bytes, 4, 4, 128).is_none());
        assert!(decode_reduced_with_centre(&bytes, 4, 2, 1024).is_none());
    }

    fn encoded(
        img: &RgbImage,
        setup: impl FnOnce(&mut jpeg_encoder::Encoder<&mut Vec<u8>>),
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = jpeg_encoder::Encoder::new(&mut out, 90);
        setup(&mut e);
        e.encode(
            img.as_raw(),
            img.width() as u16,
            img.height() as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
        out
    }

    #[test]
    fn every_camera_sampling_restart_markers_and_greyscale_decode() {
        use jpeg_encoder::SamplingFactor as S;
        let img = photo(203, 141);
        for sampling in [S::F_1_1, S::F_2_1, S::F_1_2, S::F_2_2] {
            for restart in [0, 1, 7] {
                let bytes = encoded(&img, |e| {
                    e.set_sampling_factor(sampling);
                    e.set_restart_interval(restart);
                });
                let full = image::load_from_memory(&bytes).unwrap().to_rgb8();
                for r in [2, 4, 8] {
                    let small = decode_reduced(&bytes, r)
                        .unwrap_or_else(|| panic!("{sampling:?} restart {restart} 1/{r}"));
                    let d = mean_diff(&small, &box_mean(&full, r));
                    assert!(d < 1.5, "{sampling:?} restart {restart} 1/{r}: {d}");
                }
            }
        }
        let grey = DynamicImage::ImageRgb8(img.clone()).to_luma8();
        let mut bytes = Vec::new();
        DynamicImage::ImageLuma8(grey)
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Jpeg)
            .unwrap();
        let small = decode_reduced(&bytes, 4).unwrap();
        let full = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert!(mean_diff(&small, &box_mean(&full, 4)) < 1.5);
        assert!(small.pixels().all(|p| p[0] == p[1] && p[1] == p[2]));
    }

    #[test]
    fn a_damaged_restart_marker_separate_scans_or_progressive_are_left_to_the_other_decoder() {
        let img = photo(160, 96);
        let bytes = encoded(&img, |e| e.set_restart_interval(2));
        assert!(decode_reduced(&bytes, 4).is_some());
        let first_rst = bytes
            .windows(2)
            .position(|w| w[0] == 0xFF && (0xD0..=0xD7).contains(&w[1]))
            .unwrap();
        let mut broken = bytes.clone();
        broken[first_rst + 1] = 0xC9;
        assert!(decode_reduced(&broken, 4).is_none());
        // 4:1:1 is written one component per scan.
        let separate = encoded(&img, |e| {
            e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_4_1)
        });
        assert!(image::load_from_memory(&separate).is_ok());
        assert!(decode_reduced(&separate, 4).is_none());
        let progressive = encoded(&img, |e| e.set_progressive(true));
        assert!(image::load_from_memory(&progressive).is_ok());
        assert!(decode_reduced(&progressive, 4).is_none());
    }

    #[test]
    fn what_it_does_not_take_or_cannot_read_is_none_never_a_panic() {
        let bytes = jpeg(&photo(120, 80));
        assert!(decode_reduced(&bytes, 3).is_none());
        assert!(decode_reduced(b"\x89PNG\r\n", 4).is_none());
        // Truncated anywhere: refused (the data ends early), never a panic.
        for cut in (0..bytes.len()).step_by(37) {
            assert!(decode_reduced(&bytes[..cut], 4).is_none(), "cut at {cut}");
        }
        // Flipped bytes anywhere: no panic, whatever comes out.
        let mut seed = 0x2545_F491u32;
        for _ in 0..2000 {
            let mut b = bytes.clone();
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let i = seed as usize % b.len();
                b[i] ^= (seed >> 24) as u8 | 1;
            }
            let _ = decode_reduced(&b, 4);
        }
    }
}
