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
    /// Reports an anonymous client may submit per minute (sustained) …
    pub reports_per_minute: u32,
    /// … and at once.
    pub reports_burst: u32,
    /// Open reports of the same category within this many metres are possible duplicates.
    pub duplicate_radius_m: f64,
    /// An overdue case is raised a level when its deadline passes, then again after each
    /// further this many seconds.
    pub escalate_every_secs: f64,
    /// How often to look for cases to raise, seconds; 0 turns escalation off.
    pub escalation_check_secs: u64,
    /// The built web app (`web/dist`).
    pub web_dir: PathBuf,
    /// Reports written together by one statement, at most.
    pub intake_batch: usize,
    /// How often to keep the review reports of periods that ended, seconds; 0: never.
    pub snapshot_check_secs: u64,
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
            reports_per_minute: 10,
            reports_burst: 20,
            duplicate_radius_m: 250.0,
            escalate_every_secs: 86_400.0,
            escalation_check_secs: 60,
            web_dir: PathBuf::from("web/dist"),
            intake_batch: minqing_store::MAX_BATCH,
            snapshot_check_secs: 3600,
        }
    }
}
