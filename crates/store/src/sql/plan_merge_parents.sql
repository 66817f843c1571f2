-- Merge: how many different parents (`parents`) the draft grids to merge have; $1 = plan id,
-- $2 = grid keys.
SELECT count(DISTINCT parent_id) AS parents
FROM plan_grids
WHERE plan_id = $1 AND key = ANY($2)
