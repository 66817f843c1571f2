-- A reporter's own reports, in id order after a cursor.
SELECT id, category, title, description, status, priority, grid_id,
       reported_at, due_at, updated_at, ST_X(geom) AS lon, ST_Y(geom) AS lat, generated,
       escalation, resolved_at, satisfied, worker_id, reporter_worker
FROM events
WHERE reporter_token = $1 AND id > $2
ORDER BY id
LIMIT $3
