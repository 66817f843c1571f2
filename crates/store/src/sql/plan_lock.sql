-- A plan's header, its row locked until the transaction ends (operations, publish, rebase
-- and abandon of one draft run one at a time); $1 = plan id. Columns are read by name.
SELECT id, area_id, name, status, households_min, households_max, population_min,
       population_max, created_by, created_at, updated_at, published_at, published_by, report
FROM plans
WHERE id = $1
FOR UPDATE
