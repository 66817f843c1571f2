-- Area shares for redistributing households: for each draft grid $2 (keys) and each new
-- geometry $3 (WKB, by position), the grid's area and the area of their intersection, m².
SELECT g.key, n.i::int AS part, ST_Area(g.geom::geography) AS grid_m2,
       CASE WHEN g.geom && ST_GeomFromWKB(n.w, 4326)
            THEN ST_Area(ST_Intersection(g.geom, ST_GeomFromWKB(n.w, 4326))::geography)
            ELSE 0 END AS shared_m2
FROM plan_grids g, unnest($3::bytea[]) WITH ORDINALITY AS n (w, i)
WHERE g.plan_id = $1 AND g.key = ANY($2)
