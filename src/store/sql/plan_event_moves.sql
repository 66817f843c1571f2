-- Events whose grid would change on publish: those of the base grids the draft closes (and
-- any without a grid inside the parents), with the grid that would cover each after it —
-- smallest id among covering grids, where grids kept as they are (existing ids) come
-- before the draft's new versions (ids given on publish, in key order).
WITH gone AS (
    SELECT b.area_id FROM plan_base b
    WHERE b.plan_id = $1
      AND NOT EXISTS (SELECT 1 FROM plan_grids g
                      WHERE g.plan_id = $1 AND g.source_id = b.area_id AND NOT g.changed)
), cand AS (
    SELECT e.id, e.grid_id, e.geom FROM events e WHERE e.grid_id IN (SELECT area_id FROM gone)
    UNION ALL
    SELECT e.id, e.grid_id, e.geom
    FROM plan_parents p JOIN areas a ON a.id = p.area_id
    JOIN events e ON e.geom && a.geom AND ST_Covers(a.geom, e.geom)
    WHERE p.plan_id = $1 AND e.grid_id IS NULL
)
SELECT c.id, c.grid_id, og.code, n.grid_id, n.key, n.code
FROM cand c
LEFT JOIN areas og ON og.id = c.grid_id
LEFT JOIN LATERAL (
    (SELECT g.id AS grid_id, NULL::int AS key, g.code, 0 AS rank
     FROM areas g
     WHERE g.valid_to IS NULL AND g.level = 'grid' AND g.geom && c.geom
       AND g.id NOT IN (SELECT area_id FROM gone) AND ST_Covers(g.geom, c.geom)
     ORDER BY g.id LIMIT 1)
    UNION ALL
    (SELECT NULL, p.key, p.code, 1
     FROM plan_grids p
     WHERE p.plan_id = $1 AND p.changed AND p.geom && c.geom AND ST_IsValid(p.geom)
       AND ST_Covers(p.geom, c.geom)
     ORDER BY p.key LIMIT 1)
    ORDER BY rank LIMIT 1
) n ON true
ORDER BY c.id
