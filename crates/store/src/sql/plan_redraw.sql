-- Moving the shared boundary of grids $2 and $3 to line $4 (WKB): their union is cut by
-- the line; each part goes to the grid it overlaps most. Returns the parts (WKB), their
-- overlap (m²) with $2 (in_a) and with $3 (in_b).
WITH a AS (SELECT geom FROM plan_grids WHERE plan_id = $1 AND key = $2),
     b AS (SELECT geom FROM plan_grids WHERE plan_id = $1 AND key = $3),
     parts AS (SELECT d.geom AS g
               FROM a, b, LATERAL ST_Dump(ST_Split(ST_Union(a.geom, b.geom),
                                                   ST_GeomFromWKB($4, 4326))) d)
SELECT ST_AsBinary(parts.g) AS part,
       ST_Area(ST_Intersection(parts.g, a.geom)::geography) AS in_a,
       ST_Area(ST_Intersection(parts.g, b.geom)::geography) AS in_b
FROM parts, a, b
