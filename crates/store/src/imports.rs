//! Imports of the registers: records validated by the service, checked here against what is
//! stored (codes already taken, references by code, ID numbers already registered, the
//! caller's scope) and written in one transaction, all or nothing.
//!
//! The registers are locked for the whole import (the same lock as the bulk write of the
//! demo), so what was checked is still true when the rows are written: a conflict found
//! here is answered as a row error, never as a failed statement. Rows are written with COPY;
//! ID numbers and phones are sealed (and the text to send encoded) on a blocking thread
//! that feeds the COPY as PostgreSQL takes it, so sealing and writing overlap.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use futures_util::{SinkExt, pin_mut};
use geo_types::MultiPolygon;
use tokio::sync::mpsc;

use super::registers::RegisterCounts;
use super::rows::get;
use super::write::row;
use super::{Result, Store, StoreError};
use minqing_model::register::{
    BuildingRecord, HouseholdRecord, NewOrganisation, NewResident, PlaceRecord, Sex, Tags,
    ThingState,
};
use minqing_model::sealed::{Field, Keys};
use minqing_model::{hex, wkb};

/// Codes (or lookup hashes) sent per query.
const QUERY_CHUNK: usize = 10_000;

/// Rows encoded per COPY message.
const COPY_ROWS: usize = 20_000;

/// The source recorded on imported buildings and places.
const SOURCE: &str = "import";

/// A building to import.
#[derive(Debug, Clone)]
pub struct ImportBuilding {
    /// The record (its id is assigned by the database; `outline` is not used).
    pub record: BuildingRecord,
    /// Its outline, when the file gave one.
    pub outline: Option<MultiPolygon<f64>>,
}

/// A place to import.
#[derive(Debug, Clone)]
pub struct ImportPlace {
    /// The record (id and building id are assigned here).
    pub record: PlaceRecord,
    /// The building it is in, by code.
    pub building_code: Option<String>,
    /// Whether the record's position was given; if not, it is the building's point.
    pub located: bool,
}

/// An organisation to import.
#[derive(Debug, Clone)]
pub struct ImportOrganisation {
    /// The record and its contact phone (id and building id are assigned here).
    pub record: NewOrganisation,
    /// The building it is in, by code.
    pub building_code: Option<String>,
    /// Whether the record's position was given; if not, it is the building's point.
    pub located: bool,
}

/// A household to import.
#[derive(Debug, Clone)]
pub struct ImportHousehold {
    /// The record (id and building id are assigned here).
    pub record: HouseholdRecord,
    /// The building it lives in, by code.
    pub building_code: String,
}

/// A resident to import.
#[derive(Debug, Clone)]
pub struct ImportResident {
    /// The resident (id and household id are assigned here).
    pub record: NewResident,
    /// The household, by code.
    pub household_code: String,
    /// The lookup hash of the ID number (computed by the caller, who holds the keys).
    pub id_lookup: Vec<u8>,
}

/// The validated rows of one import file: one register each.
#[derive(Debug, Clone)]
pub enum ImportRows {
    /// Buildings.
    Buildings(Vec<ImportBuilding>),
    /// Places.
    Places(Vec<ImportPlace>),
    /// Organisations.
    Organisations(Vec<ImportOrganisation>),
    /// Households.
    Households(Vec<ImportHousehold>),
    /// Residents.
    Residents(Vec<ImportResident>),
}

impl ImportRows {
    /// How many rows.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            ImportRows::Buildings(v) => v.len(),
            ImportRows::Places(v) => v.len(),
            ImportRows::Organisations(v) => v.len(),
            ImportRows::Households(v) => v.len(),
            ImportRows::Residents(v) => v.len(),
        }
    }

    /// Whether there is no row.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A row the database refuses: its position among the rows, the field and why (no
/// personal data in the reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportConflict {
    /// Index of the row in the [`ImportRows`] given.
    pub index: usize,
    /// The field at fault.
    pub field: &'static str,
    /// Why, in English.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Every row was written (committed).
    Stored(RegisterCounts),
    /// Nothing was written: these rows conflict with what is stored or lie outside the scope.
    Refused(Vec<ImportConflict>),
}

/// Where a referenced record is: its id and point.
#[derive(Debug, Clone, Copy)]
struct Target {
    id: i64,
    lon: f64,
    lat: f64,
}

