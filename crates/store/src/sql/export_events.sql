-- Every event matching a filter, for exports (streamed; never the reporter contact): the
-- public columns of an event (rows.rs: event_col, the workers' ids among them), then assignee, merged_into, grid_code.
-- The caller reads them by name (crates/server export.rs).
-- $1 categories (NULL = all), $2 states, $3 reported from, $4 reported before,
-- $5..$8 bbox (NULL = anywhere), $9 grid ids in scope (NULL = all).
SELECT e.id, e.category, e.title, e.description, e.status, e.priority, e.grid_id,
       e.reported_at, e.due_at, e.updated_at, ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat,
       e.generated, e.escalation, e.resolved_at, e.satisfied, e.worker_id, e.reporter_worker,
       e.assignee, e.merged_into,
       a.code AS grid_code
FROM events e
LEFT JOIN areas a ON a.id = e.grid_id
WHERE ($1::text[] IS NULL OR e.category = ANY ($1))
  AND e.status = ANY ($2)
  AND ($3::timestamptz IS NULL OR e.reported_at >= $3)
  AND ($4::timestamptz IS NULL OR e.reported_at < $4)
  AND ($5::float8 IS NULL OR e.geom && ST_MakeEnvelope($5, $6, $7, $8, 4326))
  AND ($9::bigint[] IS NULL OR e.grid_id = ANY ($9))
ORDER BY e.id
