//! minqing — the people's-situation map (民情地图).
//!
//! Grid-governance areas (district → street → community → grid) and the events reported in
//! them live in PostGIS, the system of record. minqing keeps them indexed in memory — a cell
//! grid of grids, packed trees of events — and answers spatial queries over HTTP from
//! memory, with answers equal to PostGIS's own on the same data.
//!
//! # Layout
//!
//! The code is a workspace of crates whose dependencies all point down, so the compiler
//! refuses a layer that reaches up. Read them bottom-up:
//!
//! | crate | path | holds | depends on |
//! |---|---|---|---|
//! | `minqing-model` | `crates/model` | pure domain types: areas and levels, events and workflow states, the taxonomy, roles and principals, boxes, GeoJSON and WKB conversions, the aggregate rule (`privacy`), the registers' kinds, tags, ID-number checks and masks (`register`), sealing of personal data (`sealed`). No IO | — |
//! | `minqing-tiles` | `tiles` | tile math, clipping, crack-free simplification, clusters, heat bins, MVT and protobuf encoding, glyph distance fields. No IO | — |
//! | `minqing-index` | `crates/index` | the in-memory index: grids in a cell grid with PostGIS-exact point-in-polygon, events in packed trees (exact ellipsoidal nearest search), per-area counts, the tile pyramid, the registers (buildings and places in R-trees, people by household, grid profiles, coverage). No tokio, no postgres | model, tiles |
//! | `minqing-store` | `crates/store` | PostGIS: pool and outage state, migrations, the private cluster, `COPY` loads, writes acknowledged after commit, the change feed, grid plans, the registers and the access log. SQL in `crates/store/src/sql/` | model |
//! | `minqing-generate` | `crates/generate` | the deterministic Shanwei demo-data generator: areas, events, registers | model |
//! | `minqing-service` | `crates/service` | the domain operations: callers and scopes, report intake, plan publishing, the live apply path and change feed, tiles and their cache, glyphs, start-up. No axum | model, index, store, tiles |
//! | `minqing-server` | `crates/server` | axum only: state, the caller middleware, one error mapping, REST, tiles, stream, Open311, web app, OpenAPI, metrics, the accept loop | service and below |
//! | `minqing` | `.` | this facade and the `minqing` command line ([`cli`]) | all |
//!
//! The modules re-exported below keep the paths the tests and benchmarks use
//! (`minqing::store`, `minqing::app`, …).

pub mod cli;

pub use minqing_generate as generate;
pub use minqing_index as index;
pub use minqing_model as model;
pub use minqing_server as http;
pub use minqing_server::app;
pub use minqing_service as service;
pub use minqing_service::{auth, config, glyphs, live, render, tilecache};
pub use minqing_store as store;
