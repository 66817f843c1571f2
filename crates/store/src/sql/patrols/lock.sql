-- A patrol ($1), locked for points or its end.
SELECT id, worker_id, started_at, ended_at FROM patrols WHERE id = $1 FOR UPDATE
