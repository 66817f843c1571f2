-- A new draft grid under the next free key, changed; returns its `key`. $1 = plan id,
-- $2 = parent area id, $3 = code, $4 = name, $5 = households (NULL: 0), $6 = population
-- (NULL: 0), $7 = geometry (WKB).
INSERT INTO plan_grids (plan_id, key, parent_id, code, name, households, population, changed,
                        geom)
SELECT $1, coalesce(max(key), 0) + 1, $2, $3, $4, coalesce($5, 0), coalesce($6, 0), true,
       ST_GeomFromWKB($7, 4326)
FROM plan_grids
WHERE plan_id = $1
RETURNING key
