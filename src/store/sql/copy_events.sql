-- Bulk read of all events for the in-memory index (binary COPY, ordered by id).
-- Personal data (event_reporters) is deliberately not read: the index never holds it.
COPY (
    SELECT id, category, title, description, status, priority, grid_id,
           reported_at, due_at, updated_at, ST_X(geom), ST_Y(geom), generated
    FROM events
    ORDER BY id
) TO STDOUT (FORMAT binary)