fn bytea(b: &[u8]) -> String {
    format!("\\x{}", hex(b))
}

fn sex_code(s: Sex) -> &'static str {
    match s {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

fn tags_array(t: Tags) -> String {
    format!("{{{}}}", t.codes().join(","))
}

/// The record each row refers to (a building, or for residents a household), with its
/// point (for places and organisations without a position of their own).
struct Resolved {
    refs: Vec<Option<Target>>,
}

impl Store {
    /// The register generation (migrations/0010): it moves with every statement that
    /// writes a register.
    pub async fn register_generation(&self) -> Result<i64> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(include_str!("sql/imports/generation.sql"), &[])
            .await?;
        get(&row, "generation")
    }

    /// Imports validated rows in one transaction, all or nothing: refuses (writing nothing)
    /// rows whose code is taken, whose reference names no stored record, whose ID number
    /// is registered already, or whose point `in_scope` refuses; otherwise writes every
    /// row, sealing ID numbers and phones with `keys`. `progress(done, total)` counts the
    /// rows written.
    #[tracing::instrument(skip_all, fields(rows = rows.len()))]
    pub async fn import_registers(
        &self,
        rows: ImportRows,
        keys: &Keys,
        in_scope: &(dyn Fn(f64, f64) -> bool + Sync),
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<ImportOutcome> {
        self.check_key(keys).await?;
        let total = rows.len() as u64;
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        tx.batch_execute(include_str!("sql/registers/lock.sql"))
            .await?;
        let (conflicts, resolved) = check(&tx, &rows, in_scope).await?;
        if !conflicts.is_empty() {
            // Dropped without commit: rolled back.
            return Ok(ImportOutcome::Refused(conflicts));
        }
        let mut counts = RegisterCounts::default();
        let sql = match &rows {
            ImportRows::Buildings(_) => include_str!("sql/imports/copy_buildings.sql"),
            ImportRows::Places(_) => include_str!("sql/imports/copy_places.sql"),
            ImportRows::Organisations(_) => include_str!("sql/imports/copy_organisations.sql"),
            ImportRows::Households(_) => include_str!("sql/imports/copy_households.sql"),
            ImportRows::Residents(_) => include_str!("sql/imports/copy_residents.sql"),
        };
        let kind = match &rows {
            ImportRows::Buildings(_) => 0,
            ImportRows::Places(_) => 1,
            ImportRows::Organisations(_) => 2,
            ImportRows::Households(_) => 3,
            ImportRows::Residents(_) => 4,
        };
        let (send, mut chunks) = mpsc::channel::<(Bytes, u64)>(4);
        let keys = keys.clone();
        let encoder = tokio::task::spawn_blocking(move || encode(rows, &resolved, &keys, &send));
        let sink = tx.copy_in(sql).await?;
        pin_mut!(sink);
        let mut done = 0;
        while let Some((chunk, n)) = chunks.recv().await {
            sink.send(chunk).await?;
            done += n;
            progress(done, total);
        }
        encoder
            .await
            .map_err(|e| StoreError::Internal(format!("import encoder failed: {e}")))?;
        let written = sink.finish().await?;
        if written != total {
            return Err(StoreError::Internal(format!(
                "import wrote {written} rows of {total}"
            )));
        }
        match kind {
            0 => counts.buildings = written,
            1 => counts.places = written,
            2 => counts.organisations = written,
            3 => counts.households = written,
            _ => counts.residents = written,
        }
        tx.commit().await?;
        Ok(ImportOutcome::Stored(counts))
    }
}

/// Codes among `codes` that the query `sql` finds stored.
async fn taken(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    codes: &[&str],
) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for chunk in codes.chunks(QUERY_CHUNK) {
        for r in tx.query(sql, &[&chunk]).await? {
            out.insert(get::<String>(&r, "code")?);
        }
    }
    Ok(out)
}

