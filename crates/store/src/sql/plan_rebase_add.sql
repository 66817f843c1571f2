-- Rebase, second step: copies in the current grids under the parents of draft $1 that no
-- draft grid continues or shares a code with and that are not of its old base (those it
-- retired stay retired): the grids other plans created.
WITH cur AS (
    SELECT a.* FROM areas a JOIN plan_parents p ON p.plan_id = $1 AND a.parent_id = p.area_id
    WHERE a.valid_to IS NULL AND a.level = 'grid'
), start AS (
    SELECT coalesce(max(key), 0) AS k FROM plan_grids WHERE plan_id = $1
), added AS (
    INSERT INTO plan_grids (plan_id, key, source_id, parent_id, code, name, name_en,
                            households, population, workers, geom)
    SELECT $1, start.k + row_number() OVER (ORDER BY cur.id), cur.id, cur.parent_id, cur.code,
           cur.name, cur.name_en, cur.households, cur.population, cur.workers, cur.geom
    FROM cur, start
    WHERE NOT EXISTS (SELECT 1 FROM plan_grids g
                      WHERE g.plan_id = $1 AND (g.source_id = cur.id OR g.code = cur.code))
      -- A grid of the old base the draft retired stays retired.
      AND NOT EXISTS (SELECT 1 FROM plan_base b WHERE b.plan_id = $1 AND b.area_id = cur.id)
    RETURNING key
)
SELECT count(*) AS added FROM added
