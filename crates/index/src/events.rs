//! The event index: every event, columnar, with one packed tree per group of workflow
//! states.
//!
//! Points sit in packed trees ([`super::points`]) with their earth-centred (ECEF)
//! positions kept beside them (see [`super::geodesic`]): nearest-event search takes the
//! tree's nodes best first, with box distances that are lower bounds of the true
//! ellipsoidal distance, so it is exact; bounding-box queries test lon/lat exactly. Open
//! and finished cases live in two trees, so the common "open cases near me" query never walks the far larger body of closed ones;
//! finer state filters are checked per candidate.
//!
//! Inserts are taken while serving (the caller holds a write lock for microseconds; once a
//! quarter of a tree has changed, for the rebuild of that tree). Slots
//! are in arrival order; a separate id-sorted list serves lookups and id-ordered paging.
//!
//! The parts, bottom up: `columns` (the fields, packed), `index` (the index and how it
//! changes), `builder` (loading in bulk), `search` (nearest, box, pages), `stats` (case
//! statistics), `tally` (per-grid counts for assessment).

mod builder;
mod columns;
mod index;
mod search;
mod stats;
mod tally;
#[cfg(test)]
mod testdata;

pub use builder::EventIndexBuilder;
pub use index::{EventIndex, TileFields, Upsert};
pub use stats::CaseStats;
pub use tally::{CaseTally, FastMap, GridTally, PeriodSummary, WorkTallies, WorkerCases};
