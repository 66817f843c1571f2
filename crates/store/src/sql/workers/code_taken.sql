-- Whether a worker with code $1 exists.
SELECT 1 FROM workers WHERE code = $1
