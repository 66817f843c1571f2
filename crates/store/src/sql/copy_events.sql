-- Bulk read of all events for the in-memory index (binary COPY, ordered by id).
-- Read by position (binary COPY has no column names): load.rs lists the types of these
-- columns in this order.
-- Personal data (event_reporters) is deliberately not read: the index never holds it.
-- Descriptions stay in PostGIS too: lists show titles; the detail view reads the row.
COPY (
    SELECT id, category, title, status, priority, grid_id,
           reported_at, due_at, updated_at, ST_X(geom), ST_Y(geom), generated,
       escalation, resolved_at, satisfied, worker_id, reporter_worker
    FROM events
    ORDER BY id
) TO STDOUT (FORMAT binary)
