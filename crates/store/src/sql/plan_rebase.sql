-- Rebases draft $1 on the current grids: unchanged draft grids whose source was closed are
-- dropped, changed ones continue the current grid of their code (or become new); current
-- grids under the parents not in the draft are copied in unchanged; the base becomes the
-- current grids under the parents.
WITH stale AS (
    DELETE FROM plan_grids g USING areas a
    WHERE g.plan_id = $1 AND a.id = g.source_id AND a.valid_to IS NOT NULL AND NOT g.changed
    RETURNING g.key
), moved AS (
    UPDATE plan_grids g
    SET source_id = (SELECT c.id FROM areas c
                     WHERE c.code = g.code AND c.valid_to IS NULL AND c.level = 'grid')
    FROM areas a
    WHERE g.plan_id = $1 AND a.id = g.source_id AND a.valid_to IS NOT NULL AND g.changed
    RETURNING g.key
)
SELECT (SELECT count(*) FROM stale) AS dropped, (SELECT count(*) FROM moved) AS continued
