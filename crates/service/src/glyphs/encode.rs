//! Glyph PBFs, written with the tiles crate's protobuf writer, as the tiles are.

use minqing_tiles::pbf::{write_bytes_field, write_varint_field, zigzag32};

use super::RANGE_SIZE;
use super::face::Glyph;

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
