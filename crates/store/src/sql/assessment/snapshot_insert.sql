-- Keeps a period's review report as generated at its end; a snapshot once kept is never
-- replaced (a second writer's is dropped). Returns the id when this call stored it.
INSERT INTO report_snapshots (area_code, period, starts, body)
VALUES ($1, $2, $3, $4)
ON CONFLICT (area_code, period, starts) DO NOTHING
RETURNING id
