//! Loading many events at once (start-up): the columns first, then the trees and the
//! pyramid built in one pass each.

use super::index::{CLOSED, EventIndex, OPEN};
use minqing_model::Event;

/// Streams events into columns, then bulk-loads the trees once (start-up path).
pub struct EventIndexBuilder {
    ix: EventIndex,
}

impl EventIndexBuilder {
    /// A builder expecting about `capacity` events.
    #[must_use]
    pub fn new(categories: &[String], capacity: usize) -> EventIndexBuilder {
        let mut ix = EventIndex::new(categories);
        let c = &mut ix.cols;
        c.id.reserve_exact(capacity);
        c.lon.reserve_exact(capacity);
        c.lat.reserve_exact(capacity);
        c.category.reserve_exact(capacity);
        c.status.reserve_exact(capacity);
        c.priority.reserve_exact(capacity);
        c.flags.reserve_exact(capacity);
        c.resolve_s.reserve_exact(capacity);
        c.grid.reserve_exact(capacity);
        c.reported_at.reserve_exact(capacity);
        c.due_at.reserve_exact(capacity);
        c.updated_at.reserve_exact(capacity);
        c.worker.reserve_exact(capacity);
        c.reporter.reserve_exact(capacity);
        c.text_start.reserve_exact(capacity);
        c.text_len.reserve_exact(capacity);
        c.text.reserve(capacity * 40);
        ix.order.reserve_exact(capacity);
        EventIndexBuilder { ix }
    }

    /// Adds one event.
    pub fn add(&mut self, e: &Event) {
        self.ix.push(e);
    }

    /// Sorts the id list and builds the open and closed trees.
    #[must_use]
    pub fn build(mut self) -> EventIndex {
        let ix = &mut self.ix;
        ix.cols.sort_spatially();
        let ids = &ix.cols.id;
        ix.order.sort_unstable_by_key(|s| ids[*s as usize]);
        for tree in [OPEN, CLOSED] {
            ix.rebuild(tree);
        }
        let c = &ix.cols;
        for s in 0..c.id.len() {
            ix.pyramid
                .add_base(c.lon[s], c.lat[s], c.category[s], c.status[s], c.id[s]);
        }
        ix.pyramid.derive();
        self.ix
    }
}

impl EventIndex {
    /// Builds an index from events at once (tests; start-up streams through the builder).
    #[cfg(test)]
    #[must_use]
    pub fn bulk(categories: &[String], events: Vec<Event>) -> EventIndex {
        let mut b = EventIndexBuilder::new(categories, events.len());
        for e in events {
            b.add(&e);
        }
        b.build()
    }
}
