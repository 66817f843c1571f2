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

use super::write::{InsertedEvent, event_from_row};
use super::{Result, Store, StoreError};
use minqing_model::NewEvent;

/// Batches written at the same time, at most (each holds a pooled connection meanwhile).
pub const DRAINERS: usize = 4;

/// Reports in one statement, at most, by default (`--intake-batch`).
pub const MAX_BATCH: usize = 64;

/// One report to store, as `Store::insert_event` takes it.
pub(super) struct Report {
    pub new: NewEvent,
    pub priority: i16,
    pub grid_id: Option<i64>,
    pub idempotency_key: Option<String>,
    pub reporter_token: Option<i64>,
    pub actor: String,
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
        let start = {
            let mut q = self.intake.queue.lock();
            q.jobs.push_back(Job { report, reply });
            let start = q.drainers < DRAINERS;
            if start {
                q.drainers += 1;
            }
            start
        };
        if start {
            let store = self.clone();
            tokio::spawn(async move { store.drain().await });
        }
        // Only a drainer that died (a bug) drops the reply; whether its batch committed is
        // then unknown, which a retry with the same Idempotency-Key settles.
        answer
            .await
            .map_err(|_| StoreError::Internal("the write of a report was interrupted".into()))?
    }

    /// Writes queued reports in batches until the queue is empty.
    async fn drain(&self) {
        loop {
            let batch: Vec<Job> = {
                let mut q = self.intake.queue.lock();
                if q.jobs.is_empty() {
                    q.drainers -= 1;
                    return;
                }
                let n = q.jobs.len().min(self.intake.max_batch);
                q.jobs.drain(..n).collect()
            };
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
                        let result = self.insert_batch(&[&job.report]).await;
                        let _ = job.reply.send(result.map(|mut r| r.remove(0)));
                    }
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
                ],
            )
            .await?;
        let mut out: Vec<Option<InsertedEvent>> = (0..reports.len()).map(|_| None).collect();
        for row in &rows {
            let ord: i64 = row.get(16);
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
            match stored {
                Some(s) => results.push(s),
                None => {
                    let row = conn.query_one(&first, &[&r.idempotency_key]).await?;
                    results.push(InsertedEvent {
                        event: event_from_row(&row)?,
                        created: false,
                    });
                }
            }
        }
        Ok(results)
    }
}

/// An empty queue writing at most `max_batch` reports per statement.
pub(super) fn new(max_batch: usize) -> Arc<Intake> {
    Arc::new(Intake {
        queue: Mutex::new(Queue::default()),
        max_batch: max_batch.max(1),
        batch_sizes: Histogram::new(exponential_buckets(1.0, 2.0, 8)),
    })
}
