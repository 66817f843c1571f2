//! Rows to values: the event's columns and how a row of them becomes an [`Event`].

use tokio_postgres::Row;

use super::{Result, StoreError};
use minqing_model::{Event, Status};

pub(super) fn event_from_row(row: &Row) -> Result<Event> {
    let id: i64 = row.get(0);
    let status: &str = row.get(4);
    let status = Status::parse(status).ok_or_else(|| StoreError::Invalid {
        what: "event",
        id,
        detail: format!("status {status:?}"),
    })?;
    Ok(Event {
        id,
        category: row.get(1),
        title: row.get(2),
        description: Some(row.get(3)),
        status,
        priority: row.get(5),
        grid_id: row.get(6),
        reported_at: row.get(7),
        due_at: row.get(8),
        updated_at: row.get(9),
        lon: row.get(10),
        lat: row.get(11),
        generated: row.get(12),
        escalation: escalation(id, row.get(13))?,
        resolved_at: row.get(14),
        satisfied: row.get(15),
    })
}

/// The stored escalation step, checked.
pub(super) fn escalation(id: i64, step: i16) -> Result<u8> {
    u8::try_from(step)
        .ok()
        .filter(|s| *s <= 3)
        .ok_or_else(|| StoreError::Invalid {
            what: "event",
            id,
            detail: format!("escalation {step}"),
        })
}
