//! Reads for the Open311 GeoReport v2 endpoints: service requests by id or by filter,
//! newest first, each with its latest non-empty history note (Open311 `status_notes`).
//!
//! Lists come from PostGIS rather than the in-memory index: Open311 wants the description
//! and the note, which the index does not keep, and its window is the most recent requests
//! (the index lists in id order). Neither query reads the reporter's contact.

use tokio_postgres::types::ToSql;

use super::rows::{event_from_row, get};
use super::{ExportFilter, Result, Store};
use minqing_model::Event;

fn with_note(row: &tokio_postgres::Row) -> Result<(Event, Option<String>)> {
    Ok((event_from_row(row)?, get(row, "note")?))
}

impl Store {
    /// Open311 `GET requests`: at most `limit` events matching `f`, newest first (by
    /// reported time), each with its latest non-empty history note.
    pub async fn open311_requests(
        &self,
        f: &ExportFilter,
        limit: i64,
    ) -> Result<Vec<(Event, Option<String>)>> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/open311_requests.sql"))
            .await?;
        let bounds = f.bounds();
        let mut params: Vec<&(dyn ToSql + Sync)> = f.params(&bounds).to_vec();
        params.push(&limit);
        conn.query(&stmt, &params)
            .await?
            .iter()
            .map(with_note)
            .collect()
    }

    /// Open311 `GET requests/{id}` and `service_request_id=…`: the events with these ids
    /// whose grid is in `grids` (`None` = all), newest first, each with its latest non-empty
    /// history note.
    pub async fn open311_requests_by_id(
        &self,
        ids: &[i64],
        grids: Option<&[i64]>,
    ) -> Result<Vec<(Event, Option<String>)>> {
        let conn = self.conn().await?;
        let stmt = conn
            .prepare_cached(include_str!("sql/open311_requests_by_id.sql"))
            .await?;
        conn.query(&stmt, &[&ids, &grids])
            .await?
            .iter()
            .map(with_note)
            .collect()
    }
}
