-- Validation: each draft grid's figures and whether (and how) it changed, in key order;
-- $1 = plan id.
SELECT key, code, households, population, changed, source_id
FROM plan_grids
WHERE plan_id = $1
ORDER BY key