/// The stored records with a code among `codes`, by the query `sql`.
async fn targets(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    codes: &[&str],
) -> Result<HashMap<String, Target>> {
    let mut uniq: Vec<&str> = codes.to_vec();
    uniq.sort_unstable();
    uniq.dedup();
    let mut out = HashMap::with_capacity(uniq.len());
    for chunk in uniq.chunks(QUERY_CHUNK) {
        for r in tx.query(sql, &[&chunk]).await? {
            out.insert(
                get::<String>(&r, "code")?,
                Target {
                    id: get(&r, "id")?,
                    lon: get(&r, "lon")?,
                    lat: get(&r, "lat")?,
                },
            );
        }
    }
    Ok(out)
}

/// One conflict per row whose code is taken.
fn code_conflicts<'a>(
    codes: impl Iterator<Item = &'a str>,
    taken: &HashSet<String>,
    what: &str,
) -> Vec<ImportConflict> {
    codes
        .enumerate()
        .filter(|(_, c)| taken.contains(*c))
        .map(|(index, c)| ImportConflict {
            index,
            field: "code",
            reason: format!("{what} code {c:?} is already stored"),
        })
        .collect()
}

const OUTSIDE: &str = "lies outside the area this token may import into";

/// Checks rows against the stored registers and the scope; resolves their references.
#[allow(clippy::too_many_lines)] // one arm per register
async fn check(
    tx: &deadpool_postgres::Transaction<'_>,
    rows: &ImportRows,
    in_scope: &(dyn Fn(f64, f64) -> bool + Sync),
) -> Result<(Vec<ImportConflict>, Resolved)> {
    let mut conflicts = Vec::new();
    let mut refs = Vec::with_capacity(rows.len());
    match rows {
        ImportRows::Buildings(v) => {
            let codes: Vec<&str> = v.iter().map(|b| b.record.code.as_str()).collect();
            let t = taken(tx, include_str!("sql/imports/buildings_taken.sql"), &codes).await?;
            conflicts.extend(code_conflicts(codes.iter().copied(), &t, "building"));
            for (index, b) in v.iter().enumerate() {
                if !in_scope(b.record.lon, b.record.lat) {
                    conflicts.push(ImportConflict {
                        index,
                        field: "location",
                        reason: format!("the building {OUTSIDE}"),
                    });
                }
                refs.push(None);
            }
        }
        ImportRows::Places(v) => {
            let codes: Vec<&str> = v.iter().map(|p| p.record.code.as_str()).collect();
            let t = taken(tx, include_str!("sql/imports/places_taken.sql"), &codes).await?;
            conflicts.extend(code_conflicts(codes.iter().copied(), &t, "place"));
            let wanted: Vec<&str> = v
                .iter()
                .filter_map(|p| p.building_code.as_deref())
                .collect();
            let found = targets(
                tx,
                include_str!("sql/imports/buildings_by_code.sql"),
                &wanted,
            )
            .await?;
            for (index, p) in v.iter().enumerate() {
                let target = located(
                    index,
                    p.building_code.as_deref(),
                    p.located.then_some((p.record.lon, p.record.lat)),
                    &found,
                    "place",
                    in_scope,
                    &mut conflicts,
                );
                refs.push(target);
            }
        }
        ImportRows::Organisations(v) => {
            let codes: Vec<&str> = v.iter().map(|o| o.record.record.code.as_str()).collect();
            let t = taken(
                tx,
                include_str!("sql/imports/organisations_taken.sql"),
                &codes,
            )
            .await?;
            conflicts.extend(code_conflicts(codes.iter().copied(), &t, "organisation"));
            let wanted: Vec<&str> = v
                .iter()
                .filter_map(|o| o.building_code.as_deref())
                .collect();
            let found = targets(
                tx,
                include_str!("sql/imports/buildings_by_code.sql"),
                &wanted,
            )
            .await?;
            for (index, o) in v.iter().enumerate() {
                let r = &o.record.record;
                let target = located(
                    index,
                    o.building_code.as_deref(),
                    o.located.then_some((r.lon, r.lat)),
                    &found,
                    "organisation",
                    in_scope,
                    &mut conflicts,
                );
                refs.push(target);
            }
        }
        ImportRows::Households(v) => {
            let codes: Vec<&str> = v.iter().map(|h| h.record.code.as_str()).collect();
            let t = taken(tx, include_str!("sql/imports/households_taken.sql"), &codes).await?;
            conflicts.extend(code_conflicts(codes.iter().copied(), &t, "household"));
            let wanted: Vec<&str> = v.iter().map(|h| h.building_code.as_str()).collect();
            let found = targets(
                tx,
                include_str!("sql/imports/buildings_by_code.sql"),
                &wanted,
            )
            .await?;
            for (index, h) in v.iter().enumerate() {
                let target = located(
                    index,
                    Some(&h.building_code),
                    None,
                    &found,
                    "household",
                    in_scope,
                    &mut conflicts,
                );
                refs.push(target);
            }
        }
        ImportRows::Residents(v) => {
            let wanted: Vec<&str> = v.iter().map(|r| r.household_code.as_str()).collect();
            let found = targets(
                tx,
                include_str!("sql/imports/households_by_code.sql"),
                &wanted,
            )
            .await?;
            let lookups: Vec<&[u8]> = v.iter().map(|r| r.id_lookup.as_slice()).collect();
            let mut registered: HashSet<Vec<u8>> = HashSet::new();
            for chunk in lookups.chunks(QUERY_CHUNK) {
                for r in tx
                    .query(include_str!("sql/imports/id_numbers_taken.sql"), &[&chunk])
                    .await?
                {
                    registered.insert(get::<Vec<u8>>(&r, "id_number_lookup")?);
                }
            }
            for (index, r) in v.iter().enumerate() {
                if registered.contains(&r.id_lookup) {
                    conflicts.push(ImportConflict {
                        index,
                        field: "id_number",
                        reason: format!(
                            "the ID number {} is already registered",
                            minqing_model::register::mask_id_number(r.record.id_number.expose())
                        ),
                    });
                }
                match found.get(&r.household_code) {
                    None => {
                        conflicts.push(ImportConflict {
                            index,
                            field: "household_code",
                            reason: format!("no household has the code {:?}", r.household_code),
                        });
                        refs.push(None);
                    }
                    Some(t) => {
                        if !in_scope(t.lon, t.lat) {
                            conflicts.push(ImportConflict {
                                index,
                                field: "household_code",
                                reason: format!("the household's building {OUTSIDE}"),
                            });
                        }
                        refs.push(Some(*t));
                    }
                }
            }
        }
    }
    conflicts.sort_by_key(|c| c.index);
    Ok((conflicts, Resolved { refs }))
}

