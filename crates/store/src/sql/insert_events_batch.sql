-- Store newly reported events in one statement (one round trip, one commit): the public rows,
-- the reporters' contacts apart (when given), photos, and the first history entries.
-- The arrays hold one element per report, in order; `ord` (1-based) in the result tells
-- which report each stored row is. A report whose idempotency key is already used (or used
-- earlier in the same batch) inserts nothing and has no result row; the caller then reads
-- the event first stored under that key.
-- $1 category, $2 title, $3 description, $4 priority, $5 grid_id, $6 idempotency key,
-- $7 lon, $8 lat, $9 reporter contact, $10 reporter token id, $11 actor for the history,
-- $12 photo content type, $13 photo bytes, $14–$17 the register record named (building,
-- place, organisation, household; at most one per report), $18 the grid worker reporting.
-- The grid comes from the instance's index; should a publish have closed it meanwhile
-- (an index not yet switched), the grid now covering the point is taken instead.
WITH input AS MATERIALIZED (
    SELECT nextval(pg_get_serial_sequence('events', 'id')) AS id, i.*,
           ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326) AS geom
    FROM unnest($1::text[], $2::text[], $3::text[], $4::int2[], $5::int8[], $6::text[],
                $7::float8[], $8::float8[], $9::text[], $10::int8[], $11::text[],
                $12::text[], $13::bytea[], $14::int8[], $15::int8[], $16::int8[], $17::int8[], $18::int8[])
         WITH ORDINALITY AS i(category, title, description, priority, grid, key, lon, lat,
                              contact, token, actor, photo_type, photo, building, place,
                              organisation, household, worker, ord)
), placed AS (
    SELECT i.*, CASE
        WHEN i.grid IS NULL
          OR EXISTS (SELECT 1 FROM areas WHERE id = i.grid AND valid_to IS NULL) THEN i.grid
        ELSE (SELECT g.id FROM areas g
              WHERE g.valid_to IS NULL AND g.level = 'grid'
                AND g.geom && i.geom AND ST_Covers(g.geom, i.geom)
              ORDER BY g.id LIMIT 1)
    END AS grid_id
    FROM input i
), e AS (
    INSERT INTO events (id, category, title, description, status, priority, grid_id,
                        reported_at, updated_at, idempotency_key, geom, reporter_token,
                        building_id, place_id, organisation_id, household_id,
                        reporter_worker)
    SELECT id, category, title, description, 'reported', priority, grid_id, now(), now(),
           key, geom, token, building, place, organisation, household, worker
    FROM placed ORDER BY ord
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING *
), reporter AS (
    INSERT INTO event_reporters (event_id, contact)
    SELECT e.id, i.contact FROM e JOIN input i USING (id) WHERE i.contact IS NOT NULL
), photo AS (
    INSERT INTO event_photos (event_id, content_type, bytes)
    SELECT e.id, i.photo_type, i.photo FROM e JOIN input i USING (id) WHERE i.photo IS NOT NULL
), history AS (
    INSERT INTO event_history (event_id, at, actor, from_status, to_status, note, action)
    SELECT e.id, e.reported_at, i.actor, NULL, 'reported', '', 'report'
    FROM e JOIN input i USING (id)
)
SELECT e.id, e.category, e.title, e.description, e.status, e.priority, e.grid_id,
       e.reported_at, e.due_at, e.updated_at, ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat,
       e.generated, e.escalation, e.resolved_at, e.satisfied, e.worker_id,
       e.reporter_worker, i.ord
FROM e JOIN input i USING (id)
