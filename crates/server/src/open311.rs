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

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Map, Value};

use super::AppState;
use super::error::ApiError;
use super::extract::negotiate::public_base;
use minqing_model::{
    Category, ESCALATION_LEVELS, Event, NewEvent, Status, Subcategory, check_lon_lat,
};
use minqing_service::auth::Caller;
use minqing_service::reports::{self, SubmitError};
use minqing_store::{ExportFilter, StoreError};

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
const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";

/// `/open311/v2/…`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(top_get).post(top_post))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
}

// ---------------------------------------------------------------------------------------
// Formats, documents, errors

/// The format a client asked for with the path suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Xml,
    Json,
}

/// `services.json` → (`services`, JSON); no known suffix → the whole name and `None`.
fn split_format(file: &str) -> (&str, Option<Format>) {
    match file.rsplit_once('.') {
        Some((stem, ext)) if ext.eq_ignore_ascii_case("xml") => (stem, Some(Format::Xml)),
        Some((stem, ext)) if ext.eq_ignore_ascii_case("json") => (stem, Some(Format::Json)),
        _ => (file, None),
    }
}

/// A response document, rendered to XML or to its Spark JSON.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    Null,
    /// Fields in order.
    Obj(Vec<(&'static str, Node)>),
    /// A collection: the element name of each item, and the items.
    List(&'static str, Vec<Node>),
}

fn text(s: impl Into<String>) -> Node {
    Node::Text(s.into())
}

fn opt_text(s: Option<String>) -> Node {
    s.map_or(Node::Null, Node::Text)
}

fn time(t: DateTime<Utc>) -> Node {
    Node::Text(t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn to_json(n: &Node) -> Value {
    match n {
        Node::Text(s) => Value::String(s.clone()),
        Node::Int(i) => Value::from(*i),
        Node::Num(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        Node::Bool(b) => Value::Bool(*b),
        Node::Null => Value::Null,
        Node::Obj(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), to_json(v)))
                .collect::<Map<_, _>>(),
        ),
        Node::List(_, items) => Value::Array(items.iter().map(to_json).collect()),
    }
}

/// Appends `s` escaped for XML text, with characters XML 1.0 cannot hold replaced by U+FFFD.
fn escape_xml(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

fn to_xml(tag: &str, n: &Node, out: &mut String) {
    let _ = write!(out, "<{tag}>");
    match n {
        Node::Text(s) => escape_xml(s, out),
        Node::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Node::Num(x) if x.is_finite() => {
            let _ = write!(out, "{x}");
        }
        Node::Num(_) | Node::Null => {}
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Obj(fields) => {
            for (k, v) in fields {
                to_xml(k, v, out);
            }
        }
        Node::List(child, items) => {
            for item in items {
                to_xml(child, item, out);
            }
        }
    }
    let _ = write!(out, "</{tag}>");
}

/// The document as XML (under `root`, with the declaration) or JSON (root dropped).
fn render(fmt: Format, status: StatusCode, root: &str, doc: &Node) -> Response {
    let (content_type, body) = match fmt {
        Format::Xml => {
            let mut s = String::from(XML_DECLARATION);
            s.push('\n');
            to_xml(root, doc, &mut s);
            ("text/xml; charset=utf-8", s)
        }
        Format::Json => ("application/json; charset=utf-8", to_json(doc).to_string()),
    };
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

fn ok(fmt: Format, root: &str, doc: &Node) -> Response {
    render(fmt, StatusCode::OK, root, doc)
}

/// An Open311 error: its HTTP status (also the body's `code`) and a description for people.
#[derive(Debug)]
struct Fail {
    status: StatusCode,
    description: String,
    retry_after: Option<u64>,
}

type Result<T> = std::result::Result<T, Fail>;

impl Fail {
    fn new(status: StatusCode, description: impl Into<String>) -> Fail {
        Fail {
            status,
            description: description.into(),
            retry_after: None,
        }
    }

    fn bad(description: impl Into<String>) -> Fail {
        Fail::new(StatusCode::BAD_REQUEST, description)
    }

    fn forbidden(description: impl Into<String>) -> Fail {
        Fail::new(StatusCode::FORBIDDEN, description)
    }

    fn not_found(description: impl Into<String>) -> Fail {
        Fail::new(StatusCode::NOT_FOUND, description)
    }

    fn too_many(seconds: u64) -> Fail {
        Fail {
            retry_after: Some(seconds),
            ..Fail::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many reports from this address; retry in {seconds} s"),
            )
        }
    }

    fn render(self, fmt: Format) -> Response {
        let doc = Node::List(
            "error",
            vec![Node::Obj(vec![
                ("code", Node::Int(i64::from(self.status.as_u16()))),
                ("description", text(self.description)),
            ])],
        );
        let mut r = render(fmt, self.status, "errors", &doc);
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

impl From<StoreError> for Fail {
    /// Input faults are GeoReport's 400; everything else as the REST API maps it (one
    /// mapping: status, message, `Retry-After`, what is logged).
    fn from(e: StoreError) -> Fail {
        match e {
            StoreError::Input(m) => Fail::bad(m),
            other => {
                let api = ApiError::from(other);
                Fail {
                    status: api.status_code(),
                    description: api.message().to_owned(),
                    retry_after: api.retry_after(),
                }
            }
        }
    }
}

impl From<SubmitError> for Fail {
    fn from(e: SubmitError) -> Fail {
        match e {
            SubmitError::Store(e) => e.into(),
            // Open311 sends no idempotency key.
            SubmitError::KeyReused => Fail::bad(e.to_string()),
        }
    }
}

/// A REST error of a shared helper (token lookup): its status, with a generic description
/// (its detail was logged where it happened).
impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Fail {
        let status = e.status_code();
        let description = if status == StatusCode::SERVICE_UNAVAILABLE {
            "the service is unavailable; retry later"
        } else {
            "internal error"
        };
        Fail::new(status, description)
    }
}

/// Answers `r`, or its error in `fmt`.
fn answer(fmt: Format, r: Result<Response>) -> Response {
    r.unwrap_or_else(|e| e.render(fmt))
}

/// 404 for a path without a known format suffix (answered in XML, the required format).
fn no_format(file: &str) -> Response {
    Fail::not_found(format!(
        "{file:?} is not served here; add the format: .xml or .json"
    ))
    .render(Format::Xml)
}

/// The file segment of an Open311 path (`requests.json`). A segment that cannot be read
/// (not UTF-8) is a 400 in Open311's error format, in the format its raw path ends with.
struct O311Path(String);

impl<S: Send + Sync> FromRequestParts<S> for O311Path {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> std::result::Result<Self, Response> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| O311Path(v))
            .map_err(|e| {
                let fmt = if parts.uri.path().ends_with(".json") {
                    Format::Json
                } else {
                    Format::Xml
                };
                Fail::bad(e.body_text()).render(fmt)
            })
    }
}

// ---------------------------------------------------------------------------------------
// Arguments and callers

/// Arguments of a call (query string, and form fields for POST). An argument sent empty
/// counts as not sent; the same name twice with different values is refused.
#[derive(Debug, Default)]
struct Args(BTreeMap<String, String>);

impl Args {
    fn add(&mut self, pairs: Vec<(String, String)>) -> Result<()> {
        for (k, v) in pairs {
            // PostgreSQL's text cannot hold U+0000: refused here, naming the argument.
            if k.contains('\0') {
                return Err(Fail::bad(format!(
                    "argument name {k:?} holds a NUL character (U+0000)"
                )));
            }
            if v.contains('\0') {
                return Err(Fail::bad(format!(
                    "{k} holds a NUL character (U+0000), which no text may hold"
                )));
            }
            let v = v.trim().to_owned();
            if v.is_empty() || k.starts_with("attribute[") {
                // Attributes: our services define none a client fills in.
                continue;
            }
            if let Some(old) = self.0.get(&k)
                && *old != v
            {
                return Err(Fail::bad(format!(
                    "{k} was given twice with different values"
                )));
            }
            self.0.insert(k, v);
        }
        Ok(())
    }

    fn from_query(uri: &Uri) -> Result<Args> {
        let pairs = serde_urlencoded::from_str(uri.query().unwrap_or(""))
            .map_err(|e| Fail::bad(format!("malformed query string: {e}")))?;
        let mut a = Args::default();
        a.add(pairs)?;
        Ok(a)
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    /// A comma list, empty items dropped.
    fn list(&self, k: &str) -> Option<Vec<&str>> {
        self.get(k).map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
    }
}

/// 404 unless `jurisdiction_id` is absent or ours.
fn check_jurisdiction(args: &Args) -> Result<()> {
    match args.get("jurisdiction_id") {
        None => Ok(()),
        Some(j) if j == JURISDICTION_ID => Ok(()),
        Some(j) => Err(Fail::not_found(format!(
            "jurisdiction_id {j:?} was not found; this endpoint serves one jurisdiction, \
             {JURISDICTION_ID:?} (the argument may be left out)"
        ))),
    }
}

/// The caller: the `api_key` argument if given, else the `Authorization` header. An invalid
/// key or header is 403.
async fn resolve_caller(
    state: &AppState,
    header: std::result::Result<Caller, ApiError>,
    args: &Args,
) -> Result<Caller> {
    let header = header.map_err(|_| {
        Fail::forbidden("invalid token in the Authorization header -- can't proceed")
    })?;
    let Some(key) = args.get("api_key") else {
        return Ok(header);
    };
    let principal = if key.len() <= 200 {
        state
            .auth
            .principal(&state.store, state.live.token_generation(), key)
            .await?
    } else {
        None
    };
    match principal {
        Some(p) => Ok(Caller {
            principal: Some(p),
            ip: header.ip,
            token_hash: Some(std::sync::Arc::from(minqing_service::auth::hash(key))),
        }),
        None => Err(Fail::forbidden(
            "Invalid api_key received -- can't proceed (unknown or revoked key)",
        )),
    }
}

/// What a caller may see of requests: `full` records (with locations) in `grids` (`None` =
/// all), or public records of every request.
struct View {
    full: bool,
    grids: Option<Vec<i64>>,
}

impl View {
    fn of(state: &AppState, caller: &Caller) -> View {
        match caller.role() {
            Some(r) if r.reads_events() => View {
                full: true,
                grids: state.scope_grids(caller).map(|g| g.grids.clone()),
            },
            _ => View {
                full: false,
                grids: None,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------
// Handlers

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
        "discovery" => Ok(discovery(fmt, &headers)),
        "services" => services(&state, fmt, &uri),
        "requests" => list_requests(&state, fmt, caller, &uri).await,
        _ => Err(Fail::not_found(format!("no Open311 method {name:?}"))),
    };
    answer(fmt, r)
}

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
        "requests" => create(&state, fmt, caller, &headers, &uri, body).await,
        "discovery" | "services" => Err(Fail::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{name} is read with GET"),
        )),
        _ => Err(Fail::not_found(format!("no Open311 method {name:?}"))),
    };
    answer(fmt, r)
}

/// `GET discovery.{fmt}`.
fn discovery(fmt: Format, headers: &HeaderMap) -> Response {
    let endpoint = Node::Obj(vec![
        ("specification", text(SPECIFICATION)),
        ("url", text(format!("{}/open311/v2", public_base(headers)))),
        ("changeset", text(CHANGESET)),
        ("type", text("production")),
        (
            "formats",
            Node::List("format", vec![text("text/xml"), text("application/json")]),
        ),
    ]);
    let doc = Node::Obj(vec![
        ("changeset", text(CHANGESET)),
        (
            "contact",
            text(format!(
                "minqing grid governance centre (民情地图); jurisdiction_id {JURISDICTION_ID} \
                 (optional). Reports need lat and long (WGS84)."
            )),
        ),
        (
            "key_service",
            text(
                "An api_key is a minqing token, issued by the city command centre \
                 (minqing token create). Reports may also be sent without one (rate-limited).",
            ),
        ),
        ("endpoints", Node::List("endpoint", vec![endpoint])),
    ]);
    ok(fmt, "discovery", &doc)
}

/// A service: its code, its category and subcategory (both exist).
struct Service<'a> {
    code: String,
    category: &'a Category,
    sub: &'a Subcategory,
}

fn all_services(state: &AppState) -> Vec<Service<'_>> {
    state
        .taxonomy
        .categories()
        .iter()
        .flat_map(|c| {
            c.subcategories.iter().map(move |s| Service {
                code: format!("{}.{}", c.code, s.code),
                category: c,
                sub: s,
            })
        })
        .collect()
}

