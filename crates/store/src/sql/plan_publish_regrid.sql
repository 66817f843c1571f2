-- Publishing: moves events ($1 ids, $2 the grid each was in, $3 the grid that now covers
-- it, NULL for none: those validation listed, or plan_stragglers.sql found) and writes a
-- history entry each ('regrid'); returns their new public fields. An event whose grid
-- changed meanwhile is left as it is (plan_stragglers.sql finds it). $4 actor, $5 note
-- prefix.
WITH m AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS m(id, old_grid, new_grid)
), upd AS (
    UPDATE events e SET grid_id = m.new_grid
    FROM m
    WHERE e.id = m.id AND e.grid_id IS NOT DISTINCT FROM m.old_grid
      AND m.old_grid IS DISTINCT FROM m.new_grid
    RETURNING e.id, e.category, e.title, ''::text AS description, e.status, e.priority,
              e.grid_id, e.reported_at, e.due_at, e.updated_at, ST_X(e.geom) AS lon,
              ST_Y(e.geom) AS lat, e.generated, e.escalation, e.resolved_at, e.satisfied,
              e.worker_id, e.reporter_worker,
              m.old_grid
), hist AS (
    INSERT INTO event_history (event_id, at, actor, from_status, to_status, note, action)
    SELECT u.id, clock_timestamp(), $4, u.status, u.status,
           $5 || ': grid ' || coalesce(o.code, '-') || ' (' || coalesce(u.old_grid::text, '-')
              || ') → ' || coalesce(n.code, '-') || ' (' || coalesce(u.grid_id::text, '-') || ')',
           'regrid'
    FROM upd u LEFT JOIN areas o ON o.id = u.old_grid LEFT JOIN areas n ON n.id = u.grid_id
)
SELECT id, category, title, description, status, priority, grid_id, reported_at, due_at,
       updated_at, lon, lat, generated, escalation, resolved_at, satisfied, worker_id,
       reporter_worker
FROM upd
