-- Validity of an input geometry (WKB $1), with the reason and location of a fault; and the
-- bounding box of plan $2's area (NULLs when it has none), which the geometry must stay near.
SELECT d.valid, d.reason, ST_X(d.location), ST_Y(d.location),
       ST_XMin(a.geom), ST_YMin(a.geom), ST_XMax(a.geom), ST_YMax(a.geom)
FROM ST_IsValidDetail(ST_GeomFromWKB($1, 4326)) d
LEFT JOIN plans p ON p.id = $2
LEFT JOIN areas a ON a.id = p.area_id
