//! Events: report, list, nearby, one case (with its history), and its transitions.
//!
//! Reading single events needs a token of a role that reads by place, and answers only
//! what the caller's scope covers (an event outside it is a 404). A reporter lists only
//! their own reports. Anyone may submit a report (anonymous clients are rate-limited).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiPath, JsonBody, Params};
use super::features::{self, GeoJson};
use minqing_index::EventFilter;
use minqing_model::geojson::point_from_json;
use minqing_model::register::{LinkKind, RegisterLink};
use minqing_model::{Action, Event, NewEvent, Role, StatusFilter};
use minqing_service::auth::Caller;
use minqing_service::reports;
use minqing_store::{Case, Refusal, TransitionInput};

/// Largest page of events.
const MAX_LIMIT: i64 = 1000;
/// Most events a nearby query returns.
const MAX_NEARBY: i64 = 200;
/// Largest nearby radius, metres.
const MAX_WITHIN_M: f64 = 100_000.0;
/// Longest accepted texts, in characters.
const MAX_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 5000;
const MAX_REPORTER: usize = 200;
const MAX_IDEMPOTENCY_KEY: usize = 200;
/// Largest photo, bytes.
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;

/// `/api/v1/events`, `/api/v1/events/nearby`, `/api/v1/events/{id}`,
/// `/api/v1/events/{id}/transitions`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/events",
            get(list)
                .post(create)
                .layer(axum::extract::DefaultBodyLimit::max(
                    // A report may carry a photo, in base64.
                    MAX_PHOTO_BYTES * 4 / 3 + 64 * 1024,
                )),
        )
        .route("/api/v1/events/{id}/photo", get(photo))
        .route("/api/v1/events/nearby", get(nearby))
        .route("/api/v1/events/{id}", get(one))
        .route("/api/v1/events/{id}/transitions", post(transition))
}

/// The event filter of a request narrowed to the caller's scope; 401 without a token, 403
/// for a role that does not read events by place.
pub(super) fn reader_filter(
    state: &AppState,
    caller: &Caller,
    p: &Params,
) -> ApiResult<EventFilter> {
    caller.require_event_reader()?;
    let mut f = filter(state, p)?;
    f.scope = state.scope_grids(caller);
    Ok(f)
}

/// An event id from the path.
fn event_id(id: &str) -> ApiResult<i64> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("event id must be an integer, not {id:?}")))
}

/// The case, if it exists and the caller may see it (401 without a token).
async fn visible_case(state: &AppState, caller: &Caller, id: i64) -> ApiResult<Case> {
    caller.require()?;
    state
        .store
        .case(id)
        .await?
        .filter(|c| state.may_see(caller, c))
        .ok_or_else(|| ApiError::not_found(format!("no event {id}")))
}

/// Status, category and time filters shared by the queries (and the tile layers).
pub(super) fn filter(state: &AppState, p: &Params) -> ApiResult<EventFilter> {
    let status = match p.str("status") {
        None => StatusFilter::Open,
        Some(s) => StatusFilter::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "status must be open, all, or one of reported, accepted, assigned, in_progress, resolved, closed, rejected, reopened; not {s:?}"
            ))
        })?,
    };
    let categories = match p.str("category") {
        None => None,
        Some(c) => Some(
            state
                .taxonomy
                .matching(c)
                .ok_or_else(|| ApiError::bad_request(format!("unknown category {c:?}")))?,
        ),
    };
    let from = p.time("from")?;
    let to = p.time("to")?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::bad_request("from must not be after to"));
    }
    Ok(EventFilter {
        status,
        categories,
        from: from.map(|t| t.timestamp_micros()),
        to: to.map(|t| t.timestamp_micros()),
        scope: None,
    })
}

