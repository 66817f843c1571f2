//! The command line: `serve`, `demo`, `migrate`, `import`, `generate`.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::app::{Database, open_database, serve};
use crate::auth::Role;
use crate::config::Config;
use crate::index::AreaIndex;
use crate::model::geojson::{
    area_record_from_feature, area_record_to_feature, event_record_from_feature,
    event_record_to_feature,
};
use crate::model::register::{CareTag, Tags};
use crate::model::{AreaRecord, EventRecord, Taxonomy};
use crate::store::Store;

mod import;
mod workers;
pub use import::import_register;
use import::{import, import_format};

/// minqing — the people's-situation map (民情地图).
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// PostgreSQL + PostGIS to use; without it minqing runs a private cluster under --data-dir.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Local state (the private cluster lives in `DATA_DIR/pg`).
    #[arg(
        long,
        env = "MINQING_DATA_DIR",
        default_value = ".minqing",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Render every tile afresh instead of caching it (for benchmarks of rendering).
    #[arg(long, env = "MINQING_NO_TILE_CACHE", global = true)]
    pub no_tile_cache: bool,
    /// Seconds between two escalation steps of an overdue case (the first is at its deadline).
    #[arg(
        long,
        env = "MINQING_ESCALATE_EVERY",
        default_value_t = 86_400.0,
        global = true
    )]
    pub escalate_every: f64,
    /// How often to look for overdue cases to raise, seconds; 0 turns escalation off.
    #[arg(
        long,
        env = "MINQING_ESCALATION_CHECK",
        default_value_t = 60,
        global = true
    )]
    pub escalation_check: u64,
    /// How often to keep the review reports of the periods that ended (day, week, month;
    /// the city and its top areas), seconds; 0 never keeps them.
    #[arg(
        long,
        env = "MINQING_SNAPSHOT_CHECK",
        default_value_t = 3600,
        global = true
    )]
    pub snapshot_check: u64,
    /// Reports an anonymous client may submit per minute.
    #[arg(
        long,
        env = "MINQING_REPORTS_PER_MINUTE",
        default_value_t = 10,
        global = true
    )]
    pub reports_per_minute: u32,
    /// Open reports of the same category within this many metres are listed as possible
    /// duplicates of a new one.
    #[arg(
        long,
        env = "MINQING_DUPLICATE_RADIUS",
        default_value_t = 250.0,
        global = true
    )]
    pub duplicate_radius: f64,
    /// Reports written by one statement at most, when they arrive together; 1 writes each
    /// alone (to compare).
    #[arg(
        long,
        env = "MINQING_INTAKE_BATCH",
        default_value_t = 64,
        value_parser = clap::value_parser!(u64).range(1..=1000),
        global = true
    )]
    pub intake_batch: u64,
    /// The built web app.
    #[arg(
        long,
        env = "MINQING_WEB_DIR",
        default_value = "web/dist",
        global = true
    )]
    pub web_dir: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "MINQING_LISTEN", default_value = "0.0.0.0:8080")]
        listen: String,
    },
    /// Load the Shanwei demo into an empty database, then serve.
    Demo {
        /// Address to listen on.
        #[arg(long, env = "MINQING_LISTEN", default_value = "0.0.0.0:8080")]
        listen: String,
        /// Seed of the generated data.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Generated events.
        #[arg(long, default_value_t = 100_000)]
        events: usize,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Make or revoke access tokens.
    Token {
        /// What to do.
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Import areas or events from GeoJSON (a FeatureCollection, or one Feature per line),
    /// or a register (buildings, households, residents, places, organisations) from CSV,
    /// Excel .xlsx or GeoJSON: checked row by row, stored all or nothing.
    Import {
        /// What the file holds.
        kind: Kind,
        /// The file.
        file: PathBuf,
        /// csv, xlsx or geojson (registers only; default: from the file's extension).
        #[arg(long)]
        format: Option<String>,
    },
    /// Generate demo data (deterministic by seed): into the database, or to files with --out.
    Generate {
        /// Seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Number of grids (default: the natural size, 200–500 households a grid).
        #[arg(long)]
        grids: Option<usize>,
        /// Number of events.
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        /// Events span the year before this date (YYYY-MM-DD; default today).
        #[arg(long)]
        end: Option<NaiveDate>,
        /// Write areas.geojson and events.geojsonl here instead of into the database.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Share of each grid's households and people given generated registers (1.0 =
        /// all; 0 = no registers).
        #[arg(long, default_value_t = 1.0)]
        register_scale: f64,
    },
    /// Manage the key that seals personal data.
    Key {
        /// What to do.
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Manage grid workers and the grids they hold.
    Worker {
        /// What to do.
        #[command(subcommand)]
        action: workers::WorkerAction,
    },
}

/// `minqing key …`.
#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Re-seal every ID number and phone under a new random key (stop the servers first):
    /// one transaction; the old key is kept as `minqing.key.retired-<time>` for old backups.
    Rotate,
}

/// `minqing token …`.
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Make a token and print it (it is shown only this once; the database keeps its hash).
    Create {
        /// admin, command, planner, field or reporter.
        #[arg(long)]
        role: String,
        /// Scope: the area (code, or id) whose subtree the token covers; none = everywhere.
        #[arg(long)]
        area: Option<String>,
        /// Who it is for (shown in case histories).
        #[arg(long)]
        name: String,
        /// Sensitive care tags it may see, comma-separated, by code or label (社区矫正,
        /// 刑满释放, 精神障碍).
        #[arg(long, value_delimiter = ',')]
        grant: Vec<String>,
        /// The grid worker (id) the token belongs to: a field token scoped to the grids the
        /// worker holds (`--area` is then not given).
        #[arg(long)]
        worker: Option<i64>,
    },
    /// Revoke every token whose name starts with a prefix.
    Revoke {
        /// Name prefix.
        #[arg(long)]
        name: String,
    },
}

