//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the whole HTTP API.
//!
//! Built with utoipa from this module alone, so that it can be kept beside the handlers
//! without touching them: the JSON bodies are described by the [`schemas`] types (derived
//! `ToSchema`, never instantiated: they exist to be described), the operations by
//! builders below, one function per area of the API. Every status an operation lists is
//! one its handler (or the middleware before it: a bad token is a 401 everywhere but
//! Open311) can answer; every content type is the one it sends. The taxonomy's codes are
//! read from the running instance, so `category` and `service_code` are enumerated.
//!
//! The document is checked by tools written elsewhere (`tests/openapi.rs`):
//! `openapi-spec-validator` validates it, and Schemathesis sends every operation to a real
//! server with a token of each role and checks every answer against it.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use utoipa::OpenApi as _;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    Content, ContentBuilder, Header, InfoBuilder, KnownFormat, OpenApi, Paths, Ref, RefOr,
    Required, Response as ApiResponse, ResponseBuilder, Tag,
};

use super::AppState;
use minqing_model::Taxonomy;

/// `/api/v1/openapi.json`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(serve))
}

async fn serve(State(state): State<AppState>) -> Response {
    match serde_json::to_vec(&document_json(&state.taxonomy)) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialise the OpenAPI document");
            super::error::ApiError::internal().into_response()
        }
    }
}

/// The document as JSON, with two changes utoipa cannot make: a Link's fields in camel case
/// (utoipa 5.5 writes `operation_id`, `operation_ref`, `request_body`, which
/// openapi-spec-validator refuses), and the schemas composed with `allOf` (a case's
/// properties: the public ones and more) closed with `unevaluatedProperties: false`, so that
/// a field no schema names (a contact in a list, say) fails the check.
#[must_use]
pub fn document_json(taxonomy: &Taxonomy) -> Value {
    let mut v = serde_json::to_value(document(taxonomy)).unwrap_or(Value::Null);
    let composed = v
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|schemas| schemas.values_mut())
        .filter_map(Value::as_object_mut)
        .filter(|s| s.contains_key("allOf"));
    for s in composed {
        s.insert("unevaluatedProperties".to_owned(), Value::Bool(false));
    }
    let responses = v
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("responses").and_then(Value::as_object_mut))
        .flat_map(|rs| rs.values_mut());
    for r in responses {
        let Some(links) = r.get_mut("links").and_then(Value::as_object_mut) else {
            continue;
        };
        for link in links.values_mut().filter_map(Value::as_object_mut) {
            for (from, to) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(x) = link.remove(from) {
                    link.insert(to.to_owned(), x);
                }
            }
        }
    }
    v
}

/// The OpenAPI document of this instance (its taxonomy enumerates `category` and
/// `service_code`).
#[must_use]
pub fn document(taxonomy: &Taxonomy) -> OpenApi {
    let mut doc = schemas::Components::openapi();
    doc.info = InfoBuilder::new()
        .title("minqing (民情地图)")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Grid-based community governance: areas and events in PostGIS, served from \
             memory. REST under /api/v1 (errors are {\"error\": {\"code\", \"message\"}}), \
             vector tiles, label glyphs, the change stream, Open311 GeoReport v2, grid \
             planning, health and metrics. Requests carry `Authorization: Bearer mq_…`; \
             without one a request is anonymous, and a bad or revoked token is a 401 \
             everywhere (Open311: a 403 in its own error format).",
        ))
        .build();
    if let Some(c) = doc.components.as_mut() {
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("mq_ followed by 64 hex digits")
                    .description(Some(
                        "A minqing token (`minqing token create`); its role and area scope \
                         decide what the caller sees and may do.",
                    ))
                    .build(),
            ),
        );
    }
    let t = Codes::of(taxonomy);
    let mut api = Api::default();
    meta(&mut api);
    areas(&mut api);
    events(&mut api, &t);
    exports(&mut api, &t);
    tiles(&mut api, &t);
    fonts(&mut api);
    plans(&mut api);
    open311(&mut api, &t);
    web(&mut api);
    doc.paths = api.paths;
    doc.tags = Some(
        [
            ("meta", "Health, readiness, metrics and this document"),
            (
                "areas",
                "Where a point is; the areas (district → street → community → grid)",
            ),
            (
                "events",
                "Reports and cases: lists, nearby, detail, transitions, statistics",
            ),
            ("exports", "CSV and GeoJSON exports streamed from PostGIS"),
            ("stream", "Server-Sent Events of every change"),
            ("tiles", "Mapbox Vector Tiles and their TileJSON"),
            ("fonts", "MapLibre label glyphs"),
            ("plans", "Grid planning drafts"),
            ("open311", "Open311 GeoReport v2"),
            ("web", "The web app's pages"),
        ]
        .into_iter()
        .map(|(name, what)| {
            let mut tag = Tag::new(name);
            tag.description = Some(what.to_owned());
            tag
        })
        .collect(),
    );
    doc
}

// ---------------------------------------------------------------------------------------
// Building blocks

/// The operations, as they are added.
#[derive(Default)]
struct Api {
    paths: Paths,
}

impl Api {
    fn add(&mut self, method: HttpMethod, path: &str, op: OperationBuilder) {
        self.paths
            .add_path_operation(path, vec![method], op.build());
    }
}

/// The taxonomy's codes: every code a filter takes, and the full codes of reports.
struct Codes {
    /// Categories and `category.subcategory` codes.
    all: Vec<String>,
    /// `category.subcategory` codes (Open311 services).
    services: Vec<String>,
}

impl Codes {
    fn of(t: &Taxonomy) -> Codes {
        Codes {
            all: t.codes().to_vec(),
            services: t
                .codes()
                .iter()
                .filter(|c| c.contains('.'))
                .cloned()
                .collect(),
        }
    }
}

/// Who may call: anyone (a token is optional) or only holders of a token.
#[derive(Clone, Copy)]
enum Access {
    Anyone,
    Token,
}

fn op(id: &str, tag: &str, summary: &str, access: Access) -> OperationBuilder {
    let bearer = SecurityRequirement::new("bearer", Vec::<String>::new());
    let security = match access {
        Access::Anyone => vec![SecurityRequirement::default(), bearer],
        Access::Token => vec![bearer],
    };
    OperationBuilder::new()
        .operation_id(Some(id))
        .tag(tag)
        .summary(Some(summary))
        .securities(Some(security))
}

fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn integer(min: Option<i64>, max: Option<i64>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(min.map(|m| m as f64))
        .maximum(max.map(|m| m as f64))
        .into()
}

fn number(min: f64, max: f64, example: f64) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(min))
        .maximum(Some(max))
        .examples([json!(example)])
        .into()
}

fn integer_like(min: Option<i64>, max: Option<i64>, example: i64) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(min.map(|m| m as f64))
        .maximum(max.map(|m| m as f64))
        .examples([json!(example)])
        .into()
}

fn one_of_strings<S: AsRef<str>>(values: &[S]) -> RefOr<Schema> {
    string()
        .enum_values(Some(values.iter().map(|v| v.as_ref().to_owned())))
        .into()
}

fn date_time() -> RefOr<Schema> {
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .into()
}

fn param(
    name: &str,
    at: ParameterIn,
    required: bool,
    schema: RefOr<Schema>,
    what: &str,
) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(at)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .description(Some(what))
        .schema(Some(schema))
        .build()
}

fn query(name: &str, schema: RefOr<Schema>, what: &str) -> Parameter {
    param(name, ParameterIn::Query, false, schema, what)
}

fn path(name: &str, schema: RefOr<Schema>, what: &str) -> Parameter {
    param(name, ParameterIn::Path, true, schema, what)
}

fn header_param(name: &str, schema: RefOr<Schema>, what: &str) -> Parameter {
    param(name, ParameterIn::Header, false, schema, what)
}

