//! Cases: transitions with their history, escalation, a reporter's own reports, tokens, and
//! exports streamed straight from PostGIS.

use std::pin::Pin;

use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::rows::{event_from_row, get};
use super::{Result, Store, StoreError};
use minqing_model::register::{CareTag, Tags};
use minqing_model::{Action, Event, Status};
use minqing_model::{Principal, Role};

/// A case as its detail view shows it.
#[derive(Debug, Clone)]
pub struct Case {
    /// Public fields.
    pub event: Event,
    /// Who handles it.
    pub assignee: Option<String>,
    /// The case it was merged into, if it is a duplicate.
    pub merged_into: Option<i64>,
    /// The reporter-role token that submitted it.
    pub reporter_token: Option<i64>,
    /// The record of the registers the report named, if any.
    pub link: Option<minqing_model::register::RegisterLink>,
    /// The worker handling it (id, name), if any.
    pub worker: Option<(i64, String)>,
}

/// One entry of a case's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (`role:name`, `anonymous`, `system`).
    pub actor: String,
    /// State before (`None` for the report itself).
    pub from: Option<String>,
    /// State after.
    pub to: String,
    /// Free text.
    pub note: String,
    /// What was done (`report`, an action name, `escalate`).
    pub action: Option<String>,
    /// The assignee given.
    pub assignee: Option<String>,
}

/// What a transition asks for, beyond the action.
#[derive(Debug, Clone, Default)]
pub struct TransitionInput {
    /// Free text for the history.
    pub note: String,
    /// For `assign`: who, as free text (superseded by `worker`).
    pub assignee: Option<String>,
    /// For `assign`: the worker (id), who must hold the case's grid.
    pub worker: Option<i64>,
    /// For `close`: the return visit's answer.
    pub satisfied: Option<bool>,
    /// For `merge`: the case this one duplicates.
    pub into: Option<i64>,
}

/// Why a transition was refused.
#[derive(Debug)]
pub enum Refusal {
    /// No such case.
    NotFound,
    /// The action is not allowed in the case's current state.
    State {
        /// The current state.
        current: Status,
        /// What is allowed from it.
        allowed: Vec<Action>,
    },
    /// The merge target is unusable.
    Target(String),
    /// The worker cannot take the case.
    Worker(String),
}

/// Either the new state of the case, or why not.
pub type TransitionResult = std::result::Result<Event, Refusal>;

/// The history note of a transition (a merge names its target).
fn history_note(action: Action, input: &TransitionInput) -> String {
    match (action, input.into) {
        (Action::Merge, Some(into)) if input.note.is_empty() => format!("merged into #{into}"),
        (Action::Merge, Some(into)) => format!("merged into #{into}: {}", input.note),
        _ => input.note.clone(),
    }
}

/// Who an `assign` gives the case to: the free-text assignee, or the worker (id) with
/// their name, refused unless they hold the case's grid now. Other actions give nobody.
async fn assignee_of(
    tx: &deadpool_postgres::Transaction<'_>,
    action: Action,
    input: &TransitionInput,
    grid: Option<i64>,
) -> Result<std::result::Result<(Option<String>, Option<i64>), Refusal>> {
    if action != Action::Assign {
        return Ok(Ok((None, None)));
    }
    let Some(w) = input.worker else {
        return Ok(Ok((input.assignee.clone(), None)));
    };
    let Some(row) = tx
        .query_opt(
            include_str!("sql/workers/on_duty.sql"),
            &[&w, &grid.unwrap_or(0)],
        )
        .await?
    else {
        return Ok(Err(Refusal::Worker(format!(
            "worker {w} does not hold this case's grid (or has left)"
        ))));
    };
    Ok(Ok((Some(get(&row, "name")?), Some(w))))
}

fn case_from_row(row: &Row) -> Result<Case> {
    Ok(Case {
        event: event_from_row(row)?,
        assignee: get(row, "assignee")?,
        merged_into: get(row, "merged_into")?,
        reporter_token: get(row, "reporter_token")?,
        link: minqing_model::register::RegisterLink::from_columns([
            get(row, "building_id")?,
            get(row, "place_id")?,
            get(row, "organisation_id")?,
            get(row, "household_id")?,
        ]),
        worker: match get::<Option<i64>>(row, "worker_id")? {
            Some(id) => Some((
                id,
                get::<Option<String>>(row, "worker_name")?.unwrap_or_default(),
            )),
            None => None,
        },
    })
}

