-- Ends the current duties of worker $1 on every grid not among $2.
UPDATE worker_duties SET valid_to = now()
WHERE worker_id = $1 AND valid_to IS NULL AND NOT (grid_code = ANY ($2))
