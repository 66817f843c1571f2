-- The kept review reports of areas $1 (codes), newest period first, without their bodies.
SELECT id, area_code, period, starts, created_at
FROM report_snapshots
WHERE area_code = ANY ($1)
ORDER BY starts DESC, period, area_code
LIMIT $2