/// Rows of an export, one at a time, holding their connection until the last.
pub type RowStream = Pin<Box<dyn Stream<Item = Result<Row>> + Send>>;

impl ExportFilter {
    /// The box as four nullable bounds (west, south, east, north).
    #[must_use]
    pub fn bounds(&self) -> [Option<f64>; 4] {
        self.bbox.map_or([None; 4], |b| b.map(Some))
    }

    /// The filter as the parameters `$1`…`$9` of `sql/export_events.sql` (and the queries
    /// that share its filter), with `bounds` from [`ExportFilter::bounds`].
    #[must_use]
    pub fn params<'a>(&'a self, bounds: &'a [Option<f64>; 4]) -> [&'a (dyn ToSql + Sync); 9] {
        [
            &self.categories,
            &self.statuses,
            &self.from,
            &self.to,
            &bounds[0],
            &bounds[1],
            &bounds[2],
            &bounds[3],
            &self.grids,
        ]
    }
}

impl Store {
    /// One case with its detail fields.
    pub async fn case(&self, id: i64) -> Result<Option<Case>> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/event_case.sql"))
            .await?;
        conn.query_opt(&stmt, &[&id])
            .await?
            .map(|r| case_from_row(&r))
            .transpose()
    }

    /// A case's history, oldest first.
    pub async fn history(&self, id: i64) -> Result<Vec<HistoryEntry>> {
        let conn = self.conn().await?;
        let stmt = conn.prepare_cached(include_str!("sql/history.sql")).await?;
        conn.query(&stmt, &[&id])
            .await?
            .iter()
            .map(|r| {
                Ok(HistoryEntry {
                    at: get(r, "at")?,
                    actor: get(r, "actor")?,
                    from: get(r, "from_status")?,
                    to: get(r, "to_status")?,
                    note: get(r, "note")?,
                    action: get(r, "action")?,
                    assignee: get(r, "assignee")?,
                })
            })
            .collect()
    }

    /// The reporter's contact of a case (personal data).
    pub async fn reporter_contact(&self, id: i64) -> Result<Option<String>> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/reporter_contact.sql"))
            .await?;
        conn.query_opt(&stmt, &[&id])
            .await?
            .map(|r| get(&r, "contact"))
            .transpose()
    }

    /// Moves a case along the workflow: locks it, checks the action against its current
    /// state, updates it and appends the history entry, all in one transaction; returns once
    /// committed. `deadline_days` is the category's handling time (accept and reopen restart
    /// the clock).
    #[tracing::instrument(skip(self, input, actor))]
    pub async fn transition(
        &self,
        id: i64,
        action: Action,
        input: &TransitionInput,
        actor: &str,
        deadline_days: u32,
    ) -> Result<TransitionResult> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let lock = tx
            .prepare_cached(concat!(
                include_str!("sql/event_case.sql"),
                include_str!("sql/for_update.sql")
            ))
            .await?;
        let Some(row) = tx.query_opt(&lock, &[&id]).await? else {
            return Ok(Err(Refusal::NotFound));
        };
        let case = case_from_row(&row)?;
        let from = case.event.status;
        let Some(to) = action.next(from, input.satisfied.unwrap_or(true)) else {
            return Ok(Err(Refusal::State {
                current: from,
                allowed: Action::allowed(from),
            }));
        };
        let history = tx
            .prepare_cached(include_str!("sql/insert_history.sql"))
            .await?;
        if action == Action::Merge {
            let into = input.into.unwrap_or(id);
            if into == id {
                return Ok(Err(Refusal::Target(
                    "a case cannot be merged into itself".into(),
                )));
            }
            let Some(target) = tx.query_opt(&lock, &[&into]).await? else {
                return Ok(Err(Refusal::Target(format!("no case {into}"))));
            };
            let target = case_from_row(&target)?;
            if !target.event.status.is_open() || target.merged_into.is_some() {
                return Ok(Err(Refusal::Target(format!(
                    "case {into} is {}; merge into an open case",
                    target.event.status.as_str()
                ))));
            }
            let note = format!("duplicate #{id} merged into this case");
            let status = target.event.status.as_str();
            tx.execute(
                &history,
                &[
                    &into,
                    &actor,
                    &status,
                    &status,
                    &note,
                    &"merged",
                    &None::<String>,
                ],
            )
            .await?;
        }
        let (assignee, worker) = match assignee_of(&tx, action, input, case.event.grid_id).await? {
            Ok(who) => who,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let restart = action == Action::Accept || to == Status::Reopened;
        let days = i32::try_from(deadline_days).unwrap_or(i32::MAX);
        let update = tx
            .prepare_cached(include_str!("sql/transition.sql"))
            .await?;
        let row = tx
            .query_one(
                &update,
                &[
                    &id,
                    &to.as_str(),
                    &restart,
                    &days,
                    &input.satisfied.filter(|_| action == Action::Close),
                    &assignee,
                    &input.into.filter(|_| action == Action::Merge),
                    &worker,
                    &(action == Action::Accept),
                ],
            )
            .await?;
        let event = event_from_row(&row)?;
        let note = history_note(action, input);
        tx.execute(
            &history,
            &[
                &id,
                &actor,
                &from.as_str(),
                &to.as_str(),
                &note,
                &action.as_str(),
                &assignee,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(event))
    }

    /// Raises up to `limit` overdue open cases to the escalation level their deadline implies
    /// (`1 + floor((now - due_at) / every_secs)`, at most district), each in one step with a
    /// history entry per level passed (`sql/escalate.sql`); returns their new states. Cases
    /// already at their level are not touched, so repeated sweeps, several instances and
    /// restarts raise nothing twice.
    pub async fn escalate_overdue(&self, every_secs: f64, limit: i64) -> Result<Vec<Event>> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/escalate.sql"))
            .await?;
        conn.query(&stmt, &[&every_secs, &limit])
            .await?
            .iter()
            .map(event_from_row)
            .collect()
    }

    /// A reporter's own reports, after `after`, at most `limit`.
    pub async fn own_events(&self, token: i64, after: i64, limit: i64) -> Result<Vec<Event>> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/own_events.sql"))
            .await?;
        conn.query(&stmt, &[&token, &after, &limit])
            .await?
            .iter()
            .map(event_from_row)
            .collect()
    }

    /// Which of `ids` the reporter with this token reported itself.
    pub async fn own_among(&self, token: i64, ids: &[i64]) -> Result<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/own_among.sql"))
            .await?;
        conn.query(&stmt, &[&token, &ids])
            .await?
            .iter()
            .map(|r| get(r, "id"))
            .collect()
    }

    /// Makes a token; returns its principal and its secret (shown once, kept only hashed).
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
        area_code: Option<&str>,
    ) -> Result<(Principal, String)> {
        self.create_token_with_grants(name, role, area_code, Tags::default())
            .await
    }

    /// As [`Store::create_token`], granting the token sensitive care tags (only
    /// sensitive tags can be granted; every other tag is visible to people-reading roles).
    pub async fn create_token_with_grants(
        &self,
        name: &str,
        role: Role,
        area_code: Option<&str>,
        grants: Tags,
    ) -> Result<(Principal, String)> {
        self.insert_token(name, role, area_code, grants, None).await
    }

    /// A field token of grid worker `worker` (active): its scope is the grids the worker
    /// holds, whichever they are when the token is used.
    pub async fn create_worker_token(
        &self,
        name: &str,
        worker: i64,
        grants: Tags,
    ) -> Result<(Principal, String)> {
        self.insert_token(name, Role::Field, None, grants, Some(worker))
            .await
    }

    async fn insert_token(
        &self,
        name: &str,
        role: Role,
        area_code: Option<&str>,
        grants: Tags,
        worker: Option<i64>,
    ) -> Result<(Principal, String)> {
        if grants.0 & !Tags::sensitive().0 != 0 {
            return Err(StoreError::Input(
                "only sensitive care tags can be granted".into(),
            ));
        }
        let grant_codes: Vec<&str> = CareTag::ALL
            .iter()
            .filter(|t| grants.has(**t))
            .map(|t| t.code())
            .collect();
        if name.trim().is_empty() {
            return Err(StoreError::Input("a token needs a name".into()));
        }
        let conn = self.conn().await?;
        if let Some(code) = area_code {
            let found = conn
                .query_opt(include_str!("sql/area_code_current.sql"), &[&code])
                .await?;
            if found.is_none() {
                return Err(StoreError::Input(format!(
                    "no current area with code {code:?}"
                )));
            }
        }
        let mut worker_grids = Vec::new();
        if let Some(w) = worker {
            let Some(row) = conn
                .query_opt(include_str!("sql/workers/active_grids.sql"), &[&w])
                .await?
            else {
                return Err(StoreError::Input(format!("no active worker {w}")));
            };
            worker_grids = get(&row, "grids")?;
        }
        let secret = minqing_model::new_secret();
        let stmt = conn
            .prepare_cached(include_str!("sql/insert_token.sql"))
            .await?;
        let row = conn
            .query_one(
                &stmt,
                &[
                    &name,
                    &role.as_str(),
                    &area_code,
                    &minqing_model::hash(&secret),
                    &grant_codes,
                    &worker,
                ],
            )
            .await?;
        let id: i64 = get(&row, "id")?;
        Ok((
            Principal {
                token_id: id,
                name: name.to_owned(),
                role,
                area_code: area_code.map(str::to_owned),
                grants,
                worker_id: worker,
                worker_grids,
            },
            secret,
        ))
    }

    /// The valid token with this hash.
    pub async fn token(&self, hash: &str) -> Result<Option<Principal>> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/token_by_hash.sql"))
            .await?;
        let Some(row) = conn.query_opt(&stmt, &[&hash]).await? else {
            return Ok(None);
        };
        let id: i64 = get(&row, "id")?;
        let role: &str = get(&row, "role")?;
        let role = Role::parse(role).ok_or_else(|| StoreError::Invalid {
            what: "token",
            id,
            detail: format!("role {role:?}"),
        })?;
        Ok(Some(Principal {
            token_id: id,
            name: get(&row, "name")?,
            role,
            area_code: get(&row, "area_code")?,
            grants: get::<Vec<String>>(&row, "grants")?
                .iter()
                .filter_map(|c| CareTag::parse(c))
                .fold(Tags::default(), Tags::with),
            worker_id: get(&row, "worker_id")?,
            worker_grids: get::<Option<Vec<String>>>(&row, "worker_grids")?.unwrap_or_default(),
        }))
    }

    /// Revokes every valid token whose name starts with `prefix`; returns how many.
    pub async fn revoke_tokens(&self, prefix: &str) -> Result<u64> {
        let conn = self.conn().await?;
        Ok(conn
            .execute(include_str!("sql/revoke_tokens.sql"), &[&prefix])
            .await?)
    }

    /// Streams the events matching an export filter, in id order (see
    /// `sql/export_events.sql` for the columns). The connection is held until the stream
    /// ends or is dropped.
    pub async fn export_events(&self, f: &ExportFilter) -> Result<RowStream> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/export_events.sql"))
            .await?;
        let bounds = f.bounds();
        let rows = conn.query_raw(&stmt, f.params(&bounds)).await?;
        let rows = Box::pin(rows);
        // The pooled connection travels with the rows and goes back to the pool at the end.
        Ok(Box::pin(futures_util::stream::unfold(
            Some((conn, rows)),
            |state| async move {
                let (conn, mut rows) = state?;
                match rows.next().await {
                    Some(Ok(row)) => Some((Ok(row), Some((conn, rows)))),
                    Some(Err(e)) => Some((Err(StoreError::Db(e)), None)),
                    None => None,
                }
            },
        )))
    }
}

/// What an export selects.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    /// Category codes (`None` = all).
    pub categories: Option<Vec<String>>,
    /// States.
    pub statuses: Vec<String>,
    /// Reported at or after.
    pub from: Option<DateTime<Utc>>,
    /// Reported before.
    pub to: Option<DateTime<Utc>>,
    /// West, south, east, north.
    pub bbox: Option<[f64; 4]>,
    /// Grid ids in the caller's scope (`None` = all).
    pub grids: Option<Vec<i64>>,
}
