//! Plans (drafts of grid boundaries) in PostGIS (being written).
