//! Keeping every instance current: one path for every committed change, whether this
//! instance wrote it or another did.
//!
//! [`Live::apply`] takes a committed state of an event into the index (and the per-area
//! counts), invalidates exactly the tiles it touches, and publishes it to the stream. A
//! handler that wrote the change calls it before answering, so the writer's next request sees
//! it; [`follow`] calls it for every change read from the database's change feed (LISTEN/
//! NOTIFY, then a read from the last watermark), which brings other instances' writes in
//! within a second and, after a lost connection, catches up on everything missed. A state
//! the index already holds is not applied or published twice.
//!
//! Boundaries change rarely and whole (a published plan): [`Live::replace_areas`] swaps in
//! a new area index (built off the async threads, so serving never pauses) and invalidates
//! the area tiles of every area that appeared or disappeared. [`follow`] also listens for
//! area changes (`minqing_areas`) and, when the set of current areas in the database differs
//! from the index's, reloads it — at every (re)connection too, so an instance that was cut
//! off while a plan was published catches up.
//!
//! The registers change in bulk (an import) or one by one (a removal), on any instance:
//! every write to a register notifies `minqing_registers` and moves the database's register
//! generation (migrations/0010). [`follow`] passes the notification on to
//! [`follow_registers`], which waits for a burst to end, then reloads the registers off the
//! request path ([`Live::reload_registers`]) unless the generation held is current (this
//! instance reloaded already after its own import, say).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use geo::BoundingRect;
use parking_lot::Mutex;
use tokio::sync::broadcast;

use crate::config::Config;
use crate::tilecache::TileCache;
use minqing_index::{AreaIndex, BBox, Index};
use minqing_model::{Area, Event};
use minqing_store::{Store, Watermark};

/// Changes kept for clients that reconnect with `Last-Event-ID`.
const REPLAY: usize = 4096;

/// What happened to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Reported.
    Created,
    /// Any later change.
    Updated,
}

impl ChangeKind {
    /// Name used as the SSE event type.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
        }
    }
}

/// One published change: the event's public fields after it (never reporter data: the
/// index does not hold any).
#[derive(Debug)]
pub struct Change {
    /// Position in this instance's stream (the SSE id).
    pub seq: u64,
    /// Created or updated.
    pub kind: ChangeKind,
    /// The new state.
    pub event: Event,
}

/// The shared apply path and the stream.
pub struct Live {
    index: Arc<Index>,
    tiles: Arc<TileCache>,
    sender: broadcast::Sender<Arc<Change>>,
    /// The last [`REPLAY`] changes, oldest first, and the next sequence number.
    recent: Mutex<(VecDeque<Arc<Change>>, u64)>,
    feed_connected: AtomicBool,
    /// One area reload at a time (a publish and the change feed's notification ask at
    /// once; the second then finds the index current).
    reloading: tokio::sync::Mutex<()>,
    /// Set once at shutdown: streams end and background loops stop.
    closing: tokio::sync::watch::Sender<bool>,
    /// Moves on every write to `tokens` (any instance's, through the change feed) and at
    /// every (re)connection of the feed: cached token lookups older than it are checked
    /// again, and streams check their token.
    tokens: tokio::sync::watch::Sender<u64>,
    /// Moves on every notification that a register was written (any instance's), and at
    /// every (re)connection of the feed: [`follow_registers`] reloads then.
    registers: tokio::sync::watch::Sender<u64>,
    /// The register generation (migrations/0010) the registers held were loaded at, if
    /// known; locked for the whole of a reload, so reloads never overlap.
    registers_loaded: tokio::sync::Mutex<Option<i64>>,
    /// This process's stream epoch: stream positions are `epoch-seq`, so a position from
    /// another process (a restart, another instance) is never taken for one of ours.
    epoch: u64,
}

/// Bounding box of an area.
fn bbox_of(a: &Area) -> Option<BBox> {
    let r = a.geom.bounding_rect()?;
    Some(BBox {
        min_lon: r.min().x,
        min_lat: r.min().y,
        max_lon: r.max().x,
        max_lat: r.max().y,
    })
}

