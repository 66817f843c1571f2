-- Draft grids whose geometry is not valid: reason and location (ST_IsValidDetail).
SELECT g.key, g.code, d.reason, ST_X(d.location) AS x, ST_Y(d.location) AS y
FROM plan_grids g, LATERAL ST_IsValidDetail(g.geom) d
WHERE g.plan_id = $1 AND NOT d.valid
ORDER BY g.key