/// Kinds of import file.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    /// Areas (Polygon/MultiPolygon features).
    Areas,
    /// Events (Point features).
    Events,
    /// Buildings (lon/lat columns, or GeoJSON points or outlines).
    Buildings,
    /// Households (each at a building, by its code).
    Households,
    /// Residents (each in a household, by its code).
    Residents,
    /// Service places, risk sites and public things.
    Places,
    /// Organisations.
    Organisations,
}

impl Kind {
    /// The register a kind of file holds, if it is one.
    fn register(self) -> Option<minqing_service::imports::Kind> {
        use minqing_service::imports::Kind as K;
        match self {
            Kind::Areas | Kind::Events => None,
            Kind::Buildings => Some(K::Buildings),
            Kind::Households => Some(K::Households),
            Kind::Residents => Some(K::Residents),
            Kind::Places => Some(K::Places),
            Kind::Organisations => Some(K::Organisations),
        }
    }
}

impl Cli {
    fn config(&self) -> Config {
        Config {
            database_url: self.database_url.clone(),
            data_dir: self.data_dir.clone(),
            tile_cache: !self.no_tile_cache,
            escalate_every_secs: self.escalate_every,
            escalation_check_secs: self.escalation_check,
            snapshot_check_secs: self.snapshot_check,
            reports_per_minute: self.reports_per_minute,
            duplicate_radius_m: self.duplicate_radius,
            intake_batch: usize::try_from(self.intake_batch).unwrap_or(crate::store::MAX_BATCH),
            web_dir: self.web_dir.clone(),
            ..Config::default()
        }
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config();
    match cli.command {
        Command::Serve { listen } => {
            let db = open_database(&config).await?;
            serve_on(&listen, &db, config).await
        }
        Command::Demo {
            listen,
            seed,
            events,
        } => {
            let db = open_database(&config).await?;
            if db.store.load_areas().await?.is_empty() {
                tracing::info!(
                    seed,
                    events,
                    "empty database: loading the generated Shanwei demo"
                );
                let keys = minqing_service::registers::load_keys(&config.data_dir)?;
                generate_with_registers(&db.store, seed, None, events, today(), Some((&keys, 1.0)))
                    .await?;
            } else {
                tracing::info!("database already holds areas: serving them as they are");
            }
            print_demo_tokens(&db.store).await?;
            serve_on(&listen, &db, config).await
        }
        Command::Migrate => {
            let _db = open_database(&config).await?;
            Ok(())
        }
        Command::Token { action } => {
            let db = open_database(&config).await?;
            token(&db.store, action).await
        }
        Command::Import { kind, file, format } => {
            if let Some(register) = kind.register() {
                let format = import_format(&file, format.as_deref())?;
                let keys = minqing_service::registers::load_keys(&config.data_dir)?;
                let db = open_database(&config).await?;
                import_register(&db.store, &keys, register, format, &file).await
            } else {
                let db = open_database(&config).await?;
                import(&db.store, kind, &file).await
            }
        }
        Command::Generate {
            seed,
            grids,
            events,
            end,
            out,
            register_scale,
        } => {
            let end = end.map_or_else(today, |d| {
                d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
            });
            if let Some(dir) = out {
                generate_files(&dir, seed, grids, events, end)
            } else {
                let db = open_database(&config).await?;
                let keys = minqing_service::registers::load_keys(&config.data_dir)?;
                let registers = (register_scale > 0.0).then_some((&keys, register_scale));
                generate_with_registers(&db.store, seed, grids, events, end, registers).await
            }
        }
        Command::Worker { action } => {
            let db = open_database(&config).await?;
            workers::run(&db.store, &config, action).await
        }
        Command::Key {
            action: KeyAction::Rotate,
        } => {
            let db = open_database(&config).await?;
            let pb = ProgressBar::new_spinner().with_message("re-sealing personal data");
            let r = minqing_service::registers::rotate_key(&db.store, &config.data_dir, |n| {
                pb.set_message(format!("re-sealed {n} values"));
                pb.tick();
            })
            .await?;
            pb.finish_and_clear();
            eprintln!(
                "{} values re-sealed under key {}; the new key is in {}",
                r.resealed,
                r.key_id,
                r.new_key_file.display()
            );
            if let Some(old) = &r.retired_key_file {
                eprintln!(
                    "the old key is kept in {}: it reads backups made before now; delete it when they expire",
                    old.display()
                );
            } else {
                eprintln!("MINQING_KEY is set: set it to the new key before starting the servers");
            }
            Ok(())
        }
    }
}

async fn token(store: &Store, action: TokenAction) -> anyhow::Result<()> {
    match action {
        TokenAction::Create {
            role,
            area,
            name,
            grant,
            worker,
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!("unknown role {role:?}; roles: admin, command, planner, field, reporter")
            })?;
            if worker.is_some() && (role != Role::Field || area.is_some()) {
                anyhow::bail!(
                    "--worker makes a field token scoped to the worker's grids: give --role field and no --area"
                );
            }
            let code = match area {
                None => None,
                Some(a) => Some(area_code(store, &a).await?),
            };
            let mut grants = Tags::default();
            for g in &grant {
                let tag = CareTag::parse(g)
                    .filter(|t| t.sensitive())
                    .with_context(|| {
                        format!(
                            "cannot grant {g:?}: only sensitive care tags are granted \
                             (community_correction, released, mental_disorder)"
                        )
                    })?;
                grants = grants.with(tag);
            }
            let (_, secret) = match worker {
                Some(w) => store.create_worker_token(&name, w, grants).await?,
                None => {
                    store
                        .create_token_with_grants(&name, role, code.as_deref(), grants)
                        .await?
                }
            };
            // The secret goes to stdout only (never to the log), for scripts to capture.
            writeln!(std::io::stdout().lock(), "{secret}")?;
            Ok(())
        }
        TokenAction::Revoke { name } => {
            let n = store.revoke_tokens(&name).await?;
            eprintln!("{n} token(s) revoked");
            Ok(())
        }
    }
}

