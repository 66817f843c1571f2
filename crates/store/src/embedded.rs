//! A private PostgreSQL + PostGIS cluster for when no `DATABASE_URL` is given.
//!
//! The cluster lives in a project-local directory, listens only on a Unix socket inside that
//! directory (no TCP port, so several clusters never collide), and is started and stopped
//! with the system's PostgreSQL binaries (`initdb`, `pg_ctl`). PostgreSQL refuses to run as
//! root, so when minqing runs as root the cluster runs as the `postgres` system user.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Database created inside the private cluster.
pub const DATABASE: &str = "minqing";

/// Errors of the private cluster.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// No PostgreSQL server binaries were found.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin; install postgresql-15-postgis-3 (make demo does) or set DATABASE_URL"
    )]
    NoBinaries,
    /// Running as root but there is no `postgres` user to run the cluster as.
    #[error("running as root and no 'postgres' system user exists to own the cluster")]
    NoUser,
    /// A file-system step failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was attempted.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A PostgreSQL tool failed.
    #[error("{tool} failed: {output}")]
    Tool {
        /// Which tool.
        tool: String,
        /// What it printed.
        output: String,
    },
}

/// A running private cluster. Stopped when dropped, unless it was running already when
/// this handle started (another process owns it) or [`EmbeddedPostgres::keep`] is set.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin: PathBuf,
    data: PathBuf,
    socket: PathBuf,
    owner: Option<(u32, u32)>,
    keep: bool,
}

