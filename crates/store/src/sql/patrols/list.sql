-- Patrols in id order after $1, at most $2: of worker $3 (NULL: any), touching grids $4
-- (NULL: any), started from $5 and before $6 (NULL: open), with their points counted, their
-- length on the ellipsoid, and their track.
SELECT p.id, p.worker_id, w.name AS worker_name, p.client_id, p.started_at, p.ended_at,
       p.grid_codes, p.generated,
       count(t.seq) AS points,
       coalesce(ST_Length(ST_MakeLine(t.geom ORDER BY t.seq)::geography), 0) AS length_m,
       ST_AsGeoJSON(ST_MakeLine(t.geom ORDER BY t.seq), 7) AS track
FROM patrols p
JOIN workers w ON w.id = p.worker_id
LEFT JOIN patrol_points t ON t.patrol_id = p.id
WHERE p.id > $1 AND ($3::bigint IS NULL OR p.worker_id = $3)
  AND ($4::text[] IS NULL OR p.grid_codes && $4)
  AND ($5::timestamptz IS NULL OR p.started_at >= $5)
  AND ($6::timestamptz IS NULL OR p.started_at < $6)
GROUP BY p.id, w.name
ORDER BY p.id
LIMIT $2
