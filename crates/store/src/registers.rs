//! The registers in PostGIS: bulk writes (personal fields sealed on the way in), loads for
//! the in-memory registers (never a sealed field), the sealed fields of one record for an
//! authorised read, exact search by lookup hash, the append-only access log and removals.
//!
//! Nothing here opens a sealed value: the caller (the service) holds the key, seals before
//! writing and opens after reading, and records the read in the access log.

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{SinkExt, StreamExt, pin_mut};
use tokio_postgres::Row;

use super::rows::get;
use super::write::row;
use super::{Result, Store, StoreError};
use minqing_model::register::{
    BuildingKind, BuildingRecord, CareTag, HouseholdRecord, OrgKind, OrganisationRecord,
    PlaceRecord, PlaceType, Registers, Registration, ResidentRecord, Sex, Tags, ThingState,
};
use minqing_model::sealed::{Field, Keys};
use minqing_model::{hex, wkb};

/// Rows sent per COPY message.
const COPY_CHUNK: usize = 1 << 20;

/// How many rows of each register a bulk write stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RegisterCounts {
    /// Buildings.
    pub buildings: u64,
    /// Places.
    pub places: u64,
    /// Organisations.
    pub organisations: u64,
    /// Households.
    pub households: u64,
    /// Residents.
    pub residents: u64,
}

/// Everything the in-memory registers hold, as loaded.
#[derive(Debug, Default)]
pub struct LoadedRegisters {
    /// Buildings, by id.
    pub buildings: Vec<BuildingRecord>,
    /// Places, by id.
    pub places: Vec<PlaceRecord>,
    /// Organisations, by id (no contact phone).
    pub organisations: Vec<OrganisationRecord>,
    /// Households, by id.
    pub households: Vec<HouseholdRecord>,
    /// Residents, by id (no ID number, no phone).
    pub residents: Vec<ResidentRecord>,
}

/// One unmasked read of personal data.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccessEntry {
    /// Row id (grows with time).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Whose token.
    pub token_id: i64,
    /// The token's name.
    pub token_name: String,
    /// Its role.
    pub role: String,
    /// Whose record was read.
    pub resident_id: i64,
    /// Which fields were shown in full.
    pub fields: Vec<String>,
    /// The purpose stated.
    pub purpose: String,
    /// The request's id (as in the server log).
    pub request_id: String,
}

/// A query of the access log.
#[derive(Debug, Clone, Default)]
pub struct AccessQuery {
    /// Only reads of this resident.
    pub resident: Option<i64>,
    /// Only reads by this token.
    pub token: Option<i64>,
    /// Only reads since.
    pub since: Option<DateTime<Utc>>,
    /// Only entries older than this id (the next page).
    pub before: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// Why a resident was removed.
pub const REMOVAL_REASONS: [&str; 4] = ["moved_away", "died", "duplicate", "error"];

/// `\x…` hex of bytes, as COPY's text format reads a `bytea`.
fn bytea(b: &[u8]) -> String {
    format!("\\x{}", hex(b))
}

fn flag(b: bool) -> &'static str {
    if b { "t" } else { "f" }
}

/// Streams COPY rows built by `each` for every item into `sql`.
async fn copy<T>(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    items: &[T],
    mut each: impl FnMut(&mut String, &T),
) -> Result<u64> {
    let sink = tx.copy_in(sql).await?;
    pin_mut!(sink);
    let mut buf = String::with_capacity(COPY_CHUNK * 2);
    for item in items {
        each(&mut buf, item);
        if buf.len() >= COPY_CHUNK {
            sink.send(Bytes::from(std::mem::take(&mut buf))).await?;
        }
    }
    sink.send(Bytes::from(buf)).await?;
    Ok(sink.finish().await?)
}

/// Offsets a record id (numbered from 1 in its batch) after the highest stored one.
fn after(base: i64, id: i64) -> String {
    (base + id).to_string()
}

impl Store {
    /// [`Store::check_key`] when personal data has been sealed already; nothing otherwise
    /// (the first write records the key).
    pub async fn check_key_if_sealed(&self, keys: &Keys) -> Result<()> {
        self.key_check(keys, false).await
    }

    /// Checks that personal data is sealed with one key only: records `keys`' public id on
    /// first use, and refuses a key other than the one the stored data was sealed with.
    pub async fn check_key(&self, keys: &Keys) -> Result<()> {
        self.key_check(keys, true).await
    }