/// An area code given as a code or as an id.
async fn area_code(store: &Store, given: &str) -> anyhow::Result<String> {
    let areas = AreaIndex::new(store.load_areas().await?);
    if let Some(a) = areas.by_code(given) {
        return Ok(a.code.clone());
    }
    given
        .parse::<i64>()
        .ok()
        .and_then(|id| areas.get(id))
        .map(|a| a.code.clone())
        .with_context(|| format!("no current area with code or id {given:?}"))
}

/// Makes one token per role for trying the demo (revoking the previous demo tokens) and
/// prints them.
async fn print_demo_tokens(store: &Store) -> anyhow::Result<()> {
    store.revoke_tokens("demo-").await?;
    let areas = AreaIndex::new(store.load_areas().await?);
    // The command centre watches the first district; the field worker one community of it.
    let district = areas
        .all()
        .iter()
        .find(|a| a.level == crate::model::Level::District);
    let community = district.and_then(|d| {
        areas
            .all()
            .iter()
            .find(|a| a.level == crate::model::Level::Community && areas.is_within(a.id, d.id))
    });
    let mut lines = Vec::new();
    for (role, area) in [
        (Role::Admin, None),
        (Role::Command, district),
        (Role::Planner, None),
        (Role::Field, community),
        (Role::Reporter, None),
    ] {
        let code = area.map(|a| a.code.as_str());
        let (_, secret) = store
            .create_token(&format!("demo-{}", role.as_str()), role, code)
            .await?;
        let scope = area.map_or_else(
            || "everywhere".to_owned(),
            |a| format!("{} {}", a.code, a.name),
        );
        lines.push(format!("  {:<9} {secret}  ({scope})", role.as_str()));
    }
    // On stdout, for the person trying the demo; never in the log.
    writeln!(
        std::io::stdout().lock(),
        "Demo tokens (send as `Authorization: Bearer <token>`; new ones on every start):\n{}",
        lines.join("\n")
    )?;
    Ok(())
}

