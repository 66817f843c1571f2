-- What was visited in grid $1 at or after $2 and before $3: distinct kinds and ids.
SELECT DISTINCT target_kind, target_id FROM visits WHERE grid_code = $1 AND at >= $2 AND at < $3