    async fn key_check(&self, keys: &Keys, record: bool) -> Result<()> {
        let conn = self.conn().await?;
        let rows = conn
            .query(include_str!("sql/registers/key_ids.sql"), &[])
            .await?;
        let ids: Vec<String> = rows
            .iter()
            .map(|r| get::<String>(r, "key_id"))
            .collect::<Result<_>>()?;
        let mine = keys.key_id();
        if ids.is_empty() {
            if record {
                conn.execute(include_str!("sql/registers/insert_key_id.sql"), &[&mine])
                    .await?;
            }
            return Ok(());
        }
        if ids.contains(&mine) {
            Ok(())
        } else {
            Err(StoreError::Input(format!(
                "the personal data in this database was sealed with key {}, not with the key \
                 given ({mine}); start with the key file or MINQING_KEY it was written with",
                ids.join(", ")
            )))
        }
    }

    /// Writes registers in one transaction with COPY, sealing ID numbers and phones with
    /// `keys`. Record ids (1, 2, … within `r`) and references between them are numbered
    /// after the rows already stored. `progress(done, total)` counts rows.
    #[tracing::instrument(skip_all)]
    #[allow(clippy::too_many_lines)] // one COPY per register, in the order of their references
    pub async fn insert_registers(
        &self,
        r: &Registers,
        keys: &Keys,
        progress: impl Fn(u64, u64),
    ) -> Result<RegisterCounts> {
        self.check_key(keys).await?;
        let total = (r.buildings.len()
            + r.places.len()
            + r.organisations.len()
            + r.households.len()
            + r.residents.len()) as u64;
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        tx.batch_execute(include_str!("sql/registers/lock.sql"))
            .await?;
        let max = tx
            .query_one(include_str!("sql/registers/max_ids.sql"), &[])
            .await?;
        let (b0, p0, o0, h0, r0): (i64, i64, i64, i64, i64) = (
            get(&max, "buildings")?,
            get(&max, "places")?,
            get(&max, "organisations")?,
            get(&max, "households")?,
            get(&max, "residents")?,
        );
        let mut counts = RegisterCounts::default();
        let mut done = 0;
        counts.buildings = copy(
            &tx,
            include_str!("sql/registers/copy_in_buildings.sql"),
            &r.buildings,
            |buf, b| {
                let point = wkb::hex(&wkb::write_point(b.lon, b.lat));
                let geom = b.outline.as_ref().map_or_else(
                    || point.clone(),
                    |p| {
                        wkb::hex(&wkb::write_multipolygon(&geo_types::MultiPolygon(vec![
                            p.clone(),
                        ])))
                    },
                );
                row(
                    buf,
                    &[
                        Some(&after(b0, b.id)),
                        Some(&b.code),
                        Some(&b.address),
                        Some(b.kind.code()),
                        Some(&b.floors.to_string()),
                        Some(flag(b.generated)),
                        Some(&geom),
                        Some(&point),
                    ],
                );
            },
        )
        .await?;
        done += counts.buildings;
        progress(done, total);
        counts.places = copy(
            &tx,
            include_str!("sql/registers/copy_in_places.sql"),
            &r.places,
            |buf, p| {
                row(
                    buf,
                    &[
                        Some(&after(p0, p.id)),
                        Some(&p.code),
                        Some(&p.name),
                        Some(p.kind.code()),
                        p.risk_level.map(|l| l.to_string()).as_deref(),
                        p.state.map(ThingState::code),
                        p.building_id.map(|b| after(b0, b)).as_deref(),
                        Some(flag(p.generated)),
                        Some(&wkb::hex(&wkb::write_point(p.lon, p.lat))),
                    ],
                );
            },
        )
        .await?;
        done += counts.places;
        progress(done, total);
        counts.organisations = copy(
            &tx,
            include_str!("sql/registers/copy_in_organisations.sql"),
            &r.organisations,
            |buf, o| {
                let (sealed, lookup) = o.contact_phone.as_deref().map_or((None, None), |p| {
                    (
                        Some(bytea(&keys.seal(Field::Phone, p))),
                        Some(bytea(&keys.lookup(Field::Phone, p))),
                    )
                });
                let rec = &o.record;
                row(
                    buf,
                    &[
                        Some(&after(o0, rec.id)),
                        Some(&rec.code),
                        Some(&rec.name),
                        Some(rec.kind.code()),
                        rec.building_id.map(|b| after(b0, b)).as_deref(),
                        rec.contact_name.as_deref(),
                        sealed.as_deref(),
                        lookup.as_deref(),
                        Some(flag(rec.generated)),
                        Some(&wkb::hex(&wkb::write_point(rec.lon, rec.lat))),
                    ],
                );
            },
        )
        .await?;
        done += counts.organisations;
        progress(done, total);
        counts.households = copy(
            &tx,
            include_str!("sql/registers/copy_in_households.sql"),
            &r.households,
            |buf, h| {
                row(
                    buf,
                    &[
                        Some(&after(h0, h.id)),
                        Some(&h.code),
                        Some(&after(b0, h.building_id)),
                        Some(&h.door),
                        Some(flag(h.generated)),
                    ],
                );
            },
        )
        .await?;
        done += counts.households;
        progress(done, total);
        // Residents in chunks, so that the progress moves.
        for chunk in r.residents.chunks(100_000) {
            counts.residents += copy(
                &tx,
                include_str!("sql/registers/copy_in_residents.sql"),
                chunk,
                |buf, n| {
                    let id = n.id_number.expose();
                    let (ps, pl) = n.phone.as_deref().map_or((None, None), |p| {
                        (
                            Some(bytea(&keys.seal(Field::Phone, p))),
                            Some(bytea(&keys.lookup(Field::Phone, p))),
                        )
                    });
                    let rec = &n.record;
                    row(
                        buf,
                        &[
                            Some(&after(r0, rec.id)),
                            Some(&after(h0, rec.household_id)),
                            Some(&rec.name),
                            Some(&bytea(&keys.seal(Field::IdNumber, id))),
                            Some(&bytea(&keys.lookup(Field::IdNumber, id))),
                            ps.as_deref(),
                            pl.as_deref(),
                            Some(&rec.birth_date.to_string()),
                            Some(sex_code(rec.sex)),
                            Some(rec.registration.code()),
                            Some(&tags_array(rec.tags)),
                            Some(flag(rec.generated)),
                        ],
                    );
                },
            )
            .await?;
            done += chunk.len() as u64;
            progress(done, total);
        }
        tx.query_one(include_str!("sql/registers/reset_sequences.sql"), &[])
            .await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Reads every register for the in-memory registers; `progress(what, rows)` as each
    /// register is read.
    #[tracing::instrument(skip_all)]
    pub async fn load_registers(&self, progress: impl Fn(&str, u64)) -> Result<LoadedRegisters> {
        let mut out = LoadedRegisters::default();
        self.stream(include_str!("sql/registers/load_buildings.sql"), |r| {
            let id = get(r, "id")?;
            out.buildings.push(BuildingRecord {
                id,
                code: get(r, "code")?,
                address: get(r, "address")?,
                kind: parse(get(r, "kind")?, BuildingKind::parse, "building", id)?,
                floors: get(r, "floors")?,
                lon: get(r, "lon")?,
                lat: get(r, "lat")?,
                outline: None,
                generated: get(r, "generated")?,
            });
            Ok(())
        })
        .await?;
        progress("buildings", out.buildings.len() as u64);
        self.stream(include_str!("sql/registers/load_places.sql"), |r| {
            let id = get(r, "id")?;
            let state: Option<&str> = get(r, "state")?;
            out.places.push(PlaceRecord {
                id,
                code: get(r, "code")?,
                name: get(r, "name")?,
                kind: parse(get(r, "type")?, PlaceType::parse, "place", id)?,
                risk_level: get(r, "risk_level")?,
                state: state
                    .map(|s| parse(s, ThingState::parse, "place", id))
                    .transpose()?,
                building_id: get(r, "building_id")?,
                lon: get(r, "lon")?,
                lat: get(r, "lat")?,
                generated: get(r, "generated")?,
            });
            Ok(())
        })
        .await?;
        progress("places", out.places.len() as u64);
        self.stream(include_str!("sql/registers/load_organisations.sql"), |r| {
            let id = get(r, "id")?;
            out.organisations.push(OrganisationRecord {
                id,
                code: get(r, "code")?,
                name: get(r, "name")?,
                kind: parse(get(r, "kind")?, OrgKind::parse, "organisation", id)?,
                building_id: get(r, "building_id")?,
                contact_name: get(r, "contact_name")?,
                lon: get(r, "lon")?,
                lat: get(r, "lat")?,
                generated: get(r, "generated")?,
            });
            Ok(())
        })
        .await?;
        progress("organisations", out.organisations.len() as u64);
        self.stream(include_str!("sql/registers/load_households.sql"), |r| {
            out.households.push(HouseholdRecord {
                id: get(r, "id")?,
                code: get(r, "code")?,
                building_id: get(r, "building_id")?,
                door: get(r, "door")?,
                generated: get(r, "generated")?,
            });
            Ok(())
        })
        .await?;
        progress("households", out.households.len() as u64);
        self.stream(include_str!("sql/registers/load_residents.sql"), |r| {
            let id = get(r, "id")?;
            let tags: Vec<&str> = get(r, "tags")?;
            let mut set = Tags::default();
            for t in tags {
                set = set.with(parse(t, CareTag::parse, "resident", id)?);
            }
            out.residents.push(ResidentRecord {
                id,
                household_id: get(r, "household_id")?,
                name: get(r, "name")?,
                birth_date: get::<NaiveDate>(r, "birth_date")?,
                sex: parse(get(r, "sex")?, parse_sex, "resident", id)?,
                registration: parse(get(r, "registration")?, Registration::parse, "resident", id)?,
                tags: set,
                generated: get(r, "generated")?,
            });
            Ok(())
        })
        .await?;
        progress("residents", out.residents.len() as u64);
        Ok(out)
    }

    /// Runs `sql` (no parameters) and hands each row to `each` as it arrives.
    async fn stream(&self, sql: &str, mut each: impl FnMut(&Row) -> Result<()>) -> Result<()> {
        let conn = self.conn().await?;
        let rows = conn
            .query_raw(
                sql,
                std::iter::empty::<&(dyn tokio_postgres::types::ToSql + Sync)>(),
            )
            .await?;
        pin_mut!(rows);
        while let Some(r) = rows.next().await {
            each(&r?)?;
        }
        Ok(())
    }

    /// The sealed ID number and phone of resident `id` (`None`: no such resident).
    pub async fn resident_sealed(&self, id: i64) -> Result<Option<(Vec<u8>, Option<Vec<u8>>)>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(include_str!("sql/registers/resident_sealed.sql"), &[&id])
            .await?;
        row.map(|r| Ok((get(&r, "id_number_sealed")?, get(&r, "phone_sealed")?)))
            .transpose()
    }

