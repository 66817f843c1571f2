//! Who is asking, and what they may see and do.
//!
//! Callers present `Authorization: Bearer <token>`. Tokens are random secrets (`mq_` and 64
//! hex digits) made by `minqing token create`; the database keeps only their SHA-256, and
//! neither the secret nor its hash is ever logged. A request without a token is anonymous: it
//! may submit a report and read public aggregates (the `heat` and `areas` layers, area counts,
//! statistics), nothing that shows a single event.
//!
//! | role     | events it sees                      | actions                                |
//! |----------|-------------------------------------|----------------------------------------|
//! | admin    | all, with reporter contacts         | all                                    |
//! | command  | its area subtree, with contacts     | all, in scope                          |
//! | planner  | its area subtree (or all)           | none on cases                          |
//! | field    | its grids or community              | accept, reject, assign, start, resolve |
//! | reporter | the reports it submitted            | close (its own return visit)           |
//!
//! Scope is an area code; an event is in scope when its grid lies in that area's subtree.
//! An event outside the caller's scope is answered as if it did not exist (404, not 403).

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter as GovernorLimiter};

use parking_lot::Mutex;

use crate::Core;
use minqing_index::{AreaIndex, BBox, GridSet};
pub use minqing_model::{Principal, Role, hash, new_secret};
use minqing_store::{Case, StoreError};

/// Which events a caller may see.
#[derive(Debug, Clone)]
pub enum Scope {
    /// All of them.
    All,
    /// Those whose grid is in this area's subtree.
    Area(Arc<GridSet>),
    /// Only the reports submitted with this token.
    Own(i64),
    /// None (anonymous callers, or a scope area that no longer exists).
    Nothing,
}

/// Why a caller may not do something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No token was presented, and one is needed (401).
    #[error("this needs a token (Authorization: Bearer …)")]
    NoToken,
    /// The token's role or scope does not allow it (403), with the reason.
    #[error("{0}")]
    Forbidden(String),
}

/// A caller: anonymous or a token holder, with the client's address.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `None` when anonymous.
    pub principal: Option<Arc<Principal>>,
    /// The client's address (rate limits), when the server knows it.
    pub ip: Option<IpAddr>,
    /// The SHA-256 of the token presented (to check it again, e.g. for a long stream).
    pub token_hash: Option<Arc<str>>,
}

/// The grid set of a worker's token: the current grids among `codes`. Its `area_id` is no
/// area's (negative, from the grids themselves), so that nothing keyed by it (cached tiles,
/// exact counts within an area) is shared with another scope; an area is within it only
/// when it is one of its grids (see [`in_scope`]).
fn worker_grids(codes: &[String], areas: &AreaIndex) -> GridSet {
    let mut grids: Vec<i64> = codes
        .iter()
        .filter_map(|c| areas.by_code(c))
        .filter(|a| a.level == minqing_model::Level::Grid)
        .map(|a| a.id)
        .collect();
    grids.sort_unstable();
    grids.dedup();
    let mut set = GridSet::empty();
    for g in &grids {
        if let Some(b) = areas.bbox(*g) {
            set.bbox = BBox {
                min_lon: set.bbox.min_lon.min(b.min_lon),
                min_lat: set.bbox.min_lat.min(b.min_lat),
                max_lon: set.bbox.max_lon.max(b.max_lon),
                max_lat: set.bbox.max_lat.max(b.max_lat),
            };
        }
    }
    // FNV-1a over the ids: the same grids give the same key, other grids another.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for g in &grids {
        for b in g.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    set.area_id = -1 - i64::try_from(h >> 2).unwrap_or(0);
    set.grids = grids;
    set
}

/// Whether area `id` lies in a scope: within its area, or for a worker's scope one of its
/// grids.
#[must_use]
pub fn in_scope(scope: &GridSet, areas: &AreaIndex, id: i64) -> bool {
    if scope.area_id > 0 {
        areas.is_within(id, scope.area_id)
    } else {
        areas
            .get(id)
            .is_some_and(|a| a.level == minqing_model::Level::Grid && scope.has_grid(Some(id)))
    }
}

impl Caller {
    /// The role, if signed in.
    #[must_use]
    pub fn role(&self) -> Option<Role> {
        self.principal.as_ref().map(|p| p.role)
    }

    /// A name for the history (`anonymous` without a token).
    #[must_use]
    pub fn actor(&self) -> String {
        self.principal.as_ref().map_or_else(
            || "anonymous".to_owned(),
            |p| format!("{}:{}", p.role.as_str(), p.name),
        )
    }

