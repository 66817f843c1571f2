-- Every worker, for the in-memory record of work (assessment): no phone, no code.
SELECT id, name, kind, active, generated
FROM workers
ORDER BY id
