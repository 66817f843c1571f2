//! Start-up and shutdown: open the database (or the private cluster), migrate, load the
//! index, serve until a signal, stop cleanly.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::auth::RateLimit;
use crate::config::Config;
use crate::http::{AppState, app};
use crate::index::{AreaIndex, EventIndexBuilder, Index};
use crate::live::{self, Live};
use crate::model::Taxonomy;
use crate::store::{EmbeddedPostgres, Store};
use crate::tilecache::TileCache;

/// An open database, plus the private cluster if minqing started one (stopped on drop).
pub struct Database {
    /// Pool.
    pub store: Store,
    /// The private cluster, when no `DATABASE_URL` was given.
    pub embedded: Option<EmbeddedPostgres>,
}

/// Connects to `DATABASE_URL`, or starts the private cluster, then applies migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Database> {
    let (url, embedded) = match &config.database_url {
        Some(url) => (url.clone(), None),
        None => {
            let dir = config.data_dir.join("pg");
            let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&dir))
                .await
                .context("start-up task failed")?
                .context(
                    "cannot start the private PostgreSQL (set DATABASE_URL to use another server)",
                )?;
            (pg.url(), Some(pg))
        }
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

/// The shared state of a server over `store`, with an empty, not-yet-ready index.
#[must_use]
pub fn state(store: Store, config: Arc<Config>) -> AppState {
    let taxonomy = Arc::new(Taxonomy::builtin());
    let index = Arc::new(Index::new(taxonomy.codes()));
    let tiles: Arc<TileCache> = Arc::default();
    let live = Arc::new(Live::new(index.clone(), tiles.clone()));
    let reports = Arc::new(RateLimit::new(
        config.reports_per_minute,
        config.reports_burst,
    ));
    AppState {
        auth: Arc::default(),
        reports,
        web: Arc::default(),
        store,
        index,
        taxonomy,
        config,
        tiles,
        live,
    }
}

/// Loads the index, then keeps it current: follows the change feed (other instances'
/// writes, catch-up after a lost connection) and the overdue clock, in background tasks.
pub async fn load_and_follow(state: &AppState) -> anyhow::Result<()> {
    // Taken before the read: whatever commits during or after it comes again on the feed.
    let mark = state
        .store
        .watermark()
        .await
        .context("cannot read the change feed position")?;
    load_index(&state.store, &state.index).await?;
    tokio::spawn(live::follow(state.store.clone(), state.live.clone(), mark));
    tokio::spawn(live::sweep_overdue(state.live.clone()));
    if state.config.escalation_check_secs > 0 {
        tokio::spawn(live::escalate(
            state.store.clone(),
            state.live.clone(),
            state.config.clone(),
        ));
    }
    Ok(())
}

/// Loads areas and events from PostGIS into the index, logging progress.
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

    let categories = index.events(|e| e.categories().to_vec());
    let expected = store.estimate_events().await?;
    let mut builder = EventIndexBuilder::new(&categories, expected);
    let n_events = store
        .load_events(
            |e| builder.add(e),
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
    index.set_ready();
    tracing::info!(
        events = n_events,
        seconds = started.elapsed().as_secs_f64(),
        "index loaded"
    );
    Ok(())
}

/// Serves the API on `listener` until ctrl-c or SIGTERM; the index loads in the background
/// (`/readyz` answers 503 until it is done).
pub async fn serve(
    listener: TcpListener,
    db: &Database,
    config: Arc<Config>,
) -> anyhow::Result<()> {
    let state = state(db.store.clone(), config);
    let loading = state.clone();
    let (failed_tx, mut failed_rx) = tokio::sync::watch::channel(None::<String>);
    tokio::spawn(async move {
        if let Err(e) = load_and_follow(&loading).await {
            tracing::error!(error = format!("{e:#}"), "index loading failed");
            let _ = failed_tx.send(Some(format!("{e:#}")));
        }
    });
    tracing::info!(addr = %listener.local_addr()?, "serving");
    let mut failed = failed_rx.clone();
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            // Ok once loading failed; Err when the loader finished fine and dropped its sender.
            let load_failed = async move { failed.wait_for(Option::is_some).await.is_ok() };
            tokio::select! {
                () = shutdown_signal() => {},
                failed = load_failed => if !failed { shutdown_signal().await },
            }
        })
        .await
        .context("server failed")?;
    if let Some(e) = failed_rx.borrow_and_update().clone() {
        anyhow::bail!("index loading failed: {e}");
    }
    Ok(())
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
