//! One face at the glyphs' size: FreeType's fixed-point scaling, outlines flattened to
//! polylines, and each glyph's box, advance and distance field.

use minqing_tiles::sdf::render_sdf;
use ttf_parser::{Face, GlyphId, OutlineBuilder};

use super::FONT_SIZE;

/// Largest deviation (px) of a flattened curve from the curve.
const FLATTEN_TOLERANCE: f32 = 0.05;

/// One glyph of a glyph PBF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glyph {
    /// The code point.
    pub id: u32,
    /// The distance field, `(width + 6) × (height + 6)` bytes, rows from the top; `None`
    /// for a glyph without an outline.
    pub bitmap: Option<Vec<u8>>,
    /// Width of the outline's box, px.
    pub width: u32,
    /// Height of the outline's box, px.
    pub height: u32,
    /// From the pen position to the box's left edge, px.
    pub left: i32,
    /// From the ascender line to the box's top edge, px (negative: below it).
    pub top: i32,
    /// Horizontal advance, px.
    pub advance: u32,
}

/// FreeType's `FT_MulFix`: `a × b / 65536`, rounded half away from zero.
pub(super) fn mul_fix(a: i64, b: i64) -> i64 {
    let sign = a.signum() * b.signum();
    sign * ((a.abs() * b.abs() + 0x8000) >> 16)
}

/// FreeType's `FT_DivFix`: `a × 65536 / b`, rounded.
pub(super) fn div_fix(a: i64, b: i64) -> i64 {
    if b == 0 {
        return 0;
    }
    let sign = a.signum() * b.signum();
    sign * (((a.abs() << 16) + b.abs() / 2) / b.abs())
}

/// A face at [`FONT_SIZE`]: its scale and grid-fitted ascender.
pub struct SizedFace<'a> {
    face: Face<'a>,
    /// Font units → 26.6 pixels, in 16.16 fixed point (FreeType's `x_scale`).
    scale: i64,
    /// Ascender in whole pixels.
    ascender: i32,
}

impl<'a> SizedFace<'a> {
    /// Sizes `face` at [`FONT_SIZE`].
    #[must_use]
    pub fn new(face: Face<'a>) -> SizedFace<'a> {
        let upem = i64::from(face.units_per_em().max(1));
        let scale = div_fix(i64::from(FONT_SIZE) * 64, upem);
        // FreeType's face->ascender: hhea, else OS/2 typographic, else OS/2 Windows.
        let hhea = face.tables().hhea;
        let mut asc = i64::from(hhea.ascender);
        if hhea.ascender == 0
            && hhea.descender == 0
            && let Some(os2) = face.tables().os2
        {
            asc = i64::from(os2.typographic_ascender());
            if asc == 0 {
                asc = i64::from(os2.windows_ascender());
            }
        }
        // FT_PIX_CEIL of the scaled ascender (GRID_FIT_METRICS).
        let ascender = (mul_fix(asc, scale) + 63).div_euclid(64);
        SizedFace {
            face,
            scale,
            ascender: i32::try_from(ascender).unwrap_or(0),
        }
    }

    /// The ascender at [`FONT_SIZE`], whole pixels.
    #[must_use]
    pub fn ascender(&self) -> i32 {
        self.ascender
    }

    /// Whether the face maps `cp`.
    #[must_use]
    pub fn has(&self, cp: u32) -> bool {
        self.glyph_id(cp).is_some()
    }

    fn glyph_id(&self, cp: u32) -> Option<GlyphId> {
        let ch = char::from_u32(cp)?;
        self.face.glyph_index(ch).filter(|g| g.0 != 0)
    }

    /// The glyph of `cp`, or `None` when the face does not map it.
    #[must_use]
    pub fn glyph(&self, cp: u32) -> Option<Glyph> {
        let gid = self.glyph_id(cp)?;
        let adv = i64::from(self.face.glyph_hor_advance(gid).unwrap_or(0));
        let advance = u32::try_from(mul_fix(adv, self.scale) / 64).unwrap_or(0);
        let mut outline = Flattener::new(self.scale as f32 / 65536.0);
        // A glyph without an outline (space) leaves `outline` empty.
        let _ = self.face.outline_glyph(gid, &mut outline);
        let rings = outline.finish();
        let glyph = match render_sdf(&rings) {
            Some(sdf) => Glyph {
                id: cp,
                bitmap: Some(sdf.bitmap),
                width: sdf.width,
                height: sdf.height,
                left: sdf.left,
                top: sdf.top - self.ascender,
                advance,
            },
            None => Glyph {
                id: cp,
                bitmap: None,
                width: 0,
                height: 0,
                left: 0,
                top: -self.ascender,
                advance,
            },
        };
        Some(glyph)
    }
}

/// Collects an outline as closed polylines in pixels (y up), curves flattened.
struct Flattener {
    /// Font units → 1/64 px.
    k: f32,
    rings: Vec<Vec<[f32; 2]>>,
    ring: Vec<[f32; 2]>,
}

impl Flattener {
    fn new(k: f32) -> Flattener {
        Flattener {
            k,
            rings: Vec::new(),
            ring: Vec::new(),
        }
    }

