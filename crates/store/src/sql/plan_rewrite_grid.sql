-- An operation's output for an existing draft grid: its new geometry and, when given, its
-- figures; marks it changed. $1 = plan id, $2 = grid key, $3 = geometry (WKB),
-- $4 = households (NULL: kept), $5 = population (NULL: kept).
UPDATE plan_grids
SET geom = ST_GeomFromWKB($3, 4326), households = coalesce($4, households),
    population = coalesce($5, population), changed = true
WHERE plan_id = $1 AND key = $2
