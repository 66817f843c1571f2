-- Merge: removes the merged draft grids but the one that keeps its identity; $1 = plan id,
-- $2 = grid keys, $3 = the key kept.
DELETE FROM plan_grids WHERE plan_id = $1 AND key = ANY($2) AND key <> $3
