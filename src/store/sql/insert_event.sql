-- Store one newly reported event in a single statement (one round trip, atomic): the public
-- row, the reporter's contact apart (when given), and the first history entry.
-- A repeated idempotency key inserts nothing and returns no row; the caller then reads the
-- event first stored under that key.
-- $1 category, $2 title, $3 description, $4 priority, $5 grid_id, $6 idempotency key,
-- $7 lon, $8 lat, $9 reporter contact (or NULL), $10 reporter token id (or NULL),
-- $11 actor for the history, $12 photo content type and $13 photo bytes (or NULL).
WITH e AS (
    INSERT INTO events (category, title, description, status, priority, grid_id,
                        reported_at, updated_at, idempotency_key, geom, reporter_token)
    VALUES ($1, $2, $3, 'reported', $4, $5, now(), now(), $6,
            ST_SetSRID(ST_MakePoint($7, $8), 4326), $10)
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING *
), reporter AS (
    INSERT INTO event_reporters (event_id, contact)
    SELECT id, $9 FROM e WHERE $9::text IS NOT NULL
), photo AS (
    INSERT INTO event_photos (event_id, content_type, bytes)
    SELECT id, $12, $13 FROM e WHERE $13::bytea IS NOT NULL
), history AS (
    INSERT INTO event_history (event_id, at, actor, from_status, to_status, note, action)
    SELECT id, reported_at, $11, NULL, 'reported', '', 'report' FROM e
)
SELECT id, category, title, description, status, priority, grid_id,
       reported_at, due_at, updated_at, ST_X(geom), ST_Y(geom), generated,
       escalation, resolved_at, satisfied
FROM e
