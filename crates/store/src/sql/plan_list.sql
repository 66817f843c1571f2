-- Plans, newest first; $1 = status (NULL: any), $2 = most rows. Columns are read by name.
SELECT id, area_id, name, status, households_min, households_max, population_min,
       population_max, created_by, created_at, updated_at, published_at, published_by, report
FROM plans
WHERE ($1::text IS NULL OR status = $1)
ORDER BY id DESC
LIMIT $2
