-- The name of worker $1 if they are active and hold grid $2 (an area id) now.
SELECT w.name FROM workers w
JOIN worker_duties d ON d.worker_id = w.id AND d.valid_to IS NULL
JOIN areas g ON g.code = d.grid_code AND g.valid_to IS NULL
WHERE w.id = $1 AND w.active AND g.id = $2
