-- Track points inside the box $1..$4 (min lon, min lat, max lon, max lat), at or after $5 and
-- before $6, of any patrol.
SELECT ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat
FROM patrol_points t
WHERE t.geom && ST_MakeEnvelope($1, $2, $3, $4, 4326) AND t.at >= $5 AND t.at < $6
