-- One worker ($1) as list.sql shows them.
SELECT w.id, w.code, w.name, w.kind, w.active, w.generated, w.phone_sealed IS NOT NULL AS has_phone,
       coalesce(array_agg(d.grid_code ORDER BY d.grid_code)
                FILTER (WHERE d.grid_code IS NOT NULL), '{}') AS grids
FROM workers w LEFT JOIN worker_duties d ON d.worker_id = w.id AND d.valid_to IS NULL
WHERE w.id = $1
GROUP BY w.id
