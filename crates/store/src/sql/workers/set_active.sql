-- Marks worker $1 active or not ($2); one who leaves gives up every grid.
WITH w AS (UPDATE workers SET active = $2 WHERE id = $1 RETURNING id, active)
UPDATE worker_duties d SET valid_to = now()
FROM w WHERE d.worker_id = w.id AND NOT w.active AND d.valid_to IS NULL
