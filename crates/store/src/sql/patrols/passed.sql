-- Which of the points $1 (longitudes), $2 (latitudes) — a grid's buildings — a track point
-- of [$3, $4) passed within $5 metres on the ellipsoid: one bounded probe of the points'
-- GiST index per building (a box of $6 degrees of longitude and $7 of latitude around it,
-- wider than the reach), then ST_DWithin on geography. Returns their 1-based positions.
SELECT b.ord
FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS b (lon, lat, ord)
WHERE EXISTS (
    SELECT 1 FROM patrol_points t
    WHERE t.geom && ST_Expand(ST_SetSRID(ST_MakePoint(b.lon, b.lat), 4326), $6::float8, $7::float8)
      AND t.at >= $3 AND t.at < $4
      AND ST_DWithin(t.geom::geography, ST_SetSRID(ST_MakePoint(b.lon, b.lat), 4326)::geography, $5))
