-- Records a visit of worker $1 ($2 the phone's id for it) to $3 $4 in grid $5 at $6 with
-- outcome $7 and note $8, and its photo ($9 content type, $10 bytes; NULL: none) in the same
-- statement; the same phone id again answers the visit already recorded (and stores nothing).
WITH made AS (
    INSERT INTO visits (worker_id, client_id, target_kind, target_id, grid_code, at, outcome, note)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (worker_id, client_id) DO NOTHING
    RETURNING id
), photo AS (
    INSERT INTO visit_photos (visit_id, content_type, bytes)
    SELECT id, $9, $10 FROM made WHERE $10::bytea IS NOT NULL
)
SELECT id, true AS inserted FROM made
UNION ALL
SELECT id, false FROM visits WHERE worker_id = $1 AND client_id = $2
    AND NOT EXISTS (SELECT 1 FROM made)
