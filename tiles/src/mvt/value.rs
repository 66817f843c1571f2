//! Property values of features, and their de-duplication keys.

use std::borrow::Cow;

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
pub(super) enum ScalarKey {
    Double(u64),
    Uint(u64),
    Sint(i64),
    Bool(bool),
}
