-- The parent area of a draft grid (`parent_id`); $1 = plan id, $2 = grid key.
SELECT parent_id FROM plan_grids WHERE plan_id = $1 AND key = $2
