-- Generated demo workers from the names the generator put on each current grid (areas.workers):
-- one worker per name and grid, kind by turn, holding that grid. Only into an empty table.
WITH named AS (
    SELECT a.code AS grid_code, n.name, n.ord, row_number() OVER (ORDER BY a.id, n.ord) AS k
    FROM areas a CROSS JOIN LATERAL jsonb_array_elements_text(a.workers) WITH ORDINALITY AS n (name, ord)
    WHERE a.level = 'grid' AND a.valid_to IS NULL AND a.generated
      AND NOT EXISTS (SELECT 1 FROM workers)
), made AS (
    INSERT INTO workers (code, name, kind, generated)
    SELECT 'W' || lpad(k::text, greatest(6, length(k::text)), '0'), name,
           CASE WHEN ord = 1 THEN 'full_time' WHEN k % 3 = 0 THEN 'volunteer' ELSE 'part_time' END,
           true
    FROM named ORDER BY k
    RETURNING id, code
)
INSERT INTO worker_duties (worker_id, grid_code, valid_from)
SELECT m.id, n.grid_code, now() - interval '2 years'
FROM made m JOIN named n ON 'W' || lpad(n.k::text, greatest(6, length(n.k::text)), '0') = m.code
