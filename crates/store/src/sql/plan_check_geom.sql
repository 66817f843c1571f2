-- Validity of an input geometry (WKB $1), with the reason and location of a fault; and the
-- bounding box of plan $2's area (NULLs when it has none), which the geometry must stay near.
-- Columns are read by name.
SELECT d.valid, d.reason, ST_X(d.location) AS x, ST_Y(d.location) AS y,
       ST_XMin(a.geom) AS area_xmin, ST_YMin(a.geom) AS area_ymin,
       ST_XMax(a.geom) AS area_xmax, ST_YMax(a.geom) AS area_ymax
FROM ST_IsValidDetail(ST_GeomFromWKB($1, 4326)) d
LEFT JOIN plans p ON p.id = $2
LEFT JOIN areas a ON a.id = p.area_id
