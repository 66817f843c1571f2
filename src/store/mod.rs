//! The store: PostGIS, the system of record.
//!
//! A write is acknowledged only after it is committed here. SQL lives in `sql/*.sql`, loaded
//! with `include_str!`; every request value is a bound parameter.

mod cases;
mod embedded;
mod feed;
mod intake;
pub use intake::MAX_BATCH;
mod load;
mod migrate;
mod open311;
mod plans;
mod write;

pub use cases::{
    Case, ExportFilter, HistoryEntry, Refusal, RowStream, TransitionInput, TransitionResult,
};
pub use embedded::{EmbeddedError, EmbeddedPostgres};
pub use feed::{AREAS_CHANNEL, CHANNEL, Listener, Watermark};
pub use plans::{
    AreasAt, Changes, ClosedGrid, DEFAULT_HOUSEHOLDS, EventMove, Fault, Figures, HouseholdMove,
    Operation, Piece, Plan, PlanError, PlanGrid, PlanResult, Published, Report, SLIVER_M2,
};
pub use write::InsertedEvent;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

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
        source: crate::model::wkb::WkbError,
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
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// For connections outside the pool (the change-feed listener). Shared: the store is
    /// cloned with the application state on every request.
    config: std::sync::Arc<tokio_postgres::Config>,
    /// Reports waiting to be written together.
    intake: std::sync::Arc<intake::Intake>,
}

impl Store {
    /// Connects to `url` (a libpq connection string or `postgres://` URL) with a pool of
    /// `size` connections.
    pub fn connect(url: &str, size: usize) -> Result<Store> {
        let config: tokio_postgres::Config = url.parse().map_err(StoreError::Config)?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size)
            .build()
            .map_err(|e| StoreError::Input(format!("cannot build the pool: {e}")))?;
        Ok(Store {
            pool,
            config: std::sync::Arc::new(config),
            intake: intake::new(MAX_BATCH),
        })
    }

    /// Takes a connection from the pool.
    pub async fn conn(&self) -> Result<deadpool_postgres::Object> {
        Ok(self.pool.get().await?)
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
        Ok(row.get(0))
    }
}

/// Parses "3.3 USE_GEOS=1 …" into (3, 3).
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
}
