//! minqing's domain layer: every operation a user's request or a background task runs, each
//! one call, knowing nothing of HTTP.
//!
//! # Layout
//!
//! - [`Core`]: the running service's shared parts (store, index, taxonomy, settings, tile
//!   cache, live path, token cache, rate limit), cheap to clone; built by [`Core::new`],
//!   loaded and kept current by [`Core::load_and_follow`].
//! - [`assessment`]: assessment (考核) of grids, areas and workers, derived from the
//!   record; rankings and the red and black lists.
//! - [`auth`]: callers, their scopes and token checks (cached, revocation-aware), the
//!   anonymous rate limit.
//! - [`reports`]: submitting a report (rate limit, locate, the register record it names,
//!   idempotent insert, apply).
//! - [`review`]: review reports (daily, weekly, monthly) from the record, and keeping
//!   each ended period's report unchanged.
//! - [`plans`]: publishing a grid plan (commit, switch the index, re-grid, catch stragglers).
//! - [`live`]: the one path every committed change takes (index, area counts, tiles,
//!   stream), the change feed, the overdue sweep and escalation.
//! - [`render`] and [`tilecache`]: vector tiles from the index (`render::registers`: the
//!   buildings, places and coverage layers), and the cache of their encoded bytes,
//!   invalidated per change.
//! - [`glyphs`]: signed-distance-field glyphs for map labels from an installed font.
//! - [`imports`]: imports of the registers from CSV, `.xlsx` or GeoJSON, checked row by
//!   row, stored all or nothing.
//! - [`registers`]: the key of personal data (and its rotation), loading the registers,
//!   who sees which people (sensitive tags as granted), and the one purpose-bound, logged
//!   way a personal field is shown in full.
//! - [`visits`]: what must be visited how often (the visit rules' subjects).
//! - [`startup`]: database, migrations, index loading.
//! - [`config`]: settings and limits.
//!
//! Below this crate: `minqing-store` (PostGIS), `minqing-index` (memory), `minqing-tiles`
//! (encoding), `minqing-model` (types). Above it: `minqing-server` (axum).

pub mod assessment;
pub mod auth;
pub mod config;
pub mod glyphs;
pub mod imports;
pub mod live;
pub mod plans;
pub mod registers;
pub mod render;
pub mod reports;
pub mod review;
pub mod startup;
pub mod tilecache;
pub mod visits;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use parking_lot::Mutex;
use tokio::task::JoinHandle;

use auth::{Auth, RateLimit};
use config::Config;
use live::Live;
use minqing_index::Index;
use minqing_model::Taxonomy;
use minqing_store::Store;
use tilecache::TileCache;

/// The running service: every shared part, cheap to clone.
#[derive(Clone)]
pub struct Core {
    /// The database.
    pub store: Store,
    /// The in-memory index.
    pub index: Arc<Index>,
    /// The event taxonomy.
    pub taxonomy: Arc<Taxonomy>,
    /// Limits and settings.
    pub config: Arc<Config>,
    /// Encoded tiles.
    pub tiles: Arc<TileCache>,
    /// The apply path for committed changes, and the change stream.
    pub live: Arc<Live>,
    /// Token lookups and scopes.
    pub auth: Arc<Auth>,
    /// Anonymous reports per client.
    pub reports: Arc<RateLimit>,
    /// The background tasks started by [`Core::load_and_follow`], awaited by
    /// [`Core::shut_down`].
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// The keys of personal data, loaded by [`Core::load_and_follow`].
    keys: Arc<std::sync::OnceLock<minqing_model::sealed::Keys>>,
}

impl Core {
    /// The service over `store`, with an empty, not-yet-ready index.
    #[must_use]
    pub fn new(store: Store, config: Arc<Config>) -> Core {
        let taxonomy = Arc::new(Taxonomy::builtin());
        let index = Arc::new(Index::new(taxonomy.codes()));
        let tiles: Arc<TileCache> = Arc::default();
        let live = Arc::new(Live::new(index.clone(), tiles.clone()));
        let reports = Arc::new(RateLimit::new(
            config.reports_per_minute,
            config.reports_burst,
        ));
        Core {
            auth: Arc::default(),
            reports,
            store,
            index,
            taxonomy,
            config,
            tiles,
            live,
            tasks: Arc::default(),
            keys: Arc::default(),
        }
    }

    /// Loads the index, then keeps it current: follows the change feed (other instances'
    /// writes, catch-up after a lost connection) and the overdue clock, in background
    /// tasks that end when [`Live::shut_down`] is called.
    pub async fn load_and_follow(&self) -> anyhow::Result<()> {
        // Taken before the read: whatever commits during or after it comes again on the feed.
        let mark = self
            .store
            .watermark()
            .await
            .context("cannot read the change feed position")?;
        // Read before the load, like the watermark: a register written during it is
        // reloaded after (the generation moved).
        let generation = self.store.register_generation().await.ok();
        startup::load_index(&self.store, &self.index).await?;
        self.live.set_registers_generation(generation).await;
        if self.keys.get().is_none() {
            let keys = registers::load_keys(&self.config.data_dir)?;
            // A key other than the one the stored data was sealed with: the server still
            // serves (nothing sealed is needed for maps and cases), but no personal field
            // can be opened and no register written until it is started with the right key.
            match self.store.check_key_if_sealed(&keys).await {
                Ok(()) => {
                    let _ = self.keys.set(keys);
                }
                Err(e) => tracing::error!(error = %e, "personal data cannot be read"),
            }
        }
        let mut tasks = vec![
            tokio::spawn(live::follow(self.store.clone(), self.live.clone(), mark)),
            tokio::spawn(live::sweep_overdue(self.live.clone())),
            tokio::spawn(live::follow_registers(
                self.store.clone(),
                self.live.clone(),
            )),
        ];
        if self.config.escalation_check_secs > 0 {
            tasks.push(tokio::spawn(live::escalate(
                self.store.clone(),
                self.live.clone(),
                self.config.clone(),
            )));
        }
        // The workers' record, after the maps are ready: only assessment needs it, and it
        // answers "not ready" (503) until it is read.
        let (store, index) = (self.store.clone(), self.index.clone());
        tasks.push(tokio::spawn(async move {
            if let Err(e) = startup::load_work(&store, &index).await {
                tracing::error!(error = %e, "the workers' record could not be loaded; assessment stays unavailable");
            }
        }));
        if self.config.snapshot_check_secs > 0 {
            tasks.push(tokio::spawn(review::keep_snapshots_loop(
                self.clone(),
                self.live.clone(),
                Duration::from_secs(self.config.snapshot_check_secs),
            )));
        }
        self.tasks.lock().extend(tasks);
        Ok(())
    }

    /// The one shutdown signal: every event stream ends and every background task stops
    /// (the change feed, the overdue clock, escalation), each at its next await point.
    /// Returns whether all background tasks ended within `within` (a task still busy then
    /// is left to the runtime's end; nothing it does is acknowledged to anyone).
    pub async fn shut_down(&self, within: Duration) -> bool {
        self.live.shut_down();
        let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *self.tasks.lock());
        let all = async {
            for t in tasks {
                if let Err(e) = t.await {
                    tracing::error!(error = %e, "a background task failed");
                }
            }
        };
        tokio::time::timeout(within, all).await.is_ok()
    }

    /// Background tasks still running.
    #[must_use]
    pub fn background_tasks(&self) -> usize {
        self.tasks
            .lock()
            .iter()
            .filter(|t| !t.is_finished())
            .count()
    }
}