async fn list(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    p.only(&[
        "bbox", "category", "status", "from", "to", "limit", "cursor",
    ])?;
    if let Some(principal) = &caller.principal
        && principal.role == Role::Reporter
    {
        return own_reports(&state, principal.token_id, &p).await;
    }
    let mut f = reader_filter(&state, &caller, &p)?;
    if p.str("status").is_none() {
        f.status = StatusFilter::All;
    }
    let bbox = p.bbox(state.config.max_bbox_deg)?;
    let limit = usize::try_from(p.int("limit", 100, 1, MAX_LIMIT)?).unwrap_or(100);
    let after = p.cursor()?;
    let events = state.index.events(|ix| {
        ix.list(bbox.as_ref(), &f, after, limit + 1)
            .into_iter()
            .map(|s| ix.event(s))
            .collect::<Vec<_>>()
    });
    Ok(event_page(&state, &p, events, limit))
}

/// A reporter's own reports (from the database: the index does not know who reported).
async fn own_reports(state: &AppState, token: i64, p: &Params) -> ApiResult<Response> {
    if ["bbox", "category", "status", "from", "to"]
        .iter()
        .any(|k| p.str(k).is_some())
    {
        return Err(ApiError::bad_request(
            "a reporter's list takes only limit and cursor: it holds their own reports",
        ));
    }
    let limit = p.int("limit", 100, 1, MAX_LIMIT)?;
    let after = p.cursor()?.unwrap_or(0);
    let events = state.store.own_events(token, after, limit + 1).await?;
    let limit = usize::try_from(limit).unwrap_or(100);
    Ok(event_page(state, p, events, limit))
}

/// A page of events: at most `limit` of `events` (fetched one more than that, to know
/// whether a next page exists), with the link to it.
fn event_page(state: &AppState, p: &Params, mut events: Vec<Event>, limit: usize) -> Response {
    let next = (events.len() > limit).then(|| {
        events.truncate(limit);
        events.last().map(|e| e.id)
    });
    let now = Utc::now();
    let feats = events
        .iter()
        .map(|e| features::event(e, &state.taxonomy, now, None))
        .collect();
    GeoJson(features::page("/api/v1/events", p, feats, next.flatten())).into_response()
}

async fn nearby(State(state): State<AppState>, caller: Caller, p: Params) -> ApiResult<Response> {
    p.only(&[
        "lon", "lat", "limit", "within_m", "status", "category", "from", "to",
    ])?;
    let (lon, lat) = p.lon_lat()?;
    let f = reader_filter(&state, &caller, &p)?;
    let limit = usize::try_from(p.int("limit", 20, 1, MAX_NEARBY)?).unwrap_or(20);
    let within = match p.f64("within_m")? {
        None => f64::INFINITY,
        Some(w) if w > 0.0 && w <= MAX_WITHIN_M => w,
        Some(w) => {
            return Err(ApiError::bad_request(format!(
                "within_m must be more than 0 and at most {MAX_WITHIN_M}, not {w}"
            )));
        }
    };
    let found = state.index.events(|ix| {
        ix.nearest(lon, lat, limit, within, &f)
            .into_iter()
            .map(|(s, d)| (ix.event(s), d))
            .collect::<Vec<_>>()
    });
    let now = Utc::now();
    let feats: Vec<_> = found
        .iter()
        .map(|(e, d)| features::event(e, &state.taxonomy, now, Some(*d)))
        .collect();
    Ok(GeoJson(features::collection(feats)).into_response())
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let id = event_id(&id)?;
    // The detail view reads the committed row (it has the description the index omits).
    let case = visible_case(&state, &caller, id).await?;
    Ok(GeoJson(detail(&state, &caller, &case).await?).into_response())
}

