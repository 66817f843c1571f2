-- The cases behind one assessment figure (the drill-down): cases reported in [$2, $3) in
-- grids $1 (NULL: anywhere; or handled by worker $5 / reported by worker $6 when given), filtered by the
-- measure $4: 'cases', 'own' (reported by a worker holding the grid then), 'missed' (the
-- rest), 'rejected', 'handled', 'decided', 'on_time', 'late' (decided, not on time),
-- 'overdue', 'answered', 'satisfied'; for a worker's own reports ($6), 'reports' and
-- 'reports_kept'. At most $7 rows, oldest first. $8: only these case ids (NULL: any).
WITH c AS (
    SELECT e.id, e.category, e.title, e.status, e.grid_id, e.reported_at, e.due_at,
           e.resolved_at, e.satisfied, e.worker_id, e.reporter_worker,
           e.status IN ('resolved', 'closed') AS resolved,
           e.status NOT IN ('reported', 'rejected', 'resolved', 'closed') AS open_accepted,
           e.reporter_worker IS NOT NULL AND EXISTS (
               SELECT 1 FROM worker_duties d JOIN areas g ON g.code = d.grid_code
               WHERE g.id = e.grid_id AND d.worker_id = e.reporter_worker
                 AND d.valid_from <= e.reported_at
                 AND (d.valid_to IS NULL OR d.valid_to > e.reported_at)) AS own
    FROM events e
    WHERE e.reported_at >= $2 AND e.reported_at < $3
      AND (($5::int8 IS NULL AND $6::int8 IS NULL AND ($1::int8[] IS NULL OR e.grid_id = ANY ($1)))
           OR e.worker_id = $5 OR e.reporter_worker = $6)
      AND ($8::int8[] IS NULL OR e.id = ANY ($8))
), m AS (
    SELECT c.*,
           resolved AND resolved_at IS NOT NULL
             AND (due_at IS NULL
                  OR reported_at + floor(extract(epoch FROM resolved_at - reported_at))
                     * interval '1 second' <= due_at) AS on_time,
           resolved OR (open_accepted AND due_at < now()) AS decided
    FROM c
)
SELECT id, category, title, status, grid_id, reported_at, due_at, resolved_at, satisfied,
       worker_id, reporter_worker, own, on_time
FROM m
WHERE CASE $4
    WHEN 'cases' THEN true
    WHEN 'own' THEN own
    WHEN 'kept' THEN own AND status <> 'rejected'
    WHEN 'missed' THEN NOT own
    WHEN 'rejected' THEN status = 'rejected'
    WHEN 'handled' THEN status NOT IN ('reported', 'rejected')
    WHEN 'decided' THEN decided
    WHEN 'on_time' THEN on_time
    WHEN 'late' THEN decided AND NOT on_time
    WHEN 'overdue' THEN status IN ('reported', 'accepted', 'assigned', 'in_progress', 'reopened')
                        AND due_at < now()
    WHEN 'reports' THEN true
    WHEN 'reports_kept' THEN status <> 'rejected'
    WHEN 'answered' THEN satisfied IS NOT NULL
    WHEN 'satisfied' THEN coalesce(satisfied, false)
    ELSE false
END
ORDER BY reported_at, id
LIMIT $7
