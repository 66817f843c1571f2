-- Rebase, last step: a draft's base becomes the current grids under its parents (after
-- plan_rebase_clear_base.sql); $1 = plan id.
INSERT INTO plan_base (plan_id, area_id)
SELECT $1, a.id
FROM areas a JOIN plan_parents p ON p.plan_id = $1 AND a.parent_id = p.area_id
WHERE a.valid_to IS NULL AND a.level = 'grid'
