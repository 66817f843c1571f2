-- Overlaps between draft grids (interiors meet in an area): each piece with its area (m²)
-- a point inside it and its shape (GeoJSON, 7 decimals).
WITH ok AS (SELECT key, code, geom FROM plan_grids WHERE plan_id = $1 AND ST_IsValid(geom)),
pairs AS (
    SELECT a.key AS ka, a.code AS ca, b.key AS kb, b.code AS cb,
           ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3) AS g
    FROM ok a JOIN ok b ON a.key < b.key AND a.geom && b.geom
    WHERE ST_Relate(a.geom, b.geom, '2********')
)
SELECT ka, ca, kb, cb, ST_Area(d.geom::geography) AS area_m2,
       ST_X(s.p) AS x, ST_Y(s.p) AS y, ST_AsGeoJSON(d.geom, 7)::json AS geometry
FROM pairs, LATERAL ST_Dump(pairs.g) d, LATERAL (SELECT ST_PointOnSurface(d.geom) AS p) s
ORDER BY ka, kb
