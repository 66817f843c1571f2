//! `GET requests`, `GET requests/{id}` and `GET tokens/{id}`: service requests as the
//! caller may see them (full records in its scope, or public records).

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use chrono::{DateTime, Datelike, Duration, Utc};

use super::args::{Args, O311Path, View, check_jurisdiction, resolve_caller};
use super::doc::{Format, Node, ok, opt_text, split_format, text, time};
use super::fail::{Fail, Result, answer, no_format};
use super::{MAX_DESCRIPTION, MAX_RESULTS, MAX_WINDOW_DAYS};
use crate::AppState;
use crate::error::ApiError;
use minqing_model::{ESCALATION_LEVELS, Event, Status};
use minqing_service::auth::Caller;
use minqing_store::ExportFilter;

/// A W3C-DTF time with its time zone (`2026-01-31T08:00:00+08:00`, `…Z`, seconds optional),
/// its year of four digits as W3C-DTF has it (a wider year is refused: the window
/// arithmetic and PostgreSQL have ends). A `+` decoded to a space by a client that did not
/// encode it is taken back.
fn w3_time(key: &str, v: &str) -> Result<DateTime<Utc>> {
    let fixed = v.trim().replace(' ', "+");
    let with_offset = match fixed.strip_suffix(['Z', 'z']) {
        Some(head) => format!("{head}+00:00"),
        None => fixed.clone(),
    };
    DateTime::parse_from_rfc3339(&fixed)
        .or_else(|_| DateTime::parse_from_str(&with_offset, "%Y-%m-%dT%H:%M%:z"))
        .ok()
        .filter(|t| (0..=9999).contains(&t.year()))
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            Fail::bad(format!(
                "{key} must be a date and time with its time zone, such as \
                 2026-01-31T08:00:00+08:00 or 2026-01-31T00:00:00Z, not {v:?}"
            ))
        })
}

/// A reported-time window `[from, to)`, either end open when `None`.
type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The reported-time window of a list; by default the last 90 days.
fn window(args: &Args) -> Result<Window> {
    let span = Duration::days(MAX_WINDOW_DAYS);
    let start = args
        .get("start_date")
        .map(|v| w3_time("start_date", v))
        .transpose()?;
    let end = args
        .get("end_date")
        .map(|v| w3_time("end_date", v))
        .transpose()?;
    // Four-digit years keep these within chrono's range; checked all the same.
    let shift = |t: DateTime<Utc>, d: Duration| {
        t.checked_add_signed(d)
            .ok_or_else(|| Fail::bad("start_date or end_date is out of range"))
    };
    // end_date is inclusive.
    let after_end = |t: DateTime<Utc>| shift(t, Duration::microseconds(1));
    match (start, end) {
        (None, None) => Ok((Some(shift(Utc::now(), -span)?), None)),
        (Some(s), None) => Ok((Some(s), Some(shift(s, span)?))),
        (None, Some(e)) => Ok((Some(shift(e, -span)?), Some(after_end(e)?))),
        (Some(s), Some(e)) if s > e => Err(Fail::bad("start_date must not be after end_date")),
        (Some(s), Some(e)) if e - s > span => Err(Fail::bad(format!(
            "start_date to end_date may not span more than {MAX_WINDOW_DAYS} days"
        ))),
        (Some(s), Some(e)) => Ok((Some(s), Some(after_end(e)?))),
    }
}

/// The Open311 status of a workflow state.
fn open311_status(s: Status) -> &'static str {
    if s.is_open() { "open" } else { "closed" }
}

/// The filter of `GET requests` (without `service_request_id`).
fn request_filter(state: &AppState, args: &Args, view: &View) -> Result<ExportFilter> {
    let categories = match args.list("service_code") {
        None => None,
        Some(codes) if codes.is_empty() => None,
        Some(codes) => {
            for c in &codes {
                if state.taxonomy.number(c).is_none() {
                    return Err(Fail::not_found(format!(
                        "service_code {c:?} was not found; see services.xml for the codes"
                    )));
                }
            }
            Some(codes.into_iter().map(str::to_owned).collect())
        }
    };
    let wanted = match args.list("status") {
        None => vec!["open", "closed"],
        Some(list) => {
            for s in &list {
                if !["open", "closed"].contains(s) {
                    return Err(Fail::bad(format!(
                        "status must be open, closed, or both as a comma list; not {s:?}"
                    )));
                }
            }
            list
        }
    };
    let statuses = Status::ALL
        .into_iter()
        .filter(|s| wanted.contains(&open311_status(*s)))
        .map(|s| s.as_str().to_owned())
        .collect();
    let (from, to) = window(args)?;
    Ok(ExportFilter {
        categories,
        statuses,
        from,
        to,
        bbox: None,
        grids: view.grids.clone(),
    })
}