async fn serve_on(listen: &str, db: &Database, config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    serve(listener, db, Arc::new(config)).await
}

fn today() -> DateTime<Utc> {
    Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

fn hierarchy(seed: u64, grids: Option<usize>) -> anyhow::Result<Vec<AreaRecord>> {
    let pb = bar(0, "areas");
    let areas = crate::generate::shanwei_hierarchy(
        &crate::generate::HierarchyOptions {
            seed,
            target_grids: grids,
        },
        &|stage, done, total| {
            pb.set_message(stage.to_owned());
            pb.set_length(total);
            pb.set_position(done);
        },
    )?;
    pb.finish_and_clear();
    tracing::info!(areas = areas.len(), "hierarchy generated");
    Ok(areas)
}

fn grids_of(areas: &[AreaRecord]) -> Vec<AreaRecord> {
    areas
        .iter()
        .filter(|a| a.level == crate::model::Level::Grid)
        .cloned()
        .collect()
}

/// The community and the townships seed 004 names as 民情地图 pilots (凤翔社区; 博美镇;
/// 河南社区, 布金村, 螺溪社区, 欧田村), whose generated registers are the richest.
pub const PILOTS: [&str; 6] = [
    "441502003005",
    "441581105",
    "441523100004",
    "441523100210",
    "441523105001",
    "441523105203",
];

/// Generates the hierarchy and events straight into the database.
pub async fn generate_into(
    store: &Store,
    seed: u64,
    grids: Option<usize>,
    events: usize,
    end: DateTime<Utc>,
) -> anyhow::Result<()> {
    generate_with_registers(store, seed, grids, events, end, None).await
}

/// [`generate_into`], and the registers of people, buildings, places and organisations
/// (at `scale` of each grid's households and population), sealed with `keys`.
pub async fn generate_with_registers(
    store: &Store,
    seed: u64,
    grids: Option<usize>,
    events: usize,
    end: DateTime<Utc>,
    registers: Option<(&crate::model::sealed::Keys, f64)>,
) -> anyhow::Result<()> {
    let areas = tokio::task::spawn_blocking(move || hierarchy(seed, grids)).await??;
    let pb = bar(areas.len() as u64, "areas");
    store
        .insert_areas(&areas, |done, total| {
            pb.set_length(total);
            pb.set_position(done);
        })
        .await?;
    pb.finish_and_clear();
    let duties = store.generate_workers_from_areas().await?;
    tracing::info!(
        duties,
        "grid workers generated from the grids' worker names"
    );
    let grid_records = grids_of(&areas);
    let registered = registers.is_some();
    if let Some((keys, scale)) = registers {
        let opts = crate::generate::RegisterOptions {
            seed,
            scale,
            pilots: PILOTS.iter().map(|s| (*s).to_owned()).collect(),
        };
        let regs =
            tokio::task::spawn_blocking(move || crate::generate::registers(&areas, &opts)).await?;
        let pb = bar(0, "registers");
        let counts = store
            .insert_registers(&regs, keys, |done, total| {
                pb.set_length(total);
                pb.set_position(done);
            })
            .await?;
        pb.finish_and_clear();
        tracing::info!(?counts, "registers stored (generated)");
    } else {
        drop(areas);
    }
    let index = AreaIndex::new(store.load_areas().await?);
    let taxonomy = Taxonomy::builtin();
    let opts = crate::generate::EventOptions {
        seed,
        count: events,
        end,
    };
    let stream = crate::generate::events(&grid_records, &taxonomy, &opts).map(Ok);
    let n = store_events(store, &index, stream, events as u64).await?;
    let attributed = store.attribute_generated_cases().await?;
    tracing::info!(
        events = n,
        attributed,
        "events stored, given to the grids' workers"
    );
    if registered {
        generate_work(store, end).await?;
    }
    Ok(())
}

/// The grid workers' generated month of work over the generated registers: visits on the
/// visit rules' rhythm (some missed) and patrol tracks.
pub async fn generate_work(store: &Store, end: DateTime<Utc>) -> anyhow::Result<()> {
    let visits = store.generate_visits(end).await?;
    let points = store.generate_patrols(end).await?;
    tracing::info!(visits, points, "visits and patrol tracks generated");
    Ok(())
}

/// Stores events in one transaction, each in the grid `index` finds for it, with a progress
/// bar (`total` = 0 when unknown).
async fn store_events(
    store: &Store,
    index: &AreaIndex,
    records: impl IntoIterator<Item = Result<EventRecord, String>>,
    total: u64,
) -> anyhow::Result<u64> {
    let pb = bar(total, "events");
    let n = store
        .insert_events(
            records,
            |lon, lat| index.locate(lon, lat).map(|g| g.id),
            |n| pb.set_position(n),
        )
        .await?;
    pb.finish_and_clear();
    Ok(n)
}

fn generate_files(
    dir: &Path,
    seed: u64,
    grids: Option<usize>,
    events: usize,
    end: DateTime<Utc>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let areas = hierarchy(seed, grids)?;
    let features: Vec<Value> = areas.iter().map(area_record_to_feature).collect();
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    let path = dir.join("areas.geojson");
    std::fs::write(&path, serde_json::to_vec(&fc)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let path = dir.join("events.geojsonl");
    let file =
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut w = BufWriter::new(file);
    let grid_records = grids_of(&areas);
    let taxonomy = Taxonomy::builtin();
    let opts = crate::generate::EventOptions {
        seed,
        count: events,
        end,
    };
    let pb = bar(events as u64, "events");
    for (i, e) in crate::generate::events(&grid_records, &taxonomy, &opts).enumerate() {
        serde_json::to_writer(&mut w, &event_record_to_feature(&e))?;
        w.write_all(b"\n")?;
        if i % 10_000 == 0 {
            pb.set_position(i as u64);
        }
    }
    w.flush()?;
    pb.finish_and_clear();
    tracing::info!(dir = %dir.display(), "generated files written");
    Ok(())
}
