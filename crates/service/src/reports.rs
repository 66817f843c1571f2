//! Submitting a report, one call for every entry point (the REST API and Open311): the
//! anonymous rate limit, locating the grid, the idempotent insert (acknowledged only after
//! commit), and the live apply; and what the reporter may learn of possible duplicates.

use minqing_index::EventFilter;
use minqing_model::register::LinkKind;
use minqing_model::{Event, NewEvent, Role, StatusFilter};
use minqing_store::{ReportedBy, StoreError};

use crate::Core;
use crate::auth::{Caller, Scope};

/// The priority of a new report (1 highest … 4 lowest) until someone sets another.
pub const DEFAULT_PRIORITY: i16 = 2;

/// Why a report was not stored.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The idempotency key was used before for a different report.
    #[error(
        "this Idempotency-Key was already used for a different report; use a new key for a new report"
    )]
    KeyReused,
    /// The register record the report names does not exist for the caller, or lies too
    /// far from the report.
    #[error("{0}")]
    Link(String),
    /// The database refused or is away.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How far from a report's point the building, place, organisation or household it names
/// may lie (ellipsoidal metres).
pub const LINK_RADIUS_M: f64 = 200.0;

/// Checks the register record a report names: it exists in the caller's scope (a household
/// only for roles that see people), and lies within [`LINK_RADIUS_M`] of the report.
fn check_link(core: &Core, caller: &Caller, new: &NewEvent) -> Result<(), SubmitError> {
    let Some(link) = new.link else {
        return Ok(());
    };
    let what = format!("{} {}", link.kind.code(), link.id);
    if link.kind == LinkKind::Household
        && !caller
            .principal
            .as_ref()
            .is_some_and(|p| crate::registers::reads_people(p.role))
    {
        return Err(SubmitError::Link(format!(
            "only grid staff may name a household; name the building instead ({what})"
        )));
    }
    let regs = core.index.registers();
    let scope = core.register_grids(caller);
    let at = regs
        .point_of(link)
        .filter(|(_, _, grid)| scope.as_ref().is_none_or(|s| s.has_grid(Some(*grid))))
        .ok_or_else(|| SubmitError::Link(format!("no {what} in the registers")))?;
    let d = minqing_index::geodesic::distance_m(new.lon, new.lat, at.0, at.1);
    if d > LINK_RADIUS_M {
        return Err(SubmitError::Link(format!(
            "the {what} is {d:.0} m from the report's point; a report names a record within {LINK_RADIUS_M:.0} m"
        )));
    }
    Ok(())
}

/// A stored report.
#[derive(Debug)]
pub struct Submitted {
    /// The event as stored (the first one stored under the key, for a retry).
    pub event: Event,
    /// False for a retry: the key had stored this report before.
    pub created: bool,
}

/// Admits one report of an anonymous caller under the per-address rate limit (token
/// holders are not limited).
///
/// # Errors
/// The seconds to wait when the caller's bucket is empty.
pub fn admit(core: &Core, caller: &Caller) -> Result<(), u64> {
    if caller.principal.is_none() {
        core.reports.take(caller.ip)
    } else {
        Ok(())
    }
}

/// Stores a report and applies it to this instance (index, counts, tiles, stream) before
/// returning, so the caller's next query sees it. `key` is the client's idempotency key:
/// it belongs to its caller (the same key from another caller is another key), a retry
/// with the same report answers the stored one, and the key with a different report is
/// [`SubmitError::KeyReused`].
///
/// # Errors
/// [`SubmitError`].
pub async fn submit(
    core: &Core,
    caller: &Caller,
    new: NewEvent,
    key: Option<&str>,
) -> Result<Submitted, SubmitError> {
    check_link(core, caller, &new)?;
    let key = key.map(|k| format!("{}\u{1f}{k}", key_namespace(caller)));
    let sent = Sent::of(&new);
    let grid = core.index.areas().locate(new.lon, new.lat).map(|g| g.id);
    let reporter_token = caller
        .principal
        .as_ref()
        .filter(|p| p.role == Role::Reporter)
        .map(|p| p.token_id);
    let inserted = core
        .store
        .insert_event(
            new,
            DEFAULT_PRIORITY,
            grid,
            key.as_deref(),
            ReportedBy {
                token: reporter_token,
                worker: caller.principal.as_ref().and_then(|p| p.worker_id),
            },
            &caller.actor(),
        )
        .await?;
    if !inserted.created && !sent.matches(&inserted.event) {
        return Err(SubmitError::KeyReused);
    }
    // Committed: now visible to every following query on this instance.
    core.live.apply(inserted.event.clone());
    Ok(Submitted {
        event: inserted.event,
        created: inserted.created,
    })
}

