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

mod encode;
mod face;
mod fonts;

use std::path::PathBuf;
use std::sync::OnceLock;

pub use encode::encode;
pub use face::{Glyph, SizedFace};
pub use fonts::{FontFace, Fonts};

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::Path;

    use super::face::{div_fix, mul_fix};
    use super::*;
    use minqing_tiles::sdf::render_sdf;
    use ttf_parser::Face;

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
