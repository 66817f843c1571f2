-- Random tile addresses where the data is: the tiles holding 3,000 pseudo-randomly chosen
-- events, at zoom :z (deterministic: md5 order). Printed as "z/x/y".
SELECT DISTINCT format('%s/%s/%s', :z,
    floor((ST_X(geom) + 180) / 360 * 2 ^ :z)::int,
    floor((1 - ln(tan(radians(ST_Y(geom))) + 1 / cos(radians(ST_Y(geom)))) / pi()) / 2 * 2 ^ :z)::int)
FROM (SELECT geom FROM events ORDER BY md5(id::text) LIMIT 3000) e;
