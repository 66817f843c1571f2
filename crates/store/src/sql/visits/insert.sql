-- Records a visit of worker $1 ($2 the phone's id for it) to $3 $4 in grid $5 at $6 with
-- outcome $7 and note $8; the same phone id again answers the visit already recorded.
WITH made AS (
    INSERT INTO visits (worker_id, client_id, target_kind, target_id, grid_code, at, outcome, note)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (worker_id, client_id) DO NOTHING
    RETURNING id
)
SELECT id, true AS inserted FROM made
UNION ALL
SELECT id, false FROM visits WHERE worker_id = $1 AND client_id = $2
    AND NOT EXISTS (SELECT 1 FROM made)