fn find_service<'a>(state: &'a AppState, code: &str) -> Result<Service<'a>> {
    all_services(state)
        .into_iter()
        .find(|s| s.code == code)
        .ok_or_else(|| {
            Fail::not_found(format!(
                "service_code {code:?} was not found; see services.xml for the codes"
            ))
        })
}

fn service_node(s: &Service<'_>) -> Node {
    let c = s.category;
    Node::Obj(vec![
        ("service_code", text(s.code.clone())),
        ("service_name", text(s.sub.zh.clone())),
        (
            "description",
            text(format!(
                "{}: {}. Handled within {} days of acceptance.",
                c.en, s.sub.en, c.deadline_days
            )),
        ),
        ("metadata", Node::Bool(false)),
        ("type", text("realtime")),
        (
            "keywords",
            text(format!(
                "{}, {}, {}, {}, {}",
                s.code, c.zh, s.sub.zh, c.en, s.sub.en
            )),
        ),
        ("group", text(c.zh.clone())),
    ])
}

/// `GET services.{fmt}`.
fn services(state: &AppState, fmt: Format, uri: &Uri) -> Result<Response> {
    check_jurisdiction(&Args::from_query(uri)?)?;
    let items = all_services(state).iter().map(service_node).collect();
    Ok(ok(fmt, "services", &Node::List("service", items)))
}

