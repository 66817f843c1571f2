-- Generated demo visits for the 90 days before $1 (the demo data's end): every household
-- with a ruled care tag and every ruled risk site, visited by the first worker of its grid
-- on its rule's rhythm (each subject with its own phase, in working hours China time),
-- with about one visit in nine missed and one subject in six falling behind in the last
-- three weeks, so that some are overdue. The rules count from 90 days before $1. Only when
-- no visit exists; returns the visits made.
WITH reset AS (
    UPDATE visit_rules SET since = $1::timestamptz - interval '90 days'
    WHERE NOT EXISTS (SELECT 1 FROM visits)
    RETURNING 1
), subjects AS (
    SELECT 'household' AS kind, h.id, min(r.every_days) AS every, b.point AS geom
    FROM households h
    JOIN buildings b ON b.id = h.building_id
    JOIN residents p ON p.household_id = h.id
    JOIN visit_rules r ON r.subject = 'tag' AND r.code = ANY (p.tags)
    GROUP BY h.id, b.point
    UNION ALL
    SELECT 'place', pl.id, r.every_days, pl.geom
    FROM places pl JOIN visit_rules r ON r.subject = 'place' AND r.code = pl.type
), placed AS (
    SELECT s.kind, s.id, s.every, g.code AS grid_code,
           (SELECT d.worker_id FROM worker_duties d
            WHERE d.grid_code = g.code AND d.valid_to IS NULL
            ORDER BY d.worker_id LIMIT 1) AS worker
    FROM subjects s
    CROSS JOIN LATERAL (
        SELECT a.code FROM areas a
        WHERE a.level = 'grid' AND a.valid_to IS NULL AND a.geom && s.geom
          AND ST_Covers(a.geom, s.geom)
        ORDER BY a.id LIMIT 1) g
), planned AS (
    SELECT p.*, k,
           date_trunc('day', $1::timestamptz - interval '90 days')
             + ((p.id * 7919) % p.every) * interval '1 day'
             + k * p.every * interval '1 day'
             + (1 + (p.id + k) % 8) * interval '1 hour'
             + ((p.id * 13 + k * 7) % 60) * interval '1 minute' AS at
    FROM placed p CROSS JOIN generate_series(0, 90 / p.every + 1) AS k
    WHERE p.worker IS NOT NULL
)
INSERT INTO visits (worker_id, client_id, target_kind, target_id, grid_code, at, outcome, note,
                    generated)
SELECT worker, 'generated-' || kind || '-' || id || '-' || k, kind, id, grid_code, at,
       CASE WHEN (id + k) % 11 = 0 THEN 'not_home'
            WHEN (id + k) % 13 = 0 THEN 'issue_found'
            ELSE 'normal' END,
       '', true
FROM planned
WHERE at < $1::timestamptz
  AND (id * 31 + k) % 9 <> 0
  AND NOT (id % 6 = 0 AND at > $1::timestamptz - interval '21 days')
  AND NOT EXISTS (SELECT 1 FROM visits)
