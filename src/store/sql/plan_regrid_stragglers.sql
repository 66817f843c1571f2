-- Publishing, the spatial way: re-assigns the events still in the closed grids $1 (and those
-- without a grid inside the parents of plan $2) to the grid now covering them (smallest id
-- among covering current grids), with a history entry each ('regrid'); returns their new
-- public fields. Publish moves the events validation listed by id (plan_publish_regrid.sql);
-- this catches the ones reported meanwhile, inside the transaction and again once the index
-- has switched (reports placed by the old index until then).
-- $3 actor, $4 note prefix.
WITH cand AS (
    SELECT e.id FROM events e WHERE e.grid_id = ANY($1::bigint[])
    UNION
    SELECT e.id
    FROM plan_parents p JOIN areas a ON a.id = p.area_id
    JOIN events e ON e.geom && a.geom AND ST_Covers(a.geom, e.geom)
    WHERE p.plan_id = $2 AND e.grid_id IS NULL
), ext AS (
    SELECT ST_Envelope(ST_Collect(a.geom)) AS e
    FROM areas a
    WHERE a.id IN (SELECT area_id FROM plan_parents WHERE plan_id = $2) OR a.id = ANY($1::bigint[])
), covering AS (
    -- Driven by grids: a few dozen index scans of events, each against one polygon.
    SELECT DISTINCT ON (e.id) e.id, g.id AS new_grid
    FROM areas g, ext, events e
    WHERE g.valid_to IS NULL AND g.level = 'grid' AND g.geom && ext.e
      AND e.geom && g.geom AND ST_Covers(g.geom, e.geom)
      AND (e.grid_id IS NULL OR e.grid_id = ANY($1::bigint[]))
    ORDER BY e.id, g.id
), moved AS (
    SELECT e.id, e.grid_id AS old_grid, c.new_grid
    FROM events e JOIN cand USING (id) LEFT JOIN covering c USING (id)
), upd AS (
    UPDATE events e SET grid_id = m.new_grid
    FROM moved m
    WHERE e.id = m.id AND e.grid_id IS DISTINCT FROM m.new_grid
    RETURNING e.id, e.category, e.title, ''::text AS description, e.status, e.priority,
              e.grid_id, e.reported_at, e.due_at, e.updated_at, ST_X(e.geom) AS lon,
              ST_Y(e.geom) AS lat, e.generated, e.escalation, e.resolved_at, e.satisfied,
              m.old_grid
), hist AS (
    INSERT INTO event_history (event_id, at, actor, from_status, to_status, note, action)
    SELECT u.id, clock_timestamp(), $3, u.status, u.status,
           $4 || ': grid ' || coalesce(o.code, '-') || ' (' || coalesce(u.old_grid::text, '-')
              || ') → ' || coalesce(n.code, '-') || ' (' || coalesce(u.grid_id::text, '-') || ')',
           'regrid'
    FROM upd u LEFT JOIN areas o ON o.id = u.old_grid LEFT JOIN areas n ON n.id = u.grid_id
)
SELECT id, category, title, description, status, priority, grid_id, reported_at, due_at,
       updated_at, lon, lat, generated, escalation, resolved_at, satisfied
FROM upd
