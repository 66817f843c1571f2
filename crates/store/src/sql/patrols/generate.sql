-- Generated demo patrols for the 30 days before $1 (the demo data's end): in the 300 grids
-- with the most buildings (at least 4), the grid's first worker walks a loop through up to
-- 16 of its buildings (in order of bearing from the grid's centre) every third day from
-- about 09:00 China time, a point every 15 m and 12 s with a few metres of GPS noise.
-- Only when no patrol exists; returns the points made.
WITH grids AS (
    SELECT g.id, g.code, g.geom, ST_PointOnSurface(g.geom) AS centre,
           (SELECT d.worker_id FROM worker_duties d
            WHERE d.grid_code = g.code AND d.valid_to IS NULL
            ORDER BY d.worker_id LIMIT 1) AS worker
    FROM areas g
    WHERE g.level = 'grid' AND g.valid_to IS NULL AND NOT EXISTS (SELECT 1 FROM patrols)
), stops AS (
    SELECT g.id AS grid_id, g.code, g.worker, b.point,
           ST_Azimuth(g.centre, b.point) AS bearing,
           row_number() OVER (PARTITION BY g.id ORDER BY b.id) AS n,
           count(*) OVER (PARTITION BY g.id) AS buildings
    FROM grids g
    JOIN buildings b ON b.point && g.geom AND ST_Covers(g.geom, b.point)
    WHERE g.worker IS NOT NULL
), routes AS (
    SELECT grid_id, code, worker, max(buildings) AS buildings,
           ST_Segmentize(ST_AddPoint(ST_MakeLine(point ORDER BY bearing),
                                     (array_agg(point ORDER BY bearing))[1])::geography,
                         15)::geometry AS track
    FROM stops WHERE n <= 16
    GROUP BY grid_id, code, worker
    HAVING count(*) >= 4
    ORDER BY max(buildings) DESC, grid_id
    LIMIT 300
), walks AS (
    SELECT r.*, d,
           date_trunc('day', $1::timestamptz - interval '30 days') + d * interval '1 day'
             + interval '1 hour' + (r.grid_id % 5) * interval '20 minutes' AS started_at
    FROM routes r CROSS JOIN generate_series(0, 29) AS d
    WHERE (d + r.grid_id) % 3 = 0
), made AS (
    INSERT INTO patrols (worker_id, client_id, started_at, ended_at, grid_codes, generated)
    SELECT worker, 'generated-' || grid_id || '-' || d, started_at,
           started_at + ST_NPoints(track) * interval '12 seconds', ARRAY[code], true
    FROM walks
    WHERE started_at < $1::timestamptz
    ON CONFLICT (worker_id, client_id) DO NOTHING
    RETURNING id, client_id, started_at
)
INSERT INTO patrol_points (patrol_id, seq, at, geom, accuracy_m)
SELECT m.id, p.path[1] - 1, m.started_at + (p.path[1] - 1) * interval '12 seconds',
       ST_Translate(p.geom, ((m.id * 7 + p.path[1] * 13) % 9 - 4) * 0.00001,
                            ((m.id * 11 + p.path[1] * 5) % 9 - 4) * 0.00001),
       5 + (p.path[1] % 6)
FROM made m
JOIN walks w ON 'generated-' || w.grid_id || '-' || w.d = m.client_id
CROSS JOIN LATERAL ST_DumpPoints(w.track) AS p
