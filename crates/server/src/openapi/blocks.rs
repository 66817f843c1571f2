//! Building blocks of the document: schema, parameter and response helpers shared by
//! every group of operations.

pub(super) use serde_json::json;
pub(super) use utoipa::openapi::link::LinkBuilder;
pub(super) use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
pub(super) use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
pub(super) use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, Type};
pub(super) use utoipa::openapi::security::SecurityRequirement;
pub(super) use utoipa::openapi::{
    Content, ContentBuilder, Header, KnownFormat, Paths, Ref, RefOr, Required,
    Response as ApiResponse, ResponseBuilder,
};

use minqing_model::Taxonomy;

/// The operations, as they are added.
#[derive(Default)]
pub(super) struct Api {
    pub(super) paths: Paths,
}

impl Api {
    pub(super) fn add(&mut self, method: HttpMethod, path: &str, op: OperationBuilder) {
        self.paths
            .add_path_operation(path, vec![method], op.build());
    }
}

/// The taxonomy's codes: every code a filter takes, and the full codes of reports.
pub(super) struct Codes {
    /// Categories and `category.subcategory` codes.
    pub(super) all: Vec<String>,
    /// `category.subcategory` codes (Open311 services).
    pub(super) services: Vec<String>,
}

impl Codes {
    pub(super) fn of(t: &Taxonomy) -> Codes {
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
pub(super) enum Access {
    Anyone,
    Token,
}

pub(super) fn op(id: &str, tag: &str, summary: &str, access: Access) -> OperationBuilder {
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

pub(super) fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

pub(super) fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

pub(super) fn integer(min: Option<i64>, max: Option<i64>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(min.map(|m| m as f64))
        .maximum(max.map(|m| m as f64))
        .into()
}

pub(super) fn number(min: f64, max: f64, example: f64) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(min))
        .maximum(Some(max))
        .examples([json!(example)])
        .into()
}

pub(super) fn integer_like(min: Option<i64>, max: Option<i64>, example: i64) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(min.map(|m| m as f64))
        .maximum(max.map(|m| m as f64))
        .examples([json!(example)])
        .into()
}

pub(super) fn one_of_strings<S: AsRef<str>>(values: &[S]) -> RefOr<Schema> {
    string()
        .enum_values(Some(values.iter().map(|v| v.as_ref().to_owned())))
        .into()
}

pub(super) fn date_time() -> RefOr<Schema> {
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .into()
}

pub(super) fn param(
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

pub(super) fn query(name: &str, schema: RefOr<Schema>, what: &str) -> Parameter {
    param(name, ParameterIn::Query, false, schema, what)
}

pub(super) fn path(name: &str, schema: RefOr<Schema>, what: &str) -> Parameter {
    param(name, ParameterIn::Path, true, schema, what)
}

pub(super) fn header_param(name: &str, schema: RefOr<Schema>, what: &str) -> Parameter {
    param(name, ParameterIn::Header, false, schema, what)
}

/// `bbox=minLon,minLat,maxLon,maxLat`.
pub(super) fn bbox(max_span: Option<f64>) -> Parameter {
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

pub(super) fn lon_lat(required: bool) -> [Parameter; 2] {
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

pub(super) fn limit(default: i64, max: i64) -> Parameter {
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

pub(super) fn cursor() -> Parameter {
    query(
        "cursor",
        integer(None, None),
        "opaque paging cursor from a `next` link",
    )
}

/// Every state of the workflow.
pub(super) const STATES: [&str; 8] = [
    "reported",
    "accepted",
    "assigned",
    "in_progress",
    "resolved",
    "closed",
    "rejected",
    "reopened",
];

pub(super) fn status_filter(default: &str) -> Parameter {
    let mut values = vec!["open", "all"];
    values.extend(STATES);
    query(
        "status",
        one_of_strings(&values),
        &format!("a state, `open` (every open state) or `all`; default `{default}`"),
    )
}

pub(super) fn category(t: &Codes) -> Parameter {
    query(
        "category",
        one_of_strings(&t.all),
        "a category code (all its subcategories) or a `category.subcategory` code; \
         an unknown code is a 400",
    )
}

pub(super) fn time_window() -> [Parameter; 2] {
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

pub(super) fn id_path(what: &str) -> Parameter {
    path("id", integer_like(None, None, 1), what)
}

/// `z`, `x` and `y` of a tile (x and y below 2^z, checked by the handler).
pub(super) fn tile_params() -> [Parameter; 3] {
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

pub(super) fn content(schema: Option<RefOr<Schema>>) -> Content {
    ContentBuilder::new().schema(schema).build()
}

/// A response with a body of `schema` in each of `media`.
// Taken by value: callers build the schema in the call, and one copy per media type is made.
#[allow(clippy::needless_pass_by_value)]
pub(super) fn body(what: &str, media: &[&str], schema: Option<RefOr<Schema>>) -> ApiResponse {
    let mut r = ResponseBuilder::new().description(what);
    for m in media {
        r = r.content(*m, content(schema.clone()));
    }
    r.build()
}

pub(super) fn json_body(what: &str, schema: &str) -> ApiResponse {
    body(what, &["application/json"], Some(schema_ref(schema)))
}

pub(super) fn geojson_body(what: &str, schema: &str) -> ApiResponse {
    body(what, &["application/geo+json"], Some(schema_ref(schema)))
}

pub(super) fn empty(what: &str) -> ApiResponse {
    ResponseBuilder::new().description(what).build()
}

/// What a status means in this API.
pub(super) fn meaning(status: u16) -> &'static str {
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
pub(super) fn errors(mut op: OperationBuilder, statuses: &[u16]) -> OperationBuilder {
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

pub(super) fn json_request(what: &str, schema: &str, media: &[&str]) -> RequestBody {
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
pub(super) fn links(mut r: ApiResponse, param: &str, from: &str, ops: &[&str]) -> ApiResponse {
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

pub(super) fn etag_headers(mut r: ApiResponse) -> ApiResponse {
    r.headers
        .insert("ETag".to_owned(), Header::new(string().build()));
    r
}

/// Statuses every REST operation may answer before its handler runs: a bad token (401) and
/// the database unreachable while a token is looked up (503).
pub(super) const ALWAYS: [u16; 2] = [401, 503];

pub(super) fn with(statuses: &[u16]) -> Vec<u16> {
    let mut all: Vec<u16> = statuses.iter().chain(ALWAYS.iter()).copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// A photo answered as it was stored (JPEG, PNG or WebP).
pub(super) fn image_body() -> ApiResponse {
    body(
        "the image",
        &["image/jpeg", "image/png", "image/webp"],
        Some(
            string()
                .format(Some(SchemaFormat::Custom("binary".into())))
                .into(),
        ),
    )
}
