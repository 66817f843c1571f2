//! Residents: masked lists, one in full with a purpose (recorded first), removal, and the
//! access log.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The people of the caller's scope, masked: 401 without a token, 403 for roles that do not
/// read people.
pub(super) fn masked_view(
    state: &AppState,
    caller: &Caller,
) -> Result<(Option<std::sync::Arc<minqing_index::GridSet>>, Tags), ApiError> {
    let Some(p) = &caller.principal else {
        return Err(ApiError::unauthorized(
            "this needs a token (Authorization: Bearer …)",
        ));
    };
    match state.people_view(caller) {
        PeopleView::Masked { grids, granted } => Ok((grids, granted)),
        PeopleView::CountsOnly => Err(ApiError::forbidden(format!(
            "a {} token may not read the register of people",
            p.role.as_str()
        ))),
    }
}

pub(super) async fn residents(
    State(state): State<AppState>,
    caller: Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["area", "grid", "tag", "q", "limit", "cursor"])?;
    let (scope, granted) = masked_view(&state, &caller)?;
    let grids = area_grids(&state, &p, scope)?;
    let tag = code_param(&p, "tag", CareTag::parse, CareTag::codes)?;
    if let Some(t) = tag
        && t.sensitive()
        && !granted.has(t)
    {
        return Err(ApiError::forbidden(format!(
            "the tag {} is not granted to this token",
            t.code()
        )));
    }
    let q = p.str("q").map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > 50) {
        return Err(ApiError::bad_request("q is at most 50 characters"));
    }
    let limit = usize::try_from(p.int("limit", 100, 1, MAX_LIMIT)?).unwrap_or(100);
    let after = p.cursor()?.unwrap_or(0);
    let regs = state.index.registers();
    let exact = q.and_then(exact_value);
    let mut found = if let Some(value) = exact {
        let ids = state
            .store
            .residents_by_exact(state.keys()?, &value)
            .await?;
        let ids: Vec<i64> = ids.into_iter().filter(|i| *i > after).collect();
        regs.residents_by_id(&ids, grids.as_deref())
            .into_iter()
            .filter(|(r, _)| tag.is_none_or(|t| r.tags.has(t)))
            .take(limit + 1)
            .collect()
    } else {
        regs.residents(
            grids.as_deref(),
            q,
            |r| tag.is_none_or(|t| r.tags.has(t)),
            after,
            limit + 1,
        )
    };
    let next = next_of(&mut found, limit, |(r, _)| r.id);
    let today = state.index.now().date_naive();
    let items: Vec<Value> = found
        .into_iter()
        .map(|(r, g)| resident_masked(r, g, granted, today))
        .collect();
    let mut body =
        json!({"residents": items, "age_bands": AGE_BANDS.iter().map(|b| b.0).collect::<Vec<_>>()});
    if let Some(n) = next {
        let mut pairs: Vec<(String, String)> = p
            .pairs()
            .iter()
            .filter(|(k, _)| k.as_str() != "cursor")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.push(("cursor".into(), n.to_string()));
        body["next"] = json!(format!(
            "/api/v1/residents?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        ));
    }
    Ok(Json(body).into_response())
}

/// One resident: masked; in full with `purpose` (recorded before it is shown).
pub(super) async fn resident(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["purpose"])?;
    let id = parse_id("resident", &id)?;
    let (grids, granted) = masked_view(&state, &caller)?;
    let regs = state.index.registers();
    let (r, h, b, grid) = regs
        .resident(id)
        .ok_or_else(|| ApiError::not_found(format!("no resident {id}")))?;
    if grids.as_ref().is_some_and(|g| !g.has_grid(Some(grid))) {
        return Err(ApiError::not_found(format!("no resident {id}")));
    }
    let today = state.index.now().date_naive();
    let mut body = resident_masked(r, grid, granted, today);
    body["household"] = json!({"id": h.id, "code": h.code, "door": h.door});
    body["building"] = json!({"id": b.id, "address": b.address});
    body["birth_year"] = json!(chrono::Datelike::year(&r.birth_date));
    let purpose = p.str("purpose").map(str::trim).filter(|s| !s.is_empty());
    let request_id = new_secret()[3..19].to_owned();
    let Some(purpose) = purpose else {
        body["id_number"] = Value::Null;
        body["phone"] = Value::Null;
        body["unmask"] =
            json!("add ?purpose=… (stated, recorded) to see the ID number and phone in full");
        return Ok(Json(body).into_response());
    };
    if purpose.chars().count() > 200 {
        return Err(ApiError::bad_request("purpose is at most 200 characters"));
    }
    let full = state
        .unmask_resident(&caller, id, purpose, &request_id)
        .await
        .map_err(|e| match e {
            UnmaskError::Denied(d) => ApiError::from(d),
            UnmaskError::Store(s) => ApiError::from(s),
        })?
        .ok_or_else(|| ApiError::not_found(format!("no resident {id}")))?;
    body["name"] = json!(r.name);
    body["birth_date"] = json!(r.birth_date);
    body["id_number"] = json!(full.0);
    body["phone"] = json!(full.1);
    body["purpose"] = json!(purpose);
    body["request_id"] = json!(request_id);
    let mut resp = Json(body).into_response();
    resp.headers_mut().insert(
        "cache-control",
        HeaderValue::from_static("no-store, private"),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    Ok(resp)
}

/// The access log: admin only.
pub(super) async fn access_log(
    State(state): State<AppState>,
    caller: Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["resident", "token", "since", "limit", "cursor"])?;
    match caller.principal.as_ref().map(|p| p.role) {
        None => {
            return Err(ApiError::unauthorized(
                "this needs a token (Authorization: Bearer …)",
            ));
        }
        Some(Role::Admin) => {}
        Some(r) => {
            return Err(ApiError::forbidden(format!(
                "only admin tokens read the access log, not {}",
                r.as_str()
            )));
        }
    }
    let int = |k: &str| -> Result<Option<i64>, ApiError> {
        p.str(k)
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::bad_request(format!("{k} must be an integer, not {v:?}"))
                })
            })
            .transpose()
    };
    let limit = p.int("limit", 100, 1, MAX_LIMIT)?;
    let q = AccessQuery {
        resident: int("resident")?,
        token: int("token")?,
        since: p.time("since")?,
        before: p.cursor()?,
        limit: limit + 1,
    };
    let mut entries = state.store.access_log(&q).await?;
    let next = next_of(&mut entries, usize::try_from(limit).unwrap_or(100), |e| {
        e.id
    });
    Ok(Json(json!({"entries": entries, "next_cursor": next})).into_response())
}

