-- Open311 GET requests.{fmt}: the newest events matching a filter, with the latest
-- non-empty history note (status_notes). Never the reporter contact.
-- $1 categories (NULL = all), $2 states, $3 reported at or after (NULL = no bound),
-- $4 reported before (NULL = no bound), $5..$8 bbox (NULL = anywhere),
-- $9 grid ids in the caller's scope (NULL = all), $10 most rows.
SELECT e.id, e.category, e.title, e.description, e.status, e.priority, e.grid_id,
       e.reported_at, e.due_at, e.updated_at, ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat,
       e.generated, e.escalation, e.resolved_at, e.satisfied, e.worker_id, e.reporter_worker,
       (SELECT h.note FROM event_history h
         WHERE h.event_id = e.id AND h.note <> ''
         ORDER BY h.at DESC, h.id DESC
         LIMIT 1) AS note
FROM events e
WHERE ($1::text[] IS NULL OR e.category = ANY ($1))
  AND e.status = ANY ($2)
  AND ($3::timestamptz IS NULL OR e.reported_at >= $3)
  AND ($4::timestamptz IS NULL OR e.reported_at < $4)
  AND ($5::float8 IS NULL OR e.geom && ST_MakeEnvelope($5, $6, $7, $8, 4326))
  AND ($9::bigint[] IS NULL OR e.grid_id = ANY ($9))
ORDER BY e.reported_at DESC, e.id DESC
LIMIT $10
