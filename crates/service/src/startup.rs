//! Start-up: open the database (or the private cluster), migrate, load the index, and
//! start the background tasks that keep it current.

use std::time::Instant;

use anyhow::Context;

use crate::config::Config;
use minqing_index::{AreaIndex, EventIndexBuilder, Index};
use minqing_store::{EmbeddedPostgres, Store};

/// An open database, plus the private cluster if minqing started one (stopped on drop).
pub struct Database {
    /// Pool.
    pub store: Store,
    /// The private cluster, when no `DATABASE_URL` was given.
    pub embedded: Option<EmbeddedPostgres>,
}

/// Connects to `DATABASE_URL`, or starts the private cluster, then applies migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Database> {
    let (url, embedded) = if let Some(url) = &config.database_url {
        (url.clone(), None)
    } else {
        let dir = config.data_dir.join("pg");
        let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&dir))
            .await
            .context("start-up task failed")?
            .context(
                "cannot start the private PostgreSQL (set DATABASE_URL to use another server)",
            )?;
        (pg.url(), Some(pg))
    };
    let store = Store::connect(&url, config.pool_size)
        .context("cannot configure the database pool")?
        .with_intake_batch(config.intake_batch);
    let applied = store
        .migrate()
        .await
        .context("cannot prepare the database")?;
    if !applied.is_empty() {
        tracing::info!(?applied, "database migrated");
    }
    tracing::info!(postgis = %store.postgis_version().await?, "database ready");
    Ok(Database { store, embedded })
}

/// Loads the grid workers' record (workers, duties, visits) into the index.
///
/// # Errors
/// The database's.
pub async fn load_work(store: &Store, index: &std::sync::Arc<Index>) -> anyhow::Result<()> {
    let started = Instant::now();
    let ((workers, duties), visits) = tokio::try_join!(store.load_staff(), store.load_visits())
        .context("cannot load the workers' record")?;
    let (n_workers, n_visits) = (workers.len(), visits.len());
    // Into the record as it stands: visits the change feed brought meanwhile stay (each id
    // is held once).
    let index = index.clone();
    tokio::task::spawn_blocking(move || {
        index.work_mut(|w| {
            w.set_staff(workers, duties);
            w.add_visits(visits);
            w.mark_loaded();
        });
    })
    .await?;
    tracing::info!(
        workers = n_workers,
        visits = n_visits,
        ms = started.elapsed().as_millis(),
        "workers' record loaded"
    );
    Ok(())
}

/// Loads areas, events and the registers from PostGIS into the index, logging progress;
/// the index is ready after all three.
pub async fn load_index(store: &Store, index: &Index) -> anyhow::Result<()> {
    let started = Instant::now();
    let areas = store.load_areas().await.context("cannot load areas")?;
    let n_areas = areas.len();
    let area_index = tokio::task::spawn_blocking(move || AreaIndex::new(areas)).await?;
    let (cell_bytes, sub_cell_bytes) = area_index.lookup_bytes();
    index.set_areas(area_index);
    tracing::info!(
        areas = n_areas,
        ms = started.elapsed().as_millis(),
        cell_bytes,
        sub_cell_bytes,
        "areas indexed"
    );

    // Events and registers load side by side: each is half PostgreSQL sending rows, half
    // this process decoding and indexing them.
    let events = async {
        let categories = index.events(|e| e.categories().to_vec());
        let expected = store.estimate_events().await?;
        let mut builder = EventIndexBuilder::new(&categories, expected);
        let n_events = store
            .load_events(
                |e| builder.add(&e),
                |n| {
                    if n % 1_000_000 == 0 && n > 0 {
                        tracing::info!(events = n, "loading events");
                    }
                },
            )
            .await
            .context("cannot load events")?;
        let events = tokio::task::spawn_blocking(move || builder.build()).await?;
        index.set_events(events);
        anyhow::Ok(n_events)
    };
    // Ready only with the registers too: an answer from empty registers would be wrong.
    // (The workers' record loads after, see `Core::load_and_follow`.)
    let (n_events, ()) = tokio::try_join!(events, crate::registers::load(store, index))?;
    index.set_ready();
    tracing::info!(
        events = n_events,
        seconds = started.elapsed().as_secs_f64(),
        "index loaded"
    );
    Ok(())
}
