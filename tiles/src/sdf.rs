//! Signed distance fields of glyph outlines, as MapLibre's glyph PBFs carry them.
//!
//! The conventions of Mapbox's `node-fontnik` (`sdf-glyph-foundry`): a [`BUFFER`] px margin
//! around the glyph's box, distances spanning [`RADIUS`] px over the 256 byte values, the
//! outline at `255 − CUTOFF × 256` = 191, larger values inside. Exact distances to the
//! flattened outline; inside by the non-zero winding rule. Pure arithmetic: the font is
//! read by the caller (`minqing::glyphs`), and this lives here so that it is optimised in
//! every build profile.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_possible_wrap
)]

/// Margin around each glyph's bitmap, in pixels.
pub const BUFFER: u32 = 3;
/// Distance, in pixels, that the 256 byte values span.
pub const RADIUS: f32 = 8.0;
/// Share of the byte range given to the inside of the glyph (the outline is at
/// `255 − CUTOFF × 256` = 191).
pub const CUTOFF: f32 = 0.25;
/// Beyond this distance (px) every value is clamped: 0 outside (6 px × 32 + 64 = 256),
/// 255 inside (from 2 px in), so distances need no tracking past it.
const CLAMP_DISTANCE: f32 = (1.0 - CUTOFF) * RADIUS;

/// A rendered distance field with its box.
#[derive(Debug)]
pub struct Sdf {
    /// Left edge of the box, px from the origin.
    pub left: i32,
    /// Top of the box above the baseline, px.
    pub top: i32,
    /// Box width, px (the bitmap adds the buffer on both sides).
    pub width: u32,
    /// Box height, px.
    pub height: u32,
    /// One byte a pixel, rows from the top, `(width + 2 BUFFER) × (height + 2 BUFFER)`.
    pub bitmap: Vec<u8>,
}

/// Squared distance from `p` to the segment `a`–`b`.
fn dist2_to_segment(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let l2 = dx * dx + dy * dy;
    let t = if l2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
    };
    let (ex, ey) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    ex * ex + ey * ey
}

/// The distance field of closed polylines (pixels, y up), or `None` when their rounded box
/// is empty.
pub fn render_sdf(rings: &[Vec<[f32; 2]>]) -> Option<Sdf> {
    let (mut x0, mut y0, mut x1, mut y1) = (
        f32::INFINITY,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NEG_INFINITY,
    );
    for p in rings.iter().flatten() {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    if !(x0.is_finite() && y0.is_finite() && x1.is_finite() && y1.is_finite()) {
        return None;
    }
    let (x0, y0, x1, y1) = (x0.round(), y0.round(), x1.round(), y1.round());
    if x1 <= x0 || y1 <= y0 || x1 - x0 > 4096.0 || y1 - y0 > 4096.0 {
        return None;
    }
    let (width, height) = ((x1 - x0) as usize, (y1 - y0) as usize);
    let b = BUFFER as usize;
    let (bw, bh) = (width + 2 * b, height + 2 * b);
    // Segments in bitmap coordinates: origin at the bitmap's bottom-left corner, y up, so
    // that pixel (x, row-from-bottom y) has its centre at (x + 0.5, y + 0.5).
    let (ox, oy) = (x0 - BUFFER as f32, y0 - BUFFER as f32);
    let mut segs: Vec<[[f32; 2]; 2]> = Vec::new();
    for ring in rings {
        for w in ring.windows(2) {
            segs.push([[w[0][0] - ox, w[0][1] - oy], [w[1][0] - ox, w[1][1] - oy]]);
        }
    }

    // Unsigned distances, up to CLAMP_DISTANCE: each segment updates the pixels near it.
    let r = CLAMP_DISTANCE;
    let mut d2 = vec![r * r; bw * bh];
    for [a, c] in &segs {
        let lo = |v: f32, n: usize| ((v - r - 0.5).ceil().max(0.0) as usize).min(n);
        let hi = |v: f32, n: usize| ((v + r - 0.5).floor().max(-1.0) + 1.0).min(n as f32) as usize;
        let (xa, xb) = (lo(a[0].min(c[0]), bw), hi(a[0].max(c[0]), bw));
        let (ya, yb) = (lo(a[1].min(c[1]), bh), hi(a[1].max(c[1]), bh));
        for y in ya..yb {
            let row = &mut d2[y * bw..(y + 1) * bw];
            let py = y as f32 + 0.5;
            for (x, cell) in row.iter_mut().enumerate().take(xb).skip(xa) {
                let d = dist2_to_segment([x as f32 + 0.5, py], *a, *c);
                if d < *cell {
                    *cell = d;
                }
            }
        }
    }

    // Inside: non-zero winding of a ray from each pixel centre towards +x, row by row.
    let mut bitmap = vec![0u8; bw * bh];
    let mut crossings: Vec<(f32, i32)> = Vec::new();
    for y in 0..bh {
        let py = y as f32 + 0.5;
        crossings.clear();
        for [a, c] in &segs {
            if (a[1] > py) != (c[1] > py) {
                let x = a[0] + (py - a[1]) * (c[0] - a[0]) / (c[1] - a[1]);
                crossings.push((x, if c[1] > a[1] { 1 } else { -1 }));
            }
        }
        crossings.sort_by(|p, q| p.0.total_cmp(&q.0));
        let mut winding: i32 = crossings.iter().map(|c| c.1).sum();
        let mut next = 0;
        let out_row = bh - 1 - y;
        for x in 0..bw {
            let px = x as f32 + 0.5;
            // Crossings at or left of the centre are not on the ray.
            while next < crossings.len() && crossings[next].0 <= px {
                winding -= crossings[next].1;
                next += 1;
            }
            let mut d = d2[y * bw + x].sqrt() * (256.0 / RADIUS);
            if winding != 0 {
                d = -d;
            }
            d += CUTOFF * 256.0;
            // fontnik: int n = d > 255 ? 255 : d (truncation), then n < 0 ? 0 : n.
            let n = if d > 255.0 { 255 } else { (d as i32).max(0) };
            bitmap[out_row * bw + x] = (255 - n) as u8;
        }
    }
    Some(Sdf {
        left: x0 as i32,
        top: y1 as i32,
        width: width as u32,
        height: height as u32,
        bitmap,
    })
}
