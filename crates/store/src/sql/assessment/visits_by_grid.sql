-- Visits made in [$1, $2), by the grid (code) the visited record lay in then.
SELECT grid_code, count(*) AS visits
FROM visits
WHERE at >= $1 AND at < $2 AND grid_code IS NOT NULL
GROUP BY grid_code
