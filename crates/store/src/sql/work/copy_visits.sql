-- Bulk read of every visit for the in-memory record of work at start-up (binary COPY, read
-- by position: work.rs lists the types in this order); later ones come from the change
-- feed (visits.sql). No note, outcome or photo: assessment counts visits.
COPY (
    SELECT id, worker_id, target_kind, target_id, grid_code, at
    FROM visits
    ORDER BY id
) TO STDOUT (FORMAT binary)