    /// The sealed contact phone of organisation `id` (outer `None`: no such organisation).
    pub async fn organisation_sealed(&self, id: i64) -> Result<Option<Option<Vec<u8>>>> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                include_str!("sql/registers/organisation_sealed.sql"),
                &[&id],
            )
            .await?;
        row.map(|r| get(&r, "contact_phone_sealed")).transpose()
    }

    /// Residents whose ID number or phone is exactly `value` (compared by lookup hash).
    pub async fn residents_by_exact(&self, keys: &Keys, value: &str) -> Result<Vec<i64>> {
        let conn = self.conn().await?;
        let rows = conn
            .query(
                include_str!("sql/registers/residents_by_lookup.sql"),
                &[
                    &keys.lookup(Field::IdNumber, value),
                    &keys.lookup(Field::Phone, value),
                ],
            )
            .await?;
        rows.iter().map(|r| get(r, "id")).collect()
    }

    /// Ids of the events that name any of `links`, newest first, at most `limit`.
    pub async fn events_linked(
        &self,
        links: &[minqing_model::register::RegisterLink],
        limit: i64,
    ) -> Result<Vec<i64>> {
        use minqing_model::register::LinkKind;
        let ids = |k: LinkKind| -> Vec<i64> {
            links.iter().filter(|l| l.kind == k).map(|l| l.id).collect()
        };
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/registers/events_linked.sql"))
            .await?;
        let rows = conn
            .query(
                &stmt,
                &[
                    &ids(LinkKind::Building),
                    &ids(LinkKind::Place),
                    &ids(LinkKind::Organisation),
                    &ids(LinkKind::Household),
                    &limit,
                ],
            )
            .await?;
        rows.iter().map(|r| get(r, "id")).collect()
    }

    /// Re-seals every ID number and phone under `new` (key rotation), in one transaction:
    /// each value is opened with `old`, sealed with `new` and given its new lookup hash,
    /// and `new`'s public id replaces `old`'s. `progress(done)` counts values. Fails, and
    /// changes nothing, when `old` is not the key the data was sealed with or a value does
    /// not open with it.
    pub async fn reseal(&self, old: &Keys, new: &Keys, progress: impl Fn(u64)) -> Result<u64> {
        self.check_key_if_sealed(old).await?;
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        tx.batch_execute(include_str!("sql/registers/reseal_begin.sql"))
            .await?;
        let mut done = 0u64;
        loop {
            let rows = tx
                .query(include_str!("sql/registers/reseal_fetch.sql"), &[])
                .await?;
            if rows.is_empty() {
                break;
            }
            let mut items = Vec::with_capacity(rows.len());
            for r in &rows {
                let kind: String = get(r, "kind")?;
                let id: i64 = get(r, "id")?;
                let first_field = if kind == "resident" {
                    Field::IdNumber
                } else {
                    Field::Phone
                };
                let open = |field: Field, col: &str| -> Result<Option<String>> {
                    get::<Option<Vec<u8>>>(r, col)?
                        .map(|b| {
                            old.open(field, &b).ok_or_else(|| {
                                StoreError::Input(format!(
                                    "the {kind} {id} does not open with the current key; \
                                     nothing was changed"
                                ))
                            })
                        })
                        .transpose()
                };
                let first = open(first_field, "first")?;
                let second = open(Field::Phone, "second")?;
                let seal = |field: Field, v: Option<String>| {
                    v.map_or((None, None), |v| {
                        (
                            Some(bytea(&new.seal(field, &v))),
                            Some(bytea(&new.lookup(field, &v))),
                        )
                    })
                };
                let (fs, fl) = seal(first_field, first);
                let (ss, sl) = seal(Field::Phone, second);
                items.push((id.to_string(), kind, fs, fl, ss, sl));
            }
            copy(
                &tx,
                include_str!("sql/registers/reseal_copy.sql"),
                &items,
                |buf, (id, kind, fs, fl, ss, sl)| {
                    row(
                        buf,
                        &[
                            Some(id),
                            Some(kind),
                            fs.as_deref(),
                            fl.as_deref(),
                            ss.as_deref(),
                            sl.as_deref(),
                        ],
                    );
                },
            )
            .await?;
            done += items.len() as u64;
            progress(done);
        }
        tx.batch_execute(include_str!("sql/registers/reseal_apply.sql"))
            .await?;
        tx.execute(
            include_str!("sql/registers/insert_key_id.sql"),
            &[&new.key_id()],
        )
        .await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Records an unmasked read (committed before the data is shown).
    #[allow(clippy::too_many_arguments)] // one column each, as the log has them
    pub async fn log_access(
        &self,
        token_id: i64,
        token_name: &str,
        role: &str,
        resident_id: i64,
        fields: &[&str],
        purpose: &str,
        request_id: &str,
    ) -> Result<i64> {
        let conn = self.conn().await?;
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        let row = conn
            .query_one(
                include_str!("sql/registers/insert_access.sql"),
                &[
                    &token_id,
                    &token_name,
                    &role,
                    &resident_id,
                    &fields,
                    &purpose,
                    &request_id,
                ],
            )
            .await?;
        get(&row, "id")
    }

    /// Entries of the access log, newest first.
    pub async fn access_log(&self, q: &AccessQuery) -> Result<Vec<AccessEntry>> {
        let conn = self.conn().await?;
        let rows = conn
            .query(
                include_str!("sql/registers/access_log.sql"),
                &[&q.resident, &q.token, &q.since, &q.before, &q.limit],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AccessEntry {
                    id: get(r, "id")?,
                    at: get(r, "at")?,
                    token_id: get(r, "token_id")?,
                    token_name: get(r, "token_name")?,
                    role: get(r, "role")?,
                    resident_id: get(r, "resident_id")?,
                    fields: get(r, "fields")?,
                    purpose: get(r, "purpose")?,
                    request_id: get(r, "request_id")?,
                })
            })
            .collect()
    }

    /// Removes resident `id` with `reason` (one of [`REMOVAL_REASONS`]); `false` when there
    /// is no such resident.
    pub async fn remove_resident(&self, id: i64, reason: &str, token_id: i64) -> Result<bool> {
        if !REMOVAL_REASONS.contains(&reason) {
            return Err(StoreError::Input(format!(
                "reason must be one of {}",
                REMOVAL_REASONS.join(", ")
            )));
        }
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                include_str!("sql/registers/remove_resident.sql"),
                &[&id, &reason, &token_id],
            )
            .await?;
        Ok(row.is_some())
    }
}

fn parse<T>(s: &str, f: impl Fn(&str) -> Option<T>, what: &'static str, id: i64) -> Result<T> {
    f(s).ok_or_else(|| StoreError::Invalid {
        what,
        id,
        detail: format!("code {s:?}"),
    })
}

fn parse_sex(s: &str) -> Option<Sex> {
    match s {
        "male" => Some(Sex::Male),
        "female" => Some(Sex::Female),
        _ => None,
    }
}

fn sex_code(s: Sex) -> &'static str {
    match s {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

/// A text array literal of tag codes (`{a,b}`); codes are plain ASCII words.
fn tags_array(t: Tags) -> String {
    format!("{{{}}}", t.codes().join(","))
}
