//! Mapbox Vector Tile 2.1 encoder.
//!
//! [`TileBuilder`] holds named [`LayerBuilder`]s; each layer takes features with an optional
//! id, a [`Geometry`] in tile-local integer coordinates and properties as `(&str, Value)`
//! pairs. Keys and values are de-duplicated per layer. Geometry is cleaned on the way in:
//! consecutive duplicate points are removed; lines with fewer than two distinct points and
//! rings with fewer than three distinct points or zero area are dropped (a polygon whose
//! exterior is dropped is dropped with its holes); exterior rings are written with positive
//! area by the specification's surveyor formula (clockwise on screen, `y` down) and holes with
//! negative area, reversing rings as needed (see the `geometry` module).
//! [`TileBuilder::encode`] omits empty layers.
//!
//! Numbers map to value fields as follows: [`Value::F64`] → `double_value`; non-negative
//! [`Value::I64`] and all [`Value::U64`] → `uint_value`; negative [`Value::I64`] →
//! `sint_value` (zigzag, compact for small negatives). `int_value` and `float_value` are never
//! written (the decoder reads them).

use std::borrow::Cow;

use crate::geometry::{FlatPolygons, GeomType, Geometry, encode_flat, encode_geometry};
use crate::hash::FastHashMap;
use crate::pbf::{
    self, FIXED64, LEN, varint_len, write_bytes_field, write_key, write_varint, write_varint_field,
};

/// MVT format version written in every layer.
pub const MVT_VERSION: u32 = 2;

/// A property value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// A string.
    String(Cow<'a, str>),
    /// A 64-bit float (`double_value`).
    F64(f64),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A boolean.
    Bool(bool),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Value<'a> {
        Value::String(Cow::Borrowed(s))
    }
}
impl From<String> for Value<'_> {
    fn from(s: String) -> Self {
        Value::String(Cow::Owned(s))
    }
}
impl From<f64> for Value<'_> {
    fn from(v: f64) -> Self {
        Value::F64(v)
    }
}
impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::I64(v)
    }
}
impl From<i32> for Value<'_> {
    fn from(v: i32) -> Self {
        Value::I64(v.into())
    }
}
impl From<u64> for Value<'_> {
    fn from(v: u64) -> Self {
        Value::U64(v)
    }
}
impl From<u32> for Value<'_> {
    fn from(v: u32) -> Self {
        Value::U64(v.into())
    }
}
impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

/// De-duplication key of a non-string value (floats by bit pattern).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ScalarKey {
    Double(u64),
    Uint(u64),
    Sint(i64),
    Bool(bool),
}

/// A property entered once in a layer's key and value tables ([`LayerBuilder::tag`]), for
/// features that repeat it: adding it to a feature looks nothing up. Valid only in the layer
/// that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    key: u32,
    value: u32,
}

/// One layer under construction.
#[derive(Debug, Clone)]
pub struct LayerBuilder {
    name: String,
    extent: u32,
    features: Vec<u8>,
    feature_count: usize,
    keys: Vec<String>,
    key_index: FastHashMap<String, u32>,
    values: Vec<u8>,
    value_count: u32,
    string_index: FastHashMap<String, u32>,
    scalar_index: FastHashMap<ScalarKey, u32>,
    scratch_tags: Vec<u32>,
    scratch_geom: Vec<u32>,
}

/// Up to this many keys a layer looks keys up by comparing them all.
const SMALL_KEY_TABLE: usize = 16;

/// Bytes of the packed values (without field key and length).
fn packed_len(values: &[u32]) -> usize {
    values.iter().map(|&v| pbf::varint_len(v.into())).sum()
}

/// Bytes of a length-delimited field of field number below 16 holding `len` bytes.
fn len_field_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

