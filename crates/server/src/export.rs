//! Exports: `GET /api/v1/events.csv` and `GET /api/v1/events.geojson`.
//!
//! Any filter of the lists (`bbox` of any size, `category`, `status` (default `all`),
//! `from`, `to`) plus `area` (an id or code: its subtree), always narrowed to the caller's
//! scope. Rows stream from PostGIS in id order as they are read, in chunks of about 64 KB, so
//! that the full data set exports in constant memory without a time-out; the committed rows
//! are the source, descriptions included. Reporter contacts are never exported.

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

const CSV_HEADER: &str = "id,category,category_zh,title,description,status,priority,grid_id,grid_code,reported_at,due_at,updated_at,resolved_at,overdue,escalation,satisfied,assignee,merged_into,lon,lat,generated\n";

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
    let head = Bytes::from_static(match format {
        Format::Csv => CSV_HEADER.as_bytes(),
        Format::GeoJson => b"{\"type\":\"FeatureCollection\",\"features\":[\n",
    });
    let tail = Bytes::from_static(match format {
        Format::Csv => b"",
        Format::GeoJson => b"\n]}\n",
    });
    let mut first = true;
    let rows = rows.ready_chunks(256).map(move |batch| {
        let mut out = String::with_capacity(CHUNK);
        for row in batch {
            let row = row.map_err(|e| {
                tracing::error!(error = %e, "export failed");
                std::io::Error::other("export failed")
            })?;
            let line = Line::from_row(&row, &taxonomy, now);
            match format {
                Format::Csv => line.csv(&mut out),
                Format::GeoJson => {
                    if !first {
                        out.push_str(",\n");
                    }
                    out.push_str(&line.feature().to_string());
                }
            }
            first = false;
        }
        Ok::<_, std::io::Error>(Bytes::from(out))
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
    fn from_row(r: &tokio_postgres::Row, t: &minqing_model::Taxonomy, now: DateTime<Utc>) -> Line {
        let category: String = r.get(1);
        let status: String = r.get(4);
        let due_at: Option<DateTime<Utc>> = r.get(8);
        let open = Status::parse(&status).is_some_and(Status::is_open);
        let escalation: i16 = r.get(13);
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
        Line {
            id: r.get(0),
            category_zh,
            category,
            title: r.get(2),
            description: r.get(3),
            status,
            priority: r.get(5),
            grid_id: r.get(6),
            reported_at: r.get(7),
            due_at,
            updated_at: r.get(9),
            lon: r.get(10),
            lat: r.get(11),
            generated: r.get(12),
            escalation: ESCALATION_LEVELS
                .get(usize::try_from(escalation).unwrap_or(0))
                .copied()
                .unwrap_or("grid"),
            resolved_at: r.get(14),
            satisfied: r.get(15),
            assignee: r.get(16),
            merged_into: r.get(17),
            grid_code: r.get(18),
            overdue: open && due_at.is_some_and(|d| d < now),
        }
    }

    fn csv(&self, out: &mut String) {
        let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
        let fields = [
            self.id.to_string(),
            self.category.clone(),
            self.category_zh.clone(),
            self.title.clone(),
            self.description.clone(),
            self.status.clone(),
            self.priority.to_string(),
            self.grid_id.map(|g| g.to_string()).unwrap_or_default(),
            self.grid_code.clone().unwrap_or_default(),
            self.reported_at.to_rfc3339(),
            time(self.due_at),
            self.updated_at.to_rfc3339(),
            time(self.resolved_at),
            self.overdue.to_string(),
            self.escalation.to_owned(),
            self.satisfied.map(|b| b.to_string()).unwrap_or_default(),
            self.assignee.clone().unwrap_or_default(),
            self.merged_into.map(|m| m.to_string()).unwrap_or_default(),
            self.lon.to_string(),
            self.lat.to_string(),
            self.generated.to_string(),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(out, f);
        }
        out.push('\n');
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

/// Appends a CSV field (RFC 4180: quoted when it holds a comma, quote or line break; a
/// leading `=`, `+`, `-` or `@` is prefixed with `'` so that spreadsheets do not run it).
fn csv_field(out: &mut String, f: &str) {
    let formula =
        f.starts_with(['=', '+', '@']) || (f.starts_with('-') && f.parse::<f64>().is_err());
    let quote = formula || f.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
        if formula {
            out.push('\'');
        }
        out.push_str(&f.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(f);
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        let mut s = String::new();
        for f in ["a", "b,c", "say \"hi\"", "=1+1", "-12.5", "路灯\n坏了"] {
            csv_field(&mut s, f);
            s.push('|');
        }
        assert_eq!(
            s,
            "a|\"b,c\"|\"say \"\"hi\"\"\"|\"'=1+1\"|-12.5|\"路灯\n坏了\"|"
        );
    }
}
