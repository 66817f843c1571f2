-- Every duty, past and present, for the in-memory record of work: who held which grid
-- (by code) from when until when (NULL: now).
SELECT worker_id, grid_code, valid_from, valid_to
FROM worker_duties
ORDER BY worker_id, valid_from
