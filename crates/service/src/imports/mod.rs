//! Imports of the registers (issue 17): what grid workers already hold — buildings,
//! households, residents, places, organisations — from CSV, Excel `.xlsx` or GeoJSON,
//! validated row by row, stored all or nothing.
//!
//! One path for the command line (`minqing import residents FILE`) and the API
//! (`POST /api/v1/imports`):
//!
//! 1. [`validate`] reads the file ([`read`]: headers in English or Chinese, see
//!    [`columns`]) and checks every row ([`check`]): codes unique within the file, kinds
//!    and tags known (code or Chinese label), ID numbers valid by checksum and consistent
//!    with the birth date and sex given, phones valid, dates real, a location for what
//!    needs one. Every fault of every row is collected, with the line a person finds it by.
//! 2. [`store`] then checks the rows against the database under the registers' lock
//!    (codes already stored, references by code to stored buildings and households, ID
//!    numbers already registered — compared by lookup hash —, and the caller's scope) and,
//!    only when nothing is wrong, writes every row in one transaction (ID numbers and
//!    phones sealed). Nothing is acknowledged before the commit.
//!
//! Files refer to each other by code: a household names its building's code, a resident
//! their household's, a place or an organisation optionally its building's. So a region is
//! imported in the order buildings, households, residents (places and organisations after
//! buildings).
//!
//! Reasons are plain English (the UI translates) and never hold a full ID number or phone:
//! they are masked as everywhere else (441502********1234).

pub mod check;
pub mod columns;
pub mod read;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;

use minqing_model::sealed::Keys;
use minqing_store::{ImportConflict, ImportOutcome, ImportRows, RegisterCounts, Store, StoreError};

pub use read::ReadSeek;

/// Errors shown of a refused import, at most; the rest are counted.
pub const MAX_ERRORS_SHOWN: usize = 100;

/// Which register a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Buildings (a location each: a point or an outline).
    Buildings,
    /// Households (each at a building, by its code).
    Households,
    /// Residents (each in a household, by its code).
    Residents,
    /// Places: service places, risk sites and public things.
    Places,
    /// Organisations.
    Organisations,
}

impl Kind {
    /// Every kind, in the order a region is imported.
    pub const ALL: &'static [Kind] = &[
        Kind::Buildings,
        Kind::Households,
        Kind::Residents,
        Kind::Places,
        Kind::Organisations,
    ];

    /// The name used on the command line and in the API.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Buildings => "buildings",
            Kind::Households => "households",
            Kind::Residents => "residents",
            Kind::Places => "places",
            Kind::Organisations => "organisations",
        }
    }

    /// Parses a name of [`Kind::as_str`].
    #[must_use]
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// The format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV, UTF-8, with a header line.
    Csv,
    /// GeoJSON: a FeatureCollection or one Feature per line.
    GeoJson,
    /// Excel 2007+ (`.xlsx`): the first sheet.
    Xlsx,
}

impl Format {
    /// Every format.
    pub const ALL: &'static [Format] = &[Format::Csv, Format::GeoJson, Format::Xlsx];

    /// The name used in the API (`format=`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::GeoJson => "geojson",
            Format::Xlsx => "xlsx",
        }
    }

    /// Parses a name of [`Format::as_str`].
    #[must_use]
    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.as_str() == s)
    }

    /// The format a file name's extension says (`.csv`, `.geojson`/`.json`/`.geojsonl`,
    /// `.xlsx`).
    #[must_use]
    pub fn of_path(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(Format::Csv),
            "geojson" | "json" | "geojsonl" | "geojsons" | "ndjson" => Some(Format::GeoJson),
            "xlsx" | "xlsm" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// A fault of one row: where (the line a person finds it by; 0 for the file as a whole),
/// which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// CSV line (the header is line 1), spreadsheet row, or GeoJSON feature number (from
    /// 1; the line in a file of one Feature per line); 0: the file as a whole.
    pub line: u64,
    /// The column (its English name), or `file`, `row`, `feature`, `geometry`.
    pub field: String,
    /// Why, in English, with no personal data.
    pub reason: String,
}

/// The stages an import reports progress of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading and checking rows (`done` rows so far; the total is unknown: 0).
    Checking,
    /// Writing rows (`done` of `total`).
    Writing,
}

/// Progress: `(stage, done, total)`.
pub type Progress = Arc<dyn Fn(Stage, u64, u64) + Send + Sync>;

/// A file checked and ready to store.
#[derive(Debug)]
pub struct Validated {
    /// The rows.
    pub rows: ImportRows,
    /// The line of each row (for the database's conflicts).
    pub lines: Vec<u64>,
    /// Headers that name no column, ignored.
    pub ignored: Vec<String>,
}

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Rows (or the file) are wrong: every fault, in line order.
    #[error("{} faults in the file; nothing was stored", .0.len())]
    Invalid(Vec<RowError>),
    /// The database failed (nothing was stored).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads and checks a whole file (blocking: call it off the async threads). `today`