/// Resolves the building a row names (if any) and checks the row's point (its own, or
/// else the building's) against the scope.
fn located(
    index: usize,
    building: Option<&str>,
    own: Option<(f64, f64)>,
    found: &HashMap<String, Target>,
    what: &str,
    in_scope: &(dyn Fn(f64, f64) -> bool + Sync),
    conflicts: &mut Vec<ImportConflict>,
) -> Option<Target> {
    let target = if let Some(code) = building {
        let Some(t) = found.get(code) else {
            conflicts.push(ImportConflict {
                index,
                field: "building_code",
                reason: format!("no building has the code {code:?}"),
            });
            return None;
        };
        Some(*t)
    } else {
        None
    };
    let point = own.or(target.map(|t| (t.lon, t.lat)));
    if let Some((lon, lat)) = point
        && !in_scope(lon, lat)
    {
        conflicts.push(ImportConflict {
            index,
            field: "location",
            reason: format!("the {what} {OUTSIDE}"),
        });
    }
    target
}

/// Encodes the rows as COPY text in chunks, sealing personal fields, and sends each chunk
/// with its row count (blocking: runs on its own thread).
#[allow(clippy::too_many_lines)] // one arm per register, each one COPY row
fn encode(rows: ImportRows, resolved: &Resolved, keys: &Keys, send: &mpsc::Sender<(Bytes, u64)>) {
    let mut buf = String::with_capacity(COPY_ROWS * 256);
    let mut n = 0u64;
    let flush = |buf: &mut String, n: &mut u64, last: bool| -> bool {
        if *n as usize >= COPY_ROWS || (last && *n > 0) {
            let chunk = Bytes::from(std::mem::take(buf));
            let sent = send.blocking_send((chunk, *n)).is_ok();
            *n = 0;
            return sent;
        }
        true
    };
    // The id each row refers to: a building's, or for residents a household's.
    let ref_id = |i: usize| {
        resolved
            .refs
            .get(i)
            .copied()
            .flatten()
            .map(|t| t.id.to_string())
    };
    match rows {
        ImportRows::Buildings(v) => {
            for b in v {
                let r = &b.record;
                let point = wkb::hex(&wkb::write_point(r.lon, r.lat));
                let geom = b.outline.as_ref().map_or_else(
                    || point.clone(),
                    |mp| wkb::hex(&wkb::write_multipolygon(mp)),
                );
                row(
                    &mut buf,
                    &[
                        Some(&r.code),
                        Some(&r.address),
                        Some(r.kind.code()),
                        Some(&r.floors.to_string()),
                        Some(SOURCE),
                        Some(&geom),
                        Some(&point),
                    ],
                );
                n += 1;
                if !flush(&mut buf, &mut n, false) {
                    return;
                }
            }
        }
        ImportRows::Places(v) => {
            for (i, p) in v.into_iter().enumerate() {
                let r = &p.record;
                let (lon, lat) = point_of(p.located, (r.lon, r.lat), resolved, i);
                row(
                    &mut buf,
                    &[
                        Some(&r.code),
                        Some(&r.name),
                        Some(r.kind.code()),
                        r.risk_level.map(|l| l.to_string()).as_deref(),
                        r.state.map(ThingState::code),
                        ref_id(i).as_deref(),
                        Some(SOURCE),
                        Some(&wkb::hex(&wkb::write_point(lon, lat))),
                    ],
                );
                n += 1;
                if !flush(&mut buf, &mut n, false) {
                    return;
                }
            }
        }
        ImportRows::Organisations(v) => {
            for (i, o) in v.into_iter().enumerate() {
                let r = &o.record.record;
                let (lon, lat) = point_of(o.located, (r.lon, r.lat), resolved, i);
                let (sealed, lookup) =
                    o.record.contact_phone.as_deref().map_or((None, None), |p| {
                        (
                            Some(bytea(&keys.seal(Field::Phone, p))),
                            Some(bytea(&keys.lookup(Field::Phone, p))),
                        )
                    });
                row(
                    &mut buf,
                    &[
                        Some(&r.code),
                        Some(&r.name),
                        Some(r.kind.code()),
                        ref_id(i).as_deref(),
                        r.contact_name.as_deref(),
                        sealed.as_deref(),
                        lookup.as_deref(),
                        Some(&wkb::hex(&wkb::write_point(lon, lat))),
                    ],
                );
                n += 1;
                if !flush(&mut buf, &mut n, false) {
                    return;
                }
            }
        }
        ImportRows::Households(v) => {
            for (i, h) in v.into_iter().enumerate() {
                row(
                    &mut buf,
                    &[
                        Some(&h.record.code),
                        ref_id(i).as_deref(),
                        Some(&h.record.door),
                    ],
                );
                n += 1;
                if !flush(&mut buf, &mut n, false) {
                    return;
                }
            }
        }
        ImportRows::Residents(v) => {
            for (i, r) in v.into_iter().enumerate() {
                let id = r.record.id_number.expose();
                let (ps, pl) = r.record.phone.as_deref().map_or((None, None), |p| {
                    (
                        Some(bytea(&keys.seal(Field::Phone, p))),
                        Some(bytea(&keys.lookup(Field::Phone, p))),
                    )
                });
                let rec = &r.record.record;
                row(
                    &mut buf,
                    &[
                        ref_id(i).as_deref(),
                        Some(&rec.name),
                        Some(&bytea(&keys.seal(Field::IdNumber, id))),
                        Some(&bytea(&r.id_lookup)),
                        ps.as_deref(),
                        pl.as_deref(),
                        Some(&rec.birth_date.to_string()),
                        Some(sex_code(rec.sex)),
                        Some(rec.registration.code()),
                        Some(&tags_array(rec.tags)),
                    ],
                );
                n += 1;
                if !flush(&mut buf, &mut n, false) {
                    return;
                }
            }
        }
    }
    flush(&mut buf, &mut n, true);
}

/// A row's point: its own, or else its building's.
fn point_of(located: bool, own: (f64, f64), resolved: &Resolved, i: usize) -> (f64, f64) {
    match resolved.refs.get(i).copied().flatten() {
        Some(t) if !located => (t.lon, t.lat),
        _ => own,
    }
}
