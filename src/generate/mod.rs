//! Deterministic demo-data generation.
