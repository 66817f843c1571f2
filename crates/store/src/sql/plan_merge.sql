-- The union of draft grids $2 (keys), and its number of polygons (1 when they are
-- adjacent: sharing a boundary line, not only a point).
SELECT ST_AsBinary(ST_Multi(u)) AS geom, ST_NumGeometries(ST_Multi(u)) AS parts
FROM (SELECT ST_Union(geom) AS u FROM plan_grids WHERE plan_id = $1 AND key = ANY($2)) s
