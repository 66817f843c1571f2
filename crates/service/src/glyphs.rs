//! Signed-distance-field glyphs for map labels, made from installed fonts.
//!
//! MapLibre GL JS draws label text from *glyph PBFs*: for each font stack and each block of
//! 256 code points (`0-255`, `256-511`, …, `65280-65535`) one protocol-buffer message
//!
//! ```text
//! message glyphs    { repeated fontstack stacks = 1; }
//! message fontstack { required string name = 1; required string range = 2; repeated glyph glyphs = 3; }
//! message glyph     { required uint32 id = 1; optional bytes bitmap = 2;
//!                     required uint32 width = 3; required uint32 height = 4;
//!                     required sint32 left = 5; required sint32 top = 6; required uint32 advance = 7; }
//! ```
//!
//! This module makes those messages itself, in pure Rust, so the map works with no internet:
//! fonts are read with `ttf-parser` (`.ttf`, `.otf` and `.ttc` collections), outlines are
//! flattened to polylines and the distance field is computed exactly from the line segments.
//!
//! # Conventions (those of Mapbox's `node-fontnik` / `sdf-glyph-foundry`, MapLibre's own)
//!
//! - Font size [`FONT_SIZE`] = 24 px (one em is 24 px; FreeType's `FT_Set_Char_Size(24 pt)` at
//!   72 dpi), outlines unhinted, coordinates rounded to 1/64 px as FreeType's 26.6 format.
//! - `left`, `top`, `width`, `height`: the outline's bounding box rounded to whole pixels;
//!   `top` is measured from the baseline *minus the face's ascender* at 24 px (FreeType's
//!   grid-fitted ascender, ⌈hhea.ascender × 24 / unitsPerEm⌉), as fontnik writes it and as
//!   MapLibre's shaping expects (its fixed −17 px baseline shift assumes it).
//! - `advance`: the `hmtx` advance scaled to 24 px in 26.6 fixed point and truncated to whole
//!   pixels (FreeType's `horiAdvance / 64`).
//! - `bitmap`: `(width + 2·BUFFER) × (height + 2·BUFFER)` bytes, one per pixel, rows from the
//!   top, with [`BUFFER`] = 3 px of margin. Each pixel holds the signed distance `d` (in
//!   pixels, negative inside) from its centre to the outline:
//!   `255 − clamp(d × 256 / RADIUS + CUTOFF × 256, 0, 255)` with [`RADIUS`] = 8 and
//!   [`CUTOFF`] = 0.25, truncated to an integer — so the outline is at 191 (MapLibre's shader
//!   draws the edge at 0.75 = 192/256), 2 px inside or more is 255, 6 px outside or more is 0.
//!   Inside is decided with the non-zero winding rule (fontnik casts a ray with the even-odd
//!   rule; the two agree for fonts without overlapping contours, such as Noto Sans CJK).
//! - Glyphs without an outline (space) have no bitmap, `width = height = left = 0`,
//!   `top = −ascender` (as fontnik) and their advance. Code points the font does not map are
//!   left out; a block with none answers an empty `fontstack`.
//! - A stack of several fonts takes each code point from the first font that maps it, as
//!   MapLibre's servers combine stacks.
//!
//! # Fonts
//!
//! [`Fonts::scan`] looks for faces under [`DEFAULT_FONT_DIRS`] (and any other folders given).
//! A face is named by its family and style (the typographic names, name IDs 16/17, when
//! present, else IDs 1/2), e.g. `Noto Sans CJK SC Regular`, as fontnik names them; its full
//! name (ID 4) and PostScript name (ID 6) are accepted too. The Chinese labels of minqing use
//! Noto Sans CJK (Google and Adobe, SIL Open Font License 1.1), installed from Debian's
//! `fonts-noto-cjk` package by `scripts/install-deps.sh`
//! (`/usr/share/fonts/opentype/noto/NotoSansCJK-{Regular,Bold}.ttc`); nothing is bundled.
//!
//! [`installed`] holds the process's fonts (those folders and [`FONT_DIRS_ENV`]), scanned
//! once by whoever asks first — the first glyph request, on the blocking pool — or ahead of
//! it by [`warm_up`], which a server may start at start-up under its shutdown signal.
//! Building a router starts nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use minqing_tiles::pbf::{write_bytes_field, write_varint_field, zigzag32};
use minqing_tiles::sdf::render_sdf;
use parking_lot::Mutex;
use ttf_parser::{Face, GlyphId, OutlineBuilder, name_id};

