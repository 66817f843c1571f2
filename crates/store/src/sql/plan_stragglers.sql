-- Publishing, the spatial way: the events still in the closed grids $1 (and those without a
-- grid inside the parents of plan $2), with the grid now covering each (smallest id among
-- covering current grids; NULL for none): (id, old grid, new grid), for those whose grid
-- changes. Publish moves the events validation listed by id; this finds the ones reported
-- meanwhile — inside the transaction, and again once the index has switched (reports
-- placed by the old index until then). plan_publish_regrid.sql moves them.
WITH cand AS (
    SELECT e.id, e.grid_id FROM events e WHERE e.grid_id = ANY($1::bigint[])
    UNION
    SELECT e.id, e.grid_id
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
)
SELECT c.id, c.grid_id, v.new_grid
FROM cand c LEFT JOIN covering v USING (id)
WHERE c.grid_id IS DISTINCT FROM v.new_grid
ORDER BY c.id
