//! One layer under construction: features, and key and value tables de-duplicated per
//! layer.

use super::value::{ScalarKey, Value};
use crate::geometry::{FlatPolygons, GeomType, Geometry, encode_flat, encode_geometry};
use crate::hash::FastHashMap;
use crate::pbf::{
    self, FIXED64, LEN, varint_len, write_bytes_field, write_key, write_varint, write_varint_field,
};

/// MVT format version written in every layer.
pub const MVT_VERSION: u32 = 2;

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
    pub(super) name: String,
    extent: u32,
    pub(super) features: Vec<u8>,
    feature_count: usize,
    pub(super) keys: Vec<String>,
    key_index: FastHashMap<String, u32>,
    pub(super) values: Vec<u8>,
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
    pub(super) fn reset(&mut self, name: &str, extent: u32) {
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
    pub(super) fn add_with(
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
    pub(super) fn encode_into(&self, out: &mut Vec<u8>) {
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
