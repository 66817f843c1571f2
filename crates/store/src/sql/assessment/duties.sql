-- The active workers and the grids (codes) they hold now.
SELECT w.id, w.name, w.kind, w.generated, d.grid_code
FROM workers w JOIN worker_duties d ON d.worker_id = w.id AND d.valid_to IS NULL
WHERE w.active
ORDER BY w.id, d.grid_code