impl Live {
    /// A live hub over an index and a tile cache.
    #[must_use]
    pub fn new(index: Arc<Index>, tiles: Arc<TileCache>) -> Live {
        let (sender, _) = broadcast::channel(REPLAY);
        Live {
            index,
            tiles,
            sender,
            recent: Mutex::new((VecDeque::with_capacity(REPLAY), 1)),
            feed_connected: AtomicBool::new(false),
            reloading: tokio::sync::Mutex::new(()),
            closing: tokio::sync::watch::Sender::new(false),
            tokens: tokio::sync::watch::Sender::new(0),
            registers: tokio::sync::watch::Sender::new(0),
            registers_loaded: tokio::sync::Mutex::new(None),
            epoch: rand::random::<u64>() >> 12,
        }
    }

    /// The current generation of token changes (see [`crate::auth::Auth`]).
    #[must_use]
    pub fn token_generation(&self) -> u64 {
        *self.tokens.borrow()
    }

    /// A receiver that wakes when tokens change.
    #[must_use]
    pub fn token_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.tokens.subscribe()
    }

    /// Tokens were written (a revocation): cached lookups are checked again.
    pub fn tokens_changed(&self) {
        self.tokens.send_modify(|g| *g += 1);
    }

    /// A register was written (the change feed's notification): [`follow_registers`]
    /// reloads the registers once the burst is over.
    pub fn registers_changed(&self) {
        self.registers.send_modify(|g| *g += 1);
    }

    /// Records the register generation the registers held were loaded at (read before the
    /// first load).
    pub async fn set_registers_generation(&self, generation: Option<i64>) {
        *self.registers_loaded.lock().await = generation;
    }

    /// Reloads the registers from the database (the same load as at start-up) unless the
    /// generation held is current; returns whether it did. One reload at a time; the
    /// registers are swapped whole, so reads go on from the old ones meanwhile. A plan
    /// published during the load is followed: the new registers are located again in the
    /// new grids.
    pub async fn reload_registers(&self, store: &Store) -> anyhow::Result<bool> {
        let mut held = self.registers_loaded.lock().await;
        let generation = store.register_generation().await?;
        if *held == Some(generation) {
            return Ok(false);
        }
        let areas = self.index.areas();
        crate::registers::load(store, &self.index).await?;
        let now = self.index.areas();
        if !Arc::ptr_eq(&areas, &now) {
            let index = self.index.clone();
            tokio::task::spawn_blocking(move || {
                index
                    .registers()
                    .relocate(&index.areas(), index.now().date_naive());
            })
            .await?;
        }
        *held = Some(generation);
        Ok(true)
    }

    /// The stream position (SSE id) of a change: `epoch-seq` in hex and decimal.
    #[must_use]
    pub fn position(&self, change: &Change) -> String {
        format!("{:x}-{}", self.epoch, change.seq)
    }

    /// The sequence number of a stream position, if it is one of this process's.
    #[must_use]
    pub fn own_position(&self, position: &str) -> Option<u64> {
        let (epoch, seq) = position.trim().split_once('-')?;
        (u64::from_str_radix(epoch, 16).ok()? == self.epoch)
            .then(|| seq.parse().ok())
            .flatten()
    }

    /// Begins shutdown: every open stream ends and the background loops stop.
    pub fn shut_down(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`Live::shut_down`] was called (at once if it already was).
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.closing.subscribe();
        async move {
            // An error means the sender is gone: the hub itself is dropped.
            let _ = rx.wait_for(|c| *c).await;
        }
    }

    /// Whether shutdown has begun.
    #[must_use]
    pub fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }

    /// Takes a committed state of an event; returns the published change, or `None` when
    /// the index already held this state (or a newer one).
    pub fn apply(&self, event: Event) -> Option<Arc<Change>> {
        self.apply_with(event, true, None)
    }

    /// Takes many committed states at once (the change feed): as [`Live::apply`] each, but
    /// the area tiles whose counts changed are invalidated once at the end, not once per
    /// event. Returns how many were new. Blocking: call it off the async threads.
    pub fn apply_batch(&self, events: Vec<Event>) -> usize {
        let mut areas = Vec::new();
        let n = events
            .into_iter()
            .filter_map(|e| self.apply_with(e, true, Some(&mut areas)))
            .count();
        areas.sort_unstable();
        areas.dedup();
        self.invalidate_areas(&areas);
        n
    }

    /// Takes the events a published plan re-assigned to new grids, in bulk. Only their grid
    /// changed, which no events or heat tile shows, so their tiles are invalidated only
    /// where the caller's scope may differ (the grid moved to another community); the area
    /// tiles follow from the counts. Each is published to the stream. Blocking: call it off
    /// the async threads. `before` is the area index the events' old grids are in (the
    /// current one already holds the new grids).
    pub fn apply_regrid(&self, events: Vec<Event>, before: &AreaIndex) -> usize {
        let areas = self.index.areas();
        let community = |g: Option<i64>| g.and_then(|g| areas.get(g)).and_then(|a| a.parent_id);
        let old_community =
            |g: Option<i64>| g.and_then(|g| before.get(g)).and_then(|a| a.parent_id);
        let mut n = 0;
        let mut changed = Vec::new();
        for e in events {
            let before_grid = self
                .index
                .events(|ix| ix.slot(e.id).map(|s| ix.event(s).grid_id));
            let moved_scope = before_grid.is_none_or(|old| {
                old_community(old).is_none() || old_community(old) != community(e.grid_id)
            });
            if self
                .apply_with(e, moved_scope, Some(&mut changed))
                .is_some()
            {
                n += 1;
            }
        }
        changed.sort_unstable();
        changed.dedup();
        self.invalidate_areas(&changed);
        n
    }

    /// Applies one state; invalidates its events/heat tiles when `points`, and the area
    /// tiles of the areas whose counts changed — now, or later by the caller when
    /// `deferred` collects them.
    fn apply_with(
        &self,
        mut event: Event,
        points: bool,
        deferred: Option<&mut Vec<i64>>,
    ) -> Option<Arc<Change>> {
        event.description = None;
        let applied = self.index.apply(event.clone())?;
        if points {
            self.tiles.invalidate_point(event.lon, event.lat);
            if let Some(old) = &applied.old
                && (old.lon, old.lat) != (event.lon, event.lat)
            {
                self.tiles.invalidate_point(old.lon, old.lat);
            }
        }
        match deferred {
            Some(d) => d.extend_from_slice(&applied.areas),
            None => self.invalidate_areas(&applied.areas),
        }
        let kind = match applied.old {
            None => ChangeKind::Created,
            Some(_) => ChangeKind::Updated,
        };
        let mut recent = self.recent.lock();
        let change = Arc::new(Change {
            seq: recent.1,
            kind,
            event,
        });
        recent.1 += 1;
        if recent.0.len() == REPLAY {
            recent.0.pop_front();
        }
        recent.0.push_back(change.clone());
        // No subscriber is not an error.
        let _ = self.sender.send(change.clone());
        Some(change)
    }

    fn invalidate_areas(&self, ids: &[i64]) {
        if ids.is_empty() {
            return;
        }
        let areas = self.index.areas();
        for id in ids {
            if let Some(a) = areas.get(*id)
                && let Some(b) = areas.bbox(*id)
            {
                self.tiles.invalidate_area(a.level, &b);
            }
        }
    }

    /// Swaps in a new area index (recounting cases per area against it) and invalidates the
    /// area tiles of every area that is new or gone. Blocking (the recount walks every
    /// event): call it off the async threads.
    pub fn replace_areas(&self, areas: AreaIndex) {
        let old = self.index.areas();
        let mut touched: Vec<(minqing_model::Level, BBox)> = Vec::new();
        {
            let (a, b) = (old.all(), areas.all());
            let (mut i, mut j) = (0, 0);
            // Both are in id order: a merge walk finds the ids on one side only.
            while i < a.len() || j < b.len() {
                match (a.get(i), b.get(j)) {
                    (Some(x), Some(y)) if x.id == y.id => {
                        i += 1;
                        j += 1;
                    }
                    (Some(x), Some(y)) if x.id < y.id => {
                        touched.extend(bbox_of(x).map(|bb| (x.level, bb)));
                        i += 1;
                    }
                    (Some(x), None) => {
                        touched.extend(bbox_of(x).map(|bb| (x.level, bb)));
                        i += 1;
                    }
                    (_, Some(y)) => {
                        touched.extend(bbox_of(y).map(|bb| (y.level, bb)));
                        j += 1;
                    }
                    (None, None) => break,
                }
            }
        }
        self.index.set_areas(areas);
        // Every level: the recount may change the counts of the areas above the grids too.
        for (_, b) in touched {
            for level in minqing_model::Level::ALL {
                self.tiles.invalidate_area(level, &b);
            }
        }
    }

    /// Reloads the areas from the database when the current set there differs from the
    /// index's (or always, with `force`); returns whether it did.
    pub async fn reload_areas(
        self: &Arc<Self>,
        store: &Store,
        force: bool,
    ) -> minqing_store::Result<bool> {
        let _one = self.reloading.lock().await;
        if !force {
            let stamp = store.areas_stamp().await?;
            let areas = self.index.areas();
            let held = (
                i64::try_from(areas.len()).unwrap_or(i64::MAX),
                areas.all().iter().map(|a| a.id).sum::<i64>(),
            );
            if stamp == held {
                return Ok(false);
            }
        }
        let loaded = store.load_areas().await?;
        let n = loaded.len();
        let live = self.clone();
        let started = std::time::Instant::now();
        tokio::task::spawn_blocking(move || live.replace_areas(AreaIndex::new(loaded)))
            .await
            .map_err(|e| {
                minqing_store::StoreError::Input(format!("area index build failed: {e}"))
            })?;
        tracing::info!(
            areas = n,
            ms = started.elapsed().as_millis(),
            "areas reloaded"
        );
        Ok(true)
    }

    /// Moves the overdue clock to now and invalidates the area tiles whose counts changed.
    pub fn sweep_overdue(&self) {
        let changed = self.index.sweep_overdue();
        self.invalidate_areas(&changed);
    }

    /// A subscription to changes published from now on, with the changes after
    /// `last_seen` that are still held (`None` when `last_seen` is older than what is held,
    /// so that the client must reload).
    pub fn subscribe(
        &self,
        last_seen: Option<u64>,
    ) -> (broadcast::Receiver<Arc<Change>>, Option<Vec<Arc<Change>>>) {
        let recent = self.recent.lock();
        let rx = self.sender.subscribe();
        let replay = match last_seen {
            None => Some(Vec::new()),
            Some(seen) => {
                let oldest = recent.0.front().map_or(recent.1, |c| c.seq);
                if seen.saturating_add(1) < oldest || seen >= recent.1 {
                    None
                } else {
                    Some(recent.0.iter().filter(|c| c.seq > seen).cloned().collect())
                }
            }
        };
        (rx, replay)
    }

    /// Whether the change-feed connection is up.
    #[must_use]
    pub fn feed_connected(&self) -> bool {
        self.feed_connected.load(Ordering::Relaxed)
    }
}

