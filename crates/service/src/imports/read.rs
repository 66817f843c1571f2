//! Reading an import file into rows of cells by column, whatever its format: CSV (UTF-8,
//! a header line first), Excel `.xlsx` (the first sheet, its first non-empty row the
//! header; read with `calamine`), or GeoJSON (a FeatureCollection, or one Feature per
//! line; the properties are the columns, the geometry the location).
//!
//! Each row keeps the number a person finds it by: the CSV line (the header is line 1), the
//! spreadsheet's row number, the GeoJSON feature's number (from 1), or its line in a file
//! of one Feature per line.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use parking_lot::Mutex;

use calamine::{Data, Reader as _, Xlsx};
use serde_json::Value;

use super::columns::{Column, column_of, columns};
use super::{Format, Kind, RowError};

/// One row of a file, by column (the index in [`columns`]).
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    /// Where it is in the file (see the module's documentation).
    pub line: u64,
    /// The cells, trimmed; `None` when empty or absent.
    pub cells: Vec<Option<String>>,
    /// Columns whose cell was a number in the spreadsheet (an ID number typed as a number
    /// has lost its last digits).
    pub numeric: u64,
    /// The GeoJSON geometry, if any.
    pub geometry: Option<Value>,
}

impl RawRow {
    /// The cell of column `i`.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<&str> {
        self.cells.get(i).and_then(Option::as_deref)
    }

    /// Whether the cell of column `i` was a spreadsheet number.
    #[must_use]
    pub fn is_numeric(&self, i: usize) -> bool {
        i < 64 && self.numeric & (1 << i) != 0
    }
}

/// The rows of a file, as they are read.
pub type Rows = Box<dyn Iterator<Item = Result<RawRow, RowError>> + Send>;

/// What the header says: which column each position holds, and what is ignored.
struct Header {
    /// Column index of each position (`None`: not a column of this register).
    at: Vec<Option<usize>>,
}

fn file_error(reason: impl Into<String>) -> RowError {
    RowError {
        line: 0,
        field: "file".into(),
        reason: reason.into(),
    }
}

/// Maps header cells to columns; refuses a header without a required column or with a
/// column twice. Returns the header and the names of ignored headers.
fn header(kind: Kind, cells: &[String], line: u64) -> Result<(Header, Vec<String>), Vec<RowError>> {
    let cols = columns(kind);
    let mut at = Vec::with_capacity(cells.len());
    let mut seen = vec![false; cols.len()];
    let mut errors = Vec::new();
    let mut ignored = Vec::new();
    for c in cells {
        let i = column_of(kind, c);
        if let Some(i) = i {
            if seen[i] {
                errors.push(RowError {
                    line,
                    field: cols[i].name.into(),
                    reason: format!("the column {} is given twice", cols[i].name),
                });
            }
            seen[i] = true;
        } else if !c.trim().is_empty() {
            ignored.push(c.trim().chars().take(40).collect());
        }
        at.push(i);
    }
    for (i, c) in cols.iter().enumerate() {
        if c.required && !seen[i] {
            errors.push(missing(line, c));
        }
    }
    if errors.is_empty() {
        Ok((Header { at }, ignored))
    } else {
        Err(errors)
    }
}

fn missing(line: u64, c: &Column) -> RowError {
    RowError {
        line,
        field: c.name.into(),
        reason: format!(
            "the column {} is missing (headed {} or {})",
            c.name,
            c.name,
            c.aliases.join(" or ")
        ),
    }
}

fn clean(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

impl Header {
    fn row(
        &self,
        kind: Kind,
        line: u64,
        cells: impl Iterator<Item = (Option<String>, bool)>,
    ) -> RawRow {
        let mut row = RawRow {
            line,
            cells: vec![None; columns(kind).len()],
            ..RawRow::default()
        };
        for (pos, (cell, numeric)) in cells.enumerate() {
            if let Some(Some(i)) = self.at.get(pos) {
                row.cells[*i] = cell;
                if numeric && *i < 64 {
                    row.numeric |= 1 << i;
                }
            }
        }
        row
    }
}

/// Reads a file of `format` holding `kind`. Returns the rows (read lazily where the format
/// allows) and the headers that name no column (ignored), or the errors of the file as a
/// whole (unreadable, a required column missing).
pub fn rows(
    kind: Kind,
    format: Format,
    source: Box<dyn ReadSeek>,
) -> Result<(Rows, Vec<String>), Vec<RowError>> {
    match format {
        Format::Csv => csv_rows(kind, source),
        Format::Xlsx => xlsx_rows(kind, source),
        Format::GeoJson => geojson_rows(kind, source),
    }
}

/// A source of bytes that can also seek (an `.xlsx` is a zip archive).
pub trait ReadSeek: Read + std::io::Seek + Send {}
impl<T: Read + std::io::Seek + Send> ReadSeek for T {}

/// A reader that notes the offset of every line break it passes on, so that a record's
/// byte offset gives its line as a text editor counts them (the `csv` crate does not count
/// blank lines).
struct Lines<R> {
    inner: R,
    read: u64,
    /// Whether the line being read is blank so far (nothing but a carriage return).
    blank: bool,
    /// Each line break: its offset, and whether the line it ends is blank.
    breaks: Arc<Mutex<VecDeque<(u64, bool)>>>,
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut breaks = self.breaks.lock();
        for (i, b) in buf[..n].iter().enumerate() {
            if *b == b'\n' {
                breaks.push_back((self.read + i as u64, self.blank));
                self.blank = true;
            } else if *b != b'\r' {
                self.blank = false;
            }
        }
        self.read += n as u64;
        Ok(n)
    }
}

