-- Raise overdue open cases one level (grid → community → street → district): the first time
-- when the deadline has passed, then again every $1 seconds. At most $2 cases a call, skipping
-- rows another transaction holds (a transition in progress; another instance's sweep). The
-- WHERE is re-checked on each row, so concurrent sweeps never raise a case twice a step.
WITH due AS (
    SELECT id FROM events
    WHERE status IN ('reported', 'accepted', 'assigned', 'in_progress', 'reopened')
      AND due_at IS NOT NULL AND escalation < 3
      AND due_at + make_interval(secs => $1::float8 * escalation) < now()
    ORDER BY due_at
    LIMIT $2::bigint
    FOR UPDATE SKIP LOCKED
), up AS (
    UPDATE events e SET escalation = e.escalation + 1, escalated_at = now()
    FROM due
    WHERE e.id = due.id
      AND e.due_at + make_interval(secs => $1::float8 * e.escalation) < now()
    RETURNING e.id, e.category, e.title, '' AS description, e.status, e.priority, e.grid_id,
              e.reported_at, e.due_at, e.updated_at, ST_X(e.geom), ST_Y(e.geom), e.generated,
              e.escalation, e.resolved_at, e.satisfied
), h AS (
    INSERT INTO event_history (event_id, at, actor, from_status, to_status, note, action)
    SELECT id, now(), 'system', status, status,
           'overdue: raised to the ' ||
               (ARRAY['grid', 'community', 'street', 'district'])[escalation + 1] || ' level',
           'escalate'
    FROM up
)
SELECT * FROM up
