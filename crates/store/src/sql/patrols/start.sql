-- Starts a patrol of worker $1 ($2 the phone's id for it, $3 when) over the grids they hold
-- now; the same phone id again answers the patrol already started (inserted = false).
WITH held AS (
    SELECT coalesce(array_agg(grid_code ORDER BY grid_code), '{}') AS codes
    FROM worker_duties WHERE worker_id = $1 AND valid_to IS NULL
), made AS (
    INSERT INTO patrols (worker_id, client_id, started_at, grid_codes)
    SELECT $1, $2, $3, held.codes FROM held
    ON CONFLICT (worker_id, client_id) DO NOTHING
    RETURNING id
)
SELECT id, true AS inserted FROM made
UNION ALL
SELECT id, false FROM patrols WHERE worker_id = $1 AND client_id = $2
    AND NOT EXISTS (SELECT 1 FROM made)
