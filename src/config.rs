//! Settings, from flags and the environment.

use std::path::PathBuf;

/// Runtime settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// PostgreSQL connection string; `None` starts the private cluster.
    pub database_url: Option<String>,
    /// Directory of the private cluster and other local state.
    pub data_dir: PathBuf,
    /// Database connections in the pool.
    pub pool_size: usize,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: usize,
    /// Largest bbox side accepted by listings, degrees.
    pub max_bbox_deg: f64,
    /// Keep rendered tiles (off only to measure rendering).
    pub tile_cache: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: None,
            data_dir: PathBuf::from(".minqing"),
            pool_size: 32,
            max_body_bytes: 64 * 1024,
            max_bbox_deg: 2.0,
            tile_cache: true,
        }
    }
}