/// A case as its detail view shows it: the public Feature, plus its handling (assignee,
/// merge, escalation), its history, the actions the caller may take now, and the reporter's
/// contact for roles that may see it.
async fn detail(state: &AppState, caller: &Caller, case: &Case) -> ApiResult<Value> {
    let link = case
        .link
        .and_then(|l| super::registers::link_json(state, caller, l));
    let e = &case.event;
    let now = Utc::now();
    let mut v = serde_json::to_value(features::event(e, &state.taxonomy, now, None))
        .map_err(|_| ApiError::internal())?;
    let role = caller.role();
    let history = state.store.history(e.id).await?;
    // Residents see which role acted, not which member of staff, and the name of whoever
    // handles their case masked (张*明).
    let staff = role.is_some_and(|r| r != Role::Reporter);
    let who = |n: &str| {
        if staff {
            n.to_owned()
        } else {
            minqing_model::register::mask_name(n)
        }
    };
    let history: Vec<Value> = history
        .iter()
        .map(|h| {
            let actor = if staff {
                h.actor.clone()
            } else {
                h.actor.split(':').next().unwrap_or("").to_owned()
            };
            json!({"at": h.at, "actor": actor, "action": h.action, "from": h.from,
                   "to": h.to, "note": h.note, "assignee": h.assignee.as_deref().map(who)})
        })
        .collect();
    let allowed: Vec<&str> = Action::allowed(e.status)
        .into_iter()
        .filter(|a| role.is_some_and(|r| r.may(*a)))
        .map(Action::as_str)
        .collect();
    if let Some(props) = v.get_mut("properties").and_then(Value::as_object_mut) {
        props.insert("assignee".into(), json!(case.assignee.as_deref().map(who)));
        props.insert(
            "worker".into(),
            case.worker.as_ref().map_or(
                Value::Null,
                |(id, name)| json!({"id": id, "name": who(name)}),
            ),
        );
        props.insert("merged_into".into(), json!(case.merged_into));
        props.insert("link".into(), link.unwrap_or(Value::Null));
        props.insert("history".into(), Value::Array(history));
        props.insert("allowed_actions".into(), json!(allowed));
        let has_photo = state.store.has_photo(e.id).await?;
        props.insert(
            "photo".into(),
            json!(has_photo.then(|| format!("/api/v1/events/{}/photo", e.id))),
        );
        if role.is_some_and(Role::sees_contacts) {
            let contact = state.store.reporter_contact(e.id).await?;
            props.insert("reporter".into(), json!(contact));
        }
    }
    Ok(v)
}

/// The body of `POST /api/v1/events/{id}/transitions`.
fn parse_transition(body: &Value) -> ApiResult<(Action, TransitionInput)> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("the body must be a JSON object with an action"))?;
    let names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
    let action = match obj.get("action") {
        Some(Value::String(a)) => Action::parse(a).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown action {a:?}; actions: {}",
                names.join(", ")
            ))
        })?,
        _ => {
            return Err(ApiError::bad_request(format!(
                "action is required: one of {}",
                names.join(", ")
            )));
        }
    };
    for k in obj.keys() {
        if !["action", "note", "assignee", "worker", "satisfied", "into"].contains(&k.as_str()) {
            return Err(ApiError::bad_request(format!(
                "unknown field {k:?}; fields: action, note, worker, assignee, satisfied, into"
            )));
        }
    }
    let text = |k: &str, max: usize| -> ApiResult<Option<String>> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.trim().to_owned())),
            Some(Value::String(_)) => Err(ApiError::unprocessable(format!(
                "{k} is longer than {max} characters"
            ))),
            Some(_) => Err(ApiError::bad_request(format!("{k} must be a string"))),
        }
    };
    let input = TransitionInput {
        note: text("note", MAX_DESCRIPTION)?.unwrap_or_default(),
        assignee: text("assignee", MAX_REPORTER)?.filter(|a| !a.is_empty()),
        worker: match obj.get("worker") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_i64()
                    .filter(|w| *w > 0)
                    .ok_or_else(|| ApiError::bad_request("worker must be a worker id"))?,
            ),
        },
        satisfied: match obj.get("satisfied") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(ApiError::bad_request("satisfied must be true or false")),
        },
        into: match obj.get("into") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_i64()
                    .ok_or_else(|| ApiError::bad_request("into must be an event id"))?,
            ),
        },
    };
    match action {
        Action::Assign if input.assignee.is_none() && input.worker.is_none() => {
            Err(ApiError::unprocessable(
                "assign needs a worker (the id of a worker holding the case's grid)",
            ))
        }
        Action::Close if input.satisfied.is_none() => Err(ApiError::unprocessable(
            "close records the return visit: satisfied (true or false) is required",
        )),
        Action::Merge if input.into.is_none() => Err(ApiError::unprocessable(
            "merge needs into: the id of the case this one duplicates",
        )),
        _ => Ok((action, input)),
    }
}

