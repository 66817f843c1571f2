//! The registers as the service offers them: the key that seals personal data, loading the
//! registers into memory, and the one path by which a personal field is shown in full
//! (role, scope and a stated purpose checked, the read recorded and committed first).
//!
//! Who sees what:
//! - anonymous callers and residents (`reporter` tokens): buildings, places and
//!   organisations (no contact person), and counts of households and residents of at least
//!   [`MIN_REGISTER_COUNT`] (smaller ones are shown as `"<5"`); never a person;
//! - `admin`, `command` and `field` tokens: the people of their scope, masked
//!   (张*明, 441502********1234, 138****8000); in full only one resident at a time, with a
//!   purpose, each read in the access log;
//! - `planner` tokens: the buildings and counts of their scope, no person;
//! - sensitive care tags (社区矫正, 刑满释放, 精神障碍): `admin` tokens, and the people-reading
//!   tokens granted them (`minqing token create --grant`).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;

use crate::Core;
use crate::auth::{Caller, Denied, Scope};
use minqing_index::GridSet;
use minqing_index::registers::RegisterIndex;
use minqing_model::Role;
use minqing_model::register::Tags;
use minqing_model::sealed::{Field, Keys, new_key, parse_key};
use minqing_store::{Store, StoreError};

/// The smallest count of people or households shown to a caller who may not see them.
pub const MIN_REGISTER_COUNT: u64 = 5;

/// The name of the key file in the data directory.
pub const KEY_FILE: &str = "minqing.key";

/// The master key: `MINQING_KEY` (64 hex digits) when set, else the key file in
/// `data_dir`, created (mode 0600) with a new random key when missing.
pub fn load_keys(data_dir: &Path) -> anyhow::Result<Keys> {
    if let Ok(text) = std::env::var("MINQING_KEY") {
        let key = parse_key(&text).map_err(|e| anyhow::anyhow!("MINQING_KEY: {e}"))?;
        return Ok(Keys::new(&key));
    }
    let path = data_dir.join(KEY_FILE);
    if !path.exists() {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        write_private(&path, &new_key())?;
        tracing::warn!(
            file = %path.display(),
            "a new key for personal data was created: keep a copy outside this machine, \
             without it the ID numbers and phones stored cannot be read"
        );
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    let key = parse_key(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Keys::new(&key))
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt as _;
    // Written whole under a private name, then linked in place: a process that starts at
    // the same moment finds either no key or the whole key, and the first one wins.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    o.mode(0o600);
    let mut f = o
        .open(&tmp)
        .with_context(|| format!("cannot create the key file {}", tmp.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    drop(f);
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create the key file {}", path.display())),
    }
}

/// The name a new key is written under while a rotation runs.
pub const NEW_KEY_FILE: &str = "minqing.key.new";

/// What a key rotation did.
#[derive(Debug)]
pub struct Rotation {
    /// Values re-sealed (ID numbers and phones).
    pub resealed: u64,
    /// The new key's public id.
    pub key_id: String,
    /// Where the new key is: the key file (now holding it), or, when the key came from
    /// `MINQING_KEY`, the file to set `MINQING_KEY` from.
    pub new_key_file: std::path::PathBuf,
    /// Where the old key was kept (key file only): needed to read backups made before.
    pub retired_key_file: Option<std::path::PathBuf>,
}

/// Rotates the key of personal data: a new random key, every ID number and phone re-sealed
/// under it in one transaction (and given new lookup hashes), then the key file replaced
/// (the old key kept beside it as `minqing.key.retired-<time>`, for backups made before).
/// With `MINQING_KEY` the new key is left in [`NEW_KEY_FILE`] for the operator to set.
///
/// Servers must be stopped first: they hold the old key. A rotation interrupted after the
/// commit is finished by running it again (the new key file is recognised by the
/// database's key id).
pub async fn rotate_key(
    store: &Store,
    data_dir: &Path,
    progress: impl Fn(u64),
) -> anyhow::Result<Rotation> {
    let from_env = std::env::var("MINQING_KEY").is_ok();
    let path = data_dir.join(KEY_FILE);
    let new_path = data_dir.join(NEW_KEY_FILE);
    let old = load_keys(data_dir)?;
    let retire = |new: &Keys| -> anyhow::Result<Rotation> {
        let mut retired = None;
        if !from_env {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
            let r = data_dir.join(format!("{KEY_FILE}.retired-{stamp}"));
            std::fs::rename(&path, &r)
                .with_context(|| format!("cannot move the old key to {}", r.display()))?;
            std::fs::rename(&new_path, &path)
                .with_context(|| format!("cannot move the new key to {}", path.display()))?;
            retired = Some(r);
        }
        Ok(Rotation {
            resealed: 0,
            key_id: new.key_id(),
            new_key_file: if from_env {
                new_path.clone()
            } else {
                path.clone()
            },
            retired_key_file: retired,
        })
    };
    // A rotation that committed but did not swap the files: finish it.
    if new_path.exists() {
        let text = std::fs::read_to_string(&new_path)?;
        let new = Keys::new(&parse_key(&text).map_err(|e| anyhow::anyhow!("{e}"))?);
        if store.check_key_if_sealed(&old).await.is_err()
            && store.check_key_if_sealed(&new).await.is_ok()
        {
            return retire(&new);
        }
        std::fs::remove_file(&new_path)?;
    }
    let text = new_key();
    write_private(&new_path, &text)?;
    let new = Keys::new(&parse_key(&text).map_err(|e| anyhow::anyhow!("{e}"))?);
    let resealed = match store.reseal(&old, &new, progress).await {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&new_path);
            return Err(anyhow::Error::new(e).context("the key was not rotated"));
        }
    };
    let mut r = retire(&new)?;
    r.resealed = resealed;
    Ok(r)
}

