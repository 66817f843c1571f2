-- Retire: removes a grid from a draft; $1 = plan id, $2 = grid key.
DELETE FROM plan_grids WHERE plan_id = $1 AND key = $2