async fn transition(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let id = event_id(&id)?;
    let principal = caller.require()?;
    let (action, input) = parse_transition(&body)?;
    let case = visible_case(&state, &caller, id).await?;
    if !principal.role.may(action) {
        return Err(ApiError::forbidden(format!(
            "the {} role may not {}",
            principal.role.as_str(),
            action.as_str()
        )));
    }
    if let Some(into) = input.into.filter(|_| action == Action::Merge) {
        // The case merged into must be one the caller may see, too.
        visible_case(&state, &caller, into)
            .await
            .map_err(|_| ApiError::unprocessable(format!("no case {into} to merge into")))?;
    }
    let deadline = state
        .taxonomy
        .category_of(&case.event.category)
        .map_or(7, |c| c.deadline_days);
    let outcome = state
        .store
        .transition(id, action, &input, &caller.actor(), deadline)
        .await?;
    match outcome {
        Ok(e) => {
            // Committed: visible to the next query, tile and stream message at once.
            state.live.apply(e.clone());
            let case = Case { event: e, ..case };
            let case = state.store.case(id).await?.unwrap_or(case);
            Ok(GeoJson(detail(&state, &caller, &case).await?).into_response())
        }
        Err(Refusal::NotFound) => Err(ApiError::not_found(format!("no event {id}"))),
        Err(Refusal::Target(m) | Refusal::Worker(m)) => Err(ApiError::unprocessable(m)),
        Err(Refusal::State { current, allowed }) => {
            let allowed: Vec<&str> = allowed
                .into_iter()
                .filter(|a| principal.role.may(*a))
                .map(Action::as_str)
                .collect();
            Err(ApiError::conflict(format!(
                "cannot {} a case that is {}; allowed now: {}",
                action.as_str(),
                current.as_str(),
                if allowed.is_empty() {
                    "nothing".to_owned()
                } else {
                    allowed.join(", ")
                }
            )))
        }
    }
}

/// Reads and validates a report Feature.
fn parse_report(state: &AppState, body: &Value) -> ApiResult<NewEvent> {
    if body.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(ApiError::bad_request("the body must be a GeoJSON Feature"));
    }
    let geometry = body
        .get("geometry")
        .ok_or_else(|| ApiError::bad_request("the Feature has no geometry"))?;
    let (lon, lat) = point_from_json(geometry).map_err(ApiError::bad_request)?;
    let props = body
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::bad_request("the Feature has no properties object"))?;
    let text = |key: &str, max: usize, required: bool| -> ApiResult<Option<String>> {
        match props.get(key) {
            None | Some(Value::Null) if !required => Ok(None),
            None | Some(Value::Null) => Err(ApiError::unprocessable(format!(
                "properties.{key} is required"
            ))),
            Some(Value::String(s)) => {
                let s = s.trim();
                if required && s.is_empty() {
                    Err(ApiError::unprocessable(format!(
                        "properties.{key} must not be empty"
                    )))
                } else if s.chars().count() > max {
                    Err(ApiError::unprocessable(format!(
                        "properties.{key} is longer than {max} characters"
                    )))
                } else {
                    Ok(Some(s.to_owned()))
                }
            }
            Some(_) => Err(ApiError::bad_request(format!(
                "properties.{key} must be a string"
            ))),
        }
    };
    let category = text("category", 100, true)?.unwrap_or_default();
    if state.taxonomy.number(&category).is_none() {
        return Err(ApiError::unprocessable(format!(
            "unknown category {category:?}; see the taxonomy for valid codes such as hazard.fire"
        )));
    }
    Ok(NewEvent {
        category,
        title: text("title", MAX_TITLE, true)?.unwrap_or_default(),
        description: text("description", MAX_DESCRIPTION, false)?.unwrap_or_default(),
        lon,
        lat,
        reporter: text("reporter", MAX_REPORTER, false)?.filter(|r| !r.is_empty()),
        photo: parse_photo(props.get("photo"), "properties.photo")?,
        link: parse_link(props)?,
    })
}

