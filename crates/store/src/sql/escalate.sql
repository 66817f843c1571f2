-- Raise overdue open cases (grid → community → street → district) to the level their
-- deadline implies: level 1 once the deadline has passed, and one more for every full $1
-- seconds since then, at most 3:
--     implied = least(3, 1 + floor((now - due_at) / $1))   (3 at once when $1 ≤ 0).
-- The level is computed from due_at alone and stored, so a case is raised only while its
-- stored level is below the implied one: sweeps repeated, several instances sweeping, or a
-- restart never raise a case twice for the same step. A case behind by several steps (a
-- backlog, an instance that was down) goes straight to its level in one sweep, with one
-- history entry per step, in order. At most $2 cases a call, skipping rows another
-- transaction holds (a transition in progress; another instance's sweep).
WITH due AS (
    SELECT id, escalation AS old,
           CASE WHEN $1::float8 <= 0 THEN 3
                ELSE least(3, 1 + floor(extract(epoch FROM now() - due_at) / $1::float8))
           END::smallint AS target
    FROM events
    WHERE status IN ('reported', 'accepted', 'assigned', 'in_progress', 'reopened')
      AND due_at IS NOT NULL AND due_at < now() AND escalation < 3
      AND escalation < CASE WHEN $1::float8 <= 0 THEN 3
                            ELSE least(3, 1 + floor(extract(epoch FROM now() - due_at) / $1::float8))
                       END
    ORDER BY due_at
    LIMIT $2::bigint
    FOR UPDATE SKIP LOCKED
), up AS (
    UPDATE events e SET escalation = due.target, escalated_at = now()
    FROM due
    WHERE e.id = due.id AND e.escalation = due.old
    RETURNING e.id, e.category, e.title, '' AS description, e.status, e.priority, e.grid_id,
              e.reported_at, e.due_at, e.updated_at, ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat,
              e.generated, e.escalation, e.resolved_at, e.satisfied, e.worker_id, e.reporter_worker,
              due.old
), h AS (
    INSERT INTO event_history (event_id, at, actor, from_status, to_status, note, action)
    SELECT up.id, clock_timestamp(), 'system', up.status, up.status,
           'overdue: raised to the ' ||
               (ARRAY['grid', 'community', 'street', 'district'])[step + 1] || ' level',
           'escalate'
    FROM up, generate_series(up.old + 1, up.escalation) AS step
    ORDER BY up.id, step
)
SELECT id, category, title, description, status, priority, grid_id, reported_at, due_at,
       updated_at, lon, lat, generated, escalation, resolved_at, satisfied, worker_id,
       reporter_worker
FROM up