/// Em size of the glyphs, in pixels.
pub const FONT_SIZE: u32 = 24;
pub use minqing_tiles::sdf::{BUFFER, CUTOFF, RADIUS};
/// Code points per glyph PBF.
pub const RANGE_SIZE: u32 = 256;
/// Where fonts are looked for by default.
pub const DEFAULT_FONT_DIRS: &[&str] = &["/usr/share/fonts"];
/// Environment variable listing more font folders (separated by `:`).
pub const FONT_DIRS_ENV: &str = "MINQING_FONT_DIRS";

/// The installed fonts, once scanned.
static INSTALLED: OnceLock<Fonts> = OnceLock::new();

/// The installed fonts: [`DEFAULT_FONT_DIRS`] and the folders of [`FONT_DIRS_ENV`], scanned
/// the first time they are asked for (the callers at that moment wait for that one scan).
/// Blocking (it reads font files): call it off the async threads.
pub fn installed() -> &'static Fonts {
    INSTALLED.get_or_init(|| {
        let mut dirs: Vec<PathBuf> = DEFAULT_FONT_DIRS.iter().map(PathBuf::from).collect();
        if let Ok(more) = std::env::var(FONT_DIRS_ENV) {
            dirs.extend(more.split(':').filter(|d| !d.is_empty()).map(PathBuf::from));
        }
        let t = std::time::Instant::now();
        let fonts = Fonts::scan(&dirs);
        tracing::info!(
            faces = fonts.names().len(),
            ms = u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX),
            "fonts scanned for map glyphs"
        );
        fonts
    })
}

/// Scans the installed fonts ahead of the first glyph request, on the blocking pool; returns
/// when they are scanned or when `shutdown` resolves, whichever comes first (a scan under
/// way then ends on its own: it is bounded by the fonts installed, and touches nothing else).
pub async fn warm_up(shutdown: impl std::future::Future<Output = ()>) {
    if INSTALLED.get().is_some() {
        return;
    }
    let scan = tokio::task::spawn_blocking(|| {
        installed();
    });
    tokio::select! {
        r = scan => {
            if let Err(e) = r {
                tracing::error!(error = %e, "font scan failed");
            }
        }
        () = shutdown => {}
    }
}

/// Largest deviation (px) of a flattened curve from the curve.
const FLATTEN_TOLERANCE: f32 = 0.05;

/// A failure to read a font.
#[derive(Debug, thiserror::Error)]
pub enum GlyphError {
    /// The font file could not be read.
    #[error("cannot read font {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The face could not be parsed.
    #[error("cannot parse face {index} of font {path}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The face in the file.
        index: u32,
    },
}

// ---------------------------------------------------------------------------------------
// Ranges.

/// The first code point of a range written `N-M` (N a multiple of 256, M = N + 255 ≤ 65535,
/// plain decimal), or `None` when it is not one.
#[must_use]
pub fn parse_range(s: &str) -> Option<u32> {
    let (a, b) = s.split_once('-')?;
    let digits = |t: &str| !t.is_empty() && t.len() <= 5 && t.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return None;
    }
    let start: u32 = a.parse().ok()?;
    let end: u32 = b.parse().ok()?;
    let canonical = format!("{start}-{end}") == s;
    (canonical
        && start.is_multiple_of(RANGE_SIZE)
        && end == start + RANGE_SIZE - 1
        && end <= 0xFFFF)
        .then_some(start)
}

// ---------------------------------------------------------------------------------------
// Glyphs.

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
fn mul_fix(a: i64, b: i64) -> i64 {
    let sign = a.signum() * b.signum();
    sign * ((a.abs() * b.abs() + 0x8000) >> 16)
}

