//! Operations: Open311 GeoReport v2.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Open311: every method in `.json` and `.xml`, errors in the spec's own format.
#[allow(clippy::too_many_lines)] // a declarative list of operations
pub(super) fn open311(api: &mut Api, t: &Codes) {
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