/// `GET services/{code}.{fmt}`: no attribute to fill in; one display-only attribute tells
/// the handling deadline.
async fn service_definition(
    State(state): State<AppState>,
    O311Path(file): O311Path,
    uri: Uri,
) -> Response {
    let (code, fmt) = split_format(&file);
    let Some(fmt) = fmt else {
        return no_format(&file);
    };
    answer(fmt, definition(&state, fmt, code, &uri))
}

/// The service definition document of `code`.
fn definition(state: &AppState, fmt: Format, code: &str, uri: &Uri) -> Result<Response> {
    check_jurisdiction(&Args::from_query(uri)?)?;
    let s = find_service(state, code)?;
    let deadline = Node::Obj(vec![
        ("variable", Node::Bool(false)),
        ("code", text("DEADLINE")),
        ("datatype", text("string")),
        ("required", Node::Bool(false)),
        ("datatype_description", Node::Null),
        ("order", Node::Int(1)),
        (
            "description",
            text(format!(
                "{} ({}): handled within {} days of acceptance (受理后 {} 天内办结).",
                s.sub.zh, s.sub.en, s.category.deadline_days, s.category.deadline_days
            )),
        ),
    ]);
    let doc = Node::Obj(vec![
        ("service_code", text(s.code.clone())),
        ("attributes", Node::List("attribute", vec![deadline])),
    ]);
    Ok(ok(fmt, "service_definition", &doc))
}