/// Loads the registers from the store into memory, located in the current grids.
pub async fn load(store: &Store, index: &minqing_index::Index) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let r = store
        .load_registers(|what, n| tracing::debug!(what, rows = n, "register loaded"))
        .await
        .context("cannot load the registers")?;
    let areas = index.areas();
    let today = index.now().date_naive();
    let ix = tokio::task::spawn_blocking(move || {
        RegisterIndex::new(
            r.buildings,
            r.places,
            r.organisations,
            r.households,
            r.residents,
            &areas,
            today,
        )
    })
    .await?;
    let [b, p, o, h, r] = ix.counts();
    index.set_registers(ix);
    tracing::info!(
        buildings = b,
        places = p,
        organisations = o,
        households = h,
        residents = r,
        seconds = started.elapsed().as_secs_f64(),
        "registers loaded"
    );
    Ok(())
}

/// What a caller may see of the people in the registers.
#[derive(Debug, Clone)]
pub enum PeopleView {
    /// People of these grids (`None`: everywhere), masked; sensitive tags as granted.
    Masked {
        /// The grids, or everywhere.
        grids: Option<Arc<GridSet>>,
        /// Sensitive tags the caller may see.
        granted: Tags,
    },
    /// No person; counts of at least [`MIN_REGISTER_COUNT`] only.
    CountsOnly,
}

/// Whether a role reads the people of its scope (masked).
#[must_use]
pub fn reads_people(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Command | Role::Field)
}

impl Core {
    /// The keys of personal data (set by [`Core::load_and_follow`]).
    pub fn keys(&self) -> Result<&Keys, StoreError> {
        self.keys
            .get()
            .ok_or_else(|| StoreError::Internal("the personal-data key is not loaded".into()))
    }

    /// What `caller` may see of people.
    #[must_use]
    pub fn people_view(&self, caller: &Caller) -> PeopleView {
        let Some(p) = &caller.principal else {
            return PeopleView::CountsOnly;
        };
        if !reads_people(p.role) {
            return PeopleView::CountsOnly;
        }
        let granted = if p.role == Role::Admin {
            Tags::sensitive()
        } else {
            Tags(p.grants.0 & Tags::sensitive().0)
        };
        match self.auth.scope(caller, &self.index.areas()) {
            Scope::All => PeopleView::Masked {
                grids: None,
                granted,
            },
            Scope::Area(s) => PeopleView::Masked {
                grids: Some(s),
                granted,
            },
            Scope::Own(_) | Scope::Nothing => PeopleView::CountsOnly,
        }
    }

    /// The grids whose registers `caller` may list (`None`: all). Anonymous callers and
    /// residents see the public registers (buildings, places, organisations) everywhere;
    /// a scoped token sees its subtree only.
    #[must_use]
    pub fn register_grids(&self, caller: &Caller) -> Option<Arc<GridSet>> {
        match &caller.principal {
            None => None,
            Some(p) if p.role == Role::Reporter => None,
            Some(_) => self.scope_grids(caller),
        }
    }

    /// The ID number and phone of resident `id` in full, for `caller` with `purpose`: the
    /// read is recorded (and committed) before the values are returned. `Ok(None)`: no such
    /// resident in the caller's scope.
    pub async fn unmask_resident(
        &self,
        caller: &Caller,
        id: i64,
        purpose: &str,
        request_id: &str,
    ) -> Result<Option<(String, Option<String>)>, UnmaskError> {
        let Some(p) = &caller.principal else {
            return Err(UnmaskError::Denied(Denied::NoToken));
        };
        let PeopleView::Masked { grids, .. } = self.people_view(caller) else {
            return Err(UnmaskError::Denied(Denied::Forbidden(format!(
                "a {} token may not read personal data",
                p.role.as_str()
            ))));
        };
        let regs = self.index.registers();
        let Some((_, _, _, grid)) = regs.resident(id) else {
            return Ok(None);
        };
        if grids.as_ref().is_some_and(|g| !g.has_grid(Some(grid))) {
            return Ok(None);
        }
        let keys = self.keys()?;
        let Some((id_sealed, phone_sealed)) = self.store.resident_sealed(id).await? else {
            return Ok(None);
        };
        let id_number = keys
            .open(Field::IdNumber, &id_sealed)
            .ok_or_else(|| StoreError::Internal(format!("resident {id}: ID number unreadable")))?;
        let phone = phone_sealed
            .map(|s| {
                keys.open(Field::Phone, &s)
                    .ok_or_else(|| StoreError::Internal(format!("resident {id}: phone unreadable")))
            })
            .transpose()?;
        let mut fields = vec!["id_number"];
        if phone.is_some() {
            fields.push("phone");
        }
        self.store
            .log_access(
                p.token_id,
                &p.name,
                p.role.as_str(),
                id,
                &fields,
                purpose,
                request_id,
            )
            .await?;
        Ok(Some((id_number, phone)))
    }
}

/// Why a personal field was not shown in full.
#[derive(Debug, thiserror::Error)]
pub enum UnmaskError {
    /// The caller may not read personal data.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The store failed (nothing was shown).
    #[error(transparent)]
    Store(#[from] StoreError),
}
