//! The services (the taxonomy's subcategories, `category.subcategory`), their definitions,
//! and the discovery document.

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use super::args::{Args, O311Path, check_jurisdiction};
use super::doc::{Format, Node, ok, split_format, text};
use super::fail::{Fail, Result, answer, no_format};
use super::{CHANGESET, JURISDICTION_ID, SPECIFICATION};
use crate::AppState;
use crate::extract::negotiate::public_base;
use minqing_model::{Category, Subcategory};

/// `GET discovery.{fmt}`.
pub(super) fn discovery(fmt: Format, headers: &HeaderMap) -> Response {
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
pub(super) struct Service<'a> {
    pub(super) code: String,
    pub(super) category: &'a Category,
    pub(super) sub: &'a Subcategory,
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

pub(super) fn find_service<'a>(state: &'a AppState, code: &str) -> Result<Service<'a>> {
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
pub(super) fn services(state: &AppState, fmt: Format, uri: &Uri) -> Result<Response> {
    check_jurisdiction(&Args::from_query(uri)?)?;
    let items = all_services(state).iter().map(service_node).collect();
    Ok(ok(fmt, "services", &Node::List("service", items)))
}

/// `GET services/{code}.{fmt}`: no attribute to fill in; one display-only attribute tells
/// the handling deadline.
pub(super) async fn service_definition(
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
