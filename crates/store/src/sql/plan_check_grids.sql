-- The stored grids of draft $1 (only keys $2 when it is not NULL), as the checks made before
-- PostGIS computes with them see them: each grid's bounding box (NULLs when empty) and the
-- bounding box of the plan's area (NULLs when it has none); and when $3, its validity with
-- the reason and location of a fault (ST_IsValidDetail; NULLs when not asked). Columns are
-- read by name.
SELECT g.key, g.code,
       ST_XMin(g.geom) AS xmin, ST_YMin(g.geom) AS ymin,
       ST_XMax(g.geom) AS xmax, ST_YMax(g.geom) AS ymax,
       ST_XMin(a.geom) AS area_xmin, ST_YMin(a.geom) AS area_ymin,
       ST_XMax(a.geom) AS area_xmax, ST_YMax(a.geom) AS area_ymax,
       d.valid, d.reason, ST_X(d.location) AS x, ST_Y(d.location) AS y
FROM plan_grids g
JOIN plans p ON p.id = g.plan_id
LEFT JOIN areas a ON a.id = p.area_id
LEFT JOIN LATERAL (SELECT * FROM ST_IsValidDetail(g.geom) WHERE $3::boolean) d ON true
WHERE g.plan_id = $1 AND ($2::int[] IS NULL OR g.key = ANY($2))
ORDER BY g.key
