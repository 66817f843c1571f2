-- Bulk read of every duty, past and present, for the in-memory record of work (binary
-- COPY, read by position: work.rs lists the types in this order): who held which grid
-- (by code) from when until when (NULL: now).
COPY (
    SELECT worker_id, grid_code, valid_from, valid_to
    FROM worker_duties
    ORDER BY worker_id, valid_from
) TO STDOUT (FORMAT binary)
