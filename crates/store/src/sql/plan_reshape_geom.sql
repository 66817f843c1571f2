-- Reshape: a draft grid's new geometry, marked changed; $1 = plan id, $2 = grid key,
-- $3 = geometry (WKB).
UPDATE plan_grids SET geom = ST_GeomFromWKB($3, 4326), changed = true
WHERE plan_id = $1 AND key = $2
