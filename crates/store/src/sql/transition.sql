-- Apply a transition to a case locked by the caller's transaction.
-- $1 id, $2 new status, $3 restart the deadline (accept, reopen), $4 deadline days,
-- $5 satisfied (or NULL to keep), $6 assignee (or NULL to keep), $7 merged into (or NULL).
UPDATE events SET
    status      = $2,
    due_at      = CASE WHEN $3 THEN now() + make_interval(days => $4) ELSE due_at END,
    escalation  = CASE WHEN $3 THEN 0 ELSE escalation END,
    resolved_at = CASE WHEN $2 = 'resolved' THEN now() ELSE resolved_at END,
    satisfied   = coalesce($5, satisfied),
    assignee    = coalesce($6, assignee),
    merged_into = coalesce($7, merged_into)
WHERE id = $1
RETURNING id, category, title, description, status, priority, grid_id,
          reported_at, due_at, updated_at, ST_X(geom) AS lon, ST_Y(geom) AS lat, generated,
          escalation, resolved_at, satisfied