// ---------------------------------------------------------------------------------------
// POST requests

/// Form fields of a POST body: URL-encoded, or multipart (text parts only).
fn form_fields(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_owned();
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" | "" => serde_urlencoded::from_bytes(body)
            .map_err(|e| Fail::bad(format!("malformed form body: {e}"))),
        "multipart/form-data" => {
            let boundary = ct
                .split(';')
                .skip(1)
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
                .map(|(_, v)| v.trim().trim_matches('"').to_owned())
                .filter(|b| !b.is_empty() && b.len() <= 200)
                .ok_or_else(|| Fail::bad("multipart/form-data without a boundary"))?;
            multipart_fields(body, &boundary)
        }
        other => Err(Fail::bad(format!(
            "send the request as application/x-www-form-urlencoded, not {other}"
        ))),
    }
}

/// Where `needle` (not empty) first occurs in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The text fields of a multipart/form-data body; file parts (a `filename`, e.g. the
/// `media` photo some clients send) are skipped.
fn multipart_fields(body: &[u8], boundary: &str) -> Result<Vec<(String, String)>> {
    let malformed = || Fail::bad("malformed multipart/form-data body");
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut at = find(body, delim, 0).ok_or_else(malformed)? + delim.len();
    let mut out = Vec::new();
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            return Ok(out);
        }
        let start = at + 2; // the CRLF after the delimiter
        let next = find(body, delim, start).ok_or_else(malformed)?;
        let part = body
            .get(start..next.saturating_sub(2))
            .ok_or_else(malformed)?;
        let split = find(part, b"\r\n\r\n", 0).ok_or_else(malformed)?;
        let head = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..];
        let disposition = head
            .split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .ok_or_else(malformed)?;
        let mut name = None;
        let mut file = false;
        for p in disposition.split(';').skip(1) {
            if let Some((k, v)) = p.trim().split_once('=') {
                let v = v.trim().trim_matches('"').to_owned();
                match k.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(v),
                    "filename" => file = true,
                    _ => {}
                }
            }
        }
        if let (Some(name), false) = (name, file) {
            let value = String::from_utf8(content.to_vec())
                .map_err(|_| Fail::bad(format!("form field {name} is not UTF-8")))?;
            out.push((name, value));
        }
        at = next + delim.len();
    }
}

