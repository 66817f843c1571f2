//! The store: PostGIS, the system of record.
//!
//! A write is acknowledged only after it is committed here. SQL lives in `sql/*.sql`, loaded
//! with `include_str!`, each file headed by what it does and its parameters; every request
//! value is a bound parameter. Result rows are read by column name (`rows.rs`), so that a
//! statement and its reader that disagree fail with an error, not a panic.
//!
//! # Layout
//!
//! - [`Store`] (this file): the pool, connection health, the outage probe, migrations.
//! - `write` and `intake`: storing events (reports arriving together share one statement
//!   and one commit), areas and bulk loads; `cases`: the case detail, transitions, history;
//!   `feed`: the change feed (`NOTIFY` and catch-up); `load`: reading everything at start.
//! - `plans`: grid planning drafts, operations, validation, publish, time travel.
//! - `registers` and `imports`: people, buildings, places, organisations (personal fields
//!   sealed), the access log, key rotation, imports all or nothing.
//! - `workers`, `patrols`, `visits`: grid workers and their duties, patrol tracks, visits and
//!   the visit rules; `assessment`: what assessment and the review reports read (who found
//!   each case, the workers' own counts, visits by record and grid, the kept reports).
//! - `open311`: the Open311 views; `embedded`: the private PostgreSQL cluster; `rows`:
//!   reading result rows by column name.

mod assessment;
mod cases;
mod embedded;
mod feed;
mod imports;
mod intake;
pub use intake::{InsertedEvent, MAX_BATCH, ReportedBy};
mod load;
mod migrate;
mod open311;
mod patrols;
mod plans;
mod registers;
mod rows;
mod visits;
mod work;
mod workers;
mod write;

pub use assessment::{ExplainOf, ExplainedCase, SnapshotRow};
pub use cases::{
    Case, ExportFilter, HistoryEntry, Refusal, RowStream, TransitionInput, TransitionResult,
};
pub use embedded::{EmbeddedError, EmbeddedPostgres};
pub use feed::{AREAS_CHANNEL, CHANNEL, Listener, REGISTERS_CHANNEL, WORK_CHANNEL, Watermark};
pub use imports::{
    ImportBuilding, ImportConflict, ImportHousehold, ImportOrganisation, ImportOutcome,
    ImportPlace, ImportResident, ImportRows,
};
pub use patrols::{Batch, DensityCell, PatrolFilter, PatrolRefusal};
pub use plans::{
    AreasAt, Changes, ClosedGrid, DEFAULT_HOUSEHOLDS, EventMove, Fault, HouseholdMove,
    MoveBoundary, Operation, Piece, Plan, PlanError, PlanGrid, PlanResult, Published, Report,
    SLIVER_M2,
};
pub use registers::{AccessEntry, AccessQuery, LoadedRegisters, REMOVAL_REASONS, RegisterCounts};
pub use visits::{NewVisit, VisitFilter};
pub use workers::NewWorker;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, TimeoutType};
use tokio_postgres::NoTls;

