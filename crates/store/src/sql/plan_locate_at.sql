-- The grid covering point ($1, $2) at time $3 (smallest id among the grids valid then),
-- then its ancestors, nearest first. Columns are read by name.
WITH RECURSIVE grid AS (
    SELECT id FROM areas
    WHERE level = 'grid' AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $3)
      AND geom && ST_SetSRID(ST_MakePoint($1, $2), 4326)
      AND ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
    ORDER BY id LIMIT 1
), chain AS (
    SELECT a.id, a.parent_id, 0 AS depth FROM areas a JOIN grid USING (id)
    UNION ALL
    SELECT a.id, a.parent_id, c.depth + 1 FROM areas a JOIN chain c ON a.id = c.parent_id
    WHERE c.depth < 8
)
SELECT a.id, a.code, a.name, a.name_en, a.level, a.parent_id, a.households, a.population,
       a.workers::text AS workers, a.generated, a.source, a.version,
       ST_AsBinary(a.geom) AS geom
FROM chain c JOIN areas a USING (id)
ORDER BY c.depth