/// The grid path of a case, most specific first, and the area handling it now.
fn place(state: &AppState, e: &Event) -> (Option<String>, Option<String>) {
    let areas = state.index.areas();
    let Some(grid) = e.grid_id.and_then(|g| areas.get(g)) else {
        return (None, None);
    };
    let mut path = vec![grid];
    path.extend(areas.ancestors(grid));
    let address = path
        .iter()
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let level = ESCALATION_LEVELS
        .get(usize::from(e.escalation))
        .copied()
        .unwrap_or("grid");
    let agency = path
        .iter()
        .find(|a| a.level.as_str() == level)
        .map(|a| a.name.clone());
    (Some(address), agency)
}

/// One service request as Open311 shows it to `view`.
fn request_node(state: &AppState, e: &Event, note: Option<String>, full: bool) -> Node {
    let (address, agency) = if full { place(state, e) } else { (None, None) };
    let service_name = state.taxonomy.category_of(&e.category).map(|c| {
        e.category
            .split_once('.')
            .and_then(|(_, sub)| c.subcategories.iter().find(|s| s.code == sub))
            .map_or_else(|| c.zh.clone(), |s| s.zh.clone())
    });
    let service_name = service_name.unwrap_or_else(|| e.category.clone());
    // Free text written by residents and staff can name places and people: public records
    // carry the service name instead, and no notes.
    let description = if full {
        e.description
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or(&e.title)
            .chars()
            .take(MAX_DESCRIPTION)
            .collect::<String>()
    } else {
        service_name.clone()
    };
    let note = note.filter(|n| full && !n.is_empty());
    let coord = |x: f64| if full { Node::Num(x) } else { Node::Null };
    Node::Obj(vec![
        ("service_request_id", text(e.id.to_string())),
        ("status", text(open311_status(e.status))),
        ("status_notes", opt_text(note)),
        ("service_name", text(service_name)),
        ("service_code", text(e.category.clone())),
        ("description", text(description)),
        ("agency_responsible", opt_text(agency)),
        ("service_notice", Node::Null),
        ("requested_datetime", time(e.reported_at)),
        ("updated_datetime", time(e.updated_at)),
        (
            "expected_datetime",
            e.due_at
                .filter(|_| e.status.is_open())
                .map_or(Node::Null, time),
        ),
        ("address", opt_text(address)),
        ("address_id", Node::Null),
        ("zipcode", Node::Null),
        ("lat", coord(e.lat)),
        ("long", coord(e.lon)),
        ("media_url", Node::Null),
    ])
}

fn requests_doc(state: &AppState, rows: Vec<(Event, Option<String>)>, full: bool) -> Node {
    Node::List(
        "request",
        rows.into_iter()
            .map(|(e, note)| request_node(state, &e, note, full))
            .collect(),
    )
}

/// Request ids of a comma list.
fn request_ids(list: &[&str]) -> Result<Vec<i64>> {
    if list.len() > usize::try_from(MAX_RESULTS).unwrap_or(usize::MAX) {
        return Err(Fail::bad(format!(
            "at most {MAX_RESULTS} service_request_id values at once"
        )));
    }
    list.iter()
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                Fail::bad(format!(
                    "service_request_id must be a comma list of request ids, not {s:?}"
                ))
            })
        })
        .collect()
}

/// `GET requests.{fmt}`.
pub(super) async fn list_requests(
    state: &AppState,
    fmt: Format,
    caller: std::result::Result<Caller, ApiError>,
    uri: &Uri,
) -> Result<Response> {
    let args = Args::from_query(uri)?;
    check_jurisdiction(&args)?;
    let caller = resolve_caller(state, caller, &args).await?;
    let view = View::of(state, &caller);
    let rows = if let Some(list) = args.list("service_request_id").filter(|l| !l.is_empty()) {
        let ids = request_ids(&list)?;
        state
            .store
            .open311_requests_by_id(&ids, view.grids.as_deref())
            .await?
    } else {
        let f = request_filter(state, &args, &view)?;
        state.store.open311_requests(&f, MAX_RESULTS).await?
    };
    Ok(ok(
        fmt,
        "service_requests",
        &requests_doc(state, rows, view.full),
    ))
}

