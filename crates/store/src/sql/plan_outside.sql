-- Parts of draft grids outside their parent: each with its area (m²), a point inside and
-- its shape (GeoJSON, 7 decimals).
SELECT g.key, g.code, a.id AS parent, ST_Area(d.geom::geography) AS area_m2,
       ST_X(s.p) AS x, ST_Y(s.p) AS y, ST_AsGeoJSON(d.geom, 7)::json AS geometry
FROM plan_grids g JOIN areas a ON a.id = g.parent_id,
     LATERAL ST_Dump(ST_CollectionExtract(ST_Difference(g.geom, a.geom), 3)) d,
     LATERAL (SELECT ST_PointOnSurface(d.geom) AS p) s
WHERE g.plan_id = $1 AND ST_IsValid(g.geom) AND NOT ST_CoveredBy(g.geom, a.geom)
ORDER BY g.key
