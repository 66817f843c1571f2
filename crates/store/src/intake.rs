//! Intake: reports that arrive together are committed together.
//!
//! Every report still waits for its own commit before it is acknowledged; what changes under
//! load is how many share one. A report joins a queue; if fewer than [`DRAINERS`] batches
//! are being written, a drainer task is started. Each drainer takes everything queued (at
//! most [`MAX_BATCH`]) and stores it with one statement (`sql/insert_events_batch.sql`: one
//! round trip, one commit, one change-feed notification), answers each report, and goes on
//! while reports keep arriving. A lone report is written at once, alone; under load the
//! queue fills while the drainers are busy, so batches grow with the load and the per-report
//! costs of a statement, a commit and a wake-up are shared.
//!
//! Should a batch fail, its reports are written one by one, so that one bad report cannot
//! fail the others. Drainers are spawned tasks: a client that goes away does not stop the
//! write it started (exactly as with a single statement in flight).

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use tokio::sync::oneshot;

use super::rows::{event_from_row, get};
use super::{Result, Store, StoreError};
use minqing_model::register::RegisterLink;
use minqing_model::{Event, NewEvent};

/// Batches written at the same time, at most (each holds a pooled connection meanwhile).
pub const DRAINERS: usize = 4;

/// Reports in one statement, at most, by default (`--intake-batch`).
pub const MAX_BATCH: usize = 64;

/// Result of [`Store::insert_event`].
#[derive(Debug, Clone)]
pub struct InsertedEvent {
    /// The stored event.
    pub event: Event,
    /// False when the idempotency key had been used before and nothing new was stored.
    pub created: bool,
}

/// One report to store, as `Store::insert_event` takes it.
pub(super) struct Report {
    pub new: NewEvent,
    pub priority: i16,
    pub grid_id: Option<i64>,
    pub idempotency_key: Option<String>,
    pub reporter_token: Option<i64>,
    pub reporter_worker: Option<i64>,
    pub actor: String,
}

/// Who reported a case, as stored with it (neither is shown on public endpoints).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportedBy {
    /// The reporter-role token (a reporter follows their own reports).
    pub token: Option<i64>,
    /// The grid worker whose token it was (assessment: found or missed).
    pub worker: Option<i64>,
}

struct Job {
    report: Report,
    reply: oneshot::Sender<Result<InsertedEvent>>,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    drainers: usize,
}

/// The queue of reports waiting to be written (shared by the clones of a [`Store`]).
pub(super) struct Intake {
    queue: Mutex<Queue>,
    max_batch: usize,
    /// Reports per written batch.
    batch_sizes: Histogram,
    /// Test hook: how many of the next batches panic instead of being written.
    #[cfg(test)]
    panics: std::sync::atomic::AtomicUsize,
}

impl Store {
    /// The same store, writing at most `n` (≥ 1) reports per statement.
    #[must_use]
    pub fn with_intake_batch(mut self, n: usize) -> Store {
        self.intake = new(n);
        self
    }

    /// Reports per batch written so far (for `/metrics`; buckets 1, 2, 4 … 128).
    #[must_use]
    pub fn intake_batch_sizes(&self) -> Histogram {
        self.intake.batch_sizes.clone()
    }

    /// Queues a report and waits until it is committed (or refused).
    pub(super) async fn intake(&self, report: Report) -> Result<InsertedEvent> {
        let (reply, answer) = oneshot::channel();
        let slot = {
            let mut q = self.intake.queue.lock();
            q.jobs.push_back(Job { report, reply });
            Slot::claim(self, &mut q)
        };
        if let Some(slot) = slot {
            tokio::spawn(slot.drain());
        }
        // Only a drainer that died (a bug) drops the reply; whether its batch committed is
        // then unknown, which a retry with the same Idempotency-Key settles.
        answer
            .await
            .map_err(|_| StoreError::Internal("the write of a report was interrupted".into()))?
    }

    /// Writes one batch and answers its reports.
    async fn write(&self, batch: Vec<Job>) {
        #[cfg(test)]
        self.intake.panic_if_asked();
        self.intake.batch_sizes.observe(batch.len() as f64);
        let reports: Vec<&Report> = batch.iter().map(|j| &j.report).collect();
        tracing::trace!(reports = reports.len(), "writing a batch of reports");
        match self.insert_batch(&reports).await {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            // The database is away: every report of the batch is refused alike (the
            // outage is logged once by the store, not per batch).
            Err(StoreError::Unavailable) => {
                for job in batch {
                    let _ = job.reply.send(Err(StoreError::Unavailable));
                }
            }
            Err(e) if batch.len() == 1 => {
                if let Some(job) = batch.into_iter().next() {
                    let _ = job.reply.send(Err(e));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, reports = batch.len(), "batch insert failed; storing its reports one by one");
                for job in batch {
                    let result = self.insert_batch(&[&job.report]).await.and_then(|r| {
                        r.into_iter().next().ok_or_else(|| {
                            StoreError::Internal("batch insert: no result for a report".into())
                        })
                    });
                    let _ = job.reply.send(result);
                }
            }
        }
    }