/// Removes a resident who moved away or died (command and admin, in scope): the record and
/// its personal data go; the removal keeps the reason and the time only.
pub(super) async fn remove_resident(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["reason"])?;
    let id = parse_id("resident", &id)?;
    let (grids, _) = masked_view(&state, &caller)?;
    let Some(principal) = &caller.principal else {
        return Err(ApiError::unauthorized(
            "this needs a token (Authorization: Bearer …)",
        ));
    };
    if !matches!(principal.role, Role::Admin | Role::Command) {
        return Err(ApiError::forbidden(format!(
            "a {} token may not remove residents",
            principal.role.as_str()
        )));
    }
    let reason = p.str("reason").unwrap_or("");
    if !minqing_store::REMOVAL_REASONS.contains(&reason) {
        return Err(ApiError::bad_request(format!(
            "reason must be one of {}",
            minqing_store::REMOVAL_REASONS.join(", ")
        )));
    }
    let regs = state.index.registers();
    let (_, _, _, grid) = regs
        .resident(id)
        .ok_or_else(|| ApiError::not_found(format!("no resident {id}")))?;
    if grids.as_ref().is_some_and(|g| !g.has_grid(Some(grid))) {
        return Err(ApiError::not_found(format!("no resident {id}")));
    }
    if !state
        .store
        .remove_resident(id, reason, principal.token_id)
        .await?
    {
        return Err(ApiError::not_found(format!("no resident {id}")));
    }
    regs.remove_resident(id, &state.index.areas());
    Ok(Json(json!({"removed": id, "reason": reason})).into_response())
}