/// `properties.building_id`, `place_id`, `organisation_id` or `household_id`: the record
/// of the registers the report names as where it happened (at most one). Whether it exists
/// and lies near the report is checked by the service.
fn parse_link(props: &serde_json::Map<String, Value>) -> ApiResult<Option<RegisterLink>> {
    let mut link = None;
    for kind in LinkKind::ALL {
        let key = format!("{}_id", kind.code());
        match props.get(&key) {
            None | Some(Value::Null) => {}
            Some(v) => {
                let id = v.as_i64().filter(|id| *id > 0).ok_or_else(|| {
                    ApiError::bad_request(format!("properties.{key} must be a positive integer"))
                })?;
                if link.is_some() {
                    return Err(ApiError::unprocessable(
                        "a report names at most one of building_id, place_id, organisation_id and household_id",
                    ));
                }
                link = Some(RegisterLink { kind: *kind, id });
            }
        }
    }
    Ok(link)
}

/// `properties.photo`: `{"data": "<base64>"}` (or a `data:image/…;base64,` URL) of a JPEG,
/// PNG or WebP image of at most [`MAX_PHOTO_BYTES`]; the type is told by the bytes, not by
/// what the client claims.
pub(crate) fn parse_photo(
    v: Option<&Value>,
    field: &str,
) -> ApiResult<Option<(&'static str, Vec<u8>)>> {
    use base64::Engine;
    let data = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => o.get("data").and_then(Value::as_str).ok_or_else(|| {
            ApiError::bad_request(format!("{field}.data must be the image in base64"))
        })?,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "{field} must be {{\"data\": \"<base64>\"}} or a data: URL"
            )));
        }
    };
    let data = match data.split_once(";base64,") {
        Some((head, rest)) if head.starts_with("data:") => rest,
        _ => data,
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| ApiError::bad_request(format!("{field} is not valid base64")))?;
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the photo is {} bytes; at most {MAX_PHOTO_BYTES} are accepted",
                bytes.len()
            ),
        ));
    }
    let kind = minqing_model::image_type(&bytes).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the photo must be a JPEG, PNG or WebP image",
        )
    })?;
    Ok(Some((kind, bytes)))
}

async fn photo(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let id = event_id(&id)?;
    visible_case(&state, &caller, id).await?;
    let (kind, bytes) = state
        .store
        .photo(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("event {id} has no photo")))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, kind),
            (
                axum::http::header::CACHE_CONTROL,
                "private, max-age=86400".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    reports::admit(&state, &caller).map_err(ApiError::too_many)?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let k = v
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"
                    ))
                })?;
            Some(k.to_owned())
        }
    };
    let new = parse_report(&state, &body)?;
    let e = reports::submit(&state, &caller, new, key.as_deref())
        .await?
        .event;
    let location = format!("/api/v1/events/{}", e.id);
    let mut v = serde_json::to_value(features::event(&e, &state.taxonomy, Utc::now(), None))
        .map_err(|_| ApiError::internal())?;
    let duplicates: Vec<Value> = reports::possible_duplicates(&state, &caller, &e)
        .await?
        .into_iter()
        .map(|d| json!({"id": d.id, "title": d.title, "status": d.status, "distance_m": d.distance_m}))
        .collect();
    if let Some(props) = v.get_mut("properties").and_then(Value::as_object_mut) {
        props.insert("possible_duplicates".into(), Value::Array(duplicates));
    }
    Ok((StatusCode::CREATED, [("location", location)], GeoJson(v)).into_response())
}
