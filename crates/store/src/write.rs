//! Writes: single reports (acknowledged after commit) and bulk loads (COPY, one transaction).

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use futures_util::{SinkExt, pin_mut};
use geo::Validation;

use super::intake::{InsertedEvent, Report, ReportedBy};
use super::rows::get;
use super::{Result, Store, StoreError};
use minqing_model::{AreaRecord, Event, EventRecord, NewEvent, wkb};

use crate::rows::event_from_row;

/// Rows sent to COPY per message.
const COPY_CHUNK: usize = 256 * 1024;

impl Store {
    /// Stores a new report, its reporter contact, photo and first history entry atomically
    /// and returns once committed; reports arriving together share one statement and one
    /// commit (see `store/intake.rs`). With an idempotency key already used, stores nothing
    /// and returns the first event.
    #[tracing::instrument(skip_all, fields(category = %new.category))]
    pub async fn insert_event(
        &self,
        new: NewEvent,
        priority: i16,
        grid_id: Option<i64>,
        idempotency_key: Option<&str>,
        by: ReportedBy,
        actor: &str,
    ) -> Result<InsertedEvent> {
        self.intake(Report {
            new,
            priority,
            grid_id,
            idempotency_key: idempotency_key.map(str::to_owned),
            reporter_token: by.token,
            reporter_worker: by.worker,
            actor: actor.to_owned(),
        })
        .await
    }

    /// A case's photo: (content type, bytes).
    pub async fn photo(&self, id: i64) -> Result<Option<(String, Vec<u8>)>> {
        let conn = self.conn().await?;
        let stmt = conn.prepare_cached(include_str!("sql/photo.sql")).await?;
        conn.query_opt(&stmt, &[&id])
            .await?
            .map(|r| Ok((get(&r, "content_type")?, get(&r, "bytes")?)))
            .transpose()
    }

