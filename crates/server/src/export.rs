//! Exports: `GET /api/v1/events.csv` and `GET /api/v1/events.geojson`.
//!
//! Any filter of the lists (`bbox` of any size, `category`, `status` (default `all`),
//! `from`, `to`) plus `area` (an id or code: its subtree), always narrowed to the caller's
//! scope. Rows stream from PostGIS in id order as they are read, in chunks of about 64 KB, so
//! that the full data set exports in constant memory without a time-out; the committed rows
//! are the source, descriptions included. Reporter contacts are never exported.

use std::borrow::Cow;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde_json::json;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::events::reader_filter;
use super::extract::Params;
use minqing_model::{ESCALATION_LEVELS, Status};
use minqing_service::auth::Caller;
use minqing_store::ExportFilter;

/// `/api/v1/events.csv`, `/api/v1/events.geojson`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events.csv", get(csv))
        .route("/api/v1/events.geojson", get(geojson))
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Csv,
    GeoJson,
}

const CHUNK: usize = 64 * 1024;

/// The columns of the CSV export, its header row.
const CSV_COLUMNS: [&str; 21] = [
    "id",
    "category",
    "category_zh",
    "title",
    "description",
    "status",
    "priority",
    "grid_id",
    "grid_code",
    "reported_at",
    "due_at",
    "updated_at",
    "resolved_at",
    "overdue",
    "escalation",
    "satisfied",
    "assignee",
    "merged_into",
    "lon",
    "lat",
    "generated",
];

async fn csv(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    export(state, caller, p, Format::Csv).await
}

async fn geojson(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    export(state, caller, p, Format::GeoJson).await
}

async fn export(state: AppState, caller: Caller, p: Params, format: Format) -> ApiResult<Response> {
    p.only(&["bbox", "category", "status", "from", "to", "area"])?;
    let f = reader_filter(&state, &caller, &p)?;
    let status = if p.str("status").is_none() {
        minqing_model::StatusFilter::All
    } else {
        f.status
    };
    let bbox = p.bbox(360.0)?;
    let areas = state.index.areas();
    let area_grids = match p.str("area") {
        None => None,
        Some(a) => {
            let area = areas
                .by_code(a)
                .or_else(|| a.parse::<i64>().ok().and_then(|id| areas.get(id)))
                .ok_or_else(|| ApiError::not_found(format!("no area {a:?} (an id or a code)")))?;
            Some(areas.grids_under(area.id))
        }
    };
    let grids = match (area_grids, &f.scope) {
        (None, None) => None,
        (Some(g), None) => Some(g),
        (None, Some(s)) => Some(s.grids.clone()),
        (Some(g), Some(s)) => Some(g.into_iter().filter(|id| s.has_grid(Some(*id))).collect()),
    };
    let codes = state.index.events(|ix| ix.categories().to_vec());
    let filter = ExportFilter {
        categories: f.categories.as_ref().map(|cs| {
            cs.iter()
                .filter_map(|c| codes.get(*c as usize).cloned())
                .collect()
        }),
        statuses: Status::ALL
            .iter()
            .filter(|s| status.matches(**s))
            .map(|s| s.as_str().to_owned())
            .collect(),
        from: f.from.and_then(DateTime::from_timestamp_micros),
        to: f.to.and_then(DateTime::from_timestamp_micros),
        bbox: bbox.map(|b| [b.min_lon, b.min_lat, b.max_lon, b.max_lat]),
        grids,
    };
    let rows = state.store.export_events(&filter).await?;
    let taxonomy = state.taxonomy.clone();
    let now = Utc::now();
    // Rows become text in chunks; a database error ends the body abruptly (the client sees
    // a truncated transfer, never a silently short file). The header (CSV) or the opening
    // of the collection (GeoJSON) goes first on its own, so that an export matching nothing
    // is still a whole file: the header row, or an empty FeatureCollection.
    let mut encoder = Encoder::new(format);
    let head = encoder.head().map_err(|e| {
        tracing::error!(error = %e, "export header not written");
        ApiError::internal()
    })?;
    let tail = Bytes::from_static(match format {
        Format::Csv => b"",
        Format::GeoJson => b"\n]}\n",
    });
    let rows = rows.ready_chunks(256).map(move |batch| {
        for row in batch {
            let line = row
                .map_err(|e| e.to_string())
                .and_then(|row| Line::from_row(&row, &taxonomy, now))
                .map_err(|e| {
                    tracing::error!(error = %e, "export failed");
                    std::io::Error::other("export failed")
                })?;
            encoder.row(&line)?;
        }
        encoder.take()
    });
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) })
        .chain(rows)
        .chain(futures_util::stream::once(async move { Ok(tail) }));
    let (kind, name) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "events.csv"),
        Format::GeoJson => ("application/geo+json", "events.geojson"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// Writes exported events in one format, a chunk at a time: the bytes written since the
/// last [`Encoder::take`] are all it holds.
enum Encoder {
    /// RFC 4180 rows (the `csv` crate: quoted when holding a comma, quote or line break),
    /// `\n`-terminated.
    Csv(Box<csv::Writer<Vec<u8>>>),
    /// Features of a FeatureCollection, one a line, comma-separated.
    GeoJson { out: Vec<u8>, first: bool },
}

impl Encoder {
    fn new(format: Format) -> Encoder {
        match format {
            Format::Csv => Encoder::Csv(Box::new(csv_writer())),
            Format::GeoJson => Encoder::GeoJson {
                out: Vec::with_capacity(CHUNK),
                first: true,
            },
        }
    }

    /// The start of the file: the header row, or the opening of the collection.
    fn head(&mut self) -> std::io::Result<Bytes> {
        match self {
            Encoder::Csv(w) => w.write_record(CSV_COLUMNS)?,
            Encoder::GeoJson { out, .. } => {
                out.extend_from_slice(b"{\"type\":\"FeatureCollection\",\"features\":[\n");
            }
        }
        self.take()
    }

    fn row(&mut self, line: &Line) -> std::io::Result<()> {
        match self {
            Encoder::Csv(w) => line.csv(w).map_err(std::io::Error::other),
            Encoder::GeoJson { out, first } => {
                if !*first {
                    out.extend_from_slice(b",\n");
                }
                *first = false;
                serde_json::to_writer(out, &line.feature()).map_err(std::io::Error::other)
            }
        }
    }

    /// The bytes written since the last call.
    fn take(&mut self) -> std::io::Result<Bytes> {
        let out = match self {
            Encoder::Csv(w) => std::mem::replace(w.as_mut(), csv_writer())
                .into_inner()
                .map_err(csv::IntoInnerError::into_error)?,
            Encoder::GeoJson { out, .. } => std::mem::replace(out, Vec::with_capacity(CHUNK)),
        };
        Ok(Bytes::from(out))
    }
}

/// A CSV writer into a chunk: RFC 4180 quoting, `\n` after each row, no header of its own.
fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::with_capacity(CHUNK))
}