    /// Stores reports with one statement; the results in the reports' order.
    async fn insert_batch(&self, reports: &[&Report]) -> Result<Vec<InsertedEvent>> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/insert_events_batch.sql"))
            .await?;
        let col = |f: fn(&Report) -> Option<&str>| -> Vec<Option<&str>> {
            reports.iter().map(|r| f(r)).collect()
        };
        let category = col(|r| Some(&r.new.category));
        let title = col(|r| Some(&r.new.title));
        let description = col(|r| Some(&r.new.description));
        let key = col(|r| r.idempotency_key.as_deref());
        let contact = col(|r| r.new.reporter.as_deref());
        let actor = col(|r| Some(&r.actor));
        let photo_type = col(|r| r.new.photo.as_ref().map(|p| p.0));
        let photo: Vec<Option<&[u8]>> = reports
            .iter()
            .map(|r| r.new.photo.as_ref().map(|p| p.1.as_slice()))
            .collect();
        let priority: Vec<i16> = reports.iter().map(|r| r.priority).collect();
        let grid: Vec<Option<i64>> = reports.iter().map(|r| r.grid_id).collect();
        let lon: Vec<f64> = reports.iter().map(|r| r.new.lon).collect();
        let lat: Vec<f64> = reports.iter().map(|r| r.new.lat).collect();
        let token: Vec<Option<i64>> = reports.iter().map(|r| r.reporter_token).collect();
        let worker: Vec<Option<i64>> = reports.iter().map(|r| r.reporter_worker).collect();
        let links: Vec<[Option<i64>; 4]> = reports
            .iter()
            .map(|r| RegisterLink::columns(r.new.link))
            .collect();
        let link = |i: usize| -> Vec<Option<i64>> { links.iter().map(|l| l[i]).collect() };
        let (building, place, organisation, household) = (link(0), link(1), link(2), link(3));
        let rows = conn
            .query(
                &stmt,
                &[
                    &category,
                    &title,
                    &description,
                    &priority,
                    &grid,
                    &key,
                    &lon,
                    &lat,
                    &contact,
                    &token,
                    &actor,
                    &photo_type,
                    &photo,
                    &building,
                    &place,
                    &organisation,
                    &household,
                    &worker,
                ],
            )
            .await?;
        let mut out: Vec<Option<InsertedEvent>> = (0..reports.len()).map(|_| None).collect();
        for row in &rows {
            let ord: i64 = get(row, "ord")?;
            let slot = usize::try_from(ord - 1)
                .ok()
                .and_then(|i| out.get_mut(i))
                .ok_or_else(|| StoreError::Internal(format!("batch insert: bad ordinal {ord}")))?;
            *slot = Some(InsertedEvent {
                event: event_from_row(row)?,
                created: true,
            });
        }
        // Only a used idempotency key inserts nothing: the event first stored under it.
        let first = conn
            .prepare_cached(include_str!("sql/event_by_idempotency_key.sql"))
            .await?;
        let mut results = Vec::with_capacity(out.len());
        for (r, stored) in reports.iter().zip(out) {
            if let Some(s) = stored {
                results.push(s);
            } else {
                let row = conn.query_one(&first, &[&r.idempotency_key]).await?;
                results.push(InsertedEvent {
                    event: event_from_row(&row)?,
                    created: false,
                });
            }
        }
        Ok(results)
    }
}

/// One of the [`DRAINERS`] slots, held by a running drainer; a drop guard (as mini-redis's
/// `DbDropGuard`), so that the slot comes back however the drainer ends.
///
/// A drainer that finds the queue empty gives its slot back itself, under the same lock
/// (see [`Slot::drain`]). Any other end — a panic (a bug), or the task dropped with its
/// runtime — drops the slot while it is still held: it is then given back, or, if reports
/// are still queued (they may have no other drainer), passed on to a new drainer. Without
/// the guard, each panic lost a slot for good, and after [`DRAINERS`] panics every later
/// report waited forever.
struct Slot {
    store: Store,
    /// False once given back (or passed on).
    held: bool,
    /// Whether the drainer has started; a slot passed on to a drainer that never runs (its
    /// runtime shutting down) is only given back, never passed on again.
    running: bool,
}

