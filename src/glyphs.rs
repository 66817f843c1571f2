//! Map label glyphs (being written).
