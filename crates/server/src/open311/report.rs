//! `POST requests`: a report, read from its form and submitted as `POST /api/v1/events`
//! submits one.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::args::{Args, check_jurisdiction, resolve_caller};
use super::doc::{Format, Node, ok, text};
use super::fail::{Fail, Result};
use super::form::form_fields;
use super::services::find_service;
use super::{MAX_CONTACT, MAX_DESCRIPTION, MAX_MEDIA_URL, MAX_TITLE};
use crate::AppState;
use crate::error::ApiError;
use minqing_model::{NewEvent, check_lon_lat};
use minqing_service::auth::Caller;
use minqing_service::reports;

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
            link: None,
        },
        service.category.deadline_days,
    ))
}

/// `POST requests.{fmt}`.
pub(super) async fn create(
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
    args.add(form_fields(headers, body).await?)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_take_the_first_line() {
        assert_eq!(title_of("\n  井盖缺失 \n细节").as_deref(), Some("井盖缺失"));
        assert_eq!(title_of(" \n "), None);
        assert_eq!(
            title_of(&"长".repeat(300)).map(|t| t.chars().count()),
            Some(200)
        );
    }
}