/// bounds birth dates; `keys` hash ID numbers (for the registered-already check).
#[allow(clippy::too_many_lines)] // one arm per register
pub fn validate(
    kind: Kind,
    format: Format,
    source: Box<dyn ReadSeek>,
    keys: &Keys,
    today: NaiveDate,
    progress: &(dyn Fn(Stage, u64, u64) + Sync),
) -> Result<Validated, ImportError> {
    let (rows, ignored) = read::rows(kind, format, source).map_err(ImportError::Invalid)?;
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    // First line of each code (and ID number) seen: a second is a fault.
    let mut codes: HashMap<String, u64> = HashMap::new();
    let mut ids: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut out = match kind {
        Kind::Buildings => ImportRows::Buildings(Vec::new()),
        Kind::Households => ImportRows::Households(Vec::new()),
        Kind::Residents => ImportRows::Residents(Vec::new()),
        Kind::Places => ImportRows::Places(Vec::new()),
        Kind::Organisations => ImportRows::Organisations(Vec::new()),
    };
    let mut n = 0u64;
    for row in rows {
        n += 1;
        if n.is_multiple_of(10_000) {
            progress(Stage::Checking, n, 0);
        }
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let line = row.line;
        let mut unique = |code: &str, errors: &mut Vec<RowError>| -> bool {
            if let Some(first) = codes.get(code) {
                errors.push(RowError {
                    line,
                    field: "code".into(),
                    reason: format!("the code {code:?} is also on line {first}"),
                });
                false
            } else {
                codes.insert(code.to_owned(), line);
                true
            }
        };
        let ok = match &mut out {
            ImportRows::Buildings(v) => check::building(&row)
                .map(|b| {
                    if unique(&b.record.code, &mut errors) {
                        v.push(b);
                    }
                })
                .map_err(|e| errors.extend(e))
                .is_ok(),
            ImportRows::Households(v) => check::household(&row)
                .map(|h| {
                    if unique(&h.record.code, &mut errors) {
                        v.push(h);
                    }
                })
                .map_err(|e| errors.extend(e))
                .is_ok(),
            ImportRows::Places(v) => check::place(&row)
                .map(|p| {
                    if unique(&p.record.code, &mut errors) {
                        v.push(p);
                    }
                })
                .map_err(|e| errors.extend(e))
                .is_ok(),
            ImportRows::Organisations(v) => check::organisation(&row)
                .map(|o| {
                    if unique(&o.record.record.code, &mut errors) {
                        v.push(o);
                    }
                })
                .map_err(|e| errors.extend(e))
                .is_ok(),
            ImportRows::Residents(v) => check::resident(&row, today, keys)
                .map(|r| {
                    if let Some(first) = ids.get(&r.id_lookup) {
                        errors.push(RowError {
                            line,
                            field: "id_number".into(),
                            reason: check::duplicate_id(&r.record.id_number, *first),
                        });
                    } else {
                        ids.insert(r.id_lookup.clone(), line);
                        v.push(r);
                    }
                })
                .map_err(|e| errors.extend(e))
                .is_ok(),
        };
        if ok && lines.len() < out.len() {
            lines.push(line);
        }
    }
    progress(Stage::Checking, n, n);
    if n == 0 && errors.is_empty() {
        errors.push(RowError {
            line: 0,
            field: "file".into(),
            reason: "the file holds no row".into(),
        });
    }
    if errors.is_empty() {
        Ok(Validated {
            rows: out,
            lines,
            ignored,
        })
    } else {
        errors.sort_by_key(|e| e.line);
        Err(ImportError::Invalid(errors))
    }
}

/// Stores checked rows, all or nothing: refused (nothing written) when a row conflicts with
/// what is stored or its location is outside `in_scope`. Returns how many were stored.
pub async fn store(
    store: &Store,
    keys: &Keys,
    v: Validated,
    in_scope: &(dyn Fn(f64, f64) -> bool + Sync),
    progress: &(dyn Fn(Stage, u64, u64) + Sync),
) -> Result<RegisterCounts, ImportError> {
    let Validated { rows, lines, .. } = v;
    let outcome = store
        .import_registers(rows, keys, in_scope, &|done, total| {
            progress(Stage::Writing, done, total);
        })
        .await?;
    match outcome {
        ImportOutcome::Stored(counts) => Ok(counts),
        ImportOutcome::Refused(conflicts) => Err(ImportError::Invalid(
            conflicts
                .into_iter()
                .map(
                    |ImportConflict {
                         index,
                         field,
                         reason,
                     }| RowError {
                        line: lines.get(index).copied().unwrap_or(0),
                        field: field.into(),
                        reason,
                    },
                )
                .collect(),
        )),
    }
}

/// The total of stored rows.
#[must_use]
pub fn total(c: &RegisterCounts) -> u64 {
    c.buildings + c.places + c.organisations + c.households + c.residents
}