    /// Whether a case has a photo.
    pub async fn has_photo(&self, id: i64) -> Result<bool> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/has_photo.sql"))
            .await?;
        Ok(conn.query_opt(&stmt, &[&id]).await?.is_some())
    }

    /// Reads one event's public fields.
    pub async fn event(&self, id: i64) -> Result<Option<Event>> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/select_event.sql"))
            .await?;
        conn.query_opt(&stmt, &[&id])
            .await?
            .map(|row| event_from_row(&row))
            .transpose()
    }

    /// Stores areas in one transaction, parents before children; `parent_code` may name an
    /// area of the same batch or a current area already stored. Every geometry is checked for
    /// validity first; nothing is written if any record is refused. Returns the number stored.
    #[tracing::instrument(skip_all, fields(n = records.len()))]
    pub async fn insert_areas(
        &self,
        records: &[AreaRecord],
        progress: impl Fn(u64, u64),
    ) -> Result<u64> {
        let mut order: Vec<&AreaRecord> = records.iter().collect();
        order.sort_by_key(|r| r.level);
        let mut seen = BTreeMap::new();
        for r in &order {
            if seen.insert(r.code.as_str(), r.level).is_some() {
                return Err(StoreError::Input(format!(
                    "area code {} appears twice",
                    r.code
                )));
            }
            if let Some(p) = &r.parent_code
                && let Some(pl) = seen.get(p.as_str())
                && *pl >= r.level
            {
                return Err(StoreError::Input(format!(
                    "area {}: parent {p} is not above it in the hierarchy",
                    r.code
                )));
            }
            if !r.geom.is_valid() {
                let reason = r
                    .geom
                    .validation_errors()
                    .first()
                    .map_or_else(String::new, ToString::to_string);
                return Err(StoreError::Input(format!(
                    "area {}: invalid geometry: {reason}",
                    r.code
                )));
            }
        }

        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        tx.batch_execute(include_str!("sql/lock_areas.sql")).await?;
        let mut ids: HashMap<String, i64> = HashMap::new();
        for row in tx
            .query(include_str!("sql/current_area_ids.sql"), &[])
            .await?
        {
            ids.insert(get(&row, "code")?, get(&row, "id")?);
        }
        let max = tx
            .query_one(include_str!("sql/max_area_id.sql"), &[])
            .await?;
        let mut next: i64 = get(&max, "max_id")?;
        let rebuild = drop_indexes_if_empty(&tx, "areas", next == 0).await?;
        let sink = tx.copy_in(include_str!("sql/copy_in_areas.sql")).await?;
        pin_mut!(sink);
        let mut buf = String::with_capacity(COPY_CHUNK * 2);
        let total = order.len() as u64;
        for (i, r) in order.iter().enumerate() {
            if ids.contains_key(&r.code) {
                return Err(StoreError::Input(format!(
                    "area code {} already exists",
                    r.code
                )));
            }
            let parent = match &r.parent_code {
                None => None,
                Some(p) => Some(*ids.get(p).ok_or_else(|| {
                    StoreError::Input(format!("area {}: unknown parent_code {p}", r.code))
                })?),
            };
            next += 1;
            ids.insert(r.code.clone(), next);
            let workers = serde_json::to_string(&r.workers).unwrap_or_else(|_| "[]".into());
            let geom = wkb::hex(&wkb::write_multipolygon(&r.geom));
            row(
                &mut buf,
                &[
                    Some(&next.to_string()),
                    Some(&r.code),
                    Some(&r.name),
                    r.name_en.as_deref(),
                    Some(r.level.as_str()),
                    parent.map(|p| p.to_string()).as_deref(),
                    Some(&r.households.to_string()),
                    Some(&r.population.to_string()),
                    Some(&workers),
                    Some(if r.generated { "t" } else { "f" }),
                    Some(&r.source),
                    Some(&geom),
                ],
            );
            if buf.len() >= COPY_CHUNK {
                sink.send(Bytes::from(std::mem::take(&mut buf))).await?;
                progress(i as u64 + 1, total);
            }
        }
        sink.send(Bytes::from(buf)).await?;
        sink.finish().await?;
        recreate_indexes(&tx, "areas", rebuild).await?;
        tx.execute(include_str!("sql/reset_area_ids.sql"), &[])
            .await?;
        tx.commit().await?;
        progress(total, total);
        Ok(total)
    }

    /// Stores events in one transaction with COPY. `grid_of` derives each event's grid.
    /// Reporter contacts go to their own table. Returns the number stored.
    #[tracing::instrument(skip_all)]
    pub async fn insert_events<I>(
        &self,
        events: I,
        grid_of: impl Fn(f64, f64) -> Option<i64>,
        progress: impl Fn(u64),
    ) -> Result<u64>
    where
        I: IntoIterator<Item = std::result::Result<EventRecord, String>>,
    {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        tx.batch_execute(include_str!("sql/lock_events.sql"))
            .await?;
        let max = tx
            .query_one(include_str!("sql/max_event_id.sql"), &[])
            .await?;
        let mut next: i64 = get(&max, "max_id")?;
        let rebuild = drop_indexes_if_empty(&tx, "events", next == 0).await?;
        let mut reporters: Vec<(i64, String)> = Vec::new();
        let sink = tx.copy_in(include_str!("sql/copy_in_events.sql")).await?;
        pin_mut!(sink);
        let mut buf = String::with_capacity(COPY_CHUNK * 2);
        let mut n = 0u64;
        for e in events {
            let e = e.map_err(|m| StoreError::Input(format!("event {}: {m}", n + 1)))?;
            next += 1;
            n += 1;
            let grid = grid_of(e.lon, e.lat).map(|g| g.to_string());
            let geom = wkb::hex(&wkb::write_point(e.lon, e.lat));
            row(
                &mut buf,
                &[
                    Some(&next.to_string()),
                    Some(&e.category),
                    Some(&e.title),
                    Some(&e.description),
                    Some(e.status.as_str()),
                    Some(&e.priority.to_string()),
                    grid.as_deref(),
                    Some(&e.reported_at.to_rfc3339()),
                    e.due_at.map(|t| t.to_rfc3339()).as_deref(),
                    Some(&e.updated_at.to_rfc3339()),
                    Some(if e.generated { "t" } else { "f" }),
                    e.resolved_at.map(|t| t.to_rfc3339()).as_deref(),
                    e.satisfied.map(|b| if b { "t" } else { "f" }),
                    Some(&geom),
                ],
            );
            if let Some(contact) = e.reporter {
                reporters.push((next, contact));
            }
            if buf.len() >= COPY_CHUNK {
                sink.send(Bytes::from(std::mem::take(&mut buf))).await?;
                progress(n);
            }
        }
        sink.send(Bytes::from(buf)).await?;
        sink.finish().await?;
        recreate_indexes(&tx, "events", rebuild).await?;

        let sink = tx
            .copy_in(include_str!("sql/copy_in_reporters.sql"))
            .await?;
        pin_mut!(sink);
        let mut buf = String::with_capacity(COPY_CHUNK * 2);
        for (id, contact) in &reporters {
            row(&mut buf, &[Some(&id.to_string()), Some(contact)]);
            if buf.len() >= COPY_CHUNK {
                sink.send(Bytes::from(std::mem::take(&mut buf))).await?;
            }
        }
        sink.send(Bytes::from(buf)).await?;
        sink.finish().await?;
        tx.execute(include_str!("sql/reset_event_ids.sql"), &[])
            .await?;
        tx.commit().await?;
        progress(n);
        Ok(n)
    }
}

