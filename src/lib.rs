//! minqing — the people's-situation map (民情地图).
//!
//! Grid-governance areas (district → street → community → grid) and the events reported in
//! them live in PostGIS, the system of record. minqing keeps them indexed in memory — a cell
//! grid of grids, packed trees of events — and answers spatial queries over HTTP from
//! memory, with answers equal to PostGIS's own on the same data.
//!
//! # Layout
//!
//! A newcomer can read the modules in this order:
//!
//! - [`model`]: pure domain types — areas and levels, events and workflow states, the event
//!   taxonomy, GeoJSON and WKB conversions. No IO.
//! - [`store`]: PostGIS — the connection pool, numbered migrations, the private cluster used
//!   when no `DATABASE_URL` is given, bulk reads by binary `COPY`, and writes that are
//!   acknowledged only after commit (reports arriving together share one statement and one
//!   commit); grid planning drafts. SQL lives in `src/store/sql/*.sql`.
//! - [`index`]: the in-memory index — grids in a uniform cell grid (crowded cells cut
//!   again) and upper levels in an R-tree, with PostGIS-exact point-in-polygon, and what
//!   tiles draw of each area laid out flat in slot order (boundaries in 32-bit Web-Mercator
//!   world coordinates, code and name labels: few cache misses, no trigonometry); events in
//!   packed trees (open and finished, arrivals since the build in a bucket grid beside
//!   each) with earth-centred positions inline, for exact ellipsoidal nearest search, bbox
//!   and paging (columns in
//!   Morton order of position); per-area open/overdue counts; a pyramid of event counts per
//!   tile (zooms 3–16) for low-zoom clusters and heat.
//! - [`auth`]: bearer tokens (stored hashed), roles, area scopes, the anonymous report
//!   rate limit.
//! - [`http`]: axum routers, strict extractors and the JSON error type; `http::app` builds
//!   the router shared by `main` and the tests.
//! - [`glyphs`]: signed-distance-field glyphs for map labels, made from an installed font.
//! - [`render`]: vector tiles (areas, events and clusters, heat) from the index, encoded by
//!   `minqing-tiles`: rings projected, clipped and simplified in flat buffers, properties
//!   that many events share entered once per tile. Cheap tiles are drawn on the request's
//!   task, others on the blocking pool (`http::tiles`).
//! - [`tilecache`]: encoded tiles with gzip bytes and ETags, invalidated precisely per
//!   change.
//! - [`live`]: the one path every committed change takes (index, area counts, tiles,
//!   stream), fed by this instance's writes and by the database's change feed
//!   (LISTEN/NOTIFY), so that several instances stay current.
//! - [`app`]: start-up (database, migrations, index loading) and graceful shutdown.
//! - [`cli`]: the `minqing` command line (`serve`, `demo`, `migrate`, `import`, `generate`,
//!   `token`).
//! - [`generate`]: the deterministic Shanwei demo-data generator.
//! - [`config`]: settings and limits.
//!
//! The `minqing-tiles` crate (`tiles/`) holds tile math, clipping, simplification,
//! clustering and MVT encoding — pure, no IO.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub use minqing_generate as generate;
pub mod glyphs;
pub mod http;
pub use minqing_index as index;
pub mod live;
pub use minqing_model as model;
pub mod render;
pub use minqing_store as store;
pub mod tilecache;