/// FreeType's `FT_DivFix`: `a × 65536 / b`, rounded.
fn div_fix(a: i64, b: i64) -> i64 {
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

// ---------------------------------------------------------------------------------------
// Protocol buffers (written with the tiles crate's writer, as the tiles are).

/// Encodes one glyph message.
fn encode_glyph(g: &Glyph) -> Vec<u8> {
    let mut m = Vec::with_capacity(g.bitmap.as_ref().map_or(0, Vec::len) + 24);
    write_varint_field(&mut m, 1, u64::from(g.id));
    if let Some(bitmap) = &g.bitmap {
        write_bytes_field(&mut m, 2, bitmap);
    }
    write_varint_field(&mut m, 3, u64::from(g.width));
    write_varint_field(&mut m, 4, u64::from(g.height));
    write_varint_field(&mut m, 5, u64::from(zigzag32(g.left)));
    write_varint_field(&mut m, 6, u64::from(zigzag32(g.top)));
    write_varint_field(&mut m, 7, u64::from(g.advance));
    m
}

/// Encodes a glyph PBF: one `fontstack` named `name` for the range starting at `start`.
#[must_use]
pub fn encode(name: &str, start: u32, glyphs: &[Glyph]) -> Vec<u8> {
    let mut stack = Vec::new();
    write_bytes_field(&mut stack, 1, name.as_bytes());
    let range = format!("{start}-{}", start + RANGE_SIZE - 1);
    write_bytes_field(&mut stack, 2, range.as_bytes());
    for g in glyphs {
        write_bytes_field(&mut stack, 3, &encode_glyph(g));
    }
    let mut out = Vec::with_capacity(stack.len() + 8);
    write_bytes_field(&mut out, 1, &stack);
    out
}

// ---------------------------------------------------------------------------------------
// Fonts.

/// One face of an installed font file.
#[derive(Debug, Clone)]
pub struct FontFace {
    /// Family and style, e.g. `Noto Sans CJK SC Regular`.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// The face's index in the file (a `.ttc` holds several).
    pub index: u32,
}

/// The faces found, by name, with their files read on first use.
#[derive(Debug, Default)]
pub struct Fonts {
    faces: Vec<FontFace>,
    /// Lower-cased names and aliases → index in `faces`.
    by_name: HashMap<String, usize>,
    /// Lower-cased aliases (full and PostScript names), used when no face has the name.
    aliases: HashMap<String, usize>,
    files: Mutex<HashMap<PathBuf, Arc<Vec<u8>>>>,
}

/// A name of `face` (English US on Windows preferred, else any Unicode record).
fn face_name(face: &Face, id: u16) -> Option<String> {
    let mut fallback = None;
    for n in face.names() {
        if n.name_id != id {
            continue;
        }
        if let Some(s) = n.to_string().filter(|s| !s.trim().is_empty()) {
            if n.language_id == 0x409 {
                return Some(s.trim().to_owned());
            }
            fallback.get_or_insert_with(|| s.trim().to_owned());
        }
    }
    fallback
}

impl Fonts {
    /// Scans `dirs` (recursively) for `.ttf`, `.otf` and `.ttc` files; unreadable files and
    /// faces are skipped with a log line. When two faces have one name the first found (in
    /// the order of `dirs`, then of paths) keeps it.
    #[must_use]
    pub fn scan(dirs: &[PathBuf]) -> Fonts {
        let mut fonts = Fonts::default();
        for dir in dirs {
            let mut files = Vec::new();
            collect_font_files(dir, &mut files, 0);
            files.sort();
            for f in files {
                if let Err(e) = fonts.add_file(&f) {
                    tracing::debug!(error = %e, "font skipped");
                }
            }
        }
        fonts
    }

    /// Adds the faces of one font file; returns how many were added.
    pub fn add_file(&mut self, path: &Path) -> Result<usize, GlyphError> {
        let data = std::fs::read(path).map_err(|source| GlyphError::Io {
            path: path.to_owned(),
            source,
        })?;
        let count = ttf_parser::fonts_in_collection(&data).unwrap_or(1);
        let mut added = 0;
        for index in 0..count {
            let Ok(face) = Face::parse(&data, index) else {
                tracing::debug!(path = %path.display(), index, "font face not parsed");
                continue;
            };
            let family = face_name(&face, name_id::TYPOGRAPHIC_FAMILY)
                .or_else(|| face_name(&face, name_id::FAMILY));
            let Some(family) = family else { continue };
            let style = face_name(&face, name_id::TYPOGRAPHIC_SUBFAMILY)
                .or_else(|| face_name(&face, name_id::SUBFAMILY))
                .unwrap_or_default();
            let name = if style.is_empty() {
                family
            } else {
                format!("{family} {style}")
            };
            let key = name.to_lowercase();
            if self.by_name.contains_key(&key) {
                continue;
            }
            let i = self.faces.len();
            self.by_name.insert(key, i);
            for id in [name_id::FULL_NAME, name_id::POST_SCRIPT_NAME] {
                if let Some(alias) = face_name(&face, id) {
                    self.aliases.entry(alias.to_lowercase()).or_insert(i);
                }
            }
            self.faces.push(FontFace {
                name,
                path: path.to_owned(),
                index,
            });
            added += 1;
        }
        Ok(added)
    }

    /// The faces' names, sorted.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.faces.iter().map(|f| f.name.as_str()).collect();
        v.sort_unstable();
        v
    }

    /// The face named `name` (case-insensitive; full and PostScript names too).
    #[must_use]
    pub fn find(&self, name: &str) -> Option<usize> {
        let key = name.trim().to_lowercase();
        self.by_name
            .get(&key)
            .or_else(|| self.aliases.get(&key))
            .copied()
    }

    /// The faces of a comma-separated font stack that exist, in order, without repeats.
    #[must_use]
    pub fn resolve(&self, stack: &str) -> Vec<usize> {
        let mut out = Vec::new();
        for i in stack.split(',').filter_map(|n| self.find(n)) {
            if !out.contains(&i) {
                out.push(i);
            }
        }
        out
    }

    /// The face at `i`.
    #[must_use]
    pub fn face(&self, i: usize) -> Option<&FontFace> {
        self.faces.get(i)
    }

    fn data(&self, path: &Path) -> Result<Arc<Vec<u8>>, GlyphError> {
        if let Some(d) = self.files.lock().get(path) {
            return Ok(d.clone());
        }
        let d = Arc::new(std::fs::read(path).map_err(|source| GlyphError::Io {
            path: path.to_owned(),
            source,
        })?);
        self.files.lock().insert(path.to_owned(), d.clone());
        Ok(d)
    }

    /// The glyphs of `stack` (face indices, first first) for the 256 code points from
    /// `start`, each from the first face that maps it.
    pub fn glyphs(&self, stack: &[usize], start: u32) -> Result<Vec<Glyph>, GlyphError> {
        let faces: Vec<&FontFace> = stack.iter().filter_map(|&i| self.faces.get(i)).collect();
        let data = faces
            .iter()
            .map(|f| self.data(&f.path))
            .collect::<Result<Vec<_>, _>>()?;
        let mut sized = Vec::with_capacity(faces.len());
        for (f, d) in faces.iter().zip(&data) {
            let face = Face::parse(d, f.index).map_err(|_| GlyphError::Parse {
                path: f.path.clone(),
                index: f.index,
            })?;
            sized.push(SizedFace::new(face));
        }
        let mut glyphs = Vec::new();
        for cp in start..start.saturating_add(RANGE_SIZE).min(0x1_0000) {
            if let Some(g) = sized.iter().find(|s| s.has(cp)).and_then(|s| s.glyph(cp)) {
                glyphs.push(g);
            }
        }
        Ok(glyphs)
    }

    /// The encoded glyph PBF of `stack` for the range starting at `start`; the fontstack is
    /// named by the faces' names joined with commas.
    pub fn range_pbf(&self, stack: &[usize], start: u32) -> Result<Vec<u8>, GlyphError> {
        let glyphs = self.glyphs(stack, start)?;
        let name = stack
            .iter()
            .filter_map(|&i| self.faces.get(i))
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(",");
        Ok(encode(&name, start, &glyphs))
    }
}

