-- The change feed's watermark (see feed.rs): the oldest transaction still running, as text.
SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin
