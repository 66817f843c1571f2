-- Workers in id order after $1, at most $2; only those holding one of the grids $3 when
-- given (NULL: all), only active ones when $4.
SELECT w.id, w.code, w.name, w.kind, w.active, w.generated, w.phone_sealed IS NOT NULL AS has_phone,
       coalesce(array_agg(d.grid_code ORDER BY d.grid_code)
                FILTER (WHERE d.grid_code IS NOT NULL), '{}') AS grids
FROM workers w LEFT JOIN worker_duties d ON d.worker_id = w.id AND d.valid_to IS NULL
WHERE w.id > $1 AND (NOT $4 OR w.active)
  AND ($3::text[] IS NULL OR EXISTS (
      SELECT 1 FROM worker_duties x WHERE x.worker_id = w.id AND x.valid_to IS NULL
        AND x.grid_code = ANY ($3)))
GROUP BY w.id
ORDER BY w.id
LIMIT $2