impl Slot {
    /// Takes a slot if fewer than [`DRAINERS`] are held; `q` is the locked queue of
    /// `store`'s intake.
    fn claim(store: &Store, q: &mut Queue) -> Option<Slot> {
        if q.drainers >= DRAINERS {
            return None;
        }
        q.drainers += 1;
        Some(Slot {
            store: store.clone(),
            held: true,
            running: false,
        })
    }

    /// Writes queued reports in batches until the queue is empty, then gives the slot back.
    async fn drain(mut self) {
        self.running = true;
        loop {
            let batch: Vec<Job> = {
                let mut q = self.store.intake.queue.lock();
                if q.jobs.is_empty() {
                    // Given back under the lock that saw the queue empty: a report queued
                    // after this finds the slot free and starts a drainer.
                    q.drainers -= 1;
                    self.held = false;
                    return;
                }
                let n = q.jobs.len().min(self.store.intake.max_batch);
                q.jobs.drain(..n).collect()
            };
            self.store.write(batch).await;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        self.held = false;
        let mut q = self.store.intake.queue.lock();
        if self.running
            && !q.jobs.is_empty()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            // The slot passes to a new drainer (the count stays as it is).
            drop(q);
            tracing::error!("a report drainer ended abnormally; a new one takes over its queue");
            let next = Slot {
                store: self.store.clone(),
                held: true,
                running: false,
            };
            runtime.spawn(next.drain());
        } else {
            q.drainers -= 1;
        }
    }
}

/// An empty queue writing at most `max_batch` reports per statement.
pub(super) fn new(max_batch: usize) -> Arc<Intake> {
    Arc::new(Intake {
        queue: Mutex::new(Queue::default()),
        max_batch: max_batch.max(1),
        batch_sizes: Histogram::new(exponential_buckets(1.0, 2.0, 8)),
        #[cfg(test)]
        panics: std::sync::atomic::AtomicUsize::new(0),
    })
}

#[cfg(test)]
impl Intake {
    /// Panics (as a bug in a drainer would) while [`Intake::panics`] is above zero.
    fn panic_if_asked(&self) {
        use std::sync::atomic::Ordering;
        let asked = self
            .panics
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        assert!(!asked, "test hook: a drainer panics");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use super::*;

    /// A store whose database cannot be reached: every batch that is written (not made to
    /// panic) is refused at once with `Unavailable`.
    fn store(max_batch: usize) -> Store {
        Store::connect(
            "host=/nonexistent/minqing-socket user=postgres dbname=minqing",
            1,
        )
        .unwrap()
        .with_intake_batch(max_batch)
    }

    fn report() -> Report {
        Report {
            new: NewEvent {
                category: "road".into(),
                title: "t".into(),
                description: String::new(),
                lon: 115.3,
                lat: 22.8,
                reporter: None,
                photo: None,
                link: None,
            },
            priority: 2,
            grid_id: None,
            idempotency_key: None,
            reporter_token: None,
            reporter_worker: None,
            actor: "anonymous".into(),
        }
    }

    #[tokio::test]
    async fn reports_are_still_served_after_as_many_drainers_panicked_as_there_are_slots() {
        let store = store(MAX_BATCH);
        store.intake.panics.store(DRAINERS, Ordering::Release);
        for _ in 0..DRAINERS {
            let got = tokio::time::timeout(Duration::from_secs(5), store.intake(report()))
                .await
                .expect("a report whose drainer panicked waits forever");
            assert!(matches!(got, Err(StoreError::Internal(_))), "{got:?}");
        }
        let got = tokio::time::timeout(Duration::from_secs(5), store.intake(report()))
            .await
            .expect("a report after panicked drainers waits forever: their slots were lost");
        assert!(matches!(got, Err(StoreError::Unavailable)), "{got:?}");
        // Every slot comes back once the queue is empty.
        for _ in 0..100 {
            if store.intake.queue.lock().drainers == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("drainer slots still held after the queue emptied");
    }

    #[tokio::test]
    async fn reports_queued_behind_panicking_drainers_are_served() {
        // One report per batch; six reports queued before any drainer runs (the test
        // runtime has one thread), so all four drainers start and each panics on its first
        // batch, with two reports still queued.
        let store = store(1);
        store.intake.panics.store(DRAINERS, Ordering::Release);
        let reports = (0..DRAINERS + 2).map(|_| store.intake(report()));
        let got = tokio::time::timeout(
            Duration::from_secs(5),
            futures_util::future::join_all(reports),
        )
        .await
        .expect("reports queued when the last drainer panicked wait forever");
        let interrupted = got
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Internal(_))))
            .count();
        let refused = got
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Unavailable)))
            .count();
        assert_eq!((interrupted, refused), (DRAINERS, 2), "{got:?}");
    }
}
