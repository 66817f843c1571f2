-- An active worker ($1) and the codes of the grids they hold now (none: an empty array).
SELECT w.id, coalesce(array_agg(d.grid_code ORDER BY d.grid_code)
                      FILTER (WHERE d.grid_code IS NOT NULL), '{}') AS grids
FROM workers w LEFT JOIN worker_duties d ON d.worker_id = w.id AND d.valid_to IS NULL
WHERE w.id = $1 AND w.active
GROUP BY w.id