    /// Font units to pixels, rounded to 1/64 px like FreeType's scaled outlines.
    fn px(&self, x: f32, y: f32) -> [f32; 2] {
        [(x * self.k).round() / 64.0, (y * self.k).round() / 64.0]
    }

    fn last(&self) -> [f32; 2] {
        self.ring.last().copied().unwrap_or([0.0, 0.0])
    }

    fn end_ring(&mut self) {
        if self.ring.is_empty() {
            return;
        }
        let mut ring = std::mem::take(&mut self.ring);
        if ring.first() != ring.last()
            && let Some(&first) = ring.first()
        {
            ring.push(first);
        }
        self.rings.push(ring);
    }

    fn finish(mut self) -> Vec<Vec<[f32; 2]>> {
        self.end_ring();
        self.rings
    }
}

/// Segments so that a curve of second-difference magnitude `dd` (px) deviates by at most
/// [`FLATTEN_TOLERANCE`]: the chord error of a parameter step `h` is ≤ |B″| h² / 8.
fn steps(bound: f32) -> usize {
    let n = (bound / (8.0 * FLATTEN_TOLERANCE)).sqrt().ceil();
    if n.is_finite() {
        (n as usize).clamp(1, 100)
    } else {
        1
    }
}

fn hypot(a: [f32; 2]) -> f32 {
    (a[0] * a[0] + a[1] * a[1]).sqrt()
}

impl OutlineBuilder for Flattener {
    fn move_to(&mut self, x: f32, y: f32) {
        self.end_ring();
        let p = self.px(x, y);
        self.ring.push(p);
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let p = self.px(x, y);
        self.ring.push(p);
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let p0 = self.last();
        let p1 = self.px(x1, y1);
        let p2 = self.px(x, y);
        // |B″| = 2 |p0 − 2 p1 + p2|.
        let dd = hypot([p0[0] - 2.0 * p1[0] + p2[0], p0[1] - 2.0 * p1[1] + p2[1]]);
        let n = steps(2.0 * dd);
        for i in 1..n {
            let t = i as f32 / n as f32;
            let u = 1.0 - t;
            let (a, b, c) = (u * u, 2.0 * u * t, t * t);
            self.ring.push([
                a * p0[0] + b * p1[0] + c * p2[0],
                a * p0[1] + b * p1[1] + c * p2[1],
            ]);
        }
        self.ring.push(p2);
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let p0 = self.last();
        let p1 = self.px(x1, y1);
        let p2 = self.px(x2, y2);
        let p3 = self.px(x, y);
        // |B″| ≤ 6 max(|p0 − 2 p1 + p2|, |p1 − 2 p2 + p3|).
        let d1 = hypot([p0[0] - 2.0 * p1[0] + p2[0], p0[1] - 2.0 * p1[1] + p2[1]]);
        let d2 = hypot([p1[0] - 2.0 * p2[0] + p3[0], p1[1] - 2.0 * p2[1] + p3[1]]);
        let n = steps(6.0 * d1.max(d2));
        for i in 1..n {
            let t = i as f32 / n as f32;
            let u = 1.0 - t;
            let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
            self.ring.push([
                a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
            ]);
        }
        self.ring.push(p3);
    }

    fn close(&mut self) {
        self.end_ring();
    }
}