/// Font files under `dir`, to a depth of 8 folders.
fn collect_font_files(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 8 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_font_files(&p, out, depth + 1);
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| ["ttf", "otf", "ttc"].contains(&x.to_ascii_lowercase().as_str()))
        {
            out.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const NOTO_REGULAR: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

    #[tokio::test]
    async fn warm_up_scans_once_and_stops_at_shutdown() {
        // Shut down before it starts: it returns without waiting for the scan.
        warm_up(std::future::ready(())).await;
        // Otherwise it returns once the fonts are scanned; then at once.
        warm_up(std::future::pending()).await;
        assert!(INSTALLED.get().is_some());
        warm_up(std::future::pending()).await;
        assert!(std::ptr::eq(installed(), INSTALLED.get().unwrap()));
    }

    fn noto() -> Fonts {
        let mut f = Fonts::default();
        f.add_file(Path::new(NOTO_REGULAR))
            .expect("fonts-noto-cjk is installed (scripts/install-deps.sh)");
        f
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("0-255"), Some(0));
        assert_eq!(parse_range("19968-20223"), Some(19968));
        assert_eq!(parse_range("65280-65535"), Some(65280));
        for bad in [
            "",
            "0",
            "0-256",
            "1-256",
            "256-255",
            "65536-65791",
            "-0-255",
            "+0-255",
            "00-255",
            "0-0255",
            "0 -255",
            "a-b",
            "0-255-511",
            "4294967040-4294967295",
        ] {
            assert_eq!(parse_range(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fixed_point_like_freetype() {
        // 24 px at 1000 units per em: x_scale = 1536 / 1000 in 16.16.
        assert_eq!(div_fix(1536, 1000), 100_663);
        assert_eq!(mul_fix(1000, 100_663), 1536);
        assert_eq!(mul_fix(-1000, 100_663), -1536);
    }

    /// Hand-computed bytes of a small message.
    #[test]
    fn protobuf_bytes() {
        let g = Glyph {
            id: 65,
            bitmap: Some(vec![1, 2]),
            width: 1,
            height: 2,
            left: -1,
            top: -20,
            advance: 300,
        };
        let m = encode("F", 0, &[g]);
        let glyph = [
            0x08, 65, // id
            0x12, 2, 1, 2, // bitmap
            0x18, 1, // width
            0x20, 2, // height
            0x28, 1, // left −1 → zigzag 1
            0x30, 39, // top −20 → zigzag 39
            0x38, 0xAC, 0x02, // advance 300
        ];
        let mut stack = vec![0x0A, 1, b'F', 0x12, 5];
        stack.extend_from_slice(b"0-255");
        stack.push(0x1A);
        stack.push(glyph.len() as u8);
        stack.extend_from_slice(&glyph);
        let mut want = vec![0x0A, stack.len() as u8];
        want.extend_from_slice(&stack);
        assert_eq!(m, want);
    }

    /// A 10 × 10 px square: the box, the edge value, inside and outside.
    #[test]
    fn sdf_of_a_square() {
        let ring = vec![
            [2.0, 1.0],
            [12.0, 1.0],
            [12.0, 11.0],
            [2.0, 11.0],
            [2.0, 1.0],
        ];
        let sdf = render_sdf(&[ring]).unwrap();
        assert_eq!((sdf.left, sdf.top, sdf.width, sdf.height), (2, 11, 10, 10));
        let w = 16;
        assert_eq!(sdf.bitmap.len(), w * w);
        let at = |x: usize, row: usize| sdf.bitmap[row * w + x];
        // Row 3 from the top is the square's top row of pixels: its centres lie 0.5 px
        // inside the edge: 64 − 16 = 48 → 207. Row 2 is 0.5 px outside: 80 → 175.
        assert_eq!(at(8, 3), 207);
        assert_eq!(at(8, 2), 175);
        assert_eq!(at(8, 8), 255, "deep inside");
        // The corner pixel is √12.5 px from the square's corner: 64 + 113.1 → 78.
        assert_eq!(at(0, 0), 78);
        // 2.5 px outside the left edge: 80 + 64 = 144 → 111.
        assert_eq!(at(0, 8), 111);
        // The field is symmetric about the square's centre.
        for row in 0..w {
            for x in 0..w {
                assert_eq!(at(x, row), at(w - 1 - x, row));
                assert_eq!(at(x, row), at(x, w - 1 - row));
            }
        }
    }

    /// Nested contours in opposite directions make a hole (non-zero rule).
    #[test]
    fn sdf_hole() {
        let outer = vec![
            [0.0, 0.0],
            [20.0, 0.0],
            [20.0, 20.0],
            [0.0, 20.0],
            [0.0, 0.0],
        ];
        let inner = vec![
            [6.0, 6.0],
            [6.0, 14.0],
            [14.0, 14.0],
            [14.0, 6.0],
            [6.0, 6.0],
        ];
        let sdf = render_sdf(&[outer, inner]).unwrap();
        let w = 26;
        // The pixel at the hole's centre is 3.5 px from its nearest side: 64 + 112 → 79.
        assert_eq!(sdf.bitmap[13 * w + 13], 79);
        assert_eq!(sdf.bitmap[(3 + 3) * w + 3 + 3], 255, "in the ring");
    }

    #[test]
    fn noto_faces_and_glyphs() {
        let fonts = noto();
        let names = fonts.names();
        assert!(names.contains(&"Noto Sans CJK SC Regular"), "{names:?}");
        let sc = fonts.find("noto sans cjk sc regular").unwrap();
        let data = std::fs::read(NOTO_REGULAR).unwrap();
        let face = Face::parse(&data, fonts.face(sc).unwrap().index).unwrap();
        let sized = SizedFace::new(face);
        // hhea ascender 1160 / 1000 × 24 = 27.84 → 28.
        assert_eq!(sized.ascender(), 28);

        let zhong = sized.glyph(0x4E2D).unwrap();
        assert_eq!(zhong.advance, 24);
        let (w, h) = (zhong.width as usize + 6, zhong.height as usize + 6);
        let bitmap = zhong.bitmap.as_ref().unwrap();
        assert_eq!(bitmap.len(), w * h);
        assert!((16..=24).contains(&zhong.width) && (18..=24).contains(&zhong.height));
        // 中's vertical stroke runs through the middle of the box; the corners are outside.
        assert!(bitmap[(h / 2) * w + w / 2] > 191);
        assert!(bitmap[0] < 191 && bitmap[w * h - 1] < 191);

        let space = sized.glyph(0x20).unwrap();
        assert_eq!((space.bitmap, space.width, space.height), (None, 0, 0));
        assert!(space.advance > 0);
        assert!(sized.glyph(0xD800).is_none(), "a surrogate is no character");
    }

    #[test]
    fn stacks_fall_back_per_glyph() {
        let mut fonts = noto();
        let dejavu = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        if fonts.add_file(dejavu).is_err() {
            return; // DejaVu is not installed here; the fallback is tested over HTTP too.
        }
        let stack = fonts.resolve("DejaVu Sans Book, Nope, Noto Sans CJK SC Regular");
        assert_eq!(stack.len(), 2);
        let glyphs = fonts.glyphs(&stack, 0x4E00).unwrap();
        assert!(glyphs.iter().any(|g| g.id == 0x4E2D), "中 from Noto");
        let latin = fonts.glyphs(&stack, 0).unwrap();
        let a = latin.iter().find(|g| g.id == u32::from('A')).unwrap();
        // DejaVu Sans 'A': 1401 / 2048 × 24 = 16.4 → 16; Noto's would be 15.
        assert_eq!(a.advance, 16);
        assert!(fonts.resolve("Nope").is_empty());
    }

    /// Generation time of a few ranges (release: `cargo test --release --lib
    /// glyphs::tests::timing -- --ignored --nocapture`); with `MINQING_GLYPH_DUMP=dir` the
    /// PBFs are written there, to look at.
    #[test]
    #[ignore = "timing; run by hand in release"]
    fn timing() {
        let t = std::time::Instant::now();
        let all = Fonts::scan(&[PathBuf::from(DEFAULT_FONT_DIRS[0])]);
        eprintln!("scan: {} faces in {:?}", all.names().len(), t.elapsed());
        let fonts = noto();
        let stack = fonts.resolve("Noto Sans CJK SC Regular");
        for start in [0, 0x4E00, 0x6C00, 0x9000] {
            let t = std::time::Instant::now();
            let pbf = fonts.range_pbf(&stack, start).unwrap();
            if let Some(dir) = std::env::var_os("MINQING_GLYPH_DUMP") {
                std::fs::write(Path::new(&dir).join(format!("{start}.pbf")), &pbf).unwrap();
            }
            eprintln!(
                "range {start}-{}: {} bytes in {:?}",
                start + 255,
                pbf.len(),
                t.elapsed()
            );
        }
    }
}