/// The workers' record's part of the change feed: the visits written from `mark` (read
/// after the events, with the same mark), and the workers and duties again when they were
/// written.
async fn follow_work(
    store: &Store,
    live: &Live,
    listener: &minqing_store::Listener,
    mark: Watermark,
) -> Result<(), minqing_store::StoreError> {
    let visits = listener.visits_since(mark).await?;
    if !visits.is_empty() {
        live.index.work_mut(|w| w.add_visits(visits));
    }
    if listener.take_staff_changed() {
        let (workers, duties) = store.load_staff().await?;
        live.index.work_mut(|w| w.set_staff(workers, duties));
        tracing::info!("workers and duties reloaded");
    }
    Ok(())
}

/// Follows the database's change feed from `mark` for as long as the process runs:
/// reconnects with back-off after a lost connection, and catches up from the last
/// watermark each time, so that no committed change is missed.
pub async fn follow(store: Store, live: Arc<Live>, mut mark: Watermark) {
    let mut backoff = Duration::from_millis(100);
    // Whether the feed is known to be down: a lost feed is logged once when it goes and
    // once when it is back, not at every retry of an outage.
    let mut down = false;
    loop {
        match store.listen().await {
            Ok(mut listener) => {
                backoff = Duration::from_millis(100);
                if std::mem::take(&mut down) {
                    tracing::info!("change feed reconnected; catching up");
                }
                // Tokens may have been revoked while this instance was not listening.
                live.tokens_changed();
                // Registers may have been written meanwhile (a reload is skipped when the
                // generation held is current).
                live.registers_changed();
                // Boundaries may have changed while this instance was not listening.
                let mut check_areas = true;
                loop {
                    if check_areas || listener.take_areas_changed() {
                        check_areas = false;
                        if let Err(e) = live.reload_areas(&store, false).await {
                            tracing::warn!(error = %e, "area reload failed; reconnecting");
                            break;
                        }
                    }
                    match listener.changes_since(mark).await {
                        Ok((events, next)) => {
                            live.feed_connected.store(true, Ordering::Relaxed);
                            if !events.is_empty() {
                                let live = live.clone();
                                let applied = match tokio::task::spawn_blocking(move || {
                                    live.apply_batch(events)
                                })
                                .await
                                {
                                    Ok(n) => n,
                                    Err(e) => {
                                        tracing::error!(error = %e, "applying the change feed failed");
                                        0
                                    }
                                };
                                tracing::debug!(applied, "change feed");
                            }
                            if let Err(e) = follow_work(&store, &live, &listener, mark).await {
                                tracing::warn!(error = %e, "workers' record feed read failed; reconnecting");
                                break;
                            }
                            mark = next;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "change feed read failed; reconnecting");
                            break;
                        }
                    }
                    // A notification, or every few seconds anyway.
                    let alive = tokio::select! {
                        alive = listener.wait(Duration::from_secs(5)) => alive,
                        () = live.closed() => return,
                    };
                    if listener.take_tokens_changed() {
                        live.tokens_changed();
                    }
                    if listener.take_registers_changed() {
                        live.registers_changed();
                    }
                    if !alive {
                        tracing::warn!("change feed connection closed; reconnecting");
                        break;
                    }
                }
            }
            Err(e) if !down => {
                tracing::warn!(error = %e, "cannot connect the change feed; retrying until it is back");
            }
            Err(e) => tracing::debug!(error = %e, "cannot connect the change feed"),
        }
        down = true;
        live.feed_connected.store(false, Ordering::Relaxed);
        tokio::select! {
            () = tokio::time::sleep(backoff) => {},
            () = live.closed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// How long a burst of register writes may go on before the registers are reloaded.
const REGISTERS_SETTLE: Duration = Duration::from_millis(300);

/// Reloads the registers after register writes of any instance ([`Live::registers_changed`]),
/// once a burst of them is over, for as long as the process runs; a failed reload is tried
/// again a second later.
pub async fn follow_registers(store: Store, live: Arc<Live>) {
    let mut changes = live.registers.subscribe();
    let closed = live.closed();
    tokio::pin!(closed);
    loop {
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            () = &mut closed => return,
        }
        tokio::select! {
            () = tokio::time::sleep(REGISTERS_SETTLE) => {},
            () = &mut closed => return,
        }
        changes.borrow_and_update();
        match live.reload_registers(&store).await {
            Ok(reloaded) => tracing::debug!(reloaded, "register change"),
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "register reload failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {},
                    () = &mut closed => return,
                }
                changes.mark_changed();
            }
        }
    }
}

