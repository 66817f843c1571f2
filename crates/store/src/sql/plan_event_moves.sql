-- Events whose grid would change on publish: those of the base grids the draft closes (and
-- any without a grid inside the parents), with the grid that would cover each after it —
-- smallest id among covering grids, where grids kept as they are (existing ids) come
-- before the draft's new versions (ids given on publish, in key order). Driven by grids
-- (a few dozen index scans of events, each against one prepared polygon), not by events.
-- Owners are filtered by the candidates' own condition (a closed grid, or none; a hashed
-- subplan), never by a semi-join on `cand`: its row count is unknown to the planner, and a
-- nested-loop semi-join over 100,000 candidates took minutes. Owners of events that are not
-- candidates fall away in the final join.
WITH gone AS (
    SELECT b.area_id FROM plan_base b
    WHERE b.plan_id = $1
      AND NOT EXISTS (SELECT 1 FROM plan_grids g
                      WHERE g.plan_id = $1 AND g.source_id = b.area_id AND NOT g.changed)
), ext AS (
    SELECT ST_Envelope(ST_Collect(a.geom)) AS e
    FROM areas a
    WHERE a.id IN (SELECT area_id FROM plan_parents WHERE plan_id = $1)
       OR a.id IN (SELECT area_id FROM gone)
), cand AS (
    SELECT e.id, e.grid_id FROM events e WHERE e.grid_id IN (SELECT area_id FROM gone)
    UNION ALL
    SELECT e.id, e.grid_id
    FROM plan_parents p JOIN areas a ON a.id = p.area_id
    JOIN events e ON e.geom && a.geom AND ST_Covers(a.geom, e.geom)
    WHERE p.plan_id = $1 AND e.grid_id IS NULL
), owners AS (
    SELECT e.id, g.id AS grid_id, NULL::int AS key, g.code, 0 AS rank
    FROM areas g, ext, events e
    WHERE g.valid_to IS NULL AND g.level = 'grid' AND g.geom && ext.e
      AND g.id NOT IN (SELECT area_id FROM gone)
      AND e.geom && g.geom AND ST_Covers(g.geom, e.geom)
      AND (e.grid_id IS NULL OR e.grid_id IN (SELECT area_id FROM gone))
    UNION ALL
    SELECT e.id, NULL, p.key, p.code, 1
    FROM plan_grids p, events e
    WHERE p.plan_id = $1 AND p.changed AND ST_IsValid(p.geom)
      AND e.geom && p.geom AND ST_Covers(p.geom, e.geom)
      AND (e.grid_id IS NULL OR e.grid_id IN (SELECT area_id FROM gone))
), best AS (
    SELECT DISTINCT ON (id) id, grid_id, key, code FROM owners ORDER BY id, rank, grid_id, key
)
SELECT c.id, c.grid_id AS from_grid, og.code AS from_code, b.grid_id AS to_grid,
       b.key AS to_key, b.code AS to_code
FROM cand c
LEFT JOIN areas og ON og.id = c.grid_id
LEFT JOIN best b ON b.id = c.id
ORDER BY c.id