/// Appends a feature (field 2 of a layer) written in place, its length known before its
/// fields: `id`, the tags (`tags_len` bytes, which `write_tags` writes as packed varints),
/// the type and the geometry commands.
fn write_feature(
    f: &mut Vec<u8>,
    id: Option<u64>,
    tags_len: usize,
    kind: GeomType,
    geom: &[u32],
    write_tags: impl FnOnce(&mut Vec<u8>),
) {
    let geom_len = packed_len(geom);
    let len = id.map_or(0, |id| 1 + varint_len(id))
        + if tags_len == 0 {
            0
        } else {
            len_field_len(tags_len)
        }
        + 1
        + varint_len(kind.number())
        + len_field_len(geom_len);
    f.reserve(len_field_len(len));
    write_key(f, 2, LEN);
    write_varint(f, len as u64);
    if let Some(id) = id {
        write_varint_field(f, 1, id);
    }
    if tags_len > 0 {
        write_key(f, 2, LEN);
        write_varint(f, tags_len as u64);
        write_tags(f);
    }
    write_varint_field(f, 3, kind.number());
    write_packed(f, 4, geom, geom_len);
}

fn write_packed(buf: &mut Vec<u8>, field: u32, values: &[u32], len: usize) {
    write_key(buf, field, LEN);
    write_varint(buf, len as u64);
    for &v in values {
        write_varint(buf, v.into());
    }
}

impl LayerBuilder {
    /// An empty layer. Layer names must be unique within a tile.
    #[must_use]
    pub fn new(name: &str, extent: u32) -> LayerBuilder {
        LayerBuilder {
            name: name.to_owned(),
            extent,
            features: Vec::new(),
            feature_count: 0,
            keys: Vec::new(),
            key_index: FastHashMap::default(),
            values: Vec::new(),
            value_count: 0,
            string_index: FastHashMap::default(),
            scalar_index: FastHashMap::default(),
            scratch_tags: Vec::new(),
            scratch_geom: Vec::new(),
        }
    }

    /// Empties the layer and renames it, keeping its buffers' allocations (for drawing
    /// tile after tile with one builder).
    fn reset(&mut self, name: &str, extent: u32) {
        self.name.clear();
        self.name.push_str(name);
        self.extent = extent;
        self.features.clear();
        self.feature_count = 0;
        self.keys.clear();
        self.key_index.clear();
        self.values.clear();
        self.value_count = 0;
        self.string_index.clear();
        self.scalar_index.clear();
    }

    /// The layer name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The layer extent.
    #[must_use]
    pub fn extent(&self) -> u32 {
        self.extent
    }

