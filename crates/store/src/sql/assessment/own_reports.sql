-- Cases reported in [$1, $2) by a worker holding the case's grid at the time (the grid
-- found them itself; every other case in the grid was missed, 漏报), by grid, and how many
-- of them were not rejected.
SELECT e.grid_id, count(*) AS own, count(*) FILTER (WHERE e.status <> 'rejected') AS kept
FROM events e
JOIN areas g ON g.id = e.grid_id
WHERE e.reporter_worker IS NOT NULL AND e.reported_at >= $1 AND e.reported_at < $2
  AND EXISTS (SELECT 1 FROM worker_duties d
              WHERE d.worker_id = e.reporter_worker AND d.grid_code = g.code
                AND d.valid_from <= e.reported_at
                AND (d.valid_to IS NULL OR d.valid_to > e.reported_at))
GROUP BY e.grid_id
