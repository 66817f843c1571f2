//! minqing — the people's-situation map (民情地图).
//!
//! Grid-governance areas and events live in PostGIS (the system of record), are indexed in
//! memory with R-trees, and are served over HTTP.
//!
//! # Layout
//!
//! - [`model`]: pure domain types — areas and levels, events and workflow states, the
//!   taxonomy, GeoJSON and WKB conversions.
//! - [`generate`]: the deterministic demo-data generator (Shanwei hierarchy, a year of events).
pub mod app;
pub mod cli;
pub mod config;
pub mod generate;
pub mod http;
pub mod index;
pub mod model;
pub mod store;
