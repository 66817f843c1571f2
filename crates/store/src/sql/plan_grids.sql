-- The grids of a draft, in key order.
SELECT key, source_id, parent_id, code, name, name_en, households, population,
       workers::text AS workers, changed, ST_AsBinary(geom) AS geom
FROM plan_grids
WHERE plan_id = $1
ORDER BY key
