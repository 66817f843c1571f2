-- Visits written by transactions at or after a watermark ($1, as text; '0' for all), for
-- the in-memory record of work (see migrations/0017). Rows may repeat across calls: the
-- index keeps each id once. No note, outcome or photo: assessment counts visits.
SELECT id, worker_id, target_kind, target_id, grid_code, at
FROM visits
WHERE changed_xid >= $1::text::xid8
ORDER BY id
