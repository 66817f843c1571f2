-- Worker $1 takes up the grids $2 they do not hold yet.
INSERT INTO worker_duties (worker_id, grid_code)
SELECT $1, g FROM unnest($2::text[]) g
WHERE NOT EXISTS (SELECT 1 FROM worker_duties d
                  WHERE d.worker_id = $1 AND d.grid_code = g AND d.valid_to IS NULL)