/// One exported event.
struct Line {
    id: i64,
    category: String,
    category_zh: String,
    title: String,
    description: String,
    status: String,
    priority: i16,
    grid_id: Option<i64>,
    grid_code: Option<String>,
    reported_at: DateTime<Utc>,
    due_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    overdue: bool,
    escalation: &'static str,
    satisfied: Option<bool>,
    assignee: Option<String>,
    merged_into: Option<i64>,
    lon: f64,
    lat: f64,
    generated: bool,
}

impl Line {
    /// The event of a row of `export_events.sql`, its columns read by name; a column
    /// missing or of another type is an error naming it.
    fn from_row(
        r: &tokio_postgres::Row,
        t: &minqing_model::Taxonomy,
        now: DateTime<Utc>,
    ) -> Result<Line, String> {
        fn col<'a, T: tokio_postgres::types::FromSql<'a>>(
            r: &'a tokio_postgres::Row,
            name: &str,
        ) -> Result<T, String> {
            r.try_get(name)
                .map_err(|e| format!("export column {name:?}: {e}"))
        }
        let category: String = col(r, "category")?;
        let status: String = col(r, "status")?;
        let due_at: Option<DateTime<Utc>> = col(r, "due_at")?;
        let open = Status::parse(&status).is_some_and(Status::is_open);
        let escalation: i16 = col(r, "escalation")?;
        let category_zh = t
            .category_of(&category)
            .map(|c| {
                match category
                    .split_once('.')
                    .and_then(|(_, s)| c.subcategories.iter().find(|x| x.code == s))
                {
                    Some(s) => format!("{}/{}", c.zh, s.zh),
                    None => c.zh.clone(),
                }
            })
            .unwrap_or_default();
        Ok(Line {
            id: col(r, "id")?,
            category_zh,
            category,
            title: col(r, "title")?,
            description: col(r, "description")?,
            status,
            priority: col(r, "priority")?,
            grid_id: col(r, "grid_id")?,
            reported_at: col(r, "reported_at")?,
            due_at,
            updated_at: col(r, "updated_at")?,
            lon: col(r, "lon")?,
            lat: col(r, "lat")?,
            generated: col(r, "generated")?,
            escalation: ESCALATION_LEVELS
                .get(usize::try_from(escalation).unwrap_or(0))
                .copied()
                .unwrap_or("grid"),
            resolved_at: col(r, "resolved_at")?,
            satisfied: col(r, "satisfied")?,
            assignee: col(r, "assignee")?,
            merged_into: col(r, "merged_into")?,
            grid_code: col(r, "grid_code")?,
            overdue: open && due_at.is_some_and(|d| d < now),
        })
    }

