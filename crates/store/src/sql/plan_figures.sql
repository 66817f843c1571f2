-- Households and population of a draft grid (no row: no such grid); $1 = plan id,
-- $2 = grid key.
SELECT households, population FROM plan_grids WHERE plan_id = $1 AND key = $2
