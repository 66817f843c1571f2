-- Generated cases, given to the generated workers as the seeds describe the work: about
-- seven in ten reported by a worker of the case's grid (the rest are missed, 漏报, found by
-- residents), and every case past `reported` handled by one of the grid's workers. Only
-- cases not attributed yet; deterministic by case id.
WITH pick AS (
    SELECT e.id,
           (SELECT d.worker_id FROM worker_duties d
            WHERE d.grid_code = g.code AND d.valid_from <= e.reported_at
              AND (d.valid_to IS NULL OR d.valid_to > e.reported_at)
            ORDER BY d.worker_id OFFSET (e.id % 2) LIMIT 1) AS second,
           (SELECT d.worker_id FROM worker_duties d
            WHERE d.grid_code = g.code AND d.valid_from <= e.reported_at
              AND (d.valid_to IS NULL OR d.valid_to > e.reported_at)
            ORDER BY d.worker_id LIMIT 1) AS first
    FROM events e JOIN areas g ON g.id = e.grid_id
    WHERE e.generated AND e.reporter_worker IS NULL AND e.worker_id IS NULL
)
UPDATE events e
SET reporter_worker = CASE WHEN e.id % 10 < 7 THEN coalesce(p.second, p.first) END,
    worker_id = CASE WHEN e.status NOT IN ('reported', 'rejected') THEN p.first END
FROM pick p
WHERE e.id = p.id AND p.first IS NOT NULL
