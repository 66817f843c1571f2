-- Holes in each parent's coverage by its draft grids: each with its area (m²) and a point
-- inside it and its shape (GeoJSON, 7 decimals).
WITH par AS (
    SELECT a.id, a.code, a.geom
    FROM plan_parents p JOIN areas a ON a.id = p.area_id
    WHERE p.plan_id = $1
), cov AS (
    SELECT parent_id, ST_Union(geom) AS u
    FROM plan_grids WHERE plan_id = $1 AND ST_IsValid(geom)
    GROUP BY parent_id
), gap AS (
    SELECT par.id, par.code,
           CASE WHEN cov.u IS NULL THEN par.geom
                ELSE ST_CollectionExtract(ST_Difference(par.geom, cov.u), 3) END AS g
    FROM par LEFT JOIN cov ON cov.parent_id = par.id
)
SELECT gap.id AS parent, gap.code AS parent_code, ST_Area(d.geom::geography) AS area_m2,
       ST_X(s.p) AS x, ST_Y(s.p) AS y, ST_AsGeoJSON(d.geom, 7)::json AS geometry
FROM gap, LATERAL ST_Dump(gap.g) d, LATERAL (SELECT ST_PointOnSurface(d.geom) AS p) s
ORDER BY gap.id