/// `bbox=minLon,minLat,maxLon,maxLat`.
fn bbox(max_span: Option<f64>) -> Parameter {
    let n = r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*";
    let span = max_span.map_or_else(
        || "of any size".to_owned(),
        |s| format!("at most {s}° on a side"),
    );
    query(
        "bbox",
        string()
            .pattern(Some(format!("^{n},{n},{n},{n}$")))
            .examples([json!("115.30,22.74,115.42,22.84")])
            .into(),
        &format!(
            "minLon,minLat,maxLon,maxLat (WGS84): longitudes -180 to 180, latitudes -90 to 90, \
             not inverted, {span}; anything else is a 400"
        ),
    )
}

fn lon_lat(required: bool) -> [Parameter; 2] {
    [
        param(
            "lon",
            ParameterIn::Query,
            required,
            number(-180.0, 180.0, 115.37),
            "longitude, WGS84 degrees",
        ),
        param(
            "lat",
            ParameterIn::Query,
            required,
            number(-90.0, 90.0, 22.79),
            "latitude, WGS84 degrees",
        ),
    ]
}

fn limit(default: i64, max: i64) -> Parameter {
    query(
        "limit",
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1.0))
            .maximum(Some(max as f64))
            .default(Some(json!(default)))
            .into(),
        &format!("most items answered, 1 to {max} (default {default})"),
    )
}

fn cursor() -> Parameter {
    query(
        "cursor",
        integer(None, None),
        "opaque paging cursor from a `next` link",
    )
}

/// Every state of the workflow.
const STATES: [&str; 8] = [
    "reported",
    "accepted",
    "assigned",
    "in_progress",
    "resolved",
    "closed",
    "rejected",
    "reopened",
];

fn status_filter(default: &str) -> Parameter {
    let mut values = vec!["open", "all"];
    values.extend(STATES);
    query(
        "status",
        one_of_strings(&values),
        &format!("a state, `open` (every open state) or `all`; default `{default}`"),
    )
}

fn category(t: &Codes) -> Parameter {
    query(
        "category",
        one_of_strings(&t.all),
        "a category code (all its subcategories) or a `category.subcategory` code; \
         an unknown code is a 400",
    )
}

fn time_window() -> [Parameter; 2] {
    [
        query(
            "from",
            date_time(),
            "reported at or after this RFC 3339 time (not after `to`)",
        ),
        query(
            "to",
            date_time(),
            "reported at or before this RFC 3339 time",
        ),
    ]
}

fn id_path(what: &str) -> Parameter {
    path("id", integer_like(None, None, 1), what)
}

/// `z`, `x` and `y` of a tile (x and y below 2^z, checked by the handler).
fn tile_params() -> [Parameter; 3] {
    [
        path(
            "z",
            integer_like(
                Some(0),
                Some(i64::from(minqing_service::render::MAX_ZOOM)),
                12,
            ),
            "zoom",
        ),
        path(
            "x",
            integer_like(
                Some(0),
                Some((1 << minqing_service::render::MAX_ZOOM) - 1),
                3360,
            ),
            "column, below 2^z",
        ),
        path(
            "y",
            integer_like(
                Some(0),
                Some((1 << minqing_service::render::MAX_ZOOM) - 1),
                1781,
            ),
            "row, below 2^z (a `.mvt` or `.pbf` suffix is accepted)",
        ),
    ]
}

fn content(schema: Option<RefOr<Schema>>) -> Content {
    ContentBuilder::new().schema(schema).build()
}

/// A response with a body of `schema` in each of `media`.
fn body(what: &str, media: &[&str], schema: Option<RefOr<Schema>>) -> ApiResponse {
    let mut r = ResponseBuilder::new().description(what);
    for m in media {
        r = r.content(*m, content(schema.clone()));
    }
    r.build()
}

fn json_body(what: &str, schema: &str) -> ApiResponse {
    body(what, &["application/json"], Some(schema_ref(schema)))
}

fn geojson_body(what: &str, schema: &str) -> ApiResponse {
    body(what, &["application/geo+json"], Some(schema_ref(schema)))
}

fn empty(what: &str) -> ApiResponse {
    ResponseBuilder::new().description(what).build()
}

/// What a status means in this API.
fn meaning(status: u16) -> &'static str {
    match status {
        400 => "malformed: a parameter, the path or the body (the message says which)",
        401 => "no token where one is needed, or a bad or revoked token",
        403 => "the caller's role may not do this",
        404 => "not found, or outside the caller's scope",
        409 => "the case or plan is not in a state that allows this",
        413 => "the body is too large",
        415 => "the body is not JSON (send application/json or application/geo+json)",
        422 => "well-formed but not acceptable (the message says why)",
        429 => "too many anonymous reports from this address; retry later",
        500 => "internal error (logged)",
        503 => "not ready, or the database is unavailable",
        _ => "error",
    }
}

/// Adds JSON errors `{"error": {"code", "message"}}` of these statuses.
fn errors(mut op: OperationBuilder, statuses: &[u16]) -> OperationBuilder {
    for s in statuses {
        let mut r = json_body(meaning(*s), "Error");
        if *s == 401 {
            r.headers
                .insert("WWW-Authenticate".to_owned(), Header::new(string().build()));
        }
        op = op.response(s.to_string(), r);
    }
    op
}

fn json_request(what: &str, schema: &str, media: &[&str]) -> RequestBody {
    let mut b = RequestBodyBuilder::new()
        .description(Some(what))
        .required(Some(Required::True));
    for m in media {
        b = b.content(*m, content(Some(schema_ref(schema))));
    }
    b.build()
}

/// Adds links from a response to operations taking `param` from `from` (a runtime
/// expression), for Schemathesis's stateful phase.
fn links(mut r: ApiResponse, param: &str, from: &str, ops: &[&str]) -> ApiResponse {
    for o in ops {
        r.links.insert(
            (*o).to_owned(),
            RefOr::T(
                LinkBuilder::new()
                    .operation_id(*o)
                    .parameter(param, from)
                    .build(),
            ),
        );
    }
    r
}

fn etag_headers(mut r: ApiResponse) -> ApiResponse {
    r.headers
        .insert("ETag".to_owned(), Header::new(string().build()));
    r
}

// ---------------------------------------------------------------------------------------
// Operations

/// Statuses every REST operation may answer before its handler runs: a bad token (401) and
/// the database unreachable while a token is looked up (503).
const ALWAYS: [u16; 2] = [401, 503];

