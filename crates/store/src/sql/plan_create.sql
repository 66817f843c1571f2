-- Opens a draft: copies the current grids below area $2 into plan $1 (keys in id order),
-- records them as the draft's base, and the parents (communities) the draft covers.
WITH RECURSIVE sub AS (
    SELECT id, level FROM areas WHERE id = $2 AND valid_to IS NULL
    UNION ALL
    SELECT a.id, a.level
    FROM areas a JOIN sub s ON a.parent_id = s.id
    WHERE a.valid_to IS NULL AND s.level <> 'grid'
), grids AS (
    INSERT INTO plan_grids (plan_id, key, source_id, parent_id, code, name, name_en,
                            households, population, workers, geom)
    SELECT $1, row_number() OVER (ORDER BY a.id), a.id, a.parent_id, a.code, a.name,
           a.name_en, a.households, a.population, a.workers, a.geom
    FROM sub JOIN areas a ON a.id = sub.id
    WHERE a.level = 'grid' AND a.parent_id IS NOT NULL
    RETURNING source_id, parent_id
), base AS (
    INSERT INTO plan_base (plan_id, area_id) SELECT $1, source_id FROM grids
)
INSERT INTO plan_parents (plan_id, area_id)
SELECT $1, parent_id FROM grids
UNION
SELECT $1, id FROM sub WHERE level = 'community'
