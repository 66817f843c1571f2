//! Publishing a grid plan, one call: commit the new versions in PostGIS, switch this
//! instance's area index, re-assign the events that changed grid in memory, and catch the
//! reports the old index placed between the commit and the switch.

use std::sync::Arc;
use std::time::Instant;

use minqing_index::AreaIndex;
use minqing_model::Event;
use minqing_store::{PlanError, Published};

use crate::Core;
use crate::live::Live;

/// A published plan: what PostGIS committed, and what this instance did with it.
#[derive(Debug)]
pub struct Publication {
    /// The committed versions (closed and created rows, re-assigned events, the report).
    pub published: Published,
    /// Events re-assigned, the stragglers included.
    pub events_reassigned: usize,
    /// Milliseconds until the commit.
    pub committed_ms: f64,
    /// Milliseconds until this instance answered from the new grids.
    pub total_ms: f64,
}

/// Publishes plan `id` (already checked visible to the caller) as `actor`.
///
/// Once PostGIS has committed, the publication stands: a failure to switch this instance
/// is logged and left to the change feed's follower, which reloads the areas of every
/// instance, this one included.
///
/// # Errors
/// The plan's faults, a conflict, or the store's error, from before the commit.
pub async fn publish(core: &Core, id: i64, actor: &str) -> Result<Publication, PlanError> {
    let started = Instant::now();
    let mut published = core.store.publish_plan(id, actor).await?;
    let committed_ms = started.elapsed().as_secs_f64() * 1000.0;
    // The new version in memory: areas first (counts follow the new grids), then the
    // re-assigned events; both built and applied off the async threads.
    // (The change feed's follower may have reloaded the areas already: not again.)
    let before = core.index.areas();
    if let Err(e) = core.live.reload_areas(&core.store, false).await {
        tracing::error!(error = %e, "area reload after publish failed");
    }
    let mut n = published.events.len();
    regrid(&core.live, std::mem::take(&mut published.events), &before).await;
    // Reports placed by the old index between the commit and the switch.
    match core
        .store
        .regrid_stragglers(id, &published.closed, actor)
        .await
    {
        Ok(late) if !late.is_empty() => {
            n += late.len();
            regrid(&core.live, late, &before).await;
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "re-assigning late reports after publish failed"),
    }
    let total_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        plan = id,
        events = n,
        committed_ms,
        total_ms,
        "plan published"
    );
    Ok(Publication {
        published,
        events_reassigned: n,
        committed_ms,
        total_ms,
    })
}

/// Applies re-assigned events to this instance on the blocking pool.
async fn regrid(live: &Arc<Live>, events: Vec<Event>, before: &Arc<AreaIndex>) {
    let live = live.clone();
    let before = before.clone();
    if let Err(e) = tokio::task::spawn_blocking(move || live.apply_regrid(events, &before)).await {
        tracing::error!(error = %e, "applying re-assigned events after publish failed");
    }
}
