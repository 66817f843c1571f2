-- Reshape: a draft grid's new figures (each NULL: kept), marked changed when one is given;
-- $1 = plan id, $2 = grid key, $3 = households, $4 = population, $5 = name.
UPDATE plan_grids
SET households = coalesce($3, households), population = coalesce($4, population),
    name = coalesce($5, name),
    changed = changed OR $3 IS NOT NULL OR $4 IS NOT NULL OR $5 IS NOT NULL
WHERE plan_id = $1 AND key = $2