/// How long a new connection may take before the attempt counts as failed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a request waits for a free pooled connection before it is refused (503).
pub const POOL_WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// First and longest pause between reconnection probes during an outage.
const PROBE_BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// Lowest PostGIS version minqing runs on.
pub const MINIMUM_POSTGIS_VERSION: (u32, u32) = (3, 0);

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The connection string could not be parsed.
    #[error("invalid DATABASE_URL: {0}")]
    Config(#[source] tokio_postgres::Error),
    /// No connection could be taken from the pool.
    #[error("no database connection: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The database cannot be reached: a connection attempt failed, and until a probe
    /// reconnects, requests are refused at once (nothing was stored; retry later). The
    /// outage is logged once when it begins and once when it ends, not per request.
    #[error("database unreachable; retry later")]
    Unavailable,
    /// A statement failed.
    #[error("database error: {0}")]
    Db(#[from] tokio_postgres::Error),
    /// PostGIS is missing or too old.
    #[error("PostGIS {found} found; minqing needs {}.{} or newer", MINIMUM_POSTGIS_VERSION.0, MINIMUM_POSTGIS_VERSION.1)]
    PostgisVersion {
        /// What the server reported.
        found: String,
    },
    /// A stored geometry could not be decoded.
    #[error("stored geometry of {what} {id} is unreadable: {source}")]
    Geometry {
        /// Table.
        what: &'static str,
        /// Row id.
        id: i64,
        /// Cause.
        source: minqing_model::wkb::WkbError,
    },
    /// A stored value is outside what the model allows.
    #[error("stored {what} {id} has an invalid value: {detail}")]
    Invalid {
        /// Table.
        what: &'static str,
        /// Row id.
        id: i64,
        /// What is wrong.
        detail: String,
    },
    /// Input refused before anything was written.
    #[error("{0}")]
    Input(String),
    /// A fault of minqing's own (not of the input), for the log; the caller gets a 500.
    #[error("internal: {0}")]
    Internal(String),
}

/// Result alias of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Handle to the database: a connection pool. Cheap to clone.
///
/// New connections time out after [`CONNECT_TIMEOUT`]; a request waits at most
/// [`POOL_WAIT_TIMEOUT`] for a free one. When an attempt to connect fails, the store enters
/// an *outage*: every request for a connection is refused at once with
/// [`StoreError::Unavailable`] while a single background probe tries to reconnect, pausing
/// 100 ms, then twice as long after each failure, up to 5 s. The outage is logged when it
/// begins (warn) and when it ends (info, with its length).
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// For connections outside the pool (the change-feed listener). Shared: the store is
    /// cloned with the application state on every request.
    config: std::sync::Arc<tokio_postgres::Config>,
    /// Reports waiting to be written together.
    intake: std::sync::Arc<intake::Intake>,
    /// Whether the database is in an outage.
    health: Arc<Health>,
}

/// The outage state shared by the clones of a [`Store`].
#[derive(Default)]
struct Health {
    /// Set while the database is unreachable (a probe is running then).
    down: AtomicBool,
    /// When the current outage began.
    since: parking_lot::Mutex<Option<Instant>>,
}

impl Store {
    /// Connects to `url` (a libpq connection string or `postgres://` URL) with a pool of
    /// `size` connections.
    pub fn connect(url: &str, size: usize) -> Result<Store> {
        let mut config: tokio_postgres::Config = url.parse().map_err(StoreError::Config)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT + Duration::from_secs(1)))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Input(format!("cannot build the pool: {e}")))?;
        Ok(Store {
            pool,
            config: std::sync::Arc::new(config),
            intake: intake::new(MAX_BATCH),
            health: Arc::default(),
        })
    }

    /// Takes a connection from the pool; during an outage, fails at once with
    /// [`StoreError::Unavailable`].
    pub async fn conn(&self) -> Result<deadpool_postgres::Object> {
        if !self.reachable() {
            return Err(StoreError::Unavailable);
        }
        match self.pool.get().await {
            Ok(conn) => Ok(conn),
            Err(e) if is_unreachable(&e) => {
                self.begin_outage(&e);
                Err(StoreError::Unavailable)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// False while the database is in an outage (a connection attempt failed and no probe
    /// has reconnected since).
    #[must_use]
    pub fn reachable(&self) -> bool {
        !self.health.down.load(Ordering::Acquire)
    }

    /// Whether the database answers now: a pooled connection runs `sql/ping.sql`. False at
    /// once during an outage, and when a connection attempt or the query fails; a pool
    /// that is only busy (every connection in use for a few seconds) counts as reachable.
    pub async fn ping(&self) -> bool {
        let check = async {
            let conn = self.conn().await?;
            conn.simple_query(include_str!("sql/ping.sql")).await?;
            Ok::<_, StoreError>(())
        };
        // Longer than the pool's create timeout, so that a connection attempt that hangs
        // ends (and starts the outage) before this gives up.
        match tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(2), check).await {
            Ok(Ok(())) => true,
            Ok(Err(StoreError::Pool(PoolError::Timeout(TimeoutType::Wait)))) | Err(_) => {
                self.reachable()
            }
            Ok(Err(_)) => false,
        }
    }

    /// The pool's size, idle connections and waiting requests.
    #[must_use]
    pub fn pool_status(&self) -> deadpool_postgres::Status {
        self.pool.status()
    }

    /// Enters the outage state (once) and starts its probe.
    fn begin_outage(&self, cause: &PoolError) {
        if self
            .health
            .down
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        *self.health.since.lock() = Some(Instant::now());
        tracing::warn!(error = %cause, "database unreachable; refusing requests that need it until it answers again");
        let pool = self.pool.clone();
        let health = self.health.clone();
        tokio::spawn(probe(pool, health));
    }

    /// Checks PostGIS (creating the extension if allowed) and applies pending migrations.
    pub async fn migrate(&self) -> Result<Vec<String>> {
        let mut conn = self.conn().await?;
        migrate::run(&mut conn).await
    }

    /// The PostGIS version string of the server.
    pub async fn postgis_version(&self) -> Result<String> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(include_str!("sql/postgis_version.sql"), &[])
            .await?;
        rows::get(&row, "version")
    }
}

