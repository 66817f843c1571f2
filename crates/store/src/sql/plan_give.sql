-- Moving a shared boundary by a piece: the part of grid $2 inside polygon $4 (WKB) goes to
-- grid $3. Returns the new geometries of $2 and $3 (WKB), the piece's area in m², and
-- whether the piece shares a boundary line with $3 (so the receiver stays in one piece):
-- from_geom, to_geom, piece_m2, touches.
WITH a AS (SELECT geom FROM plan_grids WHERE plan_id = $1 AND key = $2),
     b AS (SELECT geom FROM plan_grids WHERE plan_id = $1 AND key = $3),
     p AS (SELECT ST_CollectionExtract(ST_Intersection(a.geom, ST_GeomFromWKB($4, 4326)), 3) AS g
           FROM a)
SELECT ST_AsBinary(ST_Multi(ST_CollectionExtract(ST_Difference(a.geom, p.g), 3))) AS from_geom,
       ST_AsBinary(ST_Multi(ST_CollectionExtract(ST_Union(b.geom, p.g), 3))) AS to_geom,
       ST_Area(p.g::geography) AS piece_m2,
       ST_Relate(p.g, b.geom, '****1****') AS touches
FROM a, b, p
