-- One kept review report: by area, period and start.
SELECT id, area_code, period, starts, created_at, body
FROM report_snapshots
WHERE area_code = $1 AND period = $2 AND starts = $3