    /// Number of features added so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.feature_count
    }

    /// Whether no feature has been added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.feature_count == 0
    }

    /// Bytes of features and values so far: a lower bound of the encoded layer's size, for
    /// giving up on a drawing that is already too big.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.features.len() + self.values.len()
    }

    fn key(&mut self, k: &str) -> u32 {
        // Layers have a handful of keys: comparing them beats hashing, and the hash map is
        // filled only once a layer has more.
        let found = if self.keys.len() <= SMALL_KEY_TABLE {
            self.keys.iter().position(|x| x == k)
        } else {
            self.key_index.get(k).map(|&i| i as usize)
        };
        #[allow(clippy::cast_possible_truncation)]
        if let Some(i) = found {
            return i as u32;
        }
        #[allow(clippy::cast_possible_truncation)]
        let i = self.keys.len() as u32;
        self.keys.push(k.to_owned());
        if self.keys.len() > SMALL_KEY_TABLE {
            if self.key_index.is_empty() {
                self.key_index.extend(
                    self.keys
                        .iter()
                        .enumerate()
                        .map(|(j, x)| (x.clone(), j as u32)),
                );
            } else {
                self.key_index.insert(k.to_owned(), i);
            }
        }
        i
    }

    fn push_value(&mut self, field: u32, body: &[u8]) -> u32 {
        // Field 4 of the layer: a Value message; strings are its field 1, scalars come encoded.
        if field == 1 {
            let inner = 1 + varint_len(body.len() as u64) + body.len();
            write_key(&mut self.values, 4, LEN);
            write_varint(&mut self.values, inner as u64);
            write_bytes_field(&mut self.values, 1, body);
        } else {
            write_bytes_field(&mut self.values, 4, body);
        }
        let i = self.value_count;
        self.value_count += 1;
        i
    }

    fn value(&mut self, v: &Value<'_>) -> u32 {
        let key = match v {
            Value::String(s) => {
                if let Some(&i) = self.string_index.get(s.as_ref()) {
                    return i;
                }
                let i = self.push_value(1, s.as_bytes());
                self.string_index.insert(s.as_ref().to_owned(), i);
                return i;
            }
            Value::F64(f) => ScalarKey::Double(f.to_bits()),
            Value::I64(i) => match u64::try_from(*i) {
                Ok(u) => ScalarKey::Uint(u),
                Err(_) => ScalarKey::Sint(*i),
            },
            Value::U64(u) => ScalarKey::Uint(*u),
            Value::Bool(b) => ScalarKey::Bool(*b),
        };
        if let Some(&i) = self.scalar_index.get(&key) {
            return i;
        }
        let mut body = Vec::with_capacity(11);
        match key {
            ScalarKey::Double(bits) => {
                write_key(&mut body, 3, FIXED64);
                body.extend_from_slice(&bits.to_le_bytes());
            }
            ScalarKey::Uint(u) => write_varint_field(&mut body, 5, u),
            ScalarKey::Sint(s) => write_varint_field(&mut body, 6, pbf::zigzag64(s)),
            ScalarKey::Bool(b) => write_varint_field(&mut body, 7, u64::from(b)),
        }
        let i = self.push_value(0, &body);
        self.scalar_index.insert(key, i);
        i
    }

    /// Adds a feature. Returns `false` (and adds nothing) when the geometry is empty after
    /// cleaning, or when coordinates are so far apart that a delta does not fit in 32 bits
    /// (cannot happen for clipped geometry). Properties are written in the given order; keys
    /// should not repeat within one feature.
    pub fn add_feature(
        &mut self,
        id: Option<u64>,
        geometry: &Geometry,
        properties: &[(&str, Value<'_>)],
    ) -> bool {
        self.add_feature_with_unique(id, geometry, properties, &[])
    }

    /// As [`LayerBuilder::add_feature`], plus string properties whose values are (nearly)
    /// unique to the feature — names, codes — written to the value table without looking
    /// for an equal one first (valid MVT: values may repeat), which saves a hash-map entry
    /// per feature.
    pub fn add_feature_with_unique(
        &mut self,
        id: Option<u64>,
        geometry: &Geometry,
        properties: &[(&str, Value<'_>)],
        unique: &[(&str, &str)],
    ) -> bool {
        self.add_with(
            id,
            |g| encode_geometry(geometry, g),
            &[],
            properties,
            unique,
        )
    }

    /// As [`LayerBuilder::add_feature_with_unique`], for polygons laid out flat (no vector
    /// per ring), with properties entered beforehand ([`LayerBuilder::tag`]; `tags`, written
    /// first) besides `properties` and `unique`. `tags` must come from this layer.
    pub fn add_flat_polygons(
        &mut self,
        id: Option<u64>,
        polygons: &FlatPolygons,
        tags: &[Tag],
        properties: &[(&str, Value<'_>)],
        unique: &[(&str, &str)],
    ) -> bool {
        self.add_with(id, |g| encode_flat(polygons, g), tags, properties, unique)
    }

    /// Adds a feature whose geometry `encode` writes, with the tags entered beforehand.
    fn add_with(
        &mut self,
        id: Option<u64>,
        encode: impl FnOnce(&mut Vec<u32>) -> Option<GeomType>,
        tags: &[Tag],
        properties: &[(&str, Value<'_>)],
        unique: &[(&str, &str)],
    ) -> bool {
        debug_assert!(
            tags.iter()
                .all(|t| (t.key as usize) < self.keys.len() && t.value < self.value_count)
        );
        let mut geom = std::mem::take(&mut self.scratch_geom);
        let kind = encode(&mut geom);
        self.scratch_tags.clear();
        self.scratch_tags
            .extend(tags.iter().flat_map(|t| [t.key, t.value]));
        self.add_encoded(id, kind, geom, properties, unique)
    }

    /// Enters a property in the layer's key and value tables (de-duplicated as features'
    /// properties are) and returns it for [`LayerBuilder::add_feature_tagged`].
    pub fn tag(&mut self, key: &str, value: &Value<'_>) -> Tag {
        Tag {
            key: self.key(key),
            value: self.value(value),
        }
    }

    /// As [`LayerBuilder::add_feature`], with properties entered beforehand by
    /// [`LayerBuilder::tag`] (`tags`, written first) besides `properties`. `tags` must come
    /// from this layer.
    pub fn add_feature_tagged(
        &mut self,
        id: Option<u64>,
        geometry: &Geometry,
        tags: &[Tag],
        properties: &[(&str, Value<'_>)],
    ) -> bool {
        self.add_with(id, |g| encode_geometry(geometry, g), tags, properties, &[])
    }

    /// A point feature with only properties entered beforehand by [`LayerBuilder::tag`]:
    /// the bytes [`LayerBuilder::add_feature_tagged`] writes for a [`Geometry::Point`] and no
    /// other properties, written straight (single events and clusters, most features of all).
    /// `tags` must come from this layer.
    pub fn add_point_tagged(&mut self, id: Option<u64>, point: [i32; 2], tags: &[Tag]) {
        debug_assert!(
            tags.iter()
                .all(|t| (t.key as usize) < self.keys.len() && t.value < self.value_count)
        );
        // MoveTo(1) from the origin: the command, then the point's zigzag coordinates.
        let geom = [9, pbf::zigzag32(point[0]), pbf::zigzag32(point[1])];
        let tags_len: usize = tags
            .iter()
            .map(|t| varint_len(t.key.into()) + varint_len(t.value.into()))
            .sum();
        write_feature(
            &mut self.features,
            id,
            tags_len,
            GeomType::Point,
            &geom,
            |f| {
                for t in tags {
                    write_varint(f, t.key.into());
                    write_varint(f, t.value.into());
                }
            },
        );
        self.feature_count += 1;
    }

    /// Adds a feature whose geometry commands are `geom` (kept as scratch for the next), with
    /// the tags [`LayerBuilder::add_with`] put in `scratch_tags`, then `properties` and
    /// `unique`.
    fn add_encoded(
        &mut self,
        id: Option<u64>,
        kind: Option<GeomType>,
        geom: Vec<u32>,
        properties: &[(&str, Value<'_>)],
        unique: &[(&str, &str)],
    ) -> bool {
        let mut tags = std::mem::take(&mut self.scratch_tags);
        let Some(kind) = kind else {
            tags.clear();
            self.scratch_tags = tags;
            self.scratch_geom = geom;
            return false;
        };
        for (k, v) in properties {
            let ki = self.key(k);
            let vi = self.value(v);
            tags.push(ki);
            tags.push(vi);
        }
        for (k, v) in unique {
            let ki = self.key(k);
            let vi = self.push_value(1, v.as_bytes());
            tags.push(ki);
            tags.push(vi);
        }
        write_feature(
            &mut self.features,
            id,
            packed_len(&tags),
            kind,
            &geom,
            |f| {
                for &v in &tags {
                    write_varint(f, v.into());
                }
            },
        );
        self.feature_count += 1;
        tags.clear();
        self.scratch_geom = geom;
        self.scratch_tags = tags;
        true
    }

    /// Appends this layer as field 3 of a tile message; nothing when the layer is empty.
    fn encode_into(&self, out: &mut Vec<u8>) {
        if self.is_empty() {
            return;
        }
        let len = 1
            + varint_len(MVT_VERSION.into())
            + len_field_len(self.name.len())
            + self.features.len()
            + self
                .keys
                .iter()
                .map(|k| len_field_len(k.len()))
                .sum::<usize>()
            + self.values.len()
            + 1
            + varint_len(self.extent.into());
        out.reserve(len_field_len(len));
        write_key(out, 3, LEN);
        write_varint(out, len as u64);
        write_varint_field(out, 15, MVT_VERSION.into());
        write_bytes_field(out, 1, self.name.as_bytes());
        out.extend_from_slice(&self.features);
        for k in &self.keys {
            write_bytes_field(out, 3, k.as_bytes());
        }
        out.extend_from_slice(&self.values);
        write_varint_field(out, 5, self.extent.into());
    }
}

/// A tile under construction: an ordered set of uniquely named layers.
///
/// [`TileBuilder::clear`] empties it for the next tile and keeps its layers' buffers, so that
/// a builder kept from tile to tile stops allocating once its buffers have grown.
#[derive(Debug, Clone, Default)]
pub struct TileBuilder {
    layers: Vec<LayerBuilder>,
    /// Layers of earlier tiles, emptied, for reuse.
    spare: Vec<LayerBuilder>,
}

impl TileBuilder {
    /// An empty tile.
    #[must_use]
    pub fn new() -> TileBuilder {
        TileBuilder::default()
    }

    /// The layer called `name`, created with `extent` if it does not exist yet (an existing
    /// layer keeps its extent).
    pub fn layer(&mut self, name: &str, extent: u32) -> &mut LayerBuilder {
        let i = match self.layers.iter().position(|l| l.name == name) {
            Some(i) => i,
            None => {
                let layer = match self.spare.pop() {
                    Some(mut l) => {
                        l.reset(name, extent);
                        l
                    }
                    None => LayerBuilder::new(name, extent),
                };
                self.layers.push(layer);
                self.layers.len() - 1
            }
        };
        &mut self.layers[i]
    }

    /// Removes every layer, keeping their buffers for the layers of the next tile.
    pub fn clear(&mut self) {
        self.spare.append(&mut self.layers);
    }

    /// Bytes the builder holds allocated (at least), for deciding whether to keep it.
    #[must_use]
    pub fn allocated(&self) -> usize {
        self.layers
            .iter()
            .chain(&self.spare)
            .map(|l| l.features.capacity() + l.values.capacity())
            .sum()
    }

    /// Adds a layer built separately, replacing any layer with the same name.
    pub fn add_layer(&mut self, layer: LayerBuilder) {
        match self.layers.iter_mut().find(|l| l.name == layer.name) {
            Some(slot) => *slot = layer,
            None => self.layers.push(layer),
        }
    }

    /// Whether no layer has any feature (the encoded tile would be empty).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.layers.iter().all(LayerBuilder::is_empty)
    }

    /// The encoded tile (uncompressed protobuf). Empty layers are omitted, so a tile without
    /// features encodes to zero bytes.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            self.layers
                .iter()
                .map(|l| l.features.len() + l.values.len() + 64 * l.keys.len() + 64)
                .sum(),
        );
        for l in &self.layers {
            l.encode_into(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use crate::geometry::{GeomType, signed_area2};

    /// Draws a small tile of two layers into `t`; `k` varies keys, values and extents.
    fn draw_into(t: &mut TileBuilder, k: u32) {
        let layer = t.layer(&format!("a{k}"), 4096 + k);
        let tag = layer.tag("level", &Value::from(format!("l{}", k % 3).as_str()));
        for i in 0..(k + 2) {
            let c = i32::try_from(i).unwrap_or(0);
            layer.add_with(
                Some(u64::from(i)),
                |g| encode_geometry(&Geometry::Point([c, c * 2]), g),
                &[tag],
                &[
                    ("n", Value::from(i64::from(i))),
                    (&format!("k{k}"), Value::from(k.is_multiple_of(2))),
                ],
                &[("name", "x")],
            );
        }
        t.layer("second", 512).add_feature(
            None,
            &Geometry::Point([1, 1]),
            &[("k", Value::from(f64::from(k)))],
        );
    }

    #[test]
    fn tagged_points_written_straight_are_the_general_bytes() {
        let mut straight = TileBuilder::new();
        let mut general = TileBuilder::new();
        let (a, b) = (straight.layer("p", 4096), general.layer("p", 4096));
        // Many keys and values, so that indices past one varint byte occur.
        let mut tags = Vec::new();
        for i in 0..300_i64 {
            let t = a.tag(&format!("k{}", i % 140), &Value::from(i * 7));
            assert_eq!(t, b.tag(&format!("k{}", i % 140), &Value::from(i * 7)));
            tags.push(t);
        }
        let mut seed = 11_u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed >> 33
        };
        for n in 0..2_000_u64 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
            let p = [next() as i32 % 70_000 - 35_000, next() as i32 % 9_000 - 300];
            let id = (n % 3 != 0).then(|| next() << (n % 40));
            let from = usize::try_from(next() % 300).unwrap_or(0);
            let to = (from + usize::try_from(next() % 9).unwrap_or(0)).min(tags.len());
            a.add_point_tagged(id, p, &tags[from..to]);
            assert!(b.add_feature_tagged(id, &Geometry::Point(p), &tags[from..to], &[]));
        }
        assert_eq!(straight.encode(), general.encode());
    }

    #[test]
    fn a_cleared_builder_encodes_as_a_fresh_one() {
        let mut reused = TileBuilder::new();
        for k in [3, 0, 7, 1, 1] {
            reused.clear();
            draw_into(&mut reused, k);
            let mut fresh = TileBuilder::new();
            draw_into(&mut fresh, k);
            assert_eq!(reused.encode(), fresh.encode(), "tile {k}");
        }
        assert!(reused.allocated() > 0);
        reused.clear();
        assert!(reused.is_empty() && reused.encode().is_empty());
    }

    #[test]
    fn known_answer_point_tile() {
        // One point at (25, 17), id 1, {"hello": "world"}, in layer "points", extent 4096.
        // Geometry [9, 50, 34] is the MVT specification's point example (MoveTo(25, 17));
        // the rest is hand-derived from the protobuf wire format.
        let mut t = TileBuilder::new();
        t.layer("points", 4096).add_feature(
            Some(1),
            &Geometry::Point([25, 17]),
            &[("hello", "world".into())],
        );
        let feature: &[u8] = &[
            0x08, 0x01, // id = 1
            0x12, 0x02, 0x00, 0x00, // tags = [0, 0]
            0x18, 0x01, // type = POINT
            0x22, 0x03, 0x09, 0x32, 0x22, // geometry = [9, 50, 34]
        ];
        let mut layer = vec![0x78, 0x02, 0x0a, 0x06]; // version = 2, name (6 bytes)
        layer.extend_from_slice(b"points");
        layer.extend_from_slice(&[0x12, 0x0d]);
        layer.extend_from_slice(feature);
        layer.extend_from_slice(&[0x1a, 0x05]);
        layer.extend_from_slice(b"hello");
        layer.extend_from_slice(&[0x22, 0x07, 0x0a, 0x05]); // value { string_value }
        layer.extend_from_slice(b"world");
        layer.extend_from_slice(&[0x28, 0x80, 0x20]); // extent = 4096
        let mut tile = vec![0x1a, u8::try_from(layer.len()).unwrap()];
        tile.extend_from_slice(&layer);
        assert_eq!(t.encode(), tile);
    }

    #[test]
    fn point_line_polygon_round_trip() {
        let mut t = TileBuilder::new();
        let pts = t.layer("pts", 4096);
        assert!(pts.add_feature(Some(7), &Geometry::Point([1, 2]), &[("n", 1i64.into())]));
        assert!(pts.add_feature(None, &Geometry::MultiPoint(vec![[5, 5], [3, 9]]), &[]));
        let lines = t.layer("lines", 512);
        assert!(lines.add_feature(
            Some(8),
            &Geometry::LineString(vec![[0, 0], [10, 0], [10, 0], [10, 10]]),
            &[("name", "a".into()), ("ok", true.into())],
        ));
        assert!(!lines.add_feature(None, &Geometry::LineString(vec![[3, 3], [3, 3]]), &[]));
        let polys = t.layer("polys", 4096);
        let sq = vec![[0, 0], [0, 100], [100, 100], [100, 0], [0, 0]]; // counter-clockwise on screen
        let hole = vec![[10, 10], [20, 10], [20, 20], [10, 20]]; // clockwise on screen
        assert!(polys.add_feature(
            Some(9),
            &Geometry::Polygon(vec![sq, hole]),
            &[("area", 1.5.into()), ("d", (-3i64).into())],
        ));
        t.layer("empty", 4096);

        let layers = decode(&t.encode()).unwrap();
        assert_eq!(layers.len(), 3, "the empty layer is omitted");
        assert_eq!(layers[0].name, "pts");
        assert_eq!(layers[0].version, 2);
        let f = &layers[0].features;
        assert_eq!(f[0].id, Some(7));
        assert_eq!(f[0].geom_type, GeomType::Point);
        assert_eq!(f[0].geometry, vec![vec![[1, 2]]]);
        assert_eq!(f[0].properties, vec![("n".to_owned(), Value::U64(1))]);
        assert_eq!(f[1].id, None);
        assert_eq!(f[1].geometry, vec![vec![[5, 5], [3, 9]]]);

        assert_eq!(layers[1].extent, 512);
        let l = &layers[1].features[0];
        assert_eq!(l.geom_type, GeomType::LineString);
        assert_eq!(l.geometry, vec![vec![[0, 0], [10, 0], [10, 10]]]);
        assert_eq!(layers[1].features.len(), 1);
        assert_eq!(
            l.properties,
            vec![
                ("name".to_owned(), Value::from("a")),
                ("ok".to_owned(), Value::Bool(true))
            ]
        );

        let p = &layers[2].features[0];
        assert_eq!(p.geom_type, GeomType::Polygon);
        assert_eq!(p.geometry.len(), 2);
        assert!(
            signed_area2(&p.geometry[0]) > 0,
            "exterior has positive area"
        );
        assert!(signed_area2(&p.geometry[1]) < 0, "hole has negative area");
        assert_eq!(p.geometry[0], vec![[100, 0], [100, 100], [0, 100], [0, 0]]);
        assert_eq!(
            p.properties,
            vec![
                ("area".to_owned(), Value::F64(1.5)),
                ("d".to_owned(), Value::I64(-3))
            ]
        );
    }

    #[test]
    fn many_keys_and_tags_decode_to_the_properties_given() {
        let mut l = LayerBuilder::new("l", 4096);
        let names: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
        let shared = l.tag("shared", &Value::from("yes"));
        for f in 0..30u64 {
            // Keys come back in every feature, past the size where the table gets hashed.
            let props: Vec<(&str, Value)> = names
                .iter()
                .take(10 + f as usize)
                .map(|n| (n.as_str(), Value::U64(f)))
                .collect();
            assert!(l.add_feature_tagged(Some(f), &Geometry::Point([1, 1]), &[shared], &props));
        }
        let mut t = TileBuilder::new();
        t.add_layer(l);
        let layers = decode(&t.encode()).unwrap();
        let layer = &layers[0];
        let mut keys = layer.keys.clone();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), layer.keys.len(), "keys repeat");
        assert_eq!(layer.keys.len(), 40);
        for (f, feature) in layer.features.iter().enumerate() {
            let mut want = vec![("shared".to_owned(), Value::from("yes"))];
            want.extend(
                names
                    .iter()
                    .take(10 + f)
                    .map(|n| (n.clone(), Value::U64(f as u64))),
            );
            assert_eq!(feature.properties, want);
        }
    }

    #[test]
    fn keys_and_values_are_deduplicated() {
        let mut l = LayerBuilder::new("l", 4096);
        for i in 0..10u64 {
            let props = [
                ("kind", Value::from("event")),
                ("count", Value::U64(i % 2)),
                ("same", Value::I64(1)), // same encoding as U64(1): one value
                ("x", Value::F64(0.5)),
            ];
            assert!(l.add_feature(Some(i), &Geometry::Point([1, 1]), &props));
        }
        let mut t = TileBuilder::new();
        t.add_layer(l);
        let layers = decode(&t.encode()).unwrap();
        let layer = &layers[0];
        assert_eq!(layer.keys, ["kind", "count", "same", "x"]);
        assert_eq!(
            layer.values,
            [
                Value::from("event"),
                Value::U64(0),
                Value::U64(1),
                Value::F64(0.5)
            ]
        );
        assert_eq!(layer.features.len(), 10);
        assert_eq!(
            layer.features[3].properties[1],
            ("count".to_owned(), Value::U64(1))
        );
    }
}
