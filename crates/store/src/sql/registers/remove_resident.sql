-- Removes resident $1 for reason $2 by token $3: the row and its personal data go; the
-- removal keeps the id, the reason and the time only. Returns nothing when there is no such
-- resident.
WITH gone AS (DELETE FROM residents WHERE id = $1 RETURNING id)
INSERT INTO register_removals (resident_id, reason, token_id)
SELECT id, $2, $3 FROM gone
RETURNING resident_id, removed_at
