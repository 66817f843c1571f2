-- The parts of draft grid $2 cut by line $3 (WKB), largest first.
SELECT ST_AsBinary(ST_Multi(d.geom)) AS part, ST_Area(d.geom::geography) AS m2
FROM plan_grids g,
     LATERAL ST_Dump(ST_Split(g.geom, ST_GeomFromWKB($3, 4326))) d
WHERE g.plan_id = $1 AND g.key = $2
ORDER BY m2 DESC
