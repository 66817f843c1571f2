-- Why a draft can no longer be published as drawn: base grids that are no longer current,
-- parents that are no longer current, and current grids under its parents that it did not
-- start from (another plan or an import changed them first): area_id, code, why.
SELECT b.area_id, a.code, 'changed' AS why FROM plan_base b JOIN areas a ON a.id = b.area_id
WHERE b.plan_id = $1 AND a.valid_to IS NOT NULL
UNION ALL
SELECT p.area_id, a.code, 'parent changed' FROM plan_parents p JOIN areas a ON a.id = p.area_id
WHERE p.plan_id = $1 AND a.valid_to IS NOT NULL
UNION ALL
SELECT a.id, a.code, 'added'
FROM areas a JOIN plan_parents p ON p.plan_id = $1 AND a.parent_id = p.area_id
WHERE a.valid_to IS NULL AND a.level = 'grid'
  AND NOT EXISTS (SELECT 1 FROM plan_base b WHERE b.plan_id = $1 AND b.area_id = a.id)