/// The title of a report: the first non-empty line of its description, at most
/// [`MAX_TITLE`] characters (`None` for an empty description).
fn title_of(description: &str) -> Option<String> {
    let line = description.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(MAX_TITLE).collect())
}

/// A coordinate argument.
fn coordinate(args: &Args, key: &str) -> Result<Option<f64>> {
    args.get(key)
        .map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| Fail::bad(format!("{key} must be a number (WGS84), not {v:?}")))
        })
        .transpose()
}

/// The new event of a POST: service, location, texts and contact.
fn parse_report(state: &AppState, args: &Args) -> Result<(NewEvent, u32)> {
    let code = args
        .get("service_code")
        .ok_or_else(|| Fail::bad("service_code was not provided"))?;
    let service = find_service(state, code)?;
    let (lon, lat) = match (coordinate(args, "long")?, coordinate(args, "lat")?) {
        (Some(lon), Some(lat)) => {
            check_lon_lat(lon, lat).map_err(Fail::bad)?;
            (lon, lat)
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Fail::bad("send both lat and long (WGS84)"));
        }
        (None, None)
            if args.get("address_string").is_some() || args.get("address_id").is_some() =>
        {
            return Err(Fail::bad(
                "this service cannot locate an address_string or address_id; \
                 send lat and long (WGS84) of the place",
            ));
        }
        (None, None) => return Err(Fail::bad("a location is required: lat and long (WGS84)")),
    };
    let description = args.get("description").unwrap_or("").to_owned();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(Fail::bad(format!(
            "description is longer than {MAX_DESCRIPTION} characters"
        )));
    }
    let title = title_of(&description).unwrap_or_else(|| service.sub.zh.clone());
    let mut description = description;
    if let Some(url) = args.get("media_url") {
        let ok = (url.starts_with("http://") || url.starts_with("https://"))
            && url.chars().count() <= MAX_MEDIA_URL
            && !url.chars().any(char::is_whitespace);
        if !ok {
            return Err(Fail::bad(format!(
                "media_url must be an http or https URL of at most {MAX_MEDIA_URL} characters"
            )));
        }
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str("media_url: ");
        description.push_str(url);
    }
    let name: Vec<&str> = ["first_name", "last_name"]
        .iter()
        .filter_map(|k| args.get(k))
        .collect();
    let name = name.join(" ");
    let contact: Vec<&str> = [Some(name.as_str()), args.get("email"), args.get("phone")]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    let contact = contact.join(", ");
    if contact.chars().count() > MAX_CONTACT {
        return Err(Fail::bad(format!(
            "first_name, last_name, email and phone together are longer than {MAX_CONTACT} characters"
        )));
    }
    Ok((
        NewEvent {
            category: service.code.clone(),
            title,
            description,
            lon,
            lat,
            reporter: (!contact.is_empty()).then_some(contact),
            photo: None,
        },
        service.category.deadline_days,
    ))
}

