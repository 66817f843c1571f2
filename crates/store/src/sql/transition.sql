-- Apply a transition to a case locked by the caller's transaction.
-- $1 id, $2 new status, $3 restart the deadline (accept, reopen), $4 deadline days,
-- $5 satisfied (or NULL to keep), $6 assignee (or NULL to keep), $7 merged into (or NULL),
-- $8 the worker (or NULL to keep), $9 true on accept: a case nobody handles yet goes to the
-- grid's worker who has held it longest (active, on duty now).
UPDATE events SET
    status      = $2,
    due_at      = CASE WHEN $3 THEN now() + make_interval(days => $4) ELSE due_at END,
    escalation  = CASE WHEN $3 THEN 0 ELSE escalation END,
    resolved_at = CASE WHEN $2 = 'resolved' THEN now() ELSE resolved_at END,
    satisfied   = coalesce($5, satisfied),
    assignee    = coalesce($6, assignee),
    merged_into = coalesce($7, merged_into),
    worker_id   = coalesce($8, worker_id, CASE WHEN $9 THEN (
        SELECT d.worker_id FROM worker_duties d
        JOIN workers w ON w.id = d.worker_id AND w.active
        JOIN areas g ON g.code = d.grid_code AND g.valid_to IS NULL
        WHERE d.valid_to IS NULL AND g.id = events.grid_id
        ORDER BY d.valid_from, d.worker_id LIMIT 1) END)
WHERE id = $1
RETURNING id, category, title, description, status, priority, grid_id,
          reported_at, due_at, updated_at, ST_X(geom) AS lon, ST_Y(geom) AS lat, generated,
          escalation, resolved_at, satisfied, worker_id, reporter_worker
