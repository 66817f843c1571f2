-- Every duty worker $1 held or holds, newest first.
SELECT grid_code, valid_from, valid_to FROM worker_duties WHERE worker_id = $1
ORDER BY valid_from DESC, id DESC