/// On a bulk load into an empty table, drops its secondary indexes (inside the
/// transaction) so that COPY does not maintain them row by row; returns their definitions
/// for [`recreate_indexes`], which builds each once, sorted, at the end. Both steps are in the
/// load's transaction: a failed load leaves the indexes as they were.
async fn drop_indexes_if_empty(
    tx: &deadpool_postgres::Transaction<'_>,
    table: &str,
    empty: bool,
) -> Result<Vec<String>> {
    if !empty {
        return Ok(Vec::new());
    }
    let rows = tx
        .query(include_str!("sql/secondary_indexes.sql"), &[&table])
        .await?;
    let mut defs = Vec::new();
    for row in rows {
        // Built by the query from the catalogue (the name quoted there by format's %I), not
        // from a request.
        let drop: String = get(&row, "drop_index")?;
        tx.batch_execute(&drop).await?;
        defs.push(get(&row, "indexdef")?);
    }
    Ok(defs)
}

/// Rebuilds the indexes dropped for a bulk load into an empty `table`, then gathers the
/// table's statistics: a planner that still believes the table empty picks plans that read
/// all of it (a freshly generated 10M events answered the linked view's query in seconds).
async fn recreate_indexes(
    tx: &deadpool_postgres::Transaction<'_>,
    table: &'static str,
    defs: Vec<String>,
) -> Result<()> {
    if defs.is_empty() {
        return Ok(());
    }
    tx.batch_execute(include_str!("sql/index_build_memory.sql"))
        .await?;
    for def in defs {
        tracing::info!(index = %def, "building index");
        tx.batch_execute(&def).await?;
    }
    // `table` is one of this module's constants, never input.
    tx.batch_execute(&format!("ANALYZE {table}")).await?;
    Ok(())
}

/// Appends one row of PostgreSQL's text COPY format.
pub(super) fn row(buf: &mut String, fields: &[Option<&str>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            buf.push('\t');
        }
        match f {
            None => buf.push_str("\\N"),
            Some(s) => {
                for ch in s.chars() {
                    match ch {
                        '\\' => buf.push_str("\\\\"),
                        '\t' => buf.push_str("\\t"),
                        '\n' => buf.push_str("\\n"),
                        '\r' => buf.push_str("\\r"),
                        c => buf.push(c),
                    }
                }
            }
        }
    }
    buf.push('\n');
}

#[cfg(test)]
mod tests {
    use super::row;

    #[test]
    fn copy_rows_escape_specials() {
        let mut b = String::new();
        row(&mut b, &[Some("a\tb\\c\nd"), None, Some("路灯")]);
        assert_eq!(b, "a\\tb\\\\c\\nd\t\\N\t路灯\n");
    }
}