    /// 401 unless signed in.
    ///
    /// # Errors
    /// [`Denied::NoToken`] for an anonymous caller.
    pub fn require(&self) -> Result<&Principal, Denied> {
        self.principal.as_deref().ok_or(Denied::NoToken)
    }

    /// 401 unless signed in, 403 unless the role reads single events.
    ///
    /// # Errors
    /// [`Denied`] as said.
    pub fn require_event_reader(&self) -> Result<&Principal, Denied> {
        let p = self.require()?;
        if p.role.reads_events() {
            Ok(p)
        } else {
            Err(Denied::Forbidden(format!(
                "the {} role cannot read events by place; it follows its own reports at /api/v1/events",
                p.role.as_str()
            )))
        }
    }
}

/// A cached token lookup: when it was made, at which generation of token changes
/// ([`crate::live::Live::token_generation`]), and what it found.
struct Cached {
    at: Instant,
    generation: u64,
    principal: Option<Arc<Principal>>,
}

/// Token lookups, cached: a valid token for a minute, an unknown one for five seconds, so
/// that a token made by `minqing token create` works at once. Any write to `tokens` (a
/// revocation) on any instance moves the generation of token changes (the change feed's
/// `minqing_tokens` notification), after which every cached entry is checked again: a
/// revoked token stops working within a second everywhere. While the database is
/// unreachable, a token already known to be valid keeps working (reads are answered from
/// memory), and one known to be unknown or revoked stays refused.
#[derive(Default)]
pub struct Auth {
    tokens: Mutex<HashMap<String, Cached>>,
    /// Grid sets of scope areas, with the generation of the area index they came from.
    scopes: Mutex<HashMap<i64, (u64, Arc<GridSet>)>>,
}

const VALID_FOR: Duration = Duration::from_mins(1);
const UNKNOWN_FOR: Duration = Duration::from_secs(5);
const MAX_CACHED: usize = 100_000;

impl Auth {
    /// The principal of a secret, if it is a valid token. `generation` is the current
    /// generation of token changes: entries cached before it are checked again.
    pub async fn principal(
        &self,
        store: &minqing_store::Store,
        generation: u64,
        secret: &str,
    ) -> Result<Option<Arc<Principal>>, StoreError> {
        self.principal_by_hash(store, generation, &hash(secret))
            .await
    }

    /// [`Auth::principal`] of a secret's hash.
    pub async fn principal_by_hash(
        &self,
        store: &minqing_store::Store,
        generation: u64,
        h: &str,
    ) -> Result<Option<Arc<Principal>>, StoreError> {
        let known = {
            let cache = self.tokens.lock();
            match cache.get(h) {
                Some(c) => {
                    let ttl = if c.principal.is_some() {
                        VALID_FOR
                    } else {
                        UNKNOWN_FOR
                    };
                    if c.generation == generation && c.at.elapsed() < ttl {
                        return Ok(c.principal.clone());
                    }
                    Some(c.principal.clone())
                }
                None => None,
            }
        };
        let p = match store.token(h).await {
            Ok(p) => p.map(Arc::new),
            // The database is away (or failing): what this instance knew of the token
            // still holds, a revocation it learned of included.
            Err(e) => {
                return match known {
                    Some(p) => Ok(p),
                    None => Err(e),
                };
            }
        };
        let mut cache = self.tokens.lock();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(
            h.to_owned(),
            Cached {
                at: Instant::now(),
                generation,
                principal: p.clone(),
            },
        );
        Ok(p)
    }

    /// The events a caller may see.
    pub fn scope(&self, caller: &Caller, areas: &Arc<AreaIndex>) -> Scope {
        let Some(p) = &caller.principal else {
            return Scope::Nothing;
        };
        if p.role == Role::Reporter {
            return Scope::Own(p.token_id);
        }
        if p.worker_id.is_some() {
            return Scope::Area(Arc::new(worker_grids(&p.worker_grids, areas)));
        }
        let Some(code) = &p.area_code else {
            return Scope::All;
        };
        let Some(area) = areas.by_code(code) else {
            return Scope::Nothing;
        };
        let generation = areas.generation();
        if let Some((g, s)) = self.scopes.lock().get(&area.id)
            && *g == generation
        {
            return Scope::Area(s.clone());
        }
        let s = Arc::new(GridSet {
            area_id: area.id,
            grids: areas.grids_under(area.id),
            bbox: BBox::of(&area.geom),
        });
        self.scopes.lock().insert(area.id, (generation, s.clone()));
        Scope::Area(s)
    }
}