    /// Writes the CSV row, in the order of [`CSV_COLUMNS`].
    fn csv(&self, w: &mut csv::Writer<Vec<u8>>) -> csv::Result<()> {
        fn text(s: Option<&str>) -> Cow<'_, str> {
            Cow::Borrowed(s.unwrap_or(""))
        }
        let time =
            |t: Option<DateTime<Utc>>| t.map_or(Cow::Borrowed(""), |t| t.to_rfc3339().into());
        let int = |n: Option<i64>| n.map_or(Cow::Borrowed(""), |n| n.to_string().into());
        let flag = |b: bool| Cow::Borrowed(if b { "true" } else { "false" });
        let fields: [Cow<'_, str>; CSV_COLUMNS.len()] = [
            self.id.to_string().into(),
            text(Some(&self.category)),
            text(Some(&self.category_zh)),
            text(Some(&self.title)),
            text(Some(&self.description)),
            text(Some(&self.status)),
            self.priority.to_string().into(),
            int(self.grid_id),
            text(self.grid_code.as_deref()),
            time(Some(self.reported_at)),
            time(self.due_at),
            time(Some(self.updated_at)),
            time(self.resolved_at),
            flag(self.overdue),
            text(Some(self.escalation)),
            self.satisfied.map_or(Cow::Borrowed(""), flag),
            text(self.assignee.as_deref()),
            int(self.merged_into),
            self.lon.to_string().into(),
            self.lat.to_string().into(),
            flag(self.generated),
        ];
        for f in &fields {
            w.write_field(defused(f).as_bytes())?;
        }
        w.write_record(None::<&[u8]>)
    }

    fn feature(&self) -> serde_json::Value {
        json!({
            "type": "Feature",
            "id": self.id,
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": {
                "category": self.category, "category_zh": self.category_zh,
                "title": self.title, "description": self.description, "status": self.status,
                "priority": self.priority, "grid_id": self.grid_id, "grid_code": self.grid_code,
                "reported_at": self.reported_at, "due_at": self.due_at,
                "updated_at": self.updated_at, "resolved_at": self.resolved_at,
                "overdue": self.overdue, "escalation": self.escalation,
                "satisfied": self.satisfied, "assignee": self.assignee,
                "merged_into": self.merged_into, "generated": self.generated,
            },
        })
    }
}

/// A field as spreadsheets may open it: one with a leading `=`, `+`, `@`, or a `-` that does
/// not start a number, is prefixed with `'` so that it is not run as a formula.
fn defused(f: &str) -> Cow<'_, str> {
    let formula =
        f.starts_with(['=', '+', '@']) || (f.starts_with('-') && f.parse::<f64>().is_err());
    if formula {
        Cow::Owned(format!("'{f}"))
    } else {
        Cow::Borrowed(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_row(fields: &[&str]) -> String {
        let mut w = csv_writer();
        for f in fields {
            w.write_field(defused(f).as_bytes()).unwrap();
        }
        w.write_record(None::<&[u8]>).unwrap();
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(
            csv_row(&[
                "a",
                "b,c",
                "say \"hi\"",
                "=1+1",
                "-12.5",
                "路灯\n坏了",
                "@x, y",
                "a\rb",
                ""
            ]),
            "a,\"b,c\",\"say \"\"hi\"\"\",'=1+1,-12.5,\"路灯\n坏了\",\"'@x, y\",\"a\rb\",\n"
        );
    }

    #[test]
    fn chunks_hold_what_was_written_since_the_last() {
        let mut e = Encoder::new(Format::Csv);
        let head = e.head().unwrap();
        assert!(head.starts_with(b"id,category,category_zh,title,"));
        assert!(head.ends_with(b",lon,lat,generated\n"));
        assert!(e.take().unwrap().is_empty());
        let mut g = Encoder::new(Format::GeoJson);
        assert_eq!(
            &g.head().unwrap()[..],
            b"{\"type\":\"FeatureCollection\",\"features\":[\n"
        );
    }
}
