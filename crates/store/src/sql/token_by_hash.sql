-- The valid (not revoked) token with this hash, with the grids its worker (if any, and
-- still active) holds now. A token of a worker who left holds no grid.
SELECT t.id, t.name, t.role, t.area_code, t.grants, t.worker_id,
       CASE WHEN t.worker_id IS NULL THEN NULL ELSE coalesce((
           SELECT array_agg(d.grid_code ORDER BY d.grid_code)
           FROM worker_duties d JOIN workers w ON w.id = d.worker_id
           WHERE d.worker_id = t.worker_id AND d.valid_to IS NULL AND w.active), '{}') END
       AS worker_grids
FROM tokens t WHERE t.hash = $1 AND t.revoked_at IS NULL