/// `POST requests.{fmt}`.
async fn create(
    state: &AppState,
    fmt: Format,
    caller: std::result::Result<Caller, ApiError>,
    headers: &HeaderMap,
    uri: &Uri,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Fail::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            )
        } else {
            Fail::bad(format!("cannot read the body: {e}"))
        }
    })?;
    let mut args = Args::from_query(uri)?;
    args.add(form_fields(headers, &body)?)?;
    check_jurisdiction(&args)?;
    let caller = resolve_caller(state, caller, &args).await?;
    reports::admit(state, &caller).map_err(Fail::too_many)?;
    let (new, deadline_days) = parse_report(state, &args)?;
    let e = reports::submit(state, &caller, new, None).await?.event;
    let grid = e.grid_id;
    let mut notice = format!("Received: handled within {deadline_days} days of acceptance.");
    if grid.is_none() {
        notice.push_str(" The place lies outside every grid; the command centre will route it.");
    }
    let doc = Node::List(
        "request",
        vec![Node::Obj(vec![
            ("service_request_id", text(e.id.to_string())),
            ("service_notice", text(notice)),
            ("account_id", Node::Null),
        ])],
    );
    Ok(ok(fmt, "service_requests", &doc))
}

// ---------------------------------------------------------------------------------------
// GET requests

