-- 4,096 query points: one random point inside each of 4,096 pseudo-randomly chosen grids
-- (deterministic: md5 order and a fixed seed). Used by criterion and wrk alike.
SELECT ST_X(p), ST_Y(p)
FROM (
    SELECT (ST_Dump(ST_GeneratePoints(geom, 1, 42))).geom AS p
    FROM (
        SELECT geom FROM areas
        WHERE level = 'grid' AND valid_to IS NULL
        ORDER BY md5(id::text)
        LIMIT 4096
    ) g
) x