impl Caller {
    /// Whether the token this caller presented is still valid (always true for an anonymous
    /// caller). Revocations reach this instance through the change feed; while the
    /// database is away, a token known to be valid stays so.
    pub async fn still_valid(&self, core: &Core) -> bool {
        let Some(h) = &self.token_hash else {
            return true;
        };
        match core
            .auth
            .principal_by_hash(&core.store, core.live.token_generation(), h)
            .await
        {
            Ok(p) => p.is_some(),
            Err(_) => true,
        }
    }
}

impl Core {
    /// The grids a caller's scope covers (`None` = all; none at all for a reporter or an
    /// anonymous caller, who see no case by place).
    #[must_use]
    pub fn scope_grids(&self, caller: &Caller) -> Option<Arc<GridSet>> {
        match self.auth.scope(caller, &self.index.areas()) {
            Scope::All => None,
            Scope::Area(s) => Some(s),
            Scope::Own(_) | Scope::Nothing => Some(Arc::new(GridSet::empty())),
        }
    }

    /// Whether a caller may see a case (the same rule as the scoped filters).
    #[must_use]
    pub fn may_see(&self, caller: &Caller, case: &Case) -> bool {
        match self.auth.scope(caller, &self.index.areas()) {
            Scope::All => true,
            Scope::Area(s) => s.has_grid(case.event.grid_id),
            Scope::Own(token) => case.reporter_token == Some(token),
            Scope::Nothing => false,
        }
    }
}

/// Reports per anonymous client: a token bucket per address (`governor`'s GCRA, keyed by
/// address; addresses idle long enough to be full again are forgotten now and then).
pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl RateLimit {
    /// `per_minute` sustained (at least one), bursts of `burst` (at least one).
    #[must_use]
    pub fn new(per_minute: u32, burst: u32) -> RateLimit {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        RateLimit {
            limiter: GovernorLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one report from the client's bucket; `Err(seconds)` to wait when empty.
    ///
    /// # Errors
    /// The whole seconds (at least one) until the bucket holds a report again.
    pub fn take(&self, ip: Option<IpAddr>) -> Result<(), u64> {
        let ip = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A community (id 1, code `C`) with the given grids (ids from 10), side by side.
    fn areas_with_grids(n: i64) -> AreaIndex {
        use geo::{MultiPolygon, Rect, coord};
        use minqing_model::{Area, Level};
        let square = |x0: f64, w: f64| {
            MultiPolygon(vec![
                Rect::new(coord! {x: x0, y: 22.0}, coord! {x: x0 + w, y: 22.1}).to_polygon(),
            ])
        };
        let mut areas = vec![Area::for_tests(
            1,
            "C",
            "community",
            Level::Community,
            None,
            square(115.0, 0.1 * 8.0),
        )];
        for i in 0..n {
            #[allow(clippy::cast_precision_loss)]
            let x = 115.0 + 0.1 * i as f64;
            areas.push(Area::for_tests(
                10 + i,
                &format!("G{i}"),
                "grid",
                Level::Grid,
                Some(1),
                square(x, 0.1),
            ));
        }
        AreaIndex::new(areas)
    }

    #[test]
    fn a_scope_is_never_taken_from_a_replaced_area_index() {
        // A scope cached for one area index must not be served for another, even when the
        // new index sits at the address of the old (a pointer is not a generation). The
        // allocator hands a freed block of the same size out again, so the loop meets the
        // old address within a few rounds.
        let auth = Auth::default();
        let caller = Caller {
            principal: Some(Arc::new(Principal {
                token_id: 1,
                name: "t".into(),
                role: Role::Field,
                area_code: Some("C".into()),
                grants: minqing_model::register::Tags::default(),
                worker_id: None,
                worker_grids: Vec::new(),
            })),
            ip: None,
            token_hash: None,
        };
        let mut reused = 0;
        let mut previous = Arc::new(areas_with_grids(1));
        let _ = auth.scope(&caller, &previous);
        for round in 2..40 {
            let address = Arc::as_ptr(&previous) as usize;
            drop(previous);
            let areas = Arc::new(areas_with_grids(round % 7 + 1));
            if Arc::as_ptr(&areas) as usize == address {
                reused += 1;
            }
            let Scope::Area(grids) = auth.scope(&caller, &areas) else {
                panic!("a field token of C has an area scope");
            };
            assert_eq!(
                grids.grids,
                areas.grids_under(1),
                "round {round}: the scope of a replaced index"
            );
            previous = areas;
        }
        assert!(reused > 0, "the allocator never reused an address");
    }

    #[test]
    fn rate_limit_refuses_a_burst_then_refills() {
        let r = RateLimit::new(60, 3);
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..3 {
            assert!(r.take(ip).is_ok());
        }
        assert!(r.take(ip).is_err());
        assert!(r.take(Some(IpAddr::from([10, 0, 0, 2]))).is_ok());
    }
}