fn with(statuses: &[u16]) -> Vec<u16> {
    let mut all: Vec<u16> = statuses.iter().chain(ALWAYS.iter()).copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

fn meta(api: &mut Api) {
    api.add(
        HttpMethod::Get,
        "/healthz",
        errors(
            op(
                "healthz",
                "meta",
                "Liveness: 200 while the process runs",
                Access::Anyone,
            )
            .response("200", json_body("alive", "Health")),
            &ALWAYS,
        ),
    );
    api.add(
        HttpMethod::Get,
        "/readyz",
        errors(
            op(
                "readyz",
                "meta",
                "Readiness: 200 once the index is loaded and while the database answers",
                Access::Anyone,
            )
            .response("200", json_body("ready", "Ready")),
            &ALWAYS,
        ),
    );
    api.add(
        HttpMethod::Get,
        "/metrics",
        errors(
            op(
                "metrics",
                "meta",
                "Prometheus metrics (text format 0.0.4)",
                Access::Anyone,
            )
            .response(
                "200",
                body("the metrics", &["text/plain"], Some(string().into())),
            ),
            &ALWAYS,
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/openapi.json",
        errors(
            op(
                "openapi",
                "meta",
                "This document (OpenAPI 3.1)",
                Access::Anyone,
            )
            .response(
                "200",
                body(
                    "the document",
                    &["application/json"],
                    Some(ObjectBuilder::new().schema_type(Type::Object).into()),
                ),
            ),
            &with(&[500]),
        ),
    );
}

fn areas(api: &mut Api) {
    let at = query(
        "at",
        date_time(),
        "answer as the areas were at this RFC 3339 time (from PostGIS's versions)",
    );
    let [lon, lat] = lon_lat(true);
    api.add(
        HttpMethod::Get,
        "/api/v1/locate",
        errors(
            op(
                "locate",
                "areas",
                "The grid covering a point and its ancestors [community, street, district]",
                Access::Anyone,
            )
            .parameters(Some([lon, lat, at.clone()]))
            .response("200", json_body("the grid and its ancestors", "Located")),
            &with(&[400, 404, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/areas",
        errors(
            op(
                "areas",
                "areas",
                "Areas with their boundaries, paged",
                Access::Anyone,
            )
            .parameters(Some([
                query(
                    "level",
                    one_of_strings(&["city", "district", "street", "community", "grid"]),
                    "only areas of this level",
                ),
                query(
                    "parent",
                    integer(None, None),
                    "only children of this area id",
                ),
                bbox(Some(2.0)),
                limit(100, 1000),
                cursor(),
                at,
            ]))
            .response(
                "200",
                geojson_body(
                    "a page of areas, with `self` and `next` links",
                    "AreaCollection",
                ),
            ),
            &with(&[400, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/areas/{id}",
        errors(
            op(
                "area",
                "areas",
                "One area with its boundary",
                Access::Anyone,
            )
            .parameter(id_path("area id"))
            .response("200", geojson_body("the area", "AreaFeature")),
            &with(&[400, 404]),
        ),
    );
}

fn events(api: &mut Api, t: &Codes) {
    let [from, to] = time_window();
    api.add(
        HttpMethod::Get,
        "/api/v1/events",
        errors(
            op(
                "listEvents",
                "events",
                "Events in id order, paged (a reporter's token: their own reports, taking only limit and cursor)",
                Access::Token,
            )
            .parameters(Some([
                bbox(Some(2.0)),
                category(t),
                status_filter("all"),
                from.clone(),
                to.clone(),
                limit(100, 1000),
                cursor(),
            ]))
            .response(
                "200",
                geojson_body("a page of events, with `self` and `next` links", "EventCollection"),
            ),
            &with(&[400, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/events",
        errors(
            op(
                "report",
                "events",
                "Report an event (anonymous reports are rate-limited per client address)",
                Access::Anyone,
            )
            .parameter(header_param(
                "Idempotency-Key",
                string().min_length(Some(1)).max_length(Some(200)).into(),
                "makes retries safe: the same key and report answer the stored report again",
            ))
            .request_body(Some(json_request(
                "a GeoJSON Point Feature",
                "NewReport",
                &["application/geo+json", "application/json"],
            )))
            .response("201", {
                let mut r = geojson_body(
                    "committed: the report, with possible duplicates the caller may see",
                    "ReportedFeature",
                );
                r.headers
                    .insert("Location".to_owned(), Header::new(string().build()));
                links(
                    r,
                    "id",
                    "$response.body#/id",
                    &["event", "transition", "photo"],
                )
            }),
            &with(&[400, 413, 415, 422, 429, 500]),
        ),
    );
    let [lon, lat] = lon_lat(true);
    api.add(
        HttpMethod::Get,
        "/api/v1/events/nearby",
        errors(
            op(
                "nearby",
                "events",
                "Nearest events by ellipsoidal distance (`properties.distance_m`)",
                Access::Token,
            )
            .parameters(Some([
                lon,
                lat,
                limit(20, 200),
                query(
                    "within_m",
                    ObjectBuilder::new()
                        .schema_type(Type::Number)
                        .exclusive_minimum(Some(0.0))
                        .maximum(Some(100_000.0))
                        .into(),
                    "only events within this many metres (more than 0, at most 100 km)",
                ),
                status_filter("open"),
                category(t),
                from.clone(),
                to.clone(),
            ]))
            .response("200", geojson_body("nearest first", "EventCollection")),
            &with(&[400, 403]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/events/{id}",
        errors(
            op(
                "event",
                "events",
                "One case: description, handling, history and the caller's allowed actions",
                Access::Token,
            )
            .parameter(id_path("event id"))
            .response("200", geojson_body("the case", "CaseFeature")),
            &with(&[400, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/events/{id}/transitions",
        errors(
            op(
                "transition",
                "events",
                "Take a workflow action on a case",
                Access::Token,
            )
            .parameter(id_path("event id"))
            .request_body(Some(json_request(
                "the action",
                "Transition",
                &["application/json"],
            )))
            .response(
                "200",
                geojson_body("done: the case as it is now", "CaseFeature"),
            ),
            &with(&[400, 403, 404, 409, 413, 415, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/events/{id}/photo",
        errors(
            op("photo", "events", "A report's photo", Access::Token)
                .parameter(id_path("event id"))
                .response(
                    "200",
                    body(
                        "the image",
                        &["image/jpeg", "image/png", "image/webp"],
                        Some(
                            string()
                                .format(Some(SchemaFormat::Custom("binary".into())))
                                .into(),
                        ),
                    ),
                ),
            &with(&[400, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/stats",
        errors(
            op(
                "stats",
                "events",
                "Case statistics of an area or everywhere (exact within the caller's scope, public aggregates otherwise)",
                Access::Anyone,
            )
            .parameters(Some([
                query(
                    "area",
                    string().examples([json!("441502")]).into(),
                    "an area id or code (default: everywhere)",
                ),
                from.clone(),
                to.clone(),
            ]))
            .response("200", json_body("the statistics", "Stats")),
            &with(&[400, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/stream",
        errors(
            op(
                "stream",
                "stream",
                "Server-Sent Events: `created` / `updated` with the event's public Feature, `reset` when changes were missed",
                Access::Token,
            )
            .parameters(Some([
                bbox(None),
                category(t),
                status_filter("all"),
                header_param(
                    "Last-Event-ID",
                    string().into(),
                    "the last message seen: replays what was missed, or sends `reset`",
                ),
            ]))
            .response(
                "200",
                body(
                    "the stream (it stays open; comments keep it alive)",
                    &["text/event-stream"],
                    Some(string().into()),
                ),
            ),
            &with(&[400, 403]),
        ),
    );
}

fn exports(api: &mut Api, t: &Codes) {
    let [from, to] = time_window();
    let params = || {
        [
            bbox(None),
            category(t),
            status_filter("all"),
            from.clone(),
            to.clone(),
            query(
                "area",
                string().examples([json!("441502")]).into(),
                "an area id or code: the cases of its subtree",
            ),
        ]
    };
    let disposition = |mut r: ApiResponse| {
        r.headers.insert(
            "Content-Disposition".to_owned(),
            Header::new(string().build()),
        );
        r
    };
    api.add(
        HttpMethod::Get,
        "/api/v1/events.csv",
        errors(
            op(
                "exportCsv",
                "exports",
                "Events as CSV, streamed in id order",
                Access::Token,
            )
            .parameters(Some(params()))
            .response(
                "200",
                disposition(body(
                    "RFC 4180 CSV with a header line",
                    &["text/csv"],
                    Some(string().into()),
                )),
            ),
            &with(&[400, 403, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/events.geojson",
        errors(
            op(
                "exportGeojson",
                "exports",
                "Events as a GeoJSON FeatureCollection, streamed in id order",
                Access::Token,
            )
            .parameters(Some(params()))
            .response(
                "200",
                disposition(geojson_body("every matching event", "ExportCollection")),
            ),
            &with(&[400, 403, 404, 500]),
        ),
    );
}

fn tiles(api: &mut Api, t: &Codes) {
    let layer = path(
        "layer",
        one_of_strings(&["areas", "events", "heat"]),
        "the layer (an unknown one is a 404)",
    );
    let [from, to] = time_window();
    let filters = || [category(t), status_filter("open"), from.clone(), to.clone()];
    api.add(
        HttpMethod::Get,
        "/tiles",
        errors(
            op(
                "tileCatalog",
                "tiles",
                "The tile layers and their TileJSON",
                Access::Anyone,
            )
            .response("200", json_body("the layers", "TileCatalog")),
            &ALWAYS,
        ),
    );
    api.add(
        HttpMethod::Get,
        "/tiles/{layer}",
        errors(
            op(
                "tilejson",
                "tiles",
                "TileJSON 3.0.0 of a layer (`events` and `heat` take the event filters; `areas` takes none)",
                Access::Anyone,
            )
            .parameter(layer.clone())
            .parameters(Some(filters()))
            .response("200", json_body("the TileJSON", "TileJson")),
            &with(&[400, 404]),
        ),
    );
    let tile = body(
        "the tile (gzip-encoded when the client accepts it)",
        &["application/vnd.mapbox-vector-tile"],
        Some(
            string()
                .format(Some(SchemaFormat::Custom("binary".into())))
                .into(),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/tiles/{layer}/{z}/{x}/{y}",
        errors(
            op(
                "tile",
                "tiles",
                "A Mapbox Vector Tile (`events` needs a token that reads events; `heat` without one is the public heat)",
                Access::Anyone,
            )
            .parameter(layer)
            .parameters(Some(tile_params()))
            .parameters(Some(filters()))
            .parameter(header_param(
                "If-None-Match",
                string().into(),
                "an ETag of this tile: 304 while it is current",
            ))
            .response("200", etag_headers(tile.clone()))
            .response("204", etag_headers(empty("the tile is empty")))
            .response("304", etag_headers(empty("not modified"))),
            &with(&[400, 403, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/api/v1/plans/{id}/tiles/{z}/{x}/{y}",
        errors(
            op(
                "planTile",
                "plans",
                "A draft as a vector tile (layer `plan`)",
                Access::Token,
            )
            .parameter(id_path("plan id"))
            .parameters(Some(tile_params()))
            .response("200", tile)
            .response("204", empty("the tile is empty")),
            &with(&[400, 403, 404, 422, 500]),
        ),
    );
}

fn fonts(api: &mut Api) {
    api.add(
        HttpMethod::Get,
        "/fonts",
        errors(
            op("fonts", "fonts", "The installed font faces", Access::Anyone).response(
                "200",
                body(
                    "font names, sorted",
                    &["application/json"],
                    Some(ArrayBuilder::new().items(string()).into()),
                ),
            ),
            &with(&[500]),
        ),
    );
    api.add(
        HttpMethod::Get,
        "/fonts/{fontstack}/{range}.pbf",
        errors(
            op(
                "glyphs",
                "fonts",
                "A MapLibre glyph range (signed distance fields)",
                Access::Anyone,
            )
            .parameters(Some([
                path(
                    "fontstack",
                    string()
                        .min_length(Some(1))
                        .examples([json!("Noto Sans CJK SC Regular")])
                        .into(),
                    "comma-separated font names; a stack of no installed font is a 404",
                ),
                path(
                    "range",
                    string()
                        .pattern(Some(r"^[0-9]+-[0-9]+$"))
                        .examples([json!("0-255"), json!("19968-20223")])
                        .into(),
                    "N-M with N a multiple of 256 and M = N + 255 (else a 400)",
                ),
            ]))
            .response(
                "200",
                body(
                    "the glyphs (gzip-encoded when the client accepts it)",
                    &["application/x-protobuf"],
                    Some(
                        string()
                            .format(Some(SchemaFormat::Custom("binary".into())))
                            .into(),
                    ),
                ),
            ),
            &with(&[400, 404, 500]),
        ),
    );
}

fn plans(api: &mut Api) {
    api.add(
        HttpMethod::Get,
        "/api/v1/plans",
        errors(
            op(
                "plans",
                "plans",
                "Plans in the caller's scope, newest first",
                Access::Token,
            )
            .parameters(Some([
                query(
                    "status",
                    one_of_strings(&["draft", "published", "abandoned", "all"]),
                    "default `draft`",
                ),
                limit(100, 500),
            ]))
            .response("200", json_body("the plans", "PlanList")),
            &with(&[400, 403, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/plans",
        errors(
            op(
                "createPlan",
                "plans",
                "Open a draft over an area",
                Access::Token,
            )
            .request_body(Some(json_request(
                "the area and the bounds of a grid",
                "NewPlan",
                &["application/json"],
            )))
            .response(
                "201",
                links(
                    geojson_body("the draft", "PlanDraft"),
                    "id",
                    "$response.body#/plan/id",
                    &[
                        "plan",
                        "planOperation",
                        "validatePlan",
                        "publishPlan",
                        "rebasePlan",
                        "abandonPlan",
                        "planTile",
                    ],
                ),
            ),
            &with(&[400, 403, 404, 409, 413, 415, 422, 500]),
        ),
    );
    let id = || id_path("plan id");
    api.add(
        HttpMethod::Get,
        "/api/v1/plans/{id}",
        errors(
            op(
                "plan",
                "plans",
                "A draft as GeoJSON, with its plan and last validation",
                Access::Token,
            )
            .parameter(id())
            .response("200", geojson_body("the draft", "PlanDraft")),
            &with(&[400, 403, 404, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/plans/{id}/operations",
        errors(
            op(
                "planOperation",
                "plans",
                "One operation on a draft",
                Access::Token,
            )
            .parameter(id())
            .request_body(Some(json_request(
                "the operation",
                "PlanOperation",
                &["application/json"],
            )))
            .response(
                "200",
                geojson_body("the draft, validated again", "PlanDraft"),
            ),
            &with(&[400, 403, 404, 409, 413, 415, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/plans/{id}/validate",
        errors(
            op("validatePlan", "plans", "Validate a draft", Access::Token)
                .parameter(id())
                .response(
                    "200",
                    json_body("the validation report", "ValidationReport"),
                ),
            &with(&[400, 403, 404, 409, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/plans/{id}/publish",
        errors(
            op("publishPlan", "plans", "Publish a draft", Access::Token)
                .parameter(id())
                .response("200", json_body("published", "Published")),
            &with(&[400, 403, 404, 409, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/plans/{id}/rebase",
        errors(
            op(
                "rebasePlan",
                "plans",
                "Re-base a draft on the current grids",
                Access::Token,
            )
            .parameter(id())
            .response(
                "200",
                geojson_body("the draft, validated again", "PlanDraft"),
            ),
            &with(&[400, 403, 404, 409, 422, 500]),
        ),
    );
    api.add(
        HttpMethod::Post,
        "/api/v1/plans/{id}/abandon",
        errors(
            op("abandonPlan", "plans", "Abandon a draft", Access::Token)
                .parameter(id())
                .response("200", json_body("abandoned", "PlanAnswer")),
            &with(&[400, 403, 404, 409, 422, 500]),
        ),
    );
}

/// Open311: every method in `.json` and `.xml`, errors in the spec's own format.
fn open311(api: &mut Api, t: &Codes) {
    const BASE: &str = "/open311/v2";
    let jurisdiction = query(
        "jurisdiction_id",
        string().examples([json!("minqing")]).into(),
        "may be left out; any value but `minqing` is a 404",
    );
    let api_key = query(
        "api_key",
        string().into(),
        "a minqing token (instead of the Authorization header); an invalid one is a 403",
    );
    for (ext, media) in [("json", "application/json"), ("xml", "text/xml")] {
        let json = ext == "json";
        let doc = |what: &str, schema: &str| {
            if json {
                body(what, &[media], Some(schema_ref(schema)))
            } else {
                body(what, &[media], None)
            }
        };
        let fail = |mut o: OperationBuilder, statuses: &[u16]| {
            for s in statuses {
                let what = match s {
                    400 => "bad input",
                    403 => "invalid api_key or token",
                    404 => "unknown jurisdiction, service, request or token",
                    413 => "the body is too large",
                    429 => "too many anonymous reports from this address (Retry-After)",
                    500 => "internal error",
                    _ => "the service is unavailable",
                };
                o = o.response(s.to_string(), doc(what, "Open311Errors"));
            }
            o
        };
        let id = |name: &str| format!("{name}{}", if json { "Json" } else { "Xml" });
        api.add(
            HttpMethod::Get,
            &format!("{BASE}/discovery.{ext}"),
            op(
                &id("open311Discovery"),
                "open311",
                "Service discovery",
                Access::Anyone,
            )
            .response("200", doc("the discovery document", "Open311Discovery")),
        );
        api.add(
            HttpMethod::Get,
            &format!("{BASE}/services.{ext}"),
            fail(
                op(
                    &id("open311Services"),
                    "open311",
                    "Service list: the taxonomy's codes",
                    Access::Anyone,
                )
                .parameter(jurisdiction.clone())
                .response("200", doc("the services", "Open311Services")),
                &[400, 404],
            ),
        );
        api.add(
            HttpMethod::Get,
            &format!("{BASE}/services/{{service_code}}.{ext}"),
            fail(
                op(
                    &id("open311Service"),
                    "open311",
                    "Service definition",
                    Access::Anyone,
                )
                .parameter(path(
                    "service_code",
                    one_of_strings(&t.services),
                    "a service code (an unknown one is a 404)",
                ))
                .parameter(jurisdiction.clone())
                .response("200", doc("the definition", "Open311ServiceDefinition")),
                &[400, 404],
            ),
        );
        api.add(
            HttpMethod::Get,
            &format!("{BASE}/requests.{ext}"),
            fail(
                op(
                    &id("open311Requests"),
                    "open311",
                    "Service requests (full records with a token that reads events, public ones otherwise)",
                    Access::Anyone,
                )
                .parameters(Some([
                    query(
                        "service_request_id",
                        string().pattern(Some(r"^[0-9, ]*$")).into(),
                        "a comma list of request ids (overrides every other filter)",
                    ),
                    query(
                        "service_code",
                        string().into(),
                        "a comma list of service codes (an unknown one is a 404)",
                    ),
                    query("start_date", date_time(), "reported at or after"),
                    query("end_date", date_time(), "reported at or before (at most 90 days after start_date)"),
                    query(
                        "status",
                        one_of_strings(&["open", "closed", "open,closed", "closed,open"]),
                        "open, closed or both",
                    ),
                    jurisdiction.clone(),
                    api_key.clone(),
                ]))
                .response("200", doc("the requests, most recent first", "Open311Requests")),
                &[400, 403, 404, 500, 503],
            ),
        );
        let form = content(Some(schema_ref("Open311NewRequest")));
        api.add(
            HttpMethod::Post,
            &format!("{BASE}/requests.{ext}"),
            fail(
                op(
                    &id("open311Report"),
                    "open311",
                    "Report (a service request)",
                    Access::Anyone,
                )
                .parameter(jurisdiction.clone())
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::True))
                        .content("application/x-www-form-urlencoded", form.clone())
                        .content("multipart/form-data", form)
                        .build(),
                ))
                .response("200", {
                    let stored = doc("stored", "Open311Created");
                    if json {
                        let r = links(
                            stored,
                            "service_request_id",
                            "$response.body#/0/service_request_id",
                            &["open311RequestJson", "open311RequestXml"],
                        );
                        links(
                            r,
                            "token",
                            "$response.body#/0/service_request_id",
                            &["open311TokenJson", "open311TokenXml"],
                        )
                    } else {
                        stored
                    }
                }),
                &[400, 403, 404, 413, 429, 500, 503],
            ),
        );
        api.add(
            HttpMethod::Get,
            &format!("{BASE}/requests/{{service_request_id}}.{ext}"),
            fail(
                op(
                    &id("open311Request"),
                    "open311",
                    "One service request",
                    Access::Anyone,
                )
                .parameters(Some([
                    path("service_request_id", string().into(), "the request id"),
                    jurisdiction.clone(),
                    api_key.clone(),
                ]))
                .response("200", doc("the request (a list of one)", "Open311Requests")),
                &[400, 403, 404, 500, 503],
            ),
        );
        api.add(
            HttpMethod::Get,
            &format!("{BASE}/tokens/{{token}}.{ext}"),
            fail(
                op(
                    &id("open311Token"),
                    "open311",
                    "The request id of a token (the id is its own token)",
                    Access::Anyone,
                )
                .parameters(Some([
                    path("token", string().into(), "the token"),
                    jurisdiction.clone(),
                    api_key.clone(),
                ]))
                .response("200", doc("the request id", "Open311Tokens")),
                &[400, 403, 404, 500, 503],
            ),
        );
    }
}

fn web(api: &mut Api) {
    for (page, what) in [
        ("/", "The command-centre map"),
        ("/field", "The field view"),
        ("/report", "Residents' reports"),
        ("/plan", "Grid planning"),
    ] {
        let id = match page {
            "/" => "pageMap",
            "/field" => "pageField",
            "/report" => "pageReport",
            _ => "pagePlan",
        };
        api.add(
            HttpMethod::Get,
            page,
            errors(
                op(id, "web", what, Access::Anyone)
                    .response(
                        "200",
                        etag_headers(body("the page", &["text/html"], Some(string().into()))),
                    )
                    .response("304", etag_headers(empty("not modified"))),
                &with(&[404]),
            ),
        );
    }
}

/// Operation count, for the tests of this module.
#[cfg(test)]
fn operations(doc: &OpenApi) -> usize {
    doc.paths
        .paths
        .values()
        .map(|p| {
            [&p.get, &p.post, &p.put, &p.delete, &p.patch]
                .iter()
                .filter(|o| o.is_some())
                .count()
        })
        .sum()
}

// ---------------------------------------------------------------------------------------
// Schemas

/// The JSON bodies, as types that describe them (never built: the handlers build their
/// answers themselves).
#[allow(dead_code)]
mod schemas {
    use std::collections::BTreeMap;

    use serde_json::Value;
    use utoipa::{OpenApi, ToSchema};

    /// Every schema of the document (nested ones are collected).
    #[derive(OpenApi)]
    #[openapi(components(schemas(
        Error,
        Health,
        Ready,
        Located,
        AreaFeature,
        AreaCollection,
        EventCollection,
        CaseFeature,
        NewReport,
        ReportedFeature,
        Transition,
        Stats,
        ExportCollection,
        TileCatalog,
        TileJson,
        PlanList,
        NewPlan,
        PlanDraft,
        PlanOperation,
        ValidationReport,
        Published,
        PlanAnswer,
        Open311Errors,
        Open311Discovery,
        Open311Services,
        Open311ServiceDefinition,
        Open311Requests,
        Open311NewRequest,
        Open311Created,
        Open311Tokens,
    )))]
    pub struct Components;

    /// An error of the REST API.
    #[derive(ToSchema)]
    pub struct Error {
        /// What went wrong.
        pub error: ErrorDetail,
    }

    /// The code and message of an error (some errors carry more fields, e.g. a plan's
    /// `report`, `reason`, `location` or `areas`).
    #[derive(ToSchema)]
    pub struct ErrorDetail {
        /// Machine-readable (`bad_request`, `unauthorized`, `not_found`, `conflict`, …).
        pub code: String,
        /// For people.
        pub message: String,
    }

    /// `/healthz`.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Health {
        /// `ok`.
        #[schema(pattern = "^ok$")]
        pub status: String,
    }

    /// `/readyz`.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Ready {
        /// `ready`.
        #[schema(pattern = "^ready$")]
        pub status: String,
        /// Areas loaded.
        pub areas: u64,
        /// Grids among them.
        pub grids: u64,
        /// Events loaded.
        pub events: u64,
    }

    /// `"Feature"`.
    #[derive(ToSchema)]
    pub enum FeatureType {
        /// A GeoJSON Feature.
        Feature,
    }

    /// `"FeatureCollection"`.
    #[derive(ToSchema)]
    pub enum CollectionType {
        /// A GeoJSON FeatureCollection.
        FeatureCollection,
    }

    /// `"Point"`.
    #[derive(ToSchema)]
    pub enum PointType {
        /// A GeoJSON Point.
        Point,
    }

    /// `"MultiPolygon"`.
    #[derive(ToSchema)]
    pub enum MultiPolygonType {
        /// A GeoJSON MultiPolygon.
        MultiPolygon,
    }

    /// A GeoJSON Point.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Point {
        #[serde(rename = "type")]
        pub kind: PointType,
        /// `[lon, lat]`.
        #[schema(min_items = 2, max_items = 2)]
        pub coordinates: Vec<f64>,
    }

    /// A GeoJSON MultiPolygon.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct MultiPolygon {
        #[serde(rename = "type")]
        pub kind: MultiPolygonType,
        /// Polygons of rings of `[lon, lat]` positions.
        pub coordinates: Vec<Vec<Vec<Vec<f64>>>>,
    }

    /// Area levels.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Level {
        City,
        District,
        Street,
        Community,
        Grid,
    }

    /// The public properties of an area.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct AreaProperties {
        pub id: i64,
        pub code: String,
        pub name: String,
        #[schema(required = true)]
        pub name_en: Option<String>,
        pub level: Level,
        #[schema(required = true)]
        pub parent_id: Option<i64>,
        pub households: i32,
        pub population: i32,
        /// Grid workers (网格员).
        pub workers: Vec<String>,
        /// Generated demo data.
        pub generated: bool,
        pub source: String,
        pub version: i32,
    }

    /// An area with its boundary.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct AreaFeature {
        #[serde(rename = "type")]
        pub kind: FeatureType,
        /// The area id.
        pub id: i64,
        pub geometry: MultiPolygon,
        pub properties: AreaProperties,
    }

    /// `rel` of a link.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Rel {
        #[serde(rename = "self")]
        This,
        Next,
    }

    /// A paging link.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Link {
        pub rel: Rel,
        /// `application/geo+json`.
        #[serde(rename = "type")]
        pub kind: String,
        /// Path and query of the page.
        pub href: String,
    }

    /// A page of areas.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct AreaCollection {
        #[serde(rename = "type")]
        pub kind: CollectionType,
        #[serde(rename = "numberReturned")]
        pub number_returned: u64,
        pub features: Vec<AreaFeature>,
        /// `self`, and `next` when more may follow.
        pub links: Vec<Link>,
    }

    /// The grid covering a point and its ancestors.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Located {
        pub grid: AreaProperties,
        /// `[community, street, district]` (nearest first).
        pub ancestors: Vec<AreaProperties>,
    }

    /// Workflow states.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum State {
        Reported,
        Accepted,
        Assigned,
        InProgress,
        Resolved,
        Closed,
        Rejected,
        Reopened,
    }

    /// Escalation levels.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Escalation {
        Grid,
        Community,
        Street,
        District,
    }

    /// Workflow actions.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Action {
        Accept,
        Reject,
        Assign,
        Start,
        Resolve,
        Close,
        Merge,
    }

    /// The public properties of an event (never personal data).
    #[derive(ToSchema)]
    pub struct EventProperties {
        pub category: String,
        #[schema(required = true)]
        pub category_zh: Option<String>,
        #[schema(required = true)]
        pub category_en: Option<String>,
        pub title: String,
        /// In the detail view and exports, not in lists.
        pub description: Option<String>,
        pub status: State,
        pub priority: i16,
        #[schema(required = true)]
        pub grid_id: Option<i64>,
        #[schema(format = DateTime)]
        pub reported_at: String,
        #[schema(required = true, format = DateTime)]
        pub due_at: Option<String>,
        #[schema(format = DateTime)]
        pub updated_at: String,
        pub overdue: bool,
        /// The level an overdue case has been raised to.
        pub escalation: Escalation,
        #[schema(required = true, format = DateTime)]
        pub resolved_at: Option<String>,
        #[schema(required = true)]
        pub satisfied: Option<bool>,
        pub generated: bool,
        /// Metres from the asked point (nearby only).
        pub distance_m: Option<f64>,
    }

    /// An event as a public Feature.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct EventFeature {
        #[serde(rename = "type")]
        pub kind: FeatureType,
        pub id: i64,
        pub geometry: Point,
        pub properties: PublicProperties,
    }

    /// The public properties of an event in lists, nearby answers and the stream: nothing
    /// else (no reporter, no handling).
    #[derive(ToSchema)]
    pub struct PublicProperties {
        #[serde(flatten)]
        pub public: EventProperties,
    }

    /// Events (a page with links, or nearby without).
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct EventCollection {
        #[serde(rename = "type")]
        pub kind: CollectionType,
        #[serde(rename = "numberReturned")]
        pub number_returned: u64,
        pub features: Vec<EventFeature>,
        /// Pages only: `self`, and `next` when more may follow.
        pub links: Option<Vec<Link>>,
    }

    /// One step of a case's history.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct HistoryEntry {
        #[schema(format = DateTime)]
        pub at: String,
        /// `role:name` (residents see the role only), `anonymous` or `system`.
        pub actor: String,
        /// `report`, an action, `escalate`, …
        #[schema(required = true)]
        pub action: Option<String>,
        #[schema(required = true)]
        pub from: Option<String>,
        pub to: String,
        pub note: String,
        #[schema(required = true)]
        pub assignee: Option<String>,
    }

    /// The properties of a case in its detail view.
    #[derive(ToSchema)]
    pub struct CaseProperties {
        #[serde(flatten)]
        pub public: EventProperties,
        #[schema(required = true)]
        pub assignee: Option<String>,
        #[schema(required = true)]
        pub merged_into: Option<i64>,
        pub history: Vec<HistoryEntry>,
        /// What the caller may do now.
        pub allowed_actions: Vec<Action>,
        /// The photo's path, if there is one.
        #[schema(required = true)]
        pub photo: Option<String>,
        /// The reporter's contact (command and admin only).
        pub reporter: Option<String>,
    }

    /// One case.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct CaseFeature {
        #[serde(rename = "type")]
        pub kind: FeatureType,
        pub id: i64,
        pub geometry: Point,
        pub properties: CaseProperties,
    }

    /// A report's Point.
    #[derive(ToSchema)]
    pub struct ReportPoint {
        #[serde(rename = "type")]
        pub kind: PointType,
        /// `[lon, lat]`: lon -180 to 180, lat -90 to 90.
        #[schema(min_items = 2, max_items = 2, examples(json!([115.37, 22.79])))]
        pub coordinates: Vec<f64>,
    }

    /// A photo in base64.
    #[derive(ToSchema)]
    pub struct PhotoData {
        /// The JPEG, PNG or WebP image in base64 (at most 5 MiB decoded).
        pub data: String,
    }

    /// `properties.photo`: `{"data": …}` or a `data:image/…;base64,` URL.
    #[derive(ToSchema)]
    #[serde(untagged)]
    pub enum Photo {
        Object(PhotoData),
        Url(String),
    }

    /// What a report says.
    #[derive(ToSchema)]
    pub struct NewReportProperties {
        /// A taxonomy code, e.g. `hazard.fire` (an unknown one is a 422).
        #[schema(examples("hazard.fire", "urban.streetlight"))]
        pub category: String,
        /// Not empty, at most 200 characters.
        #[schema(min_length = 1, max_length = 200, examples("路灯不亮"))]
        pub title: String,
        /// At most 5,000 characters.
        #[schema(max_length = 5000)]
        pub description: Option<String>,
        /// A contact (stored apart; shown only to command and admin), at most 200
        /// characters.
        #[schema(max_length = 200)]
        pub reporter: Option<String>,
        pub photo: Option<Photo>,
    }

    /// A report: a GeoJSON Point Feature.
    #[derive(ToSchema)]
    pub struct NewReport {
        #[serde(rename = "type")]
        pub kind: FeatureType,
        pub geometry: ReportPoint,
        pub properties: NewReportProperties,
    }

    /// An open case of the same category near a new report.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Duplicate {
        pub id: i64,
        pub title: String,
        pub status: State,
        pub distance_m: f64,
    }

    /// A stored report's properties.
    #[derive(ToSchema)]
    pub struct ReportedProperties {
        #[serde(flatten)]
        pub public: EventProperties,
        /// Open cases of the category within 250 m that the caller may see.
        pub possible_duplicates: Vec<Duplicate>,
    }

    /// A stored report.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ReportedFeature {
        #[serde(rename = "type")]
        pub kind: FeatureType,
        pub id: i64,
        pub geometry: Point,
        pub properties: ReportedProperties,
    }

    /// A workflow action.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Transition {
        pub action: Action,
        /// At most 5,000 characters.
        #[schema(max_length = 5000)]
        pub note: Option<String>,
        /// Who will handle the case (`assign`), at most 200 characters.
        #[schema(max_length = 200)]
        pub assignee: Option<String>,
        /// The return visit's answer (`close`).
        pub satisfied: Option<bool>,
        /// The case this one duplicates (`merge`).
        pub into: Option<i64>,
    }

    /// The area of a statistic.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct StatsArea {
        pub id: i64,
        pub code: String,
        pub name: String,
        pub level: Level,
    }

    /// Counts of a top category.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct CategoryStats {
        #[schema(required = true)]
        pub zh: Option<String>,
        #[schema(required = true)]
        pub en: Option<String>,
        pub total: u64,
        pub open: u64,
        pub overdue: u64,
        /// Counts by state (states without cases left out).
        pub by_status: BTreeMap<String, u64>,
    }

    /// Return-visit satisfaction.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Satisfaction {
        pub answered: u64,
        pub satisfied: u64,
        #[schema(required = true, minimum = 0, maximum = 1)]
        pub rate: Option<f64>,
    }

    /// Trend units.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum TrendUnit {
        Day,
        Month,
    }

    /// Cases reported and resolved in a day or month.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct TrendPoint {
        /// `YYYY-MM-DD` or `YYYY-MM`.
        pub period: String,
        pub reported: u64,
        pub resolved: u64,
    }

    /// Reported and resolved per day (per month over 400 days).
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Trend {
        pub unit: TrendUnit,
        pub points: Vec<TrendPoint>,
    }

    /// Case statistics.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Stats {
        #[schema(required = true)]
        pub area: Option<StatsArea>,
        #[schema(required = true, format = DateTime)]
        pub from: Option<String>,
        #[schema(required = true, format = DateTime)]
        pub to: Option<String>,
        #[schema(format = DateTime)]
        pub as_of: String,
        /// Whether the figures are exact (the caller's scope covers the area).
        pub exact: bool,
        /// Public aggregates: counts below this are shown as 0.
        #[schema(required = true)]
        pub min_count: Option<u64>,
        pub total: u64,
        pub open: u64,
        pub overdue: u64,
        pub escalated: u64,
        /// Counts by state (every state).
        pub by_status: BTreeMap<String, u64>,
        /// Counts by top category.
        pub by_category: BTreeMap<String, CategoryStats>,
        #[schema(required = true)]
        pub median_resolve_hours: Option<f64>,
        pub satisfaction: Satisfaction,
        pub trend: Trend,
    }

    /// An exported event's properties (never contacts).
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ExportProperties {
        pub category: String,
        pub category_zh: String,
        pub title: String,
        pub description: String,
        pub status: State,
        pub priority: i16,
        #[schema(required = true)]
        pub grid_id: Option<i64>,
        #[schema(required = true)]
        pub grid_code: Option<String>,
        #[schema(format = DateTime)]
        pub reported_at: String,
        #[schema(required = true, format = DateTime)]
        pub due_at: Option<String>,
        #[schema(format = DateTime)]
        pub updated_at: String,
        #[schema(required = true, format = DateTime)]
        pub resolved_at: Option<String>,
        pub overdue: bool,
        pub escalation: Escalation,
        #[schema(required = true)]
        pub satisfied: Option<bool>,
        #[schema(required = true)]
        pub assignee: Option<String>,
        #[schema(required = true)]
        pub merged_into: Option<i64>,
        pub generated: bool,
    }

    /// An exported event.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ExportFeature {
        #[serde(rename = "type")]
        pub kind: FeatureType,
        pub id: i64,
        pub geometry: Point,
        pub properties: ExportProperties,
    }

    /// An export.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ExportCollection {
        #[serde(rename = "type")]
        pub kind: CollectionType,
        pub features: Vec<ExportFeature>,
    }

    /// A layer of the catalog.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct CatalogLayer {
        /// `areas`, `events` or `heat`.
        pub id: String,
        /// Its TileJSON URL.
        pub tilejson: String,
    }

    /// The tile catalog.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct TileCatalog {
        pub tiles: Vec<CatalogLayer>,
    }

    /// A vector layer of a TileJSON.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct VectorLayer {
        pub id: String,
        /// Field names and their types.
        pub fields: BTreeMap<String, String>,
        pub minzoom: u8,
        pub maxzoom: u8,
    }

    /// TileJSON 3.0.0.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct TileJson {
        /// `3.0.0`.
        #[schema(pattern = r"^3\.0\.0$")]
        pub tilejson: String,
        pub name: String,
        /// The tile URL template.
        #[schema(min_items = 1)]
        pub tiles: Vec<String>,
        pub minzoom: u8,
        pub maxzoom: u8,
        /// `[west, south, east, north]`.
        #[schema(min_items = 4, max_items = 4)]
        pub bounds: Vec<f64>,
        /// `[lon, lat, zoom]`.
        #[schema(min_items = 3, max_items = 3)]
        pub center: Vec<f64>,
        pub vector_layers: Vec<VectorLayer>,
    }

    /// Plan states.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum PlanStatus {
        Draft,
        Published,
        Abandoned,
    }

    /// A plan's header.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Plan {
        pub id: i64,
        /// The area it was opened over.
        pub area_id: i64,
        pub name: String,
        pub status: PlanStatus,
        pub households_min: i32,
        pub households_max: i32,
        #[schema(required = true)]
        pub population_min: Option<i32>,
        #[schema(required = true)]
        pub population_max: Option<i32>,
        pub created_by: String,
        #[schema(format = DateTime)]
        pub created_at: String,
        #[schema(format = DateTime)]
        pub updated_at: String,
        #[schema(required = true, format = DateTime)]
        pub published_at: Option<String>,
        #[schema(required = true)]
        pub published_by: Option<String>,
    }

    /// Plans.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PlanList {
        pub plans: Vec<Plan>,
    }

    /// A plan's own answer.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PlanAnswer {
        pub plan: Plan,
    }

    /// An area id or code.
    #[derive(ToSchema)]
    #[serde(untagged)]
    pub enum AreaRef {
        Id(i64),
        Code(String),
    }

    /// A new draft.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct NewPlan {
        /// The area whose grids are redrawn.
        pub area: AreaRef,
        /// At most 200 characters.
        #[schema(min_length = 1, max_length = 200)]
        pub name: Option<String>,
        #[schema(minimum = 0, maximum = 2147483647)]
        pub households_min: Option<i32>,
        #[schema(minimum = 0, maximum = 2147483647)]
        pub households_max: Option<i32>,
        #[schema(minimum = 0, maximum = 2147483647)]
        pub population_min: Option<i32>,
        #[schema(minimum = 0, maximum = 2147483647)]
        pub population_max: Option<i32>,
    }

    /// The state of a draft grid.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum GridState {
        Unchanged,
        Changed,
        New,
    }

    /// A draft grid's properties.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PlanGridProperties {
        pub key: i32,
        pub code: String,
        pub name: String,
        #[schema(required = true)]
        pub name_en: Option<String>,
        pub parent_id: i64,
        #[schema(required = true)]
        pub source_id: Option<i64>,
        pub households: i32,
        pub population: i32,
        /// Grid workers.
        #[schema(value_type = Value)]
        pub workers: Value,
        pub state: GridState,
    }

    /// A draft grid (feature id = its key).
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PlanGridFeature {
        #[serde(rename = "type")]
        pub kind: FeatureType,
        pub id: i32,
        pub geometry: MultiPolygon,
        pub properties: PlanGridProperties,
    }

    /// A current grid the draft closes on publish.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ClosedGrid {
        pub id: i64,
        pub code: String,
        pub name: String,
        pub version: i32,
    }

    /// Kinds of fault.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum FaultKind {
        InvalidGeometry,
        Overlap,
        Gap,
        OutsideParent,
        Households,
        Population,
    }

    /// A fault of a draft (with the fields of its kind).
    #[derive(ToSchema)]
    pub struct Fault {
        pub kind: FaultKind,
    }

    /// What publishing would change.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Changes {
        pub changed: Vec<i32>,
        pub new: Vec<i32>,
        pub closed: Vec<i64>,
        pub unchanged: u64,
        pub events_regridded: u64,
        pub events_moving: u64,
        #[schema(value_type = Vec<Object>)]
        pub event_moves: Vec<Value>,
        pub event_moves_truncated: bool,
        #[schema(value_type = Vec<Object>)]
        pub household_moves: Vec<Value>,
    }

    /// A validation report.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ValidationReport {
        pub valid: bool,
        #[schema(format = DateTime)]
        pub checked_at: String,
        pub took_ms: f64,
        pub grids: u64,
        pub faults: Vec<Fault>,
        pub slivers: u64,
        pub sliver_area_m2: f64,
        pub sliver_limit_m2: f64,
        pub changes: Changes,
    }

    /// A draft as GeoJSON.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PlanDraft {
        #[serde(rename = "type")]
        pub kind: CollectionType,
        pub plan: Plan,
        #[serde(rename = "numberReturned")]
        pub number_returned: u64,
        pub features: Vec<PlanGridFeature>,
        /// Current grids closed on publish.
        pub closed: Vec<ClosedGrid>,
        /// The last validation (none before the first).
        #[schema(required = true)]
        pub validation: Option<ValidationReport>,
    }

    /// One operation on a draft (`grid`, `grids`, `from`, `to` are draft keys; geometries
    /// GeoJSON): `reshape` (grid, geometry?, households?, population?, name?), `split`
    /// (grid, line), `merge` (grids), `move_boundary` (from, to, piece; or grids [a, b],
    /// line), `create` (geometry, households, population, name?, code?, parent?), `retire`
    /// (grid).
    #[derive(ToSchema)]
    pub struct PlanOperation {
        pub op: PlanOp,
        pub grid: Option<i32>,
        pub grids: Option<Vec<i32>>,
        pub from: Option<i32>,
        pub to: Option<i32>,
        #[schema(value_type = Object)]
        pub geometry: Option<Value>,
        #[schema(value_type = Object)]
        pub piece: Option<Value>,
        #[schema(value_type = Object)]
        pub line: Option<Value>,
        #[schema(minimum = 0)]
        pub households: Option<i32>,
        #[schema(minimum = 0)]
        pub population: Option<i32>,
        #[schema(min_length = 1, max_length = 200)]
        pub name: Option<String>,
        #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
        pub code: Option<String>,
        pub parent: Option<i64>,
    }

    /// Operations.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum PlanOp {
        Reshape,
        Split,
        Merge,
        MoveBoundary,
        Create,
        Retire,
    }

    /// A grid created by publishing.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct CreatedGrid {
        pub id: i64,
        pub code: String,
        pub version: i32,
    }

    /// What publishing did.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PublishedDetail {
        #[schema(format = DateTime)]
        pub at: String,
        pub closed: Vec<i64>,
        pub created: Vec<CreatedGrid>,
        pub events_reassigned: u64,
        pub committed_ms: f64,
        pub total_ms: f64,
    }

    /// A published plan.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Published {
        pub plan: Plan,
        pub published: PublishedDetail,
        pub validation: ValidationReport,
    }

    /// An Open311 error.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Open311Error {
        /// The HTTP status.
        pub code: i64,
        pub description: String,
    }

    /// Open311 errors.
    #[derive(ToSchema)]
    pub struct Open311Errors(pub Vec<Open311Error>);

    /// An Open311 endpoint.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Open311Endpoint {
        pub specification: String,
        pub url: String,
        pub changeset: String,
        #[serde(rename = "type")]
        pub kind: String,
        pub formats: Vec<String>,
    }

    /// Open311 discovery.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Open311Discovery {
        pub changeset: String,
        pub contact: String,
        pub key_service: String,
        pub endpoints: Vec<Open311Endpoint>,
    }

    /// An Open311 service.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Open311Service {
        pub service_code: String,
        pub service_name: String,
        pub description: String,
        pub metadata: bool,
        #[serde(rename = "type")]
        pub kind: String,
        pub keywords: String,
        pub group: String,
    }

    /// Open311 services.
    #[derive(ToSchema)]
    pub struct Open311Services(pub Vec<Open311Service>);

    /// An attribute of a service definition.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Open311Attribute {
        pub variable: bool,
        pub code: String,
        pub datatype: String,
        pub required: bool,
        #[schema(required = true)]
        pub datatype_description: Option<String>,
        pub order: i64,
        pub description: String,
    }

    /// An Open311 service definition.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Open311ServiceDefinition {
        pub service_code: String,
        pub attributes: Vec<Open311Attribute>,
    }

    /// Open311 statuses.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Open311Status {
        Open,
        Closed,
    }

    /// An Open311 service request (public records have no location or free text).
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Open311Request {
        pub service_request_id: String,
        pub status: Open311Status,
        #[schema(required = true)]
        pub status_notes: Option<String>,
        pub service_name: String,
        pub service_code: String,
        pub description: String,
        #[schema(required = true)]
        pub agency_responsible: Option<String>,
        #[schema(required = true)]
        pub service_notice: Option<String>,
        #[schema(format = DateTime)]
        pub requested_datetime: String,
        #[schema(format = DateTime)]
        pub updated_datetime: String,
        #[schema(required = true, format = DateTime)]
        pub expected_datetime: Option<String>,
        #[schema(required = true)]
        pub address: Option<String>,
        #[schema(required = true)]
        pub address_id: Option<String>,
        #[schema(required = true)]
        pub zipcode: Option<String>,
        #[schema(required = true)]
        pub lat: Option<f64>,
        #[schema(required = true)]
        pub long: Option<f64>,
        #[schema(required = true)]
        pub media_url: Option<String>,
    }

    /// Open311 service requests.
    #[derive(ToSchema)]
    pub struct Open311Requests(pub Vec<Open311Request>);

    /// A new Open311 service request (form fields).
    #[derive(ToSchema)]
    pub struct Open311NewRequest {
        /// A service code, e.g. `hazard.fire`.
        #[schema(examples("hazard.fire"))]
        pub service_code: String,
        /// WGS84, -90 to 90.
        #[schema(required = false, minimum = -90, maximum = 90, examples(22.79))]
        pub lat: f64,
        /// WGS84, -180 to 180.
        #[schema(required = false, minimum = -180, maximum = 180, examples(115.37))]
        pub long: f64,
        #[schema(required = false)]
        pub address_string: String,
        #[schema(required = false)]
        pub address_id: String,
        #[schema(required = false)]
        pub email: String,
        #[schema(required = false)]
        pub device_id: String,
        #[schema(required = false)]
        pub account_id: String,
        #[schema(required = false)]
        pub first_name: String,
        #[schema(required = false)]
        pub last_name: String,
        #[schema(required = false)]
        pub phone: String,
        /// At most 4,000 characters; its first line is the title.
        #[schema(required = false, max_length = 4000)]
        pub description: String,
        /// An http or https URL.
        #[schema(required = false, max_length = 2000)]
        pub media_url: String,
        /// A minqing token.
        #[schema(required = false)]
        pub api_key: String,
        #[schema(required = false)]
        pub jurisdiction_id: String,
    }

    /// A stored Open311 request.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Open311CreatedItem {
        pub service_request_id: String,
        pub service_notice: String,
        #[schema(required = true)]
        pub account_id: Option<String>,
    }

    /// The answer to a POST.
    #[derive(ToSchema)]
    pub struct Open311Created(pub Vec<Open311CreatedItem>);

    /// A token and its request.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Open311Token {
        pub service_request_id: String,
        pub token: String,
    }

    /// The answer to `tokens/{token}`.
    #[derive(ToSchema)]
    pub struct Open311Tokens(pub Vec<Open311Token>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_names_every_operation() {
        let doc = document(&Taxonomy::builtin());
        let v = document_json(&Taxonomy::builtin());
        assert!(!v.to_string().contains("operation_id"));
        assert_eq!(v["openapi"], "3.1.0");
        assert!(operations(&doc) > 40);
        // Every reference resolves.
        let text = v.to_string();
        let schemas = v["components"]["schemas"].as_object().unwrap();
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "missing schema {name}");
        }
    }
}
