-- One event's public fields, by id.
SELECT id, category, title, description, status, priority, grid_id,
       reported_at, due_at, updated_at, ST_X(geom) AS lon, ST_Y(geom) AS lat, generated,
       escalation, resolved_at, satisfied, worker_id, reporter_worker
FROM events
WHERE id = $1
