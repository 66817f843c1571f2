-- Visits in id order after $1, at most $2: to $3 $4 (NULL: any), by worker $5 (NULL: any), in
-- grids $6 (NULL: any), at or after $7 and before $8 (NULL: open).
SELECT v.id, v.worker_id, w.name AS worker_name, v.target_kind, v.target_id, v.grid_code,
       v.at, v.outcome, v.note, v.generated,
       EXISTS (SELECT 1 FROM visit_photos p WHERE p.visit_id = v.id) AS has_photo
FROM visits v JOIN workers w ON w.id = v.worker_id
WHERE v.id > $1
  AND ($3::text IS NULL OR (v.target_kind = $3 AND v.target_id = $4))
  AND ($5::bigint IS NULL OR v.worker_id = $5)
  AND ($6::text[] IS NULL OR v.grid_code = ANY ($6))
  AND ($7::timestamptz IS NULL OR v.at >= $7)
  AND ($8::timestamptz IS NULL OR v.at < $8)
ORDER BY v.id
LIMIT $2
