-- Open311 GET requests/{id} and service_request_id=…: events by id (newest first), with
-- the latest non-empty history note (status_notes). Never the reporter contact.
-- $1 ids, $2 grid ids in the caller's scope (NULL = all).
SELECT e.id, e.category, e.title, e.description, e.status, e.priority, e.grid_id,
       e.reported_at, e.due_at, e.updated_at, ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat,
       e.generated, e.escalation, e.resolved_at, e.satisfied, e.worker_id, e.reporter_worker,
       (SELECT h.note FROM event_history h
         WHERE h.event_id = e.id AND h.note <> ''
         ORDER BY h.at DESC, h.id DESC
         LIMIT 1) AS note
FROM events e
WHERE e.id = ANY ($1)
  AND ($2::bigint[] IS NULL OR e.grid_id = ANY ($2))
ORDER BY e.reported_at DESC, e.id DESC