/// One request the caller may see, by the id in a path (`None` when there is none).
async fn visible_request(
    state: &AppState,
    view: &View,
    id: &str,
) -> Result<Option<(Event, Option<String>)>> {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(None);
    };
    Ok(state
        .store
        .open311_requests_by_id(&[id], view.grids.as_deref())
        .await?
        .into_iter()
        .next())
}

/// `GET requests/{id}.{fmt}`: an array of one.
pub(super) async fn one_request(
    State(state): State<AppState>,
    caller: std::result::Result<Caller, ApiError>,
    O311Path(file): O311Path,
    uri: Uri,
) -> Response {
    let (id, fmt) = split_format(&file);
    let Some(fmt) = fmt else {
        return no_format(&file);
    };
    answer(fmt, request_by_id(&state, fmt, caller, id, &uri).await)
}

async fn request_by_id(
    state: &AppState,
    fmt: Format,
    caller: std::result::Result<Caller, ApiError>,
    id: &str,
    uri: &Uri,
) -> Result<Response> {
    let args = Args::from_query(uri)?;
    check_jurisdiction(&args)?;
    let caller = resolve_caller(state, caller, &args).await?;
    let view = View::of(state, &caller);
    let row = visible_request(state, &view, id)
        .await?
        .ok_or_else(|| Fail::not_found(format!("service_request_id {id:?} was not found")))?;
    Ok(ok(
        fmt,
        "service_requests",
        &requests_doc(state, vec![row], view.full),
    ))
}

/// `GET tokens/{token}.{fmt}`: a request id is its own token.
pub(super) async fn token(
    State(state): State<AppState>,
    caller: std::result::Result<Caller, ApiError>,
    O311Path(file): O311Path,
    uri: Uri,
) -> Response {
    let (token, fmt) = split_format(&file);
    let Some(fmt) = fmt else {
        return no_format(&file);
    };
    answer(fmt, token_answer(&state, fmt, caller, token, &uri).await)
}

async fn token_answer(
    state: &AppState,
    fmt: Format,
    caller: std::result::Result<Caller, ApiError>,
    token: &str,
    uri: &Uri,
) -> Result<Response> {
    let args = Args::from_query(uri)?;
    check_jurisdiction(&args)?;
    let caller = resolve_caller(state, caller, &args).await?;
    let view = View::of(state, &caller);
    let (e, _) = visible_request(state, &view, token)
        .await?
        .ok_or_else(|| Fail::not_found(format!("token {token:?} was not found")))?;
    let doc = Node::List(
        "request",
        vec![Node::Obj(vec![
            ("service_request_id", text(e.id.to_string())),
            ("token", text(token)),
        ])],
    );
    Ok(ok(fmt, "service_requests", &doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_need_a_zone() {
        let t = w3_time("d", "2026-01-31T08:00:00+08:00").unwrap_or_default();
        assert_eq!(t.to_rfc3339(), "2026-01-31T00:00:00+00:00");
        assert!(w3_time("d", "2026-01-31T08:00:00 08:00").is_ok());
        assert!(w3_time("d", "2026-01-31T08:00Z").is_ok());
        assert!(w3_time("d", "2026-01-31T08:00:00").is_err());
        assert!(w3_time("d", "2026-01-31").is_err());
    }

    /// `start_date=+262142-12-31T23:59Z` panicked (chrono's `+` overflowed).
    #[test]
    fn windows_at_the_ends_of_time_are_refused_not_panics() {
        let window_of = |k: &str, v: &str| {
            let mut a = Args::default();
            a.add(vec![(k.into(), v.into())])
                .and_then(|()| window(&a))
                .map_err(|f| f.status.as_u16())
        };
        for (k, v) in [
            ("start_date", "+262142-12-31T23:59Z"),
            ("start_date", "262142-12-31T23:59Z"),
            ("end_date", "-262143-01-01T00:00Z"),
            ("end_date", "12026-01-01T00:00Z"),
        ] {
            assert_eq!(window_of(k, v), Err(400), "{k}={v}");
        }
        for (k, v) in [
            ("start_date", "9999-12-31T23:59:59Z"),
            ("end_date", "9999-12-31T23:59:59-14:00"),
            ("end_date", "0000-01-01T00:00:00Z"),
            ("start_date", "0000-01-01T00:00+14:00"),
        ] {
            assert!(window_of(k, v).is_ok(), "{k}={v}");
        }
    }
}
