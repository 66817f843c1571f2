-- Bulk read of every worker for the in-memory record of work (binary COPY, read by
-- position: work.rs lists the types in this order). No phone, no code.
COPY (
    SELECT id, name, kind, active, generated
    FROM workers
    ORDER BY id
) TO STDOUT (FORMAT binary)
