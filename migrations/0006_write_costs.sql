-- minqing schema, version 6: a cheaper write path.
--
-- events_geog (a GiST index on geom::geography, from version 1) served only PostGIS-side
-- baselines: minqing answers nearest-event queries from memory, and no runtime query
-- orders events by geography distance. Every report and every re-assignment paid for it.
-- Benchmarks create the partial index they compare against themselves (benches/run.sh).
DROP INDEX IF EXISTS events_geog;
