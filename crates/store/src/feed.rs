//! The change feed (migrations/0002): which events changed since a watermark, and a
//! dedicated connection that LISTENs for writes of any instance.
//!
//! A watermark is the oldest transaction still running when it was taken
//! (`pg_snapshot_xmin`). Every transaction below it has finished, so reading the rows
//! written by transactions at or above the previous watermark misses nothing, in whatever
//! order transactions commit.
//!
//! The same connection LISTENs on [`AREAS_CHANNEL`] too (migrations/0005: one NOTIFY per
//! statement that writes `areas`, e.g. a published plan), so that every instance reloads
//! its area index when boundaries change, on [`TOKENS_CHANNEL`] (a revocation) and on
//! [`REGISTERS_CHANNEL`] (migrations/0010: any write to a register, e.g. an import or a
//! removal), so that every instance reloads its registers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, NoTls};

use super::rows::{event_from_row, get};
use super::{Result, Store};
use minqing_model::Event;
use minqing_model::worker::VisitRecord;

/// The channel the database notifies on every write to `events`.
pub const CHANNEL: &str = "minqing_events";

/// The channel the database notifies on every write to `areas`.
pub const AREAS_CHANNEL: &str = "minqing_areas";

/// The channel the database notifies on every write to `tokens` (migrations/0008).
pub const TOKENS_CHANNEL: &str = "minqing_tokens";

/// The channel the database notifies on every write to a register (buildings, places,
/// organisations, households, residents; migrations/0010).
pub const REGISTERS_CHANNEL: &str = "minqing_registers";

/// The channel of writes to the grid workers' record (migrations/0017): the payload is the
/// table, `visits` (read from the watermark, [`Listener::visits_since`]) or `workers` /
/// `worker_duties` (reloaded whole).
pub const WORK_CHANNEL: &str = "minqing_work";

/// A position in the change feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Watermark(pub u64);

/// A connection subscribed to the change feed.
pub struct Listener {
    client: Client,
    notified: mpsc::UnboundedReceiver<()>,
    /// Set when a notification on [`AREAS_CHANNEL`] arrived.
    areas: Arc<AtomicBool>,
    /// Set when a notification on `TOKENS_CHANNEL` arrived.
    tokens: Arc<AtomicBool>,
    /// Set when a notification on [`REGISTERS_CHANNEL`] arrived.
    registers: Arc<AtomicBool>,
    /// Set when workers or duties were written ([`WORK_CHANNEL`]).
    staff: Arc<AtomicBool>,
}

async fn watermark(client: &Client) -> Result<Watermark> {
    let row = client
        .query_one(include_str!("sql/watermark.sql"), &[])
        .await?;
    let text: String = get(&row, "xmin")?;
    text.parse()
        .map(Watermark)
        .map_err(|e| super::StoreError::Input(format!("unreadable snapshot xmin {text:?}: {e}")))
}

impl Store {
    /// The current watermark. Take it before a full read: changes at or after it are then
    /// read again from the feed, so none falls between the read and the feed.
    pub async fn watermark(&self) -> Result<Watermark> {
        let conn = self.conn().await?;
        watermark(&conn).await
    }