/// Moves the overdue clock every second, for as long as the process runs.
pub async fn sweep_overdue(live: Arc<Live>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let closed = live.closed();
    tokio::pin!(closed);
    loop {
        tokio::select! {
            _ = tick.tick() => live.sweep_overdue(),
            () = &mut closed => return,
        }
    }
}

/// Raises overdue cases to the level their deadline implies (one level when it passes, one
/// more per `--escalate-every` since; see `sql/escalate.sql`), checking on the configured
/// schedule until shutdown. Each raised case takes the apply path at once (other instances
/// see it through the change feed). A full batch is followed by the next at once, so a
/// backlog drains quickly.
pub async fn escalate(store: Store, live: Arc<Live>, config: Arc<Config>) {
    const BATCH: i64 = 5000;
    let mut tick = tokio::time::interval(Duration::from_secs(config.escalation_check_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let closed = live.closed();
    tokio::pin!(closed);
    loop {
        tokio::select! {
            _ = tick.tick() => {},
            () = &mut closed => return,
        }
        loop {
            match store
                .escalate_overdue(config.escalate_every_secs, BATCH)
                .await
            {
                Ok(raised) => {
                    let full = raised.len() >= usize::try_from(BATCH).unwrap_or(usize::MAX);
                    if !raised.is_empty() {
                        tracing::info!(
                            cases = raised.len(),
                            "overdue cases raised to the level their deadline implies"
                        );
                    }
                    for e in raised {
                        live.apply(e);
                    }
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "escalation sweep failed; retrying later");
                    break;
                }
            }
        }
    }
}
