//! The installed font files and their faces, found by name; a stack of faces answers a
//! range of glyphs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use ttf_parser::{Face, name_id};

use super::encode::encode;
use super::face::{Glyph, SizedFace};
use super::{GlyphError, RANGE_SIZE};

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