/// Whether a pool error means the database cannot be reached (a new connection failed or
/// timed out), rather than that the pool is busy.
fn is_unreachable(e: &PoolError) -> bool {
    matches!(
        e,
        PoolError::Backend(_) | PoolError::Timeout(TimeoutType::Create | TimeoutType::Recycle)
    )
}

/// Tries to reconnect, one attempt at a time with growing pauses, until the database
/// answers; then ends the outage.
async fn probe(pool: Pool, health: Arc<Health>) {
    let mut pause = PROBE_BACKOFF.0;
    loop {
        tokio::time::sleep(pause).await;
        let attempt = async {
            let conn = pool.get().await.map_err(|e| e.to_string())?;
            conn.simple_query(include_str!("sql/ping.sql"))
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(())
        };
        match tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(1), attempt).await {
            Ok(Ok(())) => break,
            Ok(Err(e)) => tracing::debug!(error = %e, ?pause, "database still unreachable"),
            Err(_) => tracing::debug!(?pause, "database still unreachable (timed out)"),
        }
        pause = (pause * 2).min(PROBE_BACKOFF.1);
    }
    let since = health.since.lock().take();
    health.down.store(false, Ordering::Release);
    tracing::info!(
        seconds = since.map_or(0.0, |s| s.elapsed().as_secs_f64()),
        "database reachable again"
    );
}

/// Parses "3.3 `USE_GEOS=1` …" into (3, 3).
fn parse_postgis_version(s: &str) -> Option<(u32, u32)> {
    let mut parts = s.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgis_version_parsing() {
        assert_eq!(
            parse_postgis_version("3.3 USE_GEOS=1 USE_PROJ=1"),
            Some((3, 3))
        );
        assert_eq!(parse_postgis_version("garbage"), None);
        assert!(parse_postgis_version("2.5 USE_GEOS=1").unwrap() < MINIMUM_POSTGIS_VERSION);
    }

    #[tokio::test]
    async fn an_unreachable_database_is_refused_at_once_after_the_first_attempt() {
        let store = Store::connect(
            "host=/nonexistent/minqing-socket user=postgres dbname=minqing",
            4,
        )
        .unwrap();
        assert!(store.reachable());
        assert!(matches!(store.conn().await, Err(StoreError::Unavailable)));
        assert!(!store.reachable());
        let started = Instant::now();
        for _ in 0..1000 {
            assert!(matches!(store.conn().await, Err(StoreError::Unavailable)));
        }
        assert!(!store.ping().await);
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out() {
        // Accepts connections (the kernel does) but never speaks.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let store = Store::connect(
            &format!("host=127.0.0.1 port={port} user=postgres dbname=minqing"),
            4,
        )
        .unwrap();
        let started = Instant::now();
        let got = tokio::time::timeout(Duration::from_secs(10), store.conn()).await;
        assert!(
            matches!(got, Ok(Err(StoreError::Unavailable))),
            "no answer within 10 s"
        );
        assert!(started.elapsed() < CONNECT_TIMEOUT + Duration::from_secs(2));
        assert!(!store.reachable());
    }
}
