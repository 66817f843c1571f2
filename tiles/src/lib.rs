//! Tile math for minqing: pure functions, no IO.
