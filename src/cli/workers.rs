//! `minqing worker …`: grid workers and the grids they hold.

use std::io::Write;

use anyhow::Context;
use clap::Subcommand;

use crate::config::Config;
use crate::model::register::check_phone;
use crate::model::sealed::Field;
use crate::model::worker::WorkerKind;
use crate::store::{NewWorker, Store};

/// `minqing worker …`.
#[derive(Debug, Subcommand)]
pub enum WorkerAction {
    /// Record a worker holding some grids; prints their id.
    Add {
        /// Stable code (a staff number), unique.
        #[arg(long)]
        code: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// `full_time`, `part_time` or `volunteer` (or 专职, 兼职, 志愿者).
        #[arg(long, default_value = "full_time")]
        kind: String,
        /// Mobile phone (sealed at rest with the registers' key).
        #[arg(long)]
        phone: Option<String>,
        /// Codes of the grids they take up, comma-separated.
        #[arg(long, value_delimiter = ',')]
        grid: Vec<String>,
    },
    /// Set the grids a worker holds (duties on other grids end now).
    Grids {
        /// The worker's id.
        id: i64,
        /// Codes of the grids, comma-separated (none: they hold no grid).
        #[arg(long, value_delimiter = ',')]
        grid: Vec<String>,
    },
    /// Mark a worker as gone: every duty ends now, their tokens hold no grid.
    Leave {
        /// The worker's id.
        id: i64,
    },
    /// List workers (id, code, kind, grids; names and phones are not printed).
    List {
        /// Only those holding this grid (code).
        #[arg(long)]
        grid: Option<String>,
    },
}

/// Runs a `minqing worker` command.
pub async fn run(store: &Store, config: &Config, action: WorkerAction) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match action {
        WorkerAction::Add {
            code,
            name,
            kind,
            phone,
            grid,
        } => {
            let kind = WorkerKind::parse(&kind).with_context(|| {
                format!("unknown kind {kind:?}; kinds: {}", WorkerKind::codes())
            })?;
            let phone = match phone {
                None => None,
                Some(p) => {
                    let p = check_phone(&p).map_err(|e| anyhow::anyhow!("--phone: {e}"))?;
                    let keys = minqing_service::registers::load_keys(&config.data_dir)?;
                    store.check_key(&keys).await?;
                    Some((keys.seal(Field::Phone, &p), keys.lookup(Field::Phone, &p)))
                }
            };
            let id = store
                .create_worker(&NewWorker {
                    code,
                    name,
                    kind,
                    phone,
                    generated: false,
                    grids: grid,
                })
                .await?;
            writeln!(out, "{id}")?;
        }
        WorkerAction::Grids { id, grid } => {
            if !store.set_worker_grids(id, &grid).await? {
                anyhow::bail!("no worker {id}");
            }
            eprintln!("worker {id} holds {} grid(s)", grid.len());
        }
        WorkerAction::Leave { id } => {
            if !store.set_worker_active(id, false).await? {
                anyhow::bail!("no worker {id}");
            }
            eprintln!("worker {id} has left; their duties ended");
        }
        WorkerAction::List { grid } => {
            let grids = grid.map(|g| vec![g]);
            let mut after = 0;
            loop {
                let page = store.workers(grids.as_deref(), false, after, 1000).await?;
                let Some(last) = page.last() else { break };
                after = last.id;
                for w in &page {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        w.id,
                        w.code,
                        w.kind.code(),
                        if w.active { "active" } else { "left" },
                        w.grids.join(",")
                    )?;
                }
            }
        }
    }
    Ok(())
}