    /// Opens a dedicated connection (not from the pool) that LISTENs on [`CHANNEL`],
    /// [`AREAS_CHANNEL`], `TOKENS_CHANNEL` and [`REGISTERS_CHANNEL`].
    pub async fn listen(&self) -> Result<Listener> {
        let (client, mut connection) = self.config.connect(NoTls).await?;
        let (tx, notified) = mpsc::unbounded_channel();
        let areas = Arc::new(AtomicBool::new(false));
        let areas_flag = areas.clone();
        let tokens = Arc::new(AtomicBool::new(false));
        let tokens_flag = tokens.clone();
        let registers = Arc::new(AtomicBool::new(false));
        let registers_flag = registers.clone();
        let staff = Arc::new(AtomicBool::new(false));
        let staff_flag = staff.clone();
        tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(n)) => {
                        if n.channel() == AREAS_CHANNEL {
                            areas_flag.store(true, Ordering::Release);
                        } else if n.channel() == TOKENS_CHANNEL {
                            tokens_flag.store(true, Ordering::Release);
                        } else if n.channel() == REGISTERS_CHANNEL {
                            registers_flag.store(true, Ordering::Release);
                        } else if n.channel() == WORK_CHANNEL && n.payload() != "visits" {
                            staff_flag.store(true, Ordering::Release);
                        }
                        if tx.send(()).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "change feed connection lost");
                        return;
                    }
                }
            }
        });
        client.batch_execute(include_str!("sql/listen.sql")).await?;
        Ok(Listener {
            client,
            notified,
            areas,
            tokens,
            registers,
            staff,
        })
    }
}

impl Listener {
    /// Waits for a notification, or for `timeout`; false when the connection is gone.
    pub async fn wait(&mut self, timeout: std::time::Duration) -> bool {
        let alive = match tokio::time::timeout(timeout, self.notified.recv()).await {
            Ok(Some(())) => true,
            Ok(None) => false,
            Err(_) => !self.client.is_closed(),
        };
        // Many writes, one read.
        while self.notified.try_recv().is_ok() {}
        alive && !self.client.is_closed()
    }

    /// Whether areas were written since the last call (a notification on
    /// [`AREAS_CHANNEL`]); clears the flag.
    pub fn take_areas_changed(&self) -> bool {
        self.areas.swap(false, Ordering::AcqRel)
    }

    /// Whether tokens were written since the last call (a notification on
    /// `TOKENS_CHANNEL`); clears the flag.
    pub fn take_tokens_changed(&self) -> bool {
        self.tokens.swap(false, Ordering::AcqRel)
    }

    /// Whether a register was written since the last call (a notification on
    /// [`REGISTERS_CHANNEL`]); clears the flag.
    pub fn take_registers_changed(&self) -> bool {
        self.registers.swap(false, Ordering::AcqRel)
    }

    /// Whether workers or their duties were written since the last call (a notification
    /// on [`WORK_CHANNEL`]); clears the flag.
    pub fn take_staff_changed(&self) -> bool {
        self.staff.swap(false, Ordering::AcqRel)
    }

    /// Visits written at or after `since` (read after [`Listener::changes_since`] with the
    /// same `since`: the watermark it returns then covers whatever this read misses).
    pub async fn visits_since(&self, since: Watermark) -> Result<Vec<VisitRecord>> {
        crate::work::visits_since(&self.client, &since.0.to_string()).await
    }

    /// Events written at or after `since`, and the watermark to use next time.
    pub async fn changes_since(&self, since: Watermark) -> Result<(Vec<Event>, Watermark)> {
        // Taken first: a transaction that finishes between the two statements is read now
        // and again next time, never skipped.
        let next = watermark(&self.client).await?;
        let stmt = self
            .client
            .prepare(include_str!("sql/changed_events.sql"))
            .await?;
        let rows = self.client.query(&stmt, &[&since.0.to_string()]).await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut e = event_from_row(row)?;
            e.description = None;
            events.push(e);
        }
        Ok((events, next))
    }
}

#[cfg(test)]
mod tests {
    use super::{AREAS_CHANNEL, CHANNEL, REGISTERS_CHANNEL, TOKENS_CHANNEL, WORK_CHANNEL};

    #[test]
    fn the_listener_subscribes_to_every_channel() {
        let sql = include_str!("sql/listen.sql");
        for channel in [
            CHANNEL,
            AREAS_CHANNEL,
            TOKENS_CHANNEL,
            REGISTERS_CHANNEL,
            WORK_CHANNEL,
        ] {
            assert!(
                sql.lines()
                    .any(|l| l.trim_end_matches(';') == format!("LISTEN {channel}")),
                "sql/listen.sql does not LISTEN on {channel}"
            );
        }
    }
}
