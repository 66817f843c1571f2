//! Open311 GeoReport v2 under `/open311/v2/` (<http://wiki.open311.org/GeoReport_v2>).
//!
//! Every method answers `.xml` or `.json` (the suffix of the last path segment), UTF-8,
//! with errors in the spec's own format (`<errors><error><code/><description/>…` or
//! `[{"code", "description"}]`) and status 400 (bad input), 403 (bad `api_key` or token),
//! 404 (unknown jurisdiction, service, request or token), 429 (anonymous reports too fast).
//! JSON is the Spark mapping of the XML: root dropped, collections always arrays, empty
//! values `null`. Times are RFC 3339 in UTC with seconds.
//!
//! Mapping decisions:
//! - **Services** are the full taxonomy codes `category.subcategory`; `service_name` is the
//!   subcategory's Chinese name, `group` the category's, `description` the English names
//!   and the handling deadline, `keywords` codes and names. Every service is `realtime`
//!   without `metadata`; its definition holds one display-only attribute (the deadline).
//! - **Jurisdiction**: one, [`JURISDICTION_ID`]. `jurisdiction_id` may be left out; any other
//!   value is 404.
//! - **POST requests** (form-encoded, or multipart with its file parts ignored) takes the
//!   same path as `POST /api/v1/events`: validated, located in its grid, committed, applied
//!   to the live index, then answered (200 and `service_request_id`). `lat`/`long` are
//!   required (an `address_string` alone cannot be located). The description's first line
//!   (≤ 200 characters) becomes the title, or the service name when there is none;
//!   `media_url` is appended to the description; `first_name`, `last_name`, `email` and
//!   `phone` become the reporter contact, stored apart and never answered here. `api_key`
//!   (form, query, or an `Authorization: Bearer` header) is a minqing token; without one the
//!   report is anonymous and rate-limited.
//! - **Status**: `open` for open workflow states, `closed` for resolved, closed and rejected;
//!   `status_notes` is the latest non-empty history note, `updated_datetime` the last
//!   change, `expected_datetime` the deadline of an open case.
//! - **Access**: a token of a role that reads events gets full records within its scope
//!   (others are not found), with `lat`/`long`, the grid path as `address` and the area
//!   handling the case (by escalation) as `agency_responsible`. Anonymous callers and
//!   reporters get public records: no `lat`, `long`, `address`, `agency_responsible` or
//!   `status_notes`, and the service name as `description` (free text can name places and
//!   people).
//!   The reporter contact is never part of any answer.
//! - **GET requests**: `service_request_id` (comma list) overrides every other filter;
//!   otherwise `service_code`, `status` and a `start_date`/`end_date` window of at most 90
//!   days (default: the last 90 days), the most recent 1000 first.
//! - **Tokens**: the request id is its own token (our POST is synchronous, so it never
//!   returns a token); `tokens/{id}` answers `[{service_request_id, token}]` for an existing
//!   request.
//!
//! # Layout
//!
//! - `doc` — the format of a call (`.xml`, `.json`), the document tree every method builds,
//!   its XML (written with `quick-xml`) and Spark JSON.
//! - `fail` — errors in GeoReport's format, mapped from store and service errors.
//! - `args` — the path's file segment, the arguments, the caller and what it may see.
//! - `form` — the form of a POST: URL-encoded, or multipart (read with `multer`).
//! - `services` — discovery, services, service definitions.
//! - `report` — `POST requests`.
//! - `requests` — `GET requests`, `GET requests/{id}`, `GET tokens/{id}`.

mod args;
mod doc;
mod fail;
mod form;
mod report;
mod requests;
mod services;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;

use super::AppState;
use super::error::ApiError;
use args::O311Path;
use doc::split_format;
use fail::{Fail, answer, no_format};
use minqing_service::auth::Caller;

/// The one jurisdiction this endpoint serves.
pub const JURISDICTION_ID: &str = "minqing";
const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// When the discovery document last changed.
const CHANGESET: &str = "2026-11-29T00:00:00Z";
/// Longest description accepted and answered (the spec's limit), in characters.
const MAX_DESCRIPTION: usize = 4000;
/// Longest title (as `POST /api/v1/events`), in characters.
const MAX_TITLE: usize = 200;
/// Longest reporter contact (as `POST /api/v1/events`), in characters.
const MAX_CONTACT: usize = 200;
const MAX_MEDIA_URL: usize = 2000;
/// Most requests one GET answers, and the widest window.
const MAX_RESULTS: i64 = 1000;
const MAX_WINDOW_DAYS: i64 = 90;

/// `/open311/v2/…`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(top_get).post(top_post))
        .route(
            "/open311/v2/services/{file}",
            get(services::service_definition),
        )
        .route("/open311/v2/requests/{file}", get(requests::one_request))
        .route("/open311/v2/tokens/{file}", get(requests::token))
}

/// `GET {method}.{fmt}` of the methods at the top: discovery, services, requests.
async fn top_get(
    State(state): State<AppState>,
    caller: std::result::Result<Caller, ApiError>,
    O311Path(file): O311Path,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let (name, fmt) = split_format(&file);
    let Some(fmt) = fmt else {
        return no_format(&file);
    };
    let r = match name {
        "discovery" => Ok(services::discovery(fmt, &headers)),
        "services" => services::services(&state, fmt, &uri),
        "requests" => requests::list_requests(&state, fmt, caller, &uri).await,
        _ => Err(Fail::not_found(format!("no Open311 method {name:?}"))),
    };
    answer(fmt, r)
}

/// `POST {method}.{fmt}`: only requests.
async fn top_post(
    State(state): State<AppState>,
    caller: std::result::Result<Caller, ApiError>,
    O311Path(file): O311Path,
    headers: HeaderMap,
    uri: Uri,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let (name, fmt) = split_format(&file);
    let Some(fmt) = fmt else {
        return no_format(&file);
    };
    let r = match name {
        "requests" => report::create(&state, fmt, caller, &headers, &uri, body).await,
        "discovery" | "services" => Err(Fail::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{name} is read with GET"),
        )),
        _ => Err(Fail::not_found(format!("no Open311 method {name:?}"))),
    };
    answer(fmt, r)
}