impl EmbeddedPostgres {
    /// Starts (creating on first use) the cluster under `dir`, and makes sure the `minqing`
    /// database exists. Returns once the server accepts connections.
    pub fn start(dir: &Path) -> Result<EmbeddedPostgres, EmbeddedError> {
        let bin = find_bin_dir().ok_or(EmbeddedError::NoBinaries)?;
        let owner = if is_root() {
            Some(postgres_user().ok_or(EmbeddedError::NoUser)?)
        } else {
            None
        };
        let dir = absolute(dir)?;
        let data = dir.join("data");
        let socket = dir.join("run");
        for d in [&dir, &socket] {
            std::fs::create_dir_all(d).map_err(|source| EmbeddedError::Io {
                what: "cannot create",
                path: d.clone(),
                source,
            })?;
            chown(d, owner)?;
        }
        let mut pg = EmbeddedPostgres {
            bin,
            data,
            socket,
            owner,
            keep: false,
        };
        if !pg.data.join("PG_VERSION").exists() {
            tracing::info!(dir = %pg.data.display(), "creating a private PostgreSQL cluster");
            pg.run(
                "initdb",
                &[
                    "-D",
                    &pg.data.to_string_lossy(),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
            )?;
        }
        if pg.is_running() {
            // Another minqing (a server, while this is `minqing token create`) started it
            // and stops it; stopping it here would pull the database from under that one.
            tracing::info!(socket = %pg.socket.display(), "using the private PostgreSQL already running");
            pg.keep = true;
        } else {
            let opts = format!(
                "-c listen_addresses='' -c unix_socket_directories='{}' -c max_connections=200 -c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=15min",
                pg.socket.display()
            );
            tracing::info!(socket = %pg.socket.display(), "starting the private PostgreSQL");
            pg.run(
                "pg_ctl",
                &[
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    &pg.data.to_string_lossy(),
                    "-l",
                    &pg.data.join("postgres.log").to_string_lossy(),
                    "-o",
                    &opts,
                ],
            )?;
        }
        pg.create_database()?;
        Ok(pg)
    }

    /// Keeps the cluster running after this handle is dropped (for test harnesses).
    pub fn keep(&mut self) {
        self.keep = true;
    }

    /// Connection string for the `minqing` database.
    #[must_use]
    pub fn url(&self) -> String {
        self.url_for(DATABASE)
    }

    /// Connection string for any database of the cluster.
    #[must_use]
    pub fn url_for(&self, database: &str) -> String {
        format!(
            "host={} user=postgres dbname={database}",
            self.socket.display()
        )
    }

    /// Stops the cluster (fast shutdown: sessions end, committed data is kept).
    pub fn stop(&self) -> Result<(), EmbeddedError> {
        if self.is_running() {
            tracing::info!("stopping the private PostgreSQL");
            self.run(
                "pg_ctl",
                &[
                    "stop",
                    "-w",
                    "-m",
                    "fast",
                    "-D",
                    &self.data.to_string_lossy(),
                ],
            )?;
        }
        Ok(())
    }

    fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .args(["status", "-D", &self.data.to_string_lossy()])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn create_database(&self) -> Result<(), EmbeddedError> {
        let exists = self
            .psql(
                include_str!("sql/database_exists.sql"),
                &[("database", DATABASE)],
            )
            .is_some_and(|out| out.trim() == "1");
        if !exists {
            self.run(
                "createdb",
                &[
                    "-h",
                    &self.socket.to_string_lossy(),
                    "-U",
                    "postgres",
                    DATABASE,
                ],
            )?;
        }
        Ok(())
    }

    /// Runs `sql` with psql in the `postgres` database, fed on stdin (so that psql
    /// variables, given as `vars`, are interpolated: `:'name'` is a quoted literal); returns
    /// what it printed (unaligned, tuples only), or `None` when psql could not be run.
    fn psql(&self, sql: &str, vars: &[(&str, &str)]) -> Option<String> {
        let mut cmd = self.command("psql");
        cmd.args(["-X", "-q", "-tA", "-h"])
            .arg(&self.socket)
            .args(["-U", "postgres", "-d", "postgres"]);
        for (name, value) in vars {
            cmd.arg("-v").arg(format!("{name}={value}"));
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        // Closed at the end of the statement, so that psql sees the end of its input.
        child.stdin.take()?.write_all(sql.as_bytes()).ok()?;
        let out = child.wait_with_output().ok()?;
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(tool));
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid);
        }
        cmd.current_dir("/");
        cmd
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), EmbeddedError> {
        let out = self
            .command(tool)
            .args(args)
            .output()
            .map_err(|e| EmbeddedError::Tool {
                tool: tool.to_owned(),
                output: e.to_string(),
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(EmbeddedError::Tool {
                tool: tool.to_owned(),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            })
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if !self.keep
            && let Err(e) = self.stop()
        {
            tracing::warn!(error = %e, "could not stop the private PostgreSQL");
        }
    }
}

/// The newest `/usr/lib/postgresql/N/bin` that has PostGIS installed beside it, else the
/// newest with `initdb`.
fn find_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|v| Path::new(&format!("/usr/lib/postgresql/{v}/bin/initdb")).exists())
        .collect();
    versions.sort_unstable();
    let with_postgis = versions.iter().rev().find(|v| {
        Path::new(&format!(
            "/usr/share/postgresql/{v}/extension/postgis.control"
        ))
        .exists()
    });
    with_postgis
        .or(versions.last())
        .map(|v| PathBuf::from(format!("/usr/lib/postgresql/{v}/bin")))
}

fn is_root() -> bool {
    // The effective uid is not in std; /proc/self/status has it on Linux.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn postgres_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.first() == Some(&"postgres") && f.len() > 3)
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
            .flatten()
    })
}

fn chown(path: &Path, owner: Option<(u32, u32)>) -> Result<(), EmbeddedError> {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|source| {
            EmbeddedError::Io {
                what: "cannot hand over to the postgres user",
                path: path.to_owned(),
                source,
            }
        })?;
    }
    Ok(())
}

fn absolute(dir: &Path) -> Result<PathBuf, EmbeddedError> {
    std::path::absolute(dir).map_err(|source| EmbeddedError::Io {
        what: "cannot resolve",
        path: dir.to_owned(),
        source,
    })
}
