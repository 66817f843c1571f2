//! Register slots grouped by the grid they lie in.

/// Slots grouped by grid: the slots of one grid are one range, ascending (so in id order).
/// Flat (12 bytes a slot) where a map of lists would cost an allocation per grid.
#[derive(Default)]
pub(super) struct ByGrid {
    grids: Vec<i64>,
    slots: Vec<u32>,
}

impl ByGrid {
    /// Groups slots `0..` by the grid of each.
    pub(super) fn new(grid_of: impl Iterator<Item = i64>) -> ByGrid {
        let mut pairs: Vec<(i64, u32)> = grid_of
            .enumerate()
            .map(|(s, g)| (g, u32::try_from(s).unwrap_or(u32::MAX)))
            .collect();
        pairs.sort_unstable();
        let (grids, slots) = pairs.into_iter().unzip();
        ByGrid { grids, slots }
    }

    /// The slots in a grid, ascending.
    pub(super) fn get(&self, grid: i64) -> &[u32] {
        let lo = self.grids.partition_point(|&g| g < grid);
        let n = self.grids[lo..].partition_point(|&g| g == grid);
        &self.slots[lo..lo + n]
    }
}