/// Lines counted so far and the breaks not yet passed.
struct LineOf {
    passed: u64,
    breaks: Arc<Mutex<VecDeque<(u64, bool)>>>,
}

impl LineOf {
    /// The line (from 1) of a record starting at byte `offset` (where the reader began
    /// it: before the blank lines it skipped); offsets must come in order.
    fn line(&mut self, offset: u64) -> u64 {
        let mut breaks = self.breaks.lock();
        while breaks
            .front()
            .is_some_and(|(b, blank)| *b < offset || *blank)
        {
            breaks.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

fn csv_rows(kind: Kind, source: Box<dyn ReadSeek>) -> Result<(Rows, Vec<String>), Vec<RowError>> {
    let breaks = Arc::new(Mutex::new(VecDeque::new()));
    let mut lines = LineOf {
        passed: 0,
        breaks: breaks.clone(),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(Lines {
            inner: BufReader::with_capacity(1 << 20, source),
            read: 0,
            blank: true,
            breaks,
        });
    let head = reader
        .byte_headers()
        .map_err(|e| vec![file_error(format!("the CSV file cannot be read: {e}"))])?
        .clone();
    let cells: Vec<String> = head
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    if std::str::from_utf8(head.as_slice()).is_err() {
        return Err(vec![RowError {
            line: 1,
            field: "file".into(),
            reason: "the CSV file is not UTF-8 text: save it as \"CSV UTF-8\"".into(),
        }]);
    }
    let (h, ignored) = header(kind, &cells, 1)?;
    let mut record = csv::ByteRecord::new();
    let mut done = false;
    let rows = std::iter::from_fn(move || {
        while !done {
            match reader.read_byte_record(&mut record) {
                Ok(false) => done = true,
                Err(e) => {
                    // A broken file: reported once, and nothing more is read.
                    done = true;
                    return Some(Err(RowError {
                        line: e.position().map_or(0, |p| lines.line(p.byte())),
                        field: "file".into(),
                        reason: format!("the CSV file cannot be read further: {e}"),
                    }));
                }
                Ok(true) => {
                    let line = record.position().map_or(0, |p| lines.line(p.byte()));
                    if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
                        continue;
                    }
                    let mut bad = false;
                    let cells = record.iter().map(|c| {
                        let text = std::str::from_utf8(c).ok();
                        bad |= text.is_none();
                        (text.and_then(clean), false)
                    });
                    let row = h.row(kind, line, cells);
                    if bad {
                        return Some(Err(RowError {
                            line,
                            field: "row".into(),
                            reason: "the line is not UTF-8 text: save the file as \"CSV UTF-8\""
                                .into(),
                        }));
                    }
                    return Some(Ok(row));
                }
            }
        }
        None
    });
    Ok((Box::new(rows), ignored))
}

fn cell_text(d: &Data) -> (Option<String>, bool) {
    match d {
        Data::Empty => (None, false),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => (clean(s), false),
        Data::Int(i) => (Some(i.to_string()), true),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e17 {
                (Some(format!("{f:.0}")), true)
            } else {
                (Some(f.to_string()), true)
            }
        }
        Data::Bool(b) => (Some(b.to_string()), false),
        Data::DateTime(t) => {
            let (y, m, d, ..) = t.to_ymd_hms_milli();
            (Some(format!("{y:04}-{m:02}-{d:02}")), false)
        }
        Data::Error(e) => (Some(format!("#{e}")), false),
    }
}

/// Rows of a sheet searched for the header (a title may stand above it).
const HEADER_SEARCH: usize = 10;

fn xlsx_rows(kind: Kind, source: Box<dyn ReadSeek>) -> Result<(Rows, Vec<String>), Vec<RowError>> {
    let mut book: Xlsx<_> = Xlsx::new(BufReader::new(source)).map_err(|e| {
        vec![file_error(format!(
            "the file is not an Excel workbook (.xlsx): {e}"
        ))]
    })?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| vec![file_error("the workbook has no sheet")])?
        .map_err(|e| vec![file_error(format!("the first sheet cannot be read: {e}"))])?;
    let first = range.start().map_or(0, |(r, _)| u64::from(r)) + 1;
    let first_col = range.start().map_or(0, |(_, c)| c as usize);
    let rows: Vec<(usize, &[Data])> = range
        .rows()
        .enumerate()
        .filter(|(_, r)| r.iter().any(|c| cell_text(c).0.is_some()))
        .collect();
    // The header is the first row naming a column, among the first few (a title may stand
    // above it); else the first row (whose missing columns are then named).
    let names = |r: &[Data]| {
        r.iter().any(|c| {
            cell_text(c)
                .0
                .is_some_and(|t| column_of(kind, &t).is_some())
        })
    };
    let at = rows
        .iter()
        .take(HEADER_SEARCH)
        .position(|(_, r)| names(r))
        .unwrap_or(0);
    let Some((i, head)) = rows.get(at) else {
        return Err(vec![file_error("the first sheet is empty")]);
    };
    // Cells left of the used range are empty: the header positions start at column A.
    let cells: Vec<String> = std::iter::repeat_n(String::new(), first_col)
        .chain(head.iter().map(|c| cell_text(c).0.unwrap_or_default()))
        .collect();
    let (h, ignored) = header(kind, &cells, first + *i as u64)?;
    let out: Vec<Result<RawRow, RowError>> = rows[at + 1..]
        .iter()
        .map(|(i, r)| {
            let cells =
                std::iter::repeat_n((None, false), first_col).chain(r.iter().map(cell_text));
            Ok(h.row(kind, first + *i as u64, cells))
        })
        .collect();
    Ok((Box::new(out.into_iter()), ignored))
}

fn prop_text(v: &Value) -> (Option<String>, bool) {
    match v {
        Value::Null => (None, false),
        Value::String(s) => (clean(s), false),
        Value::Number(n) => (Some(n.to_string()), true),
        Value::Bool(b) => (Some(b.to_string()), false),
        Value::Array(a) => (
            clean(
                &a.iter()
                    .map(|x| match x {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            false,
        ),
        Value::Object(_) => (Some(v.to_string()), false),
    }
}

fn feature_row(kind: Kind, line: u64, f: &Value) -> Result<RawRow, RowError> {
    let bad = |reason: &str| RowError {
        line,
        field: "feature".into(),
        reason: reason.into(),
    };
    if f.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(bad("not a GeoJSON Feature"));
    }
    let mut row = RawRow {
        line,
        cells: vec![None; columns(kind).len()],
        ..RawRow::default()
    };
    match f.get("properties") {
        Some(Value::Object(p)) => {
            for (k, v) in p {
                if let Some(i) = column_of(kind, k) {
                    let (text, numeric) = prop_text(v);
                    row.cells[i] = text;
                    if numeric && i < 64 {
                        row.numeric |= 1 << i;
                    }
                }
            }
        }
        Some(Value::Null) | None => {}
        Some(_) => return Err(bad("the Feature's properties are not an object")),
    }
    row.geometry = f.get("geometry").filter(|g| !g.is_null()).cloned();
    Ok(row)
}

fn geojson_rows(
    kind: Kind,
    mut source: Box<dyn ReadSeek>,
) -> Result<(Rows, Vec<String>), Vec<RowError>> {
    let mut text = Vec::new();
    source
        .read_to_end(&mut text)
        .map_err(|e| vec![file_error(format!("the file cannot be read: {e}"))])?;
    let rows: Vec<Result<RawRow, RowError>> = match serde_json::from_slice::<Value>(&text) {
        Ok(Value::Object(mut o))
            if o.get("type").and_then(Value::as_str) == Some("FeatureCollection") =>
        {
            let Some(Value::Array(features)) = o.remove("features") else {
                return Err(vec![file_error(
                    "the FeatureCollection has no features array",
                )]);
            };
            features
                .iter()
                .enumerate()
                .map(|(i, f)| feature_row(kind, i as u64 + 1, f))
                .collect()
        }
        Ok(f @ Value::Object(_)) => vec![feature_row(kind, 1, &f)],
        Ok(_) => {
            return Err(vec![file_error(
                "the file is neither a FeatureCollection nor one Feature per line",
            )]);
        }
        Err(_) => {
            // One Feature per line (a GeoJSON text sequence, RS separators allowed).
            let mut out = Vec::new();
            for (i, l) in BufRead::lines(&text[..]).enumerate() {
                let line = i as u64 + 1;
                let Ok(l) = l else {
                    out.push(Err(RowError {
                        line,
                        field: "feature".into(),
                        reason: "the line is not UTF-8 text".into(),
                    }));
                    continue;
                };
                let l = l.trim().trim_start_matches('\u{1e}');
                if l.is_empty() {
                    continue;
                }
                out.push(match serde_json::from_str::<Value>(l) {
                    Ok(f) => feature_row(kind, line, &f),
                    Err(e) => Err(RowError {
                        line,
                        field: "feature".into(),
                        reason: format!("not JSON: {e}"),
                    }),
                });
            }
            if out.iter().all(Result::is_err) && !out.is_empty() && out.len() == 1 {
                return Err(vec![file_error(
                    "the file is neither a FeatureCollection nor one Feature per line",
                )]);
            }
            out
        }
    };
    Ok((Box::new(rows.into_iter()), Vec::new()))
}
