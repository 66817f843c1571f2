-- Events written by transactions at or after a watermark (see migrations/0002): what an
-- instance has not yet seen. Rows may repeat across calls; the index keeps the newest.
SELECT id, category, title, '' AS description, status, priority, grid_id,
       reported_at, due_at, updated_at, ST_X(geom) AS lon, ST_Y(geom) AS lat, generated,
       escalation, resolved_at, satisfied, worker_id, reporter_worker
FROM events
WHERE changed_xid >= $1::text::xid8
ORDER BY updated_at, id
