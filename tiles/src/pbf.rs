//! The few protobuf wire-format pieces MVT needs: varints, zigzag, field keys, and a reader.
//!
//! The MVT encoder writes with it and the decoder reads with it. The field writers
//! ([`write_varint_field`], [`write_bytes_field`]) and [`zigzag32`] are public, for the
//! other protobuf messages of the map (glyph ranges); the rest is crate-internal.

/// Wire type of varint fields.
pub(crate) const VARINT: u8 = 0;
/// Wire type of 64-bit fixed fields.
pub(crate) const FIXED64: u8 = 1;
/// Wire type of length-delimited fields (strings, messages, packed repeated fields).
pub(crate) const LEN: u8 = 2;
/// Wire type of 32-bit fixed fields.
pub(crate) const FIXED32: u8 = 5;

/// Appends `v` as a base-128 varint.
pub(crate) fn write_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        #[allow(clippy::cast_possible_truncation)]
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)]
    buf.push(v as u8);
}

/// Number of bytes [`write_varint`] uses for `v`.
pub(crate) fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Appends a field key (`field << 3 | wire_type`).
pub(crate) fn write_key(buf: &mut Vec<u8>, field: u32, wire: u8) {
    write_varint(buf, (u64::from(field) << 3) | u64::from(wire));
}

/// Appends a length-delimited field holding `bytes` (a string, bytes or a message).
pub fn write_bytes_field(buf: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    write_key(buf, field, LEN);
    write_varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// Appends a varint field (`uint32`, `uint64`, `bool`; a `sint32` after [`zigzag32`]).
pub fn write_varint_field(buf: &mut Vec<u8>, field: u32, v: u64) {
    write_key(buf, field, VARINT);
    write_varint(buf, v);
}

/// Zigzag-encodes a 32-bit signed integer (MVT geometry parameters, `sint32` fields).
#[must_use]
pub fn zigzag32(v: i32) -> u32 {
    #[allow(clippy::cast_sign_loss)]
    let z = ((v << 1) ^ (v >> 31)) as u32;
    z
}

/// Zigzag-encodes a 64-bit signed integer (`sint64` values).
pub(crate) fn zigzag64(v: i64) -> u64 {
    #[allow(clippy::cast_sign_loss)]
    let z = ((v << 1) ^ (v >> 63)) as u64;
    z
}

/// Inverse of [`zigzag32`].
pub(crate) fn unzigzag32(z: u32) -> i32 {
    #[allow(clippy::cast_possible_wrap)]
    let v = ((z >> 1) as i32) ^ -((z & 1) as i32);
    v
}

/// Inverse of [`zigzag64`].
pub(crate) fn unzigzag64(z: u64) -> i64 {
    #[allow(clippy::cast_possible_wrap)]
    let v = ((z >> 1) as i64) ^ -((z & 1) as i64);
    v
}

/// A malformed protobuf message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PbfError {
    /// Byte offset where reading failed.
    pub offset: usize,
    /// What was wrong.
    pub what: &'static str,
}

impl std::fmt::Display for PbfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "malformed protobuf at byte {}: {}",
            self.offset, self.what
        )
    }
}

impl std::error::Error for PbfError {}

/// A forward-only reader over one protobuf message.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn err(&self, what: &'static str) -> PbfError {
        PbfError {
            offset: self.pos,
            what,
        }
    }

    pub(crate) fn varint(&mut self) -> Result<u64, PbfError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or(self.err("truncated varint"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.err("varint too long"))
    }

    /// Reads a field key: `(field number, wire type)`.
    pub(crate) fn key(&mut self) -> Result<(u32, u8), PbfError> {
        let k = self.varint()?;
        let field = u32::try_from(k >> 3).map_err(|_| self.err("field number too large"))?;
        #[allow(clippy::cast_possible_truncation)]
        Ok((field, (k & 7) as u8))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PbfError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(self.err("truncated field"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], PbfError> {
        let n = usize::try_from(self.varint()?).map_err(|_| self.err("length too large"))?;
        self.take(n)
    }

    pub(crate) fn fixed32(&mut self) -> Result<[u8; 4], PbfError> {
        let s = self.take(4)?;
        Ok([s[0], s[1], s[2], s[3]])
    }

    pub(crate) fn fixed64(&mut self) -> Result<[u8; 8], PbfError> {
        let s = self.take(8)?;
        Ok([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]])
    }

    /// Skips a field's value of the given wire type.
    pub(crate) fn skip(&mut self, wire: u8) -> Result<(), PbfError> {
        match wire {
            VARINT => self.varint().map(drop),
            FIXED64 => self.take(8).map(drop),
            LEN => self.bytes().map(drop),
            FIXED32 => self.take(4).map(drop),
            _ => Err(self.err("unsupported wire type")),
        }
    }

    /// Reads a packed repeated `uint32` field body.
    pub(crate) fn packed_u32(&mut self) -> Result<Vec<u32>, PbfError> {
        let body = self.bytes()?;
        let mut r = Reader::new(body);
        let mut out = Vec::new();
        while !r.at_end() {
            let v = r.varint()?;
            out.push(u32::try_from(v).map_err(|_| self.err("uint32 out of range"))?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_known_bytes() {
        let cases: [(u64, &[u8]); 7] = [
            (0, &[0x00]),
            (1, &[0x01]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (150, &[0x96, 0x01]), // the protobuf documentation's example
            (300, &[0xac, 0x02]),
            (
                u64::MAX,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ];
        for (v, bytes) in cases {
            let mut buf = Vec::new();
            write_varint(&mut buf, v);
            assert_eq!(buf, bytes, "{v}");
            assert_eq!(varint_len(v), bytes.len(), "{v}");
            assert_eq!(Reader::new(bytes).varint().unwrap(), v);
        }
    }

    #[test]
    fn zigzag_matches_known_values() {
        for (v, z) in [
            (0, 0u32),
            (-1, 1),
            (1, 2),
            (-2, 3),
            (2, 4),
            (25, 50),
            (17, 34),
        ] {
            assert_eq!(zigzag32(v), z);
            assert_eq!(unzigzag32(z), v);
        }
        assert_eq!(zigzag32(i32::MAX), u32::MAX - 1);
        assert_eq!(zigzag32(i32::MIN), u32::MAX);
        assert_eq!(zigzag64(i64::MIN), u64::MAX);
        assert_eq!(zigzag64(-3), 5);
        for v in [0, 1, -1, i64::MAX, i64::MIN, -123_456_789] {
            assert_eq!(unzigzag64(zigzag64(v)), v);
        }
    }

    #[test]
    fn keys_and_fields() {
        let mut buf = Vec::new();
        write_key(&mut buf, 15, VARINT); // MVT layer version
        write_key(&mut buf, 3, LEN); // MVT tile layers
        write_bytes_field(&mut buf, 1, b"ab");
        write_varint_field(&mut buf, 5, 4096);
        assert_eq!(buf, [0x78, 0x1a, 0x0a, 0x02, b'a', b'b', 0x28, 0x80, 0x20]);
        let mut r = Reader::new(&buf[2..]);
        assert_eq!(r.key().unwrap(), (1, LEN));
        assert_eq!(r.bytes().unwrap(), b"ab");
        assert_eq!(r.key().unwrap(), (5, VARINT));
        assert_eq!(r.varint().unwrap(), 4096);
        assert!(r.at_end());
        assert!(Reader::new(&[0x80]).varint().is_err());
        assert!(Reader::new(&[0x05, 1]).bytes().is_err());
    }
}