/// The namespace of a caller's idempotency keys: its token, or (anonymous) its address.
fn key_namespace(caller: &Caller) -> String {
    match (&caller.principal, caller.ip) {
        (Some(p), _) => format!("t{}", p.token_id),
        (None, Some(ip)) => format!("a{ip}"),
        (None, None) => "a".to_owned(),
    }
}

/// What a report said, to tell a retry (the same report again) from another report sent
/// with a used key.
struct Sent {
    category: String,
    title: String,
    description: String,
    lon: f64,
    lat: f64,
}

impl Sent {
    fn of(new: &NewEvent) -> Sent {
        Sent {
            category: new.category.clone(),
            title: new.title.clone(),
            description: new.description.clone(),
            lon: new.lon,
            lat: new.lat,
        }
    }

    /// Whether `stored` (the event first stored under the key) is this report.
    fn matches(&self, stored: &Event) -> bool {
        stored.category == self.category
            && stored.title == self.title
            && stored.description.as_deref().unwrap_or("") == self.description
            && stored.lon.to_bits() == self.lon.to_bits()
            && stored.lat.to_bits() == self.lat.to_bits()
    }
}

/// An open case near a new report that the caller may see: no position, no description.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    /// Case id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Its state.
    pub status: &'static str,
    /// Metres from the new report (ellipsoidal), to a decimetre.
    pub distance_m: f64,
}

/// Open cases of the same category near a new report (nearest first, at most ten) that the
/// caller may see. A caller learns of a possible duplicate only what it may see of that
/// case: a scoped token of cases in its scope, a reporter of its own reports (asked of the
/// database: the index does not know who reported what), an anonymous caller of none.
///
/// # Errors
/// For a reporter, when the database cannot say which cases are theirs.
pub async fn possible_duplicates(
    core: &Core,
    caller: &Caller,
    e: &Event,
) -> Result<Vec<Duplicate>, StoreError> {
    let own = match core.auth.scope(caller, &core.index.areas()) {
        Scope::Nothing => return Ok(Vec::new()),
        Scope::Own(token) => Some(token),
        Scope::All | Scope::Area(_) => None,
    };
    let Some(cat) = core.index.events(|ix| ix.category_number(&e.category)) else {
        return Ok(Vec::new());
    };
    let f = EventFilter {
        status: StatusFilter::Open,
        categories: Some(vec![cat]),
        scope: if own.is_some() {
            None
        } else {
            core.scope_grids(caller)
        },
        ..EventFilter::default()
    };
    // A reporter's own cases are few among many: look wider, then keep only theirs.
    let wanted = if own.is_some() { 200 } else { 11 };
    let mut near: Vec<Duplicate> = core.index.events(|ix| {
        ix.nearest(e.lon, e.lat, wanted, core.config.duplicate_radius_m, &f)
            .into_iter()
            .filter(|(s, _)| ix.event_id(*s) != e.id)
            .map(|(s, d)| {
                let other = ix.event(s);
                Duplicate {
                    id: other.id,
                    title: other.title.clone(),
                    status: other.status.as_str(),
                    distance_m: (d * 10.0).round() / 10.0,
                }
            })
            .collect()
    });
    if let Some(token) = own {
        let ids: Vec<i64> = near.iter().map(|d| d.id).collect();
        let mine = core.store.own_among(token, &ids).await?;
        near.retain(|d| mine.contains(&d.id));
    }
    near.truncate(10);
    Ok(near)
}