/// A W3C-DTF time with its time zone (`2026-01-31T08:00:00+08:00`, `…Z`, seconds optional).
/// A `+` decoded to a space by a client that did not encode it is taken back.
fn w3_time(key: &str, v: &str) -> Result<DateTime<Utc>> {
    let fixed = v.trim().replace(' ', "+");
    let with_offset = match fixed.strip_suffix(['Z', 'z']) {
        Some(head) => format!("{head}+00:00"),
        None => fixed.clone(),
    };
    DateTime::parse_from_rfc3339(&fixed)
        .or_else(|_| DateTime::parse_from_str(&with_offset, "%Y-%m-%dT%H:%M%:z"))
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
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
    // end_date is inclusive.
    let after_end = |t: DateTime<Utc>| t + Duration::microseconds(1);
    match (start, end) {
        (None, None) => Ok((Some(Utc::now() - span), None)),
        (Some(s), None) => Ok((Some(s), Some(s + span))),
        (None, Some(e)) => Ok((Some(e - span), Some(after_end(e)))),
        (Some(s), Some(e)) if s > e => Err(Fail::bad("start_date must not be after end_date")),
        (Some(s), Some(e)) if e - s > span => Err(Fail::bad(format!(
            "start_date to end_date may not span more than {MAX_WINDOW_DAYS} days"
        ))),
        (Some(s), Some(e)) => Ok((Some(s), Some(after_end(e)))),
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
async fn list_requests(
    state: &AppState,
    fmt: Format,
    caller: std::result::Result<Caller, ApiError>,
    uri: &Uri,
) -> Result<Response> {
    let args = Args::from_query(uri)?;
    check_jurisdiction(&args)?;
    let caller = resolve_caller(state, caller, &args).await?;
    let view = View::of(state, &caller);
    let rows = match args.list("service_request_id").filter(|l| !l.is_empty()) {
        Some(list) => {
            let ids = request_ids(&list)?;
            state
                .store
                .open311_requests_by_id(&ids, view.grids.as_deref())
                .await?
        }
        None => {
            let f = request_filter(state, &args, &view)?;
            state.store.open311_requests(&f, MAX_RESULTS).await?
        }
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
async fn one_request(
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
async fn token(
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
    fn formats_split_on_the_last_dot() {
        assert_eq!(
            split_format("services.json"),
            ("services", Some(Format::Json))
        );
        assert_eq!(
            split_format("hazard.fire.xml"),
            ("hazard.fire", Some(Format::Xml))
        );
        assert_eq!(split_format("hazard.fire"), ("hazard.fire", None));
        assert_eq!(split_format("discovery"), ("discovery", None));
    }

    #[test]
    fn xml_is_escaped_and_json_is_spark() {
        let doc = Node::List(
            "request",
            vec![Node::Obj(vec![
                ("a", text("<b> & \"c\" 'd' \u{1}井")),
                ("n", Node::Null),
                ("x", Node::Num(22.5)),
                ("t", Node::Bool(true)),
            ])],
        );
        let mut s = String::new();
        to_xml("service_requests", &doc, &mut s);
        assert_eq!(
            s,
            "<service_requests><request><a>&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; \u{FFFD}井</a>\
             <n></n><x>22.5</x><t>true</t></request></service_requests>"
        );
        assert_eq!(
            to_json(&doc),
            serde_json::json!([{"a": "<b> & \"c\" 'd' \u{1}井", "n": null, "x": 22.5, "t": true}])
        );
        assert_eq!(to_json(&Node::List("x", vec![])), serde_json::json!([]));
    }

    #[test]
    fn titles_take_the_first_line() {
        assert_eq!(title_of("\n  井盖缺失 \n细节").as_deref(), Some("井盖缺失"));
        assert_eq!(title_of(" \n "), None);
        assert_eq!(
            title_of(&"长".repeat(300)).map(|t| t.chars().count()),
            Some(200)
        );
    }

    #[test]
    fn times_need_a_zone() {
        let t = w3_time("d", "2026-01-31T08:00:00+08:00").unwrap_or_default();
        assert_eq!(t.to_rfc3339(), "2026-01-31T00:00:00+00:00");
        assert!(w3_time("d", "2026-01-31T08:00:00 08:00").is_ok());
        assert!(w3_time("d", "2026-01-31T08:00Z").is_ok());
        assert!(w3_time("d", "2026-01-31T08:00:00").is_err());
        assert!(w3_time("d", "2026-01-31").is_err());
    }

    #[test]
    fn multipart_text_fields_are_read_and_files_skipped() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"service_code\"\r\n\r\nhazard.fire\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nline 1\r\nline 2\r\n--XyZ--\r\n";
        let fields = multipart_fields(body, "XyZ").unwrap_or_default();
        assert_eq!(
            fields,
            vec![
                ("service_code".to_owned(), "hazard.fire".to_owned()),
                ("description".to_owned(), "line 1\r\nline 2".to_owned()),
            ]
        );
        assert!(multipart_fields(b"garbage", "XyZ").is_err());
    }

    #[test]
    fn empty_arguments_count_as_absent() {
        let mut a = Args::default();
        assert!(
            a.add(vec![
                ("status".into(), String::new()),
                ("attribute[X]".into(), "1".into()),
                ("lat".into(), "22.8".into()),
                ("lat".into(), "22.8".into()),
            ])
            .is_ok()
        );
        assert_eq!(a.get("status"), None);
        assert_eq!(a.get("lat"), Some("22.8"));
        assert!(a.add(vec![("lat".into(), "1".into())]).is_err());
    }
}
