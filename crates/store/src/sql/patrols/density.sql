-- The density of patrol track points in tile $1/$2/$3 (z/x/y): the tile cut into $4 × $4
-- cells, and per non-empty cell (`cx` counted from the west, `cy` from the north) the number of track
-- points recorded in [$5, $6) whose patrol was started over one of the grids $7 (codes;
-- NULL: every patrol). A point belongs to the cell holding its Web-Mercator position
-- (ST_Transform to 3857, as ST_TileEnvelope is), each cell and the tile half-open: west and
-- north edges in, east and south edges out, so that every point counts in one tile of a
-- zoom and in one cell of it. The box searched is the tile's, widened by a hair (1e-9°),
-- so that no point on an edge is lost to rounding; the cell arithmetic decides.
WITH e AS (
    SELECT ST_XMin(m) AS x0, ST_YMax(m) AS y0,
           ST_XMax(m) - ST_XMin(m) AS w, ST_YMax(m) - ST_YMin(m) AS h,
           ST_Expand(ST_Transform(m, 4326), 1e-9) AS box
    FROM ST_TileEnvelope($1::int, $2::int, $3::int) AS m
), cells AS (
    SELECT floor((ST_X(q) - e.x0) / e.w * $4::int)::int AS cx,
           floor((e.y0 - ST_Y(q)) / e.h * $4::int)::int AS cy
    FROM e
    JOIN patrol_points t ON t.geom && e.box
    JOIN patrols p ON p.id = t.patrol_id
    CROSS JOIN LATERAL ST_Transform(t.geom, 3857) AS q
    WHERE t.at >= $5::timestamptz AND t.at < $6::timestamptz
      AND ($7::text[] IS NULL OR p.grid_codes && $7::text[])
)
SELECT cx, cy, count(*) AS n
FROM cells
WHERE cx >= 0 AND cx < $4::int AND cy >= 0 AND cy < $4::int
GROUP BY cx, cy
ORDER BY cy, cx
